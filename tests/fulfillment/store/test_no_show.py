"""No-shows: a reminder after the store's reminder delay, then cancel and restock after its
cancel delay; once, whatever the number of sweeps (also concurrent ones)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connections, transaction
from django.test import TestCase

from fulfillment.models import FulfillmentOrder
from fulfillment.models_store import PickupCode, StorePolicy
from fulfillment.services.handover import HandoverRequest, pickup_handover
from fulfillment.services.no_show import pickup_no_show_sweep
from fulfillment.services.pickup_codes import pickup_code_issue
from fulfillment.tasks import pickup_no_show_sweep_task
from inventory.models import Reservation, StockMovement
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent
from tests.fulfillment.store.pickup_ready_support import ready_pickup
from tests.fulfillment.store.support import level, store_world
from tests.inventory.helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
DAY = timedelta(days=1)


@pytest.fixture
def world() -> dict[str, Any]:
    with time_machine.travel(NOW, tick=False):
        return store_world()


def ready(
    world: dict[str, Any], lines: dict[str, int], **kwargs: Any
) -> tuple[Order, FulfillmentOrder]:
    with time_machine.travel(NOW, tick=False):
        return ready_pickup(world, lines, **kwargs)


def sweep_at(moment: datetime) -> tuple[int, int, int]:
    # The e-mail leaves on commit: run the callbacks the test's transaction would hold back.
    with time_machine.travel(moment, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        result = pickup_no_show_sweep()
    return (result.reminded, result.cancelled, result.skipped)


def topics(order: Order) -> list[str]:
    return list(
        OutboxEvent.objects.filter(payload__order_id=order.pk)
        .filter(
            topic__in=[
                "fulfillment_order.pickup_reminder_sent",
                "fulfillment_order.not_collected",
                "order.cancelled",
                "order.lines_cancelled",
                "order.collected",
            ]
        )
        .order_by("id")
        .values_list("topic", flat=True)
    )


def messages(order: Order, **filters: Any) -> list[str]:
    return list(
        OrderEvent.objects.filter(order=order, **filters)
        .order_by("id")
        .values_list("message", flat=True)
    )


def test_a_reminder_once_after_the_reminder_delay(world) -> None:  # type: ignore[no-untyped-def]
    order, fo = ready(world, {"SHIRT": 1})
    mail.outbox.clear()

    assert sweep_at(NOW + 3 * DAY - timedelta(minutes=1)) == (0, 0, 0)
    assert sweep_at(NOW + 3 * DAY + timedelta(minutes=1)) == (1, 0, 0)
    assert sweep_at(NOW + 4 * DAY) == (0, 0, 0)

    assert [(m.subject, m.to) for m in mail.outbox] == [
        (f"Reminder: order {order.number} is waiting for you", ["camille@example.com"])
    ]
    assert "01 December 2026" in mail.outbox[0].body  # ready + 7 days
    assert "Monday: 09:00 to 19:00" in mail.outbox[0].body
    code = PickupCode.objects.get(fulfillment_order=fo)
    assert code.reminded_at == NOW + 3 * DAY + timedelta(minutes=1)
    assert messages(order, details__no_show="reminder") == ["Pickup reminder sent"]
    assert topics(order) == ["fulfillment_order.pickup_reminder_sent"]
    fo.refresh_from_db()
    assert fo.status == "ready_for_pickup"


def test_without_a_pickup_code_the_timeline_says_it_was_reminded(world) -> None:  # type: ignore[no-untyped-def]
    order, fo = ready(world, {"SHIRT": 1})
    PickupCode.objects.filter(fulfillment_order=fo).delete()
    mail.outbox.clear()
    assert sweep_at(NOW + 3 * DAY + timedelta(hours=1)) == (1, 0, 0)
    assert sweep_at(NOW + 3 * DAY + timedelta(hours=2)) == (0, 0, 0)
    assert len(mail.outbox) == 1
    assert messages(order, details__no_show="reminder") == ["Pickup reminder sent"]


def test_after_the_cancel_delay_the_units_are_cancelled_and_restocked(world) -> None:  # type: ignore[no-untyped-def]
    order, fo = ready(world, {"SHIRT": 2, "CAP": 1})
    assert level(world["SHIRT"], world["opera"]) == (5, 2, 0)
    movements = StockMovement.objects.count()
    sweep_at(NOW + 3 * DAY + timedelta(hours=1))

    assert sweep_at(NOW + 7 * DAY + timedelta(minutes=1)) == (0, 1, 0)

    order.refresh_from_db()
    fo.refresh_from_db()
    assert order.status == "cancelled"
    assert (fo.status, fo.cancel_reason) == ("cancelled", "not collected")
    # The bagged units never left the store: released, they are sellable there again.
    assert level(world["SHIRT"], world["opera"]) == (5, 0, 0)
    assert level(world["CAP"], world["opera"]) == (3, 0, 0)
    assert sorted(
        StockMovement.objects.order_by("id")[movements:].values_list("kind", "delta_reserved")
    ) == [("release", -2), ("release", -1)]
    assert not Reservation.objects.filter(status="active").exists()
    assert_ledger_consistent()
    assert [line.quantity_cancelled for line in order.lines.order_by("id")] == [2, 1]
    assert [line.quantity_allocated for line in order.lines.order_by("id")] == [0, 0]
    assert "Cancelled: not collected within 7 days" in messages(order, kind="cancelled")
    assert topics(order) == [
        "fulfillment_order.pickup_reminder_sent",
        "order.cancelled",
        "fulfillment_order.not_collected",
    ]
    code = PickupCode.objects.get(fulfillment_order=fo)
    assert code.locked_at is not None
    # Nothing more on later sweeps.
    assert sweep_at(NOW + 8 * DAY) == (0, 0, 0)
    assert len(mail.outbox) >= 1


def test_a_late_sweep_cancels_without_reminding_first(world) -> None:  # type: ignore[no-untyped-def]
    order, _ = ready(world, {"SHIRT": 1})
    mail.outbox.clear()
    assert sweep_at(NOW + 10 * DAY) == (0, 1, 0)
    assert mail.outbox == []
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_delays_are_per_store(world) -> None:  # type: ignore[no-untyped-def]
    StorePolicy.objects.create(
        location=world["bastille"], no_show_reminder_days=1, no_show_cancel_days=2
    )
    opera_order, _ = ready(world, {"SHIRT": 1})
    bastille_order, _ = ready(world, {"SHIRT": 1}, store=world["bastille"], email="b@example.com")
    assert sweep_at(NOW + DAY + timedelta(minutes=1)) == (1, 0, 0)
    assert sweep_at(NOW + 2 * DAY + timedelta(minutes=1)) == (0, 1, 0)
    opera_order.refresh_from_db()
    bastille_order.refresh_from_db()
    assert (opera_order.status, bastille_order.status) == ("ready_for_pickup", "cancelled")


def test_a_partly_collected_order_is_collected_and_the_rest_cancelled(world) -> None:  # type: ignore[no-untyped-def]
    order, fo = ready(world, {"SHIRT": 2})
    with time_machine.travel(NOW + DAY, tick=False):
        issued = pickup_code_issue(fulfillment_order_id=fo.pk, actor="max")
        line = fo.lines.get()
        pickup_handover(
            fulfillment_order_id=fo.pk,
            request=HandoverRequest(code=issued.code, lines=[(line.pk, 1)]),
            actor="ana",
            staff_key="ana",
        )
    assert level(world["SHIRT"], world["opera"]) == (4, 1, 0)

    assert sweep_at(NOW + 7 * DAY + timedelta(minutes=1)) == (0, 1, 0)

    order.refresh_from_db()
    fo.refresh_from_db()
    assert (order.status, fo.status) == ("collected", "collected")
    assert level(world["SHIRT"], world["opera"]) == (4, 0, 0)
    assert [(li.quantity_fulfilled, li.quantity_cancelled) for li in order.lines.all()] == [(1, 1)]
    assert_ledger_consistent()


def test_orders_no_longer_waiting_are_left_alone(world) -> None:  # type: ignore[no-untyped-def]
    _, collected = ready(world, {"SHIRT": 1})
    FulfillmentOrder.objects.filter(pk=collected.pk).update(status="collected")
    home, _ = ready(world, {"CAP": 1}, email="b@example.com")
    FulfillmentOrder.objects.filter(order=home).update(delivery_mode="home_standard")
    assert sweep_at(NOW + 10 * DAY) == (0, 0, 0)


def test_the_beat_task_runs_the_sweep(world) -> None:  # type: ignore[no-untyped-def]
    ready(world, {"SHIRT": 1})
    with time_machine.travel(NOW + 3 * DAY + timedelta(hours=1), tick=False):
        assert pickup_no_show_sweep_task() == 1
        assert pickup_no_show_sweep_task() == 0


@pytest.mark.django_db(transaction=True)
def test_a_busy_order_is_skipped_then_done_and_concurrent_sweeps_remind_once(world) -> None:  # type: ignore[no-untyped-def]
    order, _ = ready(world, {"SHIRT": 1})
    mail.outbox.clear()
    later = NOW + 3 * DAY + timedelta(hours=1)
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with transaction.atomic():
            Order.objects.select_for_update().get(pk=order.pk)
            held.set()
            release.wait(timeout=30)
        connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(timeout=30)
    try:
        assert sweep_at(later) == (0, 0, 1)  # SKIP LOCKED: not waited for, not touched
    finally:
        release.set()
        thread.join()
    assert mail.outbox == []

    barrier = threading.Barrier(3)
    results: list[tuple[int, int, int]] = []

    def sweeper() -> None:
        try:
            barrier.wait()
            results.append(sweep_at(later))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(3)]
    for item in threads:
        item.start()
    for item in threads:
        item.join()
    assert sum(reminded for reminded, _, _ in results) == 1
    assert len(mail.outbox) == 1
    assert messages(order, details__no_show="reminder") == ["Pickup reminder sent"]
