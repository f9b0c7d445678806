"""Shared by the return services: numbers, locks, the status move with its timeline and event.

Lock order (the global one, extended): the order row (``order_lock``), then the return request,
then the order's lines (by id), then stock levels by primary key (inventory's contract). Every
return service takes the order's lock first, so two requests for the same order (two returns
competing for the same units, a receipt and a cancel) run one after the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from omnilog.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from orders.models import Order, OrderEvent
from orders.services.timeline import order_event_write, order_lock, order_outbox_emit
from returns.models import (
    CLAIM_NUMBER_SEQUENCE,
    REFUND_NUMBER_SEQUENCE,
    RMA_NUMBER_SEQUENCE,
    ReturnRequest,
)
from returns.statuses import TRANSITIONS, ReturnStatus, can_transition


@dataclass(frozen=True)
class Actor:
    """Who acts: a name for the timeline, the channel when a channel's key called (scope)."""

    name: str
    channel_id: int | None = None
    source: str = "api"


def _next(sequence: str, prefix: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [sequence])
        (value,) = cursor.fetchone()
    return f"{prefix}-{value:06d}"


def rma_number_next() -> str:
    """``RMA-000123`` (sequence from migration returns/0001)."""
    return _next(RMA_NUMBER_SEQUENCE, "RMA")


def claim_number_next() -> str:
    return _next(CLAIM_NUMBER_SEQUENCE, "CLM")


def refund_reference_next() -> str:
    return _next(REFUND_NUMBER_SEQUENCE, "RF")


def return_lock(*, return_id: int, channel_id: int | None = None) -> tuple[Order, ReturnRequest]:
    """Lock the return's order, then the return; return both fresh.

    With ``channel_id`` the return must belong to an order of that channel; otherwise it is
    "not found" (a channel learns nothing about another's returns). Precondition: inside
    ``transaction.atomic``, holding no stock-level lock.
    """
    order_id = ReturnRequest.objects.filter(pk=return_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound(f"No return {return_id}.", code="return_not_found")
    try:
        order = order_lock(order_id=order_id, channel_id=channel_id)
    except NotFound:
        raise NotFound(f"No return {return_id}.", code="return_not_found") from None
    rma = (
        ReturnRequest.objects.select_for_update(of=("self",))
        .select_related("location", "received_location")
        .get(pk=return_id)
    )
    return order, rma


def return_event(
    *,
    order: Order,
    rma: ReturnRequest,
    verb: str,
    actor: Actor,
    message: str = "",
    details: Mapping[str, Any] | None = None,
) -> None:
    """The order's timeline entry and the ``return.<verb>`` outbox event about ``rma``."""
    payload = {
        "return_id": rma.pk,
        "return_number": rma.number,
        "return_status": rma.status,
        "mode": rma.mode,
        **dict(details or {}),
    }
    order_event_write(
        order=order,
        kind=OrderEvent.Kind.RETURN,
        actor=actor.name,
        channel_id=actor.channel_id,
        source=actor.source,
        message=message or f"Return {rma.number} {verb.replace('_', ' ')}",
        details=payload,
    )
    order_outbox_emit(order=order, topic=f"return.{verb}", payload=payload)


def return_move(
    *,
    order: Order,
    rma: ReturnRequest,
    to_status: ReturnStatus,
    actor: Actor,
    fields: tuple[str, ...] = (),
    message: str = "",
    details: Mapping[str, Any] | None = None,
) -> None:
    """Move a locked return along ``returns.statuses.TRANSITIONS``; save ``fields`` with it,
    bump its version, write the timeline and ``return.<status>``. Raises ``Conflict``
    ``invalid_transition`` (nothing written) when the table refuses."""
    current = ReturnStatus(rma.status)
    if not can_transition(current, to_status):
        raise Conflict(
            f"Return {rma.number} cannot go from {current} to {to_status}.",
            code="invalid_transition",
            details={
                "from_status": str(current),
                "to_status": str(to_status),
                "allowed": sorted(str(status) for status in TRANSITIONS[current]),
            },
        )
    rma.status = to_status
    stamp = {
        ReturnStatus.APPROVED: "approved_at",
        ReturnStatus.RECEIVED: "received_at",
        ReturnStatus.INSPECTED: "inspected_at",
        ReturnStatus.DISPOSITIONED: "dispositioned_at",
        ReturnStatus.CLOSED: "closed_at",
    }.get(to_status)
    if stamp:
        setattr(rma, stamp, timezone.now())
    names = {"status", *fields, *((stamp,) if stamp else ())}
    ReturnRequest.objects.filter(pk=rma.pk).update(
        version=F("version") + 1,
        updated_at=timezone.now(),
        **{name: getattr(rma, name) for name in sorted(names)},
    )
    rma.version += 1
    return_event(
        order=order,
        rma=rma,
        verb=str(to_status),
        actor=actor,
        message=message,
        details={"from_status": str(current), **dict(details or {})},
    )


def field_errors_raise(message: str, errors: list[FieldError], *, code: str = "") -> None:
    """Raise ``ValidationFailed`` listing ``errors`` when there are any."""
    if errors:
        raise ValidationFailed(message, field_errors=errors, code=code or None)
