"""Ship-from-store in a real browser: the store's carrier order is picked by scanning, packed,
its parcel closed, the label bought and printed (PDF), and the order marked shipped; the
curbside "I'm here" form works on the customer's tracking page. Pages pass axe."""

from __future__ import annotations

from typing import Any

import pytest

from fulfillment.models import FulfillmentOrder
from fulfillment.services.routing import order_route
from inventory.models import Product
from tests.browser.conftest import axe_violations, log_in
from tests.fulfillment.shipping_support import builtin_carrier
from tests.fulfillment.store.pickup_ready_support import ready_pickup
from tests.fulfillment.store.support import EANS, PASSWORD, store_world
from tests.orders.lifecycle_support import place

pytestmark = pytest.mark.django_db(transaction=True)


def scan(page: Any, label: str, code: str) -> None:
    field = page.get_by_label(label)
    field.fill(code)
    field.press("Enter")
    page.wait_for_load_state("domcontentloaded")


def test_a_carrier_order_is_picked_packed_labelled_and_shipped(page: Any, live_server: Any) -> None:
    world = store_world()
    opera = world["opera"]
    opera.is_ship_from_store = opera.ships_parcels = True
    opera.save(update_fields=["is_ship_from_store", "ships_parcels"])
    Product.objects.filter(sku__in=EANS).update(
        weight_grams=300, length_mm=300, width_mm=200, height_mm=30
    )
    builtin_carrier()
    order = place(world["web"], {"SHIRT": 1, "CAP": 1})
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is not None
    fo = FulfillmentOrder.objects.get(order=order)
    base = live_server.url

    log_in(page, base, "ana", PASSWORD)
    page.goto(f"{base}/store/st-opera/ship/")
    assert axe_violations(page) == []
    page.get_by_role("link", name=f"Pick order {order.number}").click()
    page.wait_for_load_state("domcontentloaded")
    assert axe_violations(page) == []

    scan(page, "Scan an item", EANS["SHIRT"])
    page.get_by_text("Picked SHIRT").wait_for()
    scan(page, "Scan an item", "0000000000000")
    page.get_by_role("alert").get_by_text("is not in order").wait_for()
    scan(page, "Scan an item", EANS["CAP"])
    page.get_by_text("Everything is picked").wait_for()

    for code in (EANS["SHIRT"], EANS["CAP"]):
        scan(page, "Scan each item into the parcel", code)
    page.get_by_label("Parcel weight (grams)").fill("700")
    page.get_by_role("button", name="Close parcel 1").click()
    page.wait_for_load_state("domcontentloaded")
    page.get_by_role("button", name="Buy the label").click()
    page.wait_for_load_state("domcontentloaded")
    assert axe_violations(page) == []

    label_url = page.get_by_role("link", name="Print label").get_attribute("href")
    label = page.request.get(f"{base}{label_url}")
    assert label.status == 200
    assert label.headers["content-type"] == "application/pdf"
    assert label.body().startswith(b"%PDF")

    page.get_by_role("button", name="The carrier took it: mark shipped").click()
    page.get_by_text("handed to the carrier").wait_for()
    fo.refresh_from_db()
    assert fo.status == "shipped"


def test_curbside_check_in_from_the_tracking_page(page: Any, live_server: Any) -> None:
    world = store_world()
    order, _ = ready_pickup(world, {"SHIRT": 1})
    page.goto(f"{live_server.url}/track/{order.tracking_token}")
    assert axe_violations(page) == []
    page.get_by_label("Bay number").select_option("2")
    page.get_by_label("Note for the store (optional, e.g. car colour)").fill("green car")
    page.get_by_role("button", name="I'm here").click()
    page.get_by_text("we know you are here: bay 2 (green car)").wait_for()
    assert axe_violations(page) == []
    order.refresh_from_db()
    assert (order.curbside_bay, order.curbside_note) == (2, "green car")
