"""Routing rule sets: from the admin's tables to the pure core's ``Policy``, and versions."""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import fields as dataclass_fields
from typing import Any

from django.db import transaction
from django.db.models import F

from fulfillment.models import RoutingRule, RoutingRuleSet
from fulfillment.routing.types import (
    CostWeights,
    DeliveryMode,
    FailureAction,
    LocationKind,
    Policy,
    Rule,
    RuleSet,
    RuleSetConditions,
    ShippingRate,
    SplitKind,
    SplitPolicy,
)

# Carrier rates (service, max km, max grams, price, transit hours); cheapest band that fits is
# used by the core. A rate table per carrier contract belongs in the admin once carriers exist.
SHIPPING_RATES: tuple[ShippingRate, ...] = (
    ShippingRate("standard", 50.0, 2_000, 4.90, 24),
    ShippingRate("standard", 50.0, 30_000, 8.90, 24),
    ShippingRate("standard", 400.0, 2_000, 5.90, 48),
    ShippingRate("standard", 400.0, 30_000, 10.90, 48),
    ShippingRate("standard", 2_000.0, 2_000, 7.90, 72),
    ShippingRate("standard", 2_000.0, 30_000, 14.90, 72),
    ShippingRate("express", 400.0, 30_000, 14.90, 24),
    ShippingRate("express", 2_000.0, 30_000, 19.90, 24),
    ShippingRate("same_day", 30.0, 30_000, 12.90, 4),
)


def _conditions(data: dict[str, Any]) -> RuleSetConditions:
    def names(key: str) -> frozenset[str]:
        return frozenset(str(item) for item in data.get(key) or [])

    return RuleSetConditions(
        channels=names("channels"),
        delivery_modes=frozenset(DeliveryMode(mode) for mode in names("delivery_modes")),
        countries=frozenset(country.upper() for country in names("countries")),
        min_priority=data.get("min_priority"),
        promise_within_hours=data.get("promise_within_hours"),
    )


def _weights(data: dict[str, Any]) -> CostWeights:
    known = {field.name for field in dataclass_fields(CostWeights)}
    return CostWeights(**{key: float(value) for key, value in data.items() if key in known})


def _rule(rule: RoutingRule) -> Rule:
    return Rule(
        name=rule.name,
        location_groups=frozenset(group.name for group in rule.location_groups.all()),
        location_kinds=frozenset(LocationKind(kind) for kind in rule.location_kinds),
        max_distance_km=rule.max_distance_km,
        require_ship_from_store=rule.require_ship_from_store,
        require_capacity=rule.require_capacity,
        respect_safety_stock=rule.respect_safety_stock,
        split=SplitPolicy(kind=SplitKind(rule.split), max_locations=rule.max_locations),
        on_failure=FailureAction(rule.on_failure),
        cancel_after_days=rule.cancel_after_days,
    )


def rule_set_to_core(rule_set: RoutingRuleSet) -> RuleSet:
    """The core's ``RuleSet`` for a row whose rules (and their groups) are prefetched."""
    return RuleSet(
        name=rule_set.name,
        version=rule_set.version,
        rules=tuple(_rule(rule) for rule in rule_set.rules.all()),
        conditions=_conditions(rule_set.conditions or {}),
        weights=_weights(rule_set.weights or {}),
    )


def routing_policy_get(*, rule_set_ids: Collection[int] | None = None) -> Policy:
    """The live policy: active, non-draft rule sets by priority (three queries).

    With ``rule_set_ids``, exactly those sets (drafts included) in priority order: what-if runs.
    """
    queryset = RoutingRuleSet.objects.prefetch_related("rules__location_groups").order_by(
        "priority", "name"
    )
    if rule_set_ids is None:
        queryset = queryset.filter(is_active=True, is_draft=False)
    else:
        queryset = queryset.filter(pk__in=list(rule_set_ids))
    return Policy(
        rule_sets=tuple(rule_set_to_core(rule_set) for rule_set in queryset),
        rates=SHIPPING_RATES,
    )


# The live policy of this process, with the key it was built for (see routing_policy_live).
_live_cache: dict[str, tuple[tuple[tuple[int, int, str], ...], Policy]] = {}
_live_cache_lock = threading.Lock()


def routing_policy_live() -> Policy:
    """``routing_policy_get()``, cached per process: one small query per call instead of three.

    The key is the live sets' (id, version, updated_at) in priority order: every change to a
    set or its rules bumps its version (``routing_rule_set_version_bump``, the admin), and
    saving the set's row moves ``updated_at``; activating, deactivating, publishing a draft,
    adding or deleting a set changes the list. A change that bypasses both (a rule edited in
    the shell without a bump) is not seen until the process restarts or the set is saved.
    """
    key = tuple(
        (pk, version, updated_at.isoformat())
        for pk, version, updated_at in RoutingRuleSet.objects.filter(is_active=True, is_draft=False)
        .order_by("priority", "name")
        .values_list("pk", "version", "updated_at")
    )
    cached = _live_cache.get("live")
    if cached is not None and cached[0] == key:
        return cached[1]
    policy = routing_policy_get()
    built = tuple(rule_set.version for rule_set in policy.rule_sets)
    if built == tuple(version for _pk, version, _updated in key):
        # Store only a policy consistent with its key (a bump between the two reads is seen
        # by the next call).
        with _live_cache_lock:
            _live_cache["live"] = (key, policy)
    return policy


def routing_rule_set_version_bump(*, rule_set_id: int) -> int:
    """Bump a rule set's version after any change to it or its rules; returns the new one."""
    with transaction.atomic():
        RoutingRuleSet.objects.filter(pk=rule_set_id).update(version=F("version") + 1)
        return int(RoutingRuleSet.objects.values_list("version", flat=True).get(pk=rule_set_id))
