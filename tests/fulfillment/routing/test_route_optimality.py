"""The exact search against an independent brute force, and greedy + local against exact.

The brute force enumerates every assignment of every unit to a location or to "short"
(respecting stock), keeps the plans within the split limit, and ranks them as the optimiser
promises: fewest units short, then cost (``costs.evaluate_plan``, the cost model's reference
implementation), then fewer locations, then location ids.
"""

from __future__ import annotations

import dataclasses
import itertools
import random

import pytest

from fulfillment.routing import route
from fulfillment.routing.costs import evaluate_plan
from fulfillment.routing.engine import build_problem, screen_all
from fulfillment.routing.geo import distances_km
from tests.fulfillment.routing.instances import NOW, random_instance


def _splits(quantity, slots):
    """Every way to put ``quantity`` units in ``slots`` slots (the last slot is "short")."""
    if slots == 1:
        yield (quantity,)
        return
    for first in range(quantity, -1, -1):
        for rest in _splits(quantity - first, slots - 1):
            yield (first, *rest)


def brute_force(order, network, policy):
    rule_set = policy.rule_sets[0]
    rule = rule_set.rules[0]
    ordered = sorted(network, key=lambda c: c.location_id)
    distances = distances_km([c.position for c in ordered], order.destination)
    screened = screen_all(order, ordered, distances, policy, rule, now=NOW)
    eligible = tuple(item for item in screened if not item.failed)
    problem = build_problem(order, eligible, policy, rule_set, rule, now=NOW)
    sites = len(problem.sites)
    per_line = [list(_splits(line.quantity, sites + 1)) for line in problem.lines]
    best = None
    for choice in itertools.product(*per_line):
        taken: dict[tuple[int, int], int] = {}
        plan: dict[tuple[int, int], int] = {}
        for line_index, split in enumerate(choice):
            product = problem.line_product[line_index]
            for site_index, units in enumerate(split[:sites]):
                if units:
                    plan[(line_index, site_index)] = units
                    taken[(site_index, product)] = taken.get((site_index, product), 0) + units
        if any(units > problem.sites[s].stock[p] for (s, p), units in taken.items()):
            continue
        used = sorted({s for (_line, s) in plan})
        if len(used) > problem.max_locations:
            continue
        short = sum(split[-1] for split in choice)
        cost = evaluate_plan(problem, plan).total
        ids = tuple(sorted(problem.sites[s].location_id for s in used))
        key = (short, round(cost, 6), len(ids), ids)
        if best is None or key < best:
            best = key
    return best


def decision_key(decision):
    short = sum(s.quantity for s in decision.shortfalls)
    return (short, round(decision.total_cost, 6), len(decision.location_ids), decision.location_ids)


@pytest.mark.parametrize("seed", range(120))
def test_exact_search_equals_brute_force(seed):
    rng = random.Random(seed)
    order, network, policy = random_instance(
        rng, candidates=rng.randint(1, 4), lines=rng.randint(1, 3), max_quantity=3, max_stock=3
    )
    policy = dataclasses.replace(policy, exact_search_limit=10**6)
    decision = route(order, network, policy, now=NOW)
    assert decision.search in ("exact", "none")
    expected = brute_force(order, network, policy)
    got = decision_key(decision)
    assert got[0] == expected[0]
    assert got[1] == pytest.approx(expected[1], abs=1e-6)
    assert got[2:] == expected[2:]


def test_greedy_local_never_beats_exact_and_stays_close(record_property):
    """Reported as junit properties (``--junitxml``): the mean and the worst gap."""
    gaps = []
    for seed in range(60):
        rng = random.Random(1_000 + seed)
        order, network, policy = random_instance(
            rng,
            candidates=rng.randint(10, 30),
            lines=rng.randint(2, 5),
            max_quantity=3,
            max_stock=3,
        )
        exact = route(
            order, network, dataclasses.replace(policy, exact_search_limit=10**9), now=NOW
        )
        greedy = route(order, network, dataclasses.replace(policy, exact_search_limit=0), now=NOW)
        assert exact.search == "exact"
        assert greedy.search in ("greedy+local", "none")
        exact_key, greedy_key = decision_key(exact), decision_key(greedy)
        assert exact_key <= greedy_key or greedy_key[:2] == pytest.approx(exact_key[:2])
        if greedy_key[0] == exact_key[0] and exact.total_cost > 0:
            gaps.append(greedy.total_cost / exact.total_cost - 1)
    mean_gap = sum(gaps) / len(gaps)
    record_property("greedy_mean_gap", round(mean_gap, 5))
    record_property("greedy_max_gap", round(max(gaps), 5))
    assert mean_gap <= 0.05
