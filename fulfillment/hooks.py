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


def order_edit_guard(order_id: int) -> None:
    """Refuse an order edit while open fulfillment orders hold units of the order.

    An edit releases and re-reserves the order lines' stock; the fulfillment orders' lines and
    their bound reservations would not follow (a location would then ship more than is reserved
    for it), and what an edit adds would never be routed. Runs inside the edit's transaction,
    under the order's row lock (routing, acceptance and rejections take it too, so the answer
    holds until the edit commits). Raises ``Conflict`` ``order_in_fulfillment``.
    """
    from django.db.models import F

    from fulfillment.models import FulfillmentOrderLine
    from fulfillment.statuses import OPEN
    from omnilog.core.errors import Conflict

    held = list(
        FulfillmentOrderLine.objects.filter(
            fulfillment_order__order_id=order_id,
            fulfillment_order__status__in=list(OPEN),
            quantity__gt=F("quantity_rejected"),
        )
        .order_by("fulfillment_order_id")
        .values_list("fulfillment_order_id", flat=True)
        .distinct()
    )
    if held:
        raise Conflict(
            "The order is being fulfilled: open fulfillment orders hold its units. Cancel "
            "lines instead, or wait until they are rejected.",
            code="order_in_fulfillment",
            details={"fulfillment_order_ids": held},
        )


def order_edited_route(order_id: int, version: int) -> None:
    """After an order edit commits: queue its routing for the new version (what the edit added,
    or moved to another place, is routed; nothing when the order is not routable or has
    nothing left to route). No query, like :func:`order_placed_route`."""
    from fulfillment.tasks import order_route_task

    if not getattr(settings, "FULFILLMENT_ROUTE_ON_PLACE", True):
        return
    # Trigger ``retry``: routing again what waits, as the sweep would (no choice of its own).
    order_route_task.apply_async(args=(order_id, version, "retry"), queue="routing")
