"""Write domain events to the outbox. Call inside the transaction that makes the change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.cache import cache
from django.db import transaction

from omnilog.core.models import OutboxEvent
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
