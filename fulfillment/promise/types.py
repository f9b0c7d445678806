"""The delivery promise core's inputs and outputs: frozen dataclasses, no framework.

Datetimes are timezone-aware (a naive ``now`` is refused); results are expressed in the
time zone of the place they describe (the preparing location, the destination). Money is
``Decimal`` (cents) in the currency the caller quoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from fulfillment.promise.schedule import WeeklySchedule
from fulfillment.routing.types import DeliveryMode, GeoPoint

DEFAULT_TIMEZONE = "Europe/Paris"
MONDAY_TO_SATURDAY: frozenset[int] = frozenset(range(6))
MONDAY_TO_FRIDAY: frozenset[int] = frozenset(range(5))


class Availability(StrEnum):
    AVAILABLE = "available"  # every unit is on hand at the chosen source
    AVAILABLE_LATER = "available_later"  # relies on units in transit / incoming, with dates
    UNAVAILABLE = "unavailable"


class UnavailableReason(StrEnum):
    OUT_OF_STOCK = "out_of_stock"  # no source holds (or will receive) every unit
    NO_SOURCE = "no_source"  # no location may serve this mode (no parcels, no C&C, ...)
    NO_CARRIER_SERVICE = "no_carrier_service"  # no service of this mode at a stocked source
    CARRIER_REFUSED = "carrier_refused"  # the carrier refused the cart (weight, size, zone)
    OUT_OF_RANGE = "out_of_range"  # same-day beyond the courier's radius / no coordinates
    SAME_DAY_CUTOFF_PASSED = "same_day_cutoff_passed"  # would leave on a later day
    NO_SLOT_IN_HORIZON = "no_slot_in_horizon"  # closed, no capacity or no pickup in horizon
    PICKUP_STORE_CLOSED = "pickup_store_closed"  # the store / relay never opens in horizon
    STORE_NOT_CLICK_AND_COLLECT = "store_not_click_and_collect"


@dataclass(frozen=True)
class CartLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class IncomingStock:
    """Units arriving at a source (in transit, purchase order): usable from ``arrives_at``.
    An arrival already in the past but not yet received counts as usable now."""

    product_id: int
    quantity: int
    arrives_at: datetime


@dataclass(frozen=True)
class CarrierService:
    """A carrier service a location can hand parcels to, priced by the caller (from
    ``fulfillment.carriers``' ``quote`` for this cart and destination).

    ``cutoffs`` maps a weekday (0 = Monday) to the latest time, in the location's time zone, a
    parcel must be ready (strictly before) to leave that day; a weekday absent is a day without
    pickup. ``transit_days`` counts ``delivery_weekdays`` after the pickup day that are not
    ``holidays`` (0: delivered on the pickup day). ``delivers_by`` is when the day's deliveries
    end (home) or when the carrier drops at a relay point or store.
    """

    mode: DeliveryMode
    carrier_code: str
    service: str
    cutoffs: Mapping[int, time]
    transit_days: int
    price: Decimal | None = None
    currency: str = "EUR"
    delivery_weekdays: frozenset[int] = MONDAY_TO_SATURDAY
    delivers_by: time = time(18, 0)
    holidays: frozenset[date] = frozenset()
    max_distance_km: float | None = None  # same-day courier radius
    refusal: str = ""  # why the carrier refused this cart (quote refusals), empty when it can


@dataclass(frozen=True)
class Source:
    """A location that may prepare the cart. ``stock`` is ATP now per product; ``incoming``
    units arriving later. ``capacity_today`` and ``capacity_by_day`` are orders it may still
    take (None: no limit); days absent from ``capacity_by_day`` take ``daily_capacity``."""

    location_id: int
    code: str
    schedule: WeeklySchedule
    stock: Mapping[int, int]
    incoming: tuple[IncomingStock, ...] = ()
    pick_minutes: int = 5
    pack_minutes: int = 5
    capacity_today: int | None = None
    daily_capacity: int | None = None
    capacity_by_day: Mapping[date, int] = field(default_factory=dict)
    carrier_services: tuple[CarrierService, ...] = ()
    ships_parcels: bool = True
    is_click_and_collect: bool = False
    position: GeoPoint | None = None
    country: str = "FR"

    @property
    def preparation_minutes(self) -> int:
        return self.pick_minutes + self.pack_minutes


@dataclass(frozen=True)
class HomeAddress:
    country: str = "FR"
    postcode: str = ""
    position: GeoPoint | None = None
    timezone: str = DEFAULT_TIMEZONE


@dataclass(frozen=True)
class PickupStore:
    """A store where the customer collects: from its own stock (click-and-collect) or from
    another location's parcel (ship-to-store, ``receive_minutes`` to book it in)."""

    location_id: int
    schedule: WeeklySchedule
    is_click_and_collect: bool = True
    receive_minutes: int = 15
    position: GeoPoint | None = None
    country: str = "FR"


@dataclass(frozen=True)
class RelayPoint:
    relay_id: str
    carrier_code: str
    schedule: WeeklySchedule
    position: GeoPoint | None = None
    country: str = "FR"


Destination = HomeAddress | PickupStore | RelayPoint


@dataclass(frozen=True)
class PromiseRequest:
    now: datetime
    lines: tuple[CartLine, ...]
    sources: tuple[Source, ...]
    destination: Destination
    click_and_collect_price: Decimal = Decimal("0.00")
    currency: str = "EUR"
    horizon_days: int = 60


@dataclass(frozen=True)
class SourceRejection:
    location_id: int
    reason: UnavailableReason
    detail: str = ""


@dataclass(frozen=True)
class DeliveryOption:
    """One way to get the cart: when, for how much, until when to order.

    ``cutoff_at`` is the moment before which the order must be placed (strictly) for this
    promise to hold; ``cutoff_seconds`` the countdown from ``now``. For home delivery the
    promise is ``delivery_at`` (the end of the carrier's delivery window on the delivery day);
    for click-and-collect, relay and ship-to-store it is ``ready_by`` (inside the opening hours
    of the place of collection). Unavailable options carry a reason and no dates.
    """

    mode: DeliveryMode
    availability: Availability
    reason: UnavailableReason | None = None
    detail: str = ""
    location_id: int | None = None
    carrier_code: str = ""
    service: str = ""
    price: Decimal | None = None
    currency: str = "EUR"
    stock_ready_at: datetime | None = None  # every unit at the source
    prepared_at: datetime | None = None  # picked and packed
    dispatch_at: datetime | None = None  # handed to the carrier (the cut-off of that day)
    delivery_at: datetime | None = None  # delivered home, or dropped at the relay / store
    ready_by: datetime | None = None  # collectable (click-and-collect, relay, ship-to-store)
    cutoff_at: datetime | None = None
    cutoff_seconds: int | None = None
    rejections: tuple[SourceRejection, ...] = ()

    @property
    def promised_at(self) -> datetime | None:
        return self.ready_by if self.ready_by is not None else self.delivery_at
