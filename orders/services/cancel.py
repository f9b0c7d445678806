"""Cancelling an order, fully or line by line; the units go back to stock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from inventory.services.preorders import preorders_release_reference
from omnilog.core.errors import Conflict, FieldError, ValidationFailed
from orders.hooks import order_lines_cancelled_hooks
from orders.models import Order, OrderEvent, OrderLine
from orders.services.line_stock import (
    ORDER_LINE,
    line_reservations_active,
    release_plan,
    releases_apply,
)
from orders.services.timeline import (
    order_event_write,
    order_lines_lock,
    order_lock,
    order_outbox_emit,
    order_version_bump,
)
from orders.services.transitions import order_transition
from orders.statuses import CANCELLABLE, OrderStatus


def order_cancel(
    *,
    order_id: int,
    lines: Sequence[tuple[int, int]] | None = None,
    reason: str,
    actor: str,
    channel_id: int | None = None,
    source: str = "",
) -> Order:
    """Cancel the whole order (``lines=None``: every open unit) or ``(line_id, quantity)`` pairs.

    Each cancelled unit raises the line's ``quantity_cancelled``; the line's reservations give
    back the units no longer needed (reserved beyond what stays open), youngest reservation
    first. Fulfilled units cannot be cancelled (``exceeds_open``). When nothing stays open and
    nothing was fulfilled, the order becomes ``cancelled`` (outbox ``order.cancelled``);
    otherwise the status stays and the outbox says ``order.lines_cancelled``.
    """
    with transaction.atomic():
        order = order_lock(order_id=order_id, channel_id=channel_id)
        cancel_locked(
            order=order,
            lines=lines,
            reason=reason,
            actor=actor,
            channel_id=channel_id,
            source=source,
        )
    return order


def cancel_locked(
    *,
    order: Order,
    lines: Sequence[tuple[int, int]] | None,
    reason: str,
    actor: str,
    channel_id: int | None,
    source: str,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Precondition: the caller holds ``order``'s row lock inside a transaction."""
    if OrderStatus(order.status) not in CANCELLABLE:
        raise Conflict(
            f"Order {order.number} is {order.status} and can no longer be cancelled.",
            code="invalid_transition",
            details={"from_status": order.status, "to_status": str(OrderStatus.CANCELLED)},
        )
    order_lines = order_lines_lock(order=order)
    wanted = _cancel_quantities(order, order_lines, lines)
    reservations = line_reservations_active(wanted, lock=True)
    plan = []
    cancelled = []
    for line in order_lines:
        quantity = wanted.get(line.id, 0)
        if not quantity:
            continue
        line.quantity_cancelled += quantity
        line.quantity_allocated = min(
            line.quantity_allocated, line.quantity - line.quantity_cancelled
        )
        held = reservations.get(line.id, [])
        excess = sum(r.quantity for r in held) - line.quantity_open
        plan.extend(release_plan(held, excess))
        cancelled.append({"line_number": line.line_number, "sku": line.sku, "quantity": quantity})
    released = releases_apply(plan, reason=f"order {order.number} cancelled", actor=actor)
    # Preordered lines cancelled in full give their incoming supplier units back.
    preorders_release_reference(
        reference_type=ORDER_LINE,
        reference_ids=[
            str(line.id) for line in order_lines if wanted.get(line.id) and not line.quantity_open
        ],
    )
    OrderLine.objects.bulk_update(
        [line for line in order_lines if line.id in wanted],
        ["quantity_cancelled", "quantity_allocated"],
    )
    # Higher layers (fulfillment) withdraw what they hold for these lines, in this transaction.
    order_lines_cancelled_hooks(
        order_id=order.pk, order_line_ids=tuple(sorted(wanted)), reason=reason, actor=actor
    )
    event_details = {
        "reason": reason,
        "lines": cancelled,
        "released_units": released,
        **dict(details or {}),
    }
    is_open = any(line.quantity_open for line in order_lines)
    is_fulfilled = any(line.quantity_fulfilled for line in order_lines)
    if not is_open and not is_fulfilled:
        order_transition(
            order=order,
            to_status=OrderStatus.CANCELLED,
            actor=actor,
            channel_id=channel_id,
            source=source,
            message=reason,
            details=event_details,
            kind=OrderEvent.Kind.CANCELLED,
        )
        return
    order_version_bump(order=order)
    event = order_event_write(
        order=order,
        kind=OrderEvent.Kind.CANCELLED,
        actor=actor,
        channel_id=channel_id,
        source=source,
        message=reason,
        details=event_details,
    )
    order_outbox_emit(
        order=order,
        topic="order.lines_cancelled",
        payload={"event_id": event.pk, **event_details},
    )
    if not is_open and order.status == OrderStatus.PARTIALLY_SHIPPED:
        # What was left to ship is cancelled: everything that remains has shipped.
        order_transition(
            order=order,
            to_status=OrderStatus.SHIPPED,
            actor=actor,
            channel_id=channel_id,
            source=source,
            message="The rest of the order was cancelled",
        )


def _cancel_quantities(
    order: Order, order_lines: list[OrderLine], lines: Sequence[tuple[int, int]] | None
) -> dict[int, int]:
    """Validated ``{line id: units to cancel}``; raises before anything is written."""
    if lines is None:
        wanted = {line.id: line.quantity_open for line in order_lines if line.quantity_open}
        if not wanted:
            raise Conflict(
                f"Order {order.number} has nothing left to cancel.", code="nothing_to_cancel"
            )
        return wanted
    by_id = {line.id: line for line in order_lines}
    errors = []
    wanted = {}
    if not lines:
        errors.append(
            FieldError("lines", "Give at least one line, or none to cancel all.", "empty")
        )
    for index, (line_id, quantity) in enumerate(lines):
        line = by_id.get(line_id)
        if line is None:
            errors.append(
                FieldError(f"lines.{index}.line_id", "Not a line of this order.", "not_found")
            )
        elif line_id in wanted:
            errors.append(FieldError(f"lines.{index}.line_id", "Line given twice.", "duplicate"))
        elif quantity < 1:
            errors.append(
                FieldError(f"lines.{index}.quantity", "Must be a positive number.", "min_value")
            )
        elif quantity > line.quantity_open:
            errors.append(
                FieldError(
                    f"lines.{index}.quantity",
                    f"Only {line.quantity_open} unit(s) open: {line.quantity_fulfilled} "
                    f"fulfilled and {line.quantity_cancelled} cancelled cannot be cancelled.",
                    "exceeds_open",
                )
            )
        else:
            wanted[line_id] = quantity
    if errors:
        raise ValidationFailed("Some lines cannot be cancelled.", field_errors=errors)
    return wanted
