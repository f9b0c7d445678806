"""Properties of the pricing engine over generated carts and promotions (Hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from channels_app.pricing import (
    CartLine,
    CustomerSegment,
    PricedCart,
    PricingRequest,
    PromotionData,
    PromotionKind,
    PromotionTarget,
    price_cart,
)
from tests.channels_app.pricing_helpers import make_request, price_list

SKUS = ("A", "B", "C", "D", "E")
CATEGORIES = ("books", "toys", "")
ZERO = Decimal("0.00")

cents = st.integers(min_value=1, max_value=50_000).map(lambda n: Decimal(n) / 100)
lines_strategy = st.lists(
    st.builds(
        CartLine,
        sku=st.sampled_from(SKUS),
        quantity=st.integers(min_value=1, max_value=12),
        category=st.sampled_from(CATEGORIES),
        tax_class=st.sampled_from(("standard", "reduced")),
    ),
    min_size=1,
    max_size=8,
)


@st.composite
def promotions_strategy(draw: st.DrawFn) -> PromotionData:
    kind = draw(st.sampled_from(list(PromotionKind)))
    target = draw(st.sampled_from(list(PromotionTarget)))
    if kind is PromotionKind.AMOUNT_OFF:
        value = draw(cents)
    else:
        value = Decimal(draw(st.integers(min_value=1, max_value=100)))
    return PromotionData(
        code=draw(st.from_regex(r"[a-z]{1,6}", fullmatch=True)),
        name="generated",
        kind=kind,
        target=target,
        value=value,
        skus=frozenset(draw(st.sets(st.sampled_from(SKUS), min_size=1))),
        categories=frozenset(draw(st.sets(st.sampled_from(CATEGORIES), min_size=1))),
        buy_quantity=draw(st.integers(min_value=1, max_value=3)),
        get_quantity=draw(st.integers(min_value=1, max_value=2)),
        priority=draw(st.integers(min_value=0, max_value=3)),
        is_exclusive=draw(st.booleans()),
        stacking_group=draw(st.sampled_from(("", "", "g1", "g2"))),
        min_cart_amount=draw(st.none() | cents),
        coupon_code=draw(st.sampled_from(("", "", "CPN1", "CPN2"))),
    )


@st.composite
def requests(draw: st.DrawFn) -> PricingRequest:
    prices = {sku: str(draw(cents)) for sku in SKUS}
    is_business = draw(st.booleans())
    promotions = draw(st.lists(promotions_strategy(), max_size=6, unique_by=lambda p: p.code))
    # Coupon codes are unique, as the database guarantees.
    seen: set[str] = set()
    unique = []
    for promotion in promotions:
        if promotion.coupon_code and promotion.coupon_code in seen:
            continue
        seen.add(promotion.coupon_code)
        unique.append(promotion)
    return make_request(
        draw(lines_strategy),
        lists=[price_list("base", prices, include_tax=draw(st.booleans()))],
        promotions=unique,
        coupons=draw(st.lists(st.sampled_from(("CPN1", "cpn2", "NOPE")), max_size=3)),
        segment=CustomerSegment.B2B if is_business else CustomerSegment.B2C,
    )


def assert_consistent(cart: PricedCart) -> None:
    for line in cart.lines:
        line_discounts = sum((d.amount for d in line.line_discounts), ZERO)
        cart_discounts = sum((d.amount for d in line.cart_discounts), ZERO)
        assert all(d.amount > 0 for d in (*line.line_discounts, *line.cart_discounts))
        assert line.discount_total == line_discounts + cart_discounts
        assert ZERO <= line.discount_total <= line.subtotal
        assert line.total == line.subtotal - line.discount_total >= ZERO
        assert line.total_excluding_tax + line.tax_amount == line.total_including_tax
        assert line.tax_amount >= ZERO
        for amount in (line.subtotal, line.total, line.tax_amount, line.total_excluding_tax):
            assert amount == amount.quantize(Decimal("0.01"))
    assert cart.subtotal == sum((line.subtotal for line in cart.lines), ZERO)
    assert cart.discount_total == sum((d.amount for d in cart.discounts), ZERO)
    assert cart.discount_total == sum((line.discount_total for line in cart.lines), ZERO)
    assert cart.total == cart.subtotal - cart.discount_total
    assert cart.tax_total == sum((line.tax_amount for line in cart.lines), ZERO)
    assert cart.total_excluding_tax + cart.tax_total == cart.grand_total
    assert cart.tax_total == sum((t.amount for t in cart.taxes), ZERO)
    for applied in cart.discounts:
        borne = sum(
            (
                share.amount
                for index in applied.line_indexes
                for share in (
                    *cart.lines[index].line_discounts,
                    *cart.lines[index].cart_discounts,
                )
                if share.promotion_code == applied.code
            ),
            ZERO,
        )
        assert borne == applied.amount
    assert not set(cart.applied_coupons) & {r.code for r in cart.rejected_coupons}


@settings(max_examples=300, deadline=None)
@given(request=requests(), data=st.data())
def test_totals_add_up_discounts_stay_within_prices_and_order_does_not_matter(
    request: PricingRequest, data: st.DataObject
) -> None:
    cart = price_cart(request)
    assert_consistent(cart)
    assert price_cart(request) == cart  # the same request, the same answer

    permutation = data.draw(st.permutations(range(len(request.lines))))
    shuffled = PricingRequest(
        context=request.context,
        lines=tuple(request.lines[i] for i in permutation),
        price_lists=request.price_lists,
        promotions=tuple(reversed(request.promotions)),
        tax_rates=request.tax_rates,
        coupon_codes=request.coupon_codes,
    )
    reshuffled = price_cart(shuffled)
    # Line i of the shuffled cart is line permutation[i] of the original; identical lines may
    # swap a rounding cent, so they compare as a multiset.
    assert sorted(map(repr, reshuffled.lines)) == sorted(map(repr, cart.lines))
    for position, original in enumerate(permutation):
        if request.lines.count(request.lines[original]) == 1:
            assert reshuffled.lines[position] == cart.lines[original]
    # Applied promotions name lines by index: compare the lines they name by content.
    assert [
        (d.code, d.amount, sorted(repr(shuffled.lines[i]) for i in d.line_indexes))
        for d in reshuffled.discounts
    ] == [
        (d.code, d.amount, sorted(repr(request.lines[i]) for i in d.line_indexes))
        for d in cart.discounts
    ]
    for name in ("subtotal", "discount_total", "tax_total", "grand_total", "taxes"):
        assert getattr(reshuffled, name) == getattr(cart, name)
    assert reshuffled.applied_coupons == cart.applied_coupons
    assert reshuffled.rejected_coupons == cart.rejected_coupons
