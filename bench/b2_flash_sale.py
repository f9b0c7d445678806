"""B2: a flash sale. One SKU, 1,000 units, 200 concurrent buyers; compared with one hot row (L2).

Each buyer calls ``inventory.services.stock_reserve`` for one unit of the SKU in its channel's
pool until the SKU is sold out; a reservation is the sale that a flash sale contends on (the
commit at shipping comes later, one per order, without contention). Every round must end with
exactly 1,000 units reserved, never more, and counters equal to the ledger (``stock_check``).

Where the 1,000 units sit is not given by the issue, so both placements are measured:

- ``one_location``: all 1,000 units on one warehouse row (the channel's only shipping
  location). Every sale updates the same row, so the figure is bounded by L2 by nature.
- ``pool`` (the headline, and the goal): the units spread over the 20 shipping locations of the
  channel, 50 each: the pool design of docs/architecture.md ("The pool").

Clients: ``PROCESSES`` processes (real parallelism past the GIL), each keeping ``CLIENTS /
PROCESSES`` buyers' requests in flight over ``SESSIONS_PER_PROCESS`` threads, each thread with
its own Django database connection. 200 buyers cannot each hold a connection here
(``max_connections`` is 100 on these shared servers); like an application server, the buyers
share a pool of sessions, and the ones waiting are queued in the process. A round uses a fresh
SKU; the run makes ``ROUNDS`` rounds (1 with ``--quick``) so that it lasts a few seconds.
The rate is units sold over the time from the common start to the last sale.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from bench.context import BenchContext, progress
from bench.project import django_ready
from bench.registry import Measurement, benchmark

UNITS = 1_000
CLIENTS = 200
PROCESSES = 4
SESSIONS_PER_PROCESS = 8
POOL_LOCATIONS = 20
ROUNDS = 5
START_ALLOWANCE_SECONDS = 8.0
# A safety bound per round, far above what selling 1,000 units takes.
ROUND_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class SaleSpec:
    channel_id: int
    product_ids: tuple[int, ...]  # one per round, sold in this order
    clients: int
    sessions: int
    start_at: float  # wall clock, shared by every process


@dataclass(frozen=True)
class SaleOutcome:
    units: int
    sold_out_answers: int
    errors: tuple[str, ...]
    first_sale_at: float
    last_sale_at: float
    latencies: tuple[float, ...]


def _sell(spec: SaleSpec) -> SaleOutcome:
    """One client process: keep ``spec.clients`` requests in flight until every round sold out."""
    import django

    django.setup()
    from django.db import connection

    from inventory.services import ReserveLine, stock_reserve
    from omnilog.core.errors import InsufficientStock

    current = [0]  # index of the round (product) being sold
    lock = threading.Lock()
    warm = threading.Barrier(spec.sessions)

    def connect() -> None:
        connection.ensure_connection()
        warm.wait(timeout=60)  # one per thread: every session is open before the start

    def buy(round_index: int) -> tuple[int, str, float, float]:
        started = time.time()
        try:
            stock_reserve(
                lines=[ReserveLine(product_id=spec.product_ids[round_index], quantity=1)],
                channel_id=spec.channel_id,
                reference_type="bench_b2",
            )
        except InsufficientStock:
            with lock:
                if current[0] == round_index:
                    current[0] += 1
            return 0, "", started, time.time()
        except Exception as error:  # reported, and the run fails
            return 0, f"{type(error).__name__}: {error}", started, time.time()
        return 1, "", started, time.time()

    units = sold_out = 0
    errors: list[str] = []
    latencies: list[float] = []
    first = last = 0.0
    with ThreadPoolExecutor(max_workers=spec.sessions) as executor:
        for done in [executor.submit(connect) for _ in range(spec.sessions)]:
            done.result()
        time.sleep(max(0.0, spec.start_at - time.time()))
        deadline = time.monotonic() + ROUND_TIMEOUT_SECONDS * len(spec.product_ids)
        pending: set[Future[tuple[int, str, float, float]]] = {
            executor.submit(buy, 0) for _ in range(spec.clients)
        }
        while pending and time.monotonic() < deadline:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                sold, error, started, ended = future.result()
                if error:
                    errors.append(error)
                elif sold:
                    units += 1
                    latencies.append(ended - started)
                    first = min(first or ended, ended)
                    last = max(last, ended)
                else:
                    sold_out += 1
                with lock:
                    round_index = current[0]
                if round_index < len(spec.product_ids) and not errors:
                    pending.add(executor.submit(buy, round_index))
        for future in pending:
            future.cancel()
    return SaleOutcome(
        units=units,
        sold_out_answers=sold_out,
        errors=tuple(errors[:5]),
        first_sale_at=first,
        last_sale_at=last,
        latencies=tuple(latencies),
    )


def _percentile_ms(values: list[float], percent: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, round(percent / 100 * len(ordered)) - 1)] * 1000


def _scenario(name: str, *, locations: int, rounds: int) -> dict[str, float | int]:
    """Seed ``rounds`` SKUs of ``UNITS`` units over ``locations`` rows, sell them, check."""
    from django.db import connection

    from bench import seed
    from inventory.models import Reservation, StockLevel
    from inventory.services.integrity import stock_check

    channel_id = seed.channel_create(code=f"b2-{name}")
    location_ids = seed.locations_create(
        prefix=f"B2{name[:4].upper()}", count=locations, channel_id=channel_id
    )
    product_ids = seed.products_create(prefix=f"B2-{name}", count=rounds)
    per_row = UNITS // locations
    seed.stock_levels_seed(
        product_ids=product_ids, location_ids=location_ids, quantity_sql=str(per_row)
    )
    connection.close()  # the children must not inherit an open socket
    start_at = time.time() + START_ALLOWANCE_SECONDS
    per_process = CLIENTS // PROCESSES
    spec = SaleSpec(
        channel_id=channel_id,
        product_ids=tuple(product_ids),
        clients=per_process,
        sessions=SESSIONS_PER_PROCESS,
        start_at=start_at,
    )
    progress(
        f"B2 {name}: {rounds} round(s) of {UNITS} units on {locations} row(s), "
        f"{CLIENTS} clients over {PROCESSES} x {SESSIONS_PER_PROCESS} sessions"
    )
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes=PROCESSES) as pool:
        pending = [pool.apply_async(_sell, (spec,)) for _ in range(PROCESSES)]
        timeout = START_ALLOWANCE_SECONDS + ROUND_TIMEOUT_SECONDS * rounds + 60
        outcomes = [item.get(timeout=timeout) for item in pending]
    errors = [error for outcome in outcomes for error in outcome.errors]
    if errors:
        raise RuntimeError(f"B2 {name}: a sale failed: {errors[0]}")
    units = sum(outcome.units for outcome in outcomes)
    last = max(outcome.last_sale_at for outcome in outcomes)

    reserved: Counter[int] = Counter()
    for product_id, quantity in Reservation.objects.filter(
        product_id__in=product_ids, reference_type="bench_b2"
    ).values_list("product_id", "quantity"):
        reserved[product_id] += quantity
    counters: Counter[int] = Counter()
    for product_id, level_reserved, on_hand in StockLevel.objects.filter(
        product_id__in=product_ids
    ).values_list("product_id", "reserved", "on_hand"):
        counters[product_id] += level_reserved
        if on_hand != per_row:
            raise RuntimeError(f"B2 {name}: on hand moved on product {product_id}")
    for product_id in product_ids:
        if reserved[product_id] != UNITS or counters[product_id] != UNITS:
            raise RuntimeError(
                f"B2 {name}: product {product_id} sold {reserved[product_id]} units "
                f"(counters say {counters[product_id]}), expected exactly {UNITS}"
            )
    if units != UNITS * rounds:
        raise RuntimeError(f"B2 {name}: clients counted {units} sales, expected {UNITS * rounds}")
    report = stock_check()
    if not report.is_consistent:
        raise RuntimeError(f"B2 {name}: counters differ from the ledger: {report.drifts[:3]}")
    latencies = [value for outcome in outcomes for value in outcome.latencies]
    elapsed = last - start_at
    return {
        "units_per_second": units / elapsed,
        "units": units,
        "seconds": round(elapsed, 3),
        "sold_out_answers": sum(outcome.sold_out_answers for outcome in outcomes),
        "p50_ms": round(_percentile_ms(latencies, 50), 2),
        "p95_ms": round(_percentile_ms(latencies, 95), 2),
    }


@benchmark("B2", limit="L2", goal=">= 1", unit="units/s")
def flash_sale(context: BenchContext) -> Measurement:
    """Flash sale: 200 clients buy one SKU's 1,000 units, spread over 20 pool rows"""
    django_ready(context)
    quick = context.duration < 5
    rounds = 1 if quick else ROUNDS
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnilog.settings.local")
    one = _scenario("one_location", locations=1, rounds=rounds)
    progress(f"B2 one location: {one['units_per_second']:,.1f} units/s")
    pool = _scenario("pool", locations=POOL_LOCATIONS, rounds=rounds)
    details: dict[str, float | int | str] = {
        "clients": CLIENTS,
        "sessions": PROCESSES * SESSIONS_PER_PROCESS,
        "rounds": rounds,
        "units_per_round": UNITS,
        "pool_locations": POOL_LOCATIONS,
    }
    details.update({f"pool_{key}": value for key, value in pool.items() if key != "units"})
    details.update({f"one_location_{key}": value for key, value in one.items()})
    return Measurement(value=float(pool["units_per_second"]), details=details)
