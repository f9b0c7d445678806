"""``GET /metrics``: Prometheus text exposition for operations, read live at each scrape.

Metrics (all prefixed ``omnilog_``):

- ``orders_placed_total{channel}`` (counter): orders ever placed, per channel.
- ``orders{status}`` (gauge): orders per status now.
- ``orders_awaiting_routing`` / ``orders_awaiting_routing_oldest_seconds`` (gauges): placed
  orders without a routing decision yet, and how long the oldest has waited.
- ``routing_duration_seconds`` (histogram): time routing spent per decision
  (``RoutingDecision.duration_ms``), every decision so far.
- ``routing_lag_seconds`` (gauge): placed -> first routing decision, p50 and p90 over the last
  hour's first decisions (``quantile`` label).
- ``celery_queue_length{queue}`` (gauge): messages waiting in each Celery queue (Redis list
  lengths, every priority step of kombu's Redis transport).
- ``outbox_pending_events{subscription}`` / ``webhook_lag_seconds{subscription}`` (gauges):
  outbox events after an active webhook subscription's cursor, and the age of the oldest.
- ``analytics_refreshed_timestamp_seconds`` (gauge): the last dashboard refresh (beat).

Access: a staff session, or ``Authorization: Bearer <METRICS_TOKEN>`` when the setting is set
(compared in constant time). Anyone else gets 401 (no credentials) or 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import timedelta

import redis
from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from omnilog.analytics.dashboard import last_refresh
from omnilog.analytics.scope import TABLES, fetch
from omnilog.core.models import OutboxEvent, WebhookSubscription
from orders.models import Order

ROUTING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# kombu's Redis transport keeps a list per priority step; step 0 is the bare queue name.
PRIORITY_STEPS = (0, 3, 6, 9)
PRIORITY_SEPARATOR = "\x06\x16"


def queue_keys(queue: str) -> list[str]:
    return [queue if step == 0 else f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS]


def queue_lengths() -> dict[str, int]:
    """Messages waiting per Celery queue (``OMNILOG_CELERY_QUEUES``) in the Redis broker."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    try:
        with client.pipeline(transaction=False) as pipe:
            queues = list(settings.OMNILOG_CELERY_QUEUES)
            for queue in queues:
                for key in queue_keys(queue):
                    pipe.llen(key)
            lengths = pipe.execute()
    finally:
        client.close()
    steps = len(PRIORITY_STEPS)
    return {queue: sum(lengths[i * steps : (i + 1) * steps]) for i, queue in enumerate(queues)}


class OmnilogCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily]:
        yield from self._orders()
        yield from self._routing()
        yield self._queues()
        yield from self._webhooks()
        refreshed = last_refresh()
        gauge = GaugeMetricFamily(
            "omnilog_analytics_refreshed_timestamp_seconds",
            "When the analytics dashboards were last recomputed (0: never).",
        )
        gauge.add_metric([], refreshed.timestamp() if refreshed else 0.0)
        yield gauge

    def _orders(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        rows = fetch(
            f"""SELECT c.code, o.status, count(o.id)
            FROM {TABLES["channel"]} c LEFT JOIN {TABLES["order"]} o ON o.channel_id = c.id
            GROUP BY c.code, o.status ORDER BY 1, 2""",
            {},
        )
        placed = CounterMetricFamily(
            "omnilog_orders_placed", "Orders placed, per channel.", labels=["channel"]
        )
        per_channel: dict[str, int] = {}
        per_status: dict[str, int] = {}
        for channel, status, count in rows:
            per_channel[channel] = per_channel.get(channel, 0) + count
            if status is not None:
                per_status[status] = per_status.get(status, 0) + count
        for channel, count in per_channel.items():
            placed.add_metric([channel], count)
        yield placed
        statuses = GaugeMetricFamily("omnilog_orders", "Orders per status now.", labels=["status"])
        for status, count in sorted(per_status.items()):
            statuses.add_metric([status], count)
        yield statuses
        waiting = (
            Order.objects.filter(status=Order.Status.PLACED, routing_decisions__isnull=True)
            .order_by()
            .aggregate(count=Count("id"), oldest=Min("placed_at"))
        )
        awaiting = GaugeMetricFamily(
            "omnilog_orders_awaiting_routing", "Placed orders without a routing decision."
        )
        awaiting.add_metric([], waiting["count"])
        yield awaiting
        oldest = GaugeMetricFamily(
            "omnilog_orders_awaiting_routing_oldest_seconds",
            "How long the oldest order awaiting routing has waited (0: none).",
        )
        age = (timezone.now() - waiting["oldest"]).total_seconds() if waiting["oldest"] else 0.0
        oldest.add_metric([], max(0.0, age))
        yield oldest

    def _routing(self) -> Iterator[GaugeMetricFamily | HistogramMetricFamily]:
        buckets_sql = ", ".join(
            f"count(*) FILTER (WHERE duration_ms <= {bound * 1000})" for bound in ROUTING_BUCKETS
        )
        decisions = TABLES["routing_decision"]
        ((*cumulative, total, total_ms),) = fetch(
            f"SELECT {buckets_sql}, count(*), coalesce(sum(duration_ms), 0) FROM {decisions}", {}
        )
        histogram = HistogramMetricFamily(
            "omnilog_routing_duration_seconds", "Time routing spent per decision."
        )
        histogram.add_metric(
            [],
            [(str(bound), count) for bound, count in zip(ROUTING_BUCKETS, cumulative, strict=True)]
            + [("+Inf", total)],
            sum_value=total_ms / 1000,
        )
        yield histogram
        ((p50, p90),) = fetch(
            f"""SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY lag)
            FROM (SELECT EXTRACT(EPOCH FROM min(d.created_at) - o.placed_at) AS lag
                  FROM {decisions} d JOIN {TABLES["order"]} o ON o.id = d.order_id
                  GROUP BY o.id, o.placed_at
                  HAVING min(d.created_at) >= %(since)s) first_decisions""",
            {"since": timezone.now() - timedelta(hours=1)},
        )
        lag = GaugeMetricFamily(
            "omnilog_routing_lag_seconds",
            "Placed -> first routing decision, over the last hour's first decisions.",
            labels=["quantile"],
        )
        lag.add_metric(["0.5"], float(p50 or 0))
        lag.add_metric(["0.9"], float(p90 or 0))
        yield lag

    def _queues(self) -> GaugeMetricFamily:
        gauge = GaugeMetricFamily(
            "omnilog_celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        for queue, length in queue_lengths().items():
            gauge.add_metric([queue], length)
        return gauge

    def _webhooks(self) -> Iterator[GaugeMetricFamily]:
        pending = GaugeMetricFamily(
            "omnilog_outbox_pending_events",
            "Outbox events after an active webhook subscription's cursor.",
            labels=["subscription"],
        )
        lag = GaugeMetricFamily(
            "omnilog_webhook_lag_seconds",
            "Age of the oldest outbox event an active subscription has not passed (0: none).",
            labels=["subscription"],
        )
        now = timezone.now()
        subscriptions = WebhookSubscription.objects.filter(is_active=True).order_by("id")
        rows = subscriptions.values_list("name", "id", "cursor")
        outbox = OutboxEvent.objects.order_by()
        for name, subscription_id, cursor in rows:
            behind = outbox.filter(id__gt=cursor).aggregate(
                count=Count("id"), oldest=Min("occurred_at")
            )
            label = f"{subscription_id}:{name}"
            pending.add_metric([label], behind["count"])
            oldest = behind["oldest"]
            lag.add_metric([label], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield pending
        yield lag


def _authorised(request: HttpRequest) -> bool | None:
    """True: let in; False: authenticated but refused; None: no valid credentials."""
    token = getattr(settings, "METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        if hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode()):
            return True
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(user.is_active and user.is_staff)
    return None


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    allowed = _authorised(request)
    if allowed is None:
        response = HttpResponse("Authentication required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not allowed:
        return HttpResponse("Staff only.\n", status=403, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OmnilogCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
