"""What goes in and out of a carrier adapter: frozen dataclasses, no framework.

Weights are grams, dimensions millimetres, money ``Decimal`` in ``currency`` (cents).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Service(StrEnum):
    STANDARD = "standard"  # home delivery, business days
    EXPRESS = "express"  # home delivery, next business day where the zone allows
    SAME_DAY = "same_day"  # courier, same day, short distances only
    RELAY = "relay"  # relay network (shops and lockers)


class RefusalCode(StrEnum):
    NO_PARCELS = "no_parcels"
    SERVICE_NOT_OFFERED = "service_not_offered"  # not in this zone (same-day abroad, ...)
    TOO_HEAVY = "too_heavy"  # actual weight above the service limit
    CHARGEABLE_WEIGHT_TOO_HIGH = "chargeable_weight_too_high"  # volumetric weight above it
    TOO_LONG = "too_long"  # longest side above the limit
    TOO_LARGE = "too_large"  # does not fit the box of the service (sorted sides)
    GIRTH_TOO_LARGE = "girth_too_large"  # length + 2 x (width + height) above the limit
    DISTANCE_UNKNOWN = "distance_unknown"  # same-day needs both coordinates
    INVALID_PARCEL = "invalid_parcel"  # weight or a side not positive


class TrackingStatus(StrEnum):
    UNKNOWN = "unknown"
    INFO_RECEIVED = "info_received"  # label created, not scanned by the carrier yet
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED = "returned"


@dataclass(frozen=True)
class Address:
    """A postal address; coordinates when known (same-day and distance bands need them)."""

    country: str
    postcode: str = ""
    city: str = ""
    lines: tuple[str, ...] = ()
    name: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Parcel:
    weight_grams: int
    length_mm: int
    width_mm: int
    height_mm: int
    reference: str = ""

    @property
    def sides_mm(self) -> tuple[int, int, int]:
        """Sides from the longest to the shortest, whatever way the parcel was measured."""
        longest, middle, shortest = sorted(
            (self.length_mm, self.width_mm, self.height_mm), reverse=True
        )
        return longest, middle, shortest


@dataclass(frozen=True)
class Refusal:
    """Why a service cannot carry a parcel; ``parcel_index`` is None for the whole shipment."""

    code: RefusalCode
    message: str
    parcel_index: int | None = None


@dataclass(frozen=True)
class ParcelCharge:
    parcel_index: int
    actual_weight_grams: int
    volumetric_weight_grams: int
    chargeable_weight_grams: int
    weight_band_max_grams: int
    price: Decimal


@dataclass(frozen=True)
class Quote:
    """A price for carrying ``parcels`` with ``service``, or every reason it cannot.

    ``is_available`` is True exactly when ``refusals`` is empty; ``price`` and ``transit_days``
    are then set (``price`` is the sum of the parcels' charges). ``transit_days`` counts the
    carrier's delivery days after the pickup day (0 for same-day).
    """

    carrier_code: str
    service: Service
    zone: str
    currency: str
    price: Decimal | None
    transit_days: int | None
    parcels: tuple[ParcelCharge, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    distance_km: float | None = None

    @property
    def is_available(self) -> bool:
        return not self.refusals


@dataclass(frozen=True)
class ShipmentRequest:
    """What a label needs: who sends, who receives, what and how.

    ``sequence`` is a number the caller allocates once per shipment (its primary key): tracking
    numbers derive from it, so a retried label call gets the same numbers and two shipments
    never share one.
    """

    reference: str
    sequence: int
    service: Service
    sender: Address
    recipient: Address
    parcels: tuple[Parcel, ...]
    ship_date: date
    order_reference: str = ""
    relay_point_id: str = ""
    contents: str = ""
    declared_value: Decimal | None = None
    currency: str = "EUR"


@dataclass(frozen=True)
class Code128:
    """A Code 128 (code set B) symbol: ``payload`` as text and the symbol values to draw
    (start B, one value per character, the modulo-103 check value, stop)."""

    payload: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class LabelData:
    """Everything printed on one parcel's label; the PDF renderer only lays it out."""

    carrier_code: str
    carrier_name: str
    service: Service
    tracking_number: str
    barcode: Code128
    sender: Address
    recipient: Address
    ship_date: date
    parcel_index: int  # 1-based: "parcel 1 of 2"
    parcel_count: int
    weight_grams: int
    chargeable_weight_grams: int
    zone: str
    sort_code: str  # routing hint printed large: zone and destination postcode area
    reference: str
    order_reference: str = ""
    relay_point_id: str = ""
    contents: str = ""


@dataclass(frozen=True)
class Label:
    """The labels of a shipment, one per parcel, and the price charged."""

    carrier_code: str
    reference: str
    labels: tuple[LabelData, ...]
    price: Decimal
    currency: str

    @property
    def tracking_numbers(self) -> tuple[str, ...]:
        return tuple(label.tracking_number for label in self.labels)


@dataclass(frozen=True)
class TrackingEvent:
    occurred_at: datetime
    status: TrackingStatus
    description: str
    location: str = ""


@dataclass(frozen=True)
class TrackingInfo:
    carrier_code: str
    tracking_number: str
    status: TrackingStatus
    events: tuple[TrackingEvent, ...] = ()
    is_valid_number: bool = True
