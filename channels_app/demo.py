"""Demo prices and promotions, called by ``seed_demo`` after it has created the catalogue.

Deterministic (prices derive from ``seed`` and the SKU only) and idempotent (rows are keyed by
code, and items by ``(price_list, sku, min_quantity)``): running it twice changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from channels_app.models import PriceList, PriceListItem, Promotion, SalesChannel, TaxRate

BASE_LIST = "base-eur"
B2B_LIST = "b2b-eur"
# Consumer price ranges (tax included) per category; others use the default range.
PRICE_RANGES: dict[str, tuple[int, int]] = {
    "apparel": (9, 89),
    "shoes": (29, 149),
    "electronics": (19, 299),
    "home": (7, 129),
    "books": (5, 39),
}
DEFAULT_RANGE = (5, 99)
FR_TAX_RATES = {
    "standard": Decimal("20.00"),
    "intermediate": Decimal("10.00"),
    "reduced": Decimal("5.50"),  # books, most food
    "super_reduced": Decimal("2.10"),
}
DEMO_START = datetime(2024, 1, 1, tzinfo=UTC)
BATCH_SIZE = 2000


def _consumer_price(*, seed: int, sku: str, category: str) -> Decimal:
    low, high = PRICE_RANGES.get(category, DEFAULT_RANGE)
    rng = random.Random(f"{seed}:{sku}")  # noqa: S311 - demo data, not security
    return Decimal(rng.randint(low, high)) + Decimal("0.99")


def seed_prices(*, sku_categories: Sequence[tuple[str, str]], seed: int) -> int:
    """Seed FR tax rates, a base price list (tax included) for every SKU, a B2B list (tax
    excluded, 15 % below base, on the first B2B channel when there is one) with a 10-unit
    tier, and a few promotions (category sale, 3-for-2, cart amount off, a coupon).

    ``sku_categories`` is ``[(sku, category), ...]``. Returns the number of price list items
    written. Idempotent and deterministic.
    """
    with transaction.atomic():
        for tax_class, rate in FR_TAX_RATES.items():
            TaxRate.objects.update_or_create(
                country="FR", tax_class=tax_class, defaults={"rate": rate}
            )
        base, _ = PriceList.objects.update_or_create(
            code=BASE_LIST,
            defaults={"name": "Base prices (EUR, tax incl.)", "prices_include_tax": True},
        )
        b2b_channel = (
            SalesChannel.objects.filter(kind=SalesChannel.Kind.B2B).order_by("code").first()
        )
        items: list[PriceListItem] = []
        b2b: PriceList | None = None
        if b2b_channel is not None:
            b2b, _ = PriceList.objects.update_or_create(
                code=B2B_LIST,
                defaults={
                    "name": "B2B prices (EUR, tax excl.)",
                    "channel": b2b_channel,
                    "prices_include_tax": False,
                    "priority": 10,
                },
            )
        for sku, category in sorted(sku_categories):
            price = _consumer_price(seed=seed, sku=sku, category=category)
            items.append(PriceListItem(price_list=base, sku=sku, unit_price=price))
            if b2b is not None:
                net = (price / Decimal("1.2") * Decimal("0.85")).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
                tier = (net * Decimal("0.95")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                items.append(PriceListItem(price_list=b2b, sku=sku, unit_price=net))
                items.append(
                    PriceListItem(price_list=b2b, sku=sku, unit_price=tier, min_quantity=10)
                )
        PriceListItem.objects.bulk_create(
            items,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["price_list", "sku", "min_quantity"],
            update_fields=["unit_price"],
        )
        _seed_promotions(categories=sorted({category for _, category in sku_categories}))
    return len(items)


def _seed_promotions(*, categories: Sequence[str]) -> None:
    sale_category = categories[0] if categories else "apparel"
    bundle_category = categories[1] if len(categories) > 1 else sale_category
    promotions: list[dict[str, object]] = [
        {
            "code": f"sale-{sale_category}"[:32],
            "name": f"{sale_category.title()} sale: 15 % off",
            "kind": Promotion.Kind.PERCENT_OFF,
            "target": Promotion.Target.CATEGORY,
            "value": Decimal("15"),
            "categories": [sale_category],
            "priority": 20,
            "starts_at": DEMO_START,
        },
        {
            "code": f"3-for-2-{bundle_category}"[:32],
            "name": f"3 for 2 on {bundle_category}",
            "kind": Promotion.Kind.BUY_X_GET_Y,
            "target": Promotion.Target.CATEGORY,
            "value": Decimal("100"),
            "categories": [bundle_category],
            "buy_quantity": 2,
            "get_quantity": 1,
            "priority": 10,
            "customer_segment": Promotion.Segment.B2C,
        },
        {
            "code": "cart-10-over-100",
            "name": "10 EUR off from 100 EUR",
            "kind": Promotion.Kind.AMOUNT_OFF,
            "target": Promotion.Target.CART,
            "value": Decimal("10"),
            "min_cart_amount": Decimal("100"),
            "stacking_group": "cart",
            "customer_segment": Promotion.Segment.B2C,
        },
        {
            "code": "welcome10",
            "name": "Welcome: 10 % off the cart",
            "kind": Promotion.Kind.PERCENT_OFF,
            "target": Promotion.Target.CART,
            "value": Decimal("10"),
            "coupon_code": "WELCOME10",
            "stacking_group": "cart",
            "customer_segment": Promotion.Segment.B2C,
            "usage_limit": 10_000,
        },
    ]
    for fields in promotions:
        code = fields.pop("code")
        Promotion.objects.update_or_create(code=code, defaults=fields)
