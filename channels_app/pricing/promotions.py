"""Which promotions apply, on which lines, and how much each takes off.

Rules, in the order the engine applies them:

1. Eligibility: active; ``starts_at <= at < ends_at``; channel in scope (empty scope = all);
   customer segment (if set); currency (amount promotions and minimum cart amounts); usage not
   exhausted; coupon-only promotions need their code; the cart subtotal at list price reaches
   ``min_cart_amount``; at least one line is targeted (buy X get Y: at least ``buy + get``
   targeted units).
2. Stacking groups: of the eligible promotions sharing a non-empty ``stacking_group``, only the
   one with the largest discount on the undiscounted cart is kept (ties: priority, then code).
3. Exclusivity, in the global order (priority descending, then code): an exclusive promotion
   takes its lines away from every promotion after it.
4. Application: line promotions (product, category, buy X get Y) first, then cart promotions,
   each stage in the global order, each on what the earlier ones left of its lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from channels_app.pricing.money import ZERO, money, percent_of, prorate
from channels_app.pricing.types import (
    CartLine,
    CouponRejection,
    PricingContext,
    PromotionData,
    PromotionKind,
    PromotionTarget,
)


def normalise_coupon(code: str) -> str:
    """Coupon codes compare case-insensitively, surrounding blanks ignored."""
    return code.strip().upper()


def order_key(promotion: PromotionData) -> tuple[int, str]:
    """The global, deterministic order: higher priority first, then code."""
    return (-promotion.priority, promotion.code)


def targeted_lines(promotion: PromotionData, lines: Sequence[CartLine]) -> tuple[int, ...]:
    if promotion.target is PromotionTarget.PRODUCT:
        return tuple(i for i, line in enumerate(lines) if line.sku in promotion.skus)
    if promotion.target is PromotionTarget.CATEGORY:
        return tuple(i for i, line in enumerate(lines) if line.category in promotion.categories)
    return tuple(range(len(lines)))


def ineligibility(
    promotion: PromotionData,
    *,
    context: PricingContext,
    lines: Sequence[CartLine],
    list_subtotal: Decimal,
) -> CouponRejection | None:
    """Why ``promotion`` cannot apply to this cart, or ``None`` when it can (rule 1)."""
    if not promotion.is_active:
        return CouponRejection.INACTIVE
    if promotion.starts_at is not None and context.at < promotion.starts_at:
        return CouponRejection.NOT_STARTED
    if promotion.ends_at is not None and context.at >= promotion.ends_at:
        return CouponRejection.EXPIRED
    if promotion.channel_codes and context.channel_code not in promotion.channel_codes:
        return CouponRejection.NOT_VALID_FOR_CHANNEL
    if promotion.segment is not None and promotion.segment is not context.segment:
        return CouponRejection.NOT_VALID_FOR_CUSTOMER
    uses_amounts = (
        promotion.kind is PromotionKind.AMOUNT_OFF or promotion.min_cart_amount is not None
    )
    if uses_amounts and promotion.currency and promotion.currency != context.currency:
        return CouponRejection.CURRENCY_MISMATCH
    if promotion.is_usage_exhausted:
        return CouponRejection.USAGE_LIMIT_REACHED
    if promotion.min_cart_amount is not None and list_subtotal < promotion.min_cart_amount:
        return CouponRejection.MIN_CART_AMOUNT_NOT_REACHED
    targets = targeted_lines(promotion, lines)
    if not targets:
        return CouponRejection.NO_ELIGIBLE_LINES
    if promotion.kind is PromotionKind.BUY_X_GET_Y:
        units = sum(lines[i].quantity for i in targets)
        if units < promotion.buy_quantity + promotion.get_quantity:
            return CouponRejection.NO_ELIGIBLE_LINES
    return None


@dataclass(frozen=True)
class Assignment:
    promotion: PromotionData
    line_indexes: tuple[int, ...]


def resolve_stacking(
    promotions: Sequence[PromotionData],
    *,
    lines: Sequence[CartLine],
    subtotals: Sequence[Decimal],
    ranks: Sequence[int],
) -> tuple[tuple[PromotionData, ...], tuple[PromotionData, ...]]:
    """Keep the best promotion of each stacking group (rule 2): ``(kept, superseded)``."""
    groups: dict[str, list[PromotionData]] = {}
    kept: list[PromotionData] = []
    for promotion in promotions:
        if promotion.stacking_group:
            groups.setdefault(promotion.stacking_group, []).append(promotion)
        else:
            kept.append(promotion)
    superseded: list[PromotionData] = []
    for group in sorted(groups):
        members = groups[group]

        def standalone(promotion: PromotionData) -> Decimal:
            remaining = dict(enumerate(subtotals))
            shares = discount_shares(
                promotion,
                line_indexes=targeted_lines(promotion, lines),
                lines=lines,
                remaining=remaining,
                ranks=ranks,
            )
            return sum(shares.values(), ZERO)

        best = min(members, key=lambda p: (-standalone(p), *order_key(p)))
        kept.append(best)
        superseded.extend(p for p in members if p is not best)
    return tuple(sorted(kept, key=order_key)), tuple(sorted(superseded, key=order_key))


def assign_lines(
    promotions: Sequence[PromotionData], *, lines: Sequence[CartLine]
) -> tuple[tuple[Assignment, ...], tuple[PromotionData, ...]]:
    """Give each promotion the lines no earlier exclusive promotion took (rule 3).

    Returns ``(assignments, blocked)``; ``promotions`` must be in the global order.
    """
    taken: set[int] = set()
    assignments: list[Assignment] = []
    blocked: list[PromotionData] = []
    for promotion in promotions:
        free = tuple(i for i in targeted_lines(promotion, lines) if i not in taken)
        if not free:
            blocked.append(promotion)
            continue
        assignments.append(Assignment(promotion, free))
        if promotion.is_exclusive:
            taken.update(free)
    return tuple(assignments), tuple(blocked)


def discount_shares(
    promotion: PromotionData,
    *,
    line_indexes: Sequence[int],
    lines: Sequence[CartLine],
    remaining: Mapping[int, Decimal],
    ranks: Sequence[int],
) -> dict[int, Decimal]:
    """What ``promotion`` takes off each of its lines, given what is ``remaining`` on them.

    Never more than a line's remaining amount. ``ranks`` is each line's canonical rank (its
    place when lines are sorted by content), used for every tie so that the request order of
    the lines never changes a result.
    """
    indexes = sorted(line_indexes, key=lambda i: ranks[i])
    value = promotion.value
    if promotion.kind is PromotionKind.BUY_X_GET_Y:
        return _buy_x_get_y(promotion, indexes=indexes, lines=lines, remaining=remaining)
    if promotion.target is PromotionTarget.CART:
        base = sum((remaining[i] for i in indexes), ZERO)
        if promotion.kind is PromotionKind.PERCENT_OFF:
            total = percent_of(base, value)
        else:
            total = min(money(value), base)
        shares = prorate(total, [remaining[i] for i in indexes])
        return {i: share for i, share in zip(indexes, shares, strict=True) if share > 0}
    result: dict[int, Decimal] = {}
    for i in indexes:
        if promotion.kind is PromotionKind.PERCENT_OFF:
            amount = percent_of(remaining[i], value)
        else:
            amount = min(money(value * lines[i].quantity), remaining[i])
        if amount > 0:
            result[i] = amount
    return result


def _buy_x_get_y(
    promotion: PromotionData,
    *,
    indexes: Sequence[int],
    lines: Sequence[CartLine],
    remaining: Mapping[int, Decimal],
) -> dict[int, Decimal]:
    """The ``get`` cheapest units of every ``buy + get`` targeted units are discounted."""
    group_size = promotion.buy_quantity + promotion.get_quantity
    units = sum(lines[i].quantity for i in indexes)
    if group_size <= 0 or promotion.get_quantity <= 0:
        return {}
    discounted_units = (units // group_size) * promotion.get_quantity
    # Cheapest unit first; ``indexes`` is already in canonical order (the tie-break).
    cheapest_first = sorted(indexes, key=lambda i: remaining[i] / lines[i].quantity)
    result: dict[int, Decimal] = {}
    for i in cheapest_first:
        if discounted_units <= 0:
            break
        quantity = lines[i].quantity
        taken = min(quantity, discounted_units)
        discounted_units -= taken
        amount = min(percent_of(remaining[i] * taken / quantity, promotion.value), remaining[i])
        if amount > 0:
            result[i] = amount
    return result
