"""Correctness of the stock write-path tuning (bench B2, B3): no timing is asserted here."""

from __future__ import annotations

import pytest
from django.db import connection

from inventory.models import Reservation, StockMovement
from inventory.services import ReserveLine, stock_receive, stock_reserve
from omnilog.core.errors import InsufficientStock
from tests.factories import LocationFactory, ProductFactory, SalesChannelFactory
from tests.inventory.helpers import assert_ledger_consistent, level

pytestmark = pytest.mark.django_db


def test_a_single_row_pool_reserves_to_the_last_unit_and_never_beyond() -> None:
    channel = SalesChannelFactory(code="flash")
    warehouse = LocationFactory(code="wh-only", channels=[channel])
    product = ProductFactory()
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=3)

    for _ in range(3):
        stock_reserve(lines=[ReserveLine(product_id=product.id, quantity=1)], channel_id=channel.id)
    with pytest.raises(InsufficientStock) as refused:
        stock_reserve(lines=[ReserveLine(product_id=product.id, quantity=1)], channel_id=channel.id)

    assert refused.value.details["lines"][0]["available"] == 0
    stock = level(product, warehouse)
    assert (stock.on_hand, stock.reserved) == (3, 3)
    assert Reservation.objects.filter(product=product, scope="pool").count() == 3
    assert (
        StockMovement.objects.filter(stock_level=stock, kind=StockMovement.Kind.RESERVATION).count()
        == 3
    )
    assert_ledger_consistent()


def test_stock_tables_carry_the_write_path_tuning() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'inventory_stocklevel'")
        assert "fillfactor=80" in cursor.fetchone()[0]
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'inventory_stockmovement'"
        )
        definitions = [row[0] for row in cursor.fetchall()]
    replay = [d for d in definitions if "stock_movement_replay_idx" in d]
    assert len(replay) == 1
    assert "feed_job" in replay[0]
    # (stock_level_id, id) serves every lookup by level: no single-column copy of it.
    assert not [d for d in definitions if d.endswith("(stock_level_id)")]
