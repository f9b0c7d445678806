"""stock_check --repair: drifts are measured again under the repair's locks, so a repair that
overlaps another (or runs twice on the same stale findings) fixes each drift once."""

from __future__ import annotations

import pytest
from django.db.models import F

from inventory.models import StockLevel, StockMovement
from inventory.services import ReserveLine, stock_receive, stock_reserve
from inventory.services.integrity import stock_check, stock_repair
from tests.inventory.typed_factories import make_channel, make_product, make_warehouse

pytestmark = pytest.mark.django_db


def _drifting() -> StockLevel:
    channel = make_channel(code="web")
    warehouse = make_warehouse(code="wh-paris", channels=[channel])
    product = make_product()
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=10)
    stock_reserve(
        lines=[
            ReserveLine(
                product_id=product.id, quantity=1, location_id=warehouse.id, reference_id="1"
            )
        ],
        reference_type="order_line",
    )
    # Counters moved without their ledger rows (on hand +3), reserved beyond the reservations.
    StockLevel.objects.filter(product=product).update(
        on_hand=F("on_hand") + 3, reserved=F("reserved") + 2
    )
    return StockLevel.objects.get(product=product)


def test_two_repairs_in_sequence_repair_once() -> None:
    stock = _drifting()
    first = stock_check(repair=True)
    assert {(drift.stock_level_id, drift.kind) for drift in first.drifts} == {
        (stock.pk, "ledger"),
        (stock.pk, "reservations"),
    }
    assert first.repaired == 2
    movements = StockMovement.objects.count()
    second = stock_check(repair=True)
    assert (second.drifts, second.repaired) == ((), 0)
    assert StockMovement.objects.count() == movements
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (13, 1)


def test_a_repair_on_stale_findings_repairs_only_what_still_drifts() -> None:
    stock = _drifting()
    stale = sorted({drift.stock_level_id for drift in stock_check().drifts})
    assert stock_repair(stale) == 2
    movements = StockMovement.objects.count()
    # The second (overlapping) repair measured before the first committed: nothing left.
    assert stock_repair(stale) == 0
    assert StockMovement.objects.count() == movements
    assert stock_check().drifts == ()
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (13, 1)
