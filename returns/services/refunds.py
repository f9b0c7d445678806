"""Refund quotes: an order's stored pricing, turned into the pure calculator's inputs.

``refund_quote(order=..., lines=[(order_line, quantity, reason_code), ...])`` reads what the
order charged (``Order.pricing``, the engine's priced cart, and the ``OrderLine`` figures), what
earlier refunds of the order already gave back (every ``Refund`` not failed, from its
``breakdown``), and the return policy of each line; it returns a ``RefundQuote``. It writes
nothing: the return lifecycle (request a refund), exchanges and claims store the quote's
``breakdown`` on a ``Refund`` row, which is how later quotes know what was refunded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from omnilog.core.errors import Conflict, FieldError, ValidationFailed
from orders.models import Order, OrderLine
from returns.models import Refund, ReturnPolicy
from returns.refunds import (
    SELLER_FAULT_REASONS,
    CustomerKind,
    DocumentType,
    LineRefund,
    PaidLine,
    PaidOrder,
    RefundComputation,
    RefundInputError,
    RefundPolicy,
    RefundRequest,
    ReturnedUnits,
    ShippingRefundRule,
    refund_compute,
)
from returns.selectors import DEFAULT_POLICY, return_policies_for

ZERO = Decimal("0.00")
# A claim: the delivery failed, so no fee and the shipping comes back.
CLAIM_POLICY = RefundPolicy(
    restocking_fee_percent=ZERO,
    fee_exempt_reasons=SELLER_FAULT_REASONS,
    shipping_refund_rule=ShippingRefundRule.ALWAYS,
    seller_fault_reasons=SELLER_FAULT_REASONS,
)
# Refunds that count as given back (a failed one gave nothing).
COUNTED_REFUND_STATUSES = (Refund.Status.REQUESTED, Refund.Status.CONFIRMED)


@dataclass(frozen=True)
class RefundQuote:
    """What a return gives back, with the order's figures it came from.

    ``lines`` follow the request's order; ``LineRefund.key`` is the order line id. ``document``
    is ``refund`` or ``credit_note`` (business customers: the same figures, net and tax apart).
    """

    order_id: int
    currency: str
    document: str
    lines: tuple[LineRefund, ...]
    lines_gross: Decimal
    fees_total: Decimal
    shipping: Decimal
    shipping_tax: Decimal
    tax_total: Decimal
    net_total: Decimal
    total: Decimal
    is_whole_order_returned: bool
    explanations: tuple[str, ...]

    def breakdown_json(self) -> dict[str, Any]:
        """The quote as stored on ``Refund.breakdown`` (money as strings, exact)."""
        return {
            "document": self.document,
            "currency": self.currency,
            "lines": [
                {
                    "order_line_id": line.key,
                    "quantity": line.quantity,
                    "reason_code": line.reason_code,
                    "gross": str(line.gross),
                    "tax": str(line.tax),
                    "net": str(line.net),
                    "fee": str(line.fee),
                    "fee_tax": str(line.fee_tax),
                    "is_fee_exempt": line.is_fee_exempt,
                    "amount": str(line.amount),
                }
                for line in self.lines
            ],
            "lines_gross": str(self.lines_gross),
            "fees_total": str(self.fees_total),
            "shipping": str(self.shipping),
            "shipping_tax": str(self.shipping_tax),
            "tax_total": str(self.tax_total),
            "net_total": str(self.net_total),
            "total": str(self.total),
            "is_whole_order_returned": self.is_whole_order_returned,
            "explanations": list(self.explanations),
        }

    def refund_fields(self) -> dict[str, Any]:
        """The ``Refund`` columns this quote fills (amounts, currency, breakdown, document)."""
        return {
            "amount": self.total,
            "tax_amount": self.tax_total,
            "shipping_amount": self.shipping,
            "restocking_fee": self.fees_total,
            "currency": self.currency,
            "breakdown": self.breakdown_json(),
            "document": self.document,
        }


def refund_quote(
    *,
    order: Order,
    lines: Sequence[tuple[OrderLine, int, str]],
    policy: RefundPolicy | None = None,
    exclude_refund_ids: Iterable[int] = (),
) -> RefundQuote:
    """Quote the refund of ``lines`` (``(order_line, quantity, reason_code)``) of ``order``.

    ``policy=None``: the channel's return policies (restocking fee per line's product or
    category, shipping rule of the channel's default row); claims pass ``CLAIM_POLICY``.
    ``exclude_refund_ids``: refunds not to count as given back (re-quoting a pending one).
    Raises ``ValidationFailed`` with field errors ``lines.N.line`` (not a line of this order,
    given twice), ``lines.N.quantity`` (not positive, more than is left to refund). Reads only;
    for a refund about to be stored, call it while holding the order's row lock so that two
    refunds of the same units cannot both count them as not yet refunded.
    """
    order_lines = list(
        OrderLine.objects.filter(order=order).select_related("product").order_by("line_number")
    )
    refunded = refunded_so_far(order=order, exclude_refund_ids=exclude_refund_ids)
    paid = paid_order(order=order, order_lines=order_lines, refunded=refunded)
    if policy is not None:
        line_policies, channel_policy = {line.id: policy for line in order_lines}, policy
    else:
        line_policies, channel_policy = _policies(order=order, order_lines=order_lines)
    returned = tuple(
        ReturnedUnits(
            key=line.pk,
            quantity=quantity,
            reason_code=reason_code,
            restocking_fee_percent=_fee_percent(line_policies.get(line.pk), reason_code),
        )
        for line, quantity, reason_code in lines
    )
    try:
        result = refund_compute(RefundRequest(order=paid, returned=returned, policy=channel_policy))
    except RefundInputError as error:
        raise ValidationFailed(
            "These lines cannot be refunded.",
            field_errors=[
                FieldError(f"lines.{p.index}.{p.field}", p.message, p.code) for p in error.problems
            ],
        ) from error
    return _quote(order, result)


def refunded_so_far(*, order: Order, exclude_refund_ids: Iterable[int] = ()) -> dict[str, Any]:
    """What the order's refunds (requested or confirmed) gave back, from their breakdowns:
    ``{"lines": {order_line_id: (quantity, gross, tax)}, "shipping": Decimal}``. One query."""
    per_line: dict[int, tuple[int, Decimal, Decimal]] = {}
    shipping = ZERO
    breakdowns = (
        Refund.objects.filter(order=order, status__in=COUNTED_REFUND_STATUSES)
        .exclude(pk__in=list(exclude_refund_ids))
        .values_list("breakdown", flat=True)
    )
    for breakdown in breakdowns:
        for item in (breakdown or {}).get("lines", []):
            key = int(item["order_line_id"])
            quantity, gross, tax = per_line.get(key, (0, ZERO, ZERO))
            per_line[key] = (
                quantity + int(item["quantity"]),
                gross + Decimal(item["gross"]),
                tax + Decimal(item["tax"]),
            )
        shipping += Decimal((breakdown or {}).get("shipping", "0"))
    return {"lines": per_line, "shipping": shipping}


def paid_order(
    *, order: Order, order_lines: Sequence[OrderLine], refunded: Mapping[str, Any]
) -> PaidOrder:
    """The calculator's view of ``order``: each line's price, discounts and tax as charged.

    A line found in ``Order.pricing`` (same SKU, same charged total, in line order) splits its
    discount into line promotions and its share of cart promotions, and its units are the
    priced quantity. A line not found there (an order without stored pricing) keeps its own
    ``discount_total`` as line discount, and the order's discount beyond the lines' is prorated.
    """
    pricing = order.pricing or {}
    priced = list(pricing.get("lines", []))
    include_tax = bool(pricing.get("prices_include_tax", True))
    refunded_lines: Mapping[int, tuple[int, Decimal, Decimal]] = refunded["lines"]
    paid_lines: list[PaidLine] = []
    cursor = 0
    for line in order_lines:
        entry = _priced_entry(line, priced, cursor)
        quantity_done, gross_done, tax_done = refunded_lines.get(line.pk, (0, ZERO, ZERO))
        common: dict[str, Any] = {
            "key": line.pk,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate * 100,
            "tax_amount": line.tax_amount,
            "refunded_quantity": quantity_done,
            "refunded_gross": gross_done,
            "refunded_tax": tax_done,
        }
        if entry is not None:
            cursor = priced.index(entry) + 1
            paid_lines.append(
                PaidLine(
                    quantity=int(entry["quantity"]),
                    line_discount=_sum_shares(entry.get("line_discounts", [])),
                    order_discount=_sum_shares(entry.get("cart_discounts", [])),
                    **common,
                )
            )
        else:
            # Its stored tax predates the order-level discount's share: computed again.
            common["tax_amount"] = None
            paid_lines.append(
                PaidLine(
                    quantity=line.quantity,
                    line_discount=line.discount_total,
                    order_discount=None,
                    **common,
                )
            )
    unshared = sum((li.line_discount for li in paid_lines if li.order_discount is None), ZERO)
    order_level = max(order.discount_total - unshared, ZERO) if not priced else ZERO
    return PaidOrder(
        currency=order.currency,
        lines=tuple(paid_lines),
        prices_include_tax=include_tax,
        order_discount=order_level,
        shipping_paid=order.shipping_total,
        shipping_tax_rate=_shipping_tax_rate(order_lines),
        shipping_refunded=refunded["shipping"],
        customer_kind=CustomerKind.CONSUMER if include_tax else CustomerKind.BUSINESS,
    )


def _priced_entry(
    line: OrderLine, priced: Sequence[Mapping[str, Any]], cursor: int
) -> Mapping[str, Any] | None:
    for entry in priced[cursor:]:
        if entry.get("sku") == line.sku and Decimal(
            str(entry.get("total_including_tax", "-1"))
        ) == (line.total):
            return entry
    return None


def _sum_shares(shares: Iterable[Mapping[str, Any]]) -> Decimal:
    return sum((Decimal(str(share["amount"])) for share in shares), ZERO)


def _shipping_tax_rate(order_lines: Sequence[OrderLine]) -> Decimal:
    """Shipping follows the order's main rate: the highest of its lines' (percent)."""
    return max((line.tax_rate * 100 for line in order_lines), default=ZERO)


def _policies(
    *, order: Order, order_lines: Sequence[OrderLine]
) -> tuple[dict[int, RefundPolicy], RefundPolicy]:
    """Each line's policy (``returns.selectors.return_policies_for``) and the order's: the
    channel default row's (its shipping rule applies to the order's shipping)."""
    by_product = return_policies_for(
        channel_id=order.channel_id, products=[line.product for line in order_lines]
    )
    default_row = (
        ReturnPolicy.objects.filter(
            Q(channel_id=order.channel_id) | Q(channel__isnull=True),
            is_active=True,
            product__isnull=True,
            category="",
        )
        .order_by(F("channel_id").asc(nulls_last=True))
        .first()
    )
    order_policy = _refund_policy(
        DEFAULT_POLICY.shipping_refund_rule
        if default_row is None
        else default_row.shipping_refund_rule,
        DEFAULT_POLICY.restocking_fee_percent,
        DEFAULT_POLICY.fee_exempt_reasons,
    )
    per_line = {
        line.pk: _refund_policy(
            by_product[line.product_id].shipping_refund_rule,
            by_product[line.product_id].restocking_fee_percent,
            by_product[line.product_id].fee_exempt_reasons,
        )
        for line in order_lines
    }
    return per_line, order_policy


def _refund_policy(shipping_rule: str, fee_percent: Decimal, exempt: Iterable[str]) -> RefundPolicy:
    """A policy as the calculator sees it: the seller's faults never pay a fee."""
    return RefundPolicy(
        restocking_fee_percent=fee_percent,
        fee_exempt_reasons=SELLER_FAULT_REASONS | frozenset(exempt),
        shipping_refund_rule=ShippingRefundRule(shipping_rule),
        seller_fault_reasons=SELLER_FAULT_REASONS,
    )


def _fee_percent(policy: RefundPolicy | None, reason_code: str) -> Decimal | None:
    """The line's own fee percent (its policy's), zero when its policy exempts the reason."""
    if policy is None:
        return None
    return ZERO if reason_code in policy.fee_exempt_reasons else policy.restocking_fee_percent


def _quote(order: Order, result: RefundComputation) -> RefundQuote:
    return RefundQuote(
        order_id=order.pk,
        currency=result.currency,
        document=(
            Refund.Document.CREDIT_NOTE
            if result.document_type is DocumentType.CREDIT_NOTE
            else Refund.Document.REFUND
        ).value,
        lines=result.lines,
        lines_gross=result.lines_gross,
        fees_total=result.fees_total,
        shipping=result.shipping,
        shipping_tax=result.shipping_tax,
        tax_total=result.tax_total,
        net_total=result.net_total,
        total=result.total,
        is_whole_order_returned=result.is_whole_order_returned,
        explanations=result.explanations,
    )


def refund_failure_reason_check(*, is_confirmed: bool, failure_reason: str) -> None:
    """A failed refund needs its reason (422 ``failure_reason``)."""
    if not is_confirmed and not failure_reason.strip():
        raise ValidationFailed(
            "A failed refund needs a reason.",
            field_errors=[FieldError("failure_reason", "Required when failed.", "required")],
        )


def refund_settle_locked(
    *, refund: Refund, is_confirmed: bool, external_reference: str, failure_reason: str
) -> bool:
    """Record the payment system's answer on a locked refund; ``False`` when it already said
    the same (a no-op retry). Raises ``Conflict`` ``refund_settled`` when the refund was settled
    the other way. Precondition: the caller holds the refund's row lock (and its owner's)."""
    target = Refund.Status.CONFIRMED if is_confirmed else Refund.Status.FAILED
    if refund.status == target:
        return False
    if refund.status != Refund.Status.REQUESTED:
        raise Conflict(
            f"Refund {refund.reference} is already {refund.status}.",
            code="refund_settled",
            details={"status": refund.status},
        )
    now = timezone.now()
    refund.status = target
    refund.external_reference = external_reference[:100]
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
    return True
