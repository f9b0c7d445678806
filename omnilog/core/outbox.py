"""Write domain events to the outbox. Call inside the transaction that makes the change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from omnilog.core.models import OutboxEvent


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
