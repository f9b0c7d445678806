"""Reads: one order, the channel's list (filters, paging, query count), tracking API and page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orders.models import Order
from tests.orders.capture_helpers import catalogue_build, order_body, post_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_channels():  # type: ignore[no-untyped-def]
    web = catalogue_build(code="web")
    app = catalogue_build(code="app")
    client = Client()
    for index in range(3):
        response = post_order(
            client,
            web.key,
            order_body(web, external_id=f"W{index}", lines=[{"sku": web.mug.sku, "quantity": 1}]),
            idempotency_key=f"w{index}",
        )
        assert response.status_code == 201, response.content
    response = post_order(
        client,
        app.key,
        order_body(
            app,
            external_id="A0",
            customer={"email": "other@example.com"},
            delivery={"mode": "click_and_collect", "store": app.store.code},
            lines=[{"sku": app.shirt.sku, "quantity": 2}],
        ),
        idempotency_key="a0",
    )
    assert response.status_code == 201, response.content
    return web, app


def get(key: str, path: str, **params: str):  # type: ignore[no-untyped-def]
    return Client().get(path, params, HTTP_X_API_KEY=key)


def test_a_channel_sees_its_order_and_gets_404_for_another_channels(two_channels) -> None:  # type: ignore[no-untyped-def]
    web, app = two_channels
    web_order = Order.objects.get(external_id="W0")
    app_order = Order.objects.get(external_id="A0")
    assert get(web.key, f"/api/v1/orders/{web_order.pk}").json()["external_id"] == "W0"
    for path in (f"/api/v1/orders/{app_order.pk}", f"/api/v1/orders/{app_order.pk}/tracking"):
        response = get(web.key, path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert get(app.key, f"/api/v1/orders/{web_order.pk}").status_code == 404


def test_the_list_shows_only_the_channels_orders_newest_first(two_channels) -> None:  # type: ignore[no-untyped-def]
    web, app = two_channels
    body = get(web.key, "/api/v1/orders/").json()
    assert [order["external_id"] for order in body["results"]] == ["W2", "W1", "W0"]
    assert [o["external_id"] for o in get(app.key, "/api/v1/orders/").json()["results"]] == ["A0"]


def test_the_list_pages_with_a_cursor(two_channels) -> None:  # type: ignore[no-untyped-def]
    web, _ = two_channels
    first = get(web.key, "/api/v1/orders/", page_size="2").json()
    assert [o["external_id"] for o in first["results"]] == ["W2", "W1"]
    second = Client().get(first["next"], HTTP_X_API_KEY=web.key).json()
    assert [o["external_id"] for o in second["results"]] == ["W0"]
    assert second["next"] is None


def test_the_list_filters(two_channels) -> None:  # type: ignore[no-untyped-def]
    web, app = two_channels

    def ids(key: str, **params: str) -> list[str]:
        return [o["external_id"] for o in get(key, "/api/v1/orders/", **params).json()["results"]]

    placed = Order.objects.get(external_id="W1").placed_at.isoformat()
    assert ids(web.key, external_id="W1") == ["W1"]
    assert ids(web.key, status="placed") == ["W2", "W1", "W0"]
    assert ids(web.key, status="shipped") == []
    assert ids(web.key, delivery_mode="click_and_collect") == []
    assert ids(app.key, delivery_mode="click_and_collect") == ["A0"]
    assert ids(web.key, placed_after=placed) == ["W2", "W1"]
    assert ids(web.key, placed_before=placed) == ["W0"]
    assert ids(web.key, customer_email="CAMILLE@example.com") == ["W2", "W1", "W0"]
    assert ids(web.key, customer_email="other@example.com") == []
    bad = get(web.key, "/api/v1/orders/", status="nope")
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["status"]


def test_the_list_query_count_is_constant(two_channels, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_KEY_CACHE_SECONDS = 0  # count the key's query too (else: cached, 0)
    web, _ = two_channels
    with CaptureQueriesContext(connection) as queries:
        response = get(web.key, "/api/v1/orders/")
    assert response.status_code == 200
    # API key, orders (customer + store joined), lines: whatever the page size.
    assert len(queries) == 3


def test_tracking_api_shows_timeline_lines_and_what_exists(two_channels, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_KEY_CACHE_SECONDS = 0  # count the key's query too (else: cached, 0)
    _, app = two_channels
    order = Order.objects.get(external_id="A0")
    with CaptureQueriesContext(connection) as queries:
        response = get(app.key, f"/api/v1/orders/{order.pk}/tracking")
    assert response.status_code == 200
    assert len(queries) == 4  # key, order + store, lines, events
    body = response.json()
    assert {
        k: body[k] for k in ("number", "status", "delivery_mode", "pickup_store", "promised_date")
    } == {
        "number": order.number,
        "status": "placed",
        "delivery_mode": "click_and_collect",
        "pickup_store": "Paris Opéra",
        # Stored at capture by the promise provider (fulfillment.selectors_promise).
        "promised_date": order.promised_date.isoformat() if order.promised_date else None,
    }
    assert [(e["kind"], e["status"], e["message"]) for e in body["timeline"]] == [
        ("placed", "placed", "Placed on App.")
    ]
    assert [(line["sku"], line["quantity"], line["pickup_store"]) for line in body["lines"]] == [
        (app.shirt.sku, 2, "Paris Opéra")
    ]
    assert (body["shipments"], body["pickup_code"]) == ([], None)


def test_the_public_tracking_page(two_channels) -> None:  # type: ignore[no-untyped-def]
    _web, _ = two_channels
    order = Order.objects.get(external_id="W0")
    response = Client().get(f"/track/{order.tracking_token}")
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    # No referrer to other sites; same-origin keeps the curbside form's CSRF Origin check working.
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert f"Order {order.number}" in html
    assert "<strong>Placed</strong>" in html
    assert "Mug <small>(WEB-MUG)</small>" in html
    assert "— Order placed</li>" in html
    assert "Placed on Web." not in html  # event messages are for the back office
    assert order.promised_date is not None  # the promise stored at capture
    assert f"<dt>Promised date</dt><dd>{order.promised_date.day} " in html
    assert "https://" not in html  # no CDN


def test_the_public_page_never_shows_a_hold_reason_or_internal_events(two_channels) -> None:  # type: ignore[no-untyped-def]
    from orders.services.lifecycle import order_hold, order_release

    web, _ = two_channels
    order = Order.objects.get(external_id="W0")
    order_hold(order_id=order.pk, reason="Suspected fraud", actor="anna", source="admin")
    order_release(order_id=order.pk, actor="anna", source="admin")
    html = Client().get(f"/track/{order.tracking_token}").content.decode()
    timeline = html[html.index('<ol class="timeline">') :]
    assert "Suspected fraud" not in html
    assert "hold" not in timeline.lower()
    assert timeline.count("<li>") == 1  # placed; hold and release are internal
    # The channel's own API keeps the full timeline (its back office needs it).
    api = get(web.key, f"/api/v1/orders/{order.pk}/tracking").json()
    assert [event["kind"] for event in api["timeline"]] == ["placed", "held", "released"]
    assert "Suspected fraud" in api["timeline"][1]["message"]


def test_every_channel_key_endpoint_is_rate_limited_per_channel(two_channels, settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    web, app = two_channels
    cache.clear()
    settings.CHANNEL_RATE_LIMIT = "2/min"
    path = f"/api/v1/availability?sku={web.mug.sku}"
    assert get(web.key, path).status_code == 200
    assert get(web.key, path).status_code == 200
    limited = get(web.key, path)
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
    assert limited["Content-Type"] == "application/problem+json"
    assert 1 <= int(limited["Retry-After"]) <= 61
    assert get(app.key, f"/api/v1/availability?sku={app.mug.sku}").status_code == 200
    assert get(web.key, "/api/v1/orders/").status_code == 200  # the orders' own budget
    cache.clear()


def test_a_wrong_token_is_the_html_404_page(two_channels) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/track/not-a-token")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Page not found" in response.content.decode()


def test_the_rate_limit_is_per_channel_429_with_retry_after(two_channels, settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    web, app = two_channels
    cache.clear()
    settings.ORDER_RATE_LIMIT = "2/min"
    assert get(web.key, "/api/v1/orders/").status_code == 200
    assert get(web.key, "/api/v1/orders/").status_code == 200
    limited = get(web.key, "/api/v1/orders/")
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 61
    assert get(app.key, "/api/v1/orders/").status_code == 200  # another channel's budget
    cache.clear()
