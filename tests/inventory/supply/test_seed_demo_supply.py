"""``seed_demo_supply``: suppliers and purchase orders in every state, once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from inventory.models import (
    AdvanceShippingNotice,
    PurchaseOrder,
    Receipt,
    StockLevel,
    Supplier,
    SupplierProduct,
)
from tests.inventory.helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def test_seed_is_complete_and_idempotent(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", "--scale", "0.05", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo_supply", stdout=out)
    statuses = dict(
        PurchaseOrder.objects.filter(reference__startswith="demo:").values_list(
            "reference", "status"
        )
    )
    assert statuses == {
        "demo:1": "draft",
        "demo:2": "sent",
        "demo:3": "confirmed",
        "demo:4": "confirmed",
        "demo:5": "partly_received",
        "demo:6": "received",
        "demo:7": "cancelled",
    }
    assert AdvanceShippingNotice.objects.count() == 1
    assert Receipt.objects.filter(has_discrepancies=True).count() == 1
    assert StockLevel.objects.filter(incoming__gt=0, incoming_expected_date__isnull=False).exists()
    counts = (Supplier.objects.count(), SupplierProduct.objects.count(), Receipt.objects.count())

    again = StringIO()
    call_command("seed_demo_supply", stdout=again)
    assert "supplier products: 0 new; purchase orders: 0 new (7 demo in all)" in again.getvalue()
    assert (
        Supplier.objects.count(),
        SupplierProduct.objects.count(),
        Receipt.objects.count(),
    ) == counts
    assert_ledger_consistent()
