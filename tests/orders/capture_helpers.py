"""A small catalogue for order capture tests: channel, pool warehouses, a store, prices, stock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.test import Client

from channels_app.models import PriceList, PriceListItem, SalesChannel, TaxRate
from inventory.models import Location, Product
from inventory.services import stock_receive
from tests.factories import (
    LocationFactory,
    ProductFactory,
    SalesChannelFactory,
    StoreFactory,
    channel_api_key,
)

URL = "/api/v1/orders/"


@dataclass
class Catalogue:
    channel: SalesChannel
    key: str
    warehouse: Location
    warehouse_2: Location
    store: Location
    shirt: Product  # SKU-SHIRT 20.00 incl. tax
    mug: Product  # SKU-MUG 7.50 incl. tax
    retired: Product  # inactive


def catalogue_build(*, code: str = "web", kind: str = SalesChannel.Kind.WEB) -> Catalogue:
    channel = SalesChannelFactory(code=code, kind=kind)
    warehouse = LocationFactory(code=f"{code}-wh-1", channels=[channel])
    warehouse_2 = LocationFactory(code=f"{code}-wh-2", channels=[channel])
    store = StoreFactory(code=f"{code}-st-paris", name="Paris Opéra", channels=[channel])
    shirt = ProductFactory(sku=f"{code.upper()}-SHIRT", name="Shirt", category="apparel")
    mug = ProductFactory(sku=f"{code.upper()}-MUG", name="Mug", category="home")
    retired = ProductFactory(sku=f"{code.upper()}-OLD", name="Old", is_active=False)
    TaxRate.objects.get_or_create(country="FR", tax_class="standard", defaults={"rate": 20})
    prices = PriceList.objects.create(
        code=f"{code}-base", name="Base", currency="EUR", prices_include_tax=True
    )
    PriceListItem.objects.bulk_create(
        [
            PriceListItem(price_list=prices, sku=shirt.sku, unit_price=Decimal("20.00")),
            PriceListItem(price_list=prices, sku=mug.sku, unit_price=Decimal("7.50")),
            PriceListItem(price_list=prices, sku=retired.sku, unit_price=Decimal("1.00")),
        ]
    )
    stock_receive(product_id=shirt.id, location_id=warehouse.id, quantity=10)
    stock_receive(product_id=shirt.id, location_id=warehouse_2.id, quantity=5)
    stock_receive(product_id=shirt.id, location_id=store.id, quantity=3)
    stock_receive(product_id=mug.id, location_id=warehouse.id, quantity=4)
    return Catalogue(
        channel=channel,
        key=channel_api_key(channel),
        warehouse=warehouse,
        warehouse_2=warehouse_2,
        store=store,
        shirt=shirt,
        mug=mug,
        retired=retired,
    )


ADDRESS = {
    "name": "Camille Martin",
    "line1": "1 rue de Rivoli",
    "postcode": "75001",
    "city": "Paris",
}


def order_body(catalogue: Catalogue, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": "WEB-1001",
        "customer": {
            "email": "Camille@Example.com",
            "first_name": "Camille",
            "last_name": "Martin",
        },
        "payment_status": "authorised",
        "delivery": {"mode": "home_standard", "address": ADDRESS},
        "lines": [
            {"sku": catalogue.shirt.sku, "quantity": 2},
            {"sku": catalogue.mug.sku, "quantity": 1},
        ],
    }
    body.update(overrides)
    return body


def post_order(
    client: Client, key: str, body: Any, *, idempotency_key: str | None = "key-1"
) -> Any:
    headers = {"X-Api-Key": key}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(URL, data=raw, content_type="application/json", headers=headers)
