"""Cancelling an order withdraws its open fulfillment orders in the same transaction; the
units are released once (by the cancel), counters = ledger."""

from __future__ import annotations

import pytest

from fulfillment.models import FulfillmentOrder
from fulfillment.services.fulfillment_orders import fulfillment_order_accept
from fulfillment.services.order_cancellation import fulfillment_orders_order_lines_cancelled
from fulfillment.services.routing import order_route
from inventory.models import StockMovement
from omnilog.core.errors import ValidationFailed
from orders.hooks import order_lines_cancelled_hook_list
from orders.models import Order, OrderLine
from orders.services.cancel import order_cancel
from tests.fulfillment.service_support import (
    active_reservations,
    fulfillment_orders,
    network,
    outbox_topics,
    place,
    reserved,
    snapshot,
)
from tests.inventory.helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def _routed(net: dict, lines: dict[str, int]) -> Order:  # type: ignore[type-arg]
    order = place(net["web"], lines)
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is not None
    return Order.objects.get(pk=order.pk)


def test_the_hook_is_registered_by_the_fulfillment_app() -> None:
    assert fulfillment_orders_order_lines_cancelled in order_lines_cancelled_hook_list()


def test_full_cancel_cancels_every_open_fulfillment_order_and_releases_once() -> None:
    net = network()
    order = _routed(net, {"SHIRT": 12})  # wh-1 10 + wh-2 2
    assert fulfillment_orders(order) == [
        ("wh-1", "created", [("SHIRT", 10, 0)]),
        ("wh-2", "created", [("SHIRT", 2, 0)]),
    ]
    first = FulfillmentOrder.objects.filter(order=order).order_by("id").first()
    assert first is not None
    fulfillment_order_accept(fulfillment_order_id=first.pk, actor="store")
    releases = StockMovement.objects.filter(kind="release").count()

    order_cancel(order_id=order.pk, reason="customer changed their mind", actor="agent")

    reason = "order cancelled: customer changed their mind"
    assert fulfillment_orders(order) == [
        ("wh-1", "cancelled", [("SHIRT", 10, 10)]),
        ("wh-2", "cancelled", [("SHIRT", 2, 2)]),
    ]
    assert list(
        FulfillmentOrder.objects.filter(order=order).order_by("id").values_list("cancel_reason")
    ) == [(reason,), (reason,)]
    assert StockMovement.objects.filter(kind="release").count() == releases + 2
    assert (reserved(net["shirt"], net["wh1"]), reserved(net["shirt"], net["wh2"])) == (0, 0)
    assert active_reservations(order) == []
    line = OrderLine.objects.get(order=order)
    assert (line.quantity_cancelled, line.quantity_allocated) == (12, 0)
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert outbox_topics(order)[-1] == "order.cancelled"
    assert_ledger_consistent()


def test_partial_cancel_reduces_the_fulfillment_order_holding_the_released_units() -> None:
    net = network()
    order = _routed(net, {"SHIRT": 2, "MUG": 3})  # all at wh-1
    shirt = OrderLine.objects.get(order=order, sku="SHIRT")
    mug = OrderLine.objects.get(order=order, sku="MUG")

    order_cancel(order_id=order.pk, lines=[(mug.pk, 2)], reason="out of budget", actor="agent")

    assert fulfillment_orders(order) == [("wh-1", "created", [("SHIRT", 2, 0), ("MUG", 3, 2)])]
    assert (reserved(net["shirt"], net["wh1"]), reserved(net["mug"], net["wh1"])) == (2, 1)
    assert active_reservations(order) == [
        ("SHIRT", "wh-1", 2, "location"),
        ("MUG", "wh-1", 1, "location"),
    ]
    mug.refresh_from_db()
    shirt.refresh_from_db()
    assert (mug.quantity_cancelled, mug.quantity_allocated) == (2, 1)
    assert (shirt.quantity_cancelled, shirt.quantity_allocated) == (0, 2)
    assert Order.objects.get(pk=order.pk).status == "routed"

    order_cancel(order_id=order.pk, lines=[(shirt.pk, 2), (mug.pk, 1)], reason="gone", actor="a")

    assert fulfillment_orders(order) == [("wh-1", "cancelled", [("SHIRT", 2, 2), ("MUG", 3, 3)])]
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert_ledger_consistent()


def test_cancel_before_routing_touches_no_fulfillment_order() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 1})

    order_cancel(order_id=order.pk, reason="duplicate", actor="agent")

    assert fulfillment_orders(order) == []
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert_ledger_consistent()


def test_a_refused_cancel_leaves_the_fulfillment_orders_alone() -> None:
    net = network()
    order = _routed(net, {"SHIRT": 2})
    line = OrderLine.objects.get(order=order)
    before = snapshot(order)

    with pytest.raises(ValidationFailed):
        order_cancel(order_id=order.pk, lines=[(line.pk, 3)], reason="too many", actor="agent")

    assert snapshot(order) == before
