"""An order's life after capture: status transitions, hold, release, cancel, edit, payment.

Every service here owns its transaction, locks the order row first (then its lines, their
reservations, stock levels: see ``orders.services.timeline.order_lock``), checks the declared
transition table (``orders.statuses``), writes one ``OrderEvent`` per change and an outbox
event, and bumps ``Order.version`` so that routing notices. A raised ``ApplicationError`` means
nothing was written. Stock moves only through ``inventory.services``.

``actor`` says who (a user name, ``api:<channel code>``, ``system``), ``channel_id`` through
which channel (also scoping: a channel may only act on its own orders), ``source`` which door or
system (``api``, ``admin``, ``beat``).
"""

from __future__ import annotations

from django.db import transaction

from omnilog.core.errors import Conflict, FieldError, ValidationFailed
from orders.models import Order, OrderEvent
from orders.services.cancel import order_cancel
from orders.services.edit import LineAddition, LineQuantityChange, OrderEdit, order_edit
from orders.services.payment import (
    PAYMENT_FAILED_HOLD_REASON,
    PAYMENT_TRANSITIONS,
    order_payment_update,
    orders_expire_unpaid,
)
from orders.services.timeline import order_lock
from orders.services.transitions import order_transition
from orders.statuses import OrderStatus

__all__ = [
    "PAYMENT_FAILED_HOLD_REASON",
    "PAYMENT_TRANSITIONS",
    "LineAddition",
    "LineQuantityChange",
    "OrderEdit",
    "order_cancel",
    "order_edit",
    "order_hold",
    "order_payment_update",
    "order_release",
    "order_transition",
    "orders_expire_unpaid",
]


def order_hold(
    *,
    order_id: int,
    reason: str,
    actor: str,
    channel_id: int | None = None,
    source: str = "",
) -> Order:
    """Put an order on hold (fraud check, payment, customer request). Stock stays reserved."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(
            "A hold needs a reason.",
            field_errors=[FieldError("reason", "This field is required.", "required")],
        )
    with transaction.atomic():
        order = order_lock(order_id=order_id, channel_id=channel_id)
        previous_reason = order.hold_reason
        order.hold_reason = reason[:200]
        try:
            order_transition(
                order=order,
                to_status=OrderStatus.ON_HOLD,
                actor=actor,
                channel_id=channel_id,
                source=source,
                message=reason,
                details={"reason": reason},
                kind=OrderEvent.Kind.HELD,
                fields=("hold_reason",),
            )
        except Conflict:
            order.hold_reason = previous_reason
            raise
    return order


def order_release(
    *, order_id: int, actor: str, channel_id: int | None = None, source: str = ""
) -> Order:
    """Release a hold: the order goes back to ``placed`` (and to routing)."""
    with transaction.atomic():
        order = order_lock(order_id=order_id, channel_id=channel_id)
        reason = order.hold_reason
        order.hold_reason = ""
        order_transition(
            order=order,
            to_status=OrderStatus.PLACED,
            actor=actor,
            channel_id=channel_id,
            source=source,
            message="Hold released",
            details={"hold_reason": reason},
            kind=OrderEvent.Kind.RELEASED,
            fields=("hold_reason",),
        )
    return order
