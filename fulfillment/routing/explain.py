"""From a solved problem to the ``Decision``: assignments, shortfalls, costs and verdicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fulfillment.routing.costs import COMPONENTS, Problem, evaluate_plan
from fulfillment.routing.filters import Screened
from fulfillment.routing.types import (
    Assignment,
    CandidateVerdict,
    Decision,
    DemandLine,
    Outcome,
    Shortfall,
)

Allocation = Mapping[tuple[int, int], int]


@dataclass(frozen=True)
class Attempt:
    """One rule tried: the screened candidates, the problem built from the eligible ones (site
    index i is ``eligible[i]``), and the best plan found."""

    rule: str
    screened: tuple[Screened, ...]
    eligible: tuple[Screened, ...]
    problem: Problem
    allocation: Allocation
    search: str
    plans_evaluated: int

    @property
    def assigned_units(self) -> int:
        return sum(self.allocation.values())

    @property
    def is_complete(self) -> bool:
        return self.assigned_units == sum(line.quantity for line in self.problem.lines)


def shortfalls_of(
    lines: Sequence[DemandLine], assignments: Sequence[Assignment]
) -> tuple[Shortfall, ...]:
    """Demand minus assigned, per line (lines fully served are left out)."""
    assigned: dict[int, int] = {}
    for assignment in assignments:
        assigned[assignment.line_id] = assigned.get(assignment.line_id, 0) + assignment.quantity
    return tuple(
        Shortfall(line.line_id, line.product_id, line.quantity - assigned.get(line.line_id, 0))
        for line in sorted(lines, key=lambda line: line.line_id)
        if line.quantity > assigned.get(line.line_id, 0)
    )


def build_decision(
    *,
    outcome: Outcome,
    attempt: Attempt,
    lines: Sequence[DemandLine],
    keep_plan: bool,
    rule_set: str,
    rule_set_version: int,
    rules_tried: tuple[str, ...],
    alternatives: tuple[int, ...],
    note: str = "",
) -> Decision:
    """The decision for ``attempt``; with ``keep_plan`` False nothing is assigned (parked,
    cancelled) but the explanation still shows what the search saw."""
    problem = attempt.problem
    allocation: Allocation = attempt.allocation if keep_plan else {}
    cost = evaluate_plan(problem, allocation)
    assignments = tuple(
        sorted(
            (
                Assignment(
                    line_id=problem.lines[line_index].line_id,
                    product_id=problem.lines[line_index].product_id,
                    location_id=problem.sites[site_index].location_id,
                    quantity=quantity,
                )
                for (line_index, site_index), quantity in allocation.items()
                if quantity > 0
            ),
            key=lambda a: (a.line_id, a.location_id),
        )
    )
    used = {site_index for (_line, site_index), units in allocation.items() if units > 0}
    ready_by: datetime | None = None
    for site_index in used:
        site = problem.sites[site_index]
        moment = site.ready_at + timedelta(hours=site.transit_hours)
        ready_by = moment if ready_by is None or moment > ready_by else ready_by
    return Decision(
        outcome=outcome,
        assignments=assignments,
        shortfalls=shortfalls_of(lines, assignments),
        rule_set=rule_set,
        rule_set_version=rule_set_version,
        rule=attempt.rule,
        total_cost=round(cost.total, 6),
        cost_components={name: round(cost.components[name], 6) for name in COMPONENTS},
        verdicts=_verdicts(attempt, used, cost.per_site),
        search=attempt.search,
        plans_evaluated=attempt.plans_evaluated,
        rules_tried=rules_tried,
        alternatives=alternatives,
        ready_by=ready_by,
        note=note,
    )


def _verdicts(
    attempt: Attempt, used: set[int], per_site: Mapping[int, Mapping[str, float]]
) -> tuple[CandidateVerdict, ...]:
    """One verdict per candidate, by location id. A chosen site shows its share of the plan's
    cost; an eligible site not chosen shows its standalone fixed costs and its lightest parcel
    (what shipping anything from it would at least cost)."""
    site_of = {id(screened): index for index, screened in enumerate(attempt.eligible)}
    sites = attempt.problem.sites
    verdicts: list[CandidateVerdict] = []
    append = verdicts.append
    for screened in attempt.screened:
        index = site_of.get(id(screened))
        components: Mapping[str, float]
        is_chosen = False
        if index is None:
            components = {}
        elif index in used:
            is_chosen = True
            components = {name: round(v, 6) for name, v in per_site[index].items()}
        else:
            site = sites[index]
            components = {"shipping": site.ship_empty, **site.fixed_components}
        distance = screened.distance_km
        candidate = screened.candidate
        # Positional, in field order (location_id, code, failed_filters, cost_components,
        # is_chosen, passed_filters, distance_km): one verdict per candidate, thousands.
        append(
            CandidateVerdict(
                candidate.location_id,
                candidate.code,
                screened.failed,
                components,
                is_chosen,
                screened.passed,
                None if distance is None else round(distance, 3),
            )
        )
    return tuple(verdicts)
