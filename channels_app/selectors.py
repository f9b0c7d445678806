"""Reads of the channels app. Pricing: build the pure engine's inputs from the database.

``cart_price`` is the one way every door (quote API, admin, store screens, order capture)
prices a cart; it reads in a constant number of queries whatever the cart's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Prefetch, Q
from django.db.models.functions import Upper
from django.utils import timezone

from channels_app.models import (
    Customer,
    PriceList,
    PriceListItem,
    Promotion,
    SalesChannel,
    TaxRate,
)
from channels_app.pricing import (
    CartLine,
    CustomerSegment,
    PricedCart,
    PriceListData,
    PriceTier,
    PricingContext,
    PricingError,
    PricingRequest,
    PromotionData,
    PromotionKind,
    PromotionTarget,
    price_cart,
)
from channels_app.pricing.promotions import normalise_coupon
from omnilog.core.errors import FieldError, ValidationFailed


def pricing_context_build(
    *, channel: SalesChannel, customer: Customer | None, at: datetime
) -> PricingContext:
    """Business customers and B2B channels are priced tax excluded; consumers tax included."""
    is_business = (customer is not None and customer.is_business) or (
        channel.kind == SalesChannel.Kind.B2B
    )
    segment = CustomerSegment.B2B if is_business else CustomerSegment.B2C
    return PricingContext(
        channel_code=channel.code,
        country=channel.country,
        currency=channel.currency,
        at=at,
        segment=segment,
        customer_id=customer.pk if customer is not None else None,
        prices_include_tax=segment is CustomerSegment.B2C,
    )


def price_list_data_for(
    *, channel: SalesChannel, customer: Customer | None, skus: Iterable[str], at: datetime
) -> tuple[PriceListData, ...]:
    """Active lists of the channel's currency that may price the cart at ``at`` (2 queries)."""
    lists = (
        PriceList.objects.filter(is_active=True, currency=channel.currency)
        .filter(Q(channel__isnull=True) | Q(channel=channel))
        .filter(
            Q(customer__isnull=True) | Q(customer=customer)
            if customer is not None
            else Q(customer__isnull=True)
        )
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .prefetch_related(
            Prefetch(
                "items",
                queryset=PriceListItem.objects.filter(sku__in=sorted(set(skus))).order_by(
                    "sku", "min_quantity"
                ),
            )
        )
        .order_by("code")
    )
    result = []
    for price_list in lists:
        prices: dict[str, list[PriceTier]] = {}
        for item in price_list.items.all():
            prices.setdefault(item.sku, []).append(PriceTier(item.min_quantity, item.unit_price))
        result.append(
            PriceListData(
                code=price_list.code,
                currency=price_list.currency,
                prices_include_tax=price_list.prices_include_tax,
                prices={sku: tuple(tiers) for sku, tiers in prices.items()},
                priority=price_list.priority,
                channel_code=channel.code if price_list.channel_id is not None else None,
                customer_id=price_list.customer_id,
                starts_at=price_list.valid_from,
                ends_at=price_list.valid_until,
            )
        )
    return tuple(result)


def promotion_data_for(*, coupon_codes: Sequence[str], at: datetime) -> tuple[PromotionData, ...]:
    """Automatic promotions live at ``at``, and every promotion of the given coupon codes
    whatever its state, so that the engine can say why a coupon is refused (1 query)."""
    codes = sorted({normalise_coupon(code) for code in coupon_codes} - {""})
    automatic = (
        Q(coupon_code="", is_active=True)
        & (Q(starts_at__isnull=True) | Q(starts_at__lte=at))
        & (Q(ends_at__isnull=True) | Q(ends_at__gt=at))
    )
    promotions = (
        Promotion.objects.annotate(
            coupon_upper=Upper("coupon_code"),
            channel_codes=ArrayAgg("channels__code", distinct=True, default=[]),
        )
        .filter(automatic | Q(coupon_upper__in=codes))
        .order_by("code")
    )
    return tuple(_promotion_data(promotion) for promotion in promotions)


def _promotion_data(promotion: Promotion) -> PromotionData:
    channel_codes: list[str | None] = promotion.channel_codes  # type: ignore[attr-defined]
    return PromotionData(
        code=promotion.code,
        name=promotion.name,
        kind=PromotionKind(promotion.kind),
        target=PromotionTarget(promotion.target),
        value=promotion.value,
        skus=frozenset(promotion.skus),
        categories=frozenset(promotion.categories),
        buy_quantity=promotion.buy_quantity,
        get_quantity=promotion.get_quantity,
        coupon_code=promotion.coupon_code,
        starts_at=promotion.starts_at,
        ends_at=promotion.ends_at,
        channel_codes=frozenset(code for code in channel_codes if code),
        segment=CustomerSegment(promotion.customer_segment) if promotion.customer_segment else None,
        priority=promotion.priority,
        is_exclusive=promotion.is_exclusive,
        stacking_group=promotion.stacking_group,
        min_cart_amount=promotion.min_cart_amount,
        currency=promotion.currency,
        is_active=promotion.is_active,
        is_usage_exhausted=(
            promotion.usage_limit is not None and promotion.times_used >= promotion.usage_limit
        ),
    )


def pricing_request_build(
    *,
    channel: SalesChannel,
    lines: Sequence[CartLine],
    customer_id: int | None = None,
    coupon_codes: Sequence[str] = (),
    at: datetime | None = None,
) -> PricingRequest:
    """The engine's input for a cart on ``channel`` (at most 5 queries).

    Raises ``ValidationFailed`` (field ``customer_id``) for an unknown customer.
    """
    moment = at if at is not None else timezone.now()
    customer = None
    if customer_id is not None:
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise ValidationFailed(
                "The customer does not exist.",
                field_errors=[FieldError("customer_id", "No such customer.", "not_found")],
            )
    return PricingRequest(
        context=pricing_context_build(channel=channel, customer=customer, at=moment),
        lines=tuple(lines),
        price_lists=price_list_data_for(
            channel=channel, customer=customer, skus=(line.sku for line in lines), at=moment
        ),
        promotions=promotion_data_for(coupon_codes=coupon_codes, at=moment),
        tax_rates=dict(
            TaxRate.objects.filter(country=channel.country).values_list("tax_class", "rate")
        ),
        coupon_codes=tuple(coupon_codes),
    )


def cart_price(
    *,
    channel: SalesChannel,
    lines: Sequence[CartLine],
    customer_id: int | None = None,
    coupon_codes: Sequence[str] = (),
    at: datetime | None = None,
) -> PricedCart:
    """Price a cart on ``channel`` for ``customer_id`` at ``at`` (default: now).

    Raises ``ValidationFailed`` with one field error per line that cannot be priced
    (``lines.<index>.sku`` code ``no_price``, ``lines.<index>.tax_class`` code ``no_tax_rate``).
    """
    request = pricing_request_build(
        channel=channel, lines=lines, customer_id=customer_id, coupon_codes=coupon_codes, at=at
    )
    try:
        return price_cart(request)
    except PricingError as error:
        raise ValidationFailed(
            "Some lines cannot be priced.",
            field_errors=[
                FieldError(f"lines.{p.line_index}.{p.field}", p.message, p.code)
                for p in error.problems
            ],
        ) from error
