"""``GET /api/v1/returns``: filters, and a constant number of queries whatever the page holds."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from returns.services.common import Actor
from returns.services.requests import ReturnInput, ReturnLineInput, return_request_create
from tests.returns.support import channel_client, delivered_home_order

pytestmark = pytest.mark.django_db


def open_returns(order: Any, store: Any, count: int) -> None:
    mug = order.lines.get(sku="MUG")
    for _ in range(count):
        return_request_create(
            order_id=order.pk,
            data=ReturnInput(
                lines=(ReturnLineInput(mug.line_number, 1, "other"),),
                mode="store",
                location_id=store.pk,
            ),
            actor=Actor("test"),
        )


def queries(client: Any, **params: Any) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/returns", params)
    assert response.status_code == 200
    return len(captured), [row["number"] for row in response.json()["results"]]


def test_list_queries_do_not_grow_with_the_page_and_filters_apply() -> None:
    net, order = delivered_home_order({"MUG": 4})
    shop = channel_client(net["web"])
    open_returns(order, net["store"], 1)
    queries(shop)  # the key is cached per process after its first use
    few, numbers = queries(shop)
    assert len(numbers) == 1
    open_returns(order, net["store"], 3)
    many, numbers = queries(shop)
    assert len(numbers) == 4
    assert many == few
    assert queries(shop, status="approved")[1] == []
    assert len(queries(shop, status="requested", location="st-opera")[1]) == 4
    assert queries(shop, order="OM-999999")[1] == []
