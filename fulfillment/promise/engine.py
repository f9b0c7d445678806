"""``promise_options``: every delivery option of a cart to a destination, with its date, price,
cut-off and availability. Pure and deterministic: the same request gives the same options.

For each mode the destination allows, every source that may serve it is timed:

1. stock: when every unit is at the source (on hand now, else the arrival that completes the
   quantity of each product: the latest of the products);
2. preparation: it starts at the first opening at or after that moment on a day with capacity
   left (a day without capacity spills to the next working day) and takes pick + pack minutes
   of working time (a lunch break or the night pauses it);
3. dispatch (parcel modes): the first pickup day of the carrier service, on or after the day
   preparation ends, where the parcel is ready strictly before that day's cut-off, the carrier
   works (no holiday) and the location is open; the parcel leaves at the cut-off;
4. delivery: ``transit_days`` carrier delivery days later (not on its holidays); a relay point
   or a pickup store must be open that day; relay and store orders are then ready for
   collection at the next moment inside their opening hours (after ``receive_minutes`` for a
   store), click-and-collect orders when preparation ends, inside the store's hours.

The best source of a mode is chosen by (availability, promised moment, price, location id):
units on hand are certain where incoming dates are not, so an on-hand promise beats a
slightly earlier one that waits for a delivery. One source serves the whole cart (splits are
routing's business; a cart only a split could serve is promised by no option here).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fulfillment.promise.schedule import WeeklySchedule
from fulfillment.promise.timeline import (
    Preparation,
    delivery_day,
    dispatch_at,
    prepare,
    stock_ready,
)
from fulfillment.promise.types import (
    Availability,
    CarrierService,
    DeliveryOption,
    HomeAddress,
    PickupStore,
    PromiseRequest,
    RelayPoint,
    Source,
    SourceRejection,
    UnavailableReason,
)
from fulfillment.routing.geo import haversine_km
from fulfillment.routing.types import DeliveryMode

HOME_MODES: tuple[DeliveryMode, ...] = (
    DeliveryMode.HOME_STANDARD,
    DeliveryMode.HOME_EXPRESS,
    DeliveryMode.SAME_DAY,
)
STORE_MODES: tuple[DeliveryMode, ...] = (DeliveryMode.CLICK_AND_COLLECT, DeliveryMode.SHIP_TO_STORE)
RELAY_MODES: tuple[DeliveryMode, ...] = (DeliveryMode.RELAY_POINT,)

# When no source can serve a mode, the reason shown is that of the source that came closest.
_REASON_RANK = (
    UnavailableReason.SAME_DAY_CUTOFF_PASSED,
    UnavailableReason.NO_SLOT_IN_HORIZON,
    UnavailableReason.PICKUP_STORE_CLOSED,
    UnavailableReason.OUT_OF_RANGE,
    UnavailableReason.CARRIER_REFUSED,
    UnavailableReason.NO_CARRIER_SERVICE,
    UnavailableReason.OUT_OF_STOCK,
    UnavailableReason.STORE_NOT_CLICK_AND_COLLECT,
    UnavailableReason.NO_SOURCE,
)
_AVAILABILITY_RANK = {Availability.AVAILABLE: 0, Availability.AVAILABLE_LATER: 1}


class _Rejected(Exception):
    """Internal control flow: why a source cannot serve a mode; never leaves the module."""

    def __init__(self, reason: UnavailableReason, detail: str = "") -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def promise_options(request: PromiseRequest) -> tuple[DeliveryOption, ...]:
    """One option per mode the destination allows, in ``DeliveryMode`` order: home (standard,
    express, same-day), store (click-and-collect, ship-to-store) or relay point.

    Raises ``ValueError`` for a naive ``now`` or arrival, an empty cart or a non-positive
    quantity. Contract: an available option's dates are never before ``now``, its
    ``cutoff_at`` is after ``now`` (``cutoff_seconds > 0``) and ordering before it keeps it.
    """
    _validate(request)
    destination = request.destination
    if isinstance(destination, HomeAddress):
        modes = HOME_MODES
    elif isinstance(destination, PickupStore):
        modes = STORE_MODES
    else:
        modes = RELAY_MODES
    return tuple(_option(request, mode) for mode in modes)


def _validate(request: PromiseRequest) -> None:
    if request.now.tzinfo is None or request.now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not request.lines:
        raise ValueError("a promise needs a cart line")
    if any(line.quantity <= 0 for line in request.lines):
        raise ValueError("quantities must be positive")
    for source in request.sources:
        if any(item.arrives_at.tzinfo is None for item in source.incoming):
            raise ValueError(f"source {source.location_id}: arrivals must be timezone-aware")


@dataclass(frozen=True)
class _Timed:
    option: DeliveryOption
    key: tuple[int, datetime, Decimal, int, str, str]


def _option(request: PromiseRequest, mode: DeliveryMode) -> DeliveryOption:
    destination = request.destination
    if (
        mode == DeliveryMode.CLICK_AND_COLLECT
        and isinstance(destination, PickupStore)
        and not destination.is_click_and_collect
    ):
        return _unavailable(
            request,
            mode,
            UnavailableReason.STORE_NOT_CLICK_AND_COLLECT,
            "this store does not offer click-and-collect",
            (),
        )
    timed: list[_Timed] = []
    rejections: list[SourceRejection] = []
    for source in sorted(request.sources, key=lambda source: source.location_id):
        try:
            timed.extend(_time_source(request, mode, source))
        except _Rejected as rejected:
            rejections.append(SourceRejection(source.location_id, rejected.reason, rejected.detail))
    if timed:
        best = min(timed, key=lambda item: item.key)
        return replace(best.option, rejections=tuple(rejections))
    if not rejections:
        return _unavailable(
            request, mode, UnavailableReason.NO_SOURCE, "no location may serve this cart", ()
        )
    closest = min(rejections, key=lambda rejection: _REASON_RANK.index(rejection.reason))
    return _unavailable(request, mode, closest.reason, closest.detail, tuple(rejections))


def _unavailable(
    request: PromiseRequest,
    mode: DeliveryMode,
    reason: UnavailableReason,
    detail: str,
    rejections: tuple[SourceRejection, ...],
) -> DeliveryOption:
    return DeliveryOption(
        mode=mode,
        availability=Availability.UNAVAILABLE,
        reason=reason,
        detail=detail,
        currency=request.currency,
        rejections=rejections,
    )


def _services(mode: DeliveryMode, source: Source, request: PromiseRequest) -> list[CarrierService]:
    destination = request.destination
    services = [service for service in source.carrier_services if service.mode == mode]
    if isinstance(destination, RelayPoint):
        services = [s for s in services if s.carrier_code == destination.carrier_code]
    return sorted(services, key=lambda service: (service.carrier_code, service.service))


def _time_source(request: PromiseRequest, mode: DeliveryMode, source: Source) -> list[_Timed]:
    """Every way ``source`` can serve ``mode`` (one per carrier service), or ``_Rejected``."""
    destination = request.destination
    now = request.now.astimezone(UTC)
    if mode == DeliveryMode.CLICK_AND_COLLECT:
        assert isinstance(destination, PickupStore)
        if source.location_id != destination.location_id:
            raise _Rejected(UnavailableReason.NO_SOURCE, "not the pickup store")
    elif mode == DeliveryMode.SHIP_TO_STORE and (
        isinstance(destination, PickupStore) and source.location_id == destination.location_id
    ):
        raise _Rejected(UnavailableReason.NO_SOURCE, "the pickup store itself")
    elif not source.ships_parcels:
        raise _Rejected(UnavailableReason.NO_SOURCE, "does not ship parcels")

    ready = stock_ready(source, request.lines, now)
    if ready is None:
        raise _Rejected(UnavailableReason.OUT_OF_STOCK, "not every unit, even with arrivals")
    availability = Availability.AVAILABLE_LATER if ready.uses_incoming else Availability.AVAILABLE
    services: list[CarrierService] = []
    if mode != DeliveryMode.CLICK_AND_COLLECT:
        services = _services(mode, source, request)
        if not services:
            raise _Rejected(UnavailableReason.NO_CARRIER_SERVICE, f"no {mode} service")
    preparation = prepare(source, ready, now, request.horizon_days)
    if preparation is None:
        raise _Rejected(UnavailableReason.NO_SLOT_IN_HORIZON, "no opening with capacity")
    base = DeliveryOption(
        mode=mode,
        availability=availability,
        location_id=source.location_id,
        currency=request.currency,
        stock_ready_at=source.schedule.local(ready.at),
        prepared_at=source.schedule.local(preparation.prepared_at),
    )
    if mode == DeliveryMode.CLICK_AND_COLLECT:
        assert isinstance(destination, PickupStore)
        return [_click_and_collect(request, source, destination, preparation, base)]

    results: list[_Timed] = []
    failures: list[_Rejected] = []
    for service in services:
        try:
            results.append(_ship(request, source, service, preparation, base))
        except _Rejected as rejected:
            failures.append(rejected)
    if not results:
        raise min(failures, key=lambda failure: _REASON_RANK.index(failure.reason))
    return results


def _click_and_collect(
    request: PromiseRequest,
    source: Source,
    store: PickupStore,
    preparation: Preparation,
    base: DeliveryOption,
) -> _Timed:
    horizon = request.horizon_days
    ready_by = store.schedule.next_open_at(preparation.prepared_at, horizon_days=horizon)
    if ready_by is None:
        raise _Rejected(UnavailableReason.PICKUP_STORE_CLOSED, "the store does not open")
    # Order before the last closing of that day, less the preparation, to collect that day.
    closing = store.schedule.last_close_on(store.schedule.local_date(ready_by))
    assert closing is not None
    cutoff = source.schedule.latest_start(closing, source.preparation_minutes, horizon_days=horizon)
    cutoff_at, cutoff_seconds = _cutoff(request, source.schedule, cutoff)
    option = replace(
        base,
        price=request.click_and_collect_price,
        ready_by=store.schedule.local(ready_by),
        cutoff_at=cutoff_at,
        cutoff_seconds=cutoff_seconds,
    )
    return _Timed(option, _key(option, ready_by))


def _ship(
    request: PromiseRequest,
    source: Source,
    service: CarrierService,
    preparation: Preparation,
    base: DeliveryOption,
) -> _Timed:
    destination = request.destination
    now = request.now.astimezone(UTC)
    if service.refusal:
        raise _Rejected(UnavailableReason.CARRIER_REFUSED, service.refusal)
    if service.price is None:
        raise _Rejected(UnavailableReason.CARRIER_REFUSED, f"{service.service} has no price")
    if service.max_distance_km is not None:
        target = destination.position
        if source.position is None or target is None:
            raise _Rejected(UnavailableReason.OUT_OF_RANGE, "coordinates unknown")
        distance = haversine_km(source.position, target)
        if distance > service.max_distance_km:
            raise _Rejected(
                UnavailableReason.OUT_OF_RANGE,
                f"{distance:.1f} km is beyond {service.max_distance_km:g} km",
            )
    schedule = source.schedule
    today = schedule.local_date(now)
    last_day = today + timedelta(days=request.horizon_days)
    dispatch = dispatch_at(source, service, preparation.prepared_at, last_day)
    if dispatch is None:
        raise _Rejected(UnavailableReason.NO_SLOT_IN_HORIZON, "no carrier pickup in horizon")
    dispatch_day = schedule.local_date(dispatch)
    if mode_is_same_day(service) and dispatch_day != today:
        raise _Rejected(
            UnavailableReason.SAME_DAY_CUTOFF_PASSED,
            f"the next same-day departure is on {dispatch_day.isoformat()}",
        )
    receiving: WeeklySchedule | None = None
    if isinstance(destination, (PickupStore, RelayPoint)):
        receiving = destination.schedule
    accepts = receiving.is_open_day if receiving is not None else (lambda _day: True)
    delivered_day = delivery_day(service, dispatch_day, last_day, accepts)
    if delivered_day is None:
        reason = (
            UnavailableReason.PICKUP_STORE_CLOSED
            if receiving is not None
            else UnavailableReason.NO_SLOT_IN_HORIZON
        )
        raise _Rejected(reason, "no delivery day in horizon")
    if mode_is_same_day(service) and delivered_day != dispatch_day:
        raise _Rejected(UnavailableReason.SAME_DAY_CUTOFF_PASSED, "no delivery today")
    zone = receiving if receiving is not None else _home_schedule(destination)
    delivered = zone.at(delivered_day, service.delivers_by)
    ready_by: datetime | None = None
    if isinstance(destination, RelayPoint):
        ready_by = destination.schedule.next_open_at(delivered, horizon_days=request.horizon_days)
    elif isinstance(destination, PickupStore):
        booked = destination.schedule.add_working_minutes(
            delivered, destination.receive_minutes, horizon_days=request.horizon_days
        )
        ready_by = (
            destination.schedule.next_open_at(booked, horizon_days=request.horizon_days)
            if booked is not None
            else None
        )
    if receiving is not None and ready_by is None:
        raise _Rejected(UnavailableReason.PICKUP_STORE_CLOSED, "does not open after delivery")
    cutoff = schedule.latest_start(
        dispatch, source.preparation_minutes, horizon_days=request.horizon_days
    )
    cutoff_at, cutoff_seconds = _cutoff(request, schedule, cutoff)
    option = replace(
        base,
        carrier_code=service.carrier_code,
        service=service.service,
        price=service.price,
        currency=service.currency,
        dispatch_at=schedule.local(dispatch),
        delivery_at=zone.local(delivered),
        ready_by=zone.local(ready_by) if ready_by is not None else None,
        cutoff_at=cutoff_at,
        cutoff_seconds=cutoff_seconds,
    )
    return _Timed(option, _key(option, ready_by if ready_by is not None else delivered))


def mode_is_same_day(service: CarrierService) -> bool:
    return service.mode == DeliveryMode.SAME_DAY


def _home_schedule(destination: HomeAddress | PickupStore | RelayPoint) -> WeeklySchedule:
    timezone = destination.timezone if isinstance(destination, HomeAddress) else "Europe/Paris"
    return WeeklySchedule(timezone=timezone, is_always_open=True)


def _cutoff(
    request: PromiseRequest, schedule: WeeklySchedule, cutoff: datetime
) -> tuple[datetime, int]:
    """The cut-off in local time and the whole seconds left until it from ``now``."""
    seconds = int((cutoff - request.now.astimezone(UTC)).total_seconds())
    return schedule.local(cutoff), max(0, seconds)


def _key(
    option: DeliveryOption, promised: datetime
) -> tuple[int, datetime, Decimal, int, str, str]:
    return (
        _AVAILABILITY_RANK[option.availability],
        promised.astimezone(UTC),
        option.price if option.price is not None else Decimal("Infinity"),
        option.location_id if option.location_id is not None else -1,
        option.carrier_code,
        option.service,
    )
