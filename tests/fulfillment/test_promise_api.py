"""POST /api/v1/delivery-options: exact dates at a frozen moment, prices from the rate table,
cut-off countdowns, stores and relay points, incoming stock, capacity, query counts, auth and
validation problems."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from fulfillment.models import FulfillmentOrder, RoutingDecision
from inventory.services import stock_incoming_expect
from orders.models import Order
from tests.factories import CustomerFactory
from tests.fulfillment.promise_support import (
    HOME,
    NOW,
    client_for,
    network,
    options_of,
    paris,
    warehouse,
)
from tests.inventory.test_selectors import put_stock

pytestmark = pytest.mark.django_db

URL = "/api/v1/delivery-options"


def post(client: APIClient, lines: list[dict[str, Any]], destination: dict[str, Any]) -> Any:
    return client.post(URL, {"lines": lines, "destination": destination}, format="json")


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    return network()


def shirts(quantity: int = 1) -> list[dict[str, Any]]:
    return [{"sku": "SHIRT", "quantity": quantity}]


@time_machine.travel(NOW, tick=False)
def test_home_options_with_prices_dates_and_countdowns(world) -> None:  # type: ignore[no-untyped-def]
    options = options_of(post(client_for(world["web"]), shirts(), HOME))
    assert list(options) == ["home_standard", "home_express", "same_day"]
    # Prepared 10:15, leaves at Tuesday's 17:00 pickup, one delivery day later (local zone).
    # The parcel (300 x 200 x 50 mm, 600 g volumetric) is in the 1 kg band.
    assert options["home_standard"] == {
        "mode": "home_standard",
        "availability": "available",
        "is_available": True,
        "reason": None,
        "detail": "",
        "location": "wh-paris",
        "carrier": "omnilog-rates",
        "service": "standard",
        "price": "5.50",
        "currency": "EUR",
        "earliest_delivery": paris(25, 18),
        "ready_by": None,
        "promised_at": paris(25, 18),
        "promised_date": "2026-11-25",
        "dispatch_at": paris(24, 17),
        "cutoff_at": paris(24, 16, 45),
        "cutoff_seconds": 6 * 3600 + 45 * 60,
    }
    express = options["home_express"]
    assert (express["price"], express["earliest_delivery"], express["cutoff_seconds"]) == (
        "10.90",
        paris(25, 18),
        24300,
    )
    same_day = options["same_day"]
    assert (same_day["price"], same_day["earliest_delivery"], same_day["cutoff_at"]) == (
        "9.90",
        paris(24, 21),
        paris(24, 13, 45),
    )
    assert same_day["cutoff_seconds"] == 3 * 3600 + 45 * 60


@time_machine.travel(paris(24, 17, 30), tick=False)
def test_after_the_cutoff_the_promise_moves_a_day_and_same_day_closes(world) -> None:  # type: ignore[no-untyped-def]
    options = options_of(post(client_for(world["web"]), shirts(), HOME))
    standard = options["home_standard"]
    assert (standard["dispatch_at"], standard["earliest_delivery"]) == (
        paris(25, 17),
        paris(26, 18),
    )
    assert (standard["cutoff_at"], standard["cutoff_seconds"]) == (
        paris(25, 16, 45),
        23 * 3600 + 15 * 60,
    )
    same_day = options["same_day"]
    assert (same_day["availability"], same_day["reason"], same_day["price"]) == (
        "unavailable",
        "same_day_cutoff_passed",
        None,
    )


@time_machine.travel(NOW, tick=False)
def test_store_destination_click_and_collect_and_ship_to_store(world) -> None:  # type: ignore[no-untyped-def]
    options = options_of(
        post(client_for(world["web"]), shirts(), {"type": "store", "store": "st-opera"})
    )
    assert list(options) == ["click_and_collect", "ship_to_store"]
    collect = options["click_and_collect"]
    # In stock at the store: 5 + 5 minutes after 10:00; order before 18:50 to collect today.
    assert (collect["location"], collect["price"], collect["ready_by"]) == (
        "st-opera",
        "0.00",
        paris(24, 10, 10),
    )
    assert (collect["cutoff_at"], collect["cutoff_seconds"]) == (paris(24, 18, 50), 31800)
    ship = options["ship_to_store"]
    # From the warehouse: Tuesday's pickup, dropped Wednesday 10:00, booked in 15 minutes.
    assert (ship["location"], ship["price"], ship["earliest_delivery"], ship["ready_by"]) == (
        "wh-paris",
        "5.50",
        paris(25, 10),
        paris(25, 10, 15),
    )


@time_machine.travel(NOW, tick=False)
def test_a_closed_store_is_ready_when_it_opens(world) -> None:  # type: ignore[no-untyped-def]
    store = world["store"]
    store.closed_days = ["2026-11-24"]
    store.save(update_fields=["closed_days"])
    options = options_of(
        post(client_for(world["web"]), shirts(), {"type": "store", "store": "st-opera"})
    )
    collect = options["click_and_collect"]
    assert (collect["ready_by"], collect["cutoff_at"]) == (paris(25, 10, 10), paris(25, 18, 50))
    assert collect["cutoff_seconds"] == 24 * 3600 + 8 * 3600 + 50 * 60


@time_machine.travel(NOW, tick=False)
def test_incoming_stock_promises_from_its_date(world) -> None:  # type: ignore[no-untyped-def]
    shirt, wh = world["shirt"], world["wh"]
    stock_incoming_expect(
        product_id=shirt.id, location_id=wh.id, quantity_delta=20, expected_date=date(2026, 11, 26)
    )
    options = options_of(post(client_for(world["web"]), shirts(15), HOME))
    standard = options["home_standard"]
    # 10 on hand, 20 arrive Thursday: prepared Thursday 08:15, Thursday's pickup, Friday home.
    assert (standard["availability"], standard["dispatch_at"], standard["earliest_delivery"]) == (
        "available_later",
        paris(26, 17),
        paris(27, 18),
    )


@time_machine.travel(NOW, tick=False)
def test_capacity_exhausted_today_moves_preparation_to_tomorrow(world) -> None:  # type: ignore[no-untyped-def]
    wh = world["wh"]
    wh.daily_capacity = 1
    wh.save(update_fields=["daily_capacity"])
    order = Order.objects.create(
        number="OM-T-1",
        channel=world["web"],
        customer=CustomerFactory(),
        currency="EUR",
        subtotal=0,
        grand_total=0,
        delivery_mode="home_standard",
        placed_at=timezone.now(),
    )
    decision = RoutingDecision.objects.create(
        order=order, order_version=1, trigger="placed", outcome="routed"
    )
    FulfillmentOrder.objects.create(
        order=order,
        location=wh,
        routing_decision=decision,
        delivery_mode="home_standard",
        accept_by=timezone.now() + timedelta(hours=1),
    )
    standard = options_of(post(client_for(world["web"]), shirts(), HOME))["home_standard"]
    assert (standard["dispatch_at"], standard["earliest_delivery"]) == (
        paris(25, 17),
        paris(26, 18),
    )


@time_machine.travel(NOW, tick=False)
def test_relay_point(world) -> None:  # type: ignore[no-untyped-def]
    destination = {"type": "relay_point", "carrier": "omnilog-rates", "point_id": "PAR-001"}
    options = options_of(post(client_for(world["web"]), shirts(), destination))
    relay = options["relay_point"]
    # Tuesday's pickup, three relay delivery days (Wed, Thu, Fri), dropped 12:00, shop open.
    assert (relay["location"], relay["service"], relay["price"]) == ("wh-paris", "relay", "4.40")
    assert (relay["earliest_delivery"], relay["ready_by"], relay["cutoff_seconds"]) == (
        paris(27, 12),
        paris(27, 12),
        24300,
    )


@time_machine.travel(NOW, tick=False)
def test_another_channels_locations_are_not_used(world) -> None:  # type: ignore[no-untyped-def]
    # The web channel's warehouse holds 10; the b2b depot's 50 are not the web's.
    options = options_of(post(client_for(world["web"]), shirts(30), HOME))
    assert options["home_standard"]["reason"] == "out_of_stock"
    b2b = options_of(post(client_for(world["b2b"]), shirts(30), HOME))["home_standard"]
    assert (b2b["availability"], b2b["location"]) == ("available", "wh-b2b")
    store = post(client_for(world["b2b"]), shirts(), {"type": "store", "store": "st-opera"})
    assert store.status_code == 422
    assert store.json()["errors"] == [
        {"field": "destination.store", "code": "unknown_store", "message": "Unknown store."}
    ]


def test_a_key_is_required(world) -> None:  # type: ignore[no-untyped-def]
    response = post(APIClient(), shirts(), HOME)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        ({"lines": [], "destination": HOME}, 400, ["lines"]),
        ({"lines": [{"sku": "SHIRT", "quantity": 0}], "destination": HOME}, 400,
         ["lines.0.quantity"]),
        ({"lines": [{"sku": "SHIRT", "quantity": 1}], "destination": {"type": "home"}}, 400,
         ["destination.latitude", "destination.longitude"]),
        ({"lines": [{"sku": "SHIRT", "quantity": 1}], "destination": {"type": "moon"}}, 400,
         ["destination.type"]),
        ({"lines": [{"sku": "SHIRT", "quantity": 1}], "destination": {"type": "relay_point"}},
         400, ["destination.carrier", "destination.point_id"]),
        ({"lines": [{"sku": "NOPE", "quantity": 1}, {"sku": "SHIRT", "quantity": 1}],
          "destination": HOME}, 422, ["lines.0.sku"]),
        ({"lines": [{"sku": "SHIRT", "quantity": 1}],
          "destination": {"type": "relay_point", "carrier": "omnilog-rates", "point_id": "X"}},
         422, ["destination.point_id"]),
    ],
)  # fmt: skip
def test_validation_problems(world, body, status, fields) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world["web"]).post(URL, body, format="json")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == fields


def _count_queries(world: dict[str, Any], locations: int, settings: Any) -> int:
    for index in range(locations - 1):
        extra = warehouse(f"wh-extra-{locations}-{index}", world["web"], daily_capacity=50)
        put_stock(world["shirt"], extra, 1)
    client = client_for(world["web"])
    with CaptureQueriesContext(connection) as queries:
        options = options_of(post(client, shirts(), HOME))
    assert options["home_standard"]["availability"] == "available"
    return len(queries)


@time_machine.travel(NOW, tick=False)
def test_query_count_does_not_grow_with_locations(world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_KEY_CACHE_SECONDS = 0  # count the key's query too
    world["wh"].daily_capacity = 50
    world["wh"].save(update_fields=["daily_capacity"])
    few = _count_queries(world, 3, settings)
    many = _count_queries(world, 30, settings)
    # Key, products, locations, stock levels, capacity today, carriers.
    assert few == many == 6
