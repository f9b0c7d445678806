"""Lifecycle endpoints: hold, release, cancel, payment, PATCH edit; channel scoping; problems."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from orders.models import Order
from tests.factories import channel_api_key
from tests.orders.lifecycle_support import active, line, place, reserved, shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    return shop()


def _client(channel) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=channel_api_key(channel))
    return client


def test_hold_release_cancel_payment(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 3, "HAT": 1}, payment_status="pending")
    client = _client(world["web"])
    base = f"/api/v1/orders/{order.id}"

    held = client.post(f"{base}/hold", {"reason": "Fraud check"}, format="json")
    assert held.status_code == 200, held.json()
    assert (held.json()["status"], held.json()["id"]) == ("on_hold", order.id)
    assert client.post(f"{base}/release", format="json").status_code == 200

    cancelled = client.post(
        f"{base}/cancel", {"lines": [{"line_number": 1, "quantity": 2}]}, format="json"
    )
    assert cancelled.status_code == 200
    assert active(line(order, "SHIRT")) == [("wh-paris", 1, "hold", "pool")]

    paid = client.post(f"{base}/payment", {"payment_status": "captured"}, format="json")
    assert paid.status_code == 200
    assert active(line(order, "SHIRT")) == [("wh-paris", 1, "order", "pool")]
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("placed", "captured")
    assert order.events.latest("id").actor == "api:web"

    everything = client.post(f"{base}/cancel", {"reason": "Gone"}, format="json")
    assert everything.json()["status"] == "cancelled"
    assert reserved(world["shirt"], world["warehouse"]) == 0


def test_errors_are_problem_details(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 1})
    client = _client(world["web"])
    base = f"/api/v1/orders/{order.id}"

    release = client.post(f"{base}/release", format="json")
    assert release.status_code == 409
    assert release["Content-Type"] == "application/problem+json"
    assert (release.json()["code"], release.json()["from_status"]) == (
        "invalid_transition",
        "placed",
    )
    unknown_line = client.post(
        f"{base}/cancel", {"lines": [{"line_number": 9, "quantity": 1}]}, format="json"
    )
    assert unknown_line.status_code == 422
    assert unknown_line.json()["errors"] == [
        {
            "field": "lines.0.line_number",
            "code": "not_found",
            "message": "No such line in this order.",
        }
    ]
    too_many = client.post(
        f"{base}/cancel", {"lines": [{"line_number": 1, "quantity": 2}]}, format="json"
    )
    assert (too_many.status_code, too_many.json()["errors"][0]["code"]) == (422, "exceeds_open")
    bad_payment = client.post(f"{base}/payment", {"payment_status": "paid"}, format="json")
    assert (bad_payment.status_code, bad_payment.json()["code"]) == (422, "validation_failed")
    assert bad_payment.json()["errors"][0]["field"] == "payment_status"
    no_reason = client.post(f"{base}/hold", {}, format="json")
    assert (no_reason.status_code, no_reason.json()["errors"][0]["field"]) == (400, "reason")


def test_another_channel_gets_404(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 1})
    client = _client(world["other"])
    for suffix, body in [
        ("hold", {"reason": "x"}),
        ("release", {}),
        ("cancel", {}),
        ("payment", {"payment_status": "captured"}),
    ]:
        response = client.post(f"/api/v1/orders/{order.id}/{suffix}", body, format="json")
        assert response.status_code == 404, suffix
        assert response["Content-Type"] == "application/problem+json"
    assert Order.objects.get(pk=order.id).status == "placed"
    assert _client(world["web"]).post(f"/api/v1/orders/{order.id}/release").status_code == 409
    assert APIClient().post(f"/api/v1/orders/{order.id}/hold").status_code == 401


def test_patch_edits_only_editable_fields(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 2, "SHOES": 1})
    client = _client(world["web"])
    url = f"/api/v1/orders/{order.id}"

    refused = client.patch(url, {"status": "shipped", "grand_total": "0.00"}, format="json")
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    assert sorted((e["field"], e["code"]) for e in refused.json()["errors"]) == [
        ("grand_total", "not_editable"),
        ("status", "not_editable"),
    ]
    edited = client.patch(
        url,
        {
            "lines": [{"line_number": 1, "quantity": 4}],
            "removed_lines": [2],
            "added_lines": [{"sku": "HAT", "quantity": 1}],
        },
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    assert edited.json()["grand_total"] == "90.00"
    assert reserved(world["shirt"], world["warehouse"]) == 4
    assert reserved(world["shoes"], world["warehouse"]) == 0

    short = client.patch(url, {"lines": [{"line_number": 1, "quantity": 50}]}, format="json")
    assert (short.status_code, short.json()["code"]) == (409, "insufficient_stock")
    store = client.patch(
        url, {"delivery_mode": "click_and_collect", "store": "st-lyon"}, format="json"
    )
    assert store.status_code == 200, store.json()
    assert reserved(world["shirt"], world["store"]) == 4
    assert client.get(url).status_code == 200
    assert (
        _client(world["other"]).patch(url, {"removed_lines": [1]}, format="json").status_code == 404
    )
