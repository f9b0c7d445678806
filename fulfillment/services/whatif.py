"""What-if: replay a period's orders against a draft rule set and compare with the live rules.

Choices (docs/architecture.md, "What-if"):

- **Which decision.** The *first* routing decision of every order placed in the period (its
  ``placed`` run): it routed the whole order against the stock of that moment. Later decisions
  (re-routes after a rejection, an SLA miss...) see a partial demand with locations excluded;
  replaying them too would count an order twice and judge the draft on leftovers.
- **The world as it was.** The core's inputs are rebuilt from the decision's stored ``demand``
  and ``candidates`` JSON (``fulfillment.routing.replay``), and the core runs with
  ``now`` = the decision's ``created_at``: the stock, capacity and ``ready_at`` the live run
  saw. Today's stock is never read.
- **Live side.** Today's live rule sets (active, not draft), replayed on the same inputs. A
  decision stores only the name and version of the rule set it used, not its rules, so an old
  version cannot be rebuilt; re-running today's rules also makes both sides use the same core
  code, so the comparison isolates the rule change. The report counts the orders whose stored
  plan differs from the live replay (``live_replay_drift``): rules or code changed since.
- **Draft side.** The draft rule set first, then the live sets: orders its conditions do not
  match fall through to the live rules exactly as they would in production (a draft scoped to
  click-and-collect changes only those orders).
- Period: orders with ``placed_at`` from ``since`` 00:00 to ``until`` 24:00 (both days
  included) in the project's time zone; ``channel_id`` narrows it to one channel.

Read-only: nothing is written, no lock is taken. Decisions are read in id-ordered chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from fulfillment.models import RoutingDecision, RoutingRuleSet
from fulfillment.routing import route
from fulfillment.routing.replay import (
    PlanStatistics,
    candidates_from_json,
    comparison_rows,
    demand_from_json,
    plan_key,
    plan_statistics,
)
from fulfillment.routing.types import Decision, Demand, Policy
from fulfillment.services.rule_sets import routing_policy_get
from omnilog.core.errors import FieldError, NotFound, ValidationFailed

CHUNK = 500
SAMPLE_SIZE = 20  # changed orders listed in the report (lowest order ids first)

WhatIfProgress = Callable[[int, int], None]  # (orders done, orders in total)


@dataclass(frozen=True)
class OrderDifference:
    """One replayed order whose draft plan differs from the live plan."""

    order_id: int
    order_number: str
    live_outcome: str
    draft_outcome: str
    live_locations: tuple[str, ...]  # location codes
    draft_locations: tuple[str, ...]
    live_cost: float
    draft_cost: float
    draft_rule_set: str  # the set that routed it on the draft side (the draft or a live one)


@dataclass(frozen=True)
class WhatIfReport:
    draft_rule_set: str
    draft_version: int
    live_rule_sets: tuple[str, ...]
    since: date
    until: date
    channel_id: int | None
    live: PlanStatistics
    draft: PlanStatistics
    changed_orders: int  # orders whose plan (line, location, units) differs
    differences: tuple[OrderDifference, ...]  # a sample of them
    live_replay_drift: int  # orders whose stored plan differs from today's live replay
    unreadable: int  # decisions whose stored inputs could not be read back (skipped)

    def rows(self) -> list[tuple[str, str, str, str]]:
        return comparison_rows(self.live, self.draft)


def _period(since: date, until: date) -> tuple[datetime, datetime]:
    if until < since:
        raise ValidationFailed(
            "The period ends before it starts.",
            field_errors=[FieldError("until", "Must be on or after since.", "invalid")],
        )
    zone = timezone.get_current_timezone()
    start = datetime.combine(since, time.min, tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def whatif_decision_ids(*, since: date, until: date, channel_id: int | None = None) -> list[int]:
    """Ids of the first routing decision of each order placed in the period, ascending."""
    start, end = _period(since, until)
    queryset = RoutingDecision.objects.filter(order__placed_at__gte=start, order__placed_at__lt=end)
    if channel_id is not None:
        queryset = queryset.filter(order__channel_id=channel_id)
    first = queryset.order_by("order_id", "id").distinct("order_id").values_list("id", flat=True)
    return sorted(first)


def _decisions(ids: list[int]) -> Iterator[RoutingDecision]:
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        yield from (
            RoutingDecision.objects.filter(pk__in=chunk)
            .select_related("order")
            .only(
                "id",
                "created_at",
                "demand",
                "candidates",
                "assignments",
                "order__id",
                "order__number",
            )
            .order_by("id")
        )


def _draft_policy(draft_rule_set_id: int, live: Policy) -> tuple[RoutingRuleSet, Policy]:
    draft_row = RoutingRuleSet.objects.filter(pk=draft_rule_set_id).first()
    if draft_row is None:
        raise NotFound(f"No rule set {draft_rule_set_id}.", code="rule_set_not_found")
    (draft,) = routing_policy_get(rule_set_ids=[draft_row.pk]).rule_sets
    others = tuple(rule_set for rule_set in live.rule_sets if rule_set.name != draft.name)
    return draft_row, Policy(rule_sets=(draft, *others), rates=live.rates)


def _stored_key(record: RoutingDecision) -> tuple[tuple[int, int, int], ...]:
    return tuple(
        sorted(
            (int(item["line_id"]), int(item["location_id"]), int(item["quantity"]))
            for item in record.assignments
        )
    )


def routing_whatif(
    *,
    draft_rule_set_id: int,
    since: date,
    until: date,
    channel_id: int | None = None,
    progress: WhatIfProgress | None = None,
    max_orders: int | None = None,
) -> WhatIfReport:
    """Replay the period's orders with the live rules and with the draft; compare.

    Raises ``NotFound`` (no such rule set), ``ValidationFailed`` (period reversed, or more
    than ``max_orders`` orders: the admin's synchronous bound). ``progress(done, total)`` is
    called before the first order and after every order.
    """
    live_policy = routing_policy_get()
    draft_row, draft_policy = _draft_policy(draft_rule_set_id, live_policy)
    ids = whatif_decision_ids(since=since, until=until, channel_id=channel_id)
    if max_orders is not None and len(ids) > max_orders:
        raise ValidationFailed(
            f"{len(ids)} orders in the period; at most {max_orders} here. "
            "Use `manage.py routing_whatif` for longer periods.",
            field_errors=[FieldError("since", "The period holds too many orders.", "too_many")],
        )
    live_runs: list[tuple[Demand, Decision]] = []
    draft_runs: list[tuple[Demand, Decision]] = []
    differences: list[OrderDifference] = []
    changed = drift = unreadable = done = 0
    if progress is not None:
        progress(0, len(ids))
    for record in _decisions(ids):
        done += 1
        try:
            demand = demand_from_json(record.demand)
            candidates = candidates_from_json(record.candidates)
        except (KeyError, TypeError, ValueError):
            unreadable += 1
            if progress is not None:
                progress(done, len(ids))
            continue
        live = route(demand, candidates, live_policy, now=record.created_at)
        draft = route(demand, candidates, draft_policy, now=record.created_at)
        live_runs.append((demand, live))
        draft_runs.append((demand, draft))
        drift += plan_key(live) != _stored_key(record)
        if plan_key(live) != plan_key(draft):
            changed += 1
            if len(differences) < SAMPLE_SIZE:
                codes = {candidate.location_id: candidate.code for candidate in candidates}
                differences.append(
                    OrderDifference(
                        order_id=record.order.pk,
                        order_number=record.order.number,
                        live_outcome=str(live.outcome),
                        draft_outcome=str(draft.outcome),
                        live_locations=tuple(codes[pk] for pk in live.location_ids),
                        draft_locations=tuple(codes[pk] for pk in draft.location_ids),
                        live_cost=round(live.total_cost, 2),
                        draft_cost=round(draft.total_cost, 2),
                        draft_rule_set=draft.rule_set,
                    )
                )
        if progress is not None:
            progress(done, len(ids))
    return WhatIfReport(
        draft_rule_set=draft_row.name,
        draft_version=draft_row.version,
        live_rule_sets=tuple(rule_set.name for rule_set in live_policy.rule_sets),
        since=since,
        until=until,
        channel_id=channel_id,
        live=plan_statistics(live_runs),
        draft=plan_statistics(draft_runs),
        changed_orders=changed,
        differences=tuple(differences),
        live_replay_drift=drift,
        unreadable=unreadable,
    )
