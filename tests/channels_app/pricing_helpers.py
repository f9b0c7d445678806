"""Builders for pricing engine inputs (pure, no database)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from channels_app.pricing import (
    CartLine,
    CustomerSegment,
    PriceListData,
    PriceTier,
    PricingContext,
    PricingRequest,
    PromotionData,
    PromotionKind,
    PromotionTarget,
)

AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
RATES = {"standard": Decimal("20"), "reduced": Decimal("5.5")}


def D(value: str | int) -> Decimal:
    return Decimal(value)


def price_list(
    code: str,
    prices: Mapping[str, str | Mapping[int, str]],
    *,
    include_tax: bool = True,
    **fields: Any,
) -> PriceListData:
    tiers: dict[str, tuple[PriceTier, ...]] = {}
    for sku, price in prices.items():
        if isinstance(price, str):
            tiers[sku] = (PriceTier(1, D(price)),)
        else:
            tiers[sku] = tuple(PriceTier(q, D(p)) for q, p in sorted(price.items()))
    return PriceListData(
        code=code,
        currency=fields.pop("currency", "EUR"),
        prices_include_tax=include_tax,
        prices=tiers,
        **fields,
    )


def promotion(code: str, **fields: Any) -> PromotionData:
    fields.setdefault("name", code.title())
    fields.setdefault("kind", PromotionKind.PERCENT_OFF)
    fields.setdefault("target", PromotionTarget.CART)
    fields["value"] = D(fields.get("value", "10"))
    for key in ("skus", "categories", "channel_codes"):
        if key in fields:
            fields[key] = frozenset(fields[key])
    if fields.get("min_cart_amount") is not None:
        fields["min_cart_amount"] = D(fields["min_cart_amount"])
    return PromotionData(code=code, **fields)


def line(sku: str, quantity: int = 1, category: str = "", tax_class: str = "standard") -> CartLine:
    return CartLine(sku=sku, quantity=quantity, category=category, tax_class=tax_class)


def make_request(
    lines: Iterable[CartLine],
    *,
    lists: Iterable[PriceListData] = (),
    promotions: Iterable[PromotionData] = (),
    coupons: Iterable[str] = (),
    channel: str = "web",
    segment: CustomerSegment = CustomerSegment.B2C,
    customer_id: int | None = None,
    include_tax: bool | None = None,
    at: datetime = AT,
    rates: Mapping[str, Decimal] = RATES,
) -> PricingRequest:
    return PricingRequest(
        context=PricingContext(
            channel_code=channel,
            country="FR",
            currency="EUR",
            at=at,
            segment=segment,
            customer_id=customer_id,
            prices_include_tax=(
                include_tax if include_tax is not None else segment is CustomerSegment.B2C
            ),
        ),
        lines=tuple(lines),
        price_lists=tuple(lists),
        promotions=tuple(promotions),
        tax_rates=dict(rates),
        coupon_codes=tuple(coupons),
    )
