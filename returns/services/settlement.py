"""Money and the end of a return: refund request, the payment system's answer, close.

Omnilog does not move money. ``return_refund_request`` quotes the refund of the received units
(``returns.services.refunds.refund_quote``), stores it as a ``Refund`` (reference ``RF-...``)
and writes ``return.refund_requested`` with the amounts; the payment system answers with
``refund_confirmation_record`` for that reference: confirmed -> the return is ``refunded`` then
``closed``; failed -> back to ``dispositioned`` (a new refund may be requested).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from omnilog.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from orders.models import OrderLine
from returns.models import Refund, ReturnLine, ReturnRequest
from returns.services.claims import claim_refund_settle
from returns.services.common import (
    Actor,
    refund_reference_next,
    return_event,
    return_lock,
    return_move,
)
from returns.services.refunds import refund_quote
from returns.statuses import ReturnStatus


def _refund_payload(refund: Refund) -> dict[str, object]:
    return {
        "refund_reference": refund.reference,
        "amount": str(refund.amount),
        "tax_amount": str(refund.tax_amount),
        "shipping_amount": str(refund.shipping_amount),
        "restocking_fee": str(refund.restocking_fee),
        "currency": refund.currency,
        "document": refund.document,
        "status": refund.status,
        "external_reference": refund.external_reference,
    }


def return_refund_request(*, return_id: int, actor: Actor) -> Refund:
    """Request the refund of every received unit of a dispositioned (or exchanged) return.

    Writes the ``Refund`` (``requested``), each line's ``refunded_amount`` and the outbox event
    ``return.refund_requested`` carrying the reference, amounts, currency, document type and
    the quote's breakdown: the payment system acts on it. Raises ``Conflict``
    ``invalid_transition`` (wrong status), ``nothing_to_refund`` (no unit received),
    ``ValidationFailed`` from the quote (nothing written).
    """
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id, channel_id=actor.channel_id)
        if rma.status not in (ReturnStatus.DISPOSITIONED, ReturnStatus.EXCHANGED):
            return_move(order=order, rma=rma, to_status=ReturnStatus.REFUND_REQUESTED, actor=actor)
        lines = list(rma.lines.filter(quantity_received__gt=0).order_by("id"))
        if not lines:
            raise Conflict(f"Return {rma.number} received nothing.", code="nothing_to_refund")
        if rma.exchange_order_id is not None:
            # The replacement paid for the returned units: only the difference is owed back.
            raise Conflict(
                f"Return {rma.number} is an exchange: it is settled by completing the exchange.",
                code="exchange_settled_by_exchange_complete",
            )
        order_lines = {
            line.pk: line
            for line in OrderLine.objects.filter(pk__in=[line.order_line_id for line in lines])
        }
        quote = refund_quote(
            order=order,
            lines=[
                (order_lines[line.order_line_id], line.quantity_received, line.reason_code)
                for line in lines
            ],
        )
        refund = Refund.objects.create(
            reference=refund_reference_next(),
            return_request=rma,
            order=order,
            requested_by=actor.name[:150],
            requested_at=timezone.now(),
            **quote.refund_fields(),
        )
        amounts = {line_refund.key: line_refund.amount for line_refund in quote.lines}
        for line in lines:
            line.refunded_amount = amounts.get(line.order_line_id, line.refunded_amount)
        ReturnLine.objects.bulk_update(lines, ["refunded_amount"])
        return_move(
            order=order,
            rma=rma,
            to_status=ReturnStatus.REFUND_REQUESTED,
            actor=actor,
            message=f"Refund {refund.reference} of {refund.amount} {refund.currency} requested",
            details={**_refund_payload(refund), "breakdown": refund.breakdown},
        )
    return refund


def refund_confirmation_record(
    *,
    reference: str,
    is_confirmed: bool,
    actor: Actor,
    external_reference: str = "",
    failure_reason: str = "",
) -> Refund:
    """The payment system's answer for refund ``reference``.

    Confirmed: the refund is ``confirmed``; its return goes ``refunded`` then ``closed``
    (``return.refunded``, ``return.closed``). Failed: ``failed`` with the reason; the return
    goes back to ``dispositioned`` (``return.refund_failed`` then ``return.dispositioned``).
    The same answer twice is a no-op (idempotent); the opposite answer for a settled refund is a
    ``Conflict`` ``refund_settled``. A claim's refund is settled by the claims service
    (``claim_refund_settle``), so the payment system has one endpoint for both.
    """
    found = Refund.objects.filter(reference=reference).values_list("order_id", "return_request_id")
    row = found.first()
    if row is None:
        raise NotFound(f"No refund {reference}.", code="refund_not_found")
    _, return_id = row
    if return_id is None:  # a claim's refund: the claims service settles it
        return claim_refund_settle(
            reference=reference,
            is_confirmed=is_confirmed,
            actor=actor,
            external_reference=external_reference,
            failure_reason=failure_reason,
        )
    if not is_confirmed and not failure_reason.strip():
        raise ValidationFailed(
            "A failed refund needs a reason.",
            field_errors=[FieldError("failure_reason", "Required when failed.", "required")],
        )
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id)
        refund = Refund.objects.select_for_update().get(reference=reference)
        wanted = Refund.Status.CONFIRMED if is_confirmed else Refund.Status.FAILED
        if refund.status == wanted:
            return refund
        if refund.status != Refund.Status.REQUESTED:
            raise Conflict(
                f"Refund {reference} is already {refund.status}.",
                code="refund_settled",
                details={"status": refund.status},
            )
        refund.status = wanted
        refund.external_reference = external_reference[:100]
        now = timezone.now()
        if is_confirmed:
            refund.confirmed_at = now
        else:
            refund.failed_at = now
            refund.failure_reason = failure_reason.strip()[:300]
        refund.save(
            update_fields=[
                "status",
                "external_reference",
                "confirmed_at",
                "failed_at",
                "failure_reason",
                "updated_at",
            ]
        )
        payload = _refund_payload(refund)
        if is_confirmed:
            return_move(
                order=order,
                rma=rma,
                to_status=ReturnStatus.REFUNDED,
                actor=actor,
                details=payload,
            )
            return_move(order=order, rma=rma, to_status=ReturnStatus.CLOSED, actor=actor)
        else:
            ReturnLine.objects.filter(return_request=rma).update(refunded_amount=0)
            return_event(
                order=order,
                rma=rma,
                verb="refund_failed",
                actor=actor,
                message=f"Refund {reference} failed: {refund.failure_reason}",
                details={**payload, "failure_reason": refund.failure_reason},
            )
            return_move(
                order=order,
                rma=rma,
                to_status=ReturnStatus.DISPOSITIONED,
                actor=actor,
            )
    return refund


def return_close(*, return_id: int, actor: Actor) -> ReturnRequest:
    """Close a return that needs nothing more (dispositioned without a refund, refunded or
    exchanged). Raises ``Conflict`` ``invalid_transition``."""
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id, channel_id=actor.channel_id)
        return_move(order=order, rma=rma, to_status=ReturnStatus.CLOSED, actor=actor)
    return rma
