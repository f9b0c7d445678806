"""Reads for the replenishment run (``inventory.services.replenishment``): due rules and the
products they cover, demand from the ledger and units on order, each in one query."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Case, F, Sum, When
from django.db.models.functions import Greatest

from inventory.models import Location, Product, PurchaseOrder, PurchaseOrderLine, ReplenishmentRule
from inventory.planning import review_is_due
from omnilog.core.errors import FieldError, ValidationFailed

DEMAND_KINDS = ("sale", "transfer_out")
PO_ORDERED = (PurchaseOrder.Status.DRAFT, PurchaseOrder.Status.SENT)
PO_CONFIRMED = (PurchaseOrder.Status.CONFIRMED, PurchaseOrder.Status.PARTLY_RECEIVED)


@dataclass(frozen=True)
class RuleTarget:
    """One product a rule covers at its location."""

    rule: ReplenishmentRule
    product: Product


def replenishment_rules_due(
    location_codes: Sequence[str], today: date, force: bool
) -> list[ReplenishmentRule]:
    rules = ReplenishmentRule.objects.filter(is_active=True, location__is_active=True)
    if location_codes:
        known = set(Location.objects.filter(code__in=location_codes).values_list("code", flat=True))
        unknown = [code for code in location_codes if code not in known]
        if unknown:
            raise ValidationFailed(
                f"Unknown location(s): {', '.join(unknown)}.",
                field_errors=[
                    FieldError("location", f"No location {code!r}.", "not_found")
                    for code in unknown
                ],
            )
        rules = rules.filter(location__code__in=location_codes)
    chosen = rules.select_related("location", "supplier", "source_location", "product")
    return [
        rule
        for rule in chosen.order_by("pk")
        if force
        or review_is_due(
            last_reviewed_on=rule.last_reviewed_on,
            today=today,
            review_cycle_days=rule.review_cycle_days,
        )
    ]


def replenishment_targets(rules: Sequence[ReplenishmentRule]) -> list[RuleTarget]:
    """One target per (location, product); product rules before category rules."""
    chosen: dict[tuple[int, int], RuleTarget] = {}
    for rule in rules:
        if rule.product is not None and rule.product.is_active:
            chosen[(rule.location_id, rule.product.pk)] = RuleTarget(rule, rule.product)
    categories = {rule.category for rule in rules if rule.category}
    by_category: dict[str, list[Product]] = defaultdict(list)
    for product in Product.objects.filter(category__in=categories, is_active=True).order_by("pk"):
        by_category[product.category].append(product)
    for rule in rules:
        for product in by_category.get(rule.category, []) if rule.category else []:
            chosen.setdefault((rule.location_id, product.pk), RuleTarget(rule, product))
    return list(chosen.values())


def replenishment_demand(
    level_ids: Sequence[int], windows: Sequence[int], now: Any
) -> dict[tuple[int, int], int]:
    """(level id, window days) -> units out by sales and transfers, one grouped query."""
    if not level_ids or not windows:
        return {}
    columns = ", ".join(
        f"COALESCE(-SUM(m.delta_on_hand) FILTER (WHERE m.occurred_at >= %(since_{days})s), 0)"
        for days in windows
    )
    params: dict[str, Any] = {f"since_{days}": now - timedelta(days=days) for days in windows}
    params.update(levels=list(level_ids), kinds=list(DEMAND_KINDS), since=min(params.values()))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT m.stock_level_id, {columns}
            FROM inventory_stockmovement m
            WHERE m.stock_level_id = ANY(%(levels)s) AND m.kind = ANY(%(kinds)s)
              AND m.delta_on_hand < 0 AND m.occurred_at >= %(since)s
            GROUP BY m.stock_level_id""",
            params,
        )
        return {
            (row[0], days): int(units)
            for row in cursor.fetchall()
            for days, units in zip(windows, row[1:], strict=True)
        }


def replenishment_on_order(
    product_ids: Sequence[int], location_ids: Sequence[int]
) -> dict[tuple[int, int], int]:
    open_units = Case(
        When(purchase_order__status__in=PO_ORDERED, then=F("quantity_ordered")),
        default=Greatest(F("quantity_confirmed") - F("quantity_received"), 0),
    )
    rows = (
        PurchaseOrderLine.objects.filter(
            product_id__in=product_ids,
            purchase_order__location_id__in=location_ids,
            purchase_order__status__in=[*PO_ORDERED, *PO_CONFIRMED],
            is_closed=False,
        )
        .values_list("product_id", "purchase_order__location_id")
        .annotate(units=Sum(open_units - F("quantity_preordered")))
        .order_by()
    )
    return {(product, location): int(units) for product, location, units in rows}
