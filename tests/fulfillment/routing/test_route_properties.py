"""Properties of ``route`` on random instances (Hypothesis): stock, split policy, shortfalls,
determinism under candidate order."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from fulfillment.routing import route
from fulfillment.routing.engine import max_locations
from fulfillment.routing.types import Outcome
from tests.fulfillment.routing.instances import NOW, random_instance

instances = st.builds(
    lambda seed, candidates, lines, exact: (
        *random_instance(
            random.Random(seed), candidates=candidates, lines=lines, max_quantity=4, max_stock=4
        ),
        exact,
    ),
    seed=st.integers(0, 2**32),
    candidates=st.integers(1, 8),
    lines=st.integers(1, 4),
    exact=st.booleans(),
)


def _route(instance, candidates=None):
    import dataclasses

    order, network, policy, exact = instance
    limit = 10**6 if exact else 0  # both searches
    policy = dataclasses.replace(policy, exact_search_limit=limit)
    return route(order, network if candidates is None else candidates, policy, now=NOW)


@settings(max_examples=150, deadline=None)
@given(instance=instances)
def test_never_over_allocates_never_splits_beyond_policy_shortfalls_exact(instance):
    order, network, policy, _exact = instance
    decision = _route(instance)
    rule = policy.rule_sets[0].rules[0]
    # Stock: per (location, product), assigned <= ATP (the rule respects safety stock).
    taken: dict[tuple[int, int], int] = {}
    for assignment in decision.assignments:
        key = (assignment.location_id, assignment.product_id)
        taken[key] = taken.get(key, 0) + assignment.quantity
        assert assignment.quantity > 0
    stock = {c.location_id: c.stock for c in network}
    for (location_id, product_id), units in taken.items():
        assert units <= stock[location_id].get(product_id, 0)
    # Split policy.
    units = sum(line.quantity for line in order.lines)
    assert len(decision.location_ids) <= max_locations(rule, len(order.lines), units)
    # Shortfalls = demand - assigned, per line, exactly.
    for line in order.lines:
        assigned = sum(a.quantity for a in decision.assignments if a.line_id == line.line_id)
        short = sum(s.quantity for s in decision.shortfalls if s.line_id == line.line_id)
        assert assigned + short == line.quantity
        assert all(
            a.product_id == line.product_id
            for a in decision.assignments
            if a.line_id == line.line_id
        )
    expected = (
        Outcome.ROUTED
        if not decision.shortfalls
        else (Outcome.PARTIAL if decision.assignments else Outcome.BACKORDERED)
    )
    assert decision.outcome == expected
    # The explanation covers every candidate; chosen ones are exactly the plan's locations.
    assert sorted(v.location_id for v in decision.verdicts) == sorted(
        c.location_id for c in network
    )
    assert (
        tuple(sorted(v.location_id for v in decision.verdicts if v.is_chosen))
        == decision.location_ids
    )
    assert (
        decision.total_cost == round(sum(decision.cost_components.values()), 6)
        or abs(decision.total_cost - sum(decision.cost_components.values())) < 1e-5
    )


@settings(max_examples=100, deadline=None)
@given(instance=instances, shuffle_seed=st.integers(0, 2**32))
def test_same_decision_for_shuffled_candidates(instance, shuffle_seed):
    network = list(instance[1])
    random.Random(shuffle_seed).shuffle(network)
    assert _route(instance, network) == _route(instance)
