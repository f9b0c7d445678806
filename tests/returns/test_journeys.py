"""Return journeys end to end through the HTTP API and the real services (issue #8).

1. A web order shipped home -> returned in a store -> restocked there (ATP up at once, ledger
   ``return`` + ``qc_release``) -> refund requested (outbox) -> payment confirmation -> closed.
2. A relay drop-off (return label) -> received at the warehouse -> damaged -> quarantined.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnilog.core.models import OutboxEvent
from orders.models import OrderLine
from returns.models import Refund, ReturnRequest
from tests.inventory.helpers import assert_ledger_consistent
from tests.returns.support import (
    atp,
    channel_client,
    counters,
    delivered_home_order,
    relay_point_id,
    return_movements,
    return_timeline,
    return_topics,
    staff_client,
)

pytestmark = pytest.mark.django_db


def line_number(order, sku: str) -> int:  # type: ignore[no-untyped-def]
    return OrderLine.objects.get(order=order, sku=sku).line_number


def test_web_order_returned_in_a_store_restocked_there_refunded_and_closed() -> None:
    net, order = delivered_home_order({"MUG": 2, "SHIRT": 1})
    shop, staff = channel_client(net["web"]), staff_client()

    returnable = shop.get(f"/api/v1/orders/{order.number}/returnable")
    assert returnable.status_code == 200, returnable.content
    lines = {line["sku"]: line for line in returnable.json()["lines"]}
    assert (lines["MUG"]["quantity_returnable"], lines["SHIRT"]["quantity_returnable"]) == (2, 1)
    assert lines["MUG"]["policy"]["window_days"] == 30
    assert "wrong_size" in [reason["code"] for reason in returnable.json()["reasons"]]

    created = shop.post(
        "/api/v1/returns",
        {
            "order_number": order.number,
            "lines": [
                {
                    "line_number": line_number(order, "MUG"),
                    "quantity": 2,
                    "reason_code": "wrong_size",
                }
            ],
            "mode": "store",
            "location": "st-opera",
            "photo_urls": ["https://example.com/mug.jpg"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert created.json()["status"] == "requested"
    after = shop.get(f"/api/v1/orders/{order.number}/returnable").json()["lines"]
    mug = next(line for line in after if line["sku"] == "MUG")
    assert (mug["quantity_in_returns"], mug["quantity_returnable"], mug["refusal_code"]) == (
        2,
        0,
        "nothing_left",
    )

    assert staff.post(f"/api/v1/returns/{number}/approve", {}, format="json").status_code == 200
    assert counters("MUG", "st-opera") == (0, 0, 0, 0, 0)
    received = staff.post(
        f"/api/v1/returns/{number}/receive", {"location": "st-opera"}, format="json"
    )
    assert received.status_code == 200, received.content
    assert received.json()["status"] == "received"
    # On hand at the store, held for inspection: nothing uninspected can be sold.
    assert counters("MUG", "st-opera") == (2, 0, 0, 2, 0)
    assert atp("MUG", "st-opera") == 0
    (line,) = received.json()["lines"]
    inspected = staff.post(
        f"/api/v1/returns/{number}/inspect",
        {"lines": [{"id": line["id"], "condition": "sellable"}]},
        format="json",
    )
    assert inspected.status_code == 200, inspected.content
    (proposal,) = inspected.json()["lines"]
    assert (proposal["proposed_disposition"], proposal["proposed_location"]) == (
        "restock_here",
        "st-opera",
    )
    assert proposal["proposal_reason"] == "default: sellable and wanted here"
    done = staff.post(f"/api/v1/returns/{number}/disposition", {}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "dispositioned"
    # Sellable again at once, where it came back.
    assert counters("MUG", "st-opera") == (2, 0, 0, 0, 0)
    assert atp("MUG", "st-opera") == 2
    assert return_movements("MUG", "st-opera") == [("return", 2, 2), ("qc_release", 0, -2)]
    assert OrderLine.objects.get(order=order, sku="MUG").quantity_returned == 2

    refunded = staff.post(f"/api/v1/returns/{number}/refund", {}, format="json")
    assert refunded.status_code == 200, refunded.content
    assert refunded.json()["status"] == "refund_requested"
    refund = Refund.objects.get(return_request__number=number)
    assert (refund.status, refund.amount, refund.currency, refund.document) == (
        "requested",
        Decimal("15.00"),
        "EUR",
        "refund",
    )
    event = OutboxEvent.objects.filter(topic="return.refund_requested").get()
    assert event.payload["refund_reference"] == refund.reference
    assert event.payload["amount"] == "15.00"

    confirmation = staff.post(
        f"/api/v1/refunds/{refund.reference}/confirmation",
        {"status": "confirmed", "external_reference": "psp-981"},
        format="json",
    )
    assert confirmation.status_code == 200, confirmation.content
    assert confirmation.json()["status"] == "confirmed"
    again = staff.post(
        f"/api/v1/refunds/{refund.reference}/confirmation",
        {"status": "confirmed", "external_reference": "psp-981"},
        format="json",
    )
    assert again.status_code == 200  # the payment system retried: nothing more happens
    rma = ReturnRequest.objects.get(number=number)
    assert rma.status == "closed"
    assert return_topics(net["mark"]) == [
        "return.requested",
        "return.approved",
        "return.received",
        "return.inspected",
        "return.dispositioned",
        "return.refund_requested",
        "return.refunded",
        "return.closed",
    ]
    assert return_timeline(order) == [
        f"Return {number} requested",
        f"Return {number} approved",
        f"Return {number} received",
        f"Return {number} inspected",
        f"Return {number} dispositioned",
        f"Refund {refund.reference} of 15.00 EUR requested",
        f"Return {number} refunded",
        f"Return {number} closed",
    ]
    assert_ledger_consistent()


def test_relay_drop_off_to_the_warehouse_quarantined_when_damaged() -> None:
    net, order = delivered_home_order({"MUG": 2, "SHIRT": 1})
    shop, staff = channel_client(net["web"]), staff_client()
    created = shop.post(
        "/api/v1/returns",
        {
            "order_number": order.number,
            "lines": [
                {
                    "line_number": line_number(order, "SHIRT"),
                    "quantity": 1,
                    "reason_code": "damaged_in_transit",
                }
            ],
            "mode": "relay_drop_off",
            "relay_point": relay_point_id(),
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert created.json()["location"] == "wh-paris"
    approved = staff.post(f"/api/v1/returns/{number}/approve", {}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["has_label"] is True
    assert approved.json()["tracking_number"]
    label = shop.get(f"/api/v1/returns/{number}/label")
    assert label.status_code == 200
    assert label["Content-Type"] == "application/pdf"
    assert label.content[:5] == b"%PDF-"
    for status in ("dropped_off", "in_transit"):
        moved = shop.post(f"/api/v1/returns/{number}/parcel", {"status": status}, format="json")
        assert moved.json()["status"] == status
    before = counters("SHIRT", "wh-paris")
    staff.post(f"/api/v1/returns/{number}/receive", {"location": "wh-paris"}, format="json")
    (line,) = ReturnRequest.objects.get(number=number).lines.all()
    inspected = staff.post(
        f"/api/v1/returns/{number}/inspect",
        {"lines": [{"id": line.pk, "condition": "damaged", "note": "torn seam"}]},
        format="json",
    )
    assert inspected.json()["lines"][0]["proposed_disposition"] == "quarantine"
    done = staff.post(f"/api/v1/returns/{number}/disposition", {}, format="json")
    assert done.json()["status"] == "dispositioned"
    on_hand, reserved, damaged, quality_control, _ = before
    # One more unit on hand at the warehouse, on QC hold: never sold until someone decides.
    assert counters("SHIRT", "wh-paris") == (on_hand + 1, reserved, damaged, quality_control + 1, 0)
    assert return_topics(net["mark"]) == [
        "return.requested",
        "return.approved",
        "return.dropped_off",
        "return.in_transit",
        "return.received",
        "return.inspected",
        "return.dispositioned",
    ]
    assert_ledger_consistent()
