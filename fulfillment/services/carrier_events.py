"""The carrier's signed status webhook: verify, deduplicate, move the shipment and the order.

Payload (JSON, signed with the carrier's ``whsec_`` secret, Standard Webhooks headers)::

    {"tracking_number": "OMS0000000001018", "status": "delivered",
     "occurred_at": "2026-03-02T10:15:00+01:00", "description": "Left with the neighbour",
     "location": "Paris 11"}

The ``webhook-id`` header is the carrier's event id: an event already recorded for that carrier
is a duplicate (answered 200, nothing written). A repeated status (another hub scan) is recorded
without a move; a move ``fulfillment.shipping_statuses`` refuses is a 409 with nothing written.
Effects, in one short transaction holding the order, fulfillment order and shipment locks:
a carrier scan proves the parcel left, so an event for a fulfillment order still ``packed``
first ships it (``fulfillment_order_ship``: its stock is committed, the order moves) in the same
transaction and the global lock order (the order row, its lines, the fulfillment order, its
lines, reservations, levels; a refused event rolls that back too); ``delivered`` moves the
fulfillment order (shipped -> delivered) and, once every live fulfillment order is delivered or
collected, the order (``order_transition``); every event
writes a ``ShipmentEvent``, an ``OrderEvent`` and an outbox event ``shipment.<status>``
(``returned_to_sender`` is for returns to react to; ``failed_attempt`` for customer service).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from fulfillment.models import Carrier, FulfillmentOrder, Shipment, ShipmentEvent
from fulfillment.services.lifecycle import fulfillment_order_ship
from fulfillment.shipping_statuses import CARRIER_REPORTED, ShipmentStatus, shipment_can_transition
from fulfillment.statuses import FulfillmentStatus
from fulfillment.statuses import can_transition as fulfillment_can_transition
from omnilog.core.errors import ApplicationError, Conflict, FieldError, NotFound, ValidationFailed
from omnilog.core.outbox import outbox_emit, outbox_notify
from omnilog.core.webhooks import WebhookVerificationError, verify
from orders.models import Order, OrderEvent
from orders.services.timeline import order_event_write, order_lock
from orders.services.transitions import order_transition
from orders.statuses import OrderStatus
from orders.statuses import can_transition as order_can_transition

SETTLED = frozenset({FulfillmentStatus.DELIVERED, FulfillmentStatus.COLLECTED})
WITHDRAWN = frozenset({FulfillmentStatus.CANCELLED, FulfillmentStatus.REJECTED})


@dataclass(frozen=True)
class CarrierEventReceipt:
    shipment_id: int
    status: str
    event_id: int
    is_duplicate: bool
    is_status_change: bool


@dataclass(frozen=True)
class _Payload:
    tracking_number: str
    status: ShipmentStatus
    occurred_at: datetime
    description: str
    place: str
    raw: dict[str, Any]


def _has_nul(document: Any) -> bool:
    """Whether any string (key or value) of a parsed JSON document holds U+0000."""
    pending = [document]
    while pending:  # a loop, not recursion: the document may nest as deep as json allows
        value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _parse(body: bytes) -> _Payload:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApplicationError("The body is not JSON.", code="malformed_json", status=400) from None
    if not isinstance(data, dict):
        raise ValidationFailed("A JSON object is expected.", code="invalid_payload")
    if _has_nul(data):
        # PostgreSQL text and jsonb cannot hold U+0000: refused here, not a database error.
        raise ValidationFailed(
            "The carrier event contains a NUL character (\\u0000).", code="invalid_payload"
        )
    errors: list[FieldError] = []
    number = data.get("tracking_number")
    if not isinstance(number, str) or not number.strip():
        errors.append(FieldError("tracking_number", "A tracking number is required.", "required"))
    status = data.get("status")
    allowed = sorted(str(s) for s in CARRIER_REPORTED)
    if status not in allowed:
        errors.append(FieldError("status", f"One of {', '.join(allowed)}.", "invalid_choice"))
    raw_moment = data.get("occurred_at")
    try:
        moment = parse_datetime(raw_moment) if isinstance(raw_moment, str) else None
    except ValueError:  # well formed but not a date, e.g. 2026-02-30
        moment = None
    if moment is None or moment.tzinfo is None:
        errors.append(
            FieldError("occurred_at", "An ISO 8601 date-time with a time zone.", "invalid")
        )
    for key in ("description", "location"):
        if key in data and not isinstance(data[key], str):
            errors.append(FieldError(key, "A string.", "invalid"))
    if errors:
        raise ValidationFailed(
            "The carrier event is not valid.", code="invalid_payload", field_errors=errors
        )
    assert isinstance(number, str)
    assert moment is not None
    return _Payload(
        tracking_number=number.strip().upper(),
        status=ShipmentStatus(str(status)),
        occurred_at=moment,
        description=str(data.get("description", ""))[:300],
        place=str(data.get("location", ""))[:120],
        raw=data,
    )


def shipment_announce(
    *,
    shipment: Shipment,
    event: ShipmentEvent,
    order: Order,
    actor: str,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """The order's timeline event and the outbox event ``shipment.<status>``.
    Precondition: inside the transaction that wrote ``event``."""
    payload = {
        "shipment_id": shipment.pk,
        "order_id": order.pk,
        "order_number": order.number,
        "fulfillment_order_id": shipment.fulfillment_order_id,
        "carrier": shipment.carrier.code,
        "service": shipment.service,
        "tracking_number": shipment.tracking_number,
        "status": event.status,
        "from_status": event.from_status,
        "occurred_at": event.occurred_at.isoformat(),
        "description": event.description,
        **dict(extra or {}),
    }
    order_event_write(
        order=order,
        kind=OrderEvent.Kind.SHIPMENT,
        actor=actor,
        source="carrier" if event.carrier_event_id else "fulfillment",
        message=f"Shipment {shipment.tracking_number}: {event.status.replace('_', ' ')}",
        details=payload,
    )
    outbox_emit(
        topic=f"shipment.{event.status}",
        aggregate_type="shipment",
        aggregate_id=shipment.pk,
        payload=payload,
    )


def _find_shipment(carrier: Carrier, tracking_number: str) -> tuple[int, int, int]:
    """(shipment, order, fulfillment order) ids by the master number, else by any parcel's."""
    rows = Shipment.objects.filter(carrier=carrier).values_list(
        "id", "fulfillment_order__order_id", "fulfillment_order_id"
    )
    row = (
        rows.filter(tracking_number=tracking_number).first()
        or rows.filter(parcels__contains=[{"tracking_number": tracking_number}]).first()
    )
    if row is None:
        raise NotFound(
            f"No shipment {tracking_number} with {carrier.code}.", code="shipment_not_found"
        )
    return row


def _duplicate(carrier: Carrier, event_id: str) -> CarrierEventReceipt | None:
    known = (
        ShipmentEvent.objects.filter(carrier=carrier, carrier_event_id=event_id)
        .values_list("id", "shipment_id", "status", "is_status_change")
        .first()
    )
    if known is None:
        return None
    return CarrierEventReceipt(
        shipment_id=known[1],
        status=known[2],
        event_id=known[0],
        is_duplicate=True,
        is_status_change=known[3],
    )


def _deliver(
    *, order: Order, fulfillment_order: FulfillmentOrder, shipment: Shipment, actor: str
) -> None:
    """Delivered: the fulfillment order (if it left: shipped -> delivered), then the order once
    every live fulfillment order is settled. Precondition: the caller holds both locks."""
    if fulfillment_can_transition(fulfillment_order.status, FulfillmentStatus.DELIVERED):
        previous = fulfillment_order.status
        fulfillment_order.status = FulfillmentStatus.DELIVERED
        fulfillment_order.save(update_fields=["status", "updated_at"])
        outbox_emit(
            topic="fulfillment_order.delivered",
            aggregate_type="fulfillment_order",
            aggregate_id=fulfillment_order.pk,
            payload={
                "fulfillment_order_id": fulfillment_order.pk,
                "order_id": order.pk,
                "from_status": previous,
                "status": fulfillment_order.status,
                "shipment_id": shipment.pk,
            },
        )
    statuses = set(
        FulfillmentOrder.objects.filter(order=order)
        .exclude(status__in=WITHDRAWN)
        .values_list("status", flat=True)
    )
    if (
        statuses
        and statuses <= SETTLED
        and order_can_transition(order.status, OrderStatus.DELIVERED)
    ):
        order_transition(
            order=order,
            to_status=OrderStatus.DELIVERED,
            actor=actor,
            source="carrier",
            message=f"Delivered ({shipment.tracking_number})",
            details={"shipment_id": shipment.pk, "tracking_number": shipment.tracking_number},
        )


def carrier_event_receive(
    *,
    carrier_code: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> CarrierEventReceipt:
    """Verify and apply one carrier status event (see the module docstring).

    Raises: ``NotFound`` (carrier, shipment), ``ApplicationError`` 401 ``invalid_signature``,
    400/422 for a bad payload, ``Conflict`` ``invalid_transition``; each writes nothing.
    """
    carrier = Carrier.objects.filter(code=carrier_code, is_active=True).first()
    if carrier is None:
        raise NotFound(f"No active carrier {carrier_code!r}.", code="carrier_not_found")
    try:
        verify(secret=carrier.webhook_secret, headers=headers, body=body, now=now)
    except WebhookVerificationError as error:
        raise ApplicationError(
            f"The webhook signature is not valid: {error}.", code="invalid_signature", status=401
        ) from error
    event_id = {key.lower(): value for key, value in headers.items()}["webhook-id"][:128]
    duplicate = _duplicate(carrier, event_id)
    if duplicate is not None:
        return duplicate
    payload = _parse(body)
    shipment_id, order_id, fulfillment_order_id = _find_shipment(carrier, payload.tracking_number)
    actor = f"carrier:{carrier.code}"
    try:
        with transaction.atomic():
            # The global order: the order row, the fulfillment order, then the shipment.
            order = order_lock(order_id=order_id)
            if FulfillmentOrder.objects.filter(
                pk=fulfillment_order_id, status=FulfillmentStatus.PACKED
            ).exists():
                # Read under the order's lock (every step of the fulfillment order takes it).
                # The parcel left without a ship step: commit its stock now, before the
                # fulfillment order and shipment locks (the ship locks the order's lines first).
                fulfillment_order_ship(
                    fulfillment_order_id=fulfillment_order_id,
                    actor=actor,
                    now=payload.occurred_at,
                )
            fulfillment_order = FulfillmentOrder.objects.select_for_update().get(
                pk=fulfillment_order_id
            )
            shipment = (
                Shipment.objects.select_for_update(of=("self",))
                .select_related("carrier")
                .get(pk=shipment_id)
            )
            # Under the shipment's lock a concurrent delivery of the same event has committed.
            duplicate = _duplicate(carrier, event_id)
            if duplicate is not None:
                return duplicate
            current, target = ShipmentStatus(shipment.status), payload.status
            is_move = current != target
            if is_move and not shipment_can_transition(current, target):
                raise Conflict(
                    f"Shipment {shipment.tracking_number} cannot go from {current} to {target}.",
                    code="invalid_transition",
                    details={"from_status": str(current), "to_status": str(target)},
                )
            fields = ["status", "updated_at"]
            shipment.status = target
            if target == ShipmentStatus.IN_TRANSIT and shipment.shipped_at is None:
                shipment.shipped_at = payload.occurred_at
                fields.append("shipped_at")
            if target == ShipmentStatus.DELIVERED:
                shipment.delivered_at = payload.occurred_at
                fields.append("delivered_at")
            shipment.save(update_fields=fields)
            event = ShipmentEvent.objects.create(
                shipment=shipment,
                carrier=carrier,
                status=target,
                from_status=current,
                is_status_change=is_move,
                occurred_at=payload.occurred_at,
                description=payload.description,
                place=payload.place,
                carrier_event_id=event_id,
                raw_payload=payload.raw,
            )
            shipment_announce(shipment=shipment, event=event, order=order, actor=actor)
            if is_move and target == ShipmentStatus.DELIVERED:
                _deliver(
                    order=order,
                    fulfillment_order=fulfillment_order,
                    shipment=shipment,
                    actor=actor,
                )
            outbox_notify()
    except IntegrityError:  # pragma: no cover - the shipment lock orders duplicates first
        found = _duplicate(carrier, event_id)
        if found is None:
            raise
        return found
    return CarrierEventReceipt(
        shipment_id=shipment.pk,
        status=str(target),
        event_id=event.pk,
        is_duplicate=False,
        is_status_change=is_move,
    )
