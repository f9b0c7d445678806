"""Rule-set selection: the first rule set of the policy whose order filters match the demand."""

from __future__ import annotations

from datetime import datetime, timedelta

from fulfillment.routing.types import Demand, Policy, RuleSet, RuleSetConditions


def conditions_match(conditions: RuleSetConditions, demand: Demand, *, now: datetime) -> bool:
    """Whether ``demand`` passes every order filter of ``conditions`` (empty sets match all).

    ``promise_within_hours`` matches orders with a promise date no later than ``now`` plus that
    many hours; an order without a promise date does not match it.
    """
    if conditions.channels and demand.channel not in conditions.channels:
        return False
    if conditions.delivery_modes and demand.delivery_mode not in conditions.delivery_modes:
        return False
    if conditions.countries and demand.country not in conditions.countries:
        return False
    if conditions.min_priority is not None and demand.priority < conditions.min_priority:
        return False
    if conditions.promise_within_hours is not None:
        if demand.promise_by is None:
            return False
        if demand.promise_by > now + timedelta(hours=conditions.promise_within_hours):
            return False
    return True


def select_rule_set(demand: Demand, policy: Policy, *, now: datetime) -> RuleSet | None:
    """The first rule set (in policy order) whose conditions match ``demand``; None if none."""
    for rule_set in policy.rule_sets:
        if conditions_match(rule_set.conditions, demand, now=now):
            return rule_set
    return None
