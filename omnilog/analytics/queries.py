"""Flow measures as SQL aggregates over the order timeline's timestamps (one query each).

Every measure is a CTE of *rows* (one per fulfillment order, order, line or customer, with the
columns a figure groups by and the flags it counts) built on ``scope_sql``; the aggregate
below groups those rows, and ``omnilog.analytics.drill`` selects the orders of the same rows
for a figure, so a figure and its drill-down cannot disagree. Percentiles are PostgreSQL's
``percentile_cont`` (``omnilog.analytics.stats.percentile`` is the same definition).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fulfillment.services.fulfillment_orders import (
    ALLOCATION_CANCELLED_REASON,
    SLA_TIMEOUT_REASON,
)
from fulfillment.services.order_cancellation import CANCELLED_REASON
from omnilog.analytics.scope import PICKUP_MODES, TABLES, Scope, fetch, scope_sql

T = TABLES

# Stages of a fulfillment order: (name, label, started column, finished column). "shipped" and
# "ready" are the two ends of preparation (home delivery / pickup), "delivered" (carrier) and
# "collected" (handover) the two ends of the journey; "end_to_end" is placed -> either end.
STAGES: tuple[tuple[str, str, str, str], ...] = (
    ("routed", "placed → routed", "placed_at", "routed_at"),
    ("accepted", "routed → accepted", "routed_at", "accepted_at"),
    ("picked", "accepted → picked", "accepted_at", "picked_at"),
    ("packed", "picked → packed", "picked_at", "packed_at"),
    ("shipped", "packed → shipped", "packed_at", "shipped_at"),
    ("ready", "packed → ready for pickup", "packed_at", "ready_for_pickup_at"),
    ("delivered", "shipped → delivered", "shipped_at", "delivered_at"),
    ("collected", "ready → collected", "ready_for_pickup_at", "collected_at"),
    ("end_to_end", "placed → delivered / collected", "placed_at", "coalesce_end"),
)
STAGE_LABELS = {name: label for name, label, _, _ in STAGES}
# Lead-time groups: the dimension a row is cut by, and the column holding its key.
GROUPS = {
    "all": "",
    "channel": "channel_id",
    "mode": "delivery_mode",
    "location": "location_id",
    "day": "placed_day",
}
# The channel's code, or "all" on the ROLLUP's overall row.
CHANNEL_OR_ALL = "CASE WHEN GROUPING(channel_id) = 1 THEN 'all' ELSE min(channel_code) END"
SETTLED_FOR_FILL = ("shipped", "delivered", "collected", "completed")


def _stage_values() -> str:
    rows = []
    for position, (name, _, started, finished) in enumerate(STAGES):
        end = (
            "coalesce(fo.delivered_at, fo.collected_at)"
            if finished == "coalesce_end"
            else (f"fo.{finished}")
        )
        rows.append(f"('{name}', {position}, fo.{started}, {end})")
    return ",\n".join(rows)


ROWS: dict[str, str] = {
    # One row per (fulfillment order, stage it went through), with its duration.
    "lead_time": f"""
    rows AS (
        SELECT fo.*, st.stage, st.position,
               EXTRACT(EPOCH FROM st.finished - st.started)::float8 AS seconds
        FROM scoped_fos fo CROSS JOIN LATERAL (VALUES {_stage_values()})
             AS st(stage, position, started, finished)
        WHERE st.started IS NOT NULL AND st.finished IS NOT NULL
    )""",
    "orders": "rows AS (SELECT so.*, so.id AS order_id FROM scoped_orders so)",
    # Not cancelled: the basket and frequency of what customers kept.
    "basket": f"""
    rows AS (
        SELECT so.*, so.id AS order_id,
               (SELECT coalesce(sum(l.quantity), 0) FROM {T["order_line"]} l
                WHERE l.order_id = so.id) AS units
        FROM scoped_orders so WHERE so.status <> 'cancelled'
    )""",
    "frequency": """
    rows AS (
        SELECT so.id AS order_id, so.customer_id,
               count(*) OVER (PARTITION BY so.customer_id) AS customer_orders
        FROM scoped_orders so WHERE so.status <> 'cancelled'
    )""",
    # Lines of orders that reached their end (shipped, delivered, collected, completed).
    "fill_rate": f"""
    rows AS (
        SELECT so.id AS order_id, so.channel_id, so.channel_code, l.quantity,
               l.quantity_fulfilled, l.total,
               l.quantity_fulfilled >= l.quantity AS is_filled
        FROM scoped_orders so JOIN {T["order_line"]} l ON l.order_id = so.id
        WHERE so.status IN {SETTLED_FOR_FILL}
    )""",
    # Orders with a fulfillment order that kept units, and how many locations kept some.
    "split": f"""
    rows AS (
        SELECT so.id AS order_id, so.channel_id, so.channel_code,
               count(DISTINCT f.location_id) AS locations
        FROM scoped_orders so
        JOIN {T["fulfillment_order"]} f ON f.order_id = so.id
        WHERE EXISTS (SELECT 1 FROM {T["fulfillment_line"]} fl
                      WHERE fl.fulfillment_order_id = f.id
                        AND fl.quantity > fl.quantity_rejected)
        GROUP BY so.id, so.channel_id, so.channel_code
    )""",
    # One row per fulfillment order: did its location refuse units, miss the acceptance SLA,
    # or lose them (stock loss)? Any of the three sent units to another routing.
    "stores": f"""
    rows AS (
        SELECT fo.fo_id, fo.order_id, fo.location_id, fo.location_code,
               coalesce(bool_or(fl.quantity_rejected > 0
                   AND fl.rejection_reason NOT IN (%(sla)s, %(lost)s)
                   AND fl.rejection_reason NOT LIKE %(cancelled)s), false) AS is_rejected,
               coalesce(bool_or(fl.quantity_rejected > 0
                   AND fl.rejection_reason = %(sla)s), false) AS is_timed_out,
               coalesce(bool_or(fl.quantity_rejected > 0
                   AND fl.rejection_reason NOT LIKE %(cancelled)s), false) AS is_rerouted
        FROM scoped_fos fo
        LEFT JOIN {T["fulfillment_line"]} fl ON fl.fulfillment_order_id = fo.fo_id
        GROUP BY fo.fo_id, fo.order_id, fo.location_id, fo.location_code
    )""",
    # Orders with a promise, when they reached it (home: the last delivery of a delivered
    # order; pickup: the last fulfillment order ready of an order ready or collected).
    "on_time": f"""
    reached AS (
        SELECT so.*,
            CASE WHEN so.delivery_mode IN {PICKUP_MODES} THEN
                CASE WHEN so.status IN ('ready_for_pickup', 'collected', 'completed') THEN
                    (SELECT max(f.ready_for_pickup_at) FROM {T["fulfillment_order"]} f
                     WHERE f.order_id = so.id) END
            ELSE
                CASE WHEN so.status IN ('delivered', 'completed') THEN
                    (SELECT max(s.delivered_at) FROM {T["shipment"]} s
                     JOIN {T["fulfillment_order"]} f ON f.id = s.fulfillment_order_id
                     WHERE f.order_id = so.id AND s.status = 'delivered') END
            END AS reached_at
        FROM scoped_orders so
        WHERE so.promised_at IS NOT NULL AND so.status <> 'cancelled'
    ),
    rows AS (
        SELECT r.*, r.id AS order_id,
               r.reached_at IS NOT NULL AND r.reached_at <= r.promised_at AS is_on_time
        FROM reached r
        WHERE r.reached_at IS NOT NULL OR r.promised_at < %(now)s
    )""",
    # Cancelled orders with the reason of their cancelling event.
    "cancellations": f"""
    rows AS (
        SELECT so.id AS order_id, so.channel_id, so.channel_code,
               coalesce(nullif(e.message, ''), 'no reason given') AS reason
        FROM scoped_orders so
        JOIN LATERAL (
            SELECT message FROM {T["order_event"]} e
            WHERE e.order_id = so.id AND e.to_status = 'cancelled'
            ORDER BY e.id DESC LIMIT 1
        ) e ON true
        WHERE so.status = 'cancelled'
    )""",
    # Order channel -> delivery mode -> return channel ("no return" until returns exist).
    "journeys": """
    rows AS (
        SELECT so.id AS order_id, so.channel_id, so.channel_code, so.delivery_mode,
               'no return'::text AS return_channel
        FROM scoped_orders so
    )""",
    "multichannel": """
    customers AS (
        SELECT so.customer_id,
               array_to_string(array_agg(DISTINCT so.channel_code ORDER BY so.channel_code),
                               ' + ') AS combination,
               count(DISTINCT so.channel_id) AS channel_count
        FROM scoped_orders so GROUP BY so.customer_id
    ),
    rows AS (
        SELECT so.id AS order_id, c.customer_id, c.combination, c.channel_count
        FROM scoped_orders so JOIN customers c ON c.customer_id = so.customer_id
    )""",
}


def measure_params(scope: Scope) -> dict[str, Any]:
    return {
        **scope.params(),
        "sla": SLA_TIMEOUT_REASON,
        "lost": ALLOCATION_CANCELLED_REASON,
        "cancelled": f"{CANCELLED_REASON}%",
    }


def measure_sql(measure: str, select: str) -> str:
    """``WITH <scope>, <measure rows> <select>``."""
    return f"WITH {scope_sql()}, {ROWS[measure]}\n{select}"


def _run(measure: str, scope: Scope, select: str) -> list[tuple[Any, ...]]:
    return fetch(measure_sql(measure, select), measure_params(scope))


# --- Aggregates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadTime:
    stage: str
    group: str  # a key of GROUPS
    key: str  # the group's value (channel id, mode, location id, ISO day); "" for all
    label: str
    count: int
    p50: float
    p90: float
    mean: float


def lead_times(scope: Scope) -> list[LeadTime]:
    """Count, p50, p90 and mean seconds per stage, overall and per channel, delivery mode,
    location and day of placement (one query, grouping sets)."""
    rows = _run(
        "lead_time",
        scope,
        """SELECT stage, min(position),
            CASE WHEN GROUPING(channel_id) = 0 THEN 'channel'
                 WHEN GROUPING(delivery_mode) = 0 THEN 'mode'
                 WHEN GROUPING(location_id) = 0 THEN 'location'
                 WHEN GROUPING(placed_day) = 0 THEN 'day' ELSE 'all' END,
            channel_id, channel_code, delivery_mode, location_id, location_code, placed_day,
            count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds),
            percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds), avg(seconds)
        FROM rows
        GROUP BY GROUPING SETS ((stage), (stage, channel_id, channel_code),
            (stage, delivery_mode), (stage, location_id, location_code), (stage, placed_day))
        ORDER BY 2, 3, 5, 6, 8, 9""",
    )
    result = []
    for (
        stage,
        _,
        group,
        channel_id,
        channel,
        mode,
        location_id,
        location,
        day,
        count,
        p50,
        p90,
        mean,
    ) in rows:
        key, label = {
            "all": ("", "all"),
            "channel": (str(channel_id), channel),
            "mode": (mode, mode),
            "location": (str(location_id), location),
            "day": (day.isoformat() if isinstance(day, date) else "", str(day)),
        }[group]
        result.append(LeadTime(stage, group, key, label, count, p50, p90, mean))
    return result


@dataclass(frozen=True)
class ChannelStatus:
    channel_id: int
    channel: str
    status: str
    orders: int
    value: Decimal


def orders_by_channel_status(scope: Scope) -> list[ChannelStatus]:
    rows = _run(
        "orders",
        scope,
        "SELECT channel_id, channel_code, status, count(*), coalesce(sum(grand_total), 0) "
        "FROM rows GROUP BY 1, 2, 3 ORDER BY 2, 3",
    )
    return [ChannelStatus(*row) for row in rows]


@dataclass(frozen=True)
class Basket:
    channel_id: int | None  # None: every channel
    channel: str
    orders: int
    value: Decimal
    average_value: Decimal
    average_units: Decimal


def baskets(scope: Scope) -> list[Basket]:
    """Average basket (value, units) of the orders not cancelled, per channel and overall."""
    rows = _run(
        "basket",
        scope,
        f"""SELECT channel_id, {CHANNEL_OR_ALL}, count(*), sum(grand_total),
                  round(avg(grand_total), 2), round(avg(units), 2)
        FROM rows GROUP BY ROLLUP ((channel_id, channel_code))
        ORDER BY channel_id IS NULL, 2""",
    )
    return [Basket(*row) for row in rows]


def customer_order_counts(scope: Scope) -> list[tuple[int, int]]:
    """(orders per customer, customers with that many) for the orders not cancelled."""
    rows = _run(
        "frequency",
        scope,
        "SELECT customer_orders, count(DISTINCT customer_id) FROM rows GROUP BY 1 ORDER BY 1",
    )
    return [(int(orders), int(customers)) for orders, customers in rows]


@dataclass(frozen=True)
class FillRate:
    channel_id: int | None
    channel: str
    lines: int
    lines_filled: int
    units: int
    units_filled: int
    value: Decimal
    value_filled: Decimal


def fill_rates(scope: Scope) -> list[FillRate]:
    """Lines, units and value delivered of what settled orders asked for."""
    rows = _run(
        "fill_rate",
        scope,
        f"""SELECT channel_id, {CHANNEL_OR_ALL}, count(*),
                  count(*) FILTER (WHERE is_filled), sum(quantity), sum(quantity_fulfilled),
                  sum(total), round(sum(total * quantity_fulfilled / quantity), 2)
        FROM rows GROUP BY ROLLUP ((channel_id, channel_code))
        ORDER BY channel_id IS NULL, 2""",
    )
    return [FillRate(*row) for row in rows]


@dataclass(frozen=True)
class Split:
    channel_id: int | None
    channel: str
    orders: int
    split_orders: int


def splits(scope: Scope) -> list[Split]:
    rows = _run(
        "split",
        scope,
        f"""SELECT channel_id, {CHANNEL_OR_ALL}, count(*),
                  count(*) FILTER (WHERE locations > 1)
        FROM rows GROUP BY ROLLUP ((channel_id, channel_code))
        ORDER BY channel_id IS NULL, 2""",
    )
    return [Split(*row) for row in rows]


@dataclass(frozen=True)
class StoreReliability:
    location_id: int
    location: str
    fulfillment_orders: int
    rejected: int
    timed_out: int
    rerouted: int


def store_reliability(scope: Scope) -> list[StoreReliability]:
    """Per location: fulfillment orders received, refused (some units rejected by the
    location), timed out (not accepted in time) and re-routed (any units sent elsewhere:
    refusals, timeouts and stock losses; order cancellations are not counted)."""
    rows = _run(
        "stores",
        scope,
        """SELECT location_id, location_code, count(*), count(*) FILTER (WHERE is_rejected),
                  count(*) FILTER (WHERE is_timed_out), count(*) FILTER (WHERE is_rerouted)
        FROM rows GROUP BY 1, 2 ORDER BY 2""",
    )
    return [StoreReliability(*row) for row in rows]


@dataclass(frozen=True)
class OnTime:
    group: str  # all, channel, mode
    key: str
    label: str
    orders: int
    on_time: int


def on_time(scope: Scope) -> list[OnTime]:
    """Orders judged against their promise (reached it, or past it at ``scope.now``)."""
    rows = _run(
        "on_time",
        scope,
        """SELECT CASE WHEN GROUPING(channel_id) = 0 THEN 'channel'
                       WHEN GROUPING(delivery_mode) = 0 THEN 'mode' ELSE 'all' END,
                  channel_id, channel_code, delivery_mode, count(*),
                  count(*) FILTER (WHERE is_on_time)
        FROM rows
        GROUP BY GROUPING SETS ((), (channel_id, channel_code), (delivery_mode))
        ORDER BY 1, 3, 4""",
    )
    result = []
    for group, channel_id, channel, mode, orders, punctual in rows:
        key, label = {
            "all": ("", "all"),
            "channel": (str(channel_id), channel),
            "mode": (mode, mode),
        }[group]
        result.append(OnTime(group, key, label, orders, punctual))
    return result


def cancellations(scope: Scope) -> tuple[int, list[tuple[str, int]]]:
    """(orders in scope, [(reason, cancelled orders)]) most frequent reason first."""
    rows = _run(
        "cancellations",
        scope,
        """SELECT 0, NULL, (SELECT count(*) FROM scoped_orders)
        UNION ALL SELECT 1, reason, count(*) FROM rows GROUP BY reason
        ORDER BY 1, 3 DESC, 2""",
    )
    total = rows[0][2]
    return int(total), [(reason, int(count)) for _, reason, count in rows[1:]]


def journeys(scope: Scope) -> list[tuple[int, str, str, str, int]]:
    """(channel id, channel, delivery mode, return channel, orders) per journey."""
    rows = _run(
        "journeys",
        scope,
        """SELECT channel_id, channel_code, delivery_mode, return_channel, count(*)
        FROM rows GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 2, 3, 4""",
    )
    return [(int(a), b, c, d, int(e)) for a, b, c, d, e in rows]


def channel_combinations(scope: Scope) -> list[tuple[str, int, int]]:
    """(channels a customer ordered on, how many channels, customers), most customers first."""
    rows = _run(
        "multichannel",
        scope,
        """SELECT combination, channel_count, count(DISTINCT customer_id)
        FROM rows GROUP BY 1, 2 ORDER BY 3 DESC, 1""",
    )
    return [(combination, int(count), int(customers)) for combination, count, customers in rows]


def stage_funnel(scope: Scope) -> list[tuple[str, int]]:
    """Fulfillment orders reaching each step (routed, accepted, picked, packed, shipped or
    ready, delivered or collected)."""
    ((routed, accepted, picked, packed, left, ended),) = fetch(
        f"""WITH {scope_sql()}
        SELECT count(*), count(accepted_at), count(picked_at), count(packed_at),
               count(coalesce(shipped_at, ready_for_pickup_at)),
               count(coalesce(delivered_at, collected_at))
        FROM scoped_fos""",
        scope.params(),
    )
    return [
        ("routed", routed),
        ("accepted", accepted),
        ("picked", picked),
        ("packed", packed),
        ("shipped / ready", left),
        ("delivered / collected", ended),
    ]
