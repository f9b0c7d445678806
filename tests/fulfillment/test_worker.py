"""Routing through real Celery workers: placed orders get fulfillment orders, and a worker
killed with SIGKILL mid-routing loses nothing and duplicates nothing (acks_late + version).

The kill test starts its own workers on a private queue (so the session worker, if running,
never takes its messages), with ``OMNILOG_TEST_VISIBILITY_TIMEOUT=2`` so that the Redis
transport redelivers the dead worker's unacknowledged message after 2 s instead of an hour.
It makes the task block *inside* its routing transaction without any test hook in the code:
the test holds a row lock on one of the order's reservations, which the task needs right after
it has locked the order row and its lines.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fulfillment.hooks import order_placed_route
from fulfillment.models import FulfillmentOrder, RoutingDecision
from fulfillment.tasks import order_route_task
from inventory.models import Reservation
from orders.hooks import order_placed_hook_register, order_placed_hook_unregister
from orders.models import Order, OrderEvent
from tests.conftest import wait_until
from tests.fulfillment.service_support import fulfillment_orders, network, place
from tests.inventory.helpers import assert_ledger_consistent

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_routing_hook() -> Iterator[None]:
    order_placed_hook_unregister(order_placed_route)
    yield
    order_placed_hook_register(order_placed_route)


@pytest.mark.django_db(transaction=True)
def test_a_placed_order_gets_its_fulfillment_orders_from_the_worker(
    celery_worker, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.FULFILLMENT_ROUTE_ON_PLACE = True
    net = network()

    order = place(net["web"], {"SHIRT": 2, "MUG": 1})  # the hook queues the routing task

    wait_until(lambda: FulfillmentOrder.objects.filter(order=order).exists())
    wait_until(lambda: Order.objects.get(pk=order.pk).status == "routed")
    assert fulfillment_orders(order) == [("wh-1", "created", [("SHIRT", 2, 0), ("MUG", 1, 0)])]
    assert list(
        RoutingDecision.objects.filter(order=order).values_list("trigger", "order_version")
    ) == [("placed", 1)]
    assert_ledger_consistent()


def _worker(queue: str, name: str, database_url: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="omnilog.settings.test",
        PYTHONUNBUFFERED="1",
        OMNILOG_TEST_VISIBILITY_TIMEOUT="2",
        PGAPPNAME=name,  # libpq: lets the test find this worker's database sessions
    )
    log = (BASE_DIR / "var" / f"{name}.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "omnilog",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "-n",
            f"{name}@%h",
            "-l",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL reaches the pool child too
    )


def _waiting_on_a_lock(cursor: psycopg.Cursor, name: str) -> bool:
    cursor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
        " AND wait_event_type = 'Lock'",
        [name],
    )
    row = cursor.fetchone()
    return bool(row and row[0])


@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_routing_then_restart_routes_each_order_exactly_once(
    test_database_url: str, no_routing_hook: None
) -> None:
    net = network()
    orders = [place(net["web"], {"SHIRT": 1}, email=f"c{n}@example.com") for n in range(3)]
    first_line = orders[0].lines.get()
    blocked = Reservation.objects.get(reference_id=str(first_line.pk), status="active")
    queue = f"routing-kill-{os.getpid()}"
    name = f"kill-{os.getpid()}"

    # Hold the first order's reservation: its routing will stop inside the transaction.
    blocker = psycopg.connect(test_database_url, autocommit=False)
    blocker.execute("SELECT id FROM inventory_reservation WHERE id = %s FOR UPDATE", [blocked.pk])
    watcher = psycopg.connect(test_database_url, autocommit=True)
    first = _worker(queue, f"{name}-1", test_database_url)
    second = None
    try:
        for order in orders:
            order_route_task.apply_async(args=(order.pk, 1, "placed"), queue=queue)
        # A duplicate message (e.g. a retried send) must not route twice either.
        order_route_task.apply_async(args=(orders[1].pk, 1, "placed"), queue=queue)
        wait_until(lambda: _waiting_on_a_lock(watcher.cursor(), f"{name}-1"), timeout=60)

        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        # The dead worker's session still waits on the lock with the order row locked; end it
        # (PostgreSQL would do so itself once it wrote to the dead socket) and let go.
        watcher.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [f"{name}-1"],
        )
        blocker.rollback()
        assert not RoutingDecision.objects.exists()  # the killed transaction left nothing

        second = _worker(queue, f"{name}-2", test_database_url)
        wait_until(
            lambda: RoutingDecision.objects.filter(order__in=orders).count() == 3, timeout=90
        )
        time.sleep(3)  # time for any duplicate delivery to (not) do anything
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        blocker.close()
        watcher.close()

    for order in orders:
        # The core picks wh-1 or wh-2 (equal cost) depending on what the other orders left;
        # either way one fulfillment order, bound to the one reservation the order holds.
        held = Reservation.objects.select_related("location").get(
            reference_id=str(order.lines.get().pk), status="active"
        )
        assert (held.scope, held.quantity) == ("location", 1)
        assert fulfillment_orders(order) == [(held.location.code, "created", [("SHIRT", 1, 0)])]
        assert list(
            RoutingDecision.objects.filter(order=order).values_list("trigger", "order_version")
        ) == [("placed", 1)]
        assert OrderEvent.objects.filter(order=order, kind="routed").count() == 1
        assert Order.objects.get(pk=order.pk).status == "routed"
    assert_ledger_consistent()
