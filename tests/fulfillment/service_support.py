"""A small network for the routing service tests, orders placed through the real capture.

Channel ``web``: warehouses ``wh-1`` (10 SHIRT, 4 MUG) and ``wh-2`` (5 SHIRT), both in Paris,
and the click-and-collect store ``st-opera`` (3 SHIRT). Prices tax included, 20 % VAT.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

from channels_app.models import PriceList, PriceListItem, TaxRate
from fulfillment.models import FulfillmentOrder, RoutingDecision
from inventory.models import Location, Reservation, StockLevel
from inventory.services import stock_receive
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent
from tests.factories import LocationFactory, ProductFactory, SalesChannelFactory, StoreFactory
from tests.orders.lifecycle_support import place

__all__ = ["fulfillment_orders", "network", "place", "reserved"]


def default_rule_sets() -> None:
    """The data migration's rule sets (a committing test's flush removes them)."""
    from django.apps import apps

    migration = importlib.import_module("fulfillment.migrations.0002_default_rule_sets")
    migration.create(apps, None)


def network() -> dict[str, Any]:
    default_rule_sets()
    web = SalesChannelFactory(code="web", name="Web")
    wh1 = LocationFactory(code="wh-1", channels=[web])
    wh2 = LocationFactory(code="wh-2", channels=[web])
    store = StoreFactory(code="st-opera", channels=[web])
    shirt = ProductFactory(sku="SHIRT")
    mug = ProductFactory(sku="MUG")
    prices = PriceList.objects.create(code="base", name="Base", currency="EUR")
    PriceListItem.objects.bulk_create(
        [
            PriceListItem(price_list=prices, sku="SHIRT", unit_price=Decimal("20.00")),
            PriceListItem(price_list=prices, sku="MUG", unit_price=Decimal("7.50")),
        ]
    )
    TaxRate.objects.get_or_create(country="FR", tax_class="standard", defaults={"rate": 20})
    stock_receive(product_id=shirt.id, location_id=wh1.id, quantity=10)
    stock_receive(product_id=mug.id, location_id=wh1.id, quantity=4)
    stock_receive(product_id=shirt.id, location_id=wh2.id, quantity=5)
    stock_receive(product_id=shirt.id, location_id=store.id, quantity=3)
    return {"web": web, "wh1": wh1, "wh2": wh2, "store": store, "shirt": shirt, "mug": mug}


def fulfillment_orders(order: Order) -> list[tuple[str, str, list[tuple[str, int, int]]]]:
    """(location code, status, [(sku, quantity, rejected)]) per fulfillment order, by id."""
    return [
        (
            fo.location.code,
            fo.status,
            [
                (line.order_line.sku, line.quantity, line.quantity_rejected)
                for line in fo.lines.select_related("order_line").order_by("id")
            ],
        )
        for fo in FulfillmentOrder.objects.filter(order=order)
        .select_related("location")
        .order_by("id")
    ]


def reserved(product: Any, location: Location) -> int:
    return StockLevel.objects.get(product=product, location=location).reserved


def active_reservations(order: Order) -> list[tuple[str, str, int, str]]:
    """(sku, location code, quantity, scope) of the order's active reservations, by id."""
    line_ids = {str(pk): sku for pk, sku in order.lines.values_list("id", "sku")}
    return [
        (line_ids[r.reference_id], r.location.code, r.quantity, r.scope)
        for r in Reservation.objects.filter(
            reference_type="order_line", reference_id__in=list(line_ids), status="active"
        )
        .select_related("location")
        .order_by("id")
    ]


def decisions(order: Order) -> list[tuple[str, str, str]]:
    return list(
        RoutingDecision.objects.filter(order=order)
        .order_by("id")
        .values_list("trigger", "outcome", "rule")
    )


def routed_events(order: Order) -> list[tuple[str, str, str, str]]:
    return list(
        OrderEvent.objects.filter(order=order, kind__in=["routed", "fulfillment"])
        .order_by("id")
        .values_list("kind", "from_status", "to_status", "message")
    )


def outbox_topics(order: Order) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_type="order", aggregate_id=str(order.pk))
        .order_by("id")
        .values_list("topic", flat=True)
    )


def snapshot(order: Order) -> dict[str, Any]:
    """Everything a refused change must leave as it was."""
    from inventory.models import StockMovement

    return {
        "order": Order.objects.filter(pk=order.pk).values().get(),
        "events": OrderEvent.objects.filter(order=order).count(),
        "fulfillment_orders": list(FulfillmentOrder.objects.order_by("id").values()),
        "reservations": list(Reservation.objects.order_by("id").values()),
        "levels": list(StockLevel.objects.order_by("id").values()),
        "movements": StockMovement.objects.count(),
        "outbox": OutboxEvent.objects.count(),
        "decisions": RoutingDecision.objects.count(),
    }
