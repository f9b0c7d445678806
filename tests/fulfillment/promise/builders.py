"""Builders for the promise core tests: a warehouse, a store, carrier services, requests."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fulfillment.promise import (
    CarrierService,
    CartLine,
    HomeAddress,
    PickupStore,
    PromiseRequest,
    RelayPoint,
    Source,
    WeeklySchedule,
)
from fulfillment.routing.types import DeliveryMode, GeoPoint

PARIS = ZoneInfo("Europe/Paris")
PARIS_CENTRE = GeoPoint(48.8566, 2.3522)
PARIS_EAST = GeoPoint(48.8600, 2.4200)  # ~5 km from the centre
LYON = GeoPoint(45.7640, 4.8357)
PRODUCT = 101
OTHER_PRODUCT = 102

WEEKDAYS = {"mon", "tue", "wed", "thu", "fri"}


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0):
    return datetime(year, month, day, hour, minute, tzinfo=PARIS, fold=fold)


def warehouse_schedule(closed_days=()) -> WeeklySchedule:
    hours = {day: [["06:00", "22:00"]] for day in WEEKDAYS}
    hours["sat"] = [["08:00", "12:00"]]
    return WeeklySchedule.from_json(hours, closed_days)


def store_schedule(closed_days=()) -> WeeklySchedule:
    hours = {day: [["10:00", "13:00"], ["14:00", "19:00"]] for day in [*WEEKDAYS, "sat"]}
    return WeeklySchedule.from_json(hours, closed_days)


def standard(**changes) -> CarrierService:
    values: dict[str, Any] = {
        "mode": DeliveryMode.HOME_STANDARD,
        "carrier_code": "omnilog-rates",
        "service": "standard",
        "cutoffs": dict.fromkeys(range(5), time(17, 0)),
        "transit_days": 2,
        "price": Decimal("5.90"),
    }
    values.update(changes)
    return CarrierService(**values)


def express(**changes) -> CarrierService:
    values: dict[str, Any] = {
        "mode": DeliveryMode.HOME_EXPRESS,
        "carrier_code": "omnilog-rates",
        "service": "express",
        "cutoffs": dict.fromkeys(range(5), time(15, 0)),
        "transit_days": 1,
        "price": Decimal("12.90"),
        "delivery_weekdays": frozenset(range(5)),
        "delivers_by": time(13, 0),
    }
    values.update(changes)
    return CarrierService(**values)


def same_day(**changes) -> CarrierService:
    values: dict[str, Any] = {
        "mode": DeliveryMode.SAME_DAY,
        "carrier_code": "omnilog-rates",
        "service": "same_day",
        "cutoffs": dict.fromkeys(range(6), time(14, 0)),
        "transit_days": 0,
        "price": Decimal("9.90"),
        "delivers_by": time(21, 0),
        "max_distance_km": 30.0,
    }
    values.update(changes)
    return CarrierService(**values)


def relay(**changes) -> CarrierService:
    values: dict[str, Any] = {
        "mode": DeliveryMode.RELAY_POINT,
        "carrier_code": "omnilog-rates",
        "service": "relay",
        "cutoffs": dict.fromkeys(range(5), time(17, 0)),
        "transit_days": 3,
        "price": Decimal("3.90"),
        "delivers_by": time(11, 0),
    }
    values.update(changes)
    return CarrierService(**values)


def transfer(**changes) -> CarrierService:
    values: dict[str, Any] = {
        "mode": DeliveryMode.SHIP_TO_STORE,
        "carrier_code": "omnilog-transfer",
        "service": "shuttle",
        "cutoffs": dict.fromkeys(range(5), time(18, 0)),
        "transit_days": 1,
        "price": Decimal("0.00"),
        "delivery_weekdays": frozenset(range(6)),
        "delivers_by": time(8, 0),
    }
    values.update(changes)
    return CarrierService(**values)


def warehouse(**changes) -> Source:
    values: dict[str, Any] = {
        "location_id": 1,
        "code": "wh-paris",
        "schedule": warehouse_schedule(),
        "stock": {PRODUCT: 10, OTHER_PRODUCT: 10},
        "pick_minutes": 10,
        "pack_minutes": 5,
        "carrier_services": (standard(), express(), relay(), transfer()),
        "position": PARIS_CENTRE,
    }
    values.update(changes)
    return Source(**values)


def store(**changes) -> Source:
    values: dict[str, Any] = {
        "location_id": 2,
        "code": "store-paris",
        "schedule": store_schedule(),
        "stock": {PRODUCT: 3},
        "pick_minutes": 5,
        "pack_minutes": 5,
        "carrier_services": (same_day(),),
        "is_click_and_collect": True,
        "position": PARIS_CENTRE,
    }
    values.update(changes)
    return Source(**values)


def pickup_store(**changes) -> PickupStore:
    values: dict[str, Any] = {
        "location_id": 2,
        "schedule": store_schedule(),
        "position": PARIS_CENTRE,
    }
    values.update(changes)
    return PickupStore(**values)


def relay_point(**changes) -> RelayPoint:
    hours = {day: [["09:00", "19:00"]] for day in ("tue", "wed", "thu", "fri", "sat")}
    values: dict[str, Any] = {
        "relay_id": "R-0042",
        "carrier_code": "omnilog-rates",
        "schedule": WeeklySchedule.from_json(hours),
        "position": PARIS_EAST,
    }
    values.update(changes)
    return RelayPoint(**values)


def home(**changes) -> HomeAddress:
    values: dict[str, Any] = {"country": "FR", "postcode": "75011", "position": PARIS_EAST}
    values.update(changes)
    return HomeAddress(**values)


def request(now, *, sources=None, destination=None, lines=None, **changes) -> PromiseRequest:
    return PromiseRequest(
        now=now,
        lines=tuple(lines or (CartLine(PRODUCT, 1),)),
        sources=tuple(sources if sources is not None else (warehouse(),)),
        destination=destination or home(),
        **changes,
    )


def option(options, mode):
    return next(item for item in options if item.mode == mode)
