"""Claims through the HTTP API: channel-scoped, staff-only resolution, problem details."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order
from returns.models import Claim, Refund
from tests.returns.refunds.shop import place, shipped, shop
from tests.returns.support import channel_client, staff_client
from tests.returns.test_claim_service import world_snapshot

pytestmark = pytest.mark.django_db


def lost_order(net, lines=None, email="camille@example.com"):
    order = place(net["web"], lines or {"SHIRT-S": 2, "BAG": 1}, email=email)
    return order, shipped(order, delivered=False)


def test_channel_opens_and_follows_staff_reships():
    net = shop()
    order, shipment = lost_order(net)
    web = channel_client(net["web"])
    opened = web.post(
        "/api/v1/claims",
        {
            "order_number": order.number,
            "tracking_number": shipment.tracking_number,
            "kind": "lost",
            "resolution": "reship",
        },
        format="json",
    )
    assert opened.status_code == 201, opened.content
    claim = opened.json()
    assert (claim["status"], claim["kind"], claim["tracking_number"]) == (
        "open",
        "lost",
        shipment.tracking_number,
    )
    assert claim["lines"] == [
        {"line_number": 1, "sku": "SHIRT-S", "quantity": 2},
        {"line_number": 2, "sku": "BAG", "quantity": 1},
    ]
    number = claim["number"]
    assert web.get(f"/api/v1/claims/{number}").json()["number"] == number
    # Another channel sees nothing; the channel itself cannot resolve.
    pro = channel_client(net["pro"])
    hidden = pro.get(f"/api/v1/claims/{number}")
    assert (hidden.status_code, hidden.json()["code"]) == (404, "claim_not_found")
    assert pro.get("/api/v1/claims").json()["results"] == []
    assert web.post(f"/api/v1/claims/{number}/resolve", {}, format="json").status_code == 403

    resolved = staff_client().post(f"/api/v1/claims/{number}/resolve", {}, format="json")
    assert resolved.status_code == 200, resolved.content
    body = resolved.json()
    replacement = Order.objects.get(number=body["replacement_order_number"])
    assert (body["status"], body["resolution"], replacement.grand_total) == (
        "resolved",
        "reship",
        Decimal("0.00"),
    )


def test_staff_refunds_a_lost_parcel_and_records_the_confirmation():
    net = shop()
    order, shipment = lost_order(net, {"BAG": 1})
    web = channel_client(net["web"])
    number = web.post(
        "/api/v1/claims",
        {
            "order_number": order.number,
            "tracking_number": shipment.tracking_number,
            "kind": "lost",
            "resolution": "refund",
        },
        format="json",
    ).json()["number"]
    staff = staff_client()
    body = staff.post(f"/api/v1/claims/{number}/resolve", {}, format="json").json()
    (refund,) = body["refunds"]
    assert (refund["amount"], refund["status"], refund["document"]) == (
        "24.50",
        "requested",
        "refund",
    )
    failed = staff.post(
        f"/api/v1/claims/{number}/refund-confirmation",
        {"reference": refund["reference"], "status": "failed"},
        format="json",
    )
    assert (failed.status_code, failed.json()["errors"]) == (
        422,
        [{"field": "failure_reason", "message": "Required when failed.", "code": "required"}],
    )
    confirmed = staff.post(
        f"/api/v1/claims/{number}/refund-confirmation",
        {"reference": refund["reference"], "status": "confirmed", "external_reference": "psp-9"},
        format="json",
    )
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["refunds"][0]["status"] == "confirmed"
    assert Refund.objects.get().external_reference == "psp-9"


def test_bad_claims_are_problem_details_and_write_nothing():
    net = shop()
    order, shipment = lost_order(net, {"SHIRT-S": 1})
    web = channel_client(net["web"])
    before = world_snapshot()
    response = web.post(
        "/api/v1/claims",
        {
            "order_number": order.number,
            "tracking_number": shipment.tracking_number,
            "kind": "damaged",
            "resolution": "refund",
            "lines": [{"line_number": 1, "quantity": 3}, {"line_number": 9, "quantity": 1}],
        },
        format="json",
    )
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("photo_urls", "required"),
        ("lines.0.quantity", "too_many"),
        ("lines.1.line_number", "not_in_parcel"),
    ]
    shape = web.post("/api/v1/claims", {"kind": "lost", "lines": "x"}, format="json")
    assert shape.status_code in (400, 422)
    assert {e["field"] for e in shape.json()["errors"]} >= {"order_number", "tracking_number"}
    other = channel_client(net["pro"]).post(
        "/api/v1/claims",
        {
            "order_number": order.number,
            "tracking_number": shipment.tracking_number,
            "kind": "lost",
            "resolution": "refund",
        },
        format="json",
    )
    assert (other.status_code, other.json()["code"]) == (404, "order_not_found")
    assert world_snapshot() == before


def test_claim_list_reads_in_constant_queries():
    net = shop()
    web = channel_client(net["web"])
    for index in range(3):
        order, shipment = lost_order(net, {"CAP": 1} if index == 0 else {"BAG": 1}, f"{index}@x.io")
        response = web.post(
            "/api/v1/claims",
            {
                "order_number": order.number,
                "tracking_number": shipment.tracking_number,
                "kind": "lost",
                "resolution": "refund",
            },
            format="json",
        )
        assert response.status_code == 201
        if index:
            staff_client(f"s{index}").post(
                f"/api/v1/claims/{response.json()['number']}/resolve", {}, format="json"
            )
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            listed = web.get("/api/v1/claims?status=resolved")
        counts.append(len(queries))
        assert listed.status_code == 200
        assert len(listed.json()["results"]) == 2
    Claim.objects.filter(status="open").update(status="resolved")
    with CaptureQueriesContext(connection) as more:
        assert len(web.get("/api/v1/claims?status=resolved").json()["results"]) == 3
    assert len(more) == counts[-1] <= 8
