"""Accepting the first fulfillment order moves the order to in_fulfillment, with its event."""

from __future__ import annotations

import pytest

from fulfillment.models import FulfillmentOrder
from fulfillment.services.fulfillment_orders import fulfillment_order_accept
from fulfillment.services.routing import order_route
from orders.models import Order, OrderEvent
from tests.fulfillment.service_support import fulfillment_orders, network, outbox_topics, place

pytestmark = pytest.mark.django_db


def test_first_acceptance_moves_the_order_to_in_fulfillment_once() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 12})  # wh-1 10 + wh-2 2
    order_route(order_id=order.pk, expected_version=1, trigger="placed")
    first, second = FulfillmentOrder.objects.filter(order=order).order_by("id")
    version = Order.objects.values_list("version", flat=True).get(pk=order.pk)

    fulfillment_order_accept(fulfillment_order_id=first.pk, actor="store-1")

    order.refresh_from_db()
    assert (order.status, order.version) == ("in_fulfillment", version + 1)
    event = OrderEvent.objects.filter(order=order).order_by("-id").first()
    assert event is not None
    assert (event.kind, event.from_status, event.to_status, event.actor, event.message) == (
        "status_changed",
        "routed",
        "in_fulfillment",
        "store-1",
        f"FO-{first.pk} accepted at wh-1",
    )
    assert event.details == {"fulfillment_order_id": first.pk}
    assert outbox_topics(order)[-1] == "order.in_fulfillment"

    fulfillment_order_accept(fulfillment_order_id=second.pk, actor="store-2")
    fulfillment_order_accept(fulfillment_order_id=second.pk, actor="store-2")  # no-op

    order.refresh_from_db()
    assert (order.status, order.version) == ("in_fulfillment", version + 1)
    assert (
        OrderEvent.objects.filter(order=order, to_status="in_fulfillment").count(),
        OrderEvent.objects.filter(order=order, kind="fulfillment").count(),
    ) == (1, 2)
    assert fulfillment_orders(order) == [
        ("wh-1", "accepted", [("SHIRT", 10, 0)]),
        ("wh-2", "accepted", [("SHIRT", 2, 0)]),
    ]


def test_accepting_a_cancelled_fulfillment_order_is_refused_and_changes_nothing() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 1})
    order_route(order_id=order.pk, expected_version=1, trigger="placed")
    fulfillment_order = FulfillmentOrder.objects.get(order=order)
    FulfillmentOrder.objects.filter(pk=fulfillment_order.pk).update(status="cancelled")
    events = OrderEvent.objects.filter(order=order).count()

    from omnilog.core.errors import Conflict

    with pytest.raises(Conflict):
        fulfillment_order_accept(fulfillment_order_id=fulfillment_order.pk, actor="store")

    order.refresh_from_db()
    assert order.status == "routed"
    assert OrderEvent.objects.filter(order=order).count() == events
