"""Delivery promise: every delivery option of a cart to a destination with its price, date,
cut-off countdown and availability. A pure core (no Django, DRF or Celery; import-linter
checks it): ``promise_options(PromiseRequest) -> tuple[DeliveryOption, ...]``. The caller
builds sources from ATP, incoming stock, locations (``WeeklySchedule.from_json``) and carrier
quotes (``fulfillment.carriers``); see ``engine`` for the rules.
"""

from fulfillment.promise.engine import promise_options
from fulfillment.promise.schedule import WeeklySchedule
from fulfillment.promise.timeline import stock_ready
from fulfillment.promise.types import (
    Availability,
    CarrierService,
    CartLine,
    DeliveryOption,
    Destination,
    HomeAddress,
    IncomingStock,
    PickupStore,
    PromiseRequest,
    RelayPoint,
    Source,
    SourceRejection,
    UnavailableReason,
)

__all__ = [
    "Availability",
    "CarrierService",
    "CartLine",
    "DeliveryOption",
    "Destination",
    "HomeAddress",
    "IncomingStock",
    "PickupStore",
    "PromiseRequest",
    "RelayPoint",
    "Source",
    "SourceRejection",
    "UnavailableReason",
    "WeeklySchedule",
    "promise_options",
    "stock_ready",
]
