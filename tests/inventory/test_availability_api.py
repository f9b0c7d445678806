"""Availability API: exact figures, channel scoping, validation problems, query counts."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inventory.services import stock_incoming_expect
from tests.core.helpers import problem_of
from tests.factories import (
    ChannelStockRuleFactory,
    LocationFactory,
    ProductFactory,
    SalesChannelFactory,
    StoreFactory,
    channel_api_key,
)
from tests.inventory.test_selectors import put_stock

pytestmark = pytest.mark.django_db


def client_for(channel) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=channel_api_key(channel))
    return client


@pytest.fixture
def shop(db):  # type: ignore[no-untyped-def]
    web = SalesChannelFactory(code="web", buffer_units=1, buffer_percent=10)
    b2b = SalesChannelFactory(code="b2b", kind="b2b", last_unit_threshold=5)
    warehouse = LocationFactory(code="wh-paris", channels=[web])
    paris = StoreFactory(
        code="st-paris",
        name="Paris Louvre",
        channels=[web],
        postcode="75001",
        latitude=48.8606,
        longitude=2.3376,
    )
    lyon = StoreFactory(
        code="st-lyon",
        name="Lyon Presqu'ile",
        channels=[web],
        postcode="69002",
        city="Lyon",
        latitude=45.7578,
        longitude=4.8320,
    )
    b2b_depot = LocationFactory(code="wh-b2b", channels=[b2b])
    shirt = ProductFactory(sku="SHIRT", name="Shirt", category="apparel")
    shoes = ProductFactory(sku="SHOES", name="Shoes", category="shoes", is_backorderable=True)
    put_stock(shirt, warehouse, 20, reserved=3, damaged=1, qc=1, safety=2)  # ATP 13
    put_stock(shirt, paris, 5)
    put_stock(shirt, lyon, 8)
    put_stock(shirt, b2b_depot, 4)
    put_stock(shoes, warehouse, 4)
    ChannelStockRuleFactory(channel=web, category="shoes", buffer_units=2, buffer_percent=0)
    return {"web": web, "b2b": b2b, "shirt": shirt, "paris": paris, "lyon": lyon}


# --- GET /availability ---------------------------------------------------------------------


def test_channel_availability_for_several_skus(shop) -> None:  # type: ignore[no-untyped-def]
    response = client_for(shop["web"]).get("/api/v1/availability?sku=SHIRT&sku=SHOES,NOPE")
    assert response.status_code == 200
    assert response.json() == {
        "channel": "web",
        "results": [
            {
                "sku": "SHIRT",
                "name": "Shirt",
                "atp": 22,  # network 26 - (1 + ceil(2.6))
                "is_available": True,
                "locations_in_stock": 3,
                "is_backorderable": False,
                "preorder_date": None,
            },
            {
                "sku": "SHOES",
                "name": "Shoes",
                "atp": 2,  # category rule: 4 - 2
                "is_available": True,
                "locations_in_stock": 1,
                "is_backorderable": True,
                "preorder_date": None,
            },
        ],
        "unknown_skus": ["NOPE"],
    }


def test_another_channel_sees_only_its_locations_and_policy(shop) -> None:  # type: ignore[no-untyped-def]
    response = client_for(shop["b2b"]).get("/api/v1/availability?sku=SHIRT&sku=SHOES")
    results = [(row["sku"], row["atp"]) for row in response.json()["results"]]
    assert results == [("SHIRT", 0), ("SHOES", 0)]  # 4 units < last-unit threshold 5


def test_more_than_100_skus_is_a_field_problem(shop) -> None:  # type: ignore[no-untyped-def]
    query = "&".join(f"sku=S{n}" for n in range(101))
    document = problem_of(
        client_for(shop["web"]).get(f"/api/v1/availability?{query}"), 400, "validation_failed"
    )
    assert document["errors"] == [
        {
            "field": "sku",
            "code": "max_length",
            "message": "Ensure this field has no more than 100 elements.",
        }
    ]


def test_no_sku_is_a_field_problem(shop) -> None:  # type: ignore[no-untyped-def]
    document = problem_of(
        client_for(shop["web"]).get("/api/v1/availability?sku="), 400, "validation_failed"
    )
    assert document["errors"] == [
        {"field": "sku", "code": "min_length", "message": "Give at least one SKU."}
    ]


# --- GET /availability/{sku}/locations -----------------------------------------------------


def test_locations_of_a_product_for_the_channel(shop) -> None:  # type: ignore[no-untyped-def]
    response = client_for(shop["web"]).get("/api/v1/availability/SHIRT/locations?kind=store")
    assert response.status_code == 200
    body = response.json()
    assert (body["next"], body["previous"]) == (None, None)
    assert body["results"] == [
        {
            "code": "st-lyon",
            "name": "Lyon Presqu'ile",
            "kind": "store",
            "address_line": "",
            "postcode": "69002",
            "city": "Lyon",
            "country": "FR",
            "latitude": 45.7578,
            "longitude": 4.832,
            "is_click_and_collect": True,
            "is_ship_from_store": False,
            "atp": 8,
            "is_available": True,
        },
        {
            "code": "st-paris",
            "name": "Paris Louvre",
            "kind": "store",
            "address_line": "",
            "postcode": "75001",
            "city": "Paris",
            "country": "FR",
            "latitude": 48.8606,
            "longitude": 2.3376,
            "is_click_and_collect": True,
            "is_ship_from_store": False,
            "atp": 5,
            "is_available": True,
        },
    ]


def test_a_key_never_sees_another_channels_locations(shop) -> None:  # type: ignore[no-untyped-def]
    web = client_for(shop["web"]).get("/api/v1/availability/SHIRT/locations")
    b2b = client_for(shop["b2b"]).get("/api/v1/availability/SHIRT/locations")
    assert [row["code"] for row in web.json()["results"]] == ["st-lyon", "st-paris", "wh-paris"]
    assert [(row["code"], row["atp"]) for row in b2b.json()["results"]] == [("wh-b2b", 4)]


def test_locations_are_cursor_paginated(shop) -> None:  # type: ignore[no-untyped-def]
    client = client_for(shop["web"])
    first = client.get("/api/v1/availability/SHIRT/locations?page_size=2").json()
    assert [row["code"] for row in first["results"]] == ["st-lyon", "st-paris"]
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [row["code"] for row in second["results"]] == ["wh-paris"]
    assert second["next"] is None


def test_location_filters_are_validated(shop) -> None:  # type: ignore[no-untyped-def]
    client = client_for(shop["web"])
    document = problem_of(
        client.get("/api/v1/availability/SHIRT/locations?kind=castle"), 400, "validation_failed"
    )
    assert [(e["field"], e["code"]) for e in document["errors"]] == [("kind", "invalid_choice")]
    in_stock = client.get("/api/v1/availability/SHIRT/locations?in_stock=false").json()
    assert in_stock["results"] == []


def test_unknown_sku_is_404(shop) -> None:  # type: ignore[no-untyped-def]
    client = client_for(shop["web"])
    for suffix in ("locations", "nearby?lat=48.8&lon=2.3", "future"):
        document = problem_of(
            client.get(f"/api/v1/availability/NOPE/{suffix}"), 404, "product_not_found"
        )
        assert document["detail"] == "No product with SKU 'NOPE'."


# --- GET /availability/{sku}/nearby --------------------------------------------------------


def test_nearby_stores_by_coordinates(shop) -> None:  # type: ignore[no-untyped-def]
    response = client_for(shop["web"]).get(
        "/api/v1/availability/SHIRT/nearby?lat=48.8611&lon=2.3364&radius_km=500"
    )
    body = response.json()
    assert body["origin"] == {"latitude": 48.8611, "longitude": 2.3364, "precision": "coordinates"}
    assert [(r["code"], r["atp"], r["distance_km"]) for r in body["results"]] == [
        ("st-paris", 5, 0.1),
        ("st-lyon", 8, 392.98),
    ]


def test_nearby_stores_by_postcode_and_by_city(shop) -> None:  # type: ignore[no-untyped-def]
    client = client_for(shop["web"])
    by_postcode = client.get("/api/v1/availability/SHIRT/nearby?postcode=69002&radius_km=10")
    assert by_postcode.json()["origin"] == {
        "latitude": 45.7578,
        "longitude": 4.832,
        "precision": "postcode",
    }
    assert [(r["code"], r["distance_km"]) for r in by_postcode.json()["results"]] == [
        ("st-lyon", 0.0)
    ]
    by_city = client.get("/api/v1/availability/SHIRT/nearby?city=Lyon&limit=1")
    assert by_city.json()["origin"]["precision"] == "city"
    assert [r["code"] for r in by_city.json()["results"]] == ["st-lyon"]


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("", "lat", "required"),
        ("lat=48.8", "lon", "required"),
        ("lat=91&lon=2", "lat", "max_value"),
        ("lat=48&lon=2&limit=51", "limit", "max_value"),
        ("lat=48&lon=2&radius_km=0", "radius_km", "min_value"),
        ("lat=north&lon=2", "lat", "invalid"),
    ],
)
def test_nearby_input_problems(shop, query, field, code) -> None:  # type: ignore[no-untyped-def]
    response = client_for(shop["web"]).get(f"/api/v1/availability/SHIRT/nearby?{query}")
    document = problem_of(response, 400, "validation_failed")
    assert [(e["field"], e["code"]) for e in document["errors"]] == [(field, code)]


def test_an_unknown_postcode_asks_for_coordinates(shop) -> None:  # type: ignore[no-untyped-def]
    response = client_for(shop["web"]).get("/api/v1/availability/SHIRT/nearby?postcode=99999")
    document = problem_of(response, 400, "location_unknown")
    assert document["detail"] == "This postcode cannot be located; send lat and lon instead."
    assert document["errors"] == [
        {"field": "postcode", "code": "unknown", "message": "Unknown postcode."}
    ]


# --- GET /availability/{sku}/future --------------------------------------------------------


def test_future_availability(shop) -> None:  # type: ignore[no-untyped-def]
    stock_incoming_expect(
        product_id=shop["shirt"].id,
        location_id=shop["paris"].id,
        quantity_delta=10,
        expected_date=date(2031, 5, 2),
    )
    response = client_for(shop["web"]).get("/api/v1/availability/SHIRT/future")
    assert response.json() == {
        "sku": "SHIRT",
        "atp": 22,
        "in_transit": 0,
        "incoming": 10,
        "pending": [
            {
                "location_code": "st-paris",
                "location_name": "Paris Louvre",
                "location_kind": "store",
                "in_transit": 0,
                "incoming": 10,
                "incoming_expected_date": "2031-05-02",
            }
        ],
        "schedule": [{"date": "2031-05-02", "quantity": 10, "atp": 31}],  # 36 - (1 + ceil(3.6))
    }


# --- query counts --------------------------------------------------------------------------


def _queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def test_list_call_query_count_does_not_grow_with_skus_or_locations(shop, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_KEY_CACHE_SECONDS = 0  # count the key's query on every call (else: cached)
    web = shop["web"]
    client = client_for(web)
    small = _queries(client, "/api/v1/availability?sku=SHIRT")
    stores = [StoreFactory(channels=[web]) for _ in range(10)]
    products = [ProductFactory(sku=f"BULK-{n:02d}") for n in range(50)]
    for product in products[:5]:
        for store in stores[:3]:
            put_stock(product, store, 2)
        ChannelStockRuleFactory(channel=web, product=product, buffer_units=1)
    query = "&".join(f"sku={product.sku}" for product in products)
    # key + aggregate + channel + rules, whatever the number of SKUs or locations
    assert small == 4
    assert _queries(client, f"/api/v1/availability?{query}") == 4
    body = client.get(f"/api/v1/availability?{query}").json()
    assert [row["atp"] for row in body["results"][:6]] == [5, 5, 5, 5, 5, 0]  # 6 - 1 (product rule)


def test_product_page_query_counts_are_constant(shop, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_KEY_CACHE_SECONDS = 0  # count the key's query on every call (else: cached)
    web = shop["web"]
    client = client_for(web)
    urls = [
        "/api/v1/availability/SHIRT/locations",
        "/api/v1/availability/SHIRT/nearby?lat=48.86&lon=2.33&radius_km=500",
        "/api/v1/availability/SHIRT/future",
    ]
    before = [_queries(client, url) for url in urls]
    for n in range(30):
        store = StoreFactory(channels=[web], latitude=48.0 + n / 100, longitude=2.0)
        put_stock(shop["shirt"], store, 1)
    after = [_queries(client, url) for url in urls]
    # key + product + page | key + product + stores | key + product + levels + channel + rules
    assert before == after == [3, 3, 5]


def test_the_schema_documents_the_endpoints() -> None:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    for path in (
        "/api/v1/availability",
        "/api/v1/availability/{sku}/locations",
        "/api/v1/availability/{sku}/nearby",
        "/api/v1/availability/{sku}/future",
    ):
        assert schema["paths"][path]["get"]["security"] == [{"channelApiKey": []}]
    assert schema["components"]["securitySchemes"]["channelApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": "A channel API key (shown once, when created in the admin).",
    }
