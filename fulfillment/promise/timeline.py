"""The timeline of one source: when the stock is there, when preparation ends, when the
carrier picks up and on which day it delivers. Pure functions over UTC instants."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fulfillment.promise.schedule import ONE_DAY
from fulfillment.promise.types import CarrierService, CartLine, Source


@dataclass(frozen=True)
class StockReady:
    at: datetime
    uses_incoming: bool


@dataclass(frozen=True)
class Preparation:
    started_at: datetime
    prepared_at: datetime


def stock_ready(source: Source, lines: Iterable[CartLine], now: datetime) -> StockReady | None:
    """When every unit of the cart is at ``source`` (None: never, with what is known)."""
    demand: dict[int, int] = {}
    for line in lines:
        demand[line.product_id] = demand.get(line.product_id, 0) + line.quantity
    ready = now
    uses_incoming = False
    for product_id, quantity in sorted(demand.items()):
        have = max(0, source.stock.get(product_id, 0))
        if have >= quantity:
            continue
        uses_incoming = True
        arrivals = sorted(
            (item for item in source.incoming if item.product_id == product_id),
            key=lambda item: (item.arrives_at, item.quantity),
        )
        arrived_at: datetime | None = None
        for item in arrivals:
            have += max(0, item.quantity)
            if have >= quantity:
                arrived_at = max(now, item.arrives_at)
                break
        if arrived_at is None:
            return None
        ready = max(ready, arrived_at)
    return StockReady(at=ready.astimezone(UTC), uses_incoming=uses_incoming)


def _capacity_on(source: Source, day: date, today: date) -> int | None:
    if day == today:
        return source.capacity_today
    return source.capacity_by_day.get(day, source.daily_capacity)


def prepare(
    source: Source, ready: StockReady, now: datetime, horizon_days: int
) -> Preparation | None:
    """Start at the first opening at or after the stock is there on a day with capacity left;
    take pick + pack minutes of working time. None when nothing fits the horizon."""
    schedule = source.schedule
    today = schedule.local_date(now)
    last_day = today + timedelta(days=horizon_days)
    moment = max(now.astimezone(UTC), ready.at)
    while True:
        start = schedule.next_open_at(moment, horizon_days=horizon_days)
        if start is None or schedule.local_date(start) > last_day:
            return None
        day = schedule.local_date(start)
        capacity = _capacity_on(source, day, today)
        if capacity is None or capacity > 0:
            break
        moment = schedule.at(day + ONE_DAY, time(0, 0))  # the next day, from midnight
    prepared = schedule.add_working_minutes(
        start, source.preparation_minutes, horizon_days=horizon_days
    )
    if prepared is None:
        return None
    return Preparation(started_at=start, prepared_at=prepared)


def dispatch_at(
    source: Source, service: CarrierService, prepared_at: datetime, last_day: date
) -> datetime | None:
    """The cut-off (pickup) of the first day the parcel can leave: a pickup weekday of the
    service, not a carrier holiday, the location open, the parcel ready strictly before."""
    schedule = source.schedule
    day = schedule.local_date(prepared_at)
    while day <= last_day:
        cutoff = service.cutoffs.get(day.weekday())
        if cutoff is not None and day not in service.holidays and schedule.is_open_day(day):
            moment = schedule.at(day, cutoff)
            if prepared_at < moment:
                return moment
        day += ONE_DAY
    return None


def delivery_day(
    service: CarrierService,
    dispatch_day: date,
    last_day: date,
    accepts: Callable[[date], bool] = lambda _day: True,
) -> date | None:
    """``transit_days`` carrier delivery days after ``dispatch_day``, then the first delivery
    day the receiving place ``accepts`` (a relay point or store that is open)."""

    def delivers(day: date) -> bool:
        return day.weekday() in service.delivery_weekdays and day not in service.holidays

    day = dispatch_day
    remaining = service.transit_days
    while remaining > 0:
        day += ONE_DAY
        if day > last_day:
            return None
        if delivers(day):
            remaining -= 1
    while not (delivers(day) and accepts(day)):
        day += ONE_DAY
        if day > last_day:
            return None
    return day
