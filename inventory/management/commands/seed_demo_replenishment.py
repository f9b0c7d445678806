"""``manage.py seed_demo_replenishment``: replenishment rules for the demo network, then a run.

Idempotent and deterministic (rules are keyed by location and category; re-running adds none
and the proposal run replaces its open proposals):
- every active store: one min/max rule per catalogue category (min 2, max 8), sourced from the
  nearest active warehouse (straight-line distance, then code), 2 days of transfer;
- every active warehouse: one reorder-point rule per category (review 7 days, safety 2), from
  the supplier preferred for most of the category's products (``seed_demo_supply`` creates
  them; without suppliers no purchase rule is written and the command says so).
Runs after ``seed_demo`` and ``seed_demo_supply`` (``omnilog.launcher``).
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from inventory.models import Location, Product, ReplenishmentRule, SupplierProduct
from inventory.services.replenishment import replenishment_propose


def _distance(a: Location, b: Location) -> float:
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return math.inf
    return math.dist(
        (a.latitude or 0.0, a.longitude or 0.0), (b.latitude or 0.0, b.longitude or 0.0)
    )


class Command(BaseCommand):
    help = "Demo replenishment rules (stores from warehouses, warehouses from suppliers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-propose", action="store_true", help="Write the rules only, no proposal run."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        categories = sorted(
            set(
                Product.objects.filter(is_active=True)
                .exclude(category="")
                .values_list("category", flat=True)
            )
        )
        locations = list(Location.objects.filter(is_active=True).order_by("code"))
        warehouses = [place for place in locations if place.kind == Location.Kind.WAREHOUSE]
        stores = [place for place in locations if place.kind == Location.Kind.STORE]
        preferred: dict[str, Counter[int]] = {}
        for category, supplier_id in SupplierProduct.objects.filter(
            is_preferred=True, product__is_active=True
        ).values_list("product__category", "supplier_id"):
            preferred.setdefault(category, Counter())[supplier_id] += 1
        rules: list[ReplenishmentRule] = []
        for store in stores:
            if not warehouses:
                break
            source = min(warehouses, key=lambda place: (_distance(store, place), place.code))
            rules += [
                ReplenishmentRule(
                    location=store,
                    category=category,
                    method=ReplenishmentRule.Method.MIN_MAX,
                    min_quantity=2,
                    max_quantity=8,
                    review_cycle_days=1,
                    source_location=source,
                    transfer_days=2,
                )
                for category in categories
            ]
        unsupplied = [category for category in categories if category not in preferred]
        for warehouse in warehouses:
            for category in categories:
                if category in preferred:
                    supplier_id = min(
                        preferred[category].items(), key=lambda item: (-item[1], item[0])
                    )[0]
                    rules.append(
                        ReplenishmentRule(
                            location=warehouse,
                            category=category,
                            method=ReplenishmentRule.Method.REORDER_POINT,
                            review_cycle_days=7,
                            safety_stock=2,
                            supplier_id=supplier_id,
                        )
                    )
        before = ReplenishmentRule.objects.count()
        with tqdm(
            total=len(rules), unit="rule", file=sys.stdout, disable=not sys.stdout.isatty()
        ) as bar:
            for start in range(0, len(rules), 500):
                batch = rules[start : start + 500]
                ReplenishmentRule.objects.bulk_create(batch, ignore_conflicts=True)
                bar.update(len(batch))
        created = ReplenishmentRule.objects.count() - before
        self.stdout.write(
            f"replenishment rules: {created} created, {len(rules) - created} already present."
        )
        if unsupplied and warehouses:
            self.stdout.write(
                f"no preferred supplier for {len(unsupplied)} categor(y/ies) "
                f"({', '.join(unsupplied[:5])}): no purchase rule for them."
            )
        if options["no_propose"]:
            return
        run = replenishment_propose()
        self.stdout.write(
            self.style.SUCCESS(
                f"replenishment proposals: {len(run.drafts)} open ({run.rules_reviewed} rule(s)"
                f" reviewed, {len(run.skipped)} product(s) skipped)."
            )
        )
