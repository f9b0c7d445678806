"""Exchanges through the HTTP API: channel-scoped, reserved at once, refusals write nothing."""

from __future__ import annotations

import pytest

from returns.models import ReturnRequest
from tests.returns.refunds.shop import atp, place, shipped, shop
from tests.returns.support import channel_client, staff_client
from tests.returns.test_claim_service import world_snapshot

pytestmark = pytest.mark.django_db


def body(net, order, replacement, quantity=1):
    return {
        "order_number": order.number,
        "lines": [{"line_number": 1, "quantity": quantity, "reason_code": "wrong_size"}],
        "mode": "store",
        "location": net["store"].code,
        "replacement_lines": replacement,
    }


def test_size_change_through_the_api():
    net = shop()
    order = place(net["web"], {"SHIRT-S": 1})
    shipped(order)
    before = atp(net["SHIRT-M"], net["warehouse"])
    response = channel_client(net["web"]).post(
        "/api/v1/returns/exchanges",
        body(net, order, [{"sku": "SHIRT-M", "quantity": 1}]),
        format="json",
    )
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["return"]["order_number"] == order.number
    assert answer["replacement_order"]["lines"][0]["sku"] == "SHIRT-M"
    assert answer["replacement_order"]["payment_status"] == "captured"
    assert answer["settlement"]["difference"] == "0.00"
    assert atp(net["SHIRT-M"], net["warehouse"]) == before - 1
    rma = ReturnRequest.objects.get(number=answer["return"]["number"])
    assert rma.exchange_order is not None
    assert rma.exchange_order.number == answer["replacement_order"]["number"]
    # Staff only may settle it, and only once its goods are back.
    number = rma.number
    web = channel_client(net["web"])
    assert web.post(f"/api/v1/returns/{number}/exchange-complete").status_code == 403
    early = staff_client().post(f"/api/v1/returns/{number}/exchange-complete")
    assert (early.status_code, early.json()["code"]) == (409, "invalid_transition")


def test_refused_exchanges_write_nothing():
    net = shop()
    order = place(net["web"], {"SHIRT-S": 1})
    shipped(order)
    web = channel_client(net["web"])
    before = world_snapshot()
    short = web.post(
        "/api/v1/returns/exchanges",
        body(net, order, [{"sku": "CAP", "quantity": 3}]),
        format="json",
    )
    assert (short.status_code, short.json()["code"]) == (409, "insufficient_stock")
    bad = web.post(
        "/api/v1/returns/exchanges",
        body(net, order, [{"sku": "NOPE", "quantity": 1}], quantity=2),
        format="json",
    )
    assert bad.status_code == 422
    assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [
        ("lines.0.quantity", "too_many")
    ]
    unknown = web.post(
        "/api/v1/returns/exchanges",
        body(net, order, [{"sku": "NOPE", "quantity": 1}]),
        format="json",
    )
    assert [(e["field"], e["code"]) for e in unknown.json()["errors"]] == [
        ("replacement_lines.0.sku", "unknown_sku")
    ]
    other = channel_client(net["pro"]).post(
        "/api/v1/returns/exchanges",
        body(net, order, [{"sku": "SHIRT-M", "quantity": 1}]),
        format="json",
    )
    assert (other.status_code, other.json()["code"]) == (404, "order_not_found")
    assert world_snapshot() == before
    assert ReturnRequest.objects.count() == 0
