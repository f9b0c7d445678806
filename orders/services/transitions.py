"""Status changes: one declared table (``orders.statuses``), one event per change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from omnilog.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from orders.models import Order, OrderEvent
from orders.services.timeline import order_event_write, order_outbox_emit, order_version_bump
from orders.statuses import TRANSITIONS, OrderStatus, can_transition


def order_transition(
    *,
    order: Order,
    to_status: OrderStatus | str,
    actor: str,
    channel_id: int | None = None,
    source: str = "",
    message: str = "",
    details: Mapping[str, Any] | None = None,
    kind: str = OrderEvent.Kind.STATUS_CHANGED,
    fields: tuple[str, ...] = (),
) -> OrderEvent:
    """Move ``order`` to ``to_status`` if ``orders.statuses.TRANSITIONS`` allows it.

    Locks the order row (a no-op when the caller already holds it) and re-reads its status
    under the lock, so a stale instance cannot skip the table. Writes the ``OrderEvent``
    (``kind``, from/to status, who, when, ``details``), the outbox event ``order.<status>``,
    saves ``fields`` of ``order`` alongside, and bumps ``version``. Raises ``Conflict``
    ``invalid_transition`` (nothing written) when the table refuses.
    """
    try:
        target = OrderStatus(to_status)
    except ValueError:
        raise ValidationFailed(
            f"Unknown status {to_status!r}.",
            field_errors=[FieldError("to_status", "Unknown status.", "invalid_choice")],
        ) from None
    with transaction.atomic():
        row = (
            Order.objects.select_for_update(of=("self",))
            .filter(pk=order.pk)
            .values_list("status", "version")
            .first()
        )
        if row is None:
            raise NotFound(f"No order {order.pk}.", code="order_not_found")
        current, order.version = OrderStatus(row[0]), row[1]
        if not can_transition(current, target):
            raise Conflict(
                f"Order {order.number} cannot go from {current} to {target}.",
                code="invalid_transition",
                details={
                    "from_status": str(current),
                    "to_status": str(target),
                    "allowed": sorted(str(status) for status in TRANSITIONS[current]),
                },
            )
        order.status = target
        order_version_bump(order=order, fields=("status", *fields))
        event = order_event_write(
            order=order,
            kind=kind,
            actor=actor,
            channel_id=channel_id,
            source=source,
            message=message,
            from_status=current,
            to_status=target,
            details=details,
        )
        order_outbox_emit(
            order=order,
            topic=f"order.{target}",
            payload={"from_status": str(current), "event_id": event.pk, **dict(details or {})},
        )
    return event
