"""Supply API: buyers' purchase orders, suppliers' ASNs, handheld receipts, channels' incoming."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inventory.models import PurchaseOrder, Receipt, StockLevel, StockMovement
from inventory.services.receiving import Scan, receipt_post
from tests.core.helpers import problem_of
from tests.factories import channel_api_key
from tests.inventory.supply.factories import Supply, confirmed_order, supply_setup
from tests.inventory.typed_factories import make_product, make_store, make_warehouse

pytestmark = pytest.mark.django_db

PERMISSIONS = (
    "view_purchaseorder",
    "add_purchaseorder",
    "change_purchaseorder",
    "add_advanceshippingnotice",
    "add_receipt",
)


def staff(username: str = "buyer", permissions: tuple[str, ...] = PERMISSIONS) -> APIClient:
    user = get_user_model().objects.create_user(username, password="secret", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="inventory", codename__in=permissions)
    )
    client = APIClient()
    token = base64.b64encode(f"{username}:secret".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


def channel_client(supply: Supply) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=channel_api_key(supply.channel))
    return client


def test_a_buyer_runs_an_order_from_draft_to_received() -> None:
    supply = supply_setup()
    client = staff()
    created = client.post(
        "/api/v1/purchase-orders",
        {
            "supplier": "acme",
            "location": "wh-lyon",
            "reference": "manual",
            "lines": [
                {"sku": "SHIRT", "quantity": 10, "expected_date": "2031-05-09"},
                {"sku": "SHOES", "quantity": 4},
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    number = body["number"]
    assert (body["status"], body["created_by"], [line["sku"] for line in body["lines"]]) == (
        "draft",
        "buyer",
        ["SHIRT", "SHOES"],
    )
    url = f"/api/v1/purchase-orders/{number}"
    assert client.post(f"{url}/send", {}, format="json").json()["status"] == "sent"
    shirt_line = body["lines"][0]["id"]
    confirmed = client.post(
        f"{url}/confirm",
        {"lines": [{"line_id": shirt_line, "quantity_confirmed": 8}], "supplier_reference": "X1"},
        format="json",
    ).json()
    assert [(line["quantity_confirmed"], line["quantity_open"]) for line in confirmed["lines"]] == [
        (8, 8),
        (4, 4),
    ]
    notice = client.post(
        f"{url}/notices",
        {
            "supplier_reference": "DESADV-1",
            "expected_arrival": "2031-05-02",
            "lines": [{"sku": "SHIRT", "quantity": 8}, {"sku": "SHOES", "quantity": 4}],
        },
        format="json",
    )
    assert notice.status_code == 201, notice.content
    receipt = {
        "idempotency_key": "scan-session-1",
        "notice_id": notice.json()["id"],
        "scans": [
            {"code": "3000000000011", "quantity": 7},
            {"code": "SHIRT", "quantity": 0, "damaged_quantity": 1, "damage_reason": "wet"},
            {"code": "SHOES", "quantity": 4},
        ],
    }
    posted = client.post(f"{url}/receipts", receipt, format="json")
    assert posted.status_code == 201, posted.content
    document = posted.json()
    assert (document["purchase_order_status"], document["has_discrepancies"]) == (
        "received",
        True,
    )
    assert [
        (line["sku"], line["quantity_received"], line["quantity_damaged"], line["damage_reason"])
        for line in document["lines"]
    ] == [("SHIRT", 8, 1, "wet"), ("SHOES", 4, 0, "")]
    replay = client.post(f"{url}/receipts", receipt, format="json")
    assert (replay.status_code, replay.json()["id"]) == (200, document["id"])
    level = StockLevel.objects.get(product=supply.shirt, location=supply.warehouse)
    assert (level.on_hand, level.damaged, level.incoming) == (8, 1, 0)


def test_bad_requests_are_problem_details_and_change_nothing() -> None:
    supply = supply_setup()
    client = staff()
    unknown = client.post(
        "/api/v1/purchase-orders",
        {
            "supplier": "nobody",
            "location": "wh-lyon",
            "lines": [{"sku": "SHIRT", "quantity": 1}, {"sku": "GHOST", "quantity": 1}],
        },
        format="json",
    )
    document = problem_of(unknown, 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in document["errors"]] == [
        ("supplier", "unknown"),
        ("lines.1.sku", "unknown_sku"),
    ]
    negative = client.post(
        "/api/v1/purchase-orders",
        {"supplier": "acme", "location": "wh-lyon", "lines": [{"sku": "SHIRT", "quantity": -2}]},
        format="json",
    )
    assert [e["field"] for e in problem_of(negative, 400, "validation_failed")["errors"]] == [
        "lines.0.quantity"
    ]
    assert not PurchaseOrder.objects.exists()

    order = confirmed_order(supply, [(supply.shirt, 5, date(2031, 5, 2))])
    url = f"/api/v1/purchase-orders/{order.number}"
    movements = StockMovement.objects.count()
    bad_scan = client.post(
        f"{url}/receipts",
        {"idempotency_key": "k", "scans": [{"code": "GHOST", "quantity": 1}]},
        format="json",
    )
    assert [(e["field"], e["code"]) for e in bad_scan.json()["errors"]] == [
        ("scans.0.code", "unknown_product")
    ]
    assert bad_scan.status_code == 422
    negative_scan = client.post(
        f"{url}/receipts",
        {"idempotency_key": "k", "scans": [{"code": "SHIRT", "quantity": -1}]},
        format="json",
    )
    assert negative_scan.status_code == 422
    assert [e["field"] for e in negative_scan.json()["errors"]] == ["scans.0.quantity"]
    client.post(f"{url}/cancel", {"reason": "late"}, format="json")
    cancelled = client.post(
        f"{url}/receipts",
        {"idempotency_key": "k", "scans": [{"code": "SHIRT", "quantity": 1}]},
        format="json",
    )
    problem_of(cancelled, 409, "purchase_order_not_receivable")
    again = client.post(f"{url}/send", {}, format="json")
    problem_of(again, 409, "invalid_transition")
    missing = client.get("/api/v1/purchase-orders/PO-999999")
    problem_of(missing, 404, "purchase_order_not_found")
    assert not Receipt.objects.exists()
    assert StockMovement.objects.count() == movements + 1  # only the cancel's incoming row


def test_permissions_are_checked() -> None:
    supply = supply_setup()
    order = confirmed_order(supply, [(supply.shirt, 5, None)])
    reader = staff("reader", ("view_purchaseorder",))
    assert reader.get("/api/v1/purchase-orders").status_code == 200
    refused = reader.post(
        f"/api/v1/purchase-orders/{order.number}/receipts",
        {"idempotency_key": "k", "scans": [{"code": "SHIRT", "quantity": 1}]},
        format="json",
    )
    assert refused.status_code == 403
    assert APIClient().get("/api/v1/purchase-orders").status_code in (401, 403)
    assert not Receipt.objects.exists()


def test_list_filters_and_constant_query_count() -> None:
    supply = supply_setup()
    client = staff()
    confirmed_order(supply, [(supply.shirt, 5, date(2031, 5, 2))])

    def count(url: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, response.content
        return len(captured), response.json()

    small, _ = count("/api/v1/purchase-orders")
    store = make_store(code="st-1")
    for _ in range(6):
        confirmed_order(supply, [(supply.shirt, 1, None), (supply.shoes, 2, None)], location=store)
    large, body = count("/api/v1/purchase-orders")
    assert small == large
    assert len(body["results"]) == 7
    _, filtered = count("/api/v1/purchase-orders?location=wh-lyon&status=confirmed")
    assert [row["location"] for row in filtered["results"]] == ["wh-lyon"]
    _, by_date = count("/api/v1/purchase-orders?expected_after=2031-01-01&sku=SHIRT")
    assert len(by_date["results"]) == 1
    bad = client.get("/api/v1/purchase-orders?expected_before=soon")
    assert [e["field"] for e in problem_of(bad, 422, "validation_failed")["errors"]] == [
        "expected_before"
    ]


def test_incoming_availability_by_date_for_a_channel() -> None:
    supply = supply_setup(is_backorderable=True)
    late = confirmed_order(supply, [(supply.shirt, 6, date(2031, 5, 9))])
    confirmed_order(supply, [(supply.shirt, 4, date(2031, 5, 2))])
    receipt_post(
        purchase_order_id=late.pk, scans=[Scan("SHIRT", 1)], idempotency_key="a", actor="dock"
    )
    make_warehouse(code="wh-other")  # not the channel's: never shown
    client = channel_client(supply)
    response = client.get("/api/v1/availability/incoming?sku=SHIRT&sku=SHOES")
    assert response.status_code == 200, response.content
    shirt, shoes = response.json()["results"]
    assert shirt == {
        "sku": "SHIRT",
        "name": supply.shirt.name,
        "is_preorderable": True,
        "incoming": 9,
        "available_to_preorder": 9,
        "arrivals": [
            {
                "expected_date": "2031-05-02",
                "location_code": "wh-lyon",
                "quantity": 4,
                "preordered": 0,
                "available": 4,
                "purchase_order": shirt["arrivals"][0]["purchase_order"],
            },
            {
                "expected_date": "2031-05-09",
                "location_code": "wh-lyon",
                "quantity": 5,
                "preordered": 0,
                "available": 5,
                "purchase_order": late.number,
            },
        ],
    }
    assert (shoes["incoming"], shoes["arrivals"]) == (0, [])
    problem_of(client.get("/api/v1/availability/incoming?sku=GHOST"), 404, "unknown_sku")
    problem_of(client.get("/api/v1/availability/incoming"), 400, "validation_failed")


def test_incoming_query_count_does_not_grow(settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_KEY_CACHE_SECONDS = 0
    supply = supply_setup()
    client = channel_client(supply)
    confirmed_order(supply, [(supply.shirt, 2, date(2031, 5, 2))])

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/availability/incoming?sku=SHIRT&sku=SHOES")
        assert response.status_code == 200
        return len(captured)

    before = count()
    for n in range(5):
        store = make_store(code=f"st-{n}", channels=[supply.channel])
        product = make_product(sku=f"P-{n}")
        del product
        confirmed_order(supply, [(supply.shoes, 2, date(2031, 6, n + 1))], location=store)
    assert count() == before == 4  # key + products + levels + order lines
