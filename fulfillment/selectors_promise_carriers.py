"""The carrier side of the delivery promise: the schedule setting, the cart's parcel, the
carriers and their priced services for one preparing location (used by
``fulfillment.selectors_promise``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from django.conf import settings

from fulfillment.carriers import Address, CarrierAdapter, Parcel, Service, carrier_get
from fulfillment.models import Carrier
from fulfillment.promise import CarrierService
from fulfillment.promise.schedule import WEEKDAY_KEYS
from fulfillment.routing.types import DeliveryMode
from inventory.models import Location, Product


@dataclass(frozen=True)
class ScheduledService:
    """One mode's carrier service and timetable, read from the schedule setting."""

    mode: DeliveryMode
    service: Service
    cutoffs: Mapping[int, time]
    delivery_weekdays: frozenset[int]
    delivers_by: time
    holidays: frozenset[date]
    transit_days: int | None
    max_distance_km: float | None


def _time(text: str) -> time:
    hours, minutes = (int(part) for part in str(text).split(":"))
    return time(hours, minutes)


def _weekdays(names: Iterable[str]) -> frozenset[int]:
    return frozenset(WEEKDAY_KEYS.index(name) for name in names)


def carrier_schedule() -> dict[DeliveryMode, ScheduledService]:
    """``settings.PROMISE_CARRIER_SCHEDULE`` per parcel mode.

    Keys (top level, overridable per mode): ``cutoffs`` {weekday: "HH:MM"}, ``delivery_days``
    [weekday], ``delivers_by`` "HH:MM" (end of home deliveries; drop-off time at a relay or
    store), ``holidays`` [ISO date], ``transit_days`` (int: replaces the quote's),
    ``max_distance_km``; per mode only: ``service`` (a ``fulfillment.carriers.Service``).
    """
    config: Mapping[str, Any] = settings.PROMISE_CARRIER_SCHEDULE
    result: dict[DeliveryMode, ScheduledService] = {}
    for mode_name, override in config.get("modes", {}).items():
        merged = {**{k: v for k, v in config.items() if k != "modes"}, **override}
        mode = DeliveryMode(mode_name)
        transit = merged.get("transit_days")
        distance = merged.get("max_distance_km")
        result[mode] = ScheduledService(
            mode=mode,
            service=Service(merged["service"]),
            cutoffs={
                WEEKDAY_KEYS.index(day): _time(text) for day, text in merged["cutoffs"].items()
            },
            delivery_weekdays=_weekdays(merged.get("delivery_days", WEEKDAY_KEYS[:6])),
            delivers_by=_time(merged.get("delivers_by", "18:00")),
            holidays=frozenset(date.fromisoformat(day) for day in merged.get("holidays", ())),
            transit_days=int(transit) if transit is not None else None,
            max_distance_km=float(distance) if distance is not None else None,
        )
    return result


@dataclass(frozen=True)
class CartProduct:
    product_id: int
    quantity: int
    weight_grams: int
    sides_mm: tuple[int, int, int]


def cart_product(product: Product, quantity: int) -> CartProduct:
    longest, middle, shortest = sorted(
        (product.length_mm, product.width_mm, product.height_mm), reverse=True
    )
    return CartProduct(product.pk, quantity, product.weight_grams, (longest, middle, shortest))


def cart_parcel(cart: Sequence[CartProduct]) -> Parcel:
    """One parcel for the cart: the products' weights summed, the largest product's two longest
    sides, the shortest sides stacked per unit; never smaller than ``PROMISE_MIN_PARCEL_MM``."""
    minimum = tuple(settings.PROMISE_MIN_PARCEL_MM)
    length = max([item.sides_mm[0] for item in cart] + [minimum[0]])
    width = max([item.sides_mm[1] for item in cart] + [minimum[1]])
    height = max(sum(item.sides_mm[2] * item.quantity for item in cart), minimum[2])
    weight = max(1, sum(item.weight_grams * item.quantity for item in cart))
    return Parcel(weight_grams=weight, length_mm=length, width_mm=width, height_mm=height)


def carrier_adapters(relay_carrier: Carrier | None) -> list[tuple[str, CarrierAdapter]]:
    """(carrier code, adapter) of the relay point's carrier, else of every active carrier (one
    query); the built-in rate table when none is configured."""
    if relay_carrier is not None:
        carriers = [(relay_carrier.code, relay_carrier.adapter_code)]
    else:
        carriers = list(
            Carrier.objects.filter(is_active=True)
            .order_by("code")
            .values_list("code", "adapter_code")
        )
    if not carriers:
        carriers = [("omnilog-rates", "omnilog-rates")]
    return [(code, carrier_get(adapter_code)) for code, adapter_code in carriers]


def carrier_services(
    *,
    location: Location,
    modes: Sequence[DeliveryMode],
    destination: Address,
    parcel: Parcel,
    adapters: Sequence[tuple[str, CarrierAdapter]],
    schedule: Mapping[DeliveryMode, ScheduledService],
    refusal: str = "",
) -> tuple[CarrierService, ...]:
    """The services of ``location`` for ``modes`` to ``destination``, each priced by its
    carrier's quote for ``parcel`` (a refused quote keeps its reasons, and ``refusal`` (the
    relay point's own limits) refuses them all)."""
    origin = Address(
        country=location.country,
        postcode=location.postcode,
        latitude=location.latitude,
        longitude=location.longitude,
    )
    services = []
    for mode in modes:
        timetable = schedule.get(mode)
        if timetable is None:
            continue
        for carrier_code, adapter in adapters:
            if timetable.service not in adapter.services():
                continue
            quote = adapter.quote([parcel], origin, destination, timetable.service)
            reasons = "; ".join(item.message for item in quote.refusals) or refusal
            transit = timetable.transit_days
            if transit is None:
                transit = quote.transit_days if quote.transit_days is not None else 0
            services.append(
                CarrierService(
                    mode=mode,
                    carrier_code=carrier_code,
                    service=timetable.service.value,
                    cutoffs=timetable.cutoffs,
                    transit_days=transit,
                    price=quote.price if not reasons else None,
                    currency=quote.currency,
                    delivery_weekdays=timetable.delivery_weekdays,
                    delivers_by=timetable.delivers_by,
                    holidays=timetable.holidays,
                    max_distance_km=timetable.max_distance_km,
                    refusal=reasons,
                )
            )
    return tuple(services)
