"""Routed, accepted fulfillment orders ready to pick, on the routing tests' network
(``service_support``): SHIRT (EAN 3000000000017) and MUG (EAN 3000000000024) with bins and
dimensions at ``wh-1``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fulfillment.models import FulfillmentOrder, ProductBin
from fulfillment.services.fulfillment_orders import fulfillment_order_accept
from fulfillment.services.routing import order_route
from inventory.models import Product
from orders.models import Order
from tests.fulfillment.service_support import network, place

SHIRT_EAN = "3000000000017"
MUG_EAN = "3000000000024"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def pickpack_network() -> dict[str, Any]:
    net = network()
    Product.objects.filter(pk=net["shirt"].pk).update(
        ean=SHIRT_EAN, name="Shirt", weight_grams=250, length_mm=300, width_mm=200, height_mm=30
    )
    Product.objects.filter(pk=net["mug"].pk).update(
        ean=MUG_EAN, name="Mug", weight_grams=400, length_mm=120, width_mm=90, height_mm=100
    )
    ProductBin.objects.create(location=net["wh1"], product=net["shirt"], bin_location="A-01-1")
    ProductBin.objects.create(location=net["wh1"], product=net["mug"], bin_location="B-04-2")
    return net


def accepted(net: dict[str, Any], lines: dict[str, int]) -> tuple[Order, FulfillmentOrder]:
    order = place(net["web"], lines)
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is not None
    fo = FulfillmentOrder.objects.get(order=order)
    fulfillment_order_accept(fulfillment_order_id=fo.pk, actor="wh-1")
    fo.refresh_from_db()
    order.refresh_from_db()
    return order, fo


def picked(net: dict[str, Any], lines: dict[str, int]) -> tuple[Order, FulfillmentOrder]:
    """An accepted fulfillment order at wh-1, planned and scanned to ``picked``."""
    from fulfillment.services.picking import pick_confirm_scan, picking_plan_location

    order, fo = accepted(net, lines)
    (pick_list_id,) = picking_plan_location(location_id=net["wh1"].pk, now=NOW).pick_list_ids
    eans = {"SHIRT": SHIRT_EAN, "MUG": MUG_EAN}
    for sku, quantity in lines.items():
        pick_confirm_scan(pick_list_id=pick_list_id, ean=eans[sku], quantity=quantity, actor="ana")
    fo.refresh_from_db()
    assert fo.status == "picked"
    return order, fo


def packed(net: dict[str, Any], lines: dict[str, int]) -> tuple[Order, FulfillmentOrder]:
    from fulfillment.services.packing import pack_close, pack_scan

    order, fo = picked(net, lines)
    eans = {"SHIRT": SHIRT_EAN, "MUG": MUG_EAN}
    for sku, quantity in lines.items():
        for _ in range(quantity):
            pack_scan(fulfillment_order_id=fo.pk, ean=eans[sku], actor="leo")
    pack_close(fulfillment_order_id=fo.pk, weight_grams=1300, actor="leo")
    fo.refresh_from_db()
    assert fo.status == "packed"
    return order, fo
