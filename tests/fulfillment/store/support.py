"""A small click-and-collect network for the store screen tests, orders placed and routed
through the real services.

Channel ``web``; stores ``st-opera`` (5 SHIRT, 3 CAP, bins R1/R2) and ``st-bastille``
(2 SHIRT); users ``ana`` (associate at st-opera), ``max`` (manager at st-opera), ``bob``
(associate at st-bastille), all with password ``pw``. Prices tax included, 20 % VAT.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from channels_app.models import PriceList, PriceListItem, TaxRate
from fulfillment.models import FulfillmentOrder, ProductBin
from fulfillment.models_store import StoreStaff
from fulfillment.services.routing import order_route
from inventory.models import Location, StockLevel
from inventory.services import stock_receive
from orders.models import Order
from orders.services.capture import order_place
from orders.services.inputs import CustomerInput, DeliveryInput, LineInput, OrderInput
from tests.factories import ProductFactory, SalesChannelFactory, StoreFactory
from tests.fulfillment.service_support import default_rule_sets

EANS = {"SHIRT": "3000000000017", "CAP": "3000000000031"}
PASSWORD = "pw"
OPENING_HOURS = {day: [["09:00", "19:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}


def store_world() -> dict[str, Any]:
    default_rule_sets()
    web = SalesChannelFactory(code="web", name="Web")
    opera = StoreFactory(
        code="st-opera",
        name="Opéra",
        channels=[web],
        address_line="2 rue Auber",
        postcode="75009",
        opening_hours=OPENING_HOURS,
    )
    bastille = StoreFactory(code="st-bastille", name="Bastille", channels=[web])
    products = {
        sku: ProductFactory(sku=sku, ean=ean, name=f"Demo {sku.lower()}")
        for sku, ean in EANS.items()
    }
    prices = PriceList.objects.create(code="base", name="Base", currency="EUR")
    PriceListItem.objects.bulk_create(
        PriceListItem(price_list=prices, sku=sku, unit_price=Decimal("20.00")) for sku in EANS
    )
    TaxRate.objects.get_or_create(country="FR", tax_class="standard", defaults={"rate": 20})
    for location, stock in ((opera, {"SHIRT": 5, "CAP": 3}), (bastille, {"SHIRT": 2})):
        for sku, quantity in stock.items():
            stock_receive(product_id=products[sku].id, location_id=location.id, quantity=quantity)
    for product, bin_location in zip(products.values(), ("R1", "R2"), strict=True):
        ProductBin.objects.create(location=opera, product=product, bin_location=bin_location)
    users = {
        "ana": staff_user("ana", opera, StoreStaff.Role.ASSOCIATE),
        "max": staff_user("max", opera, StoreStaff.Role.MANAGER),
        "bob": staff_user("bob", bastille, StoreStaff.Role.ASSOCIATE),
    }
    return {"web": web, "opera": opera, "bastille": bastille, **products, **users}


def staff_user(username: str, store: Location, role: str) -> User:
    user = User.objects.create_user(username, password=PASSWORD, email=f"{username}@example.com")
    StoreStaff.objects.create(user=user, location=store, role=role)
    return user


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def place_pickup(
    world: dict[str, Any],
    lines: dict[str, int],
    *,
    store: Location | None = None,
    email: str = "camille@example.com",
    partial: bool = True,
) -> Order:
    order = order_place(
        channel_id=world["web"].id,
        data=OrderInput(
            customer=CustomerInput(email=email, first_name="Camille", last_name="Martin"),
            lines=tuple(LineInput(sku=sku, quantity=quantity) for sku, quantity in lines.items()),
            delivery=DeliveryInput(
                mode="click_and_collect", store_code=(store or world["opera"]).code
            ),
            payment_status="authorised",
            is_partial_delivery_allowed=partial,
        ),
        actor="test",
    )
    return Order.objects.get(pk=order.pk)


def routed(order: Order) -> FulfillmentOrder:
    """Route the order (version 1, as the task would) and return its one fulfillment order."""
    morning = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed", now=morning)
    return FulfillmentOrder.objects.select_related("location", "order").get(order=order)


def level(product: Any, location: Location) -> tuple[int, int, int]:
    """(on hand, reserved, damaged)."""
    row = StockLevel.objects.get(product=product, location=location)
    return (row.on_hand, row.reserved, row.damaged)


def store_cache_clean() -> None:
    """Forget the store screens' cache keys (scan ids, code-guess windows) of earlier tests.

    Only keys under ``store:`` go: the cache shares its Redis database with the Celery broker
    in tests, so a ``cache.clear()`` (FLUSHDB) would drop a live worker's queue bindings.
    """
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match="*:store:*", count=1000))
    if keys:
        client.delete(*keys)
