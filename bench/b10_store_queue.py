"""B10: the store pickup queue page with 500 open orders in one store, p95 against L4's p95.

The scratch database gets one click-and-collect store with 500 open pickup fulfillment orders
(1,000 lines) spread over every queue column (to prepare, preparing, ready, overdue, no-show;
one in ten arrived curbside), written set-wise with ``bulk_create`` (orders, lines, routing
decisions, fulfillment orders and their lines: the queue reads nothing else). A store associate
logs in through the store login form on the gunicorn server (production settings, 4 sync
workers, exactly as L4 in ``bench.limit_http``), and the same load generator sends its session
cookie with ``GET /store/<store>/queue/`` (the whole page) and then the htmx board partial the
page polls every 10 s. The headline is the worse p95 of the two, compared with L4's p95.
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import re
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bench.context import BenchContext, progress
from bench.limit_http import HOST, gunicorn_server
from bench.loadgen import LoadSpec, generate_load
from bench.project import django_ready
from bench.registry import Measurement, benchmark

STORE = "b10-store"
ORDERS = 500
USERNAME = "b10-associate"
PASSWORD = "b10-password-not-secret"
# (fulfillment status, hours to the promise, hours since ready) per order, cycled: every column.
MIX = (
    ("created", 6, None),
    ("accepted", 3, None),
    ("created", 0.5, None),
    ("picking", 2, None),
    ("picked", 1, None),
    ("packed", 4, None),
    ("ready_for_pickup", 1, 2),
    ("ready_for_pickup", -20, 24 * 5),
    ("accepted", -1, None),
    ("ready_for_pickup", 2, 1),
)


def _seed() -> int:
    """The store, its staff member and the open orders; returns the store's id."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from bench import seed
    from channels_app.models import Customer
    from fulfillment.models import (
        FulfillmentOrder,
        FulfillmentOrderLine,
        RoutingDecision,
    )
    from fulfillment.models_store import StoreStaff
    from inventory.models import Location, Product
    from orders.models import Order, OrderLine

    channel_id = seed.channel_create(code="b10")
    store = Location.objects.create(
        code=STORE, name="B10 store", kind=Location.Kind.STORE, is_click_and_collect=True
    )
    store.channels.add(channel_id)
    products = Product.objects.bulk_create(
        Product(sku=f"B10-{index:04d}", ean=f"{4000000000000 + index}", name=f"B10 item {index}")
        for index in range(40)
    )
    user = User.objects.create_user(USERNAME, password=PASSWORD)
    StoreStaff.objects.create(user=user, location=store, role=StoreStaff.Role.ASSOCIATE)
    customer = Customer.objects.create(email="b10@example.com", first_name="B", last_name="Ten")
    now = timezone.now()
    orders = Order.objects.bulk_create(
        Order(
            number=f"B10-{index:06d}",
            channel_id=channel_id,
            customer=customer,
            status="in_fulfillment",
            currency="EUR",
            subtotal=Decimal("40.00"),
            grand_total=Decimal("40.00"),
            delivery_mode="click_and_collect",
            pickup_location=store,
            customer_first_name="Camille",
            customer_last_name=f"Martin {index}",
            customer_email=f"b10-{index}@example.com",
            promised_at=now + timedelta(hours=MIX[index % len(MIX)][1]),
            pickup_slot_start=now + timedelta(hours=MIX[index % len(MIX)][1]),
            pickup_slot_end=now + timedelta(hours=MIX[index % len(MIX)][1] + 1),
            curbside_arrived_at=now if index % 10 == 9 else None,
            curbside_bay=(index % 4) + 1 if index % 10 == 9 else None,
            placed_at=now - timedelta(hours=1),
        )
        for index in range(ORDERS)
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            line_number=number + 1,
            product=products[(index * 2 + number) % len(products)],
            sku=products[(index * 2 + number) % len(products)].sku,
            name=products[(index * 2 + number) % len(products)].name,
            quantity=1 + number,
            quantity_allocated=1 + number,
            unit_price=Decimal("10.00"),
            total=Decimal("20.00"),
            delivery_mode="click_and_collect",
            pickup_location=store,
        )
        for index, order in enumerate(orders)
        for number in range(2)
    )
    decisions = RoutingDecision.objects.bulk_create(
        RoutingDecision(order=order, order_version=1, trigger="placed", outcome="routed")
        for order in orders
    )
    fulfillment_orders = FulfillmentOrder.objects.bulk_create(
        FulfillmentOrder(
            order=order,
            location=store,
            routing_decision=decision,
            status=MIX[index % len(MIX)][0],
            delivery_mode="click_and_collect",
            accept_by=now + timedelta(hours=1),
            ready_for_pickup_at=(
                now - timedelta(hours=MIX[index % len(MIX)][2] or 0)
                if MIX[index % len(MIX)][2] is not None
                else None
            ),
        )
        for index, (order, decision) in enumerate(zip(orders, decisions, strict=True))
    )
    FulfillmentOrderLine.objects.bulk_create(
        FulfillmentOrderLine(
            fulfillment_order=fulfillment_orders[index // 2],
            order_line=line,
            quantity=line.quantity,
        )
        for index, line in enumerate(lines)
    )
    return int(store.pk)


def _log_in(port: int) -> str:
    """The session cookie of the associate, through the store login form."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", "/store/login/")
        response = connection.getresponse()
        page = response.read().decode()
        cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not cookie or not token:
            raise RuntimeError("the store login page gave no CSRF token")
        body = f"username={USERNAME}&password={PASSWORD}&csrfmiddlewaretoken={token.group(1)}"
        connection.request(
            "POST",
            "/store/login/",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={cookie.group(1)}",
            },
        )
        response = connection.getresponse()
        response.read()
        session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie") or "")
        if response.status != 302 or not session:
            raise RuntimeError(f"store login failed ({response.status})")
        return session.group(1)
    finally:
        connection.close()


def _load(
    context: BenchContext, port: int, path: str, headers: tuple[tuple[str, str], ...]
) -> dict[str, Any]:
    sizes = context.sizes
    spec = LoadSpec(
        host=HOST,
        port=port,
        path=path,
        seconds=sizes.http_warmup_seconds,
        processes=sizes.http_processes,
        connections=sizes.http_connections_per_process,
        headers=headers,
    )
    generate_load(spec)
    result = generate_load(dataclasses.replace(spec, seconds=context.duration))
    if result.requests == 0 or result.errors:
        raise RuntimeError(f"{result.errors} failed requests ({result.requests} succeeded)")
    return {
        "p50_ms": round(result.percentile_ms(50), 2),
        "p95_ms": round(result.percentile_ms(95), 2),
        "p99_ms": round(result.percentile_ms(99), 2),
        "requests_per_second": round(result.requests_per_second, 1),
    }


@benchmark(
    "B10",
    limit="L4",
    limit_detail="p95_ms",
    goal="<= 3",
    unit="ms p95",
    title="Store queue page, 500 open pickup orders in one store, p95",
)
def store_queue(context: BenchContext) -> Measurement:
    """The store queue page (and its polled board) with 500 open orders; p95 against L4's."""
    django_ready(context)
    from django.db import connection

    progress(f"B10: seeding {ORDERS} open pickup orders in one store")
    started = time.perf_counter()
    _seed()
    progress(f"B10: seeded in {time.perf_counter() - started:.1f} s")
    connection.close()
    server_context = dataclasses.replace(context, database_url=os.environ["DATABASE_URL"])
    with gunicorn_server(server_context) as port:
        session = _log_in(port)
        headers = (("Cookie", f"sessionid={session}"),)
        progress("B10: queue page")
        page = _load(context, port, f"/store/{STORE}/queue/", headers)
        progress(f"B10: queue page p95 {page['p95_ms']} ms; board partial (htmx poll)")
        board = _load(
            context, port, f"/store/{STORE}/queue/board/", (*headers, ("HX-Request", "true"))
        )
    details: dict[str, float | int | str] = {"orders": ORDERS, "lines": ORDERS * 2}
    details.update({f"page_{name}": value for name, value in page.items()})
    details.update({f"board_{name}": value for name, value in board.items()})
    return Measurement(value=max(page["p95_ms"], board["p95_ms"]), details=details)
