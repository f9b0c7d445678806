"""Transfer orders between locations: replenishment and click-and-collect ship-to-store.

The ledger shows each leg (``inventory.services``): shipping writes ``transfer_out`` at the
origin (on hand drops) and at the destination (in transit rises); receipt writes
``transfer_in`` at the destination (in transit drops by what was shipped, on hand rises by what
came, a discrepancy in the movement's reason) and the line keeps the received quantity and a
note. A click-and-collect transfer names its order; shipping a line that carries the order's
reservation at the origin commits it (the units leave promised, not free).

Lock order, as everywhere: the order row (click-and-collect), the transfer, reservations by
id, stock levels by primary key (all taken up front through ``stock_levels_lock``, so the
per-line inventory calls find them held and never wait out of order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fulfillment.models import TransferLine, TransferOrder
from fulfillment.shipping_statuses import TransferStatus, transfer_can_transition
from inventory.models import Location, Product, Reservation
from inventory.services import stock_transfer_receive, stock_transfer_ship
from inventory.services.ledger import stock_level_ids, stock_levels_lock
from omnilog.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnilog.core.outbox import outbox_emit, outbox_notify
from orders.models import Order, OrderEvent
from orders.services.timeline import order_event_write, order_lock

DEFAULT_TRANSIT = timedelta(days=2)


@dataclass(frozen=True)
class TransferLineInput:
    product_id: int
    quantity: int
    reservation_id: int | None = None


@dataclass(frozen=True)
class ReceivedLine:
    line_id: int
    quantity_received: int
    note: str = ""


def _transit() -> timedelta:
    return (
        timedelta(hours=float(getattr(settings, "TRANSFER_DEFAULT_TRANSIT_HOURS", 0)))
        or DEFAULT_TRANSIT
    )


def _payload(transfer: TransferOrder, **extra: Any) -> dict[str, Any]:
    return {
        "transfer_id": transfer.pk,
        "reference": transfer.reference,
        "from_location": transfer.from_location.code,
        "to_location": transfer.to_location.code,
        "reason": transfer.reason,
        "status": transfer.status,
        "order_id": transfer.order_id,
        "expected_arrival": transfer.expected_arrival.isoformat()
        if transfer.expected_arrival
        else None,
        **extra,
    }


def _announce(transfer: TransferOrder, verb: str, actor: str, **extra: Any) -> None:
    payload = _payload(transfer, **extra)
    outbox_emit(
        topic=f"transfer.{verb}",
        aggregate_type="transfer",
        aggregate_id=transfer.pk,
        payload=payload,
    )
    if transfer.order is not None:
        order_event_write(
            order=transfer.order,
            kind=OrderEvent.Kind.SHIPMENT,
            actor=actor,
            source="fulfillment",
            message=f"Transfer {transfer.reference} {verb}: {transfer.from_location.code} -> "
            f"{transfer.to_location.code}",
            details=payload,
        )
    outbox_notify()


def _move(transfer: TransferOrder, target: TransferStatus) -> None:
    if not transfer_can_transition(transfer.status, target):
        raise Conflict(
            f"Transfer {transfer.reference} cannot go from {transfer.status} to {target}.",
            code="invalid_transition",
            details={"from_status": transfer.status, "to_status": str(target)},
        )
    transfer.status = target


def transfer_create(
    *,
    from_location_id: int,
    to_location_id: int,
    reason: str,
    lines: Sequence[TransferLineInput],
    actor: str,
    expected_arrival: datetime | None = None,
    order_id: int | None = None,
    note: str = "",
) -> TransferOrder:
    """A draft transfer (nothing moves yet). A click-and-collect transfer needs its order,
    which must be collected at the destination. Raises ``ValidationFailed`` listing every bad
    field (nothing written)."""
    errors: list[FieldError] = []
    if reason not in TransferOrder.Reason.values:
        errors.append(FieldError("reason", "click_and_collect or replenishment.", "invalid_choice"))
    if from_location_id == to_location_id:
        errors.append(FieldError("to_location", "Same as the origin.", "same_location"))
    locations = {
        location.pk: location
        for location in Location.objects.filter(
            pk__in=[from_location_id, to_location_id], is_active=True
        )
    }
    for field, location_id in (
        ("from_location", from_location_id),
        ("to_location", to_location_id),
    ):
        if location_id not in locations:
            errors.append(FieldError(field, "No active location.", "not_found"))
    if not lines:
        errors.append(FieldError("lines", "At least one line.", "required"))
    known = set(
        Product.objects.filter(pk__in=[line.product_id for line in lines]).values_list(
            "pk", flat=True
        )
    )
    seen: set[tuple[int, int | None]] = set()
    for index, line in enumerate(lines):
        if line.product_id not in known:
            errors.append(FieldError(f"lines.{index}.product", "Unknown product.", "not_found"))
        if line.quantity <= 0:
            errors.append(FieldError(f"lines.{index}.quantity", "Must be positive.", "min_value"))
        key = (line.product_id, line.reservation_id)
        if key in seen:
            errors.append(FieldError(f"lines.{index}.product", "Listed twice.", "duplicate"))
        seen.add(key)
    reservations = {
        row.pk: row
        for row in Reservation.objects.filter(
            pk__in=[line.reservation_id for line in lines if line.reservation_id]
        )
    }
    for index, line in enumerate(lines):
        found = reservations.get(line.reservation_id or 0)
        if line.reservation_id and (
            found is None
            or (found.product_id, found.location_id) != (line.product_id, from_location_id)
        ):
            errors.append(
                FieldError(
                    f"lines.{index}.reservation",
                    "Not a reservation of this product at the origin.",
                    "mismatch",
                )
            )
    order = Order.objects.filter(pk=order_id).first() if order_id else None
    if order_id and order is None:
        errors.append(FieldError("order", "No such order.", "not_found"))
    if reason == TransferOrder.Reason.CLICK_AND_COLLECT and order_id is None:
        errors.append(
            FieldError("order", "A click-and-collect transfer names its order.", "required")
        )
    if order is not None and order.pickup_location_id not in (None, to_location_id):
        errors.append(
            FieldError("to_location", "The order is collected at another store.", "mismatch")
        )
    if errors:
        raise ValidationFailed("The transfer is not valid.", field_errors=errors)
    with transaction.atomic():
        if order is not None:
            order = order_lock(order_id=order.pk)
        transfer = TransferOrder.objects.create(
            from_location=locations[from_location_id],
            to_location=locations[to_location_id],
            reason=reason,
            expected_arrival=expected_arrival,
            order=order,
            note=note[:200],
            created_by=actor[:150],
        )
        TransferLine.objects.bulk_create(
            TransferLine(
                transfer=transfer,
                product_id=line.product_id,
                quantity=line.quantity,
                reservation_id=line.reservation_id,
            )
            for line in lines
        )
        _announce(transfer, "created", actor, lines=_lines_payload(transfer))
    return transfer


def _lines_payload(transfer: TransferOrder) -> list[dict[str, Any]]:
    return [
        {
            "line_id": line.pk,
            "sku": line.product.sku,
            "quantity": line.quantity,
            "quantity_received": line.quantity_received,
            "discrepancy": line.discrepancy,
            "note": line.discrepancy_note,
        }
        for line in transfer.lines.select_related("product").order_by("id")
    ]


def _lock(transfer_id: int) -> TransferOrder:
    """Lock the order row (if any) then the transfer. Precondition: inside a transaction."""
    order_id = TransferOrder.objects.filter(pk=transfer_id).values_list("order_id", flat=True)
    if not order_id.exists():
        raise NotFound(f"No transfer {transfer_id}.", code="transfer_not_found")
    linked = order_id.first()
    if linked is not None:
        order_lock(order_id=linked)
    return (
        TransferOrder.objects.select_for_update(of=("self",))
        .select_related("from_location", "to_location", "order")
        .get(pk=transfer_id)
    )


def transfer_ship(
    *, transfer_id: int, actor: str, expected_arrival: datetime | None = None
) -> TransferOrder:
    """Every line leaves the origin: on hand drops there, in transit rises at the destination
    (``stock_transfer_ship``; a line with a reservation commits it). All lines or none: a
    short line raises ``InsufficientStock`` and nothing moves. Sets the expected arrival
    (given, kept, or now + the default transit time)."""
    moment = timezone.now()
    with transaction.atomic():
        transfer = _lock(transfer_id)
        _move(transfer, TransferStatus.SHIPPED)
        lines = list(transfer.lines.order_by("id"))
        reservation_ids = sorted(line.reservation_id for line in lines if line.reservation_id)
        if reservation_ids:
            list(
                Reservation.objects.select_for_update()
                .filter(pk__in=reservation_ids)
                .order_by("pk")
            )
        pairs = [
            (line.product_id, location_id)
            for line in lines
            for location_id in (transfer.from_location_id, transfer.to_location_id)
        ]
        stock_levels_lock(stock_level_ids(pairs, create=True).values())
        for line in lines:
            stock_transfer_ship(
                product_id=line.product_id,
                from_location_id=transfer.from_location_id,
                to_location_id=transfer.to_location_id,
                quantity=line.quantity,
                transfer_reference=transfer.reference,
                actor=actor,
                reservation_id=line.reservation_id,
            )
        transfer.shipped_at = moment
        transfer.expected_arrival = (
            expected_arrival or transfer.expected_arrival or (moment + _transit())
        )
        transfer.save(update_fields=["status", "shipped_at", "expected_arrival", "updated_at"])
        _announce(transfer, "shipped", actor, lines=_lines_payload(transfer))
    return transfer


def transfer_receive(
    *, transfer_id: int, lines: Sequence[ReceivedLine], actor: str
) -> TransferOrder:
    """The destination counts what came, every line once: in transit drops by what was
    shipped, on hand rises by what came (``stock_transfer_receive``); a gap is written on the
    line (``discrepancy_note``) and in the ledger's reason. Raises ``ValidationFailed`` listing
    every bad line (nothing written)."""
    moment = timezone.now()
    with transaction.atomic():
        transfer = _lock(transfer_id)
        _move(transfer, TransferStatus.RECEIVED)
        stored = {line.pk: line for line in transfer.lines.select_related("product").order_by("id")}
        errors: list[FieldError] = []
        given: dict[int, ReceivedLine] = {}
        for index, received in enumerate(lines):
            if received.line_id not in stored:
                errors.append(
                    FieldError(
                        f"lines.{index}.line_id", "Not a line of this transfer.", "not_found"
                    )
                )
            elif received.line_id in given:
                errors.append(FieldError(f"lines.{index}.line_id", "Listed twice.", "duplicate"))
            if received.quantity_received < 0:
                errors.append(
                    FieldError(f"lines.{index}.quantity_received", "Zero or more.", "min_value")
                )
            given[received.line_id] = received
        missing = sorted(set(stored) - set(given))
        if missing:
            errors.append(FieldError("lines", f"Lines {missing} are not counted.", "required"))
        if errors:
            raise ValidationFailed("The receipt is not valid.", field_errors=errors)
        level_ids = stock_level_ids(
            [(line.product_id, transfer.to_location_id) for line in stored.values()], create=True
        )
        stock_levels_lock(level_ids.values())
        discrepancies: list[dict[str, Any]] = []
        for line_id, line in stored.items():
            received = given[line_id]
            stock_transfer_receive(
                product_id=line.product_id,
                location_id=transfer.to_location_id,
                quantity_expected=line.quantity,
                quantity_received=received.quantity_received,
                transfer_reference=transfer.reference,
                actor=actor,
            )
            line.quantity_received = received.quantity_received
            gap = line.discrepancy
            if gap:
                text = f"{gap:+d} against {line.quantity} shipped"
                line.discrepancy_note = f"{text}: {received.note}"[:200] if received.note else text
                discrepancies.append(
                    {
                        "sku": line.product.sku,
                        "shipped": line.quantity,
                        "received": received.quantity_received,
                    }
                )
            elif received.note:
                line.discrepancy_note = received.note[:200]
            line.save(update_fields=["quantity_received", "discrepancy_note"])
        transfer.received_at = moment
        transfer.save(update_fields=["status", "received_at", "updated_at"])
        _announce(transfer, "received", actor, discrepancies=discrepancies)
    return transfer


def transfer_cancel(*, transfer_id: int, actor: str) -> TransferOrder:
    """Withdraw a draft (nothing has moved)."""
    with transaction.atomic():
        transfer = _lock(transfer_id)
        _move(transfer, TransferStatus.CANCELLED)
        transfer.save(update_fields=["status", "updated_at"])
        _announce(transfer, "cancelled", actor)
    return transfer
