"""A naive baseline for the quality benchmark: each line from the nearest location with stock.

Same rule-set selection and the same filters as ``route`` (first rule of the rule set), but no
optimisation: lines in line-id order, each served from the eligible locations nearest the
destination first (ties by location id), moving to the next nearest when one runs out. A new
location is opened only while the rule's split policy allows it; what cannot be served is a
shortfall. The plan is costed with the same cost model, so that costs compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fulfillment.routing.engine import build_problem, route, screen_all
from fulfillment.routing.explain import Attempt, build_decision
from fulfillment.routing.filters import PICKUP_MODES
from fulfillment.routing.geo import distances_km
from fulfillment.routing.selection import select_rule_set
from fulfillment.routing.types import Candidate, Decision, Demand, Outcome, Policy


def route_nearest_with_stock(
    demand: Demand, candidates: Sequence[Candidate], policy: Policy, *, now: datetime
) -> Decision:
    """The "nearest location with stock" plan (see module docstring)."""
    ordered = sorted(candidates, key=lambda candidate: candidate.location_id)
    rule_set = select_rule_set(demand, policy, now=now)
    if rule_set is None or not rule_set.rules or demand.delivery_mode in PICKUP_MODES:
        # Click-and-collect has no "nearest" choice to make naively: defer to the router.
        return route(demand, candidates, policy, now=now)
    rule = rule_set.rules[0]
    destination = demand.destination
    distances = distances_km([candidate.position for candidate in ordered], destination)
    screened = screen_all(demand, ordered, distances, policy, rule, now=now)
    eligible = tuple(item for item in screened if not item.failed)
    problem = build_problem(demand, eligible, policy, rule_set, rule, now=now)
    nearest = sorted(
        range(len(eligible)),
        key=lambda i: (
            float("inf") if eligible[i].distance_km is None else eligible[i].distance_km,
            eligible[i].candidate.location_id,
        ),
    )
    left = [list(site.stock) for site in problem.sites]
    used: set[int] = set()
    allocation: dict[tuple[int, int], int] = {}
    for line_index, line in enumerate(problem.lines):
        product = problem.line_product[line_index]
        need = line.quantity
        for site_index in nearest:
            if need == 0:
                break
            if site_index not in used and len(used) >= problem.max_locations:
                continue
            take = min(need, left[site_index][product])
            if take > 0:
                allocation[(line_index, site_index)] = take
                left[site_index][product] -= take
                used.add(site_index)
                need -= take
    attempt = Attempt(
        rule=rule.name,
        screened=screened,
        eligible=eligible,
        problem=problem,
        allocation=allocation,
        search="nearest",
        plans_evaluated=1,
    )
    if attempt.is_complete:
        outcome = Outcome.ROUTED
    else:
        outcome = Outcome.PARTIAL if attempt.assigned_units else Outcome.BACKORDERED
    return build_decision(
        outcome=outcome,
        attempt=attempt,
        lines=demand.lines,
        keep_plan=True,
        rule_set=rule_set.name,
        rule_set_version=rule_set.version,
        rules_tried=(rule.name,),
        alternatives=(),
    )
