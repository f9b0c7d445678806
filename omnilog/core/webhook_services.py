"""Webhook subscriptions: create, replay, test; and the read side for the admin and the API."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from omnilog.core.errors import FieldError, NotFound, ValidationFailed
from omnilog.core.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from omnilog.core.webhooks import HttpOutcome, destination_refusal, http_post, signed_headers

TOPIC_PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")
TEST_TOPIC = "webhook.test"


def webhook_topics_validate(topics: Sequence[str], *, field: str = "topics") -> list[str]:
    """Return ``topics`` deduplicated in order; raise ``ValidationFailed`` for a bad pattern."""
    errors = [
        FieldError(field=f"{field}.{index}", message=f"{topic!r} is not a topic pattern.")
        for index, topic in enumerate(topics)
        if not isinstance(topic, str) or not TOPIC_PATTERN.match(topic)
    ]
    if errors:
        raise ValidationFailed("The topic filter is not valid.", field_errors=errors)
    return list(dict.fromkeys(topics))


def outbox_last_event_id() -> int:
    return OutboxEvent.objects.aggregate(last=Max("id"))["last"] or 0


def webhook_subscription_create(
    *,
    name: str,
    url: str,
    topics: Sequence[str] = (),
    is_active: bool = True,
    from_event_id: int | None = None,
) -> WebhookSubscription:
    """Create a subscriber with a new secret. It receives events after the newest one now in the
    outbox, or from ``from_event_id`` (1 = the whole history) when given."""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as error:
        raise ValidationFailed(
            "The URL is not valid.",
            field_errors=[FieldError(field="url", message="Enter an http(s) URL.")],
        ) from error
    refusal = destination_refusal(url)
    if refusal:
        raise ValidationFailed(
            "Webhooks go to public addresses only.",
            field_errors=[FieldError(field="url", message=refusal, code="private_address")],
        )
    clean_topics = webhook_topics_validate(topics)
    cursor = outbox_last_event_id() if from_event_id is None else max(0, from_event_id - 1)
    return WebhookSubscription.objects.create(
        name=name, url=url, topics=clean_topics, is_active=is_active, cursor=cursor
    )


def webhook_replay(*, subscription_id: int, from_event_id: int) -> WebhookSubscription:
    """Re-deliver every matching event from ``from_event_id`` on (same ``webhook-id`` values).

    Sets the cursor to ``from_event_id - 1``, clears the failure state and the lease (a worker
    delivering now notices and stops), and re-activates a subscription that failures disabled.
    """
    if from_event_id < 1:
        raise ValidationFailed(
            "Replay starts at an event id of 1 or more.",
            field_errors=[FieldError(field="from_event_id", message="Must be 1 or more.")],
        )
    with transaction.atomic():
        subscription = (
            WebhookSubscription.objects.select_for_update().filter(pk=subscription_id).first()
        )
        if subscription is None:
            raise NotFound(f"Webhook subscription {subscription_id} does not exist.")
        subscription.cursor = from_event_id - 1
        subscription.consecutive_failures = 0
        subscription.next_attempt_at = None
        subscription.leased_until = None
        subscription.lease_token = None
        if subscription.disabled_reason:
            subscription.is_active = True
            subscription.disabled_reason = ""
        subscription.save()
    return subscription


def webhook_send_test(*, subscription_id: int, timeout: float = 5.0) -> WebhookDelivery:
    """POST one signed ``webhook.test`` message now and log it. Leaves the cursor and the
    failure state alone. Precondition: no open transaction (it does HTTP)."""
    subscription = WebhookSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound(f"Webhook subscription {subscription_id} does not exist.")
    message_id = f"test_{uuid.uuid4().hex}"
    sent_at = timezone.now()
    document = {"data": {}, "id": message_id, "timestamp": sent_at.isoformat(), "type": TEST_TOPIC}
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    headers = signed_headers(
        secret=subscription.secret,
        message_id=message_id,
        timestamp=int(sent_at.timestamp()),
        body=body,
    )
    outcome: HttpOutcome = http_post(
        url=subscription.url, body=body, headers=headers, timeout=timeout
    )
    return WebhookDelivery.objects.create(
        subscription=subscription,
        event=None,
        message_id=message_id,
        attempt=1,
        is_success=outcome.is_success,
        status_code=outcome.status_code,
        response_excerpt=outcome.response_excerpt,
        duration_ms=outcome.duration_ms,
        error=outcome.error,
        delivered_at=sent_at,
    )


def webhook_subscription_list() -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.all()


def webhook_delivery_list(
    *, subscription_id: int | None = None, is_success: bool | None = None
) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.all()
    if subscription_id is not None:
        deliveries = deliveries.filter(subscription_id=subscription_id)
    if is_success is not None:
        deliveries = deliveries.filter(is_success=is_success)
    return deliveries
