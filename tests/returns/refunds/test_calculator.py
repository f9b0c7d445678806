"""The refund calculator on hand-computed examples: stacked promotions, fees, shipping, B2B."""

from __future__ import annotations

import dataclasses

import pytest

from channels_app.pricing import PromotionKind, PromotionTarget, price_cart
from returns.refunds import (
    CustomerKind,
    DocumentType,
    PaidLine,
    PaidOrder,
    RefundInputError,
    RefundPolicy,
    RefundRequest,
    ReturnedUnits,
    ShippingRefundRule,
    cents,
    line_costs,
    refund_compute,
)
from tests.channels_app.pricing_helpers import line, make_request, price_list, promotion
from tests.returns.refunds.helpers import D, paid_order_of

FEE_10 = RefundPolicy(restocking_fee_percent=D("10"))


def stacked_cart():
    """A: 3 x 19.99 with 15% off the product (9.00), B: 1 x 24.50; coupon SAVE5 (5.00 off the
    cart, shared 3.38 / 1.62 by value after line promotions); shipping free (nothing paid).

    A costs 59.97 - 9.00 - 3.38 = 47.59 (tax 20%: 7.93), B 24.50 - 1.62 = 22.88 (tax 3.81).
    """
    return price_cart(
        make_request(
            [line("A", 3), line("B", 1)],
            lists=[price_list("base", {"A": "19.99", "B": "24.50"})],
            promotions=[
                promotion(
                    "A15", target=PromotionTarget.PRODUCT, skus={"A"}, value="15", priority=1
                ),
                promotion(
                    "SAVE5",
                    kind=PromotionKind.AMOUNT_OFF,
                    target=PromotionTarget.CART,
                    value="5.00",
                    coupon_code="SAVE5",
                    currency="EUR",
                ),
            ],
            coupons=["SAVE5"],
        )
    )


def test_the_stacked_cart_is_what_the_example_says():
    cart = stacked_cart()
    assert [(li.total_including_tax, li.tax_amount) for li in cart.lines] == [
        (D("47.59"), D("7.93")),
        (D("22.88"), D("3.81")),
    ]
    assert [[s.amount for s in li.cart_discounts] for li in cart.lines] == [
        [D("3.38")],
        [D("1.62")],
    ]


def test_line_costs_are_what_the_engine_charged():
    cart = stacked_cart()
    assert line_costs(paid_order_of(cart)) == {
        1: (D("47.59"), D("7.93")),
        2: (D("22.88"), D("3.81")),
    }


def test_partial_return_with_restocking_fee_then_the_rest_with_free_shipping():
    order = paid_order_of(stacked_cart())
    first = refund_compute(
        RefundRequest(order=order, returned=(ReturnedUnits(1, 1, "changed_mind"),), policy=FEE_10)
    )
    (a,) = first.lines
    # 47.59 / 3 = 15.863 -> 15.86; tax 7.93 / 3 -> 2.64; fee 10% of 15.86 = 1.586 -> 1.59.
    assert (a.gross, a.tax, a.net, a.fee, a.fee_tax, a.amount) == (
        D("15.86"),
        D("2.64"),
        D("13.22"),
        D("1.59"),
        D("0.26"),
        D("14.27"),
    )
    assert (first.total, first.tax_total, first.net_total) == (D("14.27"), D("2.38"), D("11.89"))
    assert first.shipping == 0
    assert first.is_whole_order_returned is False
    assert first.document_type is DocumentType.REFUND

    after_first = dataclasses.replace(
        order,
        lines=(
            dataclasses.replace(
                order.lines[0], refunded_quantity=1, refunded_gross=a.gross, refunded_tax=a.tax
            ),
            order.lines[1],
        ),
    )
    second = refund_compute(
        RefundRequest(
            order=after_first,
            returned=(ReturnedUnits(1, 2, "defective"), ReturnedUnits(2, 1, "changed_mind")),
            policy=FEE_10,
        )
    )
    rest_a, b = second.lines
    # The rest of A: 47.59 - 15.86 (cumulative cap), defective: no fee.
    assert (rest_a.gross, rest_a.tax, rest_a.fee, rest_a.is_fee_exempt) == (
        D("31.73"),
        D("5.29"),
        D("0.00"),
        True,
    )
    # B: 22.88, fee 2.288 -> 2.29, fee tax 0.381 -> 0.38.
    assert (b.gross, b.tax, b.fee, b.fee_tax, b.amount) == (
        D("22.88"),
        D("3.81"),
        D("2.29"),
        D("0.38"),
        D("20.59"),
    )
    assert second.is_whole_order_returned is True
    assert second.shipping == 0  # free shipping: nothing paid, nothing refunded
    assert "Shipping: nothing was paid for it." in second.explanations
    assert second.total == D("52.32")
    # Everything paid came back, less the two fees.
    assert first.total + second.total == D("47.59") + D("22.88") - D("1.59") - D("2.29")


def test_whole_order_return_refunds_paid_shipping_once():
    order = paid_order_of(stacked_cart(), shipping_paid="4.90")
    returned = (ReturnedUnits(1, 3, "changed_mind"), ReturnedUnits(2, 1, "changed_mind"))
    result = refund_compute(RefundRequest(order=order, returned=returned))
    # 4.90 tax included at 20%: net 4.08, tax 0.82.
    assert (result.shipping, result.shipping_tax) == (D("4.90"), D("0.82"))
    assert result.total == D("47.59") + D("22.88") + D("4.90")
    assert result.tax_total == D("7.93") + D("3.81") + D("0.82")
    refunded = dataclasses.replace(order, shipping_refunded=D("4.90"))
    again = refund_compute(
        RefundRequest(order=refunded, returned=(ReturnedUnits(2, 1, "changed_mind"),))
    )
    assert again.shipping == 0


@pytest.mark.parametrize(
    ("rule", "reason", "whole", "expected"),
    [
        (ShippingRefundRule.NEVER, "defective", True, "0.00"),
        (ShippingRefundRule.WHOLE_ORDER, "changed_mind", False, "0.00"),
        (ShippingRefundRule.WHOLE_ORDER, "changed_mind", True, "4.90"),
        (ShippingRefundRule.SELLER_FAULT, "changed_mind", True, "0.00"),
        (ShippingRefundRule.SELLER_FAULT, "wrong_item", False, "4.90"),
        (ShippingRefundRule.ALWAYS, "changed_mind", False, "4.90"),
    ],
)
def test_shipping_refund_rules(rule, reason, whole, expected):
    order = paid_order_of(stacked_cart(), shipping_paid="4.90")
    returned = (
        (ReturnedUnits(1, 3, reason), ReturnedUnits(2, 1, reason))
        if whole
        else (ReturnedUnits(2, 1, reason),)
    )
    result = refund_compute(
        RefundRequest(
            order=order, returned=returned, policy=RefundPolicy(shipping_refund_rule=rule)
        )
    )
    assert result.shipping == D(expected)


def test_order_level_discount_stored_only_on_the_order_is_prorated_like_the_engine():
    """Same cart, but the order kept only "5.00 off the order": the shares come out 3.38/1.62."""
    cart = stacked_cart()
    order = paid_order_of(cart)
    only_order_level = dataclasses.replace(
        order,
        order_discount=D("5.00"),
        lines=tuple(
            dataclasses.replace(li, order_discount=None, tax_amount=None) for li in order.lines
        ),
    )
    assert line_costs(only_order_level) == {1: (D("47.59"), D("7.93")), 2: (D("22.88"), D("3.81"))}
    whole = refund_compute(
        RefundRequest(
            order=only_order_level,
            returned=(ReturnedUnits(1, 3, "changed_mind"), ReturnedUnits(2, 1, "changed_mind")),
        )
    )
    assert whole.total == cart.grand_total == D("70.47")


def test_business_customer_gets_a_credit_note_net_with_tax_apart():
    """10 x 12.50 excluding tax, 5% off the line (6.25): net 118.75, tax 23.75, paid 142.50."""
    order = PaidOrder(
        currency="EUR",
        prices_include_tax=False,
        customer_kind=CustomerKind.BUSINESS,
        lines=(
            PaidLine(
                key=7, quantity=10, unit_price=D("12.50"), line_discount=D("6.25"), tax_rate=D("20")
            ),
        ),
    )
    assert line_costs(order) == {7: (D("142.50"), D("23.75"))}
    result = refund_compute(
        RefundRequest(order=order, returned=(ReturnedUnits(7, 4, "wrong_item"),), policy=FEE_10)
    )
    (refund,) = result.lines
    assert (refund.gross, refund.tax, refund.net, refund.fee) == (
        D("57.00"),
        D("9.50"),
        D("47.50"),
        D("0.00"),
    )
    assert result.document_type is DocumentType.CREDIT_NOTE
    assert (result.net_total, result.tax_total, result.total) == (D("47.50"), D("9.50"), D("57.00"))
    assert "Credit note for a business customer: 47.50 EUR excluding tax plus 9.50 tax." in (
        result.explanations
    )


def test_rounding_is_half_even_to_the_cent():
    assert [cents(D(v)) for v in ("0.125", "0.135", "2.675", "-0.125")] == [
        D("0.12"),
        D("0.14"),
        D("2.68"),
        D("-0.12"),
    ]
    # 3 units for 10.05: one unit 3.35; a 0.5% fee on 3.35 = 0.01675 -> 0.02.
    order = PaidOrder(currency="EUR", lines=(PaidLine(key=1, quantity=3, unit_price=D("3.35")),))
    result = refund_compute(
        RefundRequest(
            order=order,
            returned=(ReturnedUnits(1, 1, "changed_mind"),),
            policy=RefundPolicy(restocking_fee_percent=D("0.5")),
        )
    )
    assert (result.lines[0].gross, result.lines[0].fee) == (D("3.35"), D("0.02"))


def test_line_own_fee_percent_overrides_the_policy():
    order = paid_order_of(stacked_cart())
    result = refund_compute(
        RefundRequest(
            order=order,
            returned=(ReturnedUnits(2, 1, "changed_mind", restocking_fee_percent=D("0")),),
            policy=FEE_10,
        )
    )
    assert result.lines[0].fee == 0


def test_bad_returned_lines_are_all_reported():
    order = paid_order_of(stacked_cart())
    exhausted = dataclasses.replace(
        order,
        lines=(order.lines[0], dataclasses.replace(order.lines[1], refunded_quantity=1)),
    )
    with pytest.raises(RefundInputError) as caught:
        refund_compute(
            RefundRequest(
                order=exhausted,
                returned=(
                    ReturnedUnits(99, 1, "changed_mind"),
                    ReturnedUnits(1, 4, "changed_mind"),
                    ReturnedUnits(1, 1, "changed_mind"),
                    ReturnedUnits(2, 1, "changed_mind"),
                    ReturnedUnits(1, 0, "changed_mind", restocking_fee_percent=D("101")),
                ),
            )
        )
    assert [(p.index, p.field, p.code) for p in caught.value.problems] == [
        (0, "line", "unknown_line"),
        (1, "quantity", "over_refundable"),
        (2, "line", "duplicate"),
        (3, "quantity", "over_refundable"),
        (4, "line", "duplicate"),
        (4, "quantity", "min_value"),
        (4, "restocking_fee_percent", "invalid"),
    ]


def test_policy_fee_percent_out_of_range_is_a_programming_error():
    with pytest.raises(ValueError, match="percent"):
        refund_compute(
            RefundRequest(
                order=paid_order_of(stacked_cart()),
                returned=(ReturnedUnits(1, 1, "changed_mind"),),
                policy=RefundPolicy(restocking_fee_percent=D("-1")),
            )
        )
