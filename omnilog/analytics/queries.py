"""Flow measures as SQL aggregates over the order timeline's timestamps (one query each).

Each function groups the rows of one measure (``omnilog.analytics.rows``); percentiles are
PostgreSQL's ``percentile_cont`` (``omnilog.analytics.stats.percentile`` is the same
definition).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from omnilog.analytics.rows import CHANNEL_OR_ALL, run
from omnilog.analytics.scope import Scope, fetch, scope_sql

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
    rows = run(
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
    rows = run(
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
    rows = run(
        "basket",
        scope,
        f"""SELECT channel_id, {CHANNEL_OR_ALL}, count(*), coalesce(sum(grand_total), 0),
                  round(avg(grand_total), 2), round(avg(units), 2)
        FROM rows GROUP BY ROLLUP ((channel_id, channel_code))
        ORDER BY channel_id IS NULL, 2""",
    )
    return [Basket(*row) for row in rows]


def customer_order_counts(scope: Scope) -> list[tuple[int, int]]:
    """(orders per customer, customers with that many) for the orders not cancelled."""
    rows = run(
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
    rows = run(
        "fill_rate",
        scope,
        f"""SELECT channel_id, {CHANNEL_OR_ALL}, count(*),
                  count(*) FILTER (WHERE is_filled), coalesce(sum(quantity), 0),
                  coalesce(sum(quantity_fulfilled), 0), coalesce(sum(total), 0),
                  coalesce(round(sum(total * quantity_fulfilled / quantity), 2), 0)
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
    rows = run(
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
    rows = run(
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
    rows = run(
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
    rows = run(
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
    rows = run(
        "journeys",
        scope,
        """SELECT channel_id, channel_code, delivery_mode, return_channel, count(*)
        FROM rows GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 2, 3, 4""",
    )
    return [(int(a), b, c, d, int(e)) for a, b, c, d, e in rows]


def channel_combinations(scope: Scope) -> list[tuple[str, int, int]]:
    """(channels a customer ordered on, how many channels, customers), most customers first."""
    rows = run(
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
