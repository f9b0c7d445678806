"""Stock measures (stock-outs, count variances) and the late orders' ageing.

Stock-outs are the ``stock.out_of_stock`` outbox events (a level's ATP reaching 0,
``inventory.services.ledger``) that occurred in the period: the outbox keeps them
``OUTBOX_RETENTION_DAYS``, so older periods show fewer. Count variances are the ledger's
``count`` movements (``stock_count`` and snapshots) whose ``occurred_at`` is in the period; a
count that found no difference writes no movement, so only corrections are seen. Both ignore
the channel filter (stock belongs to locations) and honour the location filter.

Late orders are the promise watch's definition (``orders.services.late.order_late_q``, the
same as the order admin's "late" filter) at ``scope.now``, whatever their placement date:
an order still open past its promise is late now even if it was placed long before the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from omnilog.analytics.scope import TABLES, Scope, fetch
from omnilog.analytics.stats import ageing_bucket
from orders.models import Order
from orders.services.late import SETTLED_STATUSES, order_late_q

T = TABLES


@dataclass(frozen=True)
class StockOuts:
    location_id: int
    location: str
    events: int
    products: int


def stock_outs(scope: Scope) -> list[StockOuts]:
    rows = fetch(
        f"""SELECT l.id, l.code, count(*), count(DISTINCT e.payload->>'product_id')
        FROM {T["outbox"]} e
        JOIN {T["location"]} l ON l.id = (e.payload->>'location_id')::bigint
        WHERE e.topic = 'stock.out_of_stock'
          AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
          AND (%(location)s::bigint IS NULL OR l.id = %(location)s::bigint)
        GROUP BY l.id, l.code ORDER BY 3 DESC, 2""",
        scope.params(),
    )
    return [StockOuts(*row) for row in rows]


@dataclass(frozen=True)
class CountVariance:
    location_id: int
    location: str
    corrections: int
    units_over: int  # counted more than the system had
    units_short: int
    # Corrections whose counted quantity is known (``stock_count``): the system's quantity
    # before them and their absolute variance.
    system_units: int
    absolute_variance: int

    @property
    def accuracy(self) -> float | None:
        """Record accuracy of the known corrections: 1 - |variance| / system quantity."""
        if self.system_units <= 0:
            return None
        return max(0.0, 1 - self.absolute_variance / self.system_units)


def count_variances(scope: Scope) -> list[CountVariance]:
    """Per location: count corrections, units found over and short, and for the corrections
    made by ``stock_count`` (reason ``counted N``) the system quantity before the count
    (``N - delta``) with their absolute variance, from which ``accuracy`` follows."""
    rows = fetch(
        f"""SELECT l.id, l.code, count(*),
               coalesce(sum(m.delta_on_hand) FILTER (WHERE m.delta_on_hand > 0), 0),
               coalesce(-sum(m.delta_on_hand) FILTER (WHERE m.delta_on_hand < 0), 0),
               coalesce(sum(substring(m.reason FROM '^counted ([0-9]+)$')::int
                            - m.delta_on_hand), 0),
               coalesce(sum(abs(m.delta_on_hand))
                        FILTER (WHERE m.reason ~ '^counted [0-9]+$'), 0)
        FROM {T["stock_movement"]} m
        JOIN {T["stock_level"]} s ON s.id = m.stock_level_id
        JOIN {T["location"]} l ON l.id = s.location_id
        WHERE m.kind = 'count' AND m.occurred_at >= %(start)s AND m.occurred_at < %(end)s
          AND (%(location)s::bigint IS NULL OR l.id = %(location)s::bigint)
        GROUP BY l.id, l.code ORDER BY 3 DESC, 2""",
        scope.params(),
    )
    return [CountVariance(*row) for row in rows]


def late_orders(scope: Scope) -> QuerySet[Order]:
    """Open orders past their promise at ``scope.now``, of the scope's channel and location."""
    queryset = Order.objects.filter(order_late_q(scope.now)).exclude(status__in=SETTLED_STATUSES)
    if scope.channel_id is not None:
        queryset = queryset.filter(channel_id=scope.channel_id)
    if scope.location_id is not None:
        queryset = queryset.filter(
            Exists(
                FulfillmentOrder.objects.filter(
                    order_id=OuterRef("pk"), location_id=scope.location_id
                )
            )
        )
    return queryset


def _promise_moment(promised_at: datetime | None, promised_date: Any) -> datetime:
    if promised_at is not None:
        return promised_at
    # A date-only promise is kept until the end of that day (local time).
    return timezone.make_aware(datetime.combine(promised_date + timedelta(days=1), time()))


def late_order_buckets(scope: Scope) -> dict[int, str]:
    """Order id -> ageing bucket (``stats.AGEING_BUCKETS``) of every late order (one query)."""
    rows = late_orders(scope).values_list("id", "promised_at", "promised_date")
    return {
        order_id: ageing_bucket(
            max(0.0, (scope.now - _promise_moment(at, day)).total_seconds() / 3600)
        )
        for order_id, at, day in rows
    }
