"""Tables of (demand, candidates, policy) -> expected plan, outcome and explanation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fulfillment.routing import haversine_km, route, route_nearest_with_stock, select_rule_set
from fulfillment.routing.types import (
    Assignment,
    DeliveryMode,
    FailureAction,
    GeoPoint,
    LocationKind,
    Outcome,
    Policy,
    Rule,
    RuleSet,
    RuleSetConditions,
    Shortfall,
    SplitKind,
    SplitPolicy,
)
from tests.fulfillment.routing.instances import (
    LILLE,
    LYON,
    MARSEILLE,
    NOW,
    PARIS,
    demand,
    policy,
    store,
    warehouse,
)

LYON_EAST = GeoPoint(45.75, 4.90)  # ~5 km from Lyon
NO_SPLIT = SplitPolicy(SplitKind.NONE)


def reasons(decision, location_id):
    return next(v.failed_filters for v in decision.verdicts if v.location_id == location_id)


def test_haversine_paris_lyon():
    assert haversine_km(PARIS, LYON) == pytest.approx(391.6, abs=0.5)
    assert haversine_km(PARIS, PARIS) == 0.0
    assert haversine_km(PARIS, LYON) == haversine_km(LYON, PARIS)


def test_home_standard_cheapest_location_and_every_filter_reason():
    candidates = [
        warehouse(1, {7: 5}),
        store(2, {7: 5}, at=LYON),
        store(3, {8: 3}),
        store(4, {7: 5}, capacity_left=0),
        warehouse(5, {7: 5}, ready_at=None),
        store(6, {7: 5}, is_ship_from_store=False),
    ]
    decision = route(
        demand((7, 2)), candidates, policy(Rule(name="near", max_distance_km=50)), now=NOW
    )
    assert decision.outcome == Outcome.ROUTED
    assert decision.assignments == (Assignment(1, 7, 1, 2),)
    assert decision.shortfalls == ()
    assert (decision.rule_set, decision.rule_set_version, decision.rule) == ("default", 3, "near")
    assert decision.search == "exact"
    # 1 kg within 100 km: 5.00; 2 x 0.30 labour; half the daily capacity used: 2.0 x 0.5.
    assert decision.total_cost == pytest.approx(6.6)
    assert decision.cost_components["shipping"] == 5.0
    assert decision.cost_components["labour"] == pytest.approx(0.6)
    assert decision.cost_components["capacity_pressure"] == 1.0
    assert decision.cost_components["split_penalty"] == 0.0
    assert reasons(decision, 1) == ()
    assert reasons(decision, 2) == ("distance 391 km > max 50 km",)
    assert reasons(decision, 3) == ("no stock of product 7",)
    assert reasons(decision, 4) == ("capacity exhausted",)
    assert reasons(decision, 5) == ("cannot meet cut-off",)
    assert reasons(decision, 6) == ("ship-from-store disabled",)
    chosen = [v for v in decision.verdicts if v.is_chosen]
    assert [v.location_id for v in chosen] == [1]
    assert chosen[0].passed_filters == ("distance", "parcels", "cut_off", "capacity", "stock")
    assert chosen[0].cost_components["shipping"] == 5.0
    assert [v.location_id for v in decision.verdicts] == [1, 2, 3, 4, 5, 6]
    assert decision.ready_by == NOW + timedelta(hours=2 + 24)


def test_weight_band_keeps_one_parcel_rather_than_splitting():
    # 2 x 700 g = 1.4 kg: one parcel at 8.00 beats two 0.7 kg parcels (5.00 + 5.00 + split 4).
    candidates = [warehouse(1, {7: 1, 8: 1}), warehouse(2, {7: 1, 8: 1})]
    decision = route(demand((7, 1, 700), (8, 1, 700)), candidates, policy(), now=NOW)
    assert decision.assignments == (Assignment(1, 7, 1, 1), Assignment(2, 8, 1, 1))
    assert decision.cost_components["shipping"] == 8.0


def test_split_penalty_and_split_policy():
    candidates = [warehouse(1, {7: 2}), warehouse(2, {8: 1})]
    order = demand((7, 2), (8, 1))
    split = route(
        order,
        candidates,
        policy(Rule(name="two", split=SplitPolicy(SplitKind.MAX_LOCATIONS, 2))),
        now=NOW,
    )
    assert split.outcome == Outcome.ROUTED
    assert split.assignments == (Assignment(1, 7, 1, 2), Assignment(2, 8, 2, 1))
    assert split.cost_components["split_penalty"] == 4.0
    whole = route(
        order,
        candidates,
        policy(Rule(name="one", split=NO_SPLIT, on_failure=FailureAction.BACKORDER)),
        now=NOW,
    )
    assert whole.outcome == Outcome.PARTIAL
    assert whole.assignments == (Assignment(1, 7, 1, 2),)
    assert whole.shortfalls == (Shortfall(2, 8, 1),)


def test_next_rule_then_routed_by_the_second():
    rules = (
        Rule(
            name="stores-near", location_kinds=frozenset({LocationKind.STORE}), max_distance_km=50
        ),
        Rule(name="warehouses", location_kinds=frozenset({LocationKind.WAREHOUSE})),
    )
    candidates = [warehouse(1, {7: 3}, at=LILLE), store(2, {7: 3}, at=LYON)]
    decision = route(demand((7, 1)), candidates, policy(*rules), now=NOW)
    assert decision.outcome == Outcome.ROUTED
    assert decision.rule == "warehouses"
    assert decision.rules_tried == ("stores-near", "warehouses")
    assert decision.assignments == (Assignment(1, 7, 1, 1),)
    assert reasons(decision, 2) == ("kind store not in rule (warehouse)",)


@pytest.mark.parametrize(
    ("action", "days_waiting", "outcome", "note"),
    [
        (FailureAction.PARK, 0, Outcome.PARKED, ""),
        (FailureAction.BACKORDER, 0, Outcome.BACKORDERED, ""),
        (FailureAction.CANCEL_AFTER_DAYS, 2, Outcome.PARKED, ""),
        (FailureAction.CANCEL_AFTER_DAYS, 3, Outcome.CANCEL, "still short after 3 days"),
        (FailureAction.NEXT_RULE, 0, Outcome.PARKED, "no rule could serve every unit"),
    ],
)
def test_failure_actions_when_nothing_is_in_stock(action, days_waiting, outcome, note):
    rule = Rule(name="r", on_failure=action, cancel_after_days=3)
    order = demand((7, 2), (8, 1), days_waiting=days_waiting)
    decision = route(order, [warehouse(1, {9: 4})], policy(rule), now=NOW)
    assert decision.outcome == outcome
    assert decision.assignments == ()
    assert decision.shortfalls == (Shortfall(1, 7, 2), Shortfall(2, 8, 1))
    assert decision.note == note
    assert decision.total_cost == 0.0
    assert reasons(decision, 1) == ("no stock of products 7, 8",)


def test_partial_backorder_keeps_what_can_be_served():
    rule = Rule(name="r", on_failure=FailureAction.BACKORDER)
    decision = route(demand((7, 3)), [warehouse(1, {7: 2})], policy(rule), now=NOW)
    assert decision.outcome == Outcome.PARTIAL
    assert decision.assignments == (Assignment(1, 7, 1, 2),)
    assert decision.shortfalls == (Shortfall(1, 7, 1),)


def test_park_assigns_nothing_even_when_part_is_available():
    rule = Rule(name="r", on_failure=FailureAction.PARK)
    decision = route(demand((7, 3)), [warehouse(1, {7: 2})], policy(rule), now=NOW)
    assert decision.outcome == Outcome.PARKED
    assert decision.assignments == ()
    assert decision.shortfalls == (Shortfall(1, 7, 3),)


def test_click_and_collect_from_the_pickup_store():
    candidates = [warehouse(1, {7: 9}, at=LYON), store(10, {7: 2}, at=LYON)]
    order = demand((7, 2), mode=DeliveryMode.CLICK_AND_COLLECT, to=None, pickup_location_id=10)
    decision = route(order, candidates, policy(), now=NOW)
    assert decision.outcome == Outcome.ROUTED
    assert decision.search == "pickup_store"
    assert decision.assignments == (Assignment(1, 7, 10, 2),)
    assert decision.cost_components["shipping"] == 0.0
    assert decision.ready_by == NOW + timedelta(hours=1)
    assert decision.alternatives == ()


def test_click_and_collect_ship_to_store_with_alternatives():
    candidates = [
        warehouse(1, {7: 9}, at=PARIS),
        store(10, {}, at=LYON),  # the pickup store, out of stock
        store(11, {7: 2}, at=LYON_EAST, ready_at=NOW + timedelta(hours=3)),
        store(12, {7: 1}, at=LYON_EAST),  # not enough for an alternative
        store(13, {7: 5}, at=MARSEILLE),  # too far for an alternative
    ]
    order = demand((7, 2), mode=DeliveryMode.CLICK_AND_COLLECT, to=None, pickup_location_id=10)
    decision = route(order, candidates, policy(), now=NOW)
    assert decision.outcome == Outcome.ROUTED
    assert decision.search == "exact"
    # Store 11, 5 km away: 5.00 + 1.80 labour + 1.00 capacity + 0.05 distance beats the
    # warehouse 391 km away (7.00 + 0.60 + 1.00 + 3.91).
    assert decision.assignments == (Assignment(1, 7, 11, 2),)
    assert decision.ready_by == NOW + timedelta(hours=3 + 24)
    assert decision.alternatives == (11,)
    assert reasons(decision, 10) == ("no stock of product 7",)


def test_same_day_filters():
    candidates = [
        store(1, {7: 1}, at=LYON),
        warehouse(2, {7: 1}),
        store(3, {7: 1}, ready_at=NOW + timedelta(days=1)),
        store(4, {7: 1}, capacity_left=0),
        store(5, {7: 1}, at=GeoPoint(48.87, 2.40), is_ship_from_store=False, ships_parcels=False),
    ]
    order = demand((7, 1), mode=DeliveryMode.SAME_DAY)
    decision = route(order, candidates, policy(Rule(name="r", require_capacity=False)), now=NOW)
    assert decision.assignments == (Assignment(1, 7, 5, 1),)
    assert reasons(decision, 1) == ("distance 391 km > same-day radius 30 km",)
    assert reasons(decision, 2) == ("not a store (same-day ships from stores)",)
    assert reasons(decision, 3) == ("cannot meet cut-off",)
    assert reasons(decision, 4) == ("capacity exhausted",)


def test_express_cut_off_and_relay_carrier():
    candidates = [
        warehouse(1, {7: 1}, ready_at=NOW + timedelta(days=1), carriers=frozenset({"relay-x"})),
        warehouse(2, {7: 1}, carriers=frozenset({"relay-y"})),
        warehouse(3, {7: 1}, carriers=frozenset({"relay-x"}), ships_parcels=False),
    ]
    express = route(demand((7, 1), mode=DeliveryMode.HOME_EXPRESS), candidates, policy(), now=NOW)
    assert express.assignments == (Assignment(1, 7, 2, 1),)
    assert reasons(express, 1) == ("cannot meet cut-off",)
    relay = route(
        demand((7, 1), mode=DeliveryMode.RELAY_POINT, relay_carrier="relay-x"),
        candidates,
        policy(),
        now=NOW,
    )
    assert relay.assignments == (Assignment(1, 7, 1, 1),)
    assert reasons(relay, 2) == ("carrier relay-x not served",)
    assert reasons(relay, 3) == ("does not ship parcels",)


def test_safety_stock_only_when_the_rule_allows():
    candidates = [warehouse(1, {7: 0}, stock_with_safety={7: 3})]
    strict = route(
        demand((7, 2)), candidates, policy(Rule(name="r", on_failure=FailureAction.PARK)), now=NOW
    )
    assert strict.outcome == Outcome.PARKED
    relaxed = route(
        demand((7, 2)), candidates, policy(Rule(name="r", respect_safety_stock=False)), now=NOW
    )
    assert relaxed.assignments == (Assignment(1, 7, 1, 2),)


def test_last_units_are_protected():
    # Same place, same labour: the warehouse with 10 units is preferred to the one with its
    # last 2 units (threshold 2: both units would be "last units").
    candidates = [
        warehouse(1, {7: 2}, last_unit_threshold=2),
        warehouse(2, {7: 10}, last_unit_threshold=2),
    ]
    decision = route(demand((7, 2)), candidates, policy(), now=NOW)
    assert decision.assignments == (Assignment(1, 7, 2, 2),)
    alone = route(demand((7, 2)), candidates[:1], policy(), now=NOW)
    assert alone.cost_components["last_unit_protection"] == 3.0


def test_promise_risk_prefers_the_location_that_makes_it():
    late = warehouse(1, {7: 1}, ready_at=NOW + timedelta(hours=20), pick_cost_per_unit=0.0)
    on_time = warehouse(2, {7: 1}, pick_cost_per_unit=2.0)
    order = demand((7, 1), promise_by=NOW + timedelta(hours=30))
    decision = route(order, [late, on_time], policy(), now=NOW)
    assert decision.assignments == (Assignment(1, 7, 2, 1),)
    verdict = next(v for v in decision.verdicts if v.location_id == 1)
    assert verdict.cost_components["promise_risk"] == 10.0


def test_rule_set_selection():
    def rule_set(name, **conditions):
        return RuleSet(
            name=name,
            version=1,
            rules=(Rule(name=name),),
            conditions=RuleSetConditions(**conditions),
        )

    chosen = Policy(
        rule_sets=(
            rule_set("vip", min_priority=5),
            rule_set("urgent", promise_within_hours=24),
            rule_set("marketplace", channels=frozenset({"marketplace"})),
            rule_set(
                "express-be",
                delivery_modes=frozenset({DeliveryMode.HOME_EXPRESS}),
                countries=frozenset({"BE"}),
            ),
            rule_set("fallback"),
        )
    )

    def selected(**fields):
        found = select_rule_set(demand((7, 1), **fields), chosen, now=NOW)
        return None if found is None else found.name

    assert selected(priority=5) == "vip"
    assert selected(promise_by=NOW + timedelta(hours=20)) == "urgent"
    assert selected(promise_by=NOW + timedelta(hours=30)) == "fallback"
    assert selected(channel="marketplace") == "marketplace"
    assert selected(mode=DeliveryMode.HOME_EXPRESS, country="BE") == "express-be"
    assert selected(mode=DeliveryMode.HOME_EXPRESS, country="FR") == "fallback"
    empty = Policy(rule_sets=(rule_set("vip", min_priority=5),))
    assert select_rule_set(demand((7, 1)), empty, now=NOW) is None
    decision = route(demand((7, 1)), [warehouse(1, {7: 1})], empty, now=NOW)
    assert decision.outcome == Outcome.PARKED
    assert decision.note == "no rule set matches the order"
    assert decision.shortfalls == (Shortfall(1, 7, 1),)


def test_nearest_with_stock_baseline_splits_where_route_does_not():
    # The nearest store has line 1 only; the warehouse further away has both lines.
    candidates = [store(1, {7: 1}), warehouse(2, {7: 1, 8: 1}, at=GeoPoint(48.95, 2.55))]
    order = demand((7, 1), (8, 1))
    rules = policy(Rule(name="r", split=SplitPolicy(SplitKind.MAX_LOCATIONS, 2)))
    naive = route_nearest_with_stock(order, candidates, rules, now=NOW)
    assert naive.location_ids == (1, 2)
    assert naive.search == "nearest"
    assert route(order, candidates, rules, now=NOW).location_ids == (2,)
