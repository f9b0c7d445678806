"""B7: the order pipeline, from the 201 of ``POST /api/v1/orders/`` to the fulfillment orders.

gunicorn (production settings, the L4/B1 setup, ``FULFILLMENT_ROUTE_ON_PLACE`` on as in every
setting but the tests') and one Celery worker on queue ``routing`` (prefork, 2 processes) run
against the benchmarks' scratch database, with B1's catalogue (3-line home orders, two pool
warehouses with ample stock).

1. B1's maximum rate is measured first in the same run (B1's closed loop, no worker running:
   B1's own conditions); the routing tasks that run queued are then dropped from the broker.
2. The worker starts; orders are placed at half that rate (paced, 4 connections) for the run's
   duration. For each 201 the client records the wall-clock time; a poller thread reads new
   ``FulfillmentOrder`` rows every 10 ms and records when each order's first one became
   visible (routing writes all of an order's rows in one transaction).

Headline: p95 of (rows visible - 201), seconds; goal < 2 s. Details: p50/p99, the database's
own view (``FulfillmentOrder.created_at - Order.created_at``, which starts before the 201 and
ends before the commit), rates, counts, orders not routed within the drain bound.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.b1_order_capture import LoadPlan
from bench.context import BenchContext, progress
from bench.project import django_ready
from bench.registry import Measurement, benchmark

BASE_DIR = Path(__file__).resolve().parent.parent
CONNECTIONS = 4
POLL_SECONDS = 0.01
DRAIN_SECONDS = 30.0  # after the load, how long orders may still take to be routed
WORKER_START_SECONDS = 60.0
MAX_ORDERS = 100_000


def _percentile(ordered: list[float], percent: float) -> float:
    from bench.b1_order_capture import _percentile_ms

    return _percentile_ms(ordered, percent) / 1000


def _worker(server_context: BenchContext) -> subprocess.Popen[bytes]:
    """One worker on queue ``routing`` with the web server's environment (production)."""
    from bench.limit_http import _server_env

    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "omnilog",
            "worker",
            "-Q",
            "routing",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "-n",
            f"b7-{os.getpid()}@%h",
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=BASE_DIR,
        env=_server_env(server_context),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def _purge_routing() -> int:
    """Drop the queued routing tasks (kombu's purge covers its priority sub-queues)."""
    from omnilog.celery import app

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        return int(channel.queue_purge("routing") or 0)  # type: ignore[attr-defined]


def _wait_for_worker(process: subprocess.Popen[bytes]) -> None:
    from omnilog.celery import app

    deadline = time.monotonic() + WORKER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {process.returncode}")
        if app.control.ping(timeout=0.5):
            return
    raise RuntimeError(f"the Celery worker did not answer within {WORKER_START_SECONDS:g} s")


class _Poller(threading.Thread):
    """Records, per order id, when its first FulfillmentOrder row became visible."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        from django.db import connection

        from fulfillment.models import FulfillmentOrder

        last = 0
        try:
            while not self.stop.is_set():
                rows = list(
                    FulfillmentOrder.objects.filter(pk__gt=last)
                    .order_by("id")
                    .values_list("id", "order_id")
                )
                moment = time.time()
                for pk, order_id in rows:
                    self.seen.setdefault(order_id, moment)
                    last = pk
                self.stop.wait(POLL_SECONDS)
        except BaseException as error:  # reported by the main thread
            self.error = error
        finally:
            connection.close()


def _paced_client(
    plan: LoadPlan,
    index: int,
    rate: float,
    seconds: float,
    out: dict[int, float],
    errors: list[int],
) -> None:
    from bench.b1_order_capture import HOST, PATH, TIMEOUT_SECONDS, _body

    port = plan.port
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_SECONDS)
    interval = 1.0 / rate
    start = time.monotonic()
    try:
        for number in range(MAX_ORDERS):
            scheduled = start + number * interval
            if scheduled >= start + seconds:
                break
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            headers = {
                "Content-Type": "application/json",
                "X-Api-Key": plan.api_key,
                "Idempotency-Key": f"b7-{index}-{number}",
            }
            try:
                connection.request(
                    "POST", PATH, body=_body(plan, f"b7c{index}", number), headers=headers
                )
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection.close()
                continue
            if response.status == 201:
                out[int(json.loads(payload)["id"])] = time.time()
            else:
                errors[0] += 1
    finally:
        connection.close()


@benchmark("B7", limit=None, goal="< 2", unit="s")
def pipeline(context: BenchContext) -> Measurement:
    """Order placed over HTTP -> fulfillment orders written by the routing worker: p95 (s)."""
    django_ready(context)
    from django.conf import settings

    from bench.b1_order_capture import _load, _seed
    from bench.limit_http import gunicorn_server

    if not getattr(settings, "FULFILLMENT_ROUTE_ON_PLACE", True):
        raise RuntimeError("FULFILLMENT_ROUTE_ON_PLACE is off: placed orders would not route")
    progress("B7: seeding the catalogue (B1's)")
    api_key, skus = _seed(prefix="b7")
    os.environ["ORDER_RATE_LIMIT"] = "100000000/min"
    database_url = os.environ["DATABASE_URL"]
    server_context = dataclasses.replace(context, database_url=database_url)
    _purge_routing()
    processes = context.sizes.http_processes
    connections = context.sizes.http_connections_per_process
    with gunicorn_server(server_context) as port:
        base = LoadPlan(
            port,
            api_key,
            skus,
            context.sizes.http_warmup_seconds,
            processes,
            connections,
            None,
            "b7w",
        )
        progress("B7: warm-up, then B1's maximum rate (no worker)")
        _load(base)
        done, _, _ = _load(dataclasses.replace(base, seconds=context.duration, tag="b7max"))
        if done == 0:
            raise RuntimeError("no order was placed in the maximum-rate run")
        maximum = done / context.duration
        rate = maximum / 2
        # The orders of the probe are not measured: their routing tasks are dropped.
        dropped = _purge_routing()
        from orders.models import Order

        first_measured = (Order.objects.order_by("-id").values_list("id", flat=True).first()) or 0
        worker = _worker(server_context)
        poller = _Poller()
        try:
            _wait_for_worker(worker)
            progress(f"B7: B1 max {maximum:.1f} orders/s; pipeline at {rate:.1f} orders/s")
            poller.start()
            placed: dict[int, float] = {}
            errors = [0]
            threads = [
                threading.Thread(
                    target=_paced_client,
                    args=(base, index, rate / CONNECTIONS, context.duration, placed, errors),
                )
                for index in range(CONNECTIONS)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=context.duration + 60)
            elapsed = time.monotonic() - started
            deadline = time.monotonic() + DRAIN_SECONDS
            while time.monotonic() < deadline and not set(placed) <= set(poller.seen):
                time.sleep(0.05)
        finally:
            poller.stop.set()
            poller.join(timeout=10)
            _stop(worker)
    if poller.error is not None:
        raise RuntimeError(f"the poller failed: {poller.error!r}")
    if not placed:
        raise RuntimeError(f"no order was placed in the paced run ({errors[0]} errors)")
    latencies = sorted(
        max(0.0, poller.seen[order_id] - at)
        for order_id, at in placed.items()
        if order_id in poller.seen
    )
    missing = len(placed) - len(latencies)
    if not latencies:
        raise RuntimeError("no placed order got a fulfillment order")
    from django.db.models import Min

    from fulfillment.models import FulfillmentOrder

    database_view = sorted(
        (row["first"] - row["order__created_at"]).total_seconds()
        for row in FulfillmentOrder.objects.filter(
            order_id__in=list(placed), order_id__gt=first_measured
        )
        .values("order_id", "order__created_at")
        .annotate(first=Min("created_at"))
    )
    p95 = _percentile(latencies, 95)
    return Measurement(
        value=round(p95, 3),
        details={
            "b1_max_rate": round(maximum, 1),
            "target_rate": round(rate, 1),
            "paced_rate": round(len(placed) / elapsed, 1),
            "orders": len(placed),
            "errors": errors[0],
            "not_routed_within_drain": missing,
            "probe_tasks_dropped": int(dropped),
            "p50_s": round(_percentile(latencies, 50), 3),
            "p95_s": round(p95, 3),
            "p99_s": round(_percentile(latencies, 99), 3),
            "max_s": round(latencies[-1], 3),
            "db_created_p50_s": round(_percentile(database_view, 50), 3),
            "db_created_p95_s": round(_percentile(database_view, 95), 3),
            "worker_concurrency": 2,
            "poll_ms": int(POLL_SECONDS * 1000),
        },
    )
