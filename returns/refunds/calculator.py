"""``refund_compute``: what a return gives back, line by line, with fees and shipping.

Rules:

1. What a line cost: ``unit_price * quantity - line_discount - order_discount`` in the order's
   price basis; tax included that is the gross and the tax is the stored ``tax_amount`` (or the
   tax part at ``tax_rate``); tax excluded (business customers) the tax is added. Order-level
   discounts stored only on the order are prorated over the lines that hold no share, by their
   value after line discounts, in exact cents (largest remainder, ties to the earlier line).
2. Partial returns are cumulative: after ``k`` of ``n`` units came back, the line has given back
   ``round(cost * k / n)`` (ROUND_HALF_EVEN cents), so this return gives back that figure minus
   what earlier refunds gave, never below zero and never above what is left of the line's cost.
   Returning every unit, in any number of steps, gives back exactly what the line cost.
3. Restocking fee: the policy's percent (or the line's own) of the line's refund, unless the
   reason is exempt. Its tax part is the same percent of the line's tax.
4. Shipping: refunded (what is left of it) per the policy's rule.
5. Business customers get a credit note (same figures, net and tax shown separately).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from channels_app.pricing.money import prorate
from returns.refunds.types import (
    ZERO,
    CustomerKind,
    DocumentType,
    LineRefund,
    PaidLine,
    PaidOrder,
    RefundComputation,
    RefundInputError,
    RefundPolicy,
    RefundProblem,
    RefundRequest,
    ReturnedUnits,
    ShippingRefundRule,
)

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to cents, half to even (``0.125`` -> ``0.12``, ``0.135`` -> ``0.14``)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def tax_part(gross: Decimal, rate: Decimal) -> Decimal:
    """The tax inside a tax-included amount at ``rate`` percent."""
    return gross - cents(gross * HUNDRED / (HUNDRED + rate))


def line_costs(order: PaidOrder) -> dict[int, tuple[Decimal, Decimal]]:
    """Each line's ``(gross, tax)``: what the customer paid for it, tax included (rule 1)."""
    listed = {line.key: cents(line.unit_price * line.quantity) for line in order.lines}
    unshared = [line for line in order.lines if line.order_discount is None]
    shares = prorate(
        cents(order.order_discount),
        [max(listed[line.key] - line.line_discount, ZERO) for line in unshared],
    )
    share_of = {line.key: share for line, share in zip(unshared, shares, strict=True)}
    costs: dict[int, tuple[Decimal, Decimal]] = {}
    for line in order.lines:
        order_discount = share_of.get(line.key, line.order_discount or ZERO)
        base = max(listed[line.key] - line.line_discount - order_discount, ZERO)
        if order.prices_include_tax:
            gross = base
            tax = line.tax_amount if line.tax_amount is not None else tax_part(base, line.tax_rate)
        else:
            tax = (
                line.tax_amount
                if line.tax_amount is not None
                else cents(base * line.tax_rate / HUNDRED)
            )
            gross = base + tax
        costs[line.key] = (gross, min(max(tax, ZERO), gross))
    return costs


def refund_compute(request: RefundRequest) -> RefundComputation:
    """Compute the refund of ``request.returned``. Raises ``RefundInputError`` listing every bad
    returned line (unknown line, quantity not positive or above what is left to refund, a line
    given twice, a fee percent outside 0..100).

    Contract: every amount is in cents and ``>= 0``; per line ``amount = gross - fee``;
    ``total = lines_gross - fees_total + shipping``; no line ever gives back, over all its
    refunds, more than it cost; a line returned whole (in one or several refunds, without fees)
    gives back exactly what it cost.
    """
    order, policy = request.order, request.policy
    _check_policy(policy)
    paid = {line.key: line for line in order.lines}
    _check_returned(request.returned, paid)
    costs = line_costs(order)
    explanations: list[str] = []
    lines = tuple(
        _line_refund(item, paid[item.key], costs[item.key], policy, order.currency, explanations)
        for item in request.returned
    )
    is_whole = _is_whole_order_returned(order, request.returned)
    shipping, shipping_tax = _shipping(order, policy, request.returned, is_whole, explanations)
    lines_gross = sum((line.gross for line in lines), ZERO)
    fees_total = sum((line.fee for line in lines), ZERO)
    tax_total = sum((line.tax - line.fee_tax for line in lines), ZERO) + shipping_tax
    total = lines_gross - fees_total + shipping
    is_business = order.customer_kind is CustomerKind.BUSINESS
    document = DocumentType.CREDIT_NOTE if is_business else DocumentType.REFUND
    if is_business:
        explanations.append(
            f"Credit note for a business customer: {total - tax_total} {order.currency} "
            f"excluding tax plus {tax_total} tax."
        )
    explanations.append(f"Total refunded: {total} {order.currency}.")
    return RefundComputation(
        currency=order.currency,
        document_type=document,
        lines=lines,
        lines_gross=lines_gross,
        fees_total=fees_total,
        shipping=shipping,
        shipping_tax=shipping_tax,
        tax_total=tax_total,
        net_total=total - tax_total,
        total=total,
        is_whole_order_returned=is_whole,
        explanations=tuple(explanations),
    )


def _check_policy(policy: RefundPolicy) -> None:
    if not ZERO <= policy.restocking_fee_percent <= HUNDRED:
        raise ValueError("restocking_fee_percent is a percent between 0 and 100.")


def _check_returned(returned: Sequence[ReturnedUnits], paid: dict[int, PaidLine]) -> None:
    problems: list[RefundProblem] = []
    seen: set[int] = set()
    for index, item in enumerate(returned):
        line = paid.get(item.key)
        if line is None:
            problems.append(RefundProblem(index, "line", "unknown_line", "No such order line."))
            continue
        if item.key in seen:
            problems.append(RefundProblem(index, "line", "duplicate", "The line is given twice."))
        seen.add(item.key)
        left = line.quantity - line.refunded_quantity
        if item.quantity <= 0:
            problems.append(RefundProblem(index, "quantity", "min_value", "Must be positive."))
        elif item.quantity > left:
            problems.append(
                RefundProblem(
                    index,
                    "quantity",
                    "over_refundable",
                    f"At most {max(left, 0)} unit(s) of this line are left to refund.",
                )
            )
        percent = item.restocking_fee_percent
        if percent is not None and not ZERO <= percent <= HUNDRED:
            problems.append(
                RefundProblem(
                    index, "restocking_fee_percent", "invalid", "A percent between 0 and 100."
                )
            )
    if problems:
        raise RefundInputError(tuple(problems))


def _line_refund(
    item: ReturnedUnits,
    line: PaidLine,
    cost: tuple[Decimal, Decimal],
    policy: RefundPolicy,
    currency: str,
    explanations: list[str],
) -> LineRefund:
    cost_gross, cost_tax = cost
    returned_after = line.refunded_quantity + item.quantity
    gross = _cumulative_share(cost_gross, returned_after, line.quantity, line.refunded_gross)
    tax = min(_cumulative_share(cost_tax, returned_after, line.quantity, line.refunded_tax), gross)
    is_exempt = item.reason_code in policy.fee_exempt_reasons
    percent = (
        item.restocking_fee_percent
        if item.restocking_fee_percent is not None
        else policy.restocking_fee_percent
    )
    fee = fee_tax = ZERO
    if not is_exempt and percent > 0:
        fee = cents(gross * percent / HUNDRED)
        fee_tax = min(cents(tax * percent / HUNDRED), fee)
    text = (
        f"Line {line.key}: {item.quantity} of {line.quantity} unit(s) ({item.reason_code}), "
        f"{gross} {currency} of the {cost_gross} paid for the line"
    )
    if line.refunded_quantity:
        text += f" ({line.refunded_quantity} unit(s), {line.refunded_gross} refunded before)"
    if fee:
        text += f", less a {percent}% restocking fee of {fee}"
    elif is_exempt and percent > 0:
        text += f", no restocking fee for the reason {item.reason_code!r}"
    explanations.append(text + ".")
    return LineRefund(
        key=line.key,
        quantity=item.quantity,
        reason_code=item.reason_code,
        gross=gross,
        tax=tax,
        net=gross - tax,
        fee=fee,
        fee_tax=fee_tax,
        is_fee_exempt=is_exempt,
        amount=gross - fee,
    )


def _cumulative_share(cost: Decimal, returned: int, quantity: int, refunded: Decimal) -> Decimal:
    """Rule 2: the cents ``returned`` of ``quantity`` units owe now, given ``refunded`` before."""
    left = max(cost - refunded, ZERO)
    owed = cents(cost * returned / quantity) if returned < quantity else cost
    return min(max(owed - refunded, ZERO), left)


def _is_whole_order_returned(order: PaidOrder, returned: Sequence[ReturnedUnits]) -> bool:
    now = {item.key: item.quantity for item in returned}
    return all(
        line.refunded_quantity + now.get(line.key, 0) >= line.quantity for line in order.lines
    )


def _shipping(
    order: PaidOrder,
    policy: RefundPolicy,
    returned: Sequence[ReturnedUnits],
    is_whole: bool,
    explanations: list[str],
) -> tuple[Decimal, Decimal]:
    left = max(order.shipping_paid - order.shipping_refunded, ZERO)
    rule = policy.shipping_refund_rule
    is_fault = any(item.reason_code in policy.seller_fault_reasons for item in returned)
    is_refunded = (
        rule is ShippingRefundRule.ALWAYS
        or (rule is ShippingRefundRule.WHOLE_ORDER and is_whole)
        or (rule is ShippingRefundRule.SELLER_FAULT and is_fault)
    )
    if not is_refunded or left == 0:
        if order.shipping_paid == 0:
            explanations.append("Shipping: nothing was paid for it.")
        elif left == 0:
            explanations.append("Shipping: already refunded.")
        else:
            explanations.append(f"Shipping: not refunded (rule {rule.value!r}).")
        return ZERO, ZERO
    explanations.append(f"Shipping: {left} {order.currency} refunded (rule {rule.value!r}).")
    return left, tax_part(left, order.shipping_tax_rate)
