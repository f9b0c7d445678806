"""In-process profile of ``order_route`` (no worker, no HTTP): time and statements per call.

Places ``--orders`` orders of B1's shape (3 lines, home standard, two pool warehouses) with the
capture service, then routes each with ``order_route`` and reports the per-call wall time
(p50/p95/mean), the SQL statements per call (``CaptureQueriesContext``) and, with
``--profile``, the top of a cProfile of the routing loop. Uses the database in
``DATABASE_URL`` as is (seeds B1's catalogue once; never the project's own database: point it
at a scratch one)::

    DATABASE_URL=postgres://.../omnilog_scratch .venv/bin/python -m bench.routing_profile \
        --orders 300 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one call")
    arguments = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnilog.settings.local")
    os.environ["DEBUG"] = "0"
    import django

    django.setup()
    from django.conf import settings

    # Route in this process only: no routing task may reach a broker's worker.
    settings.FULFILLMENT_ROUTE_ON_PLACE = False
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.b1_order_capture import _seed
    from channels_app.models import SalesChannel
    from fulfillment.services.routing import order_route
    from orders.services.capture import order_place
    from orders.services.inputs import (
        AddressInput,
        CustomerInput,
        DeliveryInput,
        LineInput,
        OrderInput,
    )

    channel = SalesChannel.objects.filter(code="b1").first()
    if channel is None:
        _seed()
        channel = SalesChannel.objects.get(code="b1")
    skus = tuple(f"B1-{index:03d}" for index in range(3))
    tag = f"rp-{time.time_ns()}"
    order_ids = []
    for number in range(arguments.orders):
        order = order_place(
            channel_id=channel.pk,
            data=OrderInput(
                customer=CustomerInput(email="profile@bench.example", first_name="Bench"),
                lines=tuple(LineInput(sku=sku, quantity=1) for sku in skus),
                delivery=DeliveryInput(
                    mode="home_standard",
                    address=AddressInput(line1="1 rue de Rivoli", postcode="75001", city="Paris"),
                ),
                external_id=f"{tag}-{number}",
                payment_status="authorised",
            ),
            actor="bench",
        )
        order_ids.append((order.pk, order.version))

    timings: list[float] = []
    statements: list[int] = []
    profiler = cProfile.Profile() if arguments.profile else None
    started_all = time.perf_counter()
    for index, (order_id, version) in enumerate(order_ids):
        with CaptureQueriesContext(connection) as captured:
            if profiler is not None:
                profiler.enable()
            started = time.perf_counter()
            decision = order_route(order_id=order_id, expected_version=version, trigger="placed")
            timings.append((time.perf_counter() - started) * 1000)
            if profiler is not None:
                profiler.disable()
        if decision is None:
            raise RuntimeError(f"order {order_id} was not routed")
        statements.append(len(captured.captured_queries))
        if arguments.show_sql and index == len(order_ids) // 2:
            for query in captured.captured_queries:
                print(query["sql"][:300])
    elapsed = time.perf_counter() - started_all
    ordered = sorted(timings)
    print(
        f"orders {len(timings)}  per call ms: p50 {statistics.median(ordered):.2f}"
        f"  p95 {ordered[int(0.95 * (len(ordered) - 1))]:.2f}"
        f"  mean {statistics.fmean(ordered):.2f}  ->  {len(timings) / elapsed:.1f} orders/s"
        f"  statements per call: {min(statements)}-{max(statements)}"
        f" (mean {statistics.fmean(statements):.1f})"
    )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
