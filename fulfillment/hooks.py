"""Fulfillment's reactions to lower layers, registered explicitly in ``FulfillmentConfig.ready``.

``orders`` cannot import ``fulfillment`` (layers); it offers a registry
(``orders.hooks.order_placed_hook_register``) that this app fills at start-up.
"""

from __future__ import annotations

from django.conf import settings

# Capture writes every order at this version (``Order.version``'s default) and bumps nothing.
PLACED_VERSION = 1


def order_placed_route(order_id: int) -> None:
    """After an order placement commits: queue its routing for the version it was placed at.

    No query (the capture request's statement budget is tested). Should the order change
    between commit and the task, the task finds its version moved on and does nothing; the
    beat sweep (``orders_retry_parked``) then routes it as it is.
    """
    from fulfillment.tasks import order_route_task

    if not getattr(settings, "FULFILLMENT_ROUTE_ON_PLACE", True):
        return
    order_route_task.apply_async(args=(order_id, PLACED_VERSION, "placed"), queue="routing")
