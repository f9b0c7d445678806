"""order_route against real PostgreSQL and the real routing core: plan, apply, idempotency."""

from __future__ import annotations

import pytest

from fulfillment.models import FulfillmentOrder, RoutingDecision
from fulfillment.routing.types import Assignment, Decision, Outcome
from fulfillment.services.routing import order_route
from inventory.models import Reservation, StockMovement
from inventory.services import ReserveLine, stock_reserve
from orders.models import Order, OrderLine
from orders.services.lifecycle import order_hold
from tests.fulfillment.service_support import (
    active_reservations,
    decisions,
    fulfillment_orders,
    network,
    outbox_topics,
    place,
    reserved,
    routed_events,
)
from tests.inventory.helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def _route(order: Order, trigger: str = "placed") -> RoutingDecision | None:
    version = Order.objects.values_list("version", flat=True).get(pk=order.pk)
    return order_route(order_id=order.pk, expected_version=version, trigger=trigger)


def test_placed_order_is_routed_to_the_warehouse_holding_its_pool_units() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2, "MUG": 1})
    movements = StockMovement.objects.count()

    decision = _route(order)

    assert decision is not None
    assert (decision.trigger, decision.outcome, decision.rule_set, decision.rule) == (
        "placed",
        "routed",
        "default",
        "warehouses, no split",
    )
    assert decision.order_version == 1
    assert decision.rule_set_version == 1
    # The address (Paris) is geocoded at capture, so the distance to wh-1 now costs a little.
    assert decision.total_cost == 6.1043
    assert decision.cost_components["shipping"] == 4.9
    assert [v["code"] for v in decision.verdicts if v["is_chosen"]] == ["wh-1"]
    store = next(v for v in decision.verdicts if v["code"] == "st-opera")
    assert store["failed_filters"] == [
        "kind store not in rule (warehouse)",
        "ship-from-store disabled",
        "does not ship parcels",
    ]
    assert fulfillment_orders(order) == [("wh-1", "created", [("SHIRT", 2, 0), ("MUG", 1, 0)])]
    # The pool units were parked at wh-1 already: bound in place, no counter moved.
    assert active_reservations(order) == [
        ("SHIRT", "wh-1", 2, "location"),
        ("MUG", "wh-1", 1, "location"),
    ]
    assert StockMovement.objects.count() == movements
    assert list(
        OrderLine.objects.filter(order=order).order_by("id").values_list("quantity_allocated")
    ) == [(2,), (1,)]
    order.refresh_from_db()
    assert (order.status, order.version) == ("routed", 2)
    assert routed_events(order) == [
        (
            "routed",
            "placed",
            "routed",
            "routed: rule 'warehouses, no split' of default v1 -> wh-1 (cost 6.10)",
        )
    ]
    assert outbox_topics(order) == ["order.placed", "order.routed"]
    fo = FulfillmentOrder.objects.get(order=order)
    assert fo.routing_decision_id == decision.pk
    assert_ledger_consistent()


def test_same_version_twice_routes_once_and_an_old_version_does_nothing() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2})
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is not None
    # Redelivered task (same version): the order moved on to version 2.
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is None
    # Current version, nothing left to route: no decision either.
    assert order_route(order_id=order.pk, expected_version=2, trigger="manual") is None
    assert FulfillmentOrder.objects.filter(order=order).count() == 1
    assert RoutingDecision.objects.filter(order=order).count() == 1
    assert routed_events(order)[0][0] == "routed"
    assert len(routed_events(order)) == 1


def test_version_moved_on_before_routing_writes_nothing() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2})
    order_hold(order_id=order.pk, reason="fraud check", actor="test")

    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is None
    # The current version, but on hold: not routable.
    assert order_route(order_id=order.pk, expected_version=2, trigger="placed") is None
    assert not RoutingDecision.objects.exists()
    assert not FulfillmentOrder.objects.exists()
    assert active_reservations(order) == [("SHIRT", "wh-1", 2, "pool")]


def test_stock_taken_between_plan_and_apply_moves_to_the_next_best_plan() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2})
    line = OrderLine.objects.get(order=order)
    # A plan made a moment ago sent the shirts to wh-2; another order has taken wh-2's units
    # since (the plan's candidates were read before the lock).
    stale = Decision(
        outcome=Outcome.ROUTED,
        assignments=(Assignment(line.pk, net["shirt"].pk, net["wh2"].pk, 2),),
        shortfalls=(),
        rule_set="hand-made",
        rule_set_version=1,
        rule="wh-2",
        total_cost=1.0,
        cost_components={},
        verdicts=(),
        search="exact",
        plans_evaluated=1,
    )
    stock_reserve(
        lines=[ReserveLine(product_id=net["shirt"].pk, quantity=5, location_id=net["wh2"].pk)],
        reference_type="cart",
    )

    decision = order_route(order_id=order.pk, expected_version=1, trigger="placed", plan=stale)

    assert decision is not None
    assert (decision.rule_set, decision.rule) == ("default", "warehouses, no split")
    assert [race["rule"] for race in decision.lost_races] == ["wh-2"]
    assert decision.lost_races[0]["refused"] == {"location_id": net["wh2"].pk, "requested": 2}
    assert fulfillment_orders(order) == [("wh-1", "created", [("SHIRT", 2, 0)])]
    assert (reserved(net["shirt"], net["wh1"]), reserved(net["shirt"], net["wh2"])) == (2, 5)
    assert_ledger_consistent()


def test_a_hand_made_plan_moves_pool_units_to_another_location() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 3})
    line = OrderLine.objects.get(order=order)
    plan = Decision(
        outcome=Outcome.ROUTED,
        assignments=(
            Assignment(line.pk, net["shirt"].pk, net["wh1"].pk, 1),
            Assignment(line.pk, net["shirt"].pk, net["wh2"].pk, 2),
        ),
        shortfalls=(),
        rule_set="hand-made",
        rule_set_version=1,
        rule="split",
        total_cost=2.0,
        cost_components={"shipping": 2.0},
        verdicts=(),
        search="exact",
        plans_evaluated=1,
    )

    decision = order_route(order_id=order.pk, expected_version=1, trigger="manual", plan=plan)

    assert decision is not None
    assert decision.outcome == "routed"
    assert fulfillment_orders(order) == [
        ("wh-1", "created", [("SHIRT", 1, 0)]),
        ("wh-2", "created", [("SHIRT", 2, 0)]),
    ]
    assert active_reservations(order) == [
        ("SHIRT", "wh-1", 1, "location"),
        ("SHIRT", "wh-2", 2, "location"),
    ]
    assert (reserved(net["shirt"], net["wh1"]), reserved(net["shirt"], net["wh2"])) == (1, 2)
    assert Reservation.objects.filter(status="released", quantity=0).count() == 1
    assert_ledger_consistent()


def test_click_and_collect_is_served_by_its_store_without_moving_stock() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 1}, store=net["store"])
    before = active_reservations(order)
    movements = StockMovement.objects.count()

    decision = _route(order)

    assert decision is not None
    assert (decision.rule_set, decision.rule, decision.outcome) == (
        "click-and-collect",
        "pickup store",
        "routed",
    )
    assert fulfillment_orders(order) == [("st-opera", "created", [("SHIRT", 1, 0)])]
    assert before == active_reservations(order) == [("SHIRT", "st-opera", 1, "location")]
    assert StockMovement.objects.count() == movements
    assert decisions(order) == [("placed", "routed", "pickup store")]


def test_routing_a_placed_order_takes_a_bounded_number_of_statements() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    net = network()
    warm = place(net["web"], {"SHIRT": 1})
    _route(warm)  # the live policy is now cached in this process
    order = place(net["web"], {"SHIRT": 2, "MUG": 1})

    with CaptureQueriesContext(connection) as captured:
        decision = order_route(order_id=order.pk, expected_version=1, trigger="placed")

    assert decision is not None
    # Begin (a savepoint here), order, decision check, lines, policy key, free reservations,
    # exclusions, locations, stock levels; savepoint, level locks, decision, one bind-in-place
    # update, fulfillment order and its lines, one line update; the order's transition
    # (savepoint, lock, update, event, outbox, release); release; commit. It was 38: the
    # policy's three queries, four candidate queries, three lock queries, four statements per
    # reservation bound in place and one per line update.
    assert len(captured.captured_queries) == 24
    assert active_reservations(order) == [
        ("SHIRT", "wh-1", 2, "location"),
        ("MUG", "wh-1", 1, "location"),
    ]


def test_the_cached_live_policy_follows_a_version_bump() -> None:
    from fulfillment.models import RoutingRuleSet
    from fulfillment.services.rule_sets import routing_policy_live, routing_rule_set_version_bump

    network()
    first = routing_policy_live()
    assert routing_policy_live() is first
    rule_set = RoutingRuleSet.objects.get(name="default")

    routing_rule_set_version_bump(rule_set_id=rule_set.pk)

    bumped = routing_policy_live()
    assert bumped is not first
    assert {s.name: s.version for s in bumped.rule_sets}["default"] == 2


def _cancel_plan() -> Decision:
    return Decision(
        outcome=Outcome.CANCEL,
        assignments=(),
        shortfalls=(),
        rule_set="hand-made",
        rule_set_version=1,
        rule="cancel after 3 days",
        total_cost=0.0,
        cost_components={},
        verdicts=(),
        search="none",
        plans_evaluated=0,
    )


def test_a_cancel_outcome_cancels_once_routing_has_committed(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decision = order_route(
            order_id=order.pk, expected_version=1, trigger="retry", plan=_cancel_plan()
        )
    assert decision is not None
    # Routing itself (holding stock-level locks) cancels nothing: the units are still held.
    order.refresh_from_db()
    assert order.status == "backordered"
    assert [units for _, _, units, _ in active_reservations(order)] == [2]
    for callback in callbacks:
        callback()
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert active_reservations(order) == []
    assert reserved(net["shirt"], net["wh1"]) + reserved(net["shirt"], net["wh2"]) == 0
    assert_ledger_consistent()


def test_a_cancel_outcome_is_dropped_when_the_order_moved_on(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_route(order_id=order.pk, expected_version=1, trigger="retry", plan=_cancel_plan())
    Order.objects.filter(pk=order.pk).update(version=99)  # e.g. stock arrived, routed again
    for callback in callbacks:
        callback()
    order.refresh_from_db()
    assert order.status == "backordered"
    assert [units for _, _, units, _ in active_reservations(order)] == [2]
    assert_ledger_consistent()
