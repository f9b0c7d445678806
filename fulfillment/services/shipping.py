"""Shipments: quote and label through the carrier adapter, customs paperwork, cancellation.

``shipment_create`` does everything slow first, holding no lock and no transaction: it reads
the fulfillment order, asks the adapter for the label (a real carrier is an HTTP call), renders
the PDFs and builds the customs data; then one short transaction locks the order and the
fulfillment order (the global order), re-checks them and writes the shipment, its first event,
the order's timeline event and the outbox event. The shipment's id is drawn from its sequence
before the label call, because tracking numbers derive from it (``ShipmentRequest.sequence``).

Carrier status webhooks: ``fulfillment.services.carrier_events.carrier_event_receive``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from fulfillment.carriers import (
    Address,
    CarrierAdapter,
    CarrierError,
    Service,
    ShipmentRequest,
    carrier_get,
)
from fulfillment.carriers import Parcel as CarrierParcel
from fulfillment.customs import Incoterm
from fulfillment.models import Carrier, FulfillmentOrder, RelayPoint, Shipment, ShipmentEvent
from fulfillment.models import Parcel as PackedParcel
from fulfillment.services.carrier_events import shipment_announce
from fulfillment.services.customs_docs import customs_documents_build, customs_lines
from fulfillment.services.labels import labels_pdf
from fulfillment.services.relay_points import relay_point_refusals
from fulfillment.shipping_statuses import ShipmentStatus, shipment_can_transition
from fulfillment.statuses import FulfillmentStatus
from omnilog.core.errors import ApplicationError, Conflict, FieldError, NotFound, ValidationFailed
from omnilog.core.outbox import outbox_notify
from orders.models import DeliveryMode, Order
from orders.services.timeline import order_lock

# A label is bought once the location has taken the order on and until it leaves.
SHIPPABLE = frozenset(
    {
        FulfillmentStatus.ACCEPTED,
        FulfillmentStatus.PICKING,
        FulfillmentStatus.PICKED,
        FulfillmentStatus.PACKED,
    }
)
PICKUP_MODES = frozenset({DeliveryMode.CLICK_AND_COLLECT})


@dataclass(frozen=True)
class ParcelInput:
    weight_grams: int
    length_mm: int
    width_mm: int
    height_mm: int


def carrier_active_get(*, code: str) -> Carrier:
    carrier = Carrier.objects.filter(code=code, is_active=True).first()
    if carrier is None:
        raise NotFound(f"No active carrier {code!r}.", code="carrier_not_found")
    return carrier


def carrier_adapter(carrier: Carrier) -> CarrierAdapter:
    try:
        return carrier_get(carrier.adapter_code)
    except CarrierError as error:
        raise Conflict(error.message, code=error.code) from error


def _service(adapter: CarrierAdapter, value: str) -> Service:
    try:
        service = Service(value)
    except ValueError:
        service = None
    if service is None or service not in adapter.services():
        offered = ", ".join(str(s) for s in adapter.services())
        raise ValidationFailed(
            f"Service {value!r} is not offered by {adapter.name} ({offered}).",
            field_errors=[FieldError("service", f"One of {offered}.", "invalid_choice")],
        )
    return service


def _parcels(fulfillment_order_id: int, given: Sequence[ParcelInput] | None) -> list[CarrierParcel]:
    """The parcels given, else the fulfillment order's closed packing parcels."""
    if given:
        rows = [(p.weight_grams, p.length_mm, p.width_mm, p.height_mm) for p in given]
    else:
        rows = list(
            PackedParcel.objects.filter(
                fulfillment_order_id=fulfillment_order_id, status=PackedParcel.Status.CLOSED
            )
            .order_by("number")
            .values_list("weight_grams", "length_mm", "width_mm", "height_mm")
        )
    errors = [
        FieldError(f"parcels.{index}", "Weight and every side must be positive.", "min_value")
        for index, row in enumerate(rows)
        if min(row) <= 0
    ]
    if not rows:
        errors.append(
            FieldError("parcels", "Give the parcels or close them at packing.", "required")
        )
    if errors:
        raise ValidationFailed("The parcels are not valid.", field_errors=errors)
    return [CarrierParcel(*row, reference=f"P{index}") for index, row in enumerate(rows, start=1)]


def location_address(fulfillment_order: FulfillmentOrder) -> Address:
    location = fulfillment_order.location
    return Address(
        country=location.country,
        postcode=location.postcode,
        city=location.city,
        lines=tuple(line for line in (location.address_line,) if line),
        name=location.name,
        latitude=location.latitude,
        longitude=location.longitude,
    )


def _recipient(order: Order) -> Address:
    data: dict[str, Any] = order.shipping_address or {}
    customer = order.customer
    name = data.get("name") or f"{customer.first_name} {customer.last_name}".strip()
    if not data.get("country") or not data.get("postcode") or not data.get("city"):
        raise ValidationFailed(
            f"Order {order.number} has no complete shipping address.",
            code="address_missing",
            field_errors=[
                FieldError("shipping_address", "Country, postcode and city.", "required")
            ],
        )
    return Address(
        country=str(data["country"]),
        postcode=str(data["postcode"]),
        city=str(data["city"]),
        lines=tuple(str(data[key]) for key in ("line1", "line2") if data.get(key)),
        name=str(name),
        phone=str(data.get("phone") or order.customer_phone),
        email=order.customer_email,
        # A geocoded address carries its position: same-day quotes need both ends'.
        latitude=_coordinate(data.get("latitude")),
        longitude=_coordinate(data.get("longitude")),
    )


def _coordinate(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _relay_recipient(
    order: Order, carrier: Carrier, parcels: Sequence[CarrierParcel]
) -> tuple[RelayPoint, Address]:
    point = RelayPoint.objects.filter(carrier=carrier, point_id=order.relay_point_code).first()
    if point is None:
        raise ValidationFailed(
            f"Order {order.number} names no relay point of {carrier.code}.",
            code="relay_point_not_found",
            field_errors=[FieldError("relay_point", "Unknown relay point.", "not_found")],
        )
    refusals = [
        FieldError(f"parcels.{index}", reason, "relay_point_refused")
        for index, parcel in enumerate(parcels)
        for reason in relay_point_refusals(point, parcel)
    ]
    if refusals:
        raise ValidationFailed(
            f"Relay point {point.point_id} cannot take these parcels.",
            code="relay_point_refused",
            field_errors=refusals,
        )
    customer = order.customer
    return point, Address(
        country=point.country,
        postcode=point.postcode,
        city=point.city,
        lines=tuple(line for line in (point.address_line,) if line),
        name=f"{customer.first_name} {customer.last_name}".strip(),
        company=point.name,
        email=order.customer_email,
        latitude=point.latitude,
        longitude=point.longitude,
    )


def _next_shipment_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('fulfillment_shipment', 'id'))")
        (value,) = cursor.fetchone()
    return int(value)


def _require_shippable(fulfillment_order: FulfillmentOrder) -> None:
    if fulfillment_order.status not in SHIPPABLE:
        raise Conflict(
            f"FO-{fulfillment_order.pk} is {fulfillment_order.status}: no label can be created.",
            code="fulfillment_order_not_shippable",
            details={"status": fulfillment_order.status},
        )
    if fulfillment_order.delivery_mode in PICKUP_MODES:
        raise Conflict(
            f"FO-{fulfillment_order.pk} is collected in store: it needs no carrier.",
            code="not_a_carrier_order",
            details={"delivery_mode": fulfillment_order.delivery_mode},
        )


def _live_shipment_exists(fulfillment_order_id: int) -> None:
    live = (
        Shipment.objects.filter(fulfillment_order_id=fulfillment_order_id)
        .exclude(status=ShipmentStatus.CANCELLED)
        .values_list("id", flat=True)
        .first()
    )
    if live is not None:
        raise Conflict(
            f"FO-{fulfillment_order_id} already has shipment {live}; cancel it to relabel.",
            code="shipment_exists",
            details={"shipment_id": live},
        )


def shipment_create(
    *,
    fulfillment_order_id: int,
    carrier_code: str,
    service: str,
    actor: str,
    parcels: Sequence[ParcelInput] | None = None,
    incoterm: str = Incoterm.DAP,
    ship_date: date | None = None,
) -> Shipment:
    """Buy the label of a fulfillment order and record the shipment (``label_created``).

    ``parcels`` default to the order's closed packing parcels. A relay-point order (or the
    ``relay`` service) ships to the order's relay point, which must take every parcel. A parcel
    leaving the EU customs or VAT territory gets its CN22/CN23 data, a duties estimate and a
    commercial-invoice PDF. Raises (nothing written): ``NotFound``, ``Conflict``
    (``fulfillment_order_not_shippable``, ``shipment_exists``), ``ValidationFailed``
    (parcels, address, relay point, customs), or the carrier's refusal (422, every reason).
    Precondition: no transaction open (the carrier call must not run under a lock).
    """
    fulfillment_order = (
        FulfillmentOrder.objects.select_related("location", "order__customer")
        .filter(pk=fulfillment_order_id)
        .first()
    )
    if fulfillment_order is None:
        raise NotFound(
            f"No fulfillment order {fulfillment_order_id}.", code="fulfillment_order_not_found"
        )
    _require_shippable(fulfillment_order)
    _live_shipment_exists(fulfillment_order_id)
    try:
        term = Incoterm(incoterm)
    except ValueError:
        raise ValidationFailed(
            f"Unknown incoterm {incoterm!r}.",
            field_errors=[FieldError("incoterm", "DDP or DAP.", "invalid_choice")],
        ) from None
    carrier = carrier_active_get(code=carrier_code)
    adapter = carrier_adapter(carrier)
    chosen = _service(adapter, service)
    order = fulfillment_order.order
    carrier_parcels = _parcels(fulfillment_order_id, parcels)
    relay_point = None
    if chosen == Service.RELAY or order.delivery_mode == DeliveryMode.RELAY_POINT:
        relay_point, recipient = _relay_recipient(order, carrier, carrier_parcels)
    else:
        recipient = _recipient(order)
    sender = location_address(fulfillment_order)
    shipment_id = _next_shipment_id()
    shipped_on = ship_date or timezone.localdate()
    request = ShipmentRequest(
        reference=f"SH-{shipment_id}",
        sequence=shipment_id,
        service=chosen,
        sender=sender,
        recipient=recipient,
        parcels=tuple(carrier_parcels),
        ship_date=shipped_on,
        order_reference=order.number,
        relay_point_id=relay_point.point_id if relay_point else "",
        currency=order.currency,
    )
    lines = customs_lines(fulfillment_order_id)
    try:
        label = adapter.create_label(request)
    except CarrierError as error:
        raise ApplicationError(
            error.message,
            code=error.code,
            status=422,
            details={"refusals": [dict(detail) for detail in error.details]},
        ) from error
    total_weight = sum(parcel.weight_grams for parcel in carrier_parcels)
    customs = customs_documents_build(
        lines=lines,
        sender=sender,
        recipient=recipient,
        currency=label.currency,
        incoterm=term,
        invoice_number=f"CI-{shipment_id}",
        issued_on=shipped_on,
        postage=label.price,
        gross_weight_grams=total_weight,
        parcel_count=len(carrier_parcels),
        order_reference=order.number,
    )
    pdf = labels_pdf(label.labels)
    largest = max(carrier_parcels, key=lambda p: p.length_mm * p.width_mm * p.height_mm)
    longest, middle, shortest = largest.sides_mm
    with transaction.atomic():
        order_lock(order_id=order.pk)
        locked = (
            FulfillmentOrder.objects.select_for_update(of=("self",))
            .select_related("location")
            .get(pk=fulfillment_order_id)
        )
        _require_shippable(locked)
        _live_shipment_exists(fulfillment_order_id)
        try:
            with transaction.atomic():
                shipment = Shipment.objects.create(
                    id=shipment_id,
                    fulfillment_order=locked,
                    carrier=carrier,
                    service=chosen,
                    tracking_number=label.tracking_numbers[0],
                    relay_point=relay_point,
                    parcels=[
                        {
                            "tracking_number": data.tracking_number,
                            "weight_grams": parcel.weight_grams,
                            "length_mm": parcel.length_mm,
                            "width_mm": parcel.width_mm,
                            "height_mm": parcel.height_mm,
                            "chargeable_weight_grams": data.chargeable_weight_grams,
                        }
                        for data, parcel in zip(label.labels, carrier_parcels, strict=True)
                    ],
                    weight_grams=total_weight,
                    length_mm=longest,
                    width_mm=middle,
                    height_mm=shortest,
                    zone=label.labels[0].zone,
                    price=label.price,
                    currency=label.currency,
                    label_pdf=pdf,
                    incoterm=term.value if customs else "",
                    customs_form=customs.declaration.form.value if customs else "",
                    customs_data=customs.as_json() if customs else {},
                    commercial_invoice_pdf=customs.invoice_pdf if customs else None,
                    created_by=actor[:150],
                )
        except IntegrityError as error:  # a concurrent creation won the constraint
            raise Conflict(
                f"FO-{fulfillment_order_id} already has a live shipment.", code="shipment_exists"
            ) from error
        event = ShipmentEvent.objects.create(
            shipment=shipment,
            carrier=carrier,
            status=ShipmentStatus.LABEL_CREATED,
            occurred_at=timezone.now(),
            description=f"Label created: {len(label.labels)} parcel(s), {label.price} "
            f"{label.currency}",
        )
        shipment_announce(
            shipment=shipment,
            event=event,
            order=order,
            actor=actor,
            extra={"price": str(label.price), "customs_form": shipment.customs_form},
        )
        outbox_notify()
    return shipment


def shipment_cancel(*, shipment_id: int, actor: str, reason: str = "") -> Shipment:
    """Void a label the carrier has not scanned yet (``label_created`` -> ``cancelled``)."""
    fulfillment_order_id = (
        Shipment.objects.filter(pk=shipment_id)
        .values_list("fulfillment_order_id", flat=True)
        .first()
    )
    if fulfillment_order_id is None:
        raise NotFound(f"No shipment {shipment_id}.", code="shipment_not_found")
    order_id = FulfillmentOrder.objects.values_list("order_id", flat=True).get(
        pk=fulfillment_order_id
    )
    with transaction.atomic():
        order = order_lock(order_id=order_id)
        shipment = (
            Shipment.objects.select_for_update(of=("self",))
            .select_related("carrier")
            .get(pk=shipment_id)
        )
        if not shipment_can_transition(shipment.status, ShipmentStatus.CANCELLED):
            raise Conflict(
                f"Shipment {shipment.pk} is {shipment.status}: it cannot be cancelled.",
                code="invalid_transition",
                details={"from_status": shipment.status, "to_status": "cancelled"},
            )
        previous = shipment.status
        shipment.status = ShipmentStatus.CANCELLED
        shipment.save(update_fields=["status", "updated_at"])
        event = ShipmentEvent.objects.create(
            shipment=shipment,
            carrier=shipment.carrier,
            status=ShipmentStatus.CANCELLED,
            from_status=previous,
            occurred_at=timezone.now(),
            description=(reason or "Label voided")[:300],
        )
        shipment_announce(shipment=shipment, event=event, order=order, actor=actor)
    return shipment
