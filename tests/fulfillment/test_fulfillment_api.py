"""The fulfillment floor API end to end: staff session, problem details for every refusal."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from fulfillment.models import FulfillmentOrder, PickList
from tests.fulfillment.pickpack_support import MUG_EAN, SHIRT_EAN, pickpack_network
from tests.fulfillment.service_support import place
from tests.inventory.helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor() -> Client:
    user = User.objects.create_user("picker", password="x")
    user.user_permissions.add(Permission.objects.get(codename="pick_and_pack"))
    client = Client()
    client.force_login(user)
    return client


def test_the_whole_floor_flow_through_the_api(floor: Client) -> None:
    from fulfillment.services.routing import order_route

    net = pickpack_network()
    order = place(net["web"], {"SHIRT": 1, "MUG": 1})
    order_route(order_id=order.pk, expected_version=1, trigger="placed")
    fo = FulfillmentOrder.objects.get(order=order)
    base = f"/api/v1/fulfillment-orders/{fo.pk}"

    accepted = floor.post(f"{base}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"

    # GET only reads, whatever the query string: planning is a POST.
    assert floor.get("/api/v1/locations/wh-1/pick-lists?plan=true").json() == []
    assert PickList.objects.count() == 0
    assert floor.get("/api/v1/locations/wh-1/pick-lists/plan").status_code == 405
    lists = floor.post("/api/v1/locations/wh-1/pick-lists/plan")
    assert lists.status_code == 200
    assert floor.get("/api/v1/locations/wh-1/pick-lists").json() == lists.json()
    (pick_list,) = lists.json()
    assert (pick_list["code"], pick_list["kind"], pick_list["unit_count"]) == (
        "W01-C01",
        "cluster",
        2,
    )
    scan = f"/api/v1/pick-lists/{pick_list['id']}/scan"

    wrong = floor.post(scan, {"ean": MUG_EAN}, content_type="application/json")
    assert wrong.status_code == 409
    assert wrong["Content-Type"] == "application/problem+json"
    assert wrong.json()["code"] == "wrong_item"
    assert floor.post(scan, {"ean": SHIRT_EAN}, content_type="application/json").status_code == 200
    done = floor.post(scan, {"ean": MUG_EAN, "tote": 1}, content_type="application/json")
    assert done.json()["picked_fulfillment_orders"] == [fo.pk]
    assert done.json()["pick_list"]["status"] == "done"

    for ean in (SHIRT_EAN, MUG_EAN):
        response = floor.post(f"{base}/pack/scan", {"ean": ean}, content_type="application/json")
        assert response.status_code == 200
    excess = floor.post(f"{base}/pack/scan", {"ean": MUG_EAN}, content_type="application/json")
    assert (excess.status_code, excess.json()["code"]) == (409, "excess_item")
    bad = floor.post(f"{base}/pack/close", {"weight_grams": 0}, content_type="application/json")
    assert bad.status_code in (400, 422)
    closed = floor.post(
        f"{base}/pack/close",
        {"weight_grams": 700, "box_code": "M"},
        content_type="application/json",
    )
    assert closed.status_code == 200
    assert (closed.json()["box_code"], closed.json()["suggested_box_code"]) == ("M", "S")

    shipped = floor.post(f"{base}/ship")
    assert shipped.status_code == 200
    assert shipped.json()["status"] == "shipped"
    assert [line["quantity_packed"] for line in shipped.json()["lines"]] == [1, 1]
    order.refresh_from_db()
    assert order.status == "shipped"
    assert_ledger_consistent()

    slip = floor.get(f"{base}/packing-slip.pdf")
    assert (slip.status_code, slip["Content-Type"]) == (200, "application/pdf")
    assert slip.content.startswith(b"%PDF")
    pdf = floor.get(f"/api/v1/pick-lists/{pick_list['id']}/pdf")
    assert pdf.content.startswith(b"%PDF")


def test_short_pick_through_the_api_re_routes(floor: Client) -> None:
    from tests.fulfillment.pickpack_support import accepted

    net = pickpack_network()
    _, fo = accepted(net, {"SHIRT": 2})
    line = fo.lines.get()
    response = floor.post(
        f"/api/v1/fulfillment-order-lines/{line.pk}/short",
        {"quantity": 2, "reason": "damaged"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["routing_decision_id"] is not None
    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "rejected"
    bad = floor.post(
        f"/api/v1/fulfillment-order-lines/{line.pk}/short",
        {"quantity": 1, "reason": "lost"},
        content_type="application/json",
    )
    assert bad.status_code in (400, 422)
    assert bad["Content-Type"] == "application/problem+json"


def test_anonymous_and_customers_are_refused(client: Client) -> None:
    # No WWW-Authenticate: Basic challenge (a browser would cache the credentials): 403.
    anonymous = client.get("/api/v1/locations/wh-1/pick-lists")
    assert (anonymous.status_code, anonymous.json()["code"]) == (403, "not_authenticated")
    assert "WWW-Authenticate" not in anonymous
    assert client.post("/api/v1/locations/wh-1/pick-lists/plan").status_code == 403
    User.objects.create_user("someone", password="x")
    client.login(username="someone", password="x")
    assert client.get("/api/v1/locations/wh-1/pick-lists").status_code == 403
    assert PickList.objects.count() == 0


def test_admin_pages_and_pdf_downloads(admin_client: Client) -> None:
    from tests.fulfillment.pickpack_support import packed

    net = pickpack_network()
    _, fo = packed(net, {"SHIRT": 1})
    pick_list = PickList.objects.get()
    for url in (
        "/admin/fulfillment/picklist/",
        f"/admin/fulfillment/picklist/{pick_list.pk}/change/",
        "/admin/fulfillment/pickwave/",
        "/admin/fulfillment/productbin/",
        "/admin/fulfillment/pickingstrategy/",
        f"/admin/fulfillment/fulfillmentorder/{fo.pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url
    assert (
        admin_client.get(f"/admin/fulfillment/picklist/{pick_list.pk}/pdf/").content[:4] == b"%PDF"
    )
    slip = admin_client.get(f"/admin/fulfillment/fulfillmentorder/{fo.pk}/packing-slip/")
    assert slip.content[:4] == b"%PDF"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/pick-lists/1/scan", {"ean": "1", "quantity": 2**31}, "quantity"),
        ("/api/v1/pick-lists/1/scan", {"ean": "1", "tote": 2**31}, "tote"),
        (
            "/api/v1/fulfillment-order-lines/1/short",
            {"quantity": 2**31, "reason": "damaged"},
            "quantity",
        ),
        ("/api/v1/fulfillment-orders/1/pack/close", {"weight_grams": 2**31}, "weight_grams"),
        (
            "/api/v1/fulfillment-orders/1/reject",
            {"lines": [{"line_id": 1, "quantity": 2**31, "reason": "x"}]},
            "lines.0.quantity",
        ),
        (
            "/api/v1/fulfillment-orders/1/handover",
            {"lines": [{"line_id": 1, "quantity": 2**31}]},
            "lines.0.quantity",
        ),
    ],
)
def test_numbers_past_their_columns_are_field_errors(floor: Client, path, body, field) -> None:  # type: ignore[no-untyped-def]
    response = floor.post(path, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, "max_value")]
