"""Table tests of the pure pricing engine (no database)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from channels_app.pricing import (
    CouponRejection,
    CustomerSegment,
    DiscountShare,
    PricedCart,
    PricingError,
    PromotionKind,
    PromotionTarget,
    RejectedCoupon,
    price_cart,
)
from channels_app.pricing.money import prorate
from tests.channels_app.pricing_helpers import AT, D, line, make_request, price_list, promotion

BASE = price_list("base", {"A": "12.00", "B": "10.55", "C": "100.00", "X": "10.00", "Y": "10.00"})
PRODUCT = PromotionTarget.PRODUCT
CATEGORY = PromotionTarget.CATEGORY
AMOUNT = PromotionKind.AMOUNT_OFF
BXGY = PromotionKind.BUY_X_GET_Y


def discounts(cart: PricedCart) -> list[tuple[str, Decimal]]:
    return [(d.code, d.amount) for d in cart.discounts]


# ---------------------------------------------------------------------------------- tax


def test_tax_included_prices_split_net_and_tax_per_line() -> None:
    cart = price_cart(make_request([line("A", 3), line("B", 1, tax_class="reduced")], lists=[BASE]))
    a, b = cart.lines
    assert (a.unit_price, a.subtotal, a.total) == (D("12.00"), D("36.00"), D("36.00"))
    assert (a.total_excluding_tax, a.tax_amount, a.tax_rate) == (D("30.00"), D("6.00"), D("20"))
    assert (b.total_excluding_tax, b.tax_amount, b.total_including_tax) == (
        D("10.00"),
        D("0.55"),
        D("10.55"),
    )
    assert cart.prices_include_tax is True
    assert (cart.total_excluding_tax, cart.tax_total, cart.grand_total) == (
        D("40.00"),
        D("6.55"),
        D("46.55"),
    )
    assert [(t.tax_class, t.base, t.amount) for t in cart.taxes] == [
        ("reduced", D("10.00"), D("0.55")),
        ("standard", D("30.00"), D("6.00")),
    ]


def test_tax_excluded_list_for_a_business_adds_tax() -> None:
    net = price_list("net", {"A": "10.00"}, include_tax=False)
    cart = price_cart(make_request([line("A", 3)], lists=[net], segment=CustomerSegment.B2B))
    (a,) = cart.lines
    assert cart.prices_include_tax is False
    assert (a.total, a.total_excluding_tax, a.tax_amount, a.total_including_tax) == (
        D("30.00"),
        D("30.00"),
        D("6.00"),
        D("36.00"),
    )
    assert cart.grand_total == D("36.00")


@pytest.mark.parametrize(
    ("include_tax_list", "segment", "expected_unit"),
    [
        pytest.param(True, CustomerSegment.B2B, D("10.00"), id="gross-list-net-cart"),
        pytest.param(False, CustomerSegment.B2C, D("12.00"), id="net-list-gross-cart"),
    ],
)
def test_list_prices_are_converted_to_the_carts_basis(
    include_tax_list: bool, segment: CustomerSegment, expected_unit: Decimal
) -> None:
    listed = "12.00" if include_tax_list else "10.00"
    lists = [price_list("l", {"A": listed}, include_tax=include_tax_list)]
    cart = price_cart(make_request([line("A")], lists=lists, segment=segment))
    assert cart.lines[0].unit_price == expected_unit
    assert cart.grand_total == D("12.00")


# ---------------------------------------------------------------------------- price lists

CUSTOMER_LIST = price_list(
    "cust-7", {"A": {1: "9.00", 10: "8.00"}}, include_tax=False, customer_id=7
)
CHANNEL_LIST = price_list("web-list", {"A": "11.00"}, channel_code="web")


@pytest.mark.parametrize(
    ("customer_id", "channel", "quantity", "expected"),
    [
        pytest.param(7, "web", 1, ("cust-7", D("9.00")), id="customer-list-wins"),
        pytest.param(7, "web", 10, ("cust-7", D("8.00")), id="customer-tier"),
        pytest.param(8, "web", 1, ("web-list", D("9.17")), id="other-customer-channel-list"),
        pytest.param(8, "app", 1, ("base", D("10.00")), id="other-channel-base"),
    ],
)
def test_price_list_precedence(
    customer_id: int, channel: str, quantity: int, expected: tuple[str, Decimal]
) -> None:
    cart = price_cart(
        make_request(
            [line("A", quantity)],
            lists=[BASE, CHANNEL_LIST, CUSTOMER_LIST],
            segment=CustomerSegment.B2B,
            customer_id=customer_id,
            channel=channel,
        )
    )
    assert (cart.lines[0].price_list_code, cart.lines[0].unit_price) == expected


def test_a_sku_missing_from_the_customer_list_falls_back_to_base() -> None:
    cart = price_cart(
        make_request(
            [line("C")], lists=[BASE, CUSTOMER_LIST], segment=CustomerSegment.B2B, customer_id=7
        )
    )
    assert (cart.lines[0].price_list_code, cart.lines[0].unit_price) == ("base", D("83.33"))


def test_within_a_scope_higher_priority_then_code_wins() -> None:
    lists = [
        price_list("b-list", {"A": "5.00"}, priority=1),
        price_list("a-list", {"A": "6.00"}, priority=1),
        price_list("z-list", {"A": "7.00"}, priority=0),
    ]
    cart = price_cart(make_request([line("A")], lists=lists))
    assert cart.lines[0].price_list_code == "a-list"


def test_expired_price_list_is_ignored() -> None:
    old = price_list("old", {"A": "1.00"}, priority=9, ends_at=AT)
    cart = price_cart(make_request([line("A")], lists=[BASE, old]))
    assert cart.lines[0].price_list_code == "base"


def test_lines_without_price_or_tax_rate_are_all_reported() -> None:
    with pytest.raises(PricingError) as caught:
        price_cart(
            make_request([line("A"), line("NOPE"), line("A", tax_class="luxury")], lists=[BASE])
        )
    assert [(p.line_index, p.field, p.code) for p in caught.value.problems] == [
        (1, "sku", "no_price"),
        (2, "tax_class", "no_tax_rate"),
    ]


# ------------------------------------------------------------------------------ promotions


def test_percent_and_amount_off_a_product() -> None:
    promotions = [
        promotion("ten", target=PRODUCT, skus={"A"}, value="10", priority=2),
        promotion("two", target=PRODUCT, skus={"A"}, kind=AMOUNT, value="2", priority=1),
    ]
    cart = price_cart(make_request([line("A", 3), line("C")], lists=[BASE], promotions=promotions))
    a, c = cart.lines
    # 10 % of 36.00, then 2.00 per unit on what is left.
    assert a.line_discounts == (DiscountShare("ten", D("3.60")), DiscountShare("two", D("6.00")))
    assert a.total == D("26.40")
    assert c.line_discounts == ()
    assert discounts(cart) == [("ten", D("3.60")), ("two", D("6.00"))]
    assert cart.discounts[0].line_indexes == (0,)


def test_amount_off_never_exceeds_the_line() -> None:
    promotions = [promotion("huge", target=PRODUCT, skus={"A"}, kind=AMOUNT, value="20")]
    cart = price_cart(make_request([line("A", 3)], lists=[BASE], promotions=promotions))
    assert (cart.lines[0].discount_total, cart.lines[0].total, cart.grand_total) == (
        D("36.00"),
        D("0.00"),
        D("0.00"),
    )


def test_category_promotion_targets_lines_of_that_category() -> None:
    promotions = [promotion("books", target=CATEGORY, categories={"books"}, value="50")]
    cart = price_cart(
        make_request(
            [line("A", category="toys"), line("B", category="books", tax_class="reduced")],
            lists=[BASE],
            promotions=promotions,
        )
    )
    assert [ln.discount_total for ln in cart.lines] == [D("0.00"), D("5.28")]


def test_line_promotions_apply_before_cart_promotions_whatever_the_priority() -> None:
    promotions = [
        promotion("cart", value="10", priority=50),
        promotion("line", target=PRODUCT, skus={"C"}, value="10", priority=0),
    ]
    cart = price_cart(make_request([line("C")], lists=[BASE], promotions=promotions))
    assert discounts(cart) == [("line", D("10.00")), ("cart", D("9.00"))]
    assert cart.lines[0].cart_discounts == (DiscountShare("cart", D("9.00")),)
    assert cart.grand_total == D("81.00")


def test_an_exclusive_promotion_stops_lower_priority_ones_on_its_lines_only() -> None:
    promotions = [
        promotion(
            "exclusive", target=PRODUCT, skus={"C"}, value="20", priority=10, is_exclusive=True
        ),
        promotion("also-c", target=PRODUCT, skus={"C"}, value="5", priority=5),
        promotion("cart", value="10", priority=1),
    ]
    cart = price_cart(make_request([line("C"), line("X")], lists=[BASE], promotions=promotions))
    c, x = cart.lines
    assert c.line_discounts == (DiscountShare("exclusive", D("20.00")),)
    assert c.cart_discounts == ()
    assert x.cart_discounts == (DiscountShare("cart", D("1.00")),)
    assert discounts(cart) == [("exclusive", D("20.00")), ("cart", D("1.00"))]


def test_an_exclusive_promotion_does_not_stop_higher_priority_ones() -> None:
    promotions = [
        promotion("low-excl", target=PRODUCT, skus={"C"}, value="5", priority=1, is_exclusive=True),
        promotion("high", target=PRODUCT, skus={"C"}, value="10", priority=9),
    ]
    cart = price_cart(make_request([line("C")], lists=[BASE], promotions=promotions))
    assert discounts(cart) == [("high", D("10.00")), ("low-excl", D("4.50"))]


def test_a_higher_priority_exclusive_cart_promotion_stops_line_promotions() -> None:
    promotions = [
        promotion("cart-excl", value="10", priority=9, is_exclusive=True),
        promotion("line", target=PRODUCT, skus={"C"}, value="50", priority=1),
    ]
    cart = price_cart(make_request([line("C")], lists=[BASE], promotions=promotions))
    assert discounts(cart) == [("cart-excl", D("10.00"))]


@pytest.mark.parametrize(
    ("sku", "quantity", "winner", "amount"),
    [
        pytest.param("C", 2, "percent", D("20.00"), id="200-percent-wins"),
        pytest.param("X", 5, "amount", D("15.00"), id="50-amount-wins"),
    ],
)
def test_a_stacking_group_keeps_only_the_best_for_the_customer(
    sku: str, quantity: int, winner: str, amount: Decimal
) -> None:
    promotions = [
        promotion("amount", kind=AMOUNT, value="15", stacking_group="cart"),
        promotion("percent", value="10", stacking_group="cart", coupon_code="TENPC"),
        promotion("other", target=PRODUCT, skus={"Z"}, value="10", stacking_group="cart"),
    ]
    cart = price_cart(
        make_request([line(sku, quantity)], lists=[BASE], promotions=promotions, coupons=["tenpc"])
    )
    assert discounts(cart) == [(winner, amount)]
    if winner == "amount":
        assert cart.rejected_coupons == (
            RejectedCoupon("TENPC", CouponRejection.SUPERSEDED_IN_STACKING_GROUP),
        )
    else:
        assert cart.applied_coupons == ("TENPC",)


@pytest.mark.parametrize(
    ("at", "applies"),
    [
        pytest.param(AT - timedelta(microseconds=1), False, id="before-start"),
        pytest.param(AT, True, id="at-start"),
        pytest.param(
            AT + timedelta(days=1) - timedelta(microseconds=1), True, id="just-before-end"
        ),
        pytest.param(AT + timedelta(days=1), False, id="at-end"),
    ],
)
def test_date_window_is_half_open(at, applies: bool) -> None:  # type: ignore[no-untyped-def]
    promotions = [promotion("day", starts_at=AT, ends_at=AT + timedelta(days=1))]
    cart = price_cart(make_request([line("C")], lists=[BASE], promotions=promotions, at=at))
    assert bool(cart.discounts) is applies


@pytest.mark.parametrize(
    ("channel", "applies"),
    [pytest.param("app", True, id="in"), pytest.param("web", False, id="out")],
)
def test_channel_scope(channel: str, applies: bool) -> None:
    promotions = [promotion("app-only", channel_codes={"app", "pos"})]
    cart = price_cart(
        make_request([line("C")], lists=[BASE], promotions=promotions, channel=channel)
    )
    assert bool(cart.discounts) is applies


def test_customer_segment() -> None:
    promotions = [promotion("pro", segment=CustomerSegment.B2B)]
    consumer = price_cart(make_request([line("C")], lists=[BASE], promotions=promotions))
    business = price_cart(
        make_request([line("C")], lists=[BASE], promotions=promotions, segment=CustomerSegment.B2B)
    )
    assert (consumer.discounts, discounts(business)) == ((), [("pro", D("8.33"))])


def test_min_cart_amount_is_measured_on_the_list_subtotal() -> None:
    promotions = [promotion("over-100", kind=AMOUNT, value="5", min_cart_amount="100.00")]
    below = price_cart(make_request([line("X", 9)], lists=[BASE], promotions=promotions))
    at_threshold = price_cart(make_request([line("X", 10)], lists=[BASE], promotions=promotions))
    assert (below.discounts, discounts(at_threshold)) == ((), [("over-100", D("5.00"))])


COUPONS = [
    promotion("welcome", coupon_code="WELCOME10", value="10"),
    promotion("old", coupon_code="OLD", ends_at=AT),
    promotion("future", coupon_code="SOON", starts_at=AT + timedelta(hours=1)),
    promotion("off", coupon_code="OFF", is_active=False),
    promotion("used", coupon_code="USED", is_usage_exhausted=True),
    promotion("app", coupon_code="APPONLY", channel_codes={"app"}),
    promotion("big", coupon_code="BIG", min_cart_amount="1000"),
    promotion("nothing-here", coupon_code="ZONLY", target=PRODUCT, skus={"Z"}),
]


def test_coupons_valid_invalid_and_why() -> None:
    given = [
        " welcome10 ",
        "WELCOME10",
        "NOPE",
        "old",
        "SOON",
        "OFF",
        "USED",
        "APPONLY",
        "BIG",
        "ZONLY",
    ]
    cart = price_cart(make_request([line("C")], lists=[BASE], promotions=COUPONS, coupons=given))
    assert cart.applied_coupons == ("WELCOME10",)
    assert discounts(cart) == [("welcome", D("10.00"))]
    assert cart.discounts[0].coupon_code == "WELCOME10"
    assert [(r.code, r.reason.value) for r in cart.rejected_coupons] == [
        ("NOPE", "unknown"),
        ("OLD", "expired"),
        ("SOON", "not_started"),
        ("OFF", "inactive"),
        ("USED", "usage_limit_reached"),
        ("APPONLY", "not_valid_for_channel"),
        ("BIG", "min_cart_amount_not_reached"),
        ("ZONLY", "no_eligible_lines"),
    ]


def test_a_coupon_only_promotion_needs_its_code() -> None:
    cart = price_cart(make_request([line("C")], lists=[BASE], promotions=COUPONS))
    assert (cart.discounts, cart.applied_coupons, cart.rejected_coupons) == ((), (), ())


def test_a_coupon_blocked_by_an_exclusive_promotion_says_so() -> None:
    promotions = [
        promotion("excl", value="50", priority=9, is_exclusive=True),
        promotion("coupon", value="10", coupon_code="C10"),
    ]
    cart = price_cart(
        make_request([line("C")], lists=[BASE], promotions=promotions, coupons=["C10"])
    )
    assert cart.rejected_coupons == (
        RejectedCoupon("C10", CouponRejection.BLOCKED_BY_EXCLUSIVE_PROMOTION),
    )


# ------------------------------------------------------------------------- buy X get Y


def test_buy_two_get_one_free_gives_the_cheapest_units() -> None:
    lists = [price_list("l", {"B1": "10.00", "B2": "6.00", "B3": "8.00"})]
    promotions = [
        promotion(
            "3for2",
            kind=BXGY,
            target=CATEGORY,
            categories={"books"},
            value="100",
            buy_quantity=2,
            get_quantity=1,
        )
    ]
    lines = [line("B1", 2, "books"), line("B2", 1, "books"), line("B3", 3, "books")]
    cart = price_cart(make_request(lines, lists=lists, promotions=promotions))
    # 6 units -> 2 free: the 6.00 unit and one 8.00 unit.
    assert [ln.discount_total for ln in cart.lines] == [D("0.00"), D("6.00"), D("8.00")]
    assert discounts(cart) == [("3for2", D("14.00"))]
    assert cart.discounts[0].line_indexes == (1, 2)


def test_second_unit_half_price() -> None:
    promotions = [
        promotion(
            "half",
            kind=BXGY,
            target=PRODUCT,
            skus={"A"},
            value="50",
            buy_quantity=1,
            get_quantity=1,
        )
    ]
    cart = price_cart(make_request([line("A", 3)], lists=[BASE], promotions=promotions))
    assert discounts(cart) == [("half", D("6.00"))]


def test_buy_x_get_y_needs_enough_units() -> None:
    promotions = [
        promotion(
            "3for2",
            kind=BXGY,
            target=PRODUCT,
            skus={"A"},
            value="100",
            buy_quantity=2,
            get_quantity=1,
            coupon_code="THREE",
        )
    ]
    cart = price_cart(
        make_request([line("A", 2)], lists=[BASE], promotions=promotions, coupons=["THREE"])
    )
    assert cart.discounts == ()
    assert cart.rejected_coupons == (RejectedCoupon("THREE", CouponRejection.NO_ELIGIBLE_LINES),)


# ----------------------------------------------------------------- rounding and proration


def test_cart_discount_is_prorated_by_largest_remainder_in_canonical_order() -> None:
    promotions = [promotion("ten-off", kind=AMOUNT, value="10")]
    for order in (["X", "Y", "Z"], ["Z", "Y", "X"], ["Y", "Z", "X"]):
        lists = [price_list("l", {"X": "10.00", "Y": "10.00", "Z": "10.00"})]
        cart = price_cart(
            make_request([line(s) for s in order], lists=lists, promotions=promotions)
        )
        shares = {ln.sku: ln.cart_discounts[0].amount for ln in cart.lines}
        assert shares == {"X": D("3.34"), "Y": D("3.33"), "Z": D("3.33")}
        assert cart.discount_total == D("10.00")


def test_half_cent_rounds_up() -> None:
    lists = [price_list("l", {"P": "0.05"})]
    promotions = [promotion("ten", target=PRODUCT, skus={"P"}, value="10")]
    cart = price_cart(make_request([line("P")], lists=lists, promotions=promotions))
    assert cart.lines[0].discount_total == D("0.01")


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        ("10.00", ["1", "1", "1"], ["3.34", "3.33", "3.33"]),
        ("0.02", ["1", "1", "1"], ["0.01", "0.01", "0.00"]),
        ("5.00", ["0", "3", "7"], ["0.00", "1.50", "3.50"]),
        ("1.00", ["2.00", "0.01"], ["1.00", "0.00"]),
        ("0.00", ["1"], ["0.00"]),
    ],
)
def test_prorate_adds_up_exactly(total: str, weights: list[str], expected: list[str]) -> None:
    shares = prorate(D(total), [D(w) for w in weights])
    assert list(shares) == [D(e) for e in expected]
    assert sum(shares) == D(total)
