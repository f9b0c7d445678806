"""Curbside check-in on the public tracking page: "I'm here" with a bay and a note."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fulfillment.models_store import StorePolicy
from omnilog.core.errors import Conflict, NotFound, ValidationFailed
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent
from orders.services.curbside import order_curbside_arrive
from tests.fulfillment.store.pickup_ready_support import ready_pickup
from tests.fulfillment.store.support import place_pickup, store_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    return store_world()


def page(order: Order) -> str:
    return f"/track/{order.tracking_token}"


def curbside_events(order: Order) -> list[tuple[str, dict[str, Any]]]:
    return [
        (event.message, {k: event.details[k] for k in ("bay", "note", "is_repeat")})
        for event in OrderEvent.objects.filter(order=order, kind="pickup", source="tracking page")
    ]


def outbox(order: Order) -> list[int]:
    return list(
        OutboxEvent.objects.filter(
            topic="order.curbside_arrived", aggregate_id=order.pk
        ).values_list("payload__bay", flat=True)
    )


def test_a_ready_order_shows_the_form_and_checks_in(world) -> None:  # type: ignore[no-untyped-def]
    StorePolicy.objects.create(location=world["opera"], curbside_bays=3)
    order, _ = ready_pickup(world, {"SHIRT": 1})
    client = Client(enforce_csrf_checks=True)
    shown = client.get(page(order))
    html = shown.content.decode()
    assert "I&#x27;m here" in html or "I'm here" in html
    assert html.count("<option value=") == 3
    token = shown.cookies["csrftoken"].value

    response = client.post(
        f"{page(order)}/here",
        {"bay": "2", "note": " red van ", "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 303
    assert response["Location"] == f"{page(order)}#curbside"
    order.refresh_from_db()
    assert (order.curbside_bay, order.curbside_note) == (2, "red van")
    assert order.curbside_arrived_at is not None
    assert curbside_events(order) == [
        ("Customer arrived at curbside bay 2", {"bay": 2, "note": "red van", "is_repeat": False})
    ]
    assert outbox(order) == [2]
    again = client.get(page(order)).content.decode()
    assert "we know you are here: bay 2 (red van)" in again


def test_repeats_update_the_bay_and_identical_repeats_change_nothing(world) -> None:  # type: ignore[no-untyped-def]
    order, _ = ready_pickup(world, {"SHIRT": 1})
    first = order_curbside_arrive(tracking_token=order.tracking_token, bay=1, note="")
    arrived = first.curbside_arrived_at
    order_curbside_arrive(tracking_token=order.tracking_token, bay=1, note="")
    moved = order_curbside_arrive(tracking_token=order.tracking_token, bay=4, note="blue")
    assert (moved.curbside_bay, moved.curbside_note, moved.curbside_arrived_at) == (
        4,
        "blue",
        arrived,
    )
    assert [message for message, _ in curbside_events(order)] == [
        "Customer arrived at curbside bay 1",
        "Customer moved to curbside bay 4",
    ]
    assert outbox(order) == [1, 4]


def _unchanged(order: Order) -> None:
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.curbside_arrived_at, fresh.curbside_bay, fresh.curbside_note) == (None, None, "")
    assert curbside_events(order) == []
    assert outbox(order) == []


@pytest.mark.parametrize(
    ("bay", "note", "field"),
    [
        ("0", "", "bay"),
        ("5", "", "bay"),
        ("x", "", "bay"),
        ("", "", "bay"),
        ("99999", "", "bay"),
        ("1", "n" * 201, "note"),
    ],
)
def test_bad_bays_and_notes_are_refused_on_the_page(world, bay, note, field) -> None:  # type: ignore[no-untyped-def]
    order, _ = ready_pickup(world, {"SHIRT": 1})  # default policy: 4 bays
    response = Client().post(f"{page(order)}/here", {"bay": bay, "note": note})
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="curbside-{field}-error"' in html
    assert 'role="alert"' in html
    _unchanged(order)


def test_an_order_not_ready_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    order = place_pickup(world, {"SHIRT": 1})
    assert "curbside-bay" not in Client().get(page(order)).content.decode()
    response = Client().post(f"{page(order)}/here", {"bay": "1"})
    assert response.status_code == 409
    assert "not ready for pickup yet" in response.content.decode()
    _unchanged(order)
    with pytest.raises(Conflict) as refused:
        order_curbside_arrive(tracking_token=order.tracking_token, bay=1)
    assert refused.value.code == "curbside_not_allowed"


def test_a_home_delivery_order_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    order, _ = ready_pickup(world, {"SHIRT": 1})
    Order.objects.filter(pk=order.pk).update(delivery_mode="home_standard")
    with pytest.raises(Conflict, match="click-and-collect"):
        order_curbside_arrive(tracking_token=order.tracking_token, bay=1)
    _unchanged(order)


def test_a_store_without_bays_offers_no_curbside(world) -> None:  # type: ignore[no-untyped-def]
    StorePolicy.objects.create(location=world["opera"], curbside_bays=0)
    order, _ = ready_pickup(world, {"SHIRT": 1})
    assert "curbside-bay" not in Client().get(page(order)).content.decode()
    with pytest.raises(Conflict, match="no curbside"):
        order_curbside_arrive(tracking_token=order.tracking_token, bay=1)


def test_unknown_tokens_and_get_are_safe(world) -> None:  # type: ignore[no-untyped-def]
    order, _ = ready_pickup(world, {"SHIRT": 1})
    assert Client().post("/track/nope/here", {"bay": "1"}).status_code == 404
    assert Client().get(f"{page(order)}/here").status_code == 405  # no state change on GET
    with pytest.raises(NotFound):
        order_curbside_arrive(tracking_token="x" * 65, bay=1)
    _unchanged(order)


def test_csrf_is_required(world) -> None:  # type: ignore[no-untyped-def]
    order, _ = ready_pickup(world, {"SHIRT": 1})
    response = Client(enforce_csrf_checks=True).post(f"{page(order)}/here", {"bay": "1"})
    assert response.status_code == 403
    _unchanged(order)


def test_service_validates_bay_range(world) -> None:  # type: ignore[no-untyped-def]
    order, _ = ready_pickup(world, {"SHIRT": 1})
    with pytest.raises(ValidationFailed) as refused:
        order_curbside_arrive(tracking_token=order.tracking_token, bay=-1, note="x" * 300)
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("bay", "invalid"),
        ("note", "max_length"),
    ]
    _unchanged(order)


def test_the_store_queue_shows_the_arrival_on_its_next_poll(world) -> None:  # type: ignore[no-untyped-def]
    from tests.fulfillment.store.support import logged_in

    order, _ = ready_pickup(world, {"SHIRT": 1})
    board = logged_in(world["ana"])
    assert "At bay" not in board.get("/store/st-opera/queue/board/").content.decode()
    Client().post(f"{page(order)}/here", {"bay": "3"})
    assert "At bay 3" in board.get("/store/st-opera/queue/board/").content.decode()
    # Another store's staff does not see it.
    assert logged_in(world["bob"]).get("/store/st-opera/queue/board/").status_code == 404
