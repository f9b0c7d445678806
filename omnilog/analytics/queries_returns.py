"""Returns and pickups: return rates by reason, pickup no-shows per store.

Returns are counted for the orders in scope (placed in the period): a return rate is "of the
units these orders delivered, how many came back", whenever they came back. Refused and
cancelled return requests bring nothing back and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from omnilog.analytics.rows import run
from omnilog.analytics.scope import TABLES, Scope


@dataclass(frozen=True)
class ReturnReasons:
    orders_fulfilled: int  # orders in scope with at least one unit fulfilled
    units_fulfilled: int
    orders_returned: int
    units_returned: int
    by_reason: tuple[tuple[str, int, int, int], ...]  # (reason, returns, units, orders)


def return_reasons(scope: Scope) -> ReturnReasons:
    rows = run(
        "returns",
        scope,
        f"""SELECT 0, NULL, count(DISTINCT so.id) FILTER (WHERE l.quantity_fulfilled > 0),
                  coalesce(sum(l.quantity_fulfilled), 0),
                  (SELECT count(DISTINCT order_id) FROM rows),
                  (SELECT coalesce(sum(units), 0) FROM rows)
        FROM scoped_orders so JOIN {TABLES["order_line"]} l ON l.order_id = so.id
        UNION ALL
        SELECT 1, reason, count(DISTINCT return_id), sum(units), count(DISTINCT order_id), 0
        FROM rows GROUP BY reason
        ORDER BY 1, 4 DESC, 2""",
    )
    _, _, orders, units, orders_returned, units_returned = rows[0]
    return ReturnReasons(
        orders_fulfilled=int(orders),
        units_fulfilled=int(units),
        orders_returned=int(orders_returned),
        units_returned=int(units_returned),
        by_reason=tuple(
            (reason, int(returns), int(count), int(by_order))
            for _, reason, returns, count, by_order, _ in rows[1:]
        ),
    )


@dataclass(frozen=True)
class Pickups:
    location_id: int
    location: str
    ready: int
    collected: int
    no_shows: int
    reminded: int


def pickups(scope: Scope) -> list[Pickups]:
    """Per store: fulfillment orders made ready for pickup, collected, no-shows, reminded."""
    rows = run(
        "pickups",
        scope,
        """SELECT location_id, location_code, count(*), count(*) FILTER (WHERE is_collected),
                  count(*) FILTER (WHERE is_no_show), count(*) FILTER (WHERE is_reminded)
        FROM rows GROUP BY 1, 2 ORDER BY 2""",
    )
    return [Pickups(*row) for row in rows]
