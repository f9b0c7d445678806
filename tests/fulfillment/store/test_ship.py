"""Ship-from-store screens: the store's carrier orders, pick by scanning, pack, label (PDF),
ship; refusals render the reason and change nothing; another store's staff gets 404s."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, Parcel
from fulfillment.models_shipping import Shipment
from fulfillment.services.routing import order_route
from inventory.models import Product, StockLevel
from inventory.services import stock_receive
from orders.models import Order
from tests.fulfillment.shipping_support import builtin_carrier
from tests.fulfillment.store.support import EANS, logged_in, place_pickup, routed, store_world
from tests.orders.lifecycle_support import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    data = store_world()
    for store in (data["opera"], data["bastille"]):
        store.is_ship_from_store = store.ships_parcels = True
        store.save(update_fields=["is_ship_from_store", "ships_parcels"])
    Product.objects.filter(sku__in=EANS).update(
        weight_grams=300, length_mm=300, width_mm=200, height_mm=30
    )
    builtin_carrier()
    return data


def carrier_order(
    world: dict[str, Any], lines: dict[str, int], email: str = "a@example.com"
) -> FulfillmentOrder:
    """A home delivery routed to opera (the only store with all of it)."""
    order = place(world["web"], lines, email=email)
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is not None
    return FulfillmentOrder.objects.select_related("order").get(order=order)


def url(fo: FulfillmentOrder, suffix: str = "") -> str:
    return f"/store/{fo.location.code}/ship/{fo.pk}/{suffix}"


def post(client, fo: FulfillmentOrder, **data: Any):  # type: ignore[no-untyped-def]
    return client.post(url(fo), data)


def progress(fo: FulfillmentOrder) -> list[tuple[int, int]]:
    return list(
        FulfillmentOrderLine.objects.filter(fulfillment_order=fo)
        .order_by("id")
        .values_list("quantity_picked", "quantity_packed")
    )


def test_the_list_shows_this_stores_carrier_orders_in_constant_queries(world) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(world["ana"])
    first = carrier_order(world, {"CAP": 1})
    pickup = routed(place_pickup(world, {"SHIRT": 1}))  # collected in store: not listed
    client.get("/store/st-opera/ship/")
    with CaptureQueriesContext(connection) as few:
        response = client.get("/store/st-opera/ship/")
    assert response.status_code == 200
    html = response.content.decode()
    assert first.order.number in html
    assert pickup.order.number not in html
    stock_receive(product_id=world["CAP"].id, location_id=world["opera"].id, quantity=10)
    for index in range(4):
        carrier_order(world, {"CAP": 1}, email=f"x{index}@example.com")
    with CaptureQueriesContext(connection) as many:
        html = client.get("/store/st-opera/ship/").content.decode()
    assert html.count('data-fo="') == 5
    assert len(few) == len(many)
    # Bastille's staff sees none of opera's orders.
    assert (
        'data-fo="' not in logged_in(world["bob"]).get("/store/st-bastille/ship/").content.decode()
    )


def test_pick_pack_label_print_and_ship(world) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(world["ana"])
    fo = carrier_order(world, {"SHIRT": 2, "CAP": 1})
    assert fo.location == world["opera"]
    assert fo.delivery_mode == "home_standard"
    assert 'id="scan-code"' in client.get(url(fo)).content.decode()

    for code in (EANS["SHIRT"], "shirt", EANS["CAP"]):
        response = post(client, fo, action="pick", code=code)
        assert response.status_code == 200, response.content
    fo.refresh_from_db()
    assert fo.status == "picked"
    assert progress(fo) == [(2, 0), (1, 0)]

    for code in (EANS["SHIRT"], EANS["SHIRT"], EANS["CAP"]):
        assert post(client, fo, action="pack", code=code).status_code == 200
    page = client.get(url(fo)).content.decode()
    assert "Close parcel 1" in page
    assert post(client, fo, action="close", weight_grams="950", box_code="").status_code == 200
    fo.refresh_from_db()
    assert fo.status == "packed"

    assert (
        post(client, fo, action="label", carrier="omnilog-rates", service="standard").status_code
        == 200
    )
    shipment = Shipment.objects.get(fulfillment_order=fo)
    label = client.get(url(fo, "label.pdf"))
    assert label.status_code == 200
    assert label["Content-Type"] == "application/pdf"
    assert label.content.startswith(b"%PDF")
    assert shipment.tracking_number in client.get(url(fo)).content.decode()

    before = StockLevel.objects.get(product=world["SHIRT"], location=world["opera"]).on_hand
    assert post(client, fo, action="ship").status_code == 200
    fo.refresh_from_db()
    assert fo.status == "shipped"
    assert Order.objects.get(pk=fo.order_id).status == "shipped"
    assert (
        StockLevel.objects.get(product=world["SHIRT"], location=world["opera"]).on_hand
        == before - 2
    )


@pytest.mark.parametrize(
    ("data", "status", "text"),
    [
        ({"action": "pick", "code": "0000000000000"}, 409, "is not in order"),
        ({"action": "pick", "code": ""}, 422, "Scan or type a barcode"),
        ({"action": "pack", "code": EANS["CAP"]}, 409, "only a picked order"),
        ({"action": "close", "weight_grams": "x"}, 422, "whole number"),
        ({"action": "ship"}, 422, "label first"),
        ({"action": "label", "carrier": "", "service": "warp"}, 422, "carrier and the service"),
        ({"action": "explode"}, 422, "Unknown action"),
    ],
)
def test_refusals_render_the_reason_and_change_nothing(world, data, status, text) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(world["ana"])
    fo = carrier_order(world, {"CAP": 1})
    response = post(client, fo, **data)
    assert response.status_code == status
    assert text in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    fresh = FulfillmentOrder.objects.get(pk=fo.pk)
    assert fresh.status == "created"
    assert progress(fo) == [(0, 0)]
    assert not Parcel.objects.filter(fulfillment_order=fo).exists()
    assert not Shipment.objects.filter(fulfillment_order=fo).exists()


def test_an_excess_scan_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(world["ana"])
    fo = carrier_order(world, {"CAP": 1, "SHIRT": 1})
    assert post(client, fo, action="pick", code=EANS["CAP"]).status_code == 200
    response = post(client, fo, action="pick", code=EANS["CAP"])
    assert response.status_code == 409
    assert "already picked" in response.content.decode()


def test_another_stores_staff_and_pickup_orders_get_404s(world) -> None:  # type: ignore[no-untyped-def]
    fo = carrier_order(world, {"CAP": 1})
    bob = logged_in(world["bob"])
    assert bob.get(url(fo)).status_code == 404
    assert bob.post(url(fo), {"action": "pick", "code": EANS["CAP"]}).status_code == 404
    assert bob.get(f"/store/st-bastille/ship/{fo.pk}/").status_code == 404
    assert bob.get(url(fo, "label.pdf")).status_code == 404
    assert progress(fo) == [(0, 0)]
    pickup = routed(place_pickup(world, {"SHIRT": 1}))
    ana = logged_in(world["ana"])
    assert ana.get(url(pickup)).status_code == 404
    assert ana.get(url(fo, "label.pdf")).status_code == 404  # no label yet
    anonymous = logged_in(world["ana"])
    anonymous.logout()
    assert anonymous.get(url(fo)).status_code == 302
