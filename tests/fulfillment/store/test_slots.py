"""Pickup slots: offered by POST /delivery-options, booked by order capture (refusals change
nothing), capacity held under concurrent captures."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_app.models import Customer
from fulfillment.models_store import StorePolicy
from inventory.models import Reservation, StockMovement
from inventory.services import stock_receive
from omnilog.core.errors import ValidationFailed
from orders.models import Order
from orders.services.capture import order_place
from orders.services.inputs import CustomerInput, DeliveryInput, LineInput, OrderInput
from tests.factories import channel_api_key
from tests.fulfillment.store.support import store_world

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)  # Tuesday; opera opens 09:00-19:00 Mon-Sat


def paris(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=PARIS)


@pytest.fixture
def world() -> dict[str, Any]:
    return store_world()


def options(world: dict[str, Any], store: str = "st-opera") -> Any:
    response = Client().post(
        "/api/v1/delivery-options",
        data=json.dumps(
            {
                "lines": [{"sku": "SHIRT", "quantity": 1}],
                "destination": {"type": "store", "store": store},
            }
        ),
        content_type="application/json",
        headers={"X-Api-Key": channel_api_key(world["web"])},
    )
    assert response.status_code == 200, response.content
    return response.json()


def order_input(
    world: dict[str, Any],
    start: datetime | None,
    end: datetime | None = None,
    email: str = "a@example.com",
) -> OrderInput:
    return OrderInput(
        customer=CustomerInput(email=email, first_name="Camille", last_name="Martin"),
        lines=(LineInput(sku="SHIRT", quantity=1),),
        delivery=DeliveryInput(
            mode="click_and_collect",
            store_code=world["opera"].code,
            pickup_slot_start=start,
            pickup_slot_end=end,
        ),
        payment_status="authorised",
    )


def book(world: dict[str, Any], start: datetime, **kwargs: Any) -> Order:
    return order_place(
        channel_id=world["web"].id, data=order_input(world, start, **kwargs), actor="t"
    )


@time_machine.travel(NOW, tick=False)
def test_delivery_options_list_the_store_slots_with_places_left(world) -> None:  # type: ignore[no-untyped-def]
    StorePolicy.objects.create(location=world["opera"], slot_capacity=2, slot_days_ahead=1)
    book(world, paris(24, 13))
    book(world, paris(24, 13), email="b@example.com")
    book(world, paris(24, 14), email="c@example.com")

    data = options(world)

    slots = [
        (datetime.fromisoformat(s["start"]).astimezone(PARIS).hour, s["remaining"], s["capacity"])
        for s in data["pickup_slots"]
    ]
    # Ready at 12:00 (120 minutes of preparation from 10:00); the 18:00 slot ends at closing.
    assert slots[:7] == [
        (12, 2, 2),
        (13, 0, 2),
        (14, 1, 2),
        (15, 2, 2),
        (16, 2, 2),
        (17, 2, 2),
        (18, 2, 2),
    ]
    assert [hour for hour, _, _ in slots[7:]] == list(range(9, 19))  # Wednesday, the last day
    first = data["pickup_slots"][0]
    assert datetime.fromisoformat(first["end"]) - datetime.fromisoformat(
        first["start"]
    ) == timedelta(hours=1)


@time_machine.travel(NOW, tick=False)
def test_home_destination_and_non_collect_store_list_no_slots(world) -> None:  # type: ignore[no-untyped-def]
    world["bastille"].is_click_and_collect = False
    world["bastille"].save(update_fields=["is_click_and_collect"])
    assert options(world, "st-bastille")["pickup_slots"] == []


@time_machine.travel(NOW, tick=False)
def test_store_options_take_a_constant_number_of_queries(world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_KEY_CACHE_SECONDS = 0
    options(world)
    with CaptureQueriesContext(connection) as few:
        options(world)
    for index in range(5):
        book(world, paris(24, 12 + index), email=f"x{index}@example.com")
    with CaptureQueriesContext(connection) as more:
        options(world)
    assert len(few) == len(more) <= 10


@time_machine.travel(NOW, tick=False)
def test_capture_books_an_offered_slot_and_derives_its_end(world) -> None:  # type: ignore[no-untyped-def]
    order = book(world, paris(24, 15))
    assert (order.pickup_slot_start, order.pickup_slot_end) == (paris(24, 15), paris(24, 16))
    # The policy row was created (defaults) to serialise bookings of the store.
    assert StorePolicy.objects.filter(location=world["opera"]).exists()
    same = book(world, paris(24, 16), end=paris(24, 17), email="b@example.com")
    assert same.pickup_slot_end == paris(24, 17)


def _nothing_written(before: dict[str, int]) -> None:
    assert {
        "orders": Order.objects.count(),
        "reservations": Reservation.objects.count(),
        "movements": StockMovement.objects.count(),
        "customers": Customer.objects.count(),
    } == before


def _counts() -> dict[str, int]:
    return {
        "orders": Order.objects.count(),
        "reservations": Reservation.objects.count(),
        "movements": StockMovement.objects.count(),
        "customers": Customer.objects.count(),
    }


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (paris(24, 11), None, "slot_not_offered"),  # before preparation ends
        (paris(24, 19), None, "slot_not_offered"),  # after closing
        (paris(24, 15) + timedelta(minutes=30), None, "slot_not_offered"),  # not a slot start
        (paris(24, 15), paris(24, 17), "slot_not_offered"),  # wrong end
        (paris(29, 12), None, "slot_not_offered"),  # Sunday, and past the horizon
    ],
)
def test_capture_refuses_a_slot_not_offered_and_writes_nothing(world, start, end, code) -> None:  # type: ignore[no-untyped-def]
    before = _counts()
    with pytest.raises(ValidationFailed) as refused:
        book(world, start, end=end, email="new@example.com")
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("delivery.pickup_slot.start", code)
    ]
    _nothing_written(before)
    assert not StorePolicy.objects.exists()  # its creation rolled back with the order


@time_machine.travel(NOW, tick=False)
def test_api_refuses_a_full_slot_with_a_problem_and_field_path(world) -> None:  # type: ignore[no-untyped-def]
    StorePolicy.objects.create(location=world["opera"], slot_capacity=1)
    book(world, paris(24, 15))
    before = _counts()
    body: dict[str, Any] = {
        "customer": {"email": "late@example.com"},
        "payment_status": "authorised",
        "delivery": {
            "mode": "click_and_collect",
            "store": "st-opera",
            "pickup_slot": {"start": paris(24, 15).isoformat()},
        },
        "lines": [{"sku": "SHIRT", "quantity": 1}],
    }
    response = Client().post(
        "/api/v1/orders/",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-Api-Key": channel_api_key(world["web"]), "Idempotency-Key": "full-1"},
    )
    assert response.status_code == 422, response.content
    problem = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("delivery.pickup_slot.start", "slot_full")
    ]
    _nothing_written(before)
    # The next slot is fine, through the API too (end optional).
    body["delivery"]["pickup_slot"] = {"start": paris(24, 16).isoformat()}
    response = Client().post(
        "/api/v1/orders/",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-Api-Key": channel_api_key(world["web"]), "Idempotency-Key": "full-2"},
    )
    assert response.status_code == 201, response.content
    placed = Order.objects.get(number=response.json()["number"])
    assert (placed.pickup_slot_start, placed.pickup_slot_end) == (paris(24, 16), paris(24, 17))


@time_machine.travel(NOW, tick=False)
def test_a_cancelled_order_gives_its_place_back(world) -> None:  # type: ignore[no-untyped-def]
    from orders.services.cancel import order_cancel

    StorePolicy.objects.create(location=world["opera"], slot_capacity=1)
    first = book(world, paris(24, 15))
    with pytest.raises(ValidationFailed):
        book(world, paris(24, 15), email="b@example.com")
    order_cancel(order_id=first.pk, reason="changed mind", actor="t")
    assert book(world, paris(24, 15), email="b@example.com").pickup_slot_start == paris(24, 15)


def test_an_end_without_start_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        book(world, None, end=timezone.now())  # type: ignore[arg-type]
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("delivery.pickup_slot.start", "required")
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_book_exactly_the_places_left(world) -> None:  # type: ignore[no-untyped-def]
    """N + k clients race for the last N places of a slot: exactly N orders, k refusals."""
    places, extra = 3, 4
    StorePolicy.objects.create(location=world["opera"], slot_capacity=places + 2)
    stock_receive(product_id=world["SHIRT"].id, location_id=world["opera"].id, quantity=20)
    start = (timezone.now() + timedelta(days=1)).astimezone(PARIS)
    start = start.replace(hour=12, minute=0, second=0, microsecond=0)
    if start.weekday() == 6:  # the store is closed on Sundays
        start += timedelta(days=1)
    book(world, start, email="early1@example.com")
    book(world, start, email="early2@example.com")
    barrier = threading.Barrier(places + extra)
    outcomes: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        try:
            barrier.wait()
            book(world, start, email=f"racer{index}@example.com")
            outcome = "booked"
        except ValidationFailed as error:
            outcome = error.field_errors[0].code
        except Exception as error:  # pragma: no cover - reported by the assertion below
            outcome = repr(error)
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=client, args=(index,)) for index in range(places + extra)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["booked"] * places + ["slot_full"] * extra
    assert Order.objects.filter(pickup_slot_start=start).count() == places + 2


@time_machine.travel(NOW, tick=False)
def test_a_mixed_baskets_click_and_collect_group_takes_a_place(world) -> None:  # type: ignore[no-untyped-def]
    from orders.services.inputs import AddressInput, DeliveryGroupInput

    StorePolicy.objects.create(location=world["opera"], slot_capacity=1)
    world["opera"].is_ship_from_store = world["opera"].ships_parcels = True
    world["opera"].save(update_fields=["is_ship_from_store", "ships_parcels"])
    mixed = order_place(
        channel_id=world["web"].id,
        data=OrderInput(
            customer=CustomerInput(email="mixed@example.com"),
            lines=(
                LineInput(sku="SHIRT", quantity=1, delivery_group="store"),
                LineInput(sku="CAP", quantity=1),
            ),
            delivery=DeliveryInput(
                mode="home_standard",
                address=AddressInput(line1="1 rue de Rivoli", postcode="75001", city="Paris"),
            ),
            delivery_groups=(
                DeliveryGroupInput(
                    key="store",
                    delivery=DeliveryInput(
                        mode="click_and_collect",
                        store_code="st-opera",
                        pickup_slot_start=paris(24, 15),
                    ),
                ),
            ),
            payment_status="authorised",
        ),
        actor="t",
    )
    assert datetime.fromisoformat(mixed.delivery_groups[0]["pickup_slot_end"]) == paris(24, 16)
    slots = {
        datetime.fromisoformat(s["start"]): s["remaining"] for s in options(world)["pickup_slots"]
    }
    assert slots[paris(24, 15)] == 0
    with pytest.raises(ValidationFailed) as refused:
        book(world, paris(24, 15), email="b@example.com")
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("delivery.pickup_slot.start", "slot_full")
    ]
