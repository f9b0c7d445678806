"""B1: order capture over HTTP (production web server setup) against L0, the raw-SQL order.

gunicorn (``omnilog.settings.production``, the L4 setup) serves ``POST /api/v1/orders/`` on the
benchmarks' migrated scratch database. Every request carries a fresh ``Idempotency-Key`` and
places a 3-line home-delivery order for the channel pool (two warehouses): API key check,
idempotency claim, pricing, customer, order, lines, reservations + ledger, timeline event,
outbox row, stored response. A multi-process closed-loop client first finds the maximum rate
(the headline value, orders/s, compared with L0's tps); a second run paced at 70 % of it gives
the latency percentiles (measured from each request's scheduled start, so a stalled server
cannot hide its queue).
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import math
import multiprocessing
import os
import threading
import time

from bench.context import BenchContext, progress
from bench.project import django_ready
from bench.registry import Measurement, benchmark

HOST = "127.0.0.1"
PATH = "/api/v1/orders/"
STOCK_PER_ROW = 10_000_000
MAX_REQUESTS_PER_CONNECTION = 1_000_000
SPAWN_ALLOWANCE_SECONDS = 1.5
TIMEOUT_SECONDS = 10.0


@dataclasses.dataclass(frozen=True)
class LoadPlan:
    port: int
    api_key: str
    skus: tuple[str, ...]
    seconds: float
    processes: int
    connections: int
    rate_per_connection: float | None  # None: closed loop, as fast as answers come
    tag: str


def _seed(prefix: str = "b1") -> tuple[str, tuple[str, ...]]:
    """A channel with a key, two pool warehouses, three products with ample stock and prices.

    ``prefix`` names everything it creates, so that benchmarks sharing one scratch database in
    a full run (B1, then B7) each get their own catalogue.
    """
    from decimal import Decimal

    from channels_app.models import ChannelAPIKey, PriceList, PriceListItem, SalesChannel, TaxRate
    from inventory.models import Location, Product
    from inventory.services import stock_receive

    label = prefix.upper()
    channel = SalesChannel.objects.create(
        code=prefix, name=f"{label} web", kind=SalesChannel.Kind.WEB
    )
    _, key = ChannelAPIKey.objects.create_key(name=prefix, channel=channel)
    warehouses = [
        Location.objects.create(
            code=f"{prefix}-wh-{index}",
            name=f"{label} {index}",
            kind="warehouse",
            ships_parcels=True,
        )
        for index in range(2)
    ]
    for warehouse in warehouses:
        warehouse.channels.add(channel)
    TaxRate.objects.get_or_create(country="FR", tax_class="standard", defaults={"rate": 20})
    prices = PriceList.objects.create(code=f"{prefix}-base", name=label, currency="EUR")
    skus = tuple(f"{label}-{index:03d}" for index in range(3))
    for index, sku in enumerate(skus):
        product = Product.objects.create(sku=sku, name=f"{label} product {index}", category=prefix)
        PriceListItem.objects.create(
            price_list=prices, sku=sku, unit_price=Decimal("10.00") + index
        )
        for warehouse in warehouses:
            stock_receive(product_id=product.id, location_id=warehouse.id, quantity=STOCK_PER_ROW)
    return str(key), skus


def _body(plan: LoadPlan, client: str, number: int) -> bytes:
    return json.dumps(
        {
            "external_id": f"{plan.tag}-{client}-{number}",
            "customer": {"email": f"{client}@bench.example", "first_name": "Bench"},
            "payment_status": "authorised",
            "delivery": {
                "mode": "home_standard",
                "address": {"line1": "1 rue de Rivoli", "postcode": "75001", "city": "Paris"},
            },
            "lines": [{"sku": sku, "quantity": 1} for sku in plan.skus],
        }
    ).encode()


def _connection_loop(
    plan: LoadPlan, client: str, start: float, deadline: float, out: list[float], errors: list[int]
) -> None:
    connection = http.client.HTTPConnection(HOST, plan.port, timeout=TIMEOUT_SECONDS)
    interval = 1.0 / plan.rate_per_connection if plan.rate_per_connection else 0.0
    try:
        for number in range(MAX_REQUESTS_PER_CONNECTION):
            scheduled = start + number * interval if interval else time.monotonic()
            now = time.monotonic()
            if scheduled >= deadline or now >= deadline:
                break
            if scheduled > now:
                time.sleep(scheduled - now)
            body = _body(plan, client, number)
            headers = {
                "Content-Type": "application/json",
                "X-Api-Key": plan.api_key,
                "Idempotency-Key": f"{plan.tag}-{client}-{number}",
            }
            try:
                connection.request("POST", PATH, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection.close()
                continue
            if response.status == 201:
                out.append(time.monotonic() - scheduled)
            else:
                errors[0] += 1
    finally:
        connection.close()


def _process_main(plan: LoadPlan, index: int, start_at: float) -> tuple[list[float], int]:
    time.sleep(max(0.0, min(start_at - time.time(), SPAWN_ALLOWANCE_SECONDS)))
    start = time.monotonic()
    deadline = start + plan.seconds
    latencies: list[list[float]] = [[] for _ in range(plan.connections)]
    errors: list[list[int]] = [[0] for _ in range(plan.connections)]
    threads = [
        threading.Thread(
            target=_connection_loop,
            args=(plan, f"p{os.getpid()}c{c}", start, deadline, latencies[c], errors[c]),
        )
        for c in range(plan.connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=plan.seconds + TIMEOUT_SECONDS + 5)
    return [value for chunk in latencies for value in chunk], sum(e[0] for e in errors)


def _load(plan: LoadPlan) -> tuple[int, int, list[float]]:
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + SPAWN_ALLOWANCE_SECONDS
    with context.Pool(processes=plan.processes) as pool:
        pending = [
            pool.apply_async(_process_main, (plan, index, start_at))
            for index in range(plan.processes)
        ]
        timeout = SPAWN_ALLOWANCE_SECONDS + plan.seconds + TIMEOUT_SECONDS + 60
        outcomes = [item.get(timeout=timeout) for item in pending]
    latencies = sorted(value for chunk, _ in outcomes for value in chunk)
    return len(latencies), sum(count for _, count in outcomes), latencies


def _percentile_ms(ordered: list[float], percent: float) -> float:
    if not ordered:
        return 0.0
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1] * 1000


@benchmark("B1", limit="L0", goal=">= 0.5", unit="tps")
def order_capture(context: BenchContext) -> Measurement:
    """3-line orders over HTTP (gunicorn, 4 sync workers): max orders/s, then p50/p99 at 70 %."""
    django_ready(context)
    from bench.limit_http import WORKERS, gunicorn_server

    progress("B1: seeding the catalogue")
    api_key, skus = _seed()
    # The server must use the scratch database, and the per-channel limit must not be the
    # bottleneck being measured (it still runs: one Redis counter per request).
    os.environ["ORDER_RATE_LIMIT"] = "100000000/min"
    server_context = dataclasses.replace(context, database_url=os.environ["DATABASE_URL"])
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
            "warm",
        )
        progress(f"B1: gunicorn on {HOST}:{port}; warm-up")
        _load(base)
        progress(f"B1: maximum rate for {context.duration:g} s")
        done, errors, latencies = _load(
            dataclasses.replace(base, seconds=context.duration, tag="max")
        )
        if done == 0:
            raise RuntimeError(f"no order was placed ({errors} errors)")
        maximum = done / context.duration
        target = 0.7 * maximum
        progress(f"B1: {maximum:.1f} orders/s; latency run at {target:.1f} orders/s")
        paced_done, paced_errors, paced = _load(
            dataclasses.replace(
                base,
                seconds=context.duration,
                tag="paced",
                rate_per_connection=target / (processes * connections),
            )
        )
    from orders.models import Order

    return Measurement(
        value=maximum,
        details={
            "orders": Order.objects.count(),
            "max_run_orders": done,
            "max_run_errors": errors,
            "max_run_p50_ms": round(_percentile_ms(latencies, 50), 2),
            "max_run_p99_ms": round(_percentile_ms(latencies, 99), 2),
            "paced_rate": round(paced_done / context.duration, 1),
            "paced_target_rate": round(target, 1),
            "paced_errors": paced_errors,
            "p50_ms_at_70pct": round(_percentile_ms(paced, 50), 2),
            "p99_ms_at_70pct": round(_percentile_ms(paced, 99), 2),
            "workers": WORKERS,
            "clients": processes * connections,
            "lines_per_order": len(skus),
        },
    )
