"""Signed webhooks out of the outbox (Standard Webhooks, https://www.standardwebhooks.com/).

Signing (pure): ``webhook-id`` is the message id (the outbox event id, stable across retries and
replays, so receivers deduplicate on it), ``webhook-timestamp`` is unix seconds, and
``webhook-signature`` is ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")) where the
key is the base64-decoded part of the ``whsec_`` secret.

Delivery (``webhook_deliver``) is at-least-once and in id order per subscription:

1. Claim: a short transaction locks the subscription row (``FOR UPDATE SKIP LOCKED``) and sets a
   lease (``leased_until``, ``lease_token``). No transaction or lock stays open afterwards.
2. Horizon: outbox ids are allocated at insert but become visible at commit, so a committed
   event 11 may be visible while event 10 is still in flight. The cursor only moves over ids
   that are final: a contiguous run after the cursor, or everything up to an id observed at a
   time before which no transaction of this database is still running (see ``_safe_horizon``).
3. HTTP, outside any transaction, one event at a time. After each 2xx a short transaction logs
   the attempt and advances the cursor, on condition that the lease token and the cursor are
   still ours (a replay or a lease thief makes us stop). A failure logs the attempt, schedules
   a retry with exponential backoff and deterministic jitter, and stops at that event; after
   ``WEBHOOK_MAX_CONSECUTIVE_FAILURES`` the subscription is disabled with a reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from omnilog.core.models import OutboxEvent, WebhookDelivery, WebhookSubscription

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret
DEFAULT_TOLERANCE_SECONDS = 300
USER_AGENT = "Omnilog-Webhooks/1"
MIN_SECRET_BYTES = 24  # the Standard Webhooks minimum (its reference secret is 24 bytes)


class WebhookVerificationError(Exception):
    """The headers or signature of a webhook do not prove it came from the secret's holder."""


# --- signing (pure) -----------------------------------------------------------------------


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError as error:
        raise WebhookVerificationError("the secret is not valid base64") from error


def secret_check(secret: str) -> None:
    """Raise ``WebhookVerificationError`` unless ``secret`` is ``whsec_`` + base64 of at least
    ``MIN_SECRET_BYTES`` bytes: an empty or short key would let anyone forge a signature."""
    if not secret.startswith(SECRET_PREFIX):
        raise WebhookVerificationError(f"the secret does not start with {SECRET_PREFIX}")
    if len(secret_key(secret)) < MIN_SECRET_BYTES:
        raise WebhookVerificationError(
            f"the secret is shorter than {MIN_SECRET_BYTES} bytes once decoded"
        )


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (one ``v1`` signature)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(*, secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            secret=secret, message_id=message_id, timestamp=timestamp, body=body
        ),
    }


def verify(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise ``WebhookVerificationError`` unless ``headers`` sign ``body`` with ``secret``.

    Header names are matched case-insensitively; the signature header may hold several
    space-separated ``v1,<base64>`` entries (secret rotation); any one valid entry suffices.
    The timestamp must be within ``tolerance_seconds`` of ``now`` (replay protection). A
    secret ``secret_check`` refuses verifies nothing (an empty key is a key anyone holds).
    """
    secret_check(secret)
    lowered = {key.lower(): value for key, value in headers.items()}
    message_id = lowered.get("webhook-id")
    raw_timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not message_id or not raw_timestamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError as error:
        raise WebhookVerificationError("webhook-timestamp is not an integer") from error
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance")
    expected = sign(secret=secret, message_id=message_id, timestamp=timestamp, body=body)
    for candidate in signatures.split():
        version, _, _ = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(candidate, expected):
            return
    raise WebhookVerificationError("no signature matches")


def topic_matches(topic: str, patterns: Sequence[str]) -> bool:
    """True when ``patterns`` is empty or one pattern is ``*``, ``topic``, or ``prefix.*``."""
    if not patterns:
        return True
    return any(
        pattern == "*"
        or pattern == topic
        or (pattern.endswith(".*") and topic.startswith(pattern[:-1]))
        for pattern in patterns
    )


def event_body(event: OutboxEvent) -> bytes:
    """The JSON body for an event; the same bytes on every attempt."""
    document = {
        "id": str(event.pk),
        "type": event.topic,
        "timestamp": event.occurred_at.isoformat(),
        "data": {
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id,
            "payload": event.payload,
        },
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def retry_delay_seconds(*, subscription_id: int, failures: int) -> float:
    """Exponential backoff (base * 2^(failures-1), capped) plus 0-20 % deterministic jitter."""
    base = float(getattr(settings, "WEBHOOK_RETRY_BASE_SECONDS", 10))
    cap = float(getattr(settings, "WEBHOOK_RETRY_MAX_SECONDS", 3600))
    delay = min(cap, base * 2 ** max(0, failures - 1))
    spread = zlib.crc32(f"{subscription_id}:{failures}".encode()) % 1000 / 1000
    return float(delay * (1 + 0.2 * spread))


# --- HTTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpOutcome:
    status_code: int | None
    response_excerpt: str
    error: str
    duration_ms: int

    @property
    def is_success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: a POST must not be silently re-sent elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def destination_refusal(url: str, *, resolve: bool = True) -> str:
    """Why a webhook may not be sent to ``url`` ("" when it may).

    Unless ``WEBHOOK_ALLOW_PRIVATE_URLS`` (development, tests), a receiver must be a public
    address: a subscription pointing at loopback, private, link-local (cloud metadata) or
    reserved addresses would let whoever manages subscriptions probe the internal network with
    signed POSTs. The host name is resolved at delivery time too (``resolve``), so a name that
    later points inside is refused then. A name re-pointed between this check and the
    connection (DNS rebinding within seconds) is not caught; egress filtering covers that.
    """
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return ""
    host = urllib.parse.urlsplit(url).hostname or ""
    if not host or host == "localhost" or host.endswith(".localhost"):
        return f"refused: {host or 'no host'} is not a public address"
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if not resolve:
            return ""
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            return ""  # unresolvable: the POST fails on its own with the resolver's error
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global or address.is_multicast:
            return f"refused: {host} resolves to a non-public address ({address})"
    return ""


def http_post(*, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> HttpOutcome:
    """POST ``body``; never raises for network or HTTP errors. Precondition: no open transaction.

    A destination refused by ``destination_refusal`` is a failed attempt (nothing is sent)."""
    refusal = destination_refusal(url)
    if refusal:
        return HttpOutcome(None, "", refusal, 0)
    request = urllib.request.Request(  # noqa: S310 - the URL's scheme is validated http(s)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    started = time.monotonic()
    status: int | None = None
    excerpt = ""
    error = ""
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
            excerpt = response.read(1024).decode("utf-8", "replace")
    except urllib.error.HTTPError as failure:
        status = failure.code
        excerpt = failure.read(1024).decode("utf-8", "replace") if failure.fp else ""
        error = f"HTTP {failure.code}"
    except (urllib.error.URLError, OSError, ValueError) as failure:
        error = f"{type(failure).__name__}: {getattr(failure, 'reason', failure)}"
    duration_ms = int((time.monotonic() - started) * 1000)
    return HttpOutcome(status, excerpt[:500], error[:500], duration_ms)


# --- delivery -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryResult:
    """What one ``webhook_deliver`` pass did. ``claimed`` is false when another worker holds
    the subscription, it is inactive, or its retry is not due."""

    claimed: bool
    delivered: int = 0
    failed: bool = False
    cursor: int = 0
    has_more: bool = False


def _clock(now: datetime | None) -> Callable[[], datetime]:
    """A clock that starts at ``now`` (tests) or the wall clock, and advances in real time."""
    start = now or timezone.now()
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def _lease_seconds(timeout: float) -> float:
    return max(30.0, timeout * 4)


def _claim(subscription_id: int, at: datetime, timeout: float) -> WebhookSubscription | None:
    with transaction.atomic():
        subscription = (
            WebhookSubscription.objects.select_for_update(skip_locked=True)
            .filter(pk=subscription_id, is_active=True)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=at))
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at))
            .first()
        )
        if subscription is None:
            return None
        subscription.lease_token = uuid.uuid4()
        subscription.leased_until = at + timedelta(seconds=_lease_seconds(timeout))
        subscription.save(update_fields=["lease_token", "leased_until"])
    return subscription


_OLDER_TRANSACTION_RUNNING = """
    SELECT EXISTS (
        SELECT 1 FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND backend_type = 'client backend' AND xact_start < %s
          AND (backend_xid IS NOT NULL OR state = 'active')
    )
"""

_CONTIGUOUS_END = """
    SELECT max(id) FROM (
        SELECT id, row_number() OVER (ORDER BY id) AS position
        FROM core_outboxevent WHERE id > %s ORDER BY id LIMIT 10000
    ) AS pending WHERE id - %s = position
"""


def _safe_horizon(subscription: WebhookSubscription) -> int:
    """The largest outbox id such that every id at or below it is final (visible or never).

    Every id at or below the maximum visible at DB time ``t`` was allocated before ``t``, by a
    transaction that started before ``t``; once no transaction of this database that started
    before ``t`` is still running, those ids are final. The observation is kept on the
    subscription so that a busy database resolves gaps on the next pass, and a contiguous run of
    ids after the cursor is always final. Assumes outbox writers hold an xid or are active
    (``outbox_emit`` runs inside the writing transaction) and share the database role or
    ``pg_read_all_stats`` (``pg_stat_activity`` hides other roles' transactions).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp(), coalesce(max(id), 0) FROM core_outboxevent")
        observed_at, observed_max = cursor.fetchone()
        visible_max = observed_max
        horizon = subscription.cursor
        cursor.execute(_OLDER_TRANSACTION_RUNNING, [observed_at])
        if not cursor.fetchone()[0]:
            horizon = observed_max
        elif subscription.horizon_observed_at is not None:
            cursor.execute(_OLDER_TRANSACTION_RUNNING, [subscription.horizon_observed_at])
            if cursor.fetchone()[0]:
                # The earlier observation is still pending: keep it, so its clock keeps running.
                observed_at = subscription.horizon_observed_at
                observed_max = subscription.horizon_event_id or 0
            else:
                horizon = max(horizon, subscription.horizon_event_id or 0)
        if horizon < visible_max:
            cursor.execute(_CONTIGUOUS_END, [horizon, horizon])
            horizon = max(horizon, cursor.fetchone()[0] or 0)
    WebhookSubscription.objects.filter(
        pk=subscription.pk, lease_token=subscription.lease_token
    ).update(horizon_event_id=observed_max, horizon_observed_at=observed_at)
    return horizon


def _topics_q(patterns: Sequence[str]) -> Q:
    if not patterns or "*" in patterns:
        return Q()
    query = Q(pk__in=[])
    for pattern in patterns:
        if pattern.endswith(".*"):
            query |= Q(topic__startswith=pattern[:-1])
        else:
            query |= Q(topic=pattern)
    return query


def _advance(
    subscription: WebhookSubscription,
    *,
    to: int,
    at: datetime,
    timeout: float,
    delivery: WebhookDelivery | None,
) -> bool:
    """Log ``delivery`` and move the cursor to ``to`` if the lease and the cursor are still ours."""
    with transaction.atomic():
        moved = WebhookSubscription.objects.filter(
            pk=subscription.pk, lease_token=subscription.lease_token, cursor=subscription.cursor
        ).update(
            cursor=to,
            consecutive_failures=0,
            next_attempt_at=None,
            leased_until=at + timedelta(seconds=_lease_seconds(timeout)),
        )
        if delivery is not None:
            delivery.save()
    subscription.cursor = to
    return moved == 1


def _fail(subscription: WebhookSubscription, *, at: datetime, delivery: WebhookDelivery) -> None:
    """Log a failed attempt, schedule the retry or disable, and release the lease."""
    failures = subscription.consecutive_failures + 1
    limit = int(getattr(settings, "WEBHOOK_MAX_CONSECUTIVE_FAILURES", 15))
    changes: dict[str, Any] = {
        "consecutive_failures": failures,
        "next_attempt_at": at
        + timedelta(
            seconds=retry_delay_seconds(subscription_id=subscription.pk, failures=failures)
        ),
        "leased_until": None,
        "lease_token": None,
    }
    if failures >= limit:
        reason = f"Disabled after {failures} consecutive failures; last: {delivery.error}"
        changes.update(is_active=False, disabled_reason=reason[:500])
    with transaction.atomic():
        WebhookSubscription.objects.filter(
            pk=subscription.pk, lease_token=subscription.lease_token
        ).update(**changes)
        delivery.save()


def webhook_deliver(
    *,
    subscription_id: int,
    batch_size: int = 100,
    timeout: float = 5.0,
    now: datetime | None = None,
) -> DeliveryResult:
    """Deliver the pending events of one subscription, in id order, from its cursor.

    Precondition: no open transaction (HTTP must not run under a lock); raises otherwise.
    Safe to call concurrently and repeatedly: only the holder of the lease delivers, and the
    cursor makes a repeated call a no-op. ``now`` starts the clock used for scheduling.
    """
    if connection.in_atomic_block:
        raise RuntimeError("webhook_deliver does HTTP and must not run inside a transaction")
    clock = _clock(now)
    subscription = _claim(subscription_id, clock(), timeout)
    if subscription is None:
        return DeliveryResult(claimed=False)
    horizon = _safe_horizon(subscription)
    events = list(
        OutboxEvent.objects.filter(
            _topics_q(subscription.topics), id__gt=subscription.cursor, id__lte=horizon
        ).order_by("id")[:batch_size]
    )
    delivered = 0
    for event in events:
        body = event_body(event)
        message_id = str(event.pk)
        attempt_at = clock()
        headers = signed_headers(
            secret=subscription.secret,
            message_id=message_id,
            timestamp=int(attempt_at.timestamp()),
            body=body,
        )
        outcome = http_post(url=subscription.url, body=body, headers=headers, timeout=timeout)
        delivery = WebhookDelivery(
            subscription=subscription,
            event=event,
            message_id=message_id,
            attempt=subscription.consecutive_failures + 1,
            is_success=outcome.is_success,
            status_code=outcome.status_code,
            response_excerpt=outcome.response_excerpt,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            delivered_at=attempt_at,
        )
        if not outcome.is_success:
            _fail(subscription, at=clock(), delivery=delivery)
            return DeliveryResult(
                claimed=True, delivered=delivered, failed=True, cursor=subscription.cursor
            )
        if not _advance(subscription, to=event.pk, at=clock(), timeout=timeout, delivery=delivery):
            return DeliveryResult(claimed=True, delivered=delivered, cursor=subscription.cursor)
        subscription.consecutive_failures = 0
        delivered += 1
    has_more = len(events) == batch_size
    if not has_more and horizon > subscription.cursor:
        # Nothing else matches up to the horizon: skip the filtered-out events silently.
        _advance(subscription, to=horizon, at=clock(), timeout=timeout, delivery=None)
    WebhookSubscription.objects.filter(
        pk=subscription.pk, lease_token=subscription.lease_token
    ).update(leased_until=None, lease_token=None)
    return DeliveryResult(
        claimed=True, delivered=delivered, cursor=subscription.cursor, has_more=has_more
    )


def webhook_subscriptions_due(*, now: datetime | None = None) -> list[int]:
    """Ids of active subscriptions that are not leased, are due, and are behind the outbox."""
    at = now or timezone.now()
    last_event_id = OutboxEvent.objects.aggregate(last=Max("id"))["last"] or 0
    return list(
        WebhookSubscription.objects.filter(is_active=True, cursor__lt=last_event_id)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=at))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at))
        .order_by("id")
        .values_list("id", flat=True)
    )
