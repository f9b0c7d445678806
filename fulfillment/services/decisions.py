"""Routing decisions: the core's inputs and outputs as JSON, and the "why" summary."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from fulfillment.routing.types import Candidate, Decision, Demand


def jsonable(value: Any) -> Any:
    """Frozen dataclasses, enums, sets and datetimes as plain JSON values (sets sorted)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(jsonable(item) for item in value)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def decision_fields(
    *, demand: Demand, candidates: tuple[Candidate, ...], decision: Decision
) -> dict[str, Any]:
    """The ``RoutingDecision`` columns describing one core run."""
    return {
        "outcome": str(decision.outcome),
        "rule_set": decision.rule_set[:64],
        "rule_set_version": decision.rule_set_version,
        "rule": decision.rule[:64],
        "rules_tried": list(decision.rules_tried),
        "total_cost": round(float(decision.total_cost), 4),
        "cost_components": jsonable(decision.cost_components),
        "demand": jsonable(demand),
        "candidates": jsonable(candidates),
        "verdicts": jsonable(decision.verdicts),
        "assignments": jsonable(decision.assignments),
        "shortfalls": jsonable(decision.shortfalls),
        "search": decision.search[:32],
        "plans_evaluated": decision.plans_evaluated,
    }


def decision_summary(decision: Decision, codes: Mapping[int, str]) -> str:
    """One line for the order's timeline: which rule, which locations, what it costs."""
    where = ", ".join(
        codes.get(location_id, str(location_id)) for location_id in decision.location_ids
    )
    units = sum(shortfall.quantity for shortfall in decision.shortfalls)
    text = (
        f"{decision.outcome}: rule '{decision.rule}' of {decision.rule_set} "
        f"v{decision.rule_set_version}"
    )
    if where:
        text += f" -> {where} (cost {decision.total_cost:.2f})"
    if units:
        text += f"; {units} unit(s) short"
    return text


def lost_race(decision: Decision, error_details: Mapping[str, Any]) -> dict[str, Any]:
    """What a plan refused under lock looked like (kept on the decision that won)."""
    return {
        "rule_set": decision.rule_set,
        "rule": decision.rule,
        "assignments": jsonable(decision.assignments),
        "refused": jsonable(error_details),
    }
