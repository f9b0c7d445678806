"""Core models: the base model, the transactional outbox and its webhook subscribers."""

from __future__ import annotations

import base64
import secrets

from django.core.validators import URLValidator
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it reports.

    Append-only; ``id`` is a monotonic cursor that webhook subscribers replay from. Delivery
    (signed webhooks, retries) reads this table after commit; a row is never updated.
    """

    id = models.BigAutoField(primary_key=True)
    topic = models.CharField(max_length=64, db_index=True)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["aggregate_type", "aggregate_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.topic} {self.aggregate_type}:{self.aggregate_id}"


def webhook_secret_new() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class WebhookSubscription(models.Model):
    """A receiver of signed webhooks for the outbox events that match ``topics``.

    ``cursor`` is the id of the last outbox event this subscriber is done with (delivered, or
    skipped by the filter); delivery resumes after it, and a replay moves it back. The lease
    columns make one worker at a time the deliverer without holding a lock during HTTP; the
    horizon columns remember an earlier look at the outbox to resolve id gaps (see
    ``omnilog.core.webhooks``).
    """

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    secret = models.CharField(max_length=100, default=webhook_secret_new, editable=False)
    topics = models.JSONField(
        default=list, blank=True, help_text='Topic patterns such as "order.*"; empty means all.'
    )
    is_active = models.BooleanField(default=True)
    cursor = models.BigIntegerField(default=0)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True, editable=False)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    horizon_event_id = models.BigIntegerField(null=True, blank=True, editable=False)
    horizon_observed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cursor__gte=0), name="core_webhooksubscription_cursor_gte_0"
            )
        ]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One attempt to deliver one event (or a test message, ``event`` null) to one subscriber."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        OutboxEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message_id = models.CharField(max_length=64)
    attempt = models.PositiveIntegerField()
    is_success = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["subscription", "-id"], name="core_webhookdelivery_sub_idx"),
            models.Index(
                fields=["subscription", "is_success", "-id"], name="core_webhookdelivery_ok_idx"
            ),
            models.Index(fields=["event"], name="core_webhookdelivery_event_idx"),
        ]

    def __str__(self) -> str:
        outcome = self.status_code or self.error or "?"
        return f"{self.subscription_id} #{self.message_id} attempt {self.attempt}: {outcome}"
