"""``Idempotency-Key`` for unsafe API requests (IETF draft-ietf-httpapi-idempotency-key-header).

Per channel and key:

1. The first request claims the key: ``INSERT ... ON CONFLICT DO NOTHING`` in its own short,
   committed transaction, with the body's SHA-256 fingerprint and a lease (``locked_until``).
2. It runs the handler in a transaction that also stores the response (status, body, headers),
   so the order and its stored response commit together: a retry can never see the order
   without its response, nor the response without the order. 2xx and 4xx responses are
   stored; on a 5xx or an exception the record is deleted, and the key may be retried.
3. A later request with the key: a different fingerprint (or method or path) -> 422
   ``idempotency_key_reused``; the first still running -> 409 ``idempotency_key_in_use`` with
   ``Retry-After``; completed -> the stored response, byte for byte.

A lease that has run out (the first request's process died) lets a retry take the key over;
the completion ``UPDATE`` is fenced by the lease value, so a slow first request that lost its
lease rolls back instead of writing a second result. Records are purged after
``IDEMPOTENCY_RECORD_TTL_HOURS`` (beat: ``orders.tasks.idempotency_records_purge_task``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from omnilog.core.errors import ApplicationError, Conflict, ValidationFailed
from orders.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


class IdempotencyKeyMissing(ApplicationError):
    status = 400
    code = "idempotency_key_missing"
    title = "Idempotency-Key header required"


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    title = "A request with this Idempotency-Key is still being processed"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after


class IdempotencyKeyReused(ValidationFailed):
    code = "idempotency_key_reused"
    title = "The Idempotency-Key was used for a different request"


@dataclass(frozen=True)
class IdempotentResponse:
    """A response as stored: ``body`` is the rendered text, so a replay is byte-identical."""

    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)
    is_replay: bool = False


class _LeaseLost(Exception):
    """Our lease ran out and another request took the key over: roll back."""


def request_fingerprint(body_bytes: bytes) -> str:
    return hashlib.sha256(body_bytes).hexdigest()


_CLAIM_SQL = """
INSERT INTO orders_idempotencyrecord
    (channel_id, key, method, path, fingerprint, state, response_headers, locked_until,
     created_at)
VALUES (%s, %s, %s, %s, %s, 'processing', '{}'::jsonb, %s, now())
ON CONFLICT (channel_id, key) DO NOTHING
RETURNING id
"""


# Fixed SQL (every capture runs it; nothing for the ORM to compile), fenced by our lease.
_COMPLETE_SQL = """
UPDATE orders_idempotencyrecord
SET state = 'completed', response_status = %s, response_body = %s, response_headers = %s
WHERE id = %s AND state = 'processing' AND locked_until = %s
"""


def idempotent(
    *,
    channel_id: int,
    key: str | None,
    method: str,
    path: str,
    body_bytes: bytes,
    handler: Callable[[], IdempotentResponse],
) -> IdempotentResponse:
    """Run ``handler`` at most once per (channel, key); replay its stored response after.

    Precondition: no transaction is open (the claim must commit before the handler runs, so
    that concurrent requests see it). ``handler`` renders client errors as 4xx responses
    itself; an exception it raises deletes the claim and propagates.
    """
    if not key:
        raise IdempotencyKeyMissing(
            "This request needs an Idempotency-Key header (a unique value per operation, "
            "e.g. a UUID), so that retries never place it twice."
        )
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApplicationError(
            f"The Idempotency-Key must be printable and at most {MAX_KEY_LENGTH} characters.",
            code="idempotency_key_invalid",
        )
    fingerprint = request_fingerprint(body_bytes)
    lease = timezone.now() + timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS)
    # One statement in autocommit mode: committed (visible to concurrent requests) at once.
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [channel_id, key, method, path, fingerprint, lease])
        claimed = cursor.fetchone()
    if claimed is not None:
        record_id = int(claimed[0])
    else:
        replay, record_id = _existing(channel_id, key, method, path, fingerprint, lease)
        if replay is not None:
            return replay
    return _run(record_id, lease, handler)


def _existing(
    channel_id: int, key: str, method: str, path: str, fingerprint: str, lease: datetime
) -> tuple[IdempotentResponse | None, int]:
    record = IdempotencyRecord.objects.filter(channel_id=channel_id, key=key).first()
    if record is None:  # purged or deleted after a 5xx in between: the caller may retry now
        raise IdempotencyKeyInUse("The key was just released; retry.", retry_after=1)
    if (record.fingerprint, record.method, record.path) != (fingerprint, method, path):
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request; use a new key "
            "for a new operation."
        )
    if record.state == IdempotencyRecord.State.COMPLETED:
        return (
            IdempotentResponse(
                status=int(record.response_status or 200),
                body=str(record.response_body),
                headers=dict(record.response_headers),
                is_replay=True,
            ),
            record.pk,
        )
    retry_after = int(settings.IDEMPOTENCY_RETRY_AFTER_SECONDS)
    if record.locked_until > timezone.now():
        raise IdempotencyKeyInUse(
            "A request with this Idempotency-Key is still being processed; retry later.",
            retry_after=retry_after,
        )
    # The first request's lease ran out (its process died): take the key over.
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk,
        state=IdempotencyRecord.State.PROCESSING,
        locked_until=record.locked_until,
    ).update(locked_until=lease)
    if not taken:
        raise IdempotencyKeyInUse(
            "A request with this Idempotency-Key is still being processed; retry later.",
            retry_after=retry_after,
        )
    return None, record.pk


def _run(
    record_id: int, lease: datetime, handler: Callable[[], IdempotentResponse]
) -> IdempotentResponse:
    try:
        with transaction.atomic():
            response = handler()
            if response.status >= 500:
                raise _ServerError(response)
            params: list[Any] = [
                response.status,
                Jsonb(response.body),
                Jsonb(dict(response.headers)),
                record_id,
                lease,
            ]
            with connection.cursor() as cursor:
                cursor.execute(_COMPLETE_SQL, params)
                stored = cursor.rowcount
            if not stored:
                raise _LeaseLost
        return response
    except _ServerError as error:
        _release(record_id, lease)
        return error.response
    except _LeaseLost:
        raise IdempotencyKeyInUse(
            "This request took too long and another request with its Idempotency-Key took "
            "over; nothing was written. Retry to get that request's response.",
            retry_after=int(settings.IDEMPOTENCY_RETRY_AFTER_SECONDS),
        ) from None
    except BaseException:
        _release(record_id, lease)
        raise


class _ServerError(Exception):
    def __init__(self, response: IdempotentResponse) -> None:
        super().__init__(response.status)
        self.response = response


def _release(record_id: int, lease: datetime) -> None:
    """Forget our claim (not someone else's) so that the key can be retried."""
    IdempotencyRecord.objects.filter(
        pk=record_id, state=IdempotencyRecord.State.PROCESSING, locked_until=lease
    ).delete()


def idempotency_records_purge(*, older_than: timedelta | None = None) -> int:
    """Delete records created more than ``older_than`` ago (default: the configured TTL)."""
    age = older_than or timedelta(hours=settings.IDEMPOTENCY_RECORD_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - age).delete()
    return deleted
