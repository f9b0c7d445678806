"""Core tasks (queue ``integrations``): webhook dispatch and delivery. Thin and idempotent."""

from __future__ import annotations

from celery import shared_task

from omnilog.core.webhooks import webhook_deliver, webhook_subscriptions_due


@shared_task(acks_late=True, ignore_result=True)
def webhooks_dispatch_task() -> int:
    """Beat, every 2 s (and on ``outbox_notify``): one delivery task per subscription that is
    active, due, not leased and behind the outbox. Duplicates are harmless (lease)."""
    subscription_ids = webhook_subscriptions_due()
    for subscription_id in subscription_ids:
        webhook_deliver_task.delay(subscription_id)
    return len(subscription_ids)


@shared_task(acks_late=True, ignore_result=True)
def webhook_deliver_task(subscription_id: int) -> int:
    """Deliver one subscription's pending events; re-enqueue itself while batches are full.

    Idempotent: the cursor and the lease make a duplicate or redelivered task a no-op.
    """
    result = webhook_deliver(subscription_id=subscription_id)
    if result.has_more:
        webhook_deliver_task.delay(subscription_id)
    return result.delivered


@shared_task(acks_late=True, ignore_result=True, expires=3000)
def outbox_purge_task() -> int:
    """Beat (hourly): drop outbox events past the retention that every subscriber has passed."""
    from omnilog.core.outbox import outbox_purge  # outbox imports this module's dispatch task

    return outbox_purge()
