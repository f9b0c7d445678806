"""What a figure is computed over: a period of order placement, a channel, a location.

``Scope`` is the one argument of every aggregate (``omnilog.analytics.queries``) and drill-down
(``omnilog.analytics.drill``); ``scope_sql`` is the SQL both start from, so a figure and the
orders behind it select the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection

from channels_app.models import SalesChannel
from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, RoutingDecision, Shipment
from inventory.models import Location, StockLevel, StockMovement
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent, OrderLine
from returns.models import Refund, ReturnLine, ReturnRequest

# Table names, from the models (never typed by hand in the SQL).
TABLES = {
    "order": Order._meta.db_table,
    "order_line": OrderLine._meta.db_table,
    "order_event": OrderEvent._meta.db_table,
    "channel": SalesChannel._meta.db_table,
    "location": Location._meta.db_table,
    "fulfillment_order": FulfillmentOrder._meta.db_table,
    "fulfillment_line": FulfillmentOrderLine._meta.db_table,
    "shipment": Shipment._meta.db_table,
    "routing_decision": RoutingDecision._meta.db_table,
    "stock_level": StockLevel._meta.db_table,
    "stock_movement": StockMovement._meta.db_table,
    "outbox": OutboxEvent._meta.db_table,
    "return_request": ReturnRequest._meta.db_table,
    "return_line": ReturnLine._meta.db_table,
    "refund": Refund._meta.db_table,
}

# Pickup journeys end when the order is ready (the promise is "ready for collection by").
PICKUP_MODES = ("click_and_collect", "ship_to_store")


@dataclass(frozen=True)
class Scope:
    """Orders placed in ``[start, end)``, of one channel and/or with a fulfillment order at one
    location (None: all). ``now`` is the moment "late" and "open" are judged at."""

    start: datetime
    end: datetime
    now: datetime
    channel_id: int | None = None
    location_id: int | None = None

    def params(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "now": self.now,
            "channel": self.channel_id,
            "location": self.location_id,
            "tz": settings.TIME_ZONE,
        }

    @property
    def cache_key(self) -> str:
        return (
            f"{self.start.isoformat()}|{self.end.isoformat()}|"
            f"{self.channel_id or '-'}|{self.location_id or '-'}"
        )


def scope_sql(*, with_period: bool = True) -> str:
    """CTEs ``scoped_orders`` (one row per order in scope) and ``scoped_fos`` (one row per
    fulfillment order of those orders, at the scope's location when it has one, with every
    stage timestamp; ``delivered_at`` is the carrier's delivery of its shipment)."""
    period = "o.placed_at >= %(start)s AND o.placed_at < %(end)s AND" if with_period else ""
    t = TABLES
    return f"""
    scoped_orders AS (
        SELECT o.id, o.channel_id, c.code AS channel_code, o.customer_id, o.status,
               o.delivery_mode, o.grand_total, o.placed_at, o.promised_at,
               (o.placed_at AT TIME ZONE %(tz)s)::date AS placed_day
        FROM {t["order"]} o JOIN {t["channel"]} c ON c.id = o.channel_id
        WHERE {period}
          (%(channel)s::bigint IS NULL OR o.channel_id = %(channel)s::bigint)
          AND (%(location)s::bigint IS NULL OR EXISTS (
              SELECT 1 FROM {t["fulfillment_order"]} lf
              WHERE lf.order_id = o.id AND lf.location_id = %(location)s::bigint))
    ),
    scoped_fos AS (
        SELECT f.id AS fo_id, f.order_id, f.location_id, l.code AS location_code, f.status,
               so.channel_id, so.channel_code, f.delivery_mode, so.placed_at, so.placed_day,
               f.created_at AS routed_at, f.accepted_at, f.picked_at, f.packed_at,
               f.shipped_at, f.ready_for_pickup_at, f.collected_at, d.delivered_at
        FROM {t["fulfillment_order"]} f
        JOIN scoped_orders so ON so.id = f.order_id
        JOIN {t["location"]} l ON l.id = f.location_id
        LEFT JOIN LATERAL (
            SELECT max(s.delivered_at) AS delivered_at FROM {t["shipment"]} s
            WHERE s.fulfillment_order_id = f.id AND s.status = 'delivered'
        ) d ON true
        WHERE %(location)s::bigint IS NULL OR f.location_id = %(location)s::bigint
    )"""


def fetch(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Run one read-only aggregate; rows as tuples."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
