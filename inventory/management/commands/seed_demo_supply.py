"""``manage.py seed_demo_supply``: suppliers, what they sell, and purchase orders in every state.

Deterministic and idempotent (runs after ``seed_demo``, before ``seed_demo_replenishment``):
- one supplier per catalogue category (``sup-<category>``, preferred for its products) and a
  general wholesaler (``sup-general``, not preferred) for the first products of each category;
  rows are keyed (supplier code, supplier + product) and never duplicated;
- purchase orders referenced ``demo:<n>`` are created once, through the services, to the
  first warehouse (and one store): a draft, a sent one, two confirmed ones with dated incoming
  stock (one of them announced by an ASN), one partly received (with a short and a damaged
  line), one received, one cancelled. Confirmed products become preorderable. Dates are
  relative to the day of the run.
"""

from __future__ import annotations

import math
import sys
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from inventory.models import Location, Product, PurchaseOrder, Supplier, SupplierProduct
from inventory.services.receiving import Scan, receipt_post
from inventory.services.supply import (
    ConfirmLine,
    purchase_order_cancel,
    purchase_order_confirm,
    purchase_order_create,
    purchase_order_send,
)
from inventory.services.supply_notices import asn_create

ACTOR = "demo:buyer"


class Command(BaseCommand):
    help = "Demo suppliers, supplier products and purchase orders (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        products = list(Product.objects.filter(is_active=True).order_by("sku"))
        warehouses = list(
            Location.objects.filter(kind=Location.Kind.WAREHOUSE, is_active=True).order_by("code")
        )
        store = (
            Location.objects.filter(kind=Location.Kind.STORE, is_active=True)
            .order_by("code")
            .first()
        )
        if not products or not warehouses:
            self.stdout.write("No catalogue or warehouse yet: run seed_demo first.")
            return
        categories = sorted({product.category or "general" for product in products})
        with tqdm(
            total=len(categories) + 2 + 7,
            unit="step",
            file=sys.stdout,
            disable=not sys.stdout.isatty(),
        ) as bar:
            suppliers = self._suppliers(categories, bar)
            offers = self._offers(products, suppliers)
            bar.update(1)
            created = self._orders(products, suppliers, warehouses[0], store, bar)
            bar.update(1)
        self.stdout.write(
            f"Suppliers: {len(suppliers)}; supplier products: {offers} new; "
            f"purchase orders: {created} new "
            f"({PurchaseOrder.objects.filter(reference__startswith='demo:').count()} demo in all)."
        )

    def _suppliers(self, categories: list[str], bar: Any) -> dict[str, Supplier]:
        suppliers = {}
        for index, category in enumerate(["general", *categories]):
            code = f"sup-{category}"[:32]
            suppliers[category if category != "general" else "*"] = Supplier.objects.get_or_create(
                code=code,
                defaults={
                    "name": f"{category.replace('-', ' ').title()} Wholesale",
                    "email": f"orders@{code}.example.com",
                    "contact_name": "Order desk",
                    "lead_time_days": 3 + 2 * (index % 4),
                    "order_weekdays": [0, 3] if index % 2 else [1],
                    "minimum_order_value": Decimal("100.00"),
                    "over_receipt_percent": 5,
                },
            )[0]
            bar.update(1)
        return suppliers

    def _offers(self, products: list[Product], suppliers: dict[str, Supplier]) -> int:
        rows = []
        for index, product in enumerate(products):
            supplier = suppliers.get(product.category or "general", suppliers["*"])
            cost = Decimal(4 + index % 37) + Decimal("0.50")
            rows.append(
                SupplierProduct(
                    supplier=supplier,
                    product=product,
                    supplier_sku=f"{supplier.code.upper()}-{product.sku}"[:64],
                    pack_size=6 if index % 5 == 0 else 1,
                    cost=cost,
                    is_preferred=supplier is not suppliers["*"],
                )
            )
        for product in products[:: max(1, len(products) // 20)]:
            rows.append(
                SupplierProduct(
                    supplier=suppliers["*"],
                    product=product,
                    supplier_sku=f"GEN-{product.sku}"[:64],
                    pack_size=1,
                    cost=Decimal("9.90"),
                    is_preferred=False,
                )
            )
        before = SupplierProduct.objects.count()
        SupplierProduct.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        return SupplierProduct.objects.count() - before

    def _orders(
        self,
        products: list[Product],
        suppliers: dict[str, Supplier],
        warehouse: Location,
        store: Location | None,
        bar: Any,
    ) -> int:
        today = timezone.localdate()
        offers = {
            offer.product_id: offer
            for offer in SupplierProduct.objects.filter(is_preferred=True).select_related(
                "supplier"
            )
        }
        supplied = [product for product in products if product.pk in offers]
        by_supplier: dict[int, list[Product]] = {}
        for product in supplied:
            by_supplier.setdefault(offers[product.pk].supplier_id, []).append(product)
        groups = sorted(by_supplier.values(), key=lambda group: group[0].sku)
        created = 0
        for number in range(1, 8):
            bar.update(1)
            reference = f"demo:{number}"
            if PurchaseOrder.objects.filter(reference=reference).exists():
                continue
            group = groups[(number - 1) % len(groups)][:4]
            supplier = offers[group[0].pk].supplier
            location = store if number == 4 and store is not None else warehouse
            total = sum(
                offers[product.pk].cost * offers[product.pk].pack_size * (10 + 5 * index)
                for index, product in enumerate(group)
            )
            # Above the supplier's minimum, or sending would be refused.
            factor = max(1, math.ceil(supplier.minimum_order_value / total))
            lines = [
                (product, offers[product.pk].pack_size * (10 + 5 * index) * factor, None)
                for index, product in enumerate(group)
            ]
            with transaction.atomic():
                order = purchase_order_create(
                    supplier=supplier,
                    location=location,
                    lines=lines,
                    actor=ACTOR,
                    reference=reference,
                    expected_date=today + timedelta(days=supplier.lead_time_days + number),
                )
                self._advance(order, number, today)
            created += 1
        return created

    def _advance(self, order: PurchaseOrder, number: int, today: Any) -> None:
        """1 draft, 2 sent, 3-4 confirmed (3 with an ASN), 5 partly received, 6 received,
        7 cancelled."""
        if number == 1:
            return
        purchase_order_send(purchase_order_id=order.pk, actor=ACTOR)
        if number == 2:
            return
        if number == 7:
            purchase_order_cancel(purchase_order_id=order.pk, actor=ACTOR, reason="demo")
            return
        lines = list(order.lines.select_related("product").order_by("line_number"))
        purchase_order_confirm(
            purchase_order_id=order.pk,
            actor=ACTOR,
            supplier_reference=f"CONF-{order.number}",
            lines=[
                ConfirmLine(line.pk, expected_date=today + timedelta(days=3 + 4 * index))
                for index, line in enumerate(lines)
            ],
        )
        if number in (3, 4):
            Product.objects.filter(pk__in=[line.product_id for line in lines]).update(
                is_backorderable=True
            )
        if number == 3:
            asn_create(
                purchase_order_id=order.pk,
                supplier_reference=f"DESADV-{order.number}",
                expected_arrival=today + timedelta(days=2),
                lines=[(lines[0].product_id, lines[0].quantity_ordered)],
                actor=ACTOR,
            )
        if number == 5:
            first, *rest = lines
            scans = [Scan(first.product.sku, first.quantity_ordered - 2)]
            if rest:
                scans.append(
                    Scan(
                        rest[0].product.sku,
                        rest[0].quantity_ordered - 1,
                        damaged_quantity=1,
                        damage_reason="broken",
                    )
                )
            receipt_post(
                purchase_order_id=order.pk,
                scans=scans,
                idempotency_key=f"demo-{order.number}",
                actor="demo:dock",
                source="demo",
            )
        if number == 6:
            receipt_post(
                purchase_order_id=order.pk,
                scans=[Scan(line.product.sku, line.quantity_ordered) for line in lines],
                idempotency_key=f"demo-{order.number}",
                actor="demo:dock",
                source="demo",
            )
