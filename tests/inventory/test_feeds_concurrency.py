"""Feeds under real concurrency: a snapshot or a delta that must short a reservation held by a
commit waiting for the same level.

The commit locks its reservation first, then wants the level (the locking contract); the feed
locks the level first, and only then learns that it must short that reservation. The feed must
step back (savepoint), lock the reservation first, and finish after the commit, never ending
failed or with a 409. Steps are ordered with ``pg_stat_activity``: the commit proceeds only once
the feed's backend waits for the reservation lock.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from inventory.models import FeedJob, FeedMessage, FeedSource, Reservation, StockMovement
from inventory.services import ReserveLine, stock_commit, stock_receive, stock_reserve
from inventory.services.feeds import (
    DeltaLine,
    DeltaReceipt,
    feed_delta_receive,
    feed_snapshot_apply,
)
from omnilog.core.models import OutboxEvent
from tests.inventory.helpers import level
from tests.inventory.test_concurrency import assert_invariants, backend_pid, run_clients, unexpected
from tests.inventory.typed_factories import make_product, make_store

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_reservation_lock_wait(pid: int) -> None:
    """Return once backend ``pid`` is blocked on a lock while locking reservations.

    Called inside a transaction, where ``pg_stat_activity`` keeps the query texts of its first
    read (the wait event is live): the snapshot is cleared before each poll."""
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT wait_event_type, query FROM pg_stat_activity WHERE pid = %s", [pid]
            )
            row = cursor.fetchone()
            if row and row[0] == "Lock" and '"inventory_reservation"' in row[1]:
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a reservation lock")


def race_commit_against(feed: object, reservation: Reservation) -> tuple[object, object]:
    """Client 0 holds ``reservation`` and commits 3 units of it once client 1, running ``feed``
    (a callable), waits for that reservation; returns (commit result, feed result)."""
    feed_pid: list[int] = []
    reservation_locked = threading.Event()

    def work(client: int) -> object:
        if client == 0:  # the commit, paused between its two locks
            with transaction.atomic():
                list(Reservation.objects.select_for_update().filter(id=reservation.id))
                reservation_locked.set()
                while not feed_pid:
                    time.sleep(0.01)
                wait_for_reservation_lock_wait(feed_pid[0])
                return stock_commit(reservation_id=reservation.id, quantity=3)
        assert reservation_locked.wait(20)
        feed_pid.append(backend_pid())
        assert callable(feed)
        return feed()

    outcomes = run_clients(2, work)
    assert unexpected(outcomes) == []
    return outcomes[0].value, outcomes[1].value


def test_a_snapshot_steps_back_for_a_commit_holding_the_reservation_it_must_short(
    tmp_path: Path,
) -> None:
    """On hand 5, all reserved. The snapshot counted 4 before the commit of 3, so the level
    ends at 4 - 3 = 1 (replay), and the reservation's last 2 units are shorted by 1."""
    store = make_store(code="st-1")
    product = make_product(sku="S-1")
    source = FeedSource.objects.create(code="wms1", name="WMS", kind=FeedSource.Kind.WMS)
    stock_receive(product_id=product.id, location_id=store.id, quantity=5)
    (reservation,) = stock_reserve(
        lines=[ReserveLine(product_id=product.id, quantity=5, location_id=store.id)]
    )
    path = tmp_path / "snapshot.csv"
    path.write_text("sku,location,on_hand\nS-1,st-1,4\n")
    job = FeedJob.objects.create(
        source=source, format=FeedJob.Format.CSV, as_of=timezone.now(), file_path=str(path)
    )

    _, result = race_commit_against(lambda: feed_snapshot_apply(job_id=job.id), reservation)

    assert isinstance(result, FeedJob)
    assert (result.status, result.changed_rows, result.message) == (
        "succeeded",
        1,
        "1 level(s) changed.",
    )
    stock = level(product, store)
    assert (stock.on_hand, stock.reserved) == (1, 1)
    reservation.refresh_from_db()
    assert (reservation.status, reservation.quantity, reservation.quantity_committed) == (
        "active",
        1,
        3,
    )
    assert list(
        StockMovement.objects.order_by("id").values_list("kind", "delta_on_hand", "delta_reserved")
    ) == [
        ("receipt", 5, 0),
        ("reservation", 0, 5),
        ("sale", -3, -3),
        ("shortage", 0, -1),
        ("count", -1, 0),
    ]
    shorted = OutboxEvent.objects.get(topic="reservation.shorted")
    assert shorted.payload["quantity_shorted"] == 1
    assert_invariants()


def test_a_delta_steps_back_for_a_commit_holding_the_reservation_it_must_short() -> None:
    """On hand 5, all reserved. A till sale of 2 needs 2 reserved units; the commit of 3 goes
    first, and the sale then shorts the reservation's last 2 units."""
    store = make_store(code="st-1")
    product = make_product(sku="S-1")
    FeedSource.objects.create(code="till1", name="Till", kind=FeedSource.Kind.POS)
    stock_receive(product_id=product.id, location_id=store.id, quantity=5)
    (reservation,) = stock_reserve(
        lines=[ReserveLine(product_id=product.id, quantity=5, location_id=store.id)]
    )

    def delta() -> object:
        return feed_delta_receive(
            source_code="till1",
            message_id="m1",
            sequence=1,
            occurred_at=timezone.now(),
            lines=[DeltaLine(sku="S-1", location="st-1", quantity_delta=-2, kind="sale")],
        )

    _, receipt = race_commit_against(delta, reservation)

    assert isinstance(receipt, DeltaReceipt)
    assert (receipt.is_duplicate, receipt.drained_sequences) == (False, (1,))
    message = FeedMessage.objects.get(message_id="m1")
    assert (message.status, message.errors) == ("applied", [])
    stock = level(product, store)
    assert (stock.on_hand, stock.reserved) == (0, 0)
    reservation.refresh_from_db()
    assert (reservation.status, reservation.quantity, reservation.quantity_committed) == (
        "released",
        0,
        3,
    )
    assert list(
        StockMovement.objects.order_by("id").values_list("kind", "delta_on_hand", "delta_reserved")
    ) == [
        ("receipt", 5, 0),
        ("reservation", 0, 5),
        ("sale", -3, -3),
        ("shortage", 0, -2),
        ("sale", -2, 0),
    ]
    assert OutboxEvent.objects.filter(topic="reservation.shorted").count() == 1
    source = FeedSource.objects.get(code="till1")
    assert source.last_sequence == 1
    assert_invariants()
