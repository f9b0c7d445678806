"""A delivered web order to return, built through the real services (the fulfillment journeys'
network: channel ``web``, warehouse ``wh-paris`` with 10 SHIRT and 4 MUG, store ``st-opera``
with 3 SHIRT and 2 CAP, the built-in carrier and its relay points), and API clients."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from fulfillment.models import RelayPoint
from fulfillment.services.lifecycle import fulfillment_order_ship
from fulfillment.services.shipping import shipment_create
from inventory.models import StockLevel, StockMovement
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent
from orders.services.inputs import DeliveryInput
from tests.factories import SalesChannelFactory, channel_api_key
from tests.fulfillment.shipping_support import signed_event
from tests.fulfillment.test_journeys import CARRIER, PARIS, place, prepare, route, world


def _deliver(net: dict[str, Any], fo: Any, delivered_at: datetime) -> None:
    """Label, ship at the dock, then the carrier's signed webhooks dated ``delivered_at``."""
    shipment = shipment_create(
        fulfillment_order_id=fo.pk, carrier_code=CARRIER, service="standard", actor="staff:ana"
    )
    fulfillment_order_ship(fulfillment_order_id=fo.pk, actor="staff:ana")
    client = APIClient()
    for index, status in enumerate(("in_transit", "delivered")):
        headers, body = signed_event(
            net["carrier"],
            event_id=f"evt-{shipment.tracking_number}-{index}",
            tracking_number=shipment.tracking_number,
            status=status,
            occurred_at=delivered_at.isoformat(),
        )
        meta: dict[str, Any] = {
            f"HTTP_{key.upper().replace('-', '_')}": value for key, value in headers.items()
        }
        response = client.post(
            f"/api/v1/carriers/{CARRIER}/events",
            data=body,
            content_type="application/json",
            **meta,
        )
        assert response.status_code == 200, response.content


def delivered_home_order(
    lines: dict[str, int] | None = None, *, days_ago: int = 2
) -> tuple[dict[str, Any], Order]:
    """A web order shipped home from ``wh-paris``, delivered ``days_ago`` days ago."""
    net = world()
    return net, another_delivered_order(net, lines, days_ago=days_ago)


def another_delivered_order(
    net: dict[str, Any], lines: dict[str, int] | None = None, *, days_ago: int = 2
) -> Order:
    """One more delivered web order in the same network (the outbox mark moves past it)."""
    wanted = lines or {"MUG": 2, "SHIRT": 1}
    # In the warehouse's walking order (bins A-01-1 SHIRT, B-04-2 MUG, C-02-1 CAP).
    lines = {sku: wanted[sku] for sku in ("SHIRT", "MUG", "CAP") if sku in wanted}
    order = place(net, lines, DeliveryInput(mode="home_standard", address=PARIS))
    fo = route(order)
    prepare(fo, lines, weight_grams=900)
    _deliver(net, fo, timezone.now() - timedelta(days=days_ago))
    order.refresh_from_db()
    assert order.status == "delivered"
    net["mark"] = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return order


def channel_client(channel: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=channel_api_key(channel))
    return client


def other_channel_client() -> APIClient:
    return channel_client(SalesChannelFactory(code="market", name="Marketplace"))


def staff_client(username: str = "clerk") -> APIClient:
    User.objects.create_user(username, password="pw", is_staff=True)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{username}:pw".encode()).decode()
    )
    return client


def relay_point_id() -> str:
    return RelayPoint.objects.order_by("id").values_list("point_id", flat=True).first() or ""


def counters(sku: str, location: str) -> tuple[int, int, int, int, int]:
    """(on hand, reserved, damaged, QC, in transit) of one level; zeros when there is none."""
    level = StockLevel.objects.filter(product__sku=sku, location__code=location).first()
    if level is None:
        return (0, 0, 0, 0, 0)
    return (level.on_hand, level.reserved, level.damaged, level.quality_control, level.in_transit)


def atp(sku: str, location: str) -> int:
    level = StockLevel.objects.filter(product__sku=sku, location__code=location).first()
    return 0 if level is None else level.atp


def return_movements(sku: str, location: str) -> list[tuple[str, int, int]]:
    """(kind, on hand delta, QC delta) of the level's movements after its sale."""
    return list(
        StockMovement.objects.filter(
            stock_level__product__sku=sku, stock_level__location__code=location
        )
        .exclude(kind__in=["receipt", "reservation", "allocation", "sale", "release"])
        .order_by("id")
        .values_list("kind", "delta_on_hand", "delta_quality_control")
    )


def return_topics(since: int) -> list[str]:
    return list(
        OutboxEvent.objects.filter(id__gt=since, topic__startswith="return.")
        .order_by("id")
        .values_list("topic", flat=True)
    )


def return_timeline(order: Order) -> list[str]:
    return list(
        OrderEvent.objects.filter(order=order, kind="return")
        .order_by("id")
        .values_list("message", flat=True)
    )


def changed_nothing(order: Order) -> dict[str, Any]:
    """What a refused request must leave as it was."""
    from returns.models import Refund, ReturnLine, ReturnRequest

    return {
        "returns": ReturnRequest.objects.count(),
        "lines": ReturnLine.objects.count(),
        "refunds": Refund.objects.count(),
        "events": OrderEvent.objects.filter(order=order).count(),
        "outbox": OutboxEvent.objects.count(),
        "movements": StockMovement.objects.count(),
    }
