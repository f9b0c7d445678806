"""Payment status from the channel, and orders whose payment never came."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast
from django.utils import timezone

from inventory.models import Reservation
from inventory.services import stock_hold_confirm, stock_hold_extend
from omnilog.core.errors import ApplicationError, Conflict, FieldError, ValidationFailed
from orders.models import Order, OrderEvent, OrderLine, PaymentStatus
from orders.services.cancel import cancel_locked
from orders.services.line_stock import ORDER_LINE, line_reservations_active
from orders.services.timeline import (
    order_event_write,
    order_lock,
    order_outbox_emit,
    order_version_bump,
)
from orders.services.transitions import order_transition
from orders.statuses import CANCELLABLE, TRANSITIONS, OrderStatus

logger = logging.getLogger(__name__)

PAYMENT_FAILED_HOLD_REASON = "Payment failed"
UNPAID_CANCEL_REASON = "Payment not received before the reservation expired"

P = PaymentStatus
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    P.PENDING: frozenset({P.AUTHORISED, P.CAPTURED, P.FAILED}),
    P.AUTHORISED: frozenset({P.CAPTURED, P.FAILED, P.REFUNDED}),
    P.CAPTURED: frozenset({P.REFUNDED}),
    # A failed payment may be retried by the customer.
    P.FAILED: frozenset({P.PENDING, P.AUTHORISED, P.CAPTURED}),
    P.REFUNDED: frozenset(),
}
PAID = frozenset({P.AUTHORISED, P.CAPTURED})


def _pending_hold_extension() -> timedelta:
    """How long a hold lives after the channel reports the payment still pending."""
    return timedelta(seconds=int(getattr(settings, "RESERVATION_PAYMENT_TTL", 1800)))


def order_payment_update(
    *,
    order_id: int,
    payment_status: str,
    actor: str,
    channel_id: int | None = None,
    source: str = "",
) -> Order:
    """Record the payment status the channel reports.

    - Authorised or captured after pending (or failed): the order's holds become order
      reservations without expiry (``stock_hold_confirm``); an order held because its payment
      failed is released.
    - Pending again while pending: its holds live on (expiry pushed to now + the pending
      extension); that is how a pending payment keeps the reservation alive.
    - Failed: the order is put on hold (``Payment failed``); its holds keep their expiry, and
      ``orders_expire_unpaid`` cancels the order if no payment arrives before they expire.
    Reporting the current status again is a no-op (retries are safe).
    """
    if payment_status not in PaymentStatus.values:
        raise ValidationFailed(
            f"Unknown payment status {payment_status!r}.",
            field_errors=[
                FieldError("payment_status", "Unknown payment status.", "invalid_choice")
            ],
        )
    with transaction.atomic():
        order = order_lock(order_id=order_id, channel_id=channel_id)
        previous = order.payment_status
        if previous == payment_status:
            if payment_status == PaymentStatus.PENDING:
                _holds_extend(order=order, actor=actor, channel_id=channel_id, source=source)
            return order
        if payment_status not in PAYMENT_TRANSITIONS[previous]:
            raise Conflict(
                f"The payment of order {order.number} cannot go from {previous} to "
                f"{payment_status}.",
                code="invalid_payment_transition",
                details={"from_payment_status": previous, "to_payment_status": payment_status},
            )
        order.payment_status = payment_status
        details: dict[str, Any] = {"from": previous, "to": payment_status}
        if payment_status in PAID:
            holds = [
                reservation.id
                for held in line_reservations_active(
                    order.lines.values_list("id", flat=True)
                ).values()
                for reservation in held
                if reservation.kind == Reservation.Kind.HOLD
            ]
            details["confirmed_reservations"] = len(stock_hold_confirm(reservation_ids=holds))
        order_version_bump(order=order, fields=("payment_status",))
        event = order_event_write(
            order=order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            channel_id=channel_id,
            source=source,
            message=f"Payment {payment_status}",
            details=details,
        )
        order_outbox_emit(
            order=order,
            topic="order.payment_updated",
            payload={
                "payment_status": payment_status,
                "previous_payment_status": previous,
                "event_id": event.pk,
            },
        )
        status = OrderStatus(order.status)
        if payment_status == PaymentStatus.FAILED and OrderStatus.ON_HOLD in TRANSITIONS[status]:
            order.hold_reason = PAYMENT_FAILED_HOLD_REASON
            order_transition(
                order=order,
                to_status=OrderStatus.ON_HOLD,
                actor=actor,
                channel_id=channel_id,
                source=source,
                message=PAYMENT_FAILED_HOLD_REASON,
                details={"reason": PAYMENT_FAILED_HOLD_REASON},
                kind=OrderEvent.Kind.HELD,
                fields=("hold_reason",),
            )
        elif (
            payment_status in PAID
            and status == OrderStatus.ON_HOLD
            and order.hold_reason == PAYMENT_FAILED_HOLD_REASON
        ):
            order.hold_reason = ""
            order_transition(
                order=order,
                to_status=OrderStatus.PLACED,
                actor=actor,
                channel_id=channel_id,
                source=source,
                message="Payment received",
                details={"hold_reason": PAYMENT_FAILED_HOLD_REASON},
                kind=OrderEvent.Kind.RELEASED,
                fields=("hold_reason",),
            )
    return order


def _holds_extend(*, order: Order, actor: str, channel_id: int | None, source: str) -> None:
    """Push the expiry of the order's active holds to now + the pending extension."""
    until = timezone.now() + _pending_hold_extension()
    extended = []
    for held in line_reservations_active(order.lines.values_list("id", flat=True)).values():
        for reservation in held:
            if reservation.kind != Reservation.Kind.HOLD:
                continue
            if reservation.expires_at is not None and reservation.expires_at >= until:
                continue
            stock_hold_extend(reservation_id=reservation.id, expires_at=until)
            extended.append(reservation.id)
    if not extended:
        return
    order_event_write(
        order=order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        channel_id=channel_id,
        source=source,
        message="Payment still pending: reservation extended",
        details={"extended_reservations": len(extended), "expires_at": until.isoformat()},
    )


def _line_references() -> Any:
    """The order's line ids as reservation references (nested in an ``Exists``)."""
    return (
        OrderLine.objects.filter(order_id=OuterRef(OuterRef("pk")))
        .annotate(reference=Cast("id", CharField()))
        .values("reference")
    )


def _reservations_of_order(status: str) -> Exists:
    return Exists(
        Reservation.objects.filter(
            reference_type=ORDER_LINE, status=status, reference_id__in=_line_references()
        )
    )


def orders_expire_unpaid(*, limit: int = 200) -> int:
    """Cancel orders whose payment is still pending and whose reservations have all expired.

    The inventory beat job expires holds (``reservation.expired``); this one (beat, every
    minute) then cancels the order with an ``OrderEvent`` saying why. Each order is re-checked
    under its lock, so a payment arriving meanwhile wins. Returns the number cancelled.
    """
    candidates = list(
        Order.objects.filter(
            payment_status=PaymentStatus.PENDING,
            status__in=[
                OrderStatus.PLACED,
                OrderStatus.ON_HOLD,
                OrderStatus.BACKORDERED,
            ],
        )
        .filter(_reservations_of_order(Reservation.Status.EXPIRED))
        .exclude(_reservations_of_order(Reservation.Status.ACTIVE))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    cancelled = 0
    for order_id in candidates:
        try:
            cancelled += _expire_unpaid_one(order_id)
        except ApplicationError:  # one odd order must not stop the sweep; seen again next run
            logger.exception("could not cancel unpaid order %s", order_id)
    return cancelled


def _expire_unpaid_one(order_id: int) -> int:
    """Cancel one order if, under its lock, it is still unpaid with only expired holds."""
    with transaction.atomic():
        order = order_lock(order_id=order_id)
        still_unpaid = (
            Order.objects.filter(pk=order_id, payment_status=PaymentStatus.PENDING)
            .filter(_reservations_of_order(Reservation.Status.EXPIRED))
            .exclude(_reservations_of_order(Reservation.Status.ACTIVE))
            .exists()
        )
        if not still_unpaid or OrderStatus(order.status) not in CANCELLABLE:
            return 0
        cancel_locked(
            order=order,
            lines=None,
            reason=UNPAID_CANCEL_REASON,
            actor="system",
            channel_id=None,
            source="beat",
            details={"cause": "payment_expired"},
        )
    return 1
