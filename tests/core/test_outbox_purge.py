"""The outbox keeps what a subscriber still needs and drops the rest after the retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from omnilog.core.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from omnilog.core.outbox import outbox_emit, outbox_purge

pytestmark = pytest.mark.django_db


def _event(days_old: int, key: int) -> OutboxEvent:
    event = outbox_emit(topic="order.placed", aggregate_type="order", aggregate_id=key, payload={})
    OutboxEvent.objects.filter(pk=event.pk).update(
        occurred_at=timezone.now() - timedelta(days=days_old)
    )
    return event


def _subscription(cursor: int, *, is_active: bool = True) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name=f"s{cursor}",
        url="https://crm.example/hook",
        topics=["*"],
        cursor=cursor,
        is_active=is_active,
    )


def test_old_events_go_with_their_deliveries_and_recent_ones_stay(settings) -> None:
    settings.OUTBOX_RETENTION_DAYS = 30
    old, recent = _event(40, 1), _event(5, 2)
    subscription = _subscription(recent.pk)
    WebhookDelivery.objects.create(
        subscription=subscription,
        event=old,
        message_id="m1",
        attempt=1,
        is_success=True,
        duration_ms=3,
        delivered_at=timezone.now() - timedelta(days=40),
    )

    assert outbox_purge(batch_size=1) == 1

    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not WebhookDelivery.objects.exists()


def test_a_lagging_active_subscriber_keeps_the_events_it_has_not_received() -> None:
    first, second, third = _event(200, 1), _event(150, 2), _event(120, 3)
    _subscription(first.pk)  # received only the first one
    _subscription(third.pk, is_active=False)  # disabled subscribers do not hold the outbox

    assert outbox_purge(older_than=timedelta(days=90)) == 1

    assert sorted(OutboxEvent.objects.values_list("pk", flat=True)) == [second.pk, third.pk]


def test_without_subscribers_only_age_counts() -> None:
    _event(100, 1)
    kept = _event(1, 2)

    assert outbox_purge(older_than=timedelta(days=90)) == 1
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [kept.pk]
