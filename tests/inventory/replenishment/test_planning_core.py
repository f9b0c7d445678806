"""The pure planning core: known answers for min/max, reorder point, lead time, on order, in
transit, pack rounding, supplier minimum and source caps, and the explanations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.planning import (
    Demand,
    Method,
    OrderLine,
    PlanningRule,
    Position,
    TopUp,
    minimum_order_top_up,
    pack_round_up,
    replenishment_plan,
    review_is_due,
)

REORDER = Method.REORDER_POINT


def test_reorder_point_the_issue_example() -> None:
    # avg 3.2/day x (lead 5 + review 7) = 38.4 -> 39; position 20 - safety 4 = 16; 39 - 16 = 23
    plan = replenishment_plan(
        rule=PlanningRule(method=REORDER, lead_time_days=5, review_cycle_days=7, pack_size=6),
        position=Position(on_hand=14, reserved=2, in_transit=3, on_order=5, safety_stock=4),
        demand=Demand(units=96, days=30),
    )
    assert (plan.quantity, plan.need, plan.is_triggered) == (24, 23, True)
    assert plan.explanation == (
        "avg 3.20/day (96 in 30 days); position 16 (free 12 + in transit 3 + on order 5"
        " - safety 4) <= reorder point 16 (demand over lead 5 days); avg 3.20/day x (lead 5"
        " + review 7) days = 39; 39 - position 16 = 23 -> pack of 6 -> 24: order 24"
    )


def test_reorder_point_not_reached_orders_nothing() -> None:
    plan = replenishment_plan(
        rule=PlanningRule(method=REORDER, lead_time_days=5, review_cycle_days=7),
        position=Position(on_hand=17),
        demand=Demand(units=96, days=30),  # 16 over the lead time
    )
    assert (plan.quantity, plan.need, plan.is_triggered) == (0, 0, False)
    assert plan.explanation.endswith("> reorder point 16 (demand over lead 5 days): no order")


def test_longer_lead_time_orders_more() -> None:
    def quantity(lead: int) -> int:
        return replenishment_plan(
            rule=PlanningRule(method=REORDER, lead_time_days=lead, review_cycle_days=7),
            position=Position(on_hand=10),
            demand=Demand(units=60, days=30),  # 2 a day
        ).quantity

    assert (quantity(5), quantity(10)) == (2 * 12 - 10, 2 * 17 - 10)


def test_on_order_and_in_transit_count_towards_the_position() -> None:
    rule = PlanningRule(method=REORDER, lead_time_days=3, review_cycle_days=4)
    demand = Demand(units=30, days=30)  # 1 a day: 3 over lead, 7 over lead + review
    assert replenishment_plan(rule=rule, position=Position(on_hand=2), demand=demand).quantity == 5
    assert (
        replenishment_plan(rule=rule, position=Position(on_hand=2, on_order=2), demand=demand)
    ).quantity == 0  # position 4 > reorder point 3
    assert (
        replenishment_plan(rule=rule, position=Position(on_hand=1, in_transit=2), demand=demand)
    ).quantity == 4


def test_explicit_reorder_point_without_demand_orders_up_to_it() -> None:
    plan = replenishment_plan(
        rule=PlanningRule(method=REORDER, lead_time_days=5, reorder_point=10),
        position=Position(on_hand=4),
        demand=Demand(units=0, days=30),
    )
    assert (plan.quantity, plan.need) == (6, 6)
    assert "reorder point 10 is higher" in plan.explanation


def test_min_max_orders_up_to_max_at_or_below_min() -> None:
    rule = PlanningRule(method=Method.MIN_MAX, lead_time_days=2, min_quantity=5, max_quantity=20)
    demand = Demand(units=0, days=30)
    at_min = replenishment_plan(rule=rule, position=Position(on_hand=8, reserved=3), demand=demand)
    above = replenishment_plan(rule=rule, position=Position(on_hand=6), demand=demand)
    assert (at_min.quantity, at_min.need) == (15, 15)
    assert at_min.explanation == (
        "avg 0.00/day (0 in 30 days); position 5 (free 5) <= min 5 -> max 20 - position 5 = 15:"
        " order 15"
    )
    assert (above.quantity, above.is_triggered) == (0, False)
    assert above.explanation.endswith("> min 5: no order")


def test_supplier_minimum_then_pack_size() -> None:
    plan = replenishment_plan(
        rule=PlanningRule(
            method=Method.MIN_MAX,
            lead_time_days=2,
            min_quantity=2,
            max_quantity=5,
            pack_size=4,
            minimum_order_quantity=10,
        ),
        position=Position(on_hand=1),
        demand=Demand(units=0, days=7),
    )
    assert (plan.quantity, plan.need) == (12, 4)
    assert plan.explanation.endswith("= 4 -> minimum order 10 -> pack of 4 -> 12: order 12")


def test_source_stock_caps_a_transfer_in_whole_packs() -> None:
    rule = PlanningRule(method=Method.MIN_MAX, lead_time_days=1, max_quantity=30, pack_size=6)
    plan = replenishment_plan(
        rule=rule, position=Position(on_hand=0), demand=Demand(units=0, days=7), source_available=17
    )
    assert plan.quantity == 12
    assert plan.explanation.endswith("-> pack of 6 -> 30 -> source has 17 free -> 12: order 12")
    empty = replenishment_plan(
        rule=rule, position=Position(on_hand=0), demand=Demand(units=0, days=7), source_available=-2
    )
    assert empty.quantity == 0


def test_negative_free_stock_is_a_negative_position() -> None:
    plan = replenishment_plan(
        rule=PlanningRule(method=Method.MIN_MAX, lead_time_days=1, max_quantity=4),
        position=Position(on_hand=3, reserved=3, damaged=0, safety_stock=2),
        demand=Demand(units=0, days=7),
    )
    assert (plan.quantity, plan.need) == (6, 6)


def test_bad_rules_and_demand_are_refused() -> None:
    with pytest.raises(ValueError, match="pack size"):
        PlanningRule(method=REORDER, lead_time_days=1, pack_size=0)
    with pytest.raises(ValueError, match="min must not exceed max"):
        PlanningRule(method=Method.MIN_MAX, lead_time_days=1, min_quantity=5, max_quantity=2)
    with pytest.raises(ValueError, match="window"):
        Demand(units=1, days=0)


def test_review_cycle() -> None:
    today = date(2026, 3, 10)
    assert review_is_due(last_reviewed_on=None, today=today, review_cycle_days=7)
    assert review_is_due(last_reviewed_on=today, today=today, review_cycle_days=7)
    assert not review_is_due(last_reviewed_on=date(2026, 3, 4), today=today, review_cycle_days=7)
    assert review_is_due(last_reviewed_on=date(2026, 3, 3), today=today, review_cycle_days=7)
    assert review_is_due(last_reviewed_on=date(2026, 3, 9), today=today, review_cycle_days=0)


@given(
    need=st.integers(min_value=1, max_value=10_000),
    pack=st.integers(min_value=1, max_value=50),
    minimum=st.integers(min_value=0, max_value=500),
)
def test_rounded_quantity_is_whole_packs_covering_need_and_minimum(
    need: int, pack: int, minimum: int
) -> None:
    plan = replenishment_plan(
        rule=PlanningRule(
            method=Method.MIN_MAX,
            lead_time_days=1,
            max_quantity=need,
            pack_size=pack,
            minimum_order_quantity=minimum,
        ),
        position=Position(on_hand=0),
        demand=Demand(units=0, days=1),
    )
    assert plan.quantity % pack == 0
    assert plan.quantity >= max(need, minimum)
    assert plan.quantity - pack < max(need, minimum)
    assert plan.quantity == pack_round_up(max(need, minimum), pack)


def test_minimum_order_value_is_reached_with_whole_packs_of_the_fastest_seller() -> None:
    lines = [
        OrderLine(
            key=1, quantity=6, pack_size=6, unit_cost=Decimal("2.50"), daily_demand=Decimal("1")
        ),
        OrderLine(
            key=2, quantity=4, pack_size=4, unit_cost=Decimal("10"), daily_demand=Decimal("3")
        ),
        OrderLine(
            key=3, quantity=2, pack_size=1, unit_cost=Decimal("0"), daily_demand=Decimal("9")
        ),
    ]
    # 15 + 40 = 55; minimum 120: 65 more, packs of 4 x 10 = 40 -> 2 packs (8 units) on key 2
    top_up = minimum_order_top_up(lines, Decimal("120"))
    assert top_up.extra == ((2, 8),)
    assert top_up.note == (
        "worth 55.00, below the supplier's minimum 120.00: +2 pack(s) of 4 (8 units) on the"
        " fastest seller"
    )
    assert minimum_order_top_up(lines, Decimal("55")) == TopUp((), "")
    unpriced = minimum_order_top_up(lines[2:], Decimal("10"))
    assert (unpriced.extra, unpriced.note.endswith("(no unit cost to top up with)")) == ((), True)
