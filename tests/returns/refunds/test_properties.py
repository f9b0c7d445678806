"""Properties of the refund calculator over generated orders and return sequences (Hypothesis)."""

from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from returns.refunds import (
    CustomerKind,
    PaidLine,
    PaidOrder,
    RefundPolicy,
    RefundRequest,
    ReturnedUnits,
    ShippingRefundRule,
    line_costs,
    refund_compute,
)

ZERO = Decimal("0.00")
cents = st.integers(min_value=0, max_value=200_000).map(lambda n: Decimal(n) / 100)
rates = st.sampled_from([Decimal("0"), Decimal("5.5"), Decimal("10"), Decimal("20")])
reasons = st.sampled_from(["changed_mind", "too_small", "defective", "wrong_item"])


@st.composite
def paid_orders(draw):
    count = draw(st.integers(min_value=1, max_value=5))
    include_tax = draw(st.booleans())
    lines = []
    for key in range(1, count + 1):
        quantity = draw(st.integers(min_value=1, max_value=9))
        unit_price = draw(cents.filter(lambda v: v > 0))
        listed = unit_price * quantity
        line_discount = draw(st.integers(min_value=0, max_value=int(listed * 100))) / Decimal(100)
        order_discount = draw(
            st.none()
            | st.integers(min_value=0, max_value=int((listed - line_discount) * 100)).map(
                lambda n: Decimal(n) / 100
            )
        )
        lines.append(
            PaidLine(
                key=key,
                quantity=quantity,
                unit_price=unit_price,
                line_discount=line_discount,
                order_discount=order_discount,
                tax_rate=draw(rates),
            )
        )
    return PaidOrder(
        currency="EUR",
        lines=tuple(lines),
        prices_include_tax=include_tax,
        order_discount=draw(cents),
        shipping_paid=draw(cents),
        shipping_tax_rate=draw(rates),
        customer_kind=CustomerKind.CONSUMER if include_tax else CustomerKind.BUSINESS,
    )


@st.composite
def return_plans(draw, order):
    """Each line's units split in 1..4 successive returns; the returns interleave the lines."""
    steps: list[list[ReturnedUnits]] = [[] for _ in range(4)]
    for line in order.lines:
        parts = draw(st.integers(min_value=1, max_value=min(4, line.quantity)))
        cuts = sorted(
            draw(
                st.lists(
                    st.integers(min_value=1, max_value=line.quantity - 1),
                    min_size=parts - 1,
                    max_size=parts - 1,
                    unique=True,
                )
            )
            if parts > 1
            else []
        )
        bounds = [0, *cuts, line.quantity]
        for step, (low, high) in enumerate(itertools.pairwise(bounds)):
            steps[step].append(ReturnedUnits(line.key, high - low, draw(reasons)))
    return [tuple(step) for step in steps if step]


def run_plan(order: PaidOrder, plan, policy: RefundPolicy):
    """Apply each return in turn, carrying what was refunded into the next; the results."""
    results = []
    for returned in plan:
        result = refund_compute(RefundRequest(order=order, returned=returned, policy=policy))
        results.append(result)
        by_key = {line.key: line for line in result.lines}
        order = dataclasses.replace(
            order,
            shipping_refunded=order.shipping_refunded + result.shipping,
            lines=tuple(
                dataclasses.replace(
                    line,
                    refunded_quantity=line.refunded_quantity + by_key[line.key].quantity,
                    refunded_gross=line.refunded_gross + by_key[line.key].gross,
                    refunded_tax=line.refunded_tax + by_key[line.key].tax,
                )
                if line.key in by_key
                else line
                for line in order.lines
            ),
        )
    return results


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_returning_everything_in_steps_gives_back_exactly_what_was_paid(data):
    order = data.draw(paid_orders())
    plan = data.draw(return_plans(order))
    results = run_plan(order, plan, RefundPolicy())
    costs = line_costs(order)
    for key, (gross, tax) in costs.items():
        refunds = [line for result in results for line in result.lines if line.key == key]
        assert sum((line.gross for line in refunds), ZERO) == gross
        assert sum((line.tax for line in refunds), ZERO) == tax
        assert all(line.fee == 0 for line in refunds)
    assert sum((result.total for result in results), ZERO) == (
        sum((gross for gross, _ in costs.values()), ZERO) + order.shipping_paid
    )


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    fee=st.integers(min_value=0, max_value=100).map(Decimal),
    rule=st.sampled_from(list(ShippingRefundRule)),
)
def test_refunds_are_never_negative_nor_above_what_was_paid(data, fee, rule):
    order = data.draw(paid_orders())
    plan = data.draw(return_plans(order))
    policy = RefundPolicy(restocking_fee_percent=fee, shipping_refund_rule=rule)
    results = run_plan(order, plan, policy)
    costs = line_costs(order)
    for result in results:
        assert result.total >= 0
        assert result.total == result.lines_gross - result.fees_total + result.shipping
        assert result.net_total + result.tax_total == result.total
        for line in result.lines:
            assert ZERO <= line.fee <= line.gross
            assert ZERO <= line.tax <= line.gross
            assert ZERO <= line.fee_tax <= line.fee
            assert line.amount == line.gross - line.fee
    for key, (gross, tax) in costs.items():
        refunds = [line for result in results for line in result.lines if line.key == key]
        assert sum((line.gross for line in refunds), ZERO) <= gross
        assert sum((line.tax for line in refunds), ZERO) <= tax
    assert sum((result.shipping for result in results), ZERO) <= order.shipping_paid


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    refunded_gross=st.integers(min_value=0, max_value=500_000).map(lambda n: Decimal(n) / 100),
)
def test_cap_holds_whatever_earlier_refunds_recorded(data, refunded_gross):
    """Even when earlier records are odd (more given back than the units' share), a refund is
    never negative and the line never gives back more than it cost."""
    order = data.draw(paid_orders())
    first = order.lines[0]
    if first.quantity < 2:
        return
    gross, _ = line_costs(order)[first.key]
    recorded = min(refunded_gross, gross)
    odd = dataclasses.replace(
        order,
        lines=(
            dataclasses.replace(first, refunded_quantity=1, refunded_gross=recorded),
            *order.lines[1:],
        ),
    )
    result = refund_compute(
        RefundRequest(order=odd, returned=(ReturnedUnits(first.key, 1, "changed_mind"),))
    )
    assert ZERO <= result.lines[0].gross <= gross - recorded


@settings(max_examples=150, deadline=None)
@given(
    quantities=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=4),
    prices=st.lists(st.integers(min_value=1, max_value=20_000), min_size=4, max_size=4),
    line_percent=st.integers(min_value=1, max_value=60),
    coupon_cents=st.integers(min_value=1, max_value=5_000),
    include_tax=st.booleans(),
)
def test_the_calculator_agrees_with_the_pricing_engine(
    quantities, prices, line_percent, coupon_cents, include_tax
):
    """Stacked promotions priced by the engine: each line costs what the engine charged, and
    returning everything gives back the grand total."""
    from channels_app.pricing import PromotionKind, PromotionTarget, price_cart
    from tests.channels_app.pricing_helpers import line, make_request, price_list, promotion
    from tests.returns.refunds.helpers import paid_order_of

    skus = [f"S{index}" for index in range(len(quantities))]
    cart = price_cart(
        make_request(
            [line(sku, quantity) for sku, quantity in zip(skus, quantities, strict=True)],
            lists=[
                price_list(
                    "base",
                    {
                        sku: str(Decimal(p) / 100)
                        for sku, p in zip(skus, prices[: len(skus)], strict=True)
                    },
                )
            ],
            promotions=[
                promotion(
                    "LINE",
                    target=PromotionTarget.PRODUCT,
                    skus=set(skus[::2]),
                    value=str(line_percent),
                    priority=1,
                ),
                promotion(
                    "COUPON",
                    kind=PromotionKind.AMOUNT_OFF,
                    value=str(Decimal(coupon_cents) / 100),
                    coupon_code="C",
                    currency="EUR",
                ),
            ],
            coupons=["C"],
            include_tax=include_tax,
        )
    )
    order = paid_order_of(cart)
    costs = line_costs(order)
    for index, priced in enumerate(cart.lines):
        assert costs[index + 1] == (priced.total_including_tax, priced.tax_amount)
    everything = refund_compute(
        RefundRequest(
            order=order,
            returned=tuple(
                ReturnedUnits(li.key, li.quantity, "changed_mind") for li in order.lines
            ),
        )
    )
    assert everything.total == cart.grand_total
    assert everything.tax_total == cart.tax_total
