"""Return routing (reverse sourcing), pure: where each inspected returned line goes.

The service (``returns.services.inspection``) reads the facts from the database (the line's
reason and condition, the product's category, the receiving location's kind, the product's ATP
there and the days since it last sold there, the nearest warehouse) and the ordered
``DispositionRule`` rows; ``disposition_propose`` walks the rules in order and answers the first
that matches, or the built-in defaults:

- a sellable unit is restocked where it was received when it is wanted there (ATP there below
  ``DEFAULT_WANTED_ATP_BELOW`` or sold there within ``DEFAULT_WANTED_SOLD_WITHIN_DAYS`` days),
  or received at a warehouse; otherwise it goes to the nearest warehouse;
- anything else (damaged, defective, incomplete) is quarantined (quality-control stock) where
  it was received, for someone to decide on repair, scrap or the supplier.

No framework import: deterministic, tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RESTOCK_HERE = "restock_here"
TO_WAREHOUSE = "to_warehouse"
QUARANTINE = "quarantine"
SCRAP = "scrap"
RETURN_TO_SUPPLIER = "return_to_supplier"
ACTIONS = (RESTOCK_HERE, TO_WAREHOUSE, QUARANTINE, SCRAP, RETURN_TO_SUPPLIER)

SELLABLE = frozenset({"sellable", "opened"})
WAREHOUSE = "warehouse"
DEFAULT_WANTED_ATP_BELOW = 3
DEFAULT_WANTED_SOLD_WITHIN_DAYS = 30


@dataclass(frozen=True)
class Rule:
    """One ``DispositionRule``: empty match sets match anything."""

    rule_id: int
    name: str
    action: str
    reason_codes: frozenset[str] = frozenset()
    conditions: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    location_kinds: frozenset[str] = frozenset()
    target_location_id: int | None = None
    target_location_kind: str = ""
    requires_wanted_here: bool = False
    wanted_atp_below: int = DEFAULT_WANTED_ATP_BELOW
    wanted_sold_within_days: int = DEFAULT_WANTED_SOLD_WITHIN_DAYS


@dataclass(frozen=True)
class LineFacts:
    """What is known about one inspected line. ``nearest_by_kind`` maps a location kind to the
    nearest active location of that kind (other than the receiving one), when there is one."""

    reason_code: str
    condition: str
    category: str
    receiving_location_id: int
    receiving_location_kind: str
    atp_here: int
    days_since_sold_here: int | None
    nearest_by_kind: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Proposal:
    action: str
    location_id: int
    rule_id: int | None
    reason: str


def is_wanted_here(facts: LineFacts, *, atp_below: int, sold_within_days: int) -> bool:
    """The receiving location wants the unit: low ATP there, or the product sells there."""
    sold_recently = (
        facts.days_since_sold_here is not None and facts.days_since_sold_here <= sold_within_days
    )
    return facts.atp_here < atp_below or sold_recently


def _matches(rule: Rule, facts: LineFacts) -> bool:
    return (
        (not rule.reason_codes or facts.reason_code in rule.reason_codes)
        and (not rule.conditions or facts.condition in rule.conditions)
        and (not rule.categories or facts.category in rule.categories)
        and (not rule.location_kinds or facts.receiving_location_kind in rule.location_kinds)
    )


def _nearest(facts: LineFacts, kind: str) -> int | None:
    return dict(facts.nearest_by_kind).get(kind)


def _target(rule: Rule, facts: LineFacts) -> int | None:
    """Where a rule sends the unit; None when it names no reachable place."""
    if rule.action != TO_WAREHOUSE:
        return facts.receiving_location_id
    if rule.target_location_id is not None:
        return rule.target_location_id
    return _nearest(facts, rule.target_location_kind or WAREHOUSE)


def _from_rule(rule: Rule, facts: LineFacts) -> Proposal | None:
    if not _matches(rule, facts):
        return None
    if rule.requires_wanted_here and not is_wanted_here(
        facts, atp_below=rule.wanted_atp_below, sold_within_days=rule.wanted_sold_within_days
    ):
        return None
    target = _target(rule, facts)
    if target is None:
        return None
    if rule.action == TO_WAREHOUSE and target == facts.receiving_location_id:
        return Proposal(RESTOCK_HERE, target, rule.rule_id, f"{rule.name} (already there)")
    return Proposal(rule.action, target, rule.rule_id, rule.name)


def _default(facts: LineFacts) -> Proposal:
    here = facts.receiving_location_id
    if facts.condition not in SELLABLE:
        return Proposal(QUARANTINE, here, None, f"default: {facts.condition or 'uninspected'}")
    if facts.receiving_location_kind == WAREHOUSE:
        return Proposal(RESTOCK_HERE, here, None, "default: sellable, received at a warehouse")
    if is_wanted_here(
        facts,
        atp_below=DEFAULT_WANTED_ATP_BELOW,
        sold_within_days=DEFAULT_WANTED_SOLD_WITHIN_DAYS,
    ):
        return Proposal(RESTOCK_HERE, here, None, "default: sellable and wanted here")
    warehouse = _nearest(facts, WAREHOUSE)
    if warehouse is None:
        return Proposal(RESTOCK_HERE, here, None, "default: sellable, no warehouse to send to")
    return Proposal(TO_WAREHOUSE, warehouse, None, "default: sellable, not wanted here")


def disposition_propose(facts: LineFacts, rules: Sequence[Rule]) -> Proposal:
    """The first matching rule's proposal (rules in the order given), else the defaults."""
    for rule in rules:
        proposal = _from_rule(rule, facts)
        if proposal is not None:
            return proposal
    return _default(facts)
