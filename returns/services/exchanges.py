"""Exchanges: a return plus a replacement order, reserved at once, with the price difference.

``exchange_create`` opens the return request (``return_request_create``: eligibility, window,
quantities, mode) and places the replacement order through the real capture
(``order_place_for_channel``: priced by the channel's engine, stock reserved at once) for the
same channel, customer and delivery, in one transaction: when the replacement cannot be placed
(no stock, a product not sold...) nothing is written, the return request neither.
``ReturnRequest.exchange_order`` links the two.

The price difference is the replacement's grand total minus what the returned units are worth
(``refund_quote`` of the return's lines under the channel's policy): positive, the customer pays
it (the replacement's payment is pending until the payment system says it is paid); negative,
it is owed back once the return is received (the return lifecycle's ``exchanged ->
refund_requested`` step, with ``exchange_settlement`` giving the amount). Omnilog moves no money:
``return.exchange_created`` tells the payment system what to collect or refund.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from omnilog.core.errors import ApplicationError, FieldError, NotFound, ValidationFailed
from orders.models import Order, OrderEvent, OrderLine, PaymentStatus
from orders.services.payment import order_payment_update
from orders.services.timeline import order_lock, order_outbox_emit
from returns.models import Refund, ReturnLine, ReturnRequest
from returns.services.common import (
    Actor,
    refund_reference_next,
    return_lock,
    return_move,
)
from returns.services.refunds import RefundQuote, refund_quote
from returns.services.replacements import (
    ReplacementLineInput,
    actor_event_write,
    replacement_order_place,
)
from returns.services.requests import ReturnInput, return_request_create
from returns.statuses import ReturnStatus

ZERO = Decimal("0.00")
MAX_REPLACEMENT_LINES = 50


@dataclass(frozen=True)
class ExchangeSettlement:
    """``difference = replacement_total - returned_value``: > 0 the customer pays it, < 0 it is
    owed back (``refund_due``)."""

    returned_value: Decimal
    replacement_total: Decimal
    difference: Decimal
    currency: str

    @property
    def amount_due(self) -> Decimal:
        return max(self.difference, ZERO)

    @property
    def refund_due(self) -> Decimal:
        return max(-self.difference, ZERO)

    def as_json(self) -> dict[str, Any]:
        return {
            "returned_value": str(self.returned_value),
            "replacement_total": str(self.replacement_total),
            "difference": str(self.difference),
            "amount_due": str(self.amount_due),
            "refund_due": str(self.refund_due),
            "currency": self.currency,
        }


@dataclass(frozen=True)
class Exchange:
    return_request: ReturnRequest
    replacement_order: Order
    settlement: ExchangeSettlement


def exchange_create(
    *,
    order_id: int,
    data: ReturnInput,
    replacement_lines: Sequence[ReplacementLineInput],
    actor: Actor,
) -> Exchange:
    """Return ``data.lines`` of ``order_id`` and place a replacement for ``replacement_lines``.

    In one transaction: the return request (its own checks: ``lines.N.quantity`` over
    returnable or out of window, mode, location...), then the replacement order (reserved at
    once; ``InsufficientStock`` 409 when short, ``replacement_lines.N.sku`` for an unknown or
    unsold product), then the link and ``return.exchange_created`` with the settlement. Any
    error: nothing written. With ``actor.channel_id`` the order must be that channel's.
    """
    errors = _shape_errors(replacement_lines)
    if errors:
        raise ValidationFailed("The exchange is not valid.", field_errors=errors)
    with transaction.atomic():
        rma = return_request_create(order_id=order_id, data=data, actor=actor)
        order = order_lock(order_id=rma.order_id, channel_id=actor.channel_id)
        returned_value = _returned_value(order, rma, data)
        replacement = replacement_order_place(
            order=order,
            lines=replacement_lines,
            actor=actor,
            external_id=f"{rma.number}-X",
            payment_status=PaymentStatus.PENDING,
        )
        settlement = ExchangeSettlement(
            returned_value=returned_value.total,
            replacement_total=replacement.grand_total,
            difference=replacement.grand_total - returned_value.total,
            currency=order.currency,
        )
        if settlement.amount_due == 0:
            # Paid by what comes back: nothing to collect, its stock holds without a deadline.
            replacement = order_payment_update(
                order_id=replacement.pk,
                payment_status=PaymentStatus.CAPTURED,
                actor=actor.name,
                source="exchange",
            )
        replacement = Order.objects.get(pk=replacement.pk)
        ReturnRequest.objects.filter(pk=rma.pk).update(exchange_order=replacement)
        rma.exchange_order = replacement
        details = {
            "return_id": rma.pk,
            "return_number": rma.number,
            "replacement_order_id": replacement.pk,
            "replacement_order_number": replacement.number,
            **settlement.as_json(),
        }
        actor_event_write(
            order=order,
            kind=OrderEvent.Kind.RETURN,
            actor=actor,
            message=f"Exchange: return {rma.number}, replacement {replacement.number}",
            details=details,
        )
        actor_event_write(
            order=replacement,
            kind=OrderEvent.Kind.NOTE,
            actor=actor,
            message=f"Replacement for return {rma.number} of order {order.number}",
            details=details,
        )
        order_outbox_emit(order=order, topic="return.exchange_created", payload=details)
    return Exchange(return_request=rma, replacement_order=replacement, settlement=settlement)


def _shape_errors(lines: Sequence[ReplacementLineInput]) -> list[FieldError]:
    errors: list[FieldError] = []
    if not lines:
        errors.append(FieldError("replacement_lines", "At least one line.", "required"))
    elif len(lines) > MAX_REPLACEMENT_LINES:
        errors.append(
            FieldError("replacement_lines", f"At most {MAX_REPLACEMENT_LINES}.", "max_length")
        )
    for index, line in enumerate(lines):
        if line.quantity <= 0:
            errors.append(
                FieldError(f"replacement_lines.{index}.quantity", "Must be positive.", "min_value")
            )
    return errors


def _returned_value(order: Order, rma: ReturnRequest, data: ReturnInput) -> RefundQuote:
    """What the returned units are worth under the channel's policy (their refund quote)."""
    lines = {
        line.pk: line for line in OrderLine.objects.filter(order=order).select_related("product")
    }
    return_lines = ReturnLine.objects.filter(return_request=rma).order_by("id")
    try:
        return refund_quote(
            order=order,
            lines=[
                (lines[item.order_line_id], item.quantity_requested, item.reason_code)
                for item in return_lines
            ],
        )
    except ApplicationError as error:
        # Units already refunded (by a claim): the return's own checks let them through.
        raise ValidationFailed(
            "These units cannot be exchanged.", field_errors=error.field_errors
        ) from error


def exchange_settlement(*, return_request: ReturnRequest) -> ExchangeSettlement:
    """The price difference of an exchange, computed again from the return's lines (received
    units once received, else approved, else requested) and the replacement order. Reads only."""
    return _settlement(return_request)[0]


def _settlement(return_request: ReturnRequest) -> tuple[ExchangeSettlement, RefundQuote, Order]:
    if return_request.exchange_order_id is None:
        raise NotFound(f"Return {return_request.number} is not an exchange.", code="not_exchange")
    order = return_request.order
    replacement = Order.objects.get(pk=return_request.exchange_order_id)
    lines = []
    for item in ReturnLine.objects.filter(return_request=return_request).select_related(
        "order_line__product"
    ):
        quantity = item.quantity_received or item.quantity_approved or item.quantity_requested
        lines.append((item.order_line, quantity, item.reason_code))
    refunds = list(return_request.refunds.values_list("pk", flat=True))
    value = refund_quote(order=order, lines=lines, exclude_refund_ids=refunds)
    settlement = ExchangeSettlement(
        returned_value=value.total,
        replacement_total=replacement.grand_total,
        difference=replacement.grand_total - value.total,
        currency=order.currency,
    )
    return settlement, value, replacement


def exchange_complete(*, return_id: int, actor: Actor) -> ReturnRequest:
    """Close the money side of an exchange whose goods came back (``dispositioned``).

    The return becomes ``exchanged``; when the returned units were worth more than the
    replacement, the difference is requested as a ``Refund`` (``refund_requested``,
    ``return.refund_requested``: the payment system's confirmation then closes it through
    ``refund_confirmation_record``); otherwise the return is ``closed``. The refund's breakdown
    lists the returned lines at their full value (they were given back: part as the
    replacement, part as money), so no later refund counts them again. Raises ``NotFound``
    ``not_exchange``, ``Conflict`` ``invalid_transition``.
    """
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id, channel_id=actor.channel_id)
        settlement, value, replacement = _settlement(rma)
        return_move(
            order=order,
            rma=rma,
            to_status=ReturnStatus.EXCHANGED,
            actor=actor,
            details=settlement.as_json(),
        )
        if settlement.refund_due == 0:
            return_move(order=order, rma=rma, to_status=ReturnStatus.CLOSED, actor=actor)
            return rma
        breakdown = {**value.breakdown_json(), "exchange": settlement.as_json()}
        refund = Refund.objects.create(
            reference=refund_reference_next(),
            return_request=rma,
            order=order,
            amount=settlement.refund_due,
            tax_amount=min(
                max(value.tax_total - replacement.tax_total, ZERO), settlement.refund_due
            ),
            shipping_amount=min(value.shipping, settlement.refund_due),
            restocking_fee=value.fees_total,
            currency=value.currency,
            breakdown=breakdown,
            document=value.document,
            requested_by=actor.name[:150],
            requested_at=timezone.now(),
        )
        return_move(
            order=order,
            rma=rma,
            to_status=ReturnStatus.REFUND_REQUESTED,
            actor=actor,
            details={
                "refund_reference": refund.reference,
                "amount": str(refund.amount),
                "tax_amount": str(refund.tax_amount),
                "currency": refund.currency,
                "document": refund.document,
                "breakdown": breakdown,
            },
        )
    return rma
