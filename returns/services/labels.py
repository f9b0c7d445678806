"""Return labels: the carrier adapter and label renderer of fulfillment, sender and recipient
swapped (the customer sends, the returns location receives).

- relay drop-off: the relay point's carrier, its relay service, from the point to the location;
- carrier pickup: ``RETURNS_CARRIER_CODE`` (default the built-in ``omnilog-rates``), standard
  service, from the pickup address (the order's shipping address unless given).

The label is built with no transaction open (a real carrier is a network call); tracking
numbers come from the shipments' id sequence, so a return label never shares one with a
shipment. Parcel: the returned units' weight, the largest product's sides (defaults when the
catalogue has none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from fulfillment.carriers.base import CarrierError
from fulfillment.carriers.types import Address, Parcel, Service, ShipmentRequest
from fulfillment.models import Carrier, RelayPoint
from fulfillment.services.labels import labels_pdf
from fulfillment.services.shipping import carrier_active_get, carrier_adapter
from inventory.models import Location, Product
from omnilog.core.errors import ApplicationError, FieldError, ValidationFailed
from orders.models import Order

DEFAULT_CARRIER = "omnilog-rates"
DEFAULT_SIDES_MM = (300, 200, 100)
DEFAULT_UNIT_GRAMS = 500


@dataclass(frozen=True)
class ReturnLabel:
    carrier_id: int
    tracking_number: str
    pdf: bytes


def relay_point_find(code: str) -> RelayPoint | None:
    """The active relay point with this carrier id (the first carrier's when several)."""
    return (
        RelayPoint.objects.select_related("carrier")
        .filter(point_id=code, carrier__is_active=True)
        .order_by("carrier_id")
        .first()
    )


def _location_address(location: Location) -> Address:
    return Address(
        country=location.country,
        postcode=location.postcode,
        city=location.city,
        lines=tuple(line for line in (location.address_line,) if line),
        name=location.name,
        latitude=location.latitude,
        longitude=location.longitude,
    )


def _customer_name(order: Order) -> str:
    return f"{order.customer_first_name} {order.customer_last_name}".strip() or order.number


def _pickup_address(order: Order, given: Mapping[str, Any]) -> Address:
    data = dict(given or order.shipping_address or {})
    if not data.get("country") or not data.get("postcode") or not data.get("city"):
        raise ValidationFailed(
            "A carrier pickup needs a complete address.",
            field_errors=[FieldError("pickup_address", "Country, postcode and city.", "required")],
        )
    return Address(
        country=str(data["country"]),
        postcode=str(data["postcode"]),
        city=str(data["city"]),
        lines=tuple(str(data[key]) for key in ("line1", "line2") if data.get(key)),
        name=str(data.get("name") or _customer_name(order)),
        phone=str(data.get("phone") or order.customer_phone),
        email=order.customer_email,
    )


def _parcel(units: Sequence[tuple[Product, int]]) -> Parcel:
    weight = sum((product.weight_grams or DEFAULT_UNIT_GRAMS) * count for product, count in units)
    sides = max(
        (
            (product.length_mm, product.width_mm, product.height_mm)
            for product, _ in units
            if min(product.length_mm, product.width_mm, product.height_mm) > 0
        ),
        key=lambda found: found[0] * found[1] * found[2],
        default=DEFAULT_SIDES_MM,
    )
    return Parcel(max(weight, 1), *sides, reference="R1")


def _sequence() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('fulfillment_shipment', 'id'))")
        (value,) = cursor.fetchone()
    return int(value)


def return_label_build(
    *,
    number: str,
    order: Order,
    mode: str,
    destination: Location,
    units: Sequence[tuple[Product, int]],
    relay_point_code: str = "",
    pickup_address: Mapping[str, Any] | None = None,
) -> ReturnLabel:
    """Buy and render the return label of ``number``. Precondition: no transaction open.
    Raises ``ValidationFailed`` (relay point, address) or the carrier's refusal (422)."""
    if mode == "relay_drop_off":
        point = relay_point_find(relay_point_code)
        if point is None:
            raise ValidationFailed(
                f"No relay point {relay_point_code!r}.",
                code="relay_point_not_found",
                field_errors=[FieldError("relay_point", "Unknown relay point.", "not_found")],
            )
        carrier: Carrier = point.carrier
        service = Service.RELAY
        sender = Address(
            country=point.country,
            postcode=point.postcode,
            city=point.city,
            lines=tuple(line for line in (point.address_line,) if line),
            name=_customer_name(order),
            company=point.name,
            email=order.customer_email,
            latitude=point.latitude,
            longitude=point.longitude,
        )
    else:
        carrier = carrier_active_get(
            code=str(getattr(settings, "RETURNS_CARRIER_CODE", DEFAULT_CARRIER))
        )
        service = Service.STANDARD
        sender = _pickup_address(order, pickup_address or {})
        point = None
    adapter = carrier_adapter(carrier)
    sequence = _sequence()
    request = ShipmentRequest(
        reference=number,
        sequence=sequence,
        service=service,
        sender=sender,
        recipient=_location_address(destination),
        parcels=(_parcel(units),),
        ship_date=timezone.localdate(),
        order_reference=order.number,
        relay_point_id=point.point_id if point else "",
        contents="Return " + number,
        currency=order.currency,
    )
    try:
        label = adapter.create_label(request)
    except CarrierError as error:
        raise ApplicationError(
            error.message,
            code=error.code,
            status=422,
            details={"refusals": [dict(detail) for detail in error.details]},
        ) from error
    return ReturnLabel(
        carrier_id=carrier.pk,
        tracking_number=label.tracking_numbers[0],
        pdf=labels_pdf(label.labels),
    )
