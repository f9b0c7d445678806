"""Ship and handover: stock committed exactly once, order lines fulfilled, order status moved."""

from __future__ import annotations

import pytest

from fulfillment.models import FulfillmentOrder
from fulfillment.services.lifecycle import (
    fulfillment_order_handover,
    fulfillment_order_ready_for_pickup,
    fulfillment_order_ship,
)
from inventory.models import StockLevel, StockMovement
from omnilog.core.errors import Conflict
from omnilog.core.models import OutboxEvent
from orders.models import OrderEvent, OrderLine
from tests.fulfillment.pickpack_support import accepted, packed, pickpack_network
from tests.inventory.helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def _level(product, location) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    row = StockLevel.objects.get(product=product, location=location)
    return row.on_hand, row.reserved


def test_ship_commits_each_reservation_once_and_ships_the_order() -> None:
    net = pickpack_network()
    order, fo = packed(net, {"SHIRT": 2, "MUG": 1})
    assert _level(net["shirt"], net["wh1"]) == (10, 2)

    fulfillment_order_ship(fulfillment_order_id=fo.pk, actor="leo")
    fulfillment_order_ship(fulfillment_order_id=fo.pk, actor="leo")  # no-op

    assert _level(net["shirt"], net["wh1"]) == (8, 0)
    assert _level(net["mug"], net["wh1"]) == (3, 0)
    assert StockMovement.objects.filter(kind="sale").count() == 2
    assert_ledger_consistent()
    fo.refresh_from_db()
    assert fo.status == "shipped"
    order.refresh_from_db()
    assert order.status == "shipped"
    assert list(
        OrderLine.objects.filter(order=order)
        .order_by("id")
        .values_list("quantity_fulfilled", "quantity_allocated")
    ) == [(2, 0), (1, 0)]
    assert list(
        OrderEvent.objects.filter(order=order, kind="status_changed")
        .order_by("id")
        .values_list("to_status", flat=True)
    )[-2:] == ["in_fulfillment", "shipped"]
    assert OutboxEvent.objects.filter(topic="fulfillment_order.shipped").count() == 1
    assert OutboxEvent.objects.filter(topic="order.shipped").count() == 1


def test_ship_refuses_an_order_that_is_not_packed_and_writes_nothing() -> None:
    net = pickpack_network()
    _, fo = accepted(net, {"SHIRT": 1})
    movements = StockMovement.objects.count()
    with pytest.raises(Conflict) as error:
        fulfillment_order_ship(fulfillment_order_id=fo.pk, actor="leo")
    assert error.value.message == f"FO-{fo.pk} is accepted, not packed."
    assert StockMovement.objects.count() == movements
    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "accepted"


def test_pickup_is_refused_for_a_home_delivery() -> None:
    net = pickpack_network()
    _, fo = packed(net, {"SHIRT": 1})
    with pytest.raises(Conflict) as error:
        fulfillment_order_ready_for_pickup(fulfillment_order_id=fo.pk, actor="leo")
    assert error.value.code == "not_a_pickup_order"


def test_ready_for_pickup_then_handover_commits_and_collects() -> None:
    net = pickpack_network()
    order, fo = packed(net, {"SHIRT": 1})
    FulfillmentOrder.objects.filter(pk=fo.pk).update(delivery_mode="click_and_collect")

    fulfillment_order_ready_for_pickup(fulfillment_order_id=fo.pk, actor="leo")
    order.refresh_from_db()
    assert order.status == "ready_for_pickup"
    line = fo.lines.get()
    fulfillment_order_handover(fulfillment_order_id=fo.pk, lines=[(line.pk, 1)], actor="leo")
    fulfillment_order_handover(fulfillment_order_id=fo.pk, actor="leo")  # no-op

    order.refresh_from_db()
    assert order.status == "collected"
    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "collected"
    assert _level(net["shirt"], net["wh1"]) == (9, 0)
    assert StockMovement.objects.filter(kind="sale").count() == 1
    assert_ledger_consistent()
