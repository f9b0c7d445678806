"""``seed_demo_replenishment`` is deterministic and idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from inventory.models import ReplenishmentProposal, ReplenishmentRule
from inventory.services import stock_receive
from tests.factories import LocationFactory, ProductFactory, StoreFactory
from tests.inventory.supply.factories import make_supplier, make_supplier_product

pytestmark = pytest.mark.django_db


def test_rules_for_stores_from_the_nearest_warehouse_and_warehouses_from_suppliers() -> None:
    north = LocationFactory(code="wh-lille", latitude=50.63, longitude=3.06)
    south = LocationFactory(code="wh-marseille", latitude=43.30, longitude=5.37)
    lyon = StoreFactory(code="st-lyon", latitude=45.76, longitude=4.84)
    StoreFactory(code="st-paris", latitude=48.86, longitude=2.35)
    cup = ProductFactory(sku="CUP", category="kitchen")
    ProductFactory(sku="SOCK", category="apparel")
    supplier = make_supplier(code="acme")
    make_supplier_product(supplier=supplier, product=cup, is_preferred=True)
    stock_receive(product_id=cup.pk, location_id=south.pk, quantity=20)
    out = StringIO()
    call_command("seed_demo_replenishment", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "replenishment rules: 6 created, 0 already present."
    assert (
        lines[1]
        == "no preferred supplier for 1 categor(y/ies) (apparel): no purchase rule for them."
    )
    assert lines[2].startswith("replenishment proposals: ")
    sources = dict(
        ReplenishmentRule.objects.filter(
            source_location__isnull=False, category="kitchen"
        ).values_list("location__code", "source_location__code")
    )
    assert sources == {"st-lyon": "wh-marseille", "st-paris": "wh-lille"}
    purchase_rules = list(
        ReplenishmentRule.objects.filter(supplier=supplier).values_list(
            "location__code", "category"
        )
    )
    assert sorted(purchase_rules) == [("wh-lille", "kitchen"), ("wh-marseille", "kitchen")]
    # Lyon gets 8 cups from Marseille; Lille has none to send to Paris.
    transfer = ReplenishmentProposal.objects.get(kind="transfer")
    assert (transfer.location, transfer.source_location, transfer.lines.get().quantity) == (
        lyon,
        south,
        8,
    )
    assert north.pk != south.pk
    again = StringIO()
    call_command("seed_demo_replenishment", stdout=again)
    assert again.getvalue().splitlines()[0] == "replenishment rules: 0 created, 6 already present."
    assert ReplenishmentRule.objects.count() == 6
    assert (
        ReplenishmentProposal.objects.filter(status="open").count()
        == ReplenishmentProposal.objects.count()
    )
