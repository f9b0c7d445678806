"""The existing future-availability answer follows each purchase order's date."""

from __future__ import annotations

from datetime import date

import pytest

from inventory.services import stock_receive
from inventory.services.preorders import PreorderLine, stock_preorder
from tests.inventory.supply.factories import confirmed_order, supply_setup
from tests.inventory.supply.test_api import channel_client

pytestmark = pytest.mark.django_db


def test_schedule_has_one_step_per_order_date_and_preorders_arrive_sold() -> None:
    supply = supply_setup()
    stock_receive(product_id=supply.shirt.pk, location_id=supply.warehouse.pk, quantity=2)
    confirmed_order(supply, [(supply.shirt, 4, date(2031, 5, 2))])
    confirmed_order(supply, [(supply.shirt, 6, date(2031, 5, 9))])
    stock_preorder(
        lines=[PreorderLine(supply.shirt.pk, 3, "x-1", (supply.warehouse.pk,))],
        reference_type="test",
    )
    body = channel_client(supply).get("/api/v1/availability/SHIRT/future").json()
    assert (body["atp"], body["incoming"]) == (2, 10)
    assert body["pending"][0]["incoming_expected_date"] == "2031-05-02"
    # 4 arrive on the 2nd, 3 of them preordered: ATP 2 + 1; then 6 more on the 9th.
    assert body["schedule"] == [
        {"date": "2031-05-02", "quantity": 4, "atp": 3},
        {"date": "2031-05-09", "quantity": 6, "atp": 9},
    ]
