"""The promise stored at capture (through the orders hook) and the late watch."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from channels_app.models import PriceList, PriceListItem, TaxRate
from omnilog.core.models import OutboxEvent
from orders.models import Order
from orders.services.late import orders_late_notify
from orders.tasks import orders_late_watch_task
from tests.fulfillment.promise_support import NOW, PARIS, network
from tests.orders.lifecycle_support import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    shop = network()
    prices = PriceList.objects.create(code="base", name="Base", currency="EUR")
    PriceListItem.objects.create(price_list=prices, sku="SHIRT", unit_price=Decimal("20.00"))
    TaxRate.objects.get_or_create(country="FR", tax_class="standard", defaults={"rate": 20})
    return shop


@time_machine.travel(NOW, tick=False)
def test_capture_stores_the_promise_of_the_delivery_mode(world) -> None:  # type: ignore[no-untyped-def]
    home = place(world["web"], {"SHIRT": 1})
    store = place(world["web"], {"SHIRT": 1}, store=world["store"], email="s@example.com")
    # Home standard from the warehouse, Tuesday's pickup; the address (postcode 75001) has no
    # known position, so the rate table zones it national: two delivery days, Thursday 18:00.
    assert home.promised_at == datetime(2026, 11, 26, 18, 0, tzinfo=PARIS)
    assert home.promised_date == date(2026, 11, 26)
    # Click-and-collect at the store: ready 10:10 today.
    assert store.promised_at == datetime(2026, 11, 24, 10, 10, tzinfo=PARIS)
    assert store.promised_date == date(2026, 11, 24)


@time_machine.travel(NOW, tick=False)
def test_capture_without_an_option_stores_no_promise(world) -> None:  # type: ignore[no-untyped-def]
    world["wh"].opening_hours = {"mon": []}  # never open: no preparation in the horizon
    world["wh"].save(update_fields=["opening_hours"])
    order = place(world["web"], {"SHIRT": 1})
    assert (order.promised_at, order.promised_date) == (None, None)


def _late_events() -> list[tuple[str, dict[str, Any]]]:
    return [
        (event.aggregate_id, event.payload)
        for event in OutboxEvent.objects.filter(topic="order.late").order_by("id")
    ]


def test_the_watch_emits_exactly_one_event_per_late_order(world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        late = place(world["web"], {"SHIRT": 1}, email="late@example.com")
        dated = place(world["web"], {"SHIRT": 1}, email="dated@example.com")
        delivered = place(world["web"], {"SHIRT": 1}, email="done@example.com")
        future = place(world["web"], {"SHIRT": 1}, email="future@example.com")
    # Promised Thursday 18:00; the date-only order was promised Tuesday.
    Order.objects.filter(pk=dated.pk).update(promised_at=None, promised_date=NOW.date())
    Order.objects.filter(pk=delivered.pk).update(status="delivered")
    Order.objects.filter(pk=future.pk).update(
        promised_at=datetime(2026, 11, 30, 18, 0, tzinfo=PARIS),
        promised_date=datetime(2026, 11, 30).date(),
    )
    before_promise = datetime(2026, 11, 26, 17, 59, tzinfo=PARIS)
    assert orders_late_notify(now=before_promise) == 1  # only the date-only one (Tuesday)
    after = datetime(2026, 11, 26, 18, 1, tzinfo=PARIS)
    assert orders_late_notify(now=after) == 1
    with time_machine.travel(after + timedelta(minutes=5), tick=False):
        assert orders_late_watch_task.apply().get() == 0  # nothing twice
    events = _late_events()
    assert [order_id for order_id, _ in events] == [str(dated.pk), str(late.pk)]
    assert events[1][1] == {
        "order_id": late.pk,
        "number": late.number,
        "channel_id": world["web"].pk,
        "status": "placed",
        "promised_at": "2026-11-26T17:00:00+00:00",
        "promised_date": "2026-11-26",
        "late_by_seconds": 60,
    }
    assert set(
        Order.objects.filter(late_notified_at__isnull=False).values_list("pk", flat=True)
    ) == {late.pk, dated.pk}
