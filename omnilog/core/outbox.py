"""Write domain events to the outbox. Call inside the transaction that makes the change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from omnilog.core.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from omnilog.core.tasks import webhooks_dispatch_task


def outbox_emit(
    *, topic: str, aggregate_type: str, aggregate_id: str | int, payload: Mapping[str, Any]
) -> OutboxEvent:
    """Append one event. Precondition: the caller is inside ``transaction.atomic``."""
    return OutboxEvent.objects.create(
        topic=topic,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        payload=dict(payload),
    )


def outbox_emit_many(events: Iterable[tuple[str, str, str | int, Mapping[str, Any]]]) -> int:
    """Append many events in one statement; each item is (topic, type, id, payload)."""
    rows = [
        OutboxEvent(topic=topic, aggregate_type=kind, aggregate_id=str(key), payload=dict(payload))
        for topic, kind, key, payload in events
    ]
    OutboxEvent.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def outbox_notify() -> None:
    """Ask for webhook dispatch as soon as the current transaction commits (optional).

    Without it, events leave within one beat period (``webhooks-dispatch``, 2 s). Use it at the
    end of a service that emitted events when latency matters; it costs one Redis round trip per
    transaction at most once a second (debounced), never one per event.
    """

    def dispatch() -> None:
        if cache.add("webhooks:dispatch-notified", 1, timeout=1):
            webhooks_dispatch_task.delay()

    transaction.on_commit(dispatch)


def outbox_purge(*, older_than: timedelta | None = None, batch_size: int = 5000) -> int:
    """Delete events older than the retention (``OUTBOX_RETENTION_DAYS``) that every active
    webhook subscription has already passed; their delivery attempts go with them (cascade).

    An active subscription that lags keeps the events above its cursor whatever their age;
    a disabled one can replay only within the retention window. Deletes in batches of
    ``batch_size`` (each its own short transaction) so the outbox's writers never wait long.
    Returns the number of events deleted.
    """
    age = older_than or timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    cutoff = timezone.now() - age
    floor = WebhookSubscription.objects.filter(is_active=True).aggregate(low=Min("cursor"))["low"]
    deleted = 0
    while True:
        candidates = OutboxEvent.objects.filter(occurred_at__lt=cutoff)
        if floor is not None:
            candidates = candidates.filter(id__lte=floor)
        ids = list(candidates.order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            OutboxEvent.objects.filter(id__in=ids).delete()
        deleted += len(ids)
    # Test messages sent from the admin have no event; they age out on the same clock.
    WebhookDelivery.objects.filter(event__isnull=True, delivered_at__lt=cutoff).delete()
    return deleted
