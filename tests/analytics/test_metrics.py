"""``GET /metrics``: Prometheus text that the official parser reads, with real values after
orders are placed and routed through the services; protected by staff session or token."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from fulfillment.services.routing import order_route
from omnilog.analytics.metrics import queue_keys
from omnilog.core.models import OutboxEvent, WebhookSubscription
from tests.fulfillment.service_support import default_rule_sets
from tests.orders.lifecycle_support import place, shop

pytestmark = pytest.mark.django_db
TOKEN = "s3cret-metrics-token"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


@pytest.fixture
def broker() -> Any:
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = [key for queue in settings.OMNILOG_CELERY_QUEUES for key in queue_keys(queue)]
    client.delete(*keys)
    yield client
    client.delete(*keys)
    client.close()


def test_metrics_show_orders_routing_queues_and_webhook_lag(token: str, broker: Any) -> None:
    default_rule_sets()
    net = shop()
    first = place(net["web"], {"SHIRT": 1})
    place(net["web"], {"HAT": 1}, email="dominique@example.com")
    place(net["other"], {"SHOES": 1}, email="sam@example.com")
    assert order_route(order_id=first.pk, expected_version=1, trigger="placed") is not None
    broker.rpush("default", "a", "b")
    broker.rpush("routing\x06\x163", "c")
    WebhookSubscription.objects.create(name="erp", url="https://erp.example.com/hook")
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    found = samples(response.content.decode())
    assert found[("omnilog_orders_placed_total", (("channel", "web"),))] == 2
    assert found[("omnilog_orders_placed_total", (("channel", "market"),))] == 1
    assert found[("omnilog_orders", (("status", "placed"),))] == 2
    assert found[("omnilog_orders", (("status", "routed"),))] == 1
    assert found[("omnilog_orders_awaiting_routing", ())] == 2
    assert found[("omnilog_orders_awaiting_routing_oldest_seconds", ())] >= 0
    assert found[("omnilog_routing_duration_seconds_count", ())] == 1
    assert found[("omnilog_routing_duration_seconds_bucket", (("le", "+Inf"),))] == 1
    assert found[("omnilog_routing_duration_seconds_sum", ())] > 0
    assert found[("omnilog_routing_lag_seconds", (("quantile", "0.5"),))] >= 0
    queues = {
        labels[0][1]: value
        for (name, labels), value in found.items()
        if name == "omnilog_celery_queue_length"
    }
    assert queues == {"routing": 1, "stock": 0, "integrations": 0, "default": 2}
    events = OutboxEvent.objects.count()
    subscription = WebhookSubscription.objects.get().pk
    assert found[("omnilog_outbox_pending_events", (("subscription", f"{subscription}:erp"),))] == (
        events
    )
    assert found[("omnilog_webhook_lag_seconds", (("subscription", f"{subscription}:erp"),))] >= 0
    assert found[("omnilog_analytics_refreshed_timestamp_seconds", ())] == 0


def test_metrics_need_staff_or_the_token(token: str) -> None:
    anonymous = Client().get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    member = User.objects.create_user("member", password="x")
    client = Client()
    client.force_login(member)
    assert client.get("/metrics").status_code == 403
    admin = User.objects.create_user("ops", password="x", is_staff=True)
    client.force_login(admin)
    assert client.get("/metrics").status_code == 200
    assert client.post("/metrics").status_code == 405


def test_no_token_configured_means_staff_only(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_refreshes_the_cached_dashboards(celery_worker: Any, token: str) -> None:
    from django.core.cache import cache

    from omnilog.analytics.dashboard import CACHE_PREFIX, last_refresh
    from omnilog.analytics.tasks import analytics_refresh_task
    from tests.conftest import wait_until

    assert last_refresh() is None
    analytics_refresh_task.delay()
    refreshed = wait_until(last_refresh, timeout=60)
    assert refreshed is not None
    assert cache.get(f"{CACHE_PREFIX}refreshed_at") == refreshed
    found = samples(Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode())
    assert found[("omnilog_analytics_refreshed_timestamp_seconds", ())] == pytest.approx(
        refreshed.timestamp()
    )
