"""Re-routing: a location rejects lines, misses its SLA, or loses its allocation; parked and
backordered orders are re-tried when stock arrives. The decision log grows each time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.hooks import order_placed_route
from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, RoutingDecision
from fulfillment.services.fulfillment_orders import (
    fulfillment_order_accept,
    fulfillment_order_reject,
)
from fulfillment.services.routing import order_route
from fulfillment.services.sweeps import (
    fulfillment_allocations_check,
    fulfillment_orders_sla_sweep,
    orders_retry_parked,
)
from inventory.services import stock_count, stock_receive
from omnilog.core.errors import Conflict, ValidationFailed
from orders.hooks import order_placed_hook_register, order_placed_hook_unregister
from orders.models import Order, OrderLine
from tests.fulfillment.service_support import (
    active_reservations,
    decisions,
    fulfillment_orders,
    network,
    place,
    reserved,
    snapshot,
)
from tests.inventory.helpers import assert_ledger_consistent


@pytest.fixture
def no_routing_hook() -> Iterator[None]:
    """Committing tests route explicitly: no task queued behind their back."""
    order_placed_hook_unregister(order_placed_route)
    yield
    order_placed_hook_register(order_placed_route)


def _routed(order: Order) -> FulfillmentOrder:
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is not None
    return FulfillmentOrder.objects.get(order=order)


def _allocated(order: Order) -> list[int]:
    return list(
        OrderLine.objects.filter(order=order)
        .order_by("id")
        .values_list("quantity_allocated", flat=True)
    )


@pytest.mark.django_db
def test_rejected_lines_are_released_and_routed_elsewhere_excluding_the_store() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2, "MUG": 1})
    fo = _routed(order)
    shirt_line = fo.lines.get(order_line__sku="SHIRT")

    decision = fulfillment_order_reject(
        fulfillment_order_id=fo.pk, lines=[(shirt_line.pk, 2, "not found")], actor="store:wh-1"
    )

    assert decision is not None
    assert decisions(order) == [
        ("placed", "routed", "warehouses, no split"),
        ("rejected", "routed", "warehouses, no split"),
    ]
    wh1 = next(c for c in decision.candidates if c["code"] == "wh-1")
    assert wh1["stock"] == {str(net["shirt"].pk): 0}  # excluded for the rejected product
    assert fulfillment_orders(order) == [
        ("wh-1", "created", [("SHIRT", 2, 2), ("MUG", 1, 0)]),
        ("wh-2", "created", [("SHIRT", 2, 0)]),
    ]
    assert active_reservations(order) == [
        ("MUG", "wh-1", 1, "location"),
        ("SHIRT", "wh-2", 2, "location"),
    ]
    assert (reserved(net["shirt"], net["wh1"]), reserved(net["shirt"], net["wh2"])) == (0, 2)
    assert _allocated(order) == [2, 1]
    order.refresh_from_db()
    assert (order.status, order.version) == ("routed", 4)
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_bad_rejection_writes_nothing() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2})
    fo = _routed(order)
    line = fo.lines.get()
    before = snapshot(order)

    with pytest.raises(ValidationFailed) as error:
        fulfillment_order_reject(fulfillment_order_id=fo.pk, lines=[(line.pk, 3, "x")], actor="t")
    assert [e.field for e in error.value.field_errors] == ["lines.0.quantity"]
    with pytest.raises(ValidationFailed):
        fulfillment_order_reject(fulfillment_order_id=fo.pk, lines=[(line.pk, 1, " ")], actor="t")
    assert snapshot(order) == before


@pytest.mark.django_db
def test_accept_then_reject_everything_without_stock_backorders_the_order() -> None:
    net = network()
    stock_count(product_id=net["shirt"].pk, location_id=net["wh2"].pk, counted=0)
    stock_count(product_id=net["shirt"].pk, location_id=net["store"].pk, counted=0)
    order = place(net["web"], {"SHIRT": 2})
    fo = _routed(order)
    assert fulfillment_order_accept(fulfillment_order_id=fo.pk, actor="wh").status == "accepted"
    assert fulfillment_order_accept(fulfillment_order_id=fo.pk, actor="wh").status == "accepted"

    decision = fulfillment_order_reject(
        fulfillment_order_id=fo.pk, lines=[(fo.lines.get().pk, 2, "damaged")], actor="wh"
    )

    assert decision is not None
    assert (decision.outcome, decision.rule) == ("backordered", "any location, free split")
    assert decision.shortfalls == [
        {"line_id": fo.lines.get().order_line_id, "product_id": net["shirt"].pk, "quantity": 2}
    ]
    assert fulfillment_orders(order) == [("wh-1", "rejected", [("SHIRT", 2, 2)])]
    assert active_reservations(order) == []
    order.refresh_from_db()
    assert order.status == "backordered"
    with pytest.raises(Conflict):
        fulfillment_order_accept(fulfillment_order_id=fo.pk, actor="wh")
    assert_ledger_consistent()


@pytest.mark.django_db
def test_sla_sweep_withdraws_unaccepted_orders_and_moves_their_units() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2})
    fo = _routed(order)
    other = place(net["web"], {"SHIRT": 1}, email="other@example.com")
    accepted = _routed(other)
    fulfillment_order_accept(fulfillment_order_id=accepted.pk, actor="wh")

    assert fulfillment_orders_sla_sweep(now=fo.accept_by - timedelta(seconds=1)) == 0
    assert fulfillment_orders_sla_sweep(now=fo.accept_by + timedelta(seconds=1)) == 1

    assert fulfillment_orders(order) == [
        ("wh-1", "cancelled", [("SHIRT", 2, 2)]),
        ("wh-2", "created", [("SHIRT", 2, 0)]),
    ]
    assert decisions(order)[-1] == ("sla_timeout", "routed", "warehouses, no split")
    assert FulfillmentOrder.objects.get(pk=fo.pk).cancel_reason == "sla_timeout"
    # The units were real: the same reservation moved on (no release, no fresh reserve).
    assert active_reservations(order) == [("SHIRT", "wh-2", 2, "location")]
    assert fulfillment_orders(other) == [("wh-2", "accepted", [("SHIRT", 1, 0)])]
    assert (reserved(net["shirt"], net["wh1"]), reserved(net["shirt"], net["wh2"])) == (0, 3)
    assert _allocated(order) == [2]
    assert_ledger_consistent()


@pytest.mark.django_db
def test_an_allocation_cancelled_by_a_stock_loss_is_routed_again() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2})
    _routed(order)
    # The count finds no shirt at wh-1: the reservation is shorted (released) by inventory.
    stock_count(product_id=net["shirt"].pk, location_id=net["wh1"].pk, counted=0)
    assert active_reservations(order) == []

    assert fulfillment_allocations_check() == 1

    assert fulfillment_orders(order) == [
        ("wh-1", "cancelled", [("SHIRT", 2, 2)]),
        ("wh-2", "created", [("SHIRT", 2, 0)]),
    ]
    assert decisions(order)[-1] == ("allocation_cancelled", "routed", "warehouses, no split")
    assert FulfillmentOrderLine.objects.filter(rejection_reason="allocation_cancelled").count() == 1
    assert active_reservations(order) == [("SHIRT", "wh-2", 2, "location")]
    assert fulfillment_allocations_check() == 0
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_backordered_order_is_retried_when_stock_arrives(no_routing_hook: None) -> None:
    net = network()
    for location in ("wh2", "store"):
        stock_count(product_id=net["shirt"].pk, location_id=net[location].pk, counted=0)
    order = place(net["web"], {"SHIRT": 2})
    fo = _routed(order)
    fulfillment_order_reject(
        fulfillment_order_id=fo.pk, lines=[(fo.lines.get().pk, 2, "damaged")], actor="wh"
    )
    order.refresh_from_db()
    assert order.status == "backordered"
    later = timezone.now() + timedelta(minutes=5)

    assert orders_retry_parked(now=later) == 0  # nothing arrived: no new decision
    stock_receive(product_id=net["shirt"].pk, location_id=net["wh2"].pk, quantity=3)
    assert orders_retry_parked(now=later) == 1

    assert decisions(order) == [
        ("placed", "routed", "warehouses, no split"),
        ("rejected", "backordered", "any location, free split"),
        ("retry", "routed", "warehouses, no split"),
    ]
    assert fulfillment_orders(order)[-1] == ("wh-2", "created", [("SHIRT", 2, 0)])
    order.refresh_from_db()
    assert order.status == "routed"
    assert orders_retry_parked(now=later) == 0
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_a_placed_order_whose_task_never_ran_is_routed_by_the_sweep(no_routing_hook: None) -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 1})

    assert orders_retry_parked(now=order.placed_at + timedelta(seconds=30)) == 0
    assert orders_retry_parked(now=order.placed_at + timedelta(seconds=61)) == 1

    assert decisions(order) == [("retry", "routed", "warehouses, no split")]
    assert RoutingDecision.objects.get(order=order).order_version == 1
