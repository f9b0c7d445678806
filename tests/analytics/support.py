"""Hand-made flows for the analytics tests: orders, fulfillment orders and shipments written
row by row with exact timestamps, so every figure has a known answer.

``world()`` makes channels ``web`` and ``app``, warehouse ``wh`` and store ``st``, one product,
customers ``ann``, ``bob`` and ``cat``, and a carrier. Times are Paris local time in March 2026;
``NOW`` is 10 March 12:00 and ``scope()`` covers 1-10 March.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from channels_app.models import SalesChannel
from fulfillment.models import (
    Carrier,
    FulfillmentOrder,
    FulfillmentOrderLine,
    RoutingDecision,
    Shipment,
)
from omnilog.analytics.scope import Scope
from orders.models import Order, OrderEvent, OrderLine
from tests.factories import (
    CustomerFactory,
    LocationFactory,
    ProductFactory,
    SalesChannelFactory,
    StoreFactory,
)

PARIS = ZoneInfo("Europe/Paris")
_numbers = itertools.count(1)


def at(day: int, hour: float = 0) -> datetime:
    """``day`` March 2026 at ``hour`` (fractions are minutes), Paris time."""
    return datetime(2026, 3, day, tzinfo=PARIS) + timedelta(hours=hour)


NOW = at(10, 12)


def scope(**changes: Any) -> Scope:
    values: dict[str, Any] = {"start": at(1), "end": at(11), "now": NOW, **changes}
    return Scope(**values)


def world() -> dict[str, Any]:
    web = SalesChannelFactory(code="web", name="Web")
    app = SalesChannelFactory(code="app", name="App", kind=SalesChannel.Kind.MOBILE_APP)
    return {
        "web": web,
        "app": app,
        "wh": LocationFactory(code="wh", channels=[web, app]),
        "st": StoreFactory(code="st", channels=[web, app]),
        "product": ProductFactory(sku="SHIRT"),
        "ann": CustomerFactory(email="ann@example.com"),
        "bob": CustomerFactory(email="bob@example.com"),
        "cat": CustomerFactory(email="cat@example.com"),
        "carrier": Carrier.objects.get_or_create(code="test-carrier", defaults={"name": "Test"})[0],
    }


def order(
    net: dict[str, Any],
    *,
    channel: str = "web",
    customer: str = "ann",
    placed: datetime,
    status: str = "placed",
    mode: str = "home_standard",
    lines: Sequence[tuple[int, str, int, int]] = ((1, "10.00", 0, 0),),
    promised: datetime | None = None,
    pickup: str = "",
) -> Order:
    """An order with ``lines`` of (quantity, total, fulfilled, cancelled); the grand total is
    the sum of the line totals."""
    total = sum((Decimal(line[1]) for line in lines), Decimal("0"))
    created = Order.objects.create(
        number=f"T{next(_numbers):06d}",
        channel=net[channel],
        customer=net[customer],
        status=status,
        currency="EUR",
        subtotal=total,
        grand_total=total,
        delivery_mode=mode,
        pickup_location=net[pickup] if pickup else None,
        placed_at=placed,
        promised_at=promised,
        promised_date=promised.astimezone(PARIS).date() if promised else None,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=created,
            line_number=number,
            product=net["product"],
            sku="SHIRT",
            name="Shirt",
            quantity=quantity,
            quantity_fulfilled=fulfilled,
            quantity_cancelled=cancelled,
            unit_price=Decimal(line_total) / quantity,
            total=Decimal(line_total),
            delivery_mode=mode,
        )
        for number, (quantity, line_total, fulfilled, cancelled) in enumerate(lines, start=1)
    )
    return created


def fulfillment(
    net: dict[str, Any],
    placed_order: Order,
    location: str,
    *,
    status: str = "created",
    routed: datetime,
    accepted: datetime | None = None,
    picked: datetime | None = None,
    packed: datetime | None = None,
    shipped: datetime | None = None,
    ready: datetime | None = None,
    collected: datetime | None = None,
    delivered: datetime | None = None,
    rejected: Sequence[tuple[int, str]] = (),
) -> FulfillmentOrder:
    """A fulfillment order of every line of ``placed_order`` at ``location`` with the stage
    times given; ``rejected`` is (units, reason) per line; ``delivered`` adds a delivered
    shipment."""
    version = RoutingDecision.objects.filter(order=placed_order).count() + 1
    decision = RoutingDecision.objects.create(
        order=placed_order, order_version=version, trigger="placed", outcome="routed"
    )
    created = FulfillmentOrder.objects.create(
        order=placed_order,
        location=net[location],
        routing_decision=decision,
        status=status,
        delivery_mode=placed_order.delivery_mode,
        accept_by=routed + timedelta(hours=4),
        accepted_at=accepted,
        picked_at=picked,
        packed_at=packed,
        shipped_at=shipped,
        ready_for_pickup_at=ready,
        collected_at=collected,
    )
    FulfillmentOrder.objects.filter(pk=created.pk).update(created_at=routed)
    lines = list(placed_order.lines.order_by("line_number"))
    for index, line in enumerate(lines):
        units, reason = rejected[index] if index < len(rejected) else (0, "")
        FulfillmentOrderLine.objects.create(
            fulfillment_order=created,
            order_line=line,
            quantity=line.quantity,
            quantity_rejected=units,
            rejection_reason=reason,
        )
    if delivered is not None:
        Shipment.objects.create(
            fulfillment_order=created,
            carrier=net["carrier"],
            service="standard",
            tracking_number=f"TRK{created.pk}",
            status="delivered",
            weight_grams=500,
            length_mm=300,
            width_mm=200,
            height_mm=100,
            price=Decimal("5.00"),
            label_pdf=b"%PDF-",
            shipped_at=shipped,
            delivered_at=delivered,
        )
    return created


def cancelled_event(placed_order: Order, reason: str) -> None:
    OrderEvent.objects.create(
        order=placed_order,
        kind=OrderEvent.Kind.CANCELLED,
        from_status="placed",
        to_status="cancelled",
        message=reason,
    )


def hours(value: float | None) -> float | None:
    return None if value is None else round(value / 3600, 4)
