"""Reads of the channels app. Pricing: build the pure engine's inputs from the database.

``cart_price`` is the one way every door (quote API, admin, store screens, order capture)
prices a cart; it reads in a constant number of queries whatever the cart's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from channels_app.customers import customer_is_linked
from channels_app.models import (
    Customer,
    SalesChannel,
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


# The capture path runs these on every order: fixed SQL text (nothing for the ORM to compile,
# which cost more CPU than the round trips), one statement each.
_PRICE_ITEMS_SQL = """
SELECT l.id, l.code, l.currency, l.prices_include_tax, l.priority, l.channel_id, l.customer_id,
       l.valid_from, l.valid_until, i.sku, i.min_quantity, i.unit_price
FROM channels_app_pricelistitem i JOIN channels_app_pricelist l ON l.id = i.price_list_id
WHERE i.sku = ANY(%(skus)s) AND l.is_active AND l.currency = %(currency)s
  AND (l.channel_id IS NULL OR l.channel_id = %(channel_id)s)
  AND (l.customer_id IS NULL OR l.customer_id = %(customer_id)s)
  AND (l.valid_from IS NULL OR l.valid_from <= %(at)s)
  AND (l.valid_until IS NULL OR l.valid_until > %(at)s)
ORDER BY l.code, i.sku, i.min_quantity
"""

_PROMOTIONS_SQL = """
SELECT p.code, p.name, p.kind, p.target, p.value, p.skus, p.categories, p.buy_quantity,
       p.get_quantity, p.coupon_code, p.starts_at, p.ends_at, p.customer_segment, p.priority,
       p.is_exclusive, p.stacking_group, p.min_cart_amount, p.currency, p.is_active,
       p.usage_limit, p.times_used, array_agg(DISTINCT c.code) FILTER (WHERE c.code IS NOT NULL)
FROM channels_app_promotion p
LEFT JOIN channels_app_promotion_channels pc ON pc.promotion_id = p.id
LEFT JOIN channels_app_saleschannel c ON c.id = pc.saleschannel_id
WHERE (p.coupon_code = '' AND p.is_active
       AND (p.starts_at IS NULL OR p.starts_at <= %(at)s)
       AND (p.ends_at IS NULL OR p.ends_at > %(at)s))
   OR upper(p.coupon_code) = ANY(%(codes)s)
GROUP BY p.id
ORDER BY p.code
"""

_TAX_RATES_SQL = "SELECT tax_class, rate FROM channels_app_taxrate WHERE country = %s"


def price_list_data_for(
    *, channel: SalesChannel, customer: Customer | None, skus: Iterable[str], at: datetime
) -> tuple[PriceListData, ...]:
    """Active lists of the channel's currency that may price the cart at ``at``, each with its
    prices for ``skus`` (1 query: the items, their list joined), best code first.

    A list without a price for any of ``skus`` cannot price the cart, so it is left out: the
    engine only ever looks a line's SKU up in the lists it is given.
    """
    wanted = sorted(set(skus))
    if not wanted:
        return ()
    params: dict[str, Any] = {
        "skus": wanted,
        "currency": channel.currency,
        "channel_id": channel.pk,
        "customer_id": customer.pk if customer is not None else None,
        "at": at,
    }
    with connection.cursor() as cursor:
        cursor.execute(_PRICE_ITEMS_SQL, params)
        rows = cursor.fetchall()
    lists: dict[int, tuple[Any, ...]] = {}
    prices: dict[int, dict[str, list[PriceTier]]] = {}
    for row in rows:
        list_id, sku, min_quantity, unit_price = row[0], row[9], row[10], row[11]
        lists.setdefault(list_id, row)
        prices.setdefault(list_id, {}).setdefault(sku, []).append(
            PriceTier(min_quantity, unit_price)
        )
    return tuple(
        PriceListData(
            code=code,
            currency=currency,
            prices_include_tax=prices_include_tax,
            prices={sku: tuple(tiers) for sku, tiers in prices[list_id].items()},
            priority=priority,
            channel_code=channel.code if channel_id is not None else None,
            customer_id=customer_id,
            starts_at=valid_from,
            ends_at=valid_until,
        )
        for list_id, (
            _,
            code,
            currency,
            prices_include_tax,
            priority,
            channel_id,
            customer_id,
            valid_from,
            valid_until,
            *_item,
        ) in lists.items()
    )


def promotion_data_for(*, coupon_codes: Sequence[str], at: datetime) -> tuple[PromotionData, ...]:
    """Automatic promotions live at ``at``, and every promotion of the given coupon codes
    whatever its state, so that the engine can say why a coupon is refused (1 query)."""
    codes = sorted({normalise_coupon(code) for code in coupon_codes} - {""})
    with connection.cursor() as cursor:
        cursor.execute(_PROMOTIONS_SQL, {"at": at, "codes": codes})
        return tuple(_promotion_data(row) for row in cursor.fetchall())


def _promotion_data(row: Sequence[Any]) -> PromotionData:
    (
        code,
        name,
        kind,
        target,
        value,
        skus,
        categories,
        buy_quantity,
        get_quantity,
        coupon_code,
        starts_at,
        ends_at,
        segment,
        priority,
        is_exclusive,
        stacking_group,
        min_cart_amount,
        currency,
        is_active,
        usage_limit,
        times_used,
        channel_codes,
    ) = row
    return PromotionData(
        code=code,
        name=name,
        kind=PromotionKind(kind),
        target=PromotionTarget(target),
        value=value,
        skus=frozenset(skus),
        categories=frozenset(categories),
        buy_quantity=buy_quantity,
        get_quantity=get_quantity,
        coupon_code=coupon_code,
        starts_at=starts_at,
        ends_at=ends_at,
        channel_codes=frozenset(channel_codes or ()),
        segment=CustomerSegment(segment) if segment else None,
        priority=priority,
        is_exclusive=is_exclusive,
        stacking_group=stacking_group,
        min_cart_amount=min_cart_amount,
        currency=currency,
        is_active=is_active,
        is_usage_exhausted=usage_limit is not None and times_used >= usage_limit,
    )


def tax_rates_for(*, country: str) -> dict[str, Decimal]:
    """Tax class -> rate (percent) in ``country`` (1 query)."""
    with connection.cursor() as cursor:
        cursor.execute(_TAX_RATES_SQL, [country])
        return dict(cursor.fetchall())


def pricing_request_build(
    *,
    channel: SalesChannel,
    lines: Sequence[CartLine],
    customer_id: int | None = None,
    customer: Customer | None = None,
    coupon_codes: Sequence[str] = (),
    at: datetime | None = None,
) -> PricingRequest:
    """The engine's input for a cart on ``channel``: 3 queries (price lists with their items,
    promotions, tax rates), plus one to load ``customer_id`` when ``customer`` is not given.

    Only a customer linked to ``channel`` (``customer_is_linked``) prices the cart (its segment
    and customer price lists). ``customer_id`` is a channel's claim: an unknown id and another
    channel's customer raise the same ``ValidationFailed`` (field ``customer_id``), so that the
    answer tells nothing about customers of other channels. A ``customer`` the caller resolved
    (order capture: a match on e-mail, phone or loyalty id) that is not linked prices as no
    customer at all.
    """
    moment = at if at is not None else timezone.now()
    if customer is None and customer_id is not None:
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None or not customer_is_linked(customer=customer, channel_id=channel.pk):
            raise ValidationFailed(
                "The customer does not exist.",
                field_errors=[FieldError("customer_id", "No such customer.", "not_found")],
            )
    elif customer is not None and not customer_is_linked(customer=customer, channel_id=channel.pk):
        customer = None
    return PricingRequest(
        context=pricing_context_build(channel=channel, customer=customer, at=moment),
        lines=tuple(lines),
        price_lists=price_list_data_for(
            channel=channel, customer=customer, skus=(line.sku for line in lines), at=moment
        ),
        promotions=promotion_data_for(coupon_codes=coupon_codes, at=moment),
        tax_rates=tax_rates_for(country=channel.country),
        coupon_codes=tuple(coupon_codes),
    )


def cart_price(
    *,
    channel: SalesChannel,
    lines: Sequence[CartLine],
    customer_id: int | None = None,
    customer: Customer | None = None,
    coupon_codes: Sequence[str] = (),
    at: datetime | None = None,
) -> PricedCart:
    """Price a cart on ``channel`` for ``customer`` (or ``customer_id``) at ``at`` (default:
    now). A caller that has the customer loaded passes it, saving a query.

    Raises ``ValidationFailed`` with one field error per line that cannot be priced
    (``lines.<index>.sku`` code ``no_price``, ``lines.<index>.tax_class`` code ``no_tax_rate``).
    """
    request = pricing_request_build(
        channel=channel,
        lines=lines,
        customer_id=customer_id,
        customer=customer,
        coupon_codes=coupon_codes,
        at=at,
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
