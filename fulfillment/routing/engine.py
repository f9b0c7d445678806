"""``route``: the public entry of the routing core.

1. Select the rule set (first whose order filters match the demand).
2. Try its rules in order. For each: screen every candidate (filters of the rule and the
   delivery mode), build the cost profile of the eligible ones, search the best plan
   (click-and-collect: the pickup store alone when it holds every unit).
3. A plan serving every unit is ROUTED. Otherwise the rule's failure action decides: try the
   next rule, park, backorder what cannot be served (PARTIAL / BACKORDERED), or park and
   CANCEL once the order has waited ``cancel_after_days``. When the last rule says "next rule",
   the order is parked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fulfillment.routing.costs import (
    COMPONENTS,
    SERVICE_BY_MODE,
    Problem,
    RateTable,
    SiteBuilder,
    usable_stock,
)
from fulfillment.routing.explain import Attempt, build_decision, shortfalls_of
from fulfillment.routing.filters import PICKUP_MODES, Screened, Screener
from fulfillment.routing.geo import distances_km
from fulfillment.routing.optimise import (
    Counter,
    Solution,
    empty_solution,
    exact_search,
    greedy_local_search,
)
from fulfillment.routing.selection import select_rule_set
from fulfillment.routing.types import (
    Candidate,
    Decision,
    Demand,
    FailureAction,
    GeoPoint,
    Outcome,
    Policy,
    Rule,
    RuleSet,
    SplitKind,
)

MAX_ALTERNATIVES = 5


def route(
    demand: Demand, candidates: Sequence[Candidate], policy: Policy, *, now: datetime
) -> Decision:
    """Where ``demand`` is fulfilled, and why. Deterministic: the same inputs in any candidate
    order give the same decision. Never assigns more than a candidate's usable stock, never
    uses more locations than the rule's split policy allows; shortfalls = demand - assigned.
    """
    ordered = sorted(candidates, key=lambda candidate: candidate.location_id)
    rule_set = select_rule_set(demand, policy, now=now)
    if rule_set is None or not rule_set.rules:
        return _unrouted(demand, note="no rule set matches the order")
    destination = _destination(demand, ordered)
    distances = distances_km([candidate.position for candidate in ordered], destination)
    alternatives: tuple[int, ...] = ()
    if demand.delivery_mode in PICKUP_MODES:
        alternatives = _alternatives(demand, ordered, distances, policy)
    tried: list[str] = []
    for position, rule in enumerate(rule_set.rules):
        tried.append(rule.name)
        attempt = _attempt(demand, ordered, distances, policy, rule_set, rule, now=now)
        is_last = position == len(rule_set.rules) - 1

        def decide(outcome: Outcome, *, keep_plan: bool, note: str = "") -> Decision:
            return build_decision(
                outcome=outcome,
                attempt=attempt,  # noqa: B023 - called within this iteration only
                lines=demand.lines,
                keep_plan=keep_plan,
                rule_set=rule_set.name,
                rule_set_version=rule_set.version,
                rules_tried=tuple(tried),
                alternatives=() if attempt.search == "pickup_store" else alternatives,  # noqa: B023
                note=note,
            )

        if attempt.is_complete:
            return decide(Outcome.ROUTED, keep_plan=True)
        action = rule.on_failure
        if action == FailureAction.NEXT_RULE and not is_last:
            continue
        if action == FailureAction.BACKORDER:
            outcome = Outcome.PARTIAL if attempt.assigned_units else Outcome.BACKORDERED
            return decide(outcome, keep_plan=True)
        if action == FailureAction.CANCEL_AFTER_DAYS:
            if demand.days_waiting >= rule.cancel_after_days:
                note = f"still short after {demand.days_waiting} days"
                return decide(Outcome.CANCEL, keep_plan=False, note=note)
            return decide(Outcome.PARKED, keep_plan=False)
        note = "" if action == FailureAction.PARK else "no rule could serve every unit"
        return decide(Outcome.PARKED, keep_plan=False, note=note)
    raise AssertionError("unreachable: the last rule always decides")


def max_locations(rule: Rule, line_count: int, unit_count: int) -> int:
    """How many locations the rule's split policy allows (free: as many as units)."""
    split = rule.split
    if split.kind == SplitKind.NONE:
        return 1
    if split.kind == SplitKind.MAX_LOCATIONS:
        return max(1, split.max_locations)
    return max(1, unit_count)


def build_problem(
    demand: Demand,
    eligible: Sequence[Screened],
    policy: Policy,
    rule_set: RuleSet,
    rule: Rule,
    *,
    now: datetime,
) -> Problem:
    """The optimisation instance of ``rule`` over the ``eligible`` candidates."""
    weights = rule_set.weights
    table = RateTable(
        policy.rates, service=SERVICE_BY_MODE[demand.delivery_mode], weight=weights.shipping
    )
    products = sorted({line.product_id for line in demand.lines})
    builder = SiteBuilder(
        products=products,
        table=table,
        weights=weights,
        respect_safety_stock=rule.respect_safety_stock,
        promise_by=demand.promise_by,
        now=now,
    )
    build = builder.build
    sites = [
        build(screened.candidate, screened.distance_km, is_pickup_store=screened.is_pickup_store)
        for screened in eligible
    ]
    units = sum(line.quantity for line in demand.lines)
    return Problem.build(
        demand.lines,
        sites,
        products=products,
        split_penalty=weights.split_penalty,
        max_locations=max_locations(rule, len(demand.lines), units),
    )


def screen_all(
    demand: Demand,
    candidates: Sequence[Candidate],
    distances: Sequence[float | None],
    policy: Policy,
    rule: Rule,
    *,
    now: datetime,
) -> tuple[Screened, ...]:
    screener = Screener(
        mode=demand.delivery_mode,
        rule=rule,
        products=sorted({line.product_id for line in demand.lines}),
        relay_carrier=demand.relay_carrier,
        pickup_location_id=demand.pickup_location_id,
        same_day_radius_km=policy.same_day_radius_km,
        now=now,
    )
    check = screener.screen
    return tuple(map(check, candidates, distances))


def _attempt(
    demand: Demand,
    candidates: Sequence[Candidate],
    distances: Sequence[float | None],
    policy: Policy,
    rule_set: RuleSet,
    rule: Rule,
    *,
    now: datetime,
) -> Attempt:
    screened = screen_all(demand, candidates, distances, policy, rule, now=now)
    eligible = tuple(item for item in screened if not item.failed)
    problem = build_problem(demand, eligible, policy, rule_set, rule, now=now)
    counter = Counter()
    solution: Solution
    pickup = next((i for i, item in enumerate(eligible) if item.is_pickup_store), None)
    if pickup is not None and all(
        problem.sites[pickup].stock[p] >= need for p, need in enumerate(problem.demand_per_product)
    ):
        allocation = {(index, pickup): line.quantity for index, line in enumerate(problem.lines)}
        search, solution = "pickup_store", ((0, 0.0, 1, ()), allocation)
        counter.plans = 1
    elif not eligible:
        search, solution = "none", empty_solution(problem)
    elif len(eligible) * len(demand.lines) <= policy.exact_search_limit:
        start = greedy_local_search(problem, counter)
        search, solution = "exact", exact_search(problem, start, counter)
    else:
        search, solution = "greedy+local", greedy_local_search(problem, counter)
    return Attempt(
        rule=rule.name,
        screened=screened,
        eligible=eligible,
        problem=problem,
        allocation=solution[1],
        search=search,
        plans_evaluated=counter.plans,
    )


def _destination(demand: Demand, candidates: Sequence[Candidate]) -> GeoPoint | None:
    if demand.delivery_mode in PICKUP_MODES:
        pickup = next((c for c in candidates if c.location_id == demand.pickup_location_id), None)
        return None if pickup is None else pickup.position
    return demand.destination


def _alternatives(
    demand: Demand,
    candidates: Sequence[Candidate],
    distances: Sequence[float | None],
    policy: Policy,
) -> tuple[int, ...]:
    """Other click-and-collect stores within the same-day radius of the pickup store that
    hold every unit (ATP) and can prepare the order: nearest first, then by id."""
    need: dict[int, int] = {}
    for line in demand.lines:
        need[line.product_id] = need.get(line.product_id, 0) + line.quantity
    found: list[tuple[float, int]] = []
    for candidate, distance in zip(candidates, distances, strict=True):
        if (
            candidate.location_id == demand.pickup_location_id
            or not candidate.is_click_and_collect
            or candidate.ready_at is None
            or distance is None
            or distance > policy.same_day_radius_km
        ):
            continue
        if all(
            usable_stock(candidate, product, respect_safety_stock=True) >= units
            for product, units in need.items()
        ):
            found.append((distance, candidate.location_id))
    return tuple(location_id for _distance, location_id in sorted(found)[:MAX_ALTERNATIVES])


def _unrouted(demand: Demand, *, note: str) -> Decision:
    return Decision(
        outcome=Outcome.PARKED,
        assignments=(),
        shortfalls=shortfalls_of(demand.lines, ()),
        rule_set="",
        rule_set_version=0,
        rule="",
        total_cost=0.0,
        cost_components=dict.fromkeys(COMPONENTS, 0.0),
        verdicts=(),
        search="none",
        plans_evaluated=0,
        note=note,
    )
