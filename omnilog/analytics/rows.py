"""The rows every measure counts: one CTE per measure, built on ``scope_sql``.

Every measure is a CTE of *rows* (one per fulfillment order, order, line, return or customer,
with the columns a figure groups by and the flags it counts). The aggregates
(``omnilog.analytics.queries``, ``queries_returns``) group those rows, and
``omnilog.analytics.drill`` selects the orders of the same rows for a figure, so a figure and
its drill-down cannot disagree.
"""

from __future__ import annotations

from typing import Any

from fulfillment.services.fulfillment_orders import (
    ALLOCATION_CANCELLED_REASON,
    SLA_TIMEOUT_REASON,
)
from fulfillment.services.no_show import REMINDER_MARK
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
# Return stages (from ``returns``): requested -> received -> first confirmed refund.
RETURN_STAGES = (
    ("return_received", "return requested → received"),
    ("return_refunded", "return received → refunded"),
)
STAGE_LABELS = {name: label for name, label, _, _ in STAGES} | dict(RETURN_STAGES)
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
# Return requests that never brought anything back.
RETURN_WITHDRAWN = ("refused", "cancelled")
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
    # One row per (fulfillment order, stage it went through) with its duration, then one per
    # (return request, return stage): the return's mode stands in the "mode" column and the
    # location that received it in the "location" columns.
    "lead_time": f"""
    rows AS (
        SELECT fo.order_id, fo.channel_id, fo.channel_code, fo.delivery_mode, fo.location_id,
               fo.location_code, fo.placed_day, st.stage, st.position,
               EXTRACT(EPOCH FROM st.finished - st.started)::float8 AS seconds
        FROM scoped_fos fo CROSS JOIN LATERAL (VALUES {_stage_values()})
             AS st(stage, position, started, finished)
        WHERE st.started IS NOT NULL AND st.finished IS NOT NULL
        UNION ALL
        SELECT so.id, so.channel_id, so.channel_code, r.mode, r.received_location_id, l.code,
               so.placed_day, st.stage, st.position,
               EXTRACT(EPOCH FROM st.finished - st.started)::float8
        FROM scoped_orders so
        JOIN {T["return_request"]} r ON r.order_id = so.id
        LEFT JOIN {T["location"]} l ON l.id = r.received_location_id
        LEFT JOIN LATERAL (
            SELECT min(f.confirmed_at) AS refunded_at FROM {T["refund"]} f
            WHERE f.return_request_id = r.id AND f.status = 'confirmed'
        ) f ON true
        CROSS JOIN LATERAL (VALUES
            ('return_received', {len(STAGES)}, r.created_at, r.received_at),
            ('return_refunded', {len(STAGES) + 1}, r.received_at, f.refunded_at)
        ) AS st(stage, position, started, finished)
        WHERE st.started IS NOT NULL AND st.finished IS NOT NULL
          AND (%(location)s::bigint IS NULL OR r.received_location_id = %(location)s::bigint)
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
    # Order channel -> delivery mode -> return mode of its first return ("no return").
    "journeys": f"""
    rows AS (
        SELECT so.id AS order_id, so.channel_id, so.channel_code, so.delivery_mode,
               coalesce((SELECT 'return: ' || r.mode FROM {T["return_request"]} r
                         WHERE r.order_id = so.id AND r.status NOT IN {RETURN_WITHDRAWN}
                         ORDER BY r.id LIMIT 1), 'no return') AS return_channel
        FROM scoped_orders so
    )""",
    # Return lines of the returns that brought (or will bring) something back.
    "returns": f"""
    rows AS (
        SELECT so.id AS order_id, so.channel_id, so.channel_code, r.id AS return_id, r.mode,
               rl.reason_code AS reason, rl.quantity_requested AS units
        FROM scoped_orders so
        JOIN {T["return_request"]} r ON r.order_id = so.id AND r.status NOT IN {RETURN_WITHDRAWN}
        JOIN {T["return_line"]} rl ON rl.return_request_id = r.id
    )""",
    # Fulfillment orders made ready for pickup: collected, cancelled as a no-show by the sweep
    # (``fulfillment.services.no_show``: its cancel event names the fulfillment order), and
    # whether the customer was reminded.
    "pickups": f"""
    rows AS (
        SELECT fo.fo_id, fo.order_id, fo.location_id, fo.location_code,
               fo.collected_at IS NOT NULL AS is_collected,
               EXISTS (SELECT 1 FROM {T["order_event"]} e
                       WHERE e.order_id = fo.order_id AND e.details->>'no_show' = 'cancel'
                         AND e.details->>'fulfillment_order_id' = fo.fo_id::text) AS is_no_show,
               EXISTS (SELECT 1 FROM {T["order_event"]} e
                       WHERE e.order_id = fo.order_id AND e.kind = 'pickup'
                         AND e.details->>'no_show' = %(reminder)s) AS is_reminded
        FROM scoped_fos fo WHERE fo.ready_for_pickup_at IS NOT NULL
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
        "reminder": REMINDER_MARK,
    }


def measure_sql(measure: str, select: str) -> str:
    """``WITH <scope>, <measure rows> <select>``."""
    return f"WITH {scope_sql()}, {ROWS[measure]}\n{select}"


def run(measure: str, scope: Scope, select: str) -> list[tuple[Any, ...]]:
    return fetch(measure_sql(measure, select), measure_params(scope))
