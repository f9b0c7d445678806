"""A small replenishment network with known answers (see test_proposals.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from inventory.models import FeedSource, Location, Product, ReplenishmentRule, Supplier
from inventory.services import ReserveLine, stock_commit, stock_receive, stock_reserve
from inventory.services.feeds import DeltaLine, feed_delta_receive
from tests.factories import LocationFactory, ProductFactory, StoreFactory
from tests.inventory.supply.factories import make_supplier, make_supplier_product


@dataclass
class Network:
    warehouse: Location
    store: Location
    supplier: Supplier
    beans: Product  # bought from the supplier for the warehouse (reorder point)
    tea: Product  # transferred from the warehouse to the store (min/max)
    purchase_rule: ReplenishmentRule
    transfer_rule: ReplenishmentRule


def sell(product: Product, location: Location, quantity: int) -> None:
    """A till sale now: reserve at the location, then commit (ledger kind ``sale``)."""
    (reservation,) = stock_reserve(
        lines=[ReserveLine(product_id=product.pk, quantity=quantity, location_id=location.pk)]
    )
    stock_commit(reservation_id=reservation.pk)


def sell_long_ago(product: Product, location: Location, quantity: int, days: int) -> None:
    """A sale reported by the store's till ``days`` ago (a delta with its own time)."""
    source, _ = FeedSource.objects.get_or_create(
        code="till", defaults={"name": "Till", "kind": FeedSource.Kind.POS}
    )
    when: datetime = timezone.now() - timedelta(days=days)
    feed_delta_receive(
        source_code="till",
        message_id=f"old-{source.last_sequence + 1}",
        sequence=source.last_sequence + 1,
        occurred_at=when,
        lines=[
            DeltaLine(
                sku=product.sku, location=location.code, quantity_delta=-quantity, kind="sale"
            )
        ],
    )


def network() -> Network:
    """Warehouse: 100 beans received, 84 sold (3 a day over 28 days), 2 reserved: free 14.
    Beans come from the supplier (lead 5 days, packs of 6, 2.00 each); rule: reorder point,
    review 7 days, safety 4. Tea: warehouse 12 free, store 3; rule at the store: min 5, max
    20, packs of 4, from the warehouse in 2 days."""
    warehouse = LocationFactory(code="wh")
    store = StoreFactory(code="st")
    supplier = make_supplier(code="acme", lead_time_days=5)
    beans = ProductFactory(sku="BEANS", category="coffee")
    tea = ProductFactory(sku="TEA", category="tea")
    make_supplier_product(supplier=supplier, product=beans, pack_size=6, cost=Decimal("2"))
    stock_receive(product_id=beans.pk, location_id=warehouse.pk, quantity=100)
    sell(beans, warehouse, 84)
    stock_reserve(lines=[ReserveLine(product_id=beans.pk, quantity=2, location_id=warehouse.pk)])
    stock_receive(product_id=tea.pk, location_id=warehouse.pk, quantity=12)
    stock_receive(product_id=tea.pk, location_id=store.pk, quantity=3)
    purchase_rule = ReplenishmentRule.objects.create(
        location=warehouse,
        product=beans,
        method="reorder_point",
        review_cycle_days=7,
        safety_stock=4,
        supplier=supplier,
    )
    transfer_rule = ReplenishmentRule.objects.create(
        location=store,
        category="tea",
        method="min_max",
        min_quantity=5,
        max_quantity=20,
        pack_size=4,
        transfer_days=2,
        source_location=warehouse,
    )
    return Network(warehouse, store, supplier, beans, tea, purchase_rule, transfer_rule)
