"""Pickup orders driven to "ready for pickup" through the store services (for the curbside and
no-show tests), on ``support.store_world``."""

from __future__ import annotations

from typing import Any

from fulfillment.models import FulfillmentOrder
from fulfillment.store.services import store_order_ready, store_pick_scan
from inventory.models import Location
from orders.models import Order
from tests.fulfillment.store.support import EANS, place_pickup, routed


def ready_pickup(
    world: dict[str, Any],
    lines: dict[str, int],
    *,
    store: Location | None = None,
    email: str = "camille@example.com",
) -> tuple[Order, FulfillmentOrder]:
    """Placed, routed, every unit scanned, bagged and ready (pickup code issued)."""
    order = place_pickup(world, lines, store=store, email=email)
    fulfillment_order = routed(order)
    for sku, quantity in lines.items():
        for _ in range(quantity):
            store_pick_scan(
                fulfillment_order_id=fulfillment_order.pk, code=EANS[sku], scan_id="", actor="ana"
            )
    store_order_ready(fulfillment_order_id=fulfillment_order.pk, actor="ana")
    fulfillment_order.refresh_from_db()
    order.refresh_from_db()
    assert (fulfillment_order.status, order.status) == ("ready_for_pickup", "ready_for_pickup")
    return order, fulfillment_order
