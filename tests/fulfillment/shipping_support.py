"""Shipments for the shipping tests: a routed, accepted fulfillment order of the service
network (``service_support.network``), the built-in carrier, and signed carrier webhooks.

Catalogue: SHIRT "Cotton T-shirt" 200 g, HS 6109.10, made in PT; MUG "Ceramic mug" 350 g,
HS 6912.00, made in CN. The order: 2 SHIRT (20.00 each) + 1 MUG (7.50), from ``wh-1`` (Paris).
"""

from __future__ import annotations

import importlib
import json
import time
from typing import Any

from fulfillment.models import Carrier, FulfillmentOrder
from fulfillment.services.fulfillment_orders import fulfillment_order_accept
from fulfillment.services.routing import order_route
from inventory.models import Product
from omnilog.core.webhooks import signed_headers
from orders.models import Order
from orders.services.transitions import order_transition
from orders.statuses import OrderStatus
from tests.fulfillment.service_support import network, place

ADDRESSES = {
    "FR": {"line1": "1 rue de Rivoli", "postcode": "75001", "city": "Paris", "country": "FR"},
    "CH": {"line1": "Bahnhofstrasse 1", "postcode": "8001", "city": "Zürich", "country": "CH"},
    "US": {"line1": "350 5th Ave", "postcode": "10118", "city": "New York", "country": "US"},
}


def builtin_carrier() -> Carrier:
    """The data migration's carrier and relay points (a committing test's flush removes them)."""
    from django.apps import apps

    migration = importlib.import_module("fulfillment.migrations.0005_default_carrier_relay_points")
    migration.create(apps, None)
    return Carrier.objects.get(code="omnilog-rates")


def accepted_fulfillment_order(
    country: str = "FR",
) -> tuple[dict[str, Any], Order, FulfillmentOrder]:
    net = network()
    Product.objects.filter(sku="SHIRT").update(
        name="Cotton T-shirt", weight_grams=200, hs_code="6109.10", country_of_origin="PT"
    )
    Product.objects.filter(sku="MUG").update(
        name="Ceramic mug", weight_grams=350, hs_code="6912.00", country_of_origin="CN"
    )
    order = place(net["web"], {"SHIRT": 2, "MUG": 1})
    address = {"name": "Camille Martin", "line2": "", "phone": "", **ADDRESSES[country]}
    Order.objects.filter(pk=order.pk).update(shipping_address=address)
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is not None
    fo = FulfillmentOrder.objects.get(order=order)
    fulfillment_order_accept(fulfillment_order_id=fo.pk, actor="store:wh-1")
    fo.refresh_from_db()
    order.refresh_from_db()
    return net, order, fo


def mark_shipped(order: Order, fo: FulfillmentOrder) -> None:
    """Given: picking and packing (another module) shipped the fulfillment order."""
    FulfillmentOrder.objects.filter(pk=fo.pk).update(status="shipped")
    for target in (OrderStatus.IN_FULFILLMENT, OrderStatus.SHIPPED):
        order.refresh_from_db()
        if order.status != target:
            order_transition(order=order, to_status=target, actor="test")
    order.refresh_from_db()


def signed_event(
    carrier: Carrier,
    *,
    event_id: str,
    tracking_number: str,
    status: str,
    occurred_at: str = "2026-03-02T10:15:00+01:00",
    timestamp: int | None = None,
    secret: str | None = None,
    **extra: Any,
) -> tuple[dict[str, str], bytes]:
    body = json.dumps(
        {"tracking_number": tracking_number, "status": status, "occurred_at": occurred_at, **extra}
    ).encode()
    headers = signed_headers(
        secret=secret or carrier.webhook_secret,
        message_id=event_id,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        body=body,
    )
    return headers, body
