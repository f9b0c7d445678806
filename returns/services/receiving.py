"""Receiving a return at any location (store desk, warehouse): units on hand, on QC hold.

Receiving is its own step: nothing is refunded here. Received units go on quality-control
hold at the receiving location (``inventory.services.returns_intake``), so nothing uninspected
is promised; inspection and disposition decide where they go (``returns.services.inspection``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from inventory.models import Location
from inventory.services.returns_intake import ReturnedUnits, stock_return_receive
from omnilog.core.errors import Conflict, FieldError
from orders.models import Order, OrderLine
from returns.models import ReturnLine, ReturnRequest
from returns.services.common import (
    Actor,
    field_errors_raise,
    return_event,
    return_lock,
    return_move,
)
from returns.services.requests import lines_payload
from returns.statuses import RECEIVABLE, TRANSITIONS, ReturnStatus


@dataclass(frozen=True)
class ReceivedInput:
    return_line_id: int
    quantity: int


def _location(location_id: int) -> Location:
    location = Location.objects.filter(pk=location_id, is_active=True).first()
    if location is None:
        field_errors_raise(
            "Unknown location.", [FieldError("location", "No active location.", "not_found")]
        )
    assert location is not None
    return location


def _received_quantities(
    rma: ReturnRequest, lines: Sequence[ReceivedInput] | None
) -> list[tuple[ReturnLine, int]]:
    """(line, units) to receive now; every bad input line is a field error."""
    stored = {line.pk: line for line in rma.lines.order_by("id")}
    if lines is None:
        pairs = [
            (line, line.quantity_approved - line.quantity_received)
            for line in stored.values()
            if line.quantity_approved > line.quantity_received
        ]
        if not pairs:
            field_errors_raise(
                "Nothing left to receive.",
                [FieldError("lines", "Every approved unit has been received.", "nothing_left")],
            )
        return pairs
    errors: list[FieldError] = []
    pairs = []
    seen: set[int] = set()
    if not lines:
        errors.append(FieldError("lines", "At least one line.", "required"))
    for index, item in enumerate(lines):
        line = stored.get(item.return_line_id)
        if line is None:
            errors.append(
                FieldError(
                    f"lines.{index}.return_line_id", "Not a line of this return.", "not_found"
                )
            )
            continue
        if item.return_line_id in seen:
            errors.append(FieldError(f"lines.{index}.return_line_id", "Listed twice.", "duplicate"))
        seen.add(item.return_line_id)
        left = line.quantity_approved - line.quantity_received
        if item.quantity <= 0:
            errors.append(FieldError(f"lines.{index}.quantity", "Must be positive.", "min_value"))
        elif item.quantity > left:
            errors.append(
                FieldError(
                    f"lines.{index}.quantity",
                    f"At most {left} more units of this line were approved.",
                    "too_many",
                )
            )
        else:
            pairs.append((line, item.quantity))
    field_errors_raise("The receipt is not valid.", errors)
    return pairs


def return_receive_locked(
    *,
    order: Order,
    rma: ReturnRequest,
    location_id: int,
    lines: Sequence[ReceivedInput] | None,
    actor: Actor,
) -> None:
    """``return_receive`` for a caller holding the order's and the return's locks."""
    if rma.status not in RECEIVABLE:
        raise Conflict(
            f"Return {rma.number} cannot be received while {rma.status}.",
            code="invalid_transition",
            details={
                "from_status": rma.status,
                "to_status": ReturnStatus.RECEIVED.value,
                "allowed": sorted(str(s) for s in TRANSITIONS[ReturnStatus(rma.status)]),
            },
        )
    location = _location(location_id)
    if rma.received_location_id not in (None, location.pk):
        raise Conflict(
            f"Return {rma.number} is being received at another location.",
            code="received_elsewhere",
            details={"location": rma.received_location.code if rma.received_location else ""},
        )
    pairs = _received_quantities(rma, lines)
    for line, quantity in pairs:
        # The return's lock serialises receipts; the condition keeps the invariant regardless.
        updated = ReturnLine.objects.filter(
            pk=line.pk, quantity_received__lte=F("quantity_approved") - quantity
        ).update(quantity_received=F("quantity_received") + quantity)
        if not updated:  # pragma: no cover - guarded by the lock and the check above
            raise Conflict("The line changed meanwhile.", code="concurrent_update")
        OrderLine.objects.filter(pk=line.order_line_id).update(
            quantity_returned=F("quantity_returned") + quantity
        )
    stock_return_receive(
        location_id=location.pk,
        units=[ReturnedUnits(line.product_id, quantity) for line, quantity in pairs],
        reference_id=rma.number,
        actor=actor.name,
        reason=f"return {rma.number}",
    )
    received = {line.pk: quantity for line, quantity in pairs}
    details = {
        "location": location.code,
        "received": [
            {"return_line_id": pk, "quantity": quantity} for pk, quantity in received.items()
        ],
        "lines": lines_payload(rma),
    }
    rma.received_location = location
    if rma.status == ReturnStatus.RECEIVED:  # a further part of the same return
        ReturnRequest.objects.filter(pk=rma.pk).update(version=F("version") + 1)
        rma.version += 1
        return_event(order=order, rma=rma, verb="received", actor=actor, details=details)
    else:
        return_move(
            order=order,
            rma=rma,
            to_status=ReturnStatus.RECEIVED,
            actor=actor,
            fields=("received_location",),
            details=details,
        )


def return_receive(
    *,
    return_id: int,
    location_id: int,
    lines: Sequence[ReceivedInput] | None = None,
    actor: Actor,
) -> ReturnRequest:
    """Receive units of an approved return at ``location_id`` (``lines``: return line id and
    units; ``None``: every approved unit not received yet). Received units count as returned on
    the order line and sit on QC hold there until disposition.

    Raises (nothing written): ``NotFound``; ``Conflict`` ``invalid_transition`` (not approved
    or on its way, or already inspected) or ``received_elsewhere``; ``ValidationFailed`` with
    ``lines.N.quantity`` ``too_many`` (more than approved and not yet received), ``location``.
    Two concurrent receipts of the same line run one after the other (the return's lock):
    together they never exceed the approved quantity.
    """
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id, channel_id=actor.channel_id)
        return_receive_locked(
            order=order, rma=rma, location_id=location_id, lines=lines, actor=actor
        )
    return rma
