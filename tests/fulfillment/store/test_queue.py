"""Pickup queue: columns and counts, sorting by promise then slot, curbside arrivals first,
ageing classes with text labels, no-show after the policy's delay, the htmx board, and a
constant number of queries whatever the number of orders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.models_store import StorePolicy
from fulfillment.store.selectors import store_queue
from inventory.services import stock_receive
from orders.models import Order
from tests.fulfillment.store.support import (
    logged_in,
    place_pickup,
    routed,
    store_cache_clean,
    store_world,
)

pytestmark = pytest.mark.django_db


def orders(world: dict[str, Any], count: int) -> list[FulfillmentOrder]:
    stock_receive(product_id=world["SHIRT"].id, location_id=world["opera"].id, quantity=count)
    return [routed(place_pickup(world, {"SHIRT": 1})) for _ in range(count)]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    store_cache_clean()


def board_queries(world: dict[str, Any], *, cached: bool = False) -> int:
    client = logged_in(world["ana"])
    client.get("/store/st-opera/queue/board/")  # session warm-up, board cached
    if not cached:
        store_cache_clean()
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/store/st-opera/queue/board/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return len(captured)


def test_the_queue_costs_the_same_queries_for_3_or_30_orders() -> None:
    world = store_world()
    orders(world, 3)
    few = board_queries(world)
    orders(world, 27)
    assert board_queries(world) == few
    # session, user, memberships (store + role + switcher), fingerprint, policy, orders
    assert few == 6
    # A poll that finds the board cached (nothing changed this minute) skips the last two.
    assert board_queries(world, cached=True) == 4


def test_a_change_shows_on_the_next_poll_despite_the_cached_board() -> None:
    world = store_world()
    (fo,) = orders(world, 1)
    client = logged_in(world["ana"])
    assert "At bay" not in client.get("/store/st-opera/queue/board/").content.decode()
    Order.objects.filter(pk=fo.order_id).update(curbside_arrived_at=timezone.now(), curbside_bay=2)
    assert "At bay 2" in client.get("/store/st-opera/queue/board/").content.decode()
    FulfillmentOrder.objects.filter(pk=fo.pk).update(status="picking")
    board = client.get("/store/st-opera/queue/board/").content.decode()
    assert board.index(f'data-fo-id="{fo.pk}"') > board.index('id="column-preparing"')


def test_columns_counts_sorting_and_ageing() -> None:
    world = store_world()
    now = timezone.now()
    fos = orders(world, 5)
    promised = {
        fos[0]: now + timedelta(hours=5),  # to prepare, ok
        fos[1]: now + timedelta(minutes=30),  # to prepare, soon
        fos[2]: now - timedelta(minutes=10),  # overdue
        fos[3]: now + timedelta(hours=2),  # preparing
        fos[4]: now + timedelta(hours=1, minutes=30),  # ready, curbside
    }
    for fo, moment in promised.items():
        Order.objects.filter(pk=fo.order_id).update(promised_at=moment)
    FulfillmentOrder.objects.filter(pk=fos[3].pk).update(status="picking")
    FulfillmentOrder.objects.filter(pk=fos[4].pk).update(
        status="ready_for_pickup", ready_for_pickup_at=now
    )
    Order.objects.filter(pk=fos[4].order_id).update(curbside_arrived_at=now, curbside_bay=3)
    queue = store_queue(location=world["opera"], now=now)
    summary = {
        column.key: [(card.fulfillment_order_id, card.age) for card in column.cards]
        for column in queue.columns
    }
    assert summary == {
        "to_prepare": [(fos[1].pk, "soon"), (fos[0].pk, "ok")],
        "preparing": [(fos[3].pk, "ok")],
        "ready": [(fos[4].pk, "ok")],
        "overdue": [(fos[2].pk, "late")],
        "no_show": [],
    }
    page = logged_in(world["ana"]).get("/store/st-opera/queue/").content.decode()
    assert "At bay 3" in page
    assert "Late by 10 min" in page or "Late by 11 min" in page
    assert "age-soon" in page
    assert 'data-count="to_prepare">2<' in page
    assert "every 10s [document.visibilityState === 'visible']" in page


def test_curbside_arrivals_come_first_among_ready_orders() -> None:
    world = store_world()
    now = timezone.now()
    fos = orders(world, 3)
    FulfillmentOrder.objects.filter(pk__in=[fo.pk for fo in fos]).update(
        status="ready_for_pickup", ready_for_pickup_at=now
    )
    Order.objects.filter(pk=fos[2].order_id).update(curbside_arrived_at=now, curbside_bay=1)
    ready = store_queue(location=world["opera"], now=now).column("ready")
    assert [card.fulfillment_order_id for card in ready.cards] == [fos[2].pk, fos[0].pk, fos[1].pk]


def test_ready_orders_past_the_reminder_delay_are_no_shows() -> None:
    world = store_world()
    StorePolicy.objects.create(
        location=world["opera"], no_show_reminder_days=2, no_show_cancel_days=5
    )
    now = timezone.now()
    fresh, stale = orders(world, 2)
    FulfillmentOrder.objects.filter(pk=fresh.pk).update(
        status="ready_for_pickup", ready_for_pickup_at=now - timedelta(days=1)
    )
    FulfillmentOrder.objects.filter(pk=stale.pk).update(
        status="ready_for_pickup", ready_for_pickup_at=now - timedelta(days=3)
    )
    queue = store_queue(location=world["opera"], now=now)
    assert [card.fulfillment_order_id for card in queue.column("ready").cards] == [fresh.pk]
    assert [card.fulfillment_order_id for card in queue.column("no_show").cards] == [stale.pk]


def test_the_board_partial_is_only_the_board() -> None:
    world = store_world()
    orders(world, 1)
    response = logged_in(world["ana"]).get("/store/st-opera/queue/board/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="queue-board"')
    assert "data-new-candidate" in body
    assert "<html" not in body


def test_other_stores_orders_are_not_on_the_queue() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 1}))
    bastille = routed(place_pickup(world, {"SHIRT": 1}, store=world["bastille"]))
    page = logged_in(world["ana"]).get("/store/st-opera/queue/").content.decode()
    assert f'data-fo-id="{fo.pk}"' in page
    assert f'data-fo-id="{bastille.pk}"' not in page
