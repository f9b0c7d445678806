"""``price_cart``: one cart, one price, whichever door asks (API, admin, store screens, orders).

Steps: resolve each line's unit price from the price lists (customer > channel > base),
expressed in the cart's price basis; apply promotions (see ``promotions`` for the rules);
compute tax per line; sum. Deterministic: the same request, with its lines in any order, gives
the same figures for each line.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from channels_app.pricing.money import ZERO, excluding_tax, including_tax, money, percent_of
from channels_app.pricing.promotions import (
    Assignment,
    assign_lines,
    discount_shares,
    ineligibility,
    normalise_coupon,
    order_key,
    resolve_stacking,
)
from channels_app.pricing.types import (
    AppliedPromotion,
    CartLine,
    CouponRejection,
    DiscountShare,
    LineProblem,
    PricedCart,
    PricedLine,
    PriceListData,
    PricingContext,
    PricingError,
    PricingRequest,
    PromotionData,
    RejectedCoupon,
    TaxBreakdown,
)


def price_cart(request: PricingRequest) -> PricedCart:
    """Price ``request.lines``. Raises ``PricingError`` listing every line that cannot be priced.

    Contract: amounts in the result are cents; for each line
    ``subtotal - sum(line_discounts) - sum(cart_discounts) == total`` and
    ``total_excluding_tax + tax_amount == total_including_tax``; every cart figure is the sum of
    the lines' figures; a line's discounts never exceed its subtotal.
    """
    context, lines = request.context, request.lines
    rates, unit_prices = _resolve_lines(request)
    ranks = _canonical_ranks(lines)
    subtotals = [money(unit_prices[i][1] * line.quantity) for i, line in enumerate(lines)]
    list_subtotal = sum(subtotals, ZERO)

    coupons = _unique_coupons(request.coupon_codes)
    eligible, rejected = _eligible_promotions(request, coupons=coupons, list_subtotal=list_subtotal)
    kept, superseded = resolve_stacking(eligible, lines=lines, subtotals=subtotals, ranks=ranks)
    assignments, blocked = assign_lines(kept, lines=lines)
    rejected.update(
        {p.coupon_code: CouponRejection.SUPERSEDED_IN_STACKING_GROUP for p in superseded}
    )
    rejected.update(
        {p.coupon_code: CouponRejection.BLOCKED_BY_EXCLUSIVE_PROMOTION for p in blocked}
    )

    remaining = dict(enumerate(subtotals))
    line_shares: list[list[DiscountShare]] = [[] for _ in lines]
    cart_shares: list[list[DiscountShare]] = [[] for _ in lines]
    applied: list[AppliedPromotion] = []
    line_stage = [a for a in assignments if a.promotion.is_line_level]
    cart_stage = [a for a in assignments if not a.promotion.is_line_level]
    for stage, level, shares_by_line in (
        (line_stage, "line", line_shares),
        (cart_stage, "cart", cart_shares),
    ):
        for assignment in stage:
            promotion = assignment.promotion
            shares = _apply(assignment, lines=lines, remaining=remaining, ranks=ranks)
            if not shares:
                rejected[promotion.coupon_code] = CouponRejection.NO_DISCOUNT
                continue
            for i, amount in shares.items():
                shares_by_line[i].append(DiscountShare(promotion.code, amount))
            applied.append(
                AppliedPromotion(
                    code=promotion.code,
                    name=promotion.name,
                    level=level,
                    amount=sum(shares.values(), ZERO),
                    line_indexes=tuple(sorted(shares)),
                    coupon_code=promotion.coupon_code,
                )
            )

    priced = tuple(
        _priced_line(
            line,
            price_list_code=unit_prices[i][0],
            unit_price=unit_prices[i][1],
            subtotal=subtotals[i],
            line_discounts=tuple(line_shares[i]),
            cart_discounts=tuple(cart_shares[i]),
            rate=rates[i],
            prices_include_tax=context.prices_include_tax,
        )
        for i, line in enumerate(lines)
    )
    applied_coupons = sorted({normalise_coupon(a.coupon_code) for a in applied if a.coupon_code})
    rejections = {normalise_coupon(code): reason for code, reason in rejected.items() if code}
    return PricedCart(
        currency=context.currency,
        prices_include_tax=context.prices_include_tax,
        lines=priced,
        subtotal=sum((line.subtotal for line in priced), ZERO),
        discounts=tuple(applied),
        discount_total=sum((line.discount_total for line in priced), ZERO),
        total=sum((line.total for line in priced), ZERO),
        total_excluding_tax=sum((line.total_excluding_tax for line in priced), ZERO),
        tax_total=sum((line.tax_amount for line in priced), ZERO),
        total_including_tax=sum((line.total_including_tax for line in priced), ZERO),
        taxes=_tax_breakdown(priced),
        applied_coupons=tuple(applied_coupons),
        rejected_coupons=tuple(
            RejectedCoupon(code, rejections[code]) for code in coupons if code in rejections
        ),
    )


def _resolve_lines(
    request: PricingRequest,
) -> tuple[list[Decimal], list[tuple[str, Decimal]]]:
    """Each line's tax rate and ``(price list code, unit price in the cart's basis)``."""
    context = request.context
    lists = _applicable_price_lists(request.price_lists, context)
    problems: list[LineProblem] = []
    rates: list[Decimal] = []
    prices: list[tuple[str, Decimal]] = []
    for index, line in enumerate(request.lines):
        if line.quantity <= 0:
            problems.append(
                LineProblem(index, "quantity", "invalid", "The quantity must be at least 1.")
            )
        rate = request.tax_rates.get(line.tax_class)
        if rate is None:
            problems.append(
                LineProblem(
                    index,
                    "tax_class",
                    "no_tax_rate",
                    f"No tax rate for class {line.tax_class!r} in {context.country}.",
                )
            )
        found = _unit_price(lists, sku=line.sku, quantity=max(line.quantity, 1))
        if found is None:
            problems.append(
                LineProblem(index, "sku", "no_price", f"No price for {line.sku!r} on this channel.")
            )
        if rate is None or found is None:
            rates.append(ZERO)
            prices.append(("", ZERO))
            continue
        price_list, unit_price = found
        if price_list.prices_include_tax and not context.prices_include_tax:
            unit_price = excluding_tax(unit_price, rate)
        elif not price_list.prices_include_tax and context.prices_include_tax:
            unit_price = including_tax(unit_price, rate)
        rates.append(rate)
        prices.append((price_list.code, money(unit_price)))
    if problems:
        raise PricingError(tuple(problems))
    return rates, prices


def _applicable_price_lists(
    price_lists: Sequence[PriceListData], context: PricingContext
) -> list[PriceListData]:
    """Lists that may price this cart, best first: customer, channel, base; priority; code."""

    def scope(price_list: PriceListData) -> int:
        if price_list.customer_id is not None:
            return 2
        return 1 if price_list.channel_code is not None else 0

    usable = [
        price_list
        for price_list in price_lists
        if price_list.currency == context.currency
        and (price_list.customer_id is None or price_list.customer_id == context.customer_id)
        and (price_list.channel_code is None or price_list.channel_code == context.channel_code)
        and (price_list.starts_at is None or price_list.starts_at <= context.at)
        and (price_list.ends_at is None or context.at < price_list.ends_at)
    ]
    return sorted(usable, key=lambda p: (-scope(p), -p.priority, p.code))


def _unit_price(
    lists: Sequence[PriceListData], *, sku: str, quantity: int
) -> tuple[PriceListData, Decimal] | None:
    """The first list with a tier reached by ``quantity``; its largest such tier."""
    for price_list in lists:
        tiers = [tier for tier in price_list.prices.get(sku, ()) if tier.min_quantity <= quantity]
        if tiers:
            best = max(tiers, key=lambda tier: tier.min_quantity)
            return price_list, best.unit_price
    return None


def _canonical_ranks(lines: Sequence[CartLine]) -> list[int]:
    """Each line's place when lines are sorted by content: the tie-break for every split."""
    order = sorted(
        range(len(lines)),
        key=lambda i: (lines[i].sku, lines[i].category, lines[i].tax_class, lines[i].quantity),
    )
    ranks = [0] * len(lines)
    for rank, index in enumerate(order):
        ranks[index] = rank
    return ranks


def _unique_coupons(codes: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for code in codes:
        normalised = normalise_coupon(code)
        if normalised:
            seen.setdefault(normalised, None)
    return tuple(seen)


def _eligible_promotions(
    request: PricingRequest, *, coupons: Sequence[str], list_subtotal: Decimal
) -> tuple[list[PromotionData], dict[str, CouponRejection]]:
    """Eligible promotions in the global order, and why each given coupon is not."""
    by_coupon = {normalise_coupon(p.coupon_code): p for p in request.promotions if p.coupon_code}
    rejected: dict[str, CouponRejection] = {
        code: CouponRejection.UNKNOWN for code in coupons if code not in by_coupon
    }
    candidates = [p for p in request.promotions if not p.coupon_code]
    candidates += [by_coupon[code] for code in coupons if code in by_coupon]
    eligible: list[PromotionData] = []
    for promotion in candidates:
        reason = ineligibility(
            promotion, context=request.context, lines=request.lines, list_subtotal=list_subtotal
        )
        if reason is None:
            eligible.append(promotion)
        elif promotion.coupon_code:
            rejected[promotion.coupon_code] = reason
    return sorted(eligible, key=order_key), rejected


def _apply(
    assignment: Assignment,
    *,
    lines: Sequence[CartLine],
    remaining: dict[int, Decimal],
    ranks: Sequence[int],
) -> dict[int, Decimal]:
    shares = discount_shares(
        assignment.promotion,
        line_indexes=assignment.line_indexes,
        lines=lines,
        remaining=remaining,
        ranks=ranks,
    )
    for i, amount in shares.items():
        remaining[i] -= amount
    return shares


def _priced_line(
    line: CartLine,
    *,
    price_list_code: str,
    unit_price: Decimal,
    subtotal: Decimal,
    line_discounts: tuple[DiscountShare, ...],
    cart_discounts: tuple[DiscountShare, ...],
    rate: Decimal,
    prices_include_tax: bool,
) -> PricedLine:
    discount_total = sum((d.amount for d in (*line_discounts, *cart_discounts)), ZERO)
    total = subtotal - discount_total
    if prices_include_tax:
        total_excluding_tax = excluding_tax(total, rate)
        tax_amount = total - total_excluding_tax
    else:
        total_excluding_tax = total
        tax_amount = percent_of(total, rate)
    return PricedLine(
        sku=line.sku,
        quantity=line.quantity,
        category=line.category,
        tax_class=line.tax_class,
        price_list_code=price_list_code,
        unit_price=unit_price,
        subtotal=subtotal,
        line_discounts=line_discounts,
        cart_discounts=cart_discounts,
        discount_total=discount_total,
        total=total,
        tax_rate=rate,
        tax_amount=tax_amount,
        total_excluding_tax=total_excluding_tax,
        total_including_tax=total_excluding_tax + tax_amount,
    )


def _tax_breakdown(lines: Sequence[PricedLine]) -> tuple[TaxBreakdown, ...]:
    buckets: dict[tuple[str, Decimal], tuple[Decimal, Decimal]] = {}
    for line in lines:
        key = (line.tax_class, line.tax_rate)
        base, amount = buckets.get(key, (ZERO, ZERO))
        buckets[key] = (base + line.total_excluding_tax, amount + line.tax_amount)
    return tuple(
        TaxBreakdown(tax_class=key[0], rate=key[1], base=base, amount=amount)
        for key, (base, amount) in sorted(buckets.items())
    )
