"""Carriers: one adapter interface (rates, labels, tracking) and a built-in rate-table carrier.

A pure core (no Django, DRF or Celery; import-linter checks it). ``carrier_get("omnilog-rates")``
returns ``RateTableCarrier``, which prices from zones and weight bands and needs no network.
Real carriers implement ``CarrierAdapter`` outside this package (their HTTP clients are not
pure) and register with ``carrier_register``.
"""

from fulfillment.carriers.base import CarrierAdapter, CarrierError
from fulfillment.carriers.rate_table import (
    DEFAULT_RATE_TABLE,
    RateTable,
    RateTableCarrier,
    ServiceLimits,
    ZoneRate,
    volumetric_weight_grams,
    zone_for,
)
from fulfillment.carriers.registry import carrier_codes, carrier_get, carrier_register
from fulfillment.carriers.tracking import (
    code128_b,
    is_valid_tracking_number,
    luhn_check_digit,
    tracking_number,
)
from fulfillment.carriers.types import (
    Address,
    Code128,
    Label,
    LabelData,
    Parcel,
    ParcelCharge,
    Quote,
    Refusal,
    RefusalCode,
    Service,
    ShipmentRequest,
    TrackingEvent,
    TrackingInfo,
    TrackingStatus,
)

__all__ = [
    "DEFAULT_RATE_TABLE",
    "Address",
    "CarrierAdapter",
    "CarrierError",
    "Code128",
    "Label",
    "LabelData",
    "Parcel",
    "ParcelCharge",
    "Quote",
    "RateTable",
    "RateTableCarrier",
    "Refusal",
    "RefusalCode",
    "Service",
    "ServiceLimits",
    "ShipmentRequest",
    "TrackingEvent",
    "TrackingInfo",
    "TrackingStatus",
    "ZoneRate",
    "carrier_codes",
    "carrier_get",
    "carrier_register",
    "code128_b",
    "is_valid_tracking_number",
    "luhn_check_digit",
    "tracking_number",
    "volumetric_weight_grams",
    "zone_for",
]
