"""Bad requests are refused with clear errors (problem type, code, field paths) and change
nothing; another channel cannot see or act on an order's returns (404); channel keys cannot
do staff actions."""

from __future__ import annotations

from typing import Any

import pytest

from orders.models import OrderLine
from returns.models import ReturnPolicy
from tests.returns.support import (
    changed_nothing,
    channel_client,
    delivered_home_order,
    other_channel_client,
    staff_client,
)

pytestmark = pytest.mark.django_db


def request_body(order: Any, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    mug = OrderLine.objects.get(order=order, sku="MUG")
    return {
        "order_number": order.number,
        "lines": [{"line_number": mug.line_number, "quantity": quantity, "reason_code": "other"}],
        "mode": "store",
        "location": "st-opera",
        **extra,
    }


def field_errors(response: Any) -> dict[str, str]:
    body = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    return {error["field"]: error["code"] for error in body["errors"]}


def test_out_of_window_is_refused_and_writes_nothing() -> None:
    net, order = delivered_home_order(days_ago=31)
    shop = channel_client(net["web"])
    lines = shop.get(f"/api/v1/orders/{order.number}/returnable").json()["lines"]
    assert {line["refusal_code"] for line in lines} == {"window_closed"}
    before = changed_nothing(order)
    response = shop.post("/api/v1/returns", request_body(order), format="json")
    assert response.status_code == 422
    assert field_errors(response) == {"lines.0.quantity": "window_closed"}
    assert changed_nothing(order) == before


def test_a_longer_window_for_the_channel_and_category_lets_it_through() -> None:
    net, order = delivered_home_order(days_ago=31)
    ReturnPolicy.objects.create(channel=net["web"], category="apparel", window_days=60)
    shop = channel_client(net["web"])
    response = shop.post("/api/v1/returns", request_body(order), format="json")
    assert response.status_code == 201, response.content


def test_non_returnable_category_and_auto_approval() -> None:
    net, order = delivered_home_order()
    ReturnPolicy.objects.create(channel=None, category="apparel", is_returnable=False)
    shop = channel_client(net["web"])
    refused = shop.post("/api/v1/returns", request_body(order), format="json")
    assert field_errors(refused) == {"lines.0.quantity": "not_returnable"}
    ReturnPolicy.objects.update(is_returnable=True, is_auto_approved=True)
    accepted = shop.post("/api/v1/returns", request_body(order), format="json")
    assert accepted.json()["status"] == "approved"
    assert accepted.json()["lines"][0]["quantity_approved"] == 1


def test_over_quantity_and_every_bad_field_at_once() -> None:
    net, order = delivered_home_order()
    shop = channel_client(net["web"])
    before = changed_nothing(order)
    response = shop.post(
        "/api/v1/returns",
        request_body(
            order,
            quantity=3,
            location="wh-paris",
            photo_urls=["http://example.com/a.jpg", "https://example.com/b.jpg"],
        ),
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert field_errors(response) == {
        "lines.0.quantity": "too_many",
        "location": "not_found",  # the warehouse takes no returns brought in
        "photo_urls.0": "url",
    }
    assert changed_nothing(order) == before
    unknown = shop.post(
        "/api/v1/returns",
        {**request_body(order), "lines": [{"line_number": 9, "quantity": 1, "reason_code": "x"}]},
        format="json",
    )
    assert field_errors(unknown) == {"lines.0.reason_code": "invalid_choice"}
    # Two requests may not take the same units twice.
    assert shop.post("/api/v1/returns", request_body(order, 2), format="json").status_code == 201
    again = shop.post("/api/v1/returns", request_body(order, 1), format="json")
    assert field_errors(again) == {"lines.0.quantity": "nothing_left"}


def test_another_channel_cannot_see_or_act() -> None:
    net, order = delivered_home_order()
    shop, market = channel_client(net["web"]), other_channel_client()
    number = shop.post("/api/v1/returns", request_body(order), format="json").json()["number"]
    before = changed_nothing(order)
    assert market.get(f"/api/v1/orders/{order.number}/returnable").status_code == 404
    assert market.post("/api/v1/returns", request_body(order), format="json").status_code == 404
    assert market.get(f"/api/v1/returns/{number}").status_code == 404
    assert market.get(f"/api/v1/returns/{number}/label").status_code == 404
    cancel = market.post(f"/api/v1/returns/{number}/cancel", {}, format="json")
    assert (cancel.status_code, cancel.json()["code"]) == (404, "return_not_found")
    assert market.get("/api/v1/returns").json()["results"] == []
    assert changed_nothing(order) == before
    # A channel key may not approve (staff only), even its own return.
    assert shop.post(f"/api/v1/returns/{number}/approve", {}, format="json").status_code == 403
    assert [row["number"] for row in shop.get("/api/v1/returns").json()["results"]] == [number]
    staff = staff_client()
    assert staff.get(f"/api/v1/returns/{number}").status_code == 200
    cancelled = shop.post(f"/api/v1/returns/{number}/cancel", {}, format="json")
    assert cancelled.json()["status"] == "cancelled"
    # Cancelled units may be requested again.
    assert shop.post("/api/v1/returns", request_body(order, 2), format="json").status_code == 201


def test_lifecycle_refusals_write_nothing() -> None:
    net, order = delivered_home_order()
    shop, staff = channel_client(net["web"]), staff_client()
    number = shop.post("/api/v1/returns", request_body(order, 2), format="json").json()["number"]
    before = changed_nothing(order)
    early = staff.post(f"/api/v1/returns/{number}/receive", {"location": "st-opera"}, format="json")
    assert (early.status_code, early.json()["code"]) == (409, "invalid_transition")
    no_reason = staff.post(f"/api/v1/returns/{number}/refuse", {}, format="json")
    assert field_errors(no_reason) == {"reason": "required"}
    assert changed_nothing(order) == before
    staff.post(f"/api/v1/returns/{number}/approve", {}, format="json")
    before = changed_nothing(order)
    (line,) = staff.get(f"/api/v1/returns/{number}").json()["lines"]
    too_many = staff.post(
        f"/api/v1/returns/{number}/receive",
        {"location": "st-opera", "lines": [{"id": line["id"], "quantity": 3}]},
        format="json",
    )
    assert field_errors(too_many) == {"lines.0.quantity": "too_many"}
    nowhere = staff.post(f"/api/v1/returns/{number}/receive", {"location": "nope"}, format="json")
    assert field_errors(nowhere) == {"location": "not_found"}
    refund = staff.post(f"/api/v1/returns/{number}/refund", {}, format="json")
    assert (refund.status_code, refund.json()["code"]) == (409, "invalid_transition")
    assert changed_nothing(order) == before
    refused = staff.post(
        f"/api/v1/returns/{number}/refuse", {"reason": "worn"}, format="json"
    )  # approved already: the table refuses
    assert refused.status_code == 409
