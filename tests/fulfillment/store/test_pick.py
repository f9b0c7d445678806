"""Pick screen: scanning by EAN or SKU, duplicate scan ids ignored, wrong items refused with
nothing written, not found / damaged lines rejected (re-routed or shortened), store scoping."""

from __future__ import annotations

import pytest

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from orders.models import Order
from tests.fulfillment.store.support import (
    EANS,
    level,
    logged_in,
    place_pickup,
    routed,
    store_cache_clean,
    store_world,
)
from tests.inventory.helpers import assert_ledger_consistent, movement_kinds

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    store_cache_clean()


def scan(client, fo: FulfillmentOrder, code: str, scan_id: str = "", htmx: bool = True):  # type: ignore[no-untyped-def]
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        f"/store/st-opera/fo/{fo.pk}/pick/",
        {"action": "scan", "code": code, "scan_id": scan_id},
        **headers,
    )


def picked(fo: FulfillmentOrder) -> list[tuple[str, int]]:
    return list(
        FulfillmentOrderLine.objects.filter(fulfillment_order=fo)
        .order_by("id")
        .values_list("order_line__sku", "quantity_picked")
    )


def test_pick_page_shows_lines_with_bins_and_initials() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 2, "CAP": 1}))
    page = logged_in(world["ana"]).get(f"/store/st-opera/fo/{fo.pk}/pick/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'class="bin">R1<' in body
    assert 'class="bin">R2<' in body
    assert ">DS</text>" in body  # initials tile of "Demo shirt"
    assert "data-scan-field autofocus" in body
    assert "Picked 0 of 3 items" in body
    fo.refresh_from_db()
    assert fo.status == "created"  # a GET changes nothing


def test_scanning_every_item_accepts_picks_and_completes_the_order() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 2, "CAP": 1}))
    client = logged_in(world["ana"])
    first = scan(client, fo, EANS["SHIRT"], "s1")
    assert first.status_code == 200
    assert 'data-feedback="ok"' in first.content.decode()
    assert "Picked SHIRT Demo shirt: 1 of 2" in first.content.decode()
    fo.refresh_from_db()
    assert fo.status == "picking"
    assert scan(client, fo, "shirt", "s2").status_code == 200  # SKU, any case
    assert scan(client, fo, EANS["CAP"], "s3").status_code == 200
    fo.refresh_from_db()
    assert fo.status == "picked"
    assert picked(fo) == [("SHIRT", 2), ("CAP", 1)]
    statuses = fo.order.events.filter(kind="status_changed").values_list("to_status", flat=True)
    assert list(statuses.order_by("id")) == ["in_fulfillment"]


def test_a_repeated_scan_id_is_ignored() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 2}))
    client = logged_in(world["ana"])
    scan(client, fo, EANS["SHIRT"], "same")
    again = scan(client, fo, EANS["SHIRT"], "same")
    assert again.status_code == 200
    assert "Duplicate scan ignored." in again.content.decode()
    assert picked(fo) == [("SHIRT", 1)]


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("9999999999999", 409, "Wrong item: 9999999999999 is not in order"),
        ("", 422, "Scan or type a barcode."),
    ],
)
def test_wrong_or_empty_scans_are_refused_and_change_nothing(
    code: str, status: int, message: str
) -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 1}))
    response = scan(logged_in(world["ana"]), fo, code, "x1")
    assert response.status_code == status
    assert message in response.content.decode()
    assert 'data-feedback="error"' in response.content.decode()
    fo.refresh_from_db()
    assert picked(fo) == [("SHIRT", 0)]
    assert fo.status in {"created", "accepted"}


def test_an_excess_scan_is_refused() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 1, "CAP": 1}))
    client = logged_in(world["ana"])
    scan(client, fo, EANS["SHIRT"], "a")
    response = scan(client, fo, EANS["SHIRT"], "b")
    assert response.status_code == 409
    assert "Already picked" in response.content.decode()
    assert picked(fo) == [("SHIRT", 1), ("CAP", 0)]


def test_without_htmx_the_whole_page_comes_back() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 1}))
    response = scan(logged_in(world["ana"]), fo, EANS["SHIRT"], "n1", htmx=False)
    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_bad_numbers_are_field_errors_not_500s() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 1}))
    response = logged_in(world["ana"]).post(
        f"/store/st-opera/fo/{fo.pk}/pick/",
        {"action": "short", "line_id": "abc", "quantity": "1", "reason": "damaged"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "Line id: a whole number is expected." in response.content.decode()


def test_not_found_shortens_the_order_and_releases_the_units() -> None:
    world = store_world()
    order = place_pickup(world, {"SHIRT": 2, "CAP": 1})
    fo = routed(order)
    line = FulfillmentOrderLine.objects.get(fulfillment_order=fo, order_line__sku="CAP")
    response = logged_in(world["ana"]).post(
        f"/store/st-opera/fo/{fo.pk}/pick/",
        {"action": "short", "line_id": line.pk, "quantity": "1", "reason": "not_found"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content
    line.refresh_from_db()
    assert (line.quantity_rejected, line.rejection_reason) == (1, "not_found")
    assert level(world["CAP"], world["opera"]) == (3, 0, 0)  # released, not damaged
    fo.refresh_from_db()
    assert fo.status == "accepted"  # the shirts are still to pick
    assert_ledger_consistent()


def test_damaged_units_are_rejected_and_set_aside_as_damaged_stock() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"CAP": 1}))
    line = FulfillmentOrderLine.objects.get(fulfillment_order=fo)
    response = logged_in(world["ana"]).post(
        f"/store/st-opera/fo/{fo.pk}/pick/",
        {"action": "short", "line_id": line.pk, "quantity": "1", "reason": "damaged"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content
    fo.refresh_from_db()
    assert fo.status == "rejected"
    assert level(world["CAP"], world["opera"]) == (3, 0, 1)
    assert movement_kinds(world["CAP"], world["opera"]) == [
        "receipt",
        "reservation",
        "release",
        "damage",
    ]
    assert "no longer prepares this order" in response.content.decode()
    assert Order.objects.get(pk=fo.order_id).status != "collected"
    assert_ledger_consistent()


def test_another_stores_staff_get_404_for_pick_and_actions() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 1}))
    bob = logged_in(world["bob"])
    assert bob.get(f"/store/st-opera/fo/{fo.pk}/pick/").status_code == 404
    assert bob.get(f"/store/st-bastille/fo/{fo.pk}/pick/").status_code == 404
    assert scan(bob, fo, EANS["SHIRT"], "z").status_code == 404
    other = f"/store/st-bastille/fo/{fo.pk}"
    assert bob.post(f"{other}/pick/", {"code": EANS["SHIRT"]}).status_code == 404
    assert bob.post(f"/store/st-bastille/fo/{fo.pk}/ready/").status_code == 404
    assert picked(fo) == [("SHIRT", 0)]
