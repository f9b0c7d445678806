"""B9: the delivery promise API, p95 latency compared with the trivial view (L4).

A demo-like network in the scratch database: 40 locations selling to one channel (8
warehouses with weekday and Saturday-morning hours, 32 stores open Monday to Saturday that
ship from store and offer click-and-collect), spread over French cities with coordinates, a
daily capacity on each, and 2,000 SKUs with weights and sides, stocked everywhere (counters
only, ``bench.seed``); the built-in carrier and its relay points come from the migrations.

gunicorn serves the production settings exactly as for L4 (``bench.limit_http``), and the same
load generator (2 processes x 4 keep-alive connections) POSTs ``/api/v1/delivery-options``
with the channel's API key, cycling through 300 carts of 1 to 3 lines: 60 % to a home address
(coordinates), 30 % to a store (click-and-collect + ship-to-store), 10 % to a relay point.
The headline is the p95 of the mix, compared with L4's p95 (``limit_detail``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import time
from typing import Any

from bench.context import BenchContext, progress
from bench.limit_http import HOST, gunicorn_server
from bench.loadgen import LoadSpec, generate_load
from bench.project import django_ready
from bench.registry import Measurement, benchmark

SKUS = 2_000
WAREHOUSES = 8
STORES = 32
CARTS = 300
PATH = "/api/v1/delivery-options"
CITIES = (
    ("75001", 48.8606, 2.3376),
    ("69002", 45.7578, 4.8320),
    ("13001", 43.2965, 5.3698),
    ("33000", 44.8378, -0.5792),
    ("59800", 50.6292, 3.0573),
    ("31000", 43.6047, 1.4442),
    ("44000", 47.2184, -1.5536),
    ("67000", 48.5734, 7.7521),
)
RELAY_POINTS = ("PAR-001", "PAR-002", "LYS-001", "MRS-001", "BOD-001", "LIL-001")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
WAREHOUSE_HOURS = {**{day: [["07:00", "21:00"]] for day in _WEEKDAYS}, "sat": [["08:00", "13:00"]]}
STORE_HOURS = {day: [["10:00", "19:30"]] for day in (*_WEEKDAYS, "sat")}


def _network(channel_id: int) -> list[str]:
    """The locations (codes of the stores returned) with hours, positions and capacity."""
    from inventory.models import Location

    rows = []
    for index in range(WAREHOUSES + STORES):
        postcode, latitude, longitude = CITIES[index % len(CITIES)]
        is_warehouse = index < WAREHOUSES
        rows.append(
            Location(
                code=f"B9-{'WH' if is_warehouse else 'ST'}-{index:03d}",
                name=f"B9 {index}",
                kind=Location.Kind.WAREHOUSE if is_warehouse else Location.Kind.STORE,
                postcode=postcode,
                latitude=latitude + (index // len(CITIES)) * 0.01,
                longitude=longitude,
                opening_hours=WAREHOUSE_HOURS if is_warehouse else STORE_HOURS,
                ships_parcels=is_warehouse,
                is_ship_from_store=not is_warehouse,
                is_click_and_collect=not is_warehouse,
                daily_capacity=5_000 if is_warehouse else 200,
                pick_minutes=10 if is_warehouse else 5,
                pack_minutes=5,
            )
        )
    locations = Location.objects.bulk_create(rows)
    Location.channels.through.objects.bulk_create(
        Location.channels.through(location_id=location.pk, saleschannel_id=channel_id)
        for location in locations
    )
    return [location.code for location in locations if location.kind == Location.Kind.STORE]


def _bodies(stores: list[str], skus: int) -> tuple[bytes, ...]:
    from bench import seed

    chooser = random.Random(9)
    bodies = []
    for index in range(CARTS):
        lines = [
            {"sku": seed.sku("B9", chooser.randrange(skus)), "quantity": chooser.randint(1, 2)}
            for _ in range(chooser.randint(1, 3))
        ]
        kind = index % 10
        if kind < 6:
            _, latitude, longitude = chooser.choice(CITIES)
            destination: dict[str, Any] = {
                "type": "home",
                "latitude": latitude + chooser.uniform(-0.05, 0.05),
                "longitude": longitude + chooser.uniform(-0.05, 0.05),
                "country": "FR",
            }
        elif kind < 9:
            destination = {"type": "store", "store": chooser.choice(stores)}
        else:
            destination = {
                "type": "relay_point",
                "carrier": "omnilog-rates",
                "point_id": chooser.choice(RELAY_POINTS),
            }
        bodies.append(json.dumps({"lines": lines, "destination": destination}).encode())
    return tuple(bodies)


@benchmark(
    "B9",
    limit="L4",
    limit_detail="p95_ms",
    goal="<= 3",
    unit="ms p95",
    title="Delivery promise API: 40 locations, home / store / relay carts, p95",
)
def promise_api(context: BenchContext) -> Measurement:
    """POST /delivery-options on a demo-like network; p95 against L4's p95."""
    django_ready(context)
    from django.db import connection
    from django.db.models import F

    from bench import seed
    from channels_app.models import ChannelAPIKey
    from inventory.models import Product

    skus = SKUS if context.duration >= 5 else SKUS // 4
    channel_id = seed.channel_create(code="b9")
    stores = _network(channel_id)
    product_ids = seed.products_create(prefix="B9", count=skus)
    Product.objects.filter(pk__in=product_ids).update(
        weight_grams=300 + F("id") % 1500, length_mm=300, width_mm=200, height_mm=40 + F("id") % 60
    )
    from inventory.models import Location

    location_ids = list(
        Location.objects.filter(code__startswith="B9-").order_by("pk").values_list("pk", flat=True)
    )
    progress(f"B9: seeding {skus} SKUs x {len(location_ids)} locations")
    started = time.perf_counter()
    levels = seed.stock_levels_seed(
        product_ids=product_ids, location_ids=location_ids, with_ledger=False
    )
    progress(f"B9: {levels} levels seeded in {time.perf_counter() - started:.1f} s")
    _, key = ChannelAPIKey.objects.create_key(name="b9", channel_id=channel_id)
    bodies = _bodies(stores, skus)
    connection.close()
    os.environ["CHANNEL_RATE_LIMIT"] = "100000000/min"  # measure the endpoint, not the limit
    server_context = dataclasses.replace(context, database_url=os.environ["DATABASE_URL"])
    sizes = context.sizes
    with gunicorn_server(server_context) as port:
        spec = LoadSpec(
            host=HOST,
            port=port,
            path=PATH,
            seconds=sizes.http_warmup_seconds,
            processes=sizes.http_processes,
            connections=sizes.http_connections_per_process,
            headers=(("X-Api-Key", key),),
            bodies=bodies,
        )
        progress("B9: warm-up")
        generate_load(spec)
        progress("B9: promise API")
        result = generate_load(dataclasses.replace(spec, seconds=context.duration))
    if result.requests == 0 or result.errors:
        raise RuntimeError(f"{result.errors} failed requests ({result.requests} succeeded)")
    details: dict[str, float | int | str] = {
        "skus": skus,
        "locations": len(location_ids),
        "levels": levels,
        "carts": CARTS,
        "p50_ms": round(result.percentile_ms(50), 2),
        "p99_ms": round(result.percentile_ms(99), 2),
        "requests_per_second": round(result.requests_per_second, 1),
    }
    return Measurement(value=round(result.percentile_ms(95), 2), details=details)
