"""Stock feeds from a WMS or a store till: snapshot jobs (set-wise) and delta messages.

Snapshot rules (docs/architecture.md, "Feeds"):
- A snapshot states absolute on hand per (SKU, location) *as of* a time of the source. Rows
  absent from the file are left unchanged (send 0 to empty a level).
- Replay: the new on hand of a level is ``counted + Σ delta_on_hand`` of the ledger rows the
  snapshot cannot know about, namely rows written by this source whose ``occurred_at`` is
  after ``as_of`` (its own later deltas), and rows from anywhere else recorded after ``as_of``
  (sales, receipts, counts made here since). Rows written by snapshot jobs never replay: a
  newer snapshot replaces them. Hence a replayed snapshot changes nothing, and a late one
  keeps every sale made after its time. A result below zero is clamped at zero.
- Only levels whose on hand changes are locked (primary-key order), written (one ``count``
  movement each, ``reference_type='feed_job'``) and checked for thresholds, all set-wise.
  A level that must short reservations held by a commit, release or expiry waiting for it
  makes the write roll back to its savepoint and retry with those reservations locked first
  (``feed_deltas.feed_loss_retry``); the job never waits for a reservation holding a level.
- A snapshot older than the source's last applied one is rejected (stale); equal is allowed.
- Bad rows are listed with their row and line numbers. ``all_or_nothing`` rejects the job when
  any row is bad; ``apply_valid`` applies the good rows. The apply is one transaction.
- Sequence rule: see ``feed_deltas.feed_messages_supersede``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inventory.models import FeedJob, FeedSource, StockLevel
from inventory.services.feed_deltas import (
    DeltaLine,
    DeltaReceipt,
    feed_delta_receive,
    feed_loss_retry,
    feed_messages_drain,
    feed_messages_supersede,
    feed_source_lock,
    source_tag,
)
from inventory.services.feed_staging import (
    SnapshotRejected,
    snapshot_json_read,
    snapshot_stage,
    snapshot_validate,
    staging_drop,
)
from inventory.services.ledger import Origin
from inventory.services.shortage import stock_short_for
from omnilog.core.errors import FieldError, NotFound, ValidationFailed
from omnilog.core.models import OutboxEvent

__all__ = [
    "DeltaLine",
    "DeltaReceipt",
    "feed_delta_receive",
    "feed_snapshot_apply",
    "feed_snapshot_submit",
]

logger = logging.getLogger(__name__)

Status = FeedJob.Status
# How far ahead of our clock a source's clock may run (as_of checks, the replay window:
# a source's own delta recorded more than this before as_of is taken as included).
CLOCK_SKEW = timedelta(minutes=5)
MAX_SEQUENCE = 2**63 - 1  # the sequence columns are PostgreSQL bigints


def _field_error(field: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, field_errors=[FieldError(field, message, code)])


def _parse_as_of(value: datetime | str | None) -> datetime:
    if value is None or value == "":
        raise _field_error("as_of", "The snapshot's as-of time is required.", "required")
    try:
        parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    except ValueError:  # well formed but not a date, e.g. 2026-02-30
        parsed = None
    if parsed is None:
        raise _field_error("as_of", "Not an ISO 8601 date and time.")
    if timezone.is_naive(parsed):
        raise _field_error("as_of", "Give a time zone (e.g. 2026-11-21T10:00:00Z).", "naive")
    if parsed > timezone.now() + CLOCK_SKEW:
        raise _field_error("as_of", "The as-of time is in the future.", "future")
    return parsed


def _parse_sequence(value: Any) -> int | None:
    if value is None or value == "":
        return None
    # A JSON document may carry anything: only an integer or its digits (not 1.5, not true).
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _field_error("sequence", "Must be a whole number.")
    try:
        sequence = int(value)
    except ValueError:
        raise _field_error("sequence", "Must be a whole number.") from None
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise _field_error("sequence", f"Must be a whole number from 0 to {MAX_SEQUENCE}.")
    return sequence


def feed_snapshot_submit(
    *,
    source_code: str,
    chunks: Iterable[bytes],
    file_format: str,
    mode: str = FeedJob.Mode.ALL_OR_NOTHING,
    as_of: datetime | str | None = None,
    sequence: int | str | None = None,
) -> FeedJob:
    """Store an uploaded snapshot under ``MEDIA_ROOT/feeds/`` and queue its job.

    CSV needs ``as_of``; a JSON document may carry ``as_of`` and ``sequence`` itself
    (parameters win). The job runs on the ``stock`` queue after commit.
    """
    if file_format not in FeedJob.Format.values:
        raise _field_error("format", "Send CSV (text/csv) or JSON (application/json).")
    if mode not in FeedJob.Mode.values:
        raise _field_error("mode", "Choose all_or_nothing or apply_valid.", "invalid_choice")
    source = FeedSource.objects.filter(code=source_code).first()
    if source is None:
        raise NotFound(
            f"No feed source is called {source_code!r}.", details={"source": source_code}
        )
    job_id = uuid.uuid4()
    path = Path(settings.MEDIA_ROOT) / "feeds" / source.code / f"{job_id}.{file_format}"
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with path.open("wb") as handle:
        for chunk in chunks:
            size += len(chunk)
            handle.write(chunk)
    try:
        if size == 0:
            raise _field_error("file", "The snapshot is empty.", "required")
        if file_format == FeedJob.Format.JSON:
            try:
                document = snapshot_json_read(path)
            except SnapshotRejected as error:
                raise _field_error("file", error.message, error.code) from None
            as_of = as_of or document.get("as_of")
            sequence = sequence if sequence not in (None, "") else document.get("sequence")
        parsed_as_of = _parse_as_of(as_of)
        parsed_sequence = _parse_sequence(sequence)
        from inventory.tasks import feed_snapshot_apply_task

        with transaction.atomic():
            job = FeedJob.objects.create(
                id=job_id,
                source=source,
                mode=mode,
                format=file_format,
                as_of=parsed_as_of,
                sequence=parsed_sequence,
                file_path=str(path),
            )
            transaction.on_commit(lambda: feed_snapshot_apply_task.delay(str(job_id)))
    except Exception:
        path.unlink(missing_ok=True)  # no job row points at the file
        raise
    return job


def feed_snapshot_apply(*, job_id: uuid.UUID | str) -> FeedJob:
    """Run a snapshot job. Idempotent: a finished job is returned untouched.

    Redelivery-safe: concurrent runs serialise on the job row and only one applies.
    """
    with transaction.atomic():
        job = FeedJob.objects.select_for_update().filter(id=job_id).first()
        if job is None:
            raise NotFound("No such feed job.", details={"job_id": str(job_id)})
        if job.status not in (Status.QUEUED, Status.RUNNING):
            return job
        job.status = Status.RUNNING
        job.started_at = timezone.now()
        job.message = "Staging the file."
        job.save(update_fields=["status", "started_at", "message", "updated_at"])
    try:
        return _run(job)
    except OperationalError:
        raise  # deadlock or lost connection: the task retries; the job stays running
    except Exception as error:
        logger.exception("feed job %s failed", job.id)
        return _close(job, Status.FAILED, f"Internal error: {type(error).__name__}.")
    finally:
        staging_drop()


def _close(job: FeedJob, status: str, message: str, **values: Any) -> FeedJob:
    with transaction.atomic():
        FeedJob.objects.filter(id=job.id, status=Status.RUNNING).update(
            status=status, message=message, finished_at=timezone.now(), **values
        )
    job.refresh_from_db()
    return job


def _run(job: FeedJob) -> FeedJob:
    try:
        total = snapshot_stage(path=Path(job.file_path), file_format=job.format)
    except SnapshotRejected as error:
        return _close(job, Status.REJECTED, error.message)
    except FileNotFoundError:
        return _close(job, Status.FAILED, "The uploaded file is missing.")
    FeedJob.objects.filter(id=job.id).update(total_rows=total, message="Validating the rows.")
    with transaction.atomic():
        job = FeedJob.objects.select_for_update().get(id=job.id)
        if job.status != Status.RUNNING:
            return job  # another run finished it meanwhile
        source = feed_source_lock(job.source.code)
        with connection.cursor() as cursor:
            # Sorts and hashes over a million rows stay in memory; JIT compiling these
            # one-off statements costs more than it saves.
            cursor.execute("SET LOCAL work_mem = '256MB'; SET LOCAL jit = off")
        if source.last_snapshot_at is not None and job.as_of < source.last_snapshot_at:
            job.status = Status.REJECTED
            job.message = (
                f"Stale snapshot: as of {job.as_of.isoformat()}, but the snapshot applied last"
                f" was as of {source.last_snapshot_at.isoformat()}."
            )
        else:
            _validate_and_apply(job, source)
        job.finished_at = timezone.now()
        job.save()
    if job.status == Status.SUCCEEDED:
        _drain_after_snapshot(job.source.code)
    return job


def _drain_after_snapshot(source_code: str) -> None:
    """Apply the held delta messages that now continue the source's cursor, in their own
    transaction, once the snapshot's has committed (releasing its stock-level locks).

    Draining may short reservations (a loss), which retries reservations-first
    (``feed_loss_retry``): under the snapshot's level locks that retry could deadlock. The
    source's row lock, taken again here, serialises this with the source's deltas and later
    snapshots; should it fail, the held messages drain with the source's next delta.
    """
    with transaction.atomic():
        feed_messages_drain(feed_source_lock(source_code))


def _validate_and_apply(job: FeedJob, source: FeedSource) -> None:
    """Inside the apply transaction; caller holds the job and source locks."""
    errors = snapshot_validate(
        source_id=source.id,
        is_restricted=source.locations.exists(),
        is_csv=job.format == FeedJob.Format.CSV,
        moved_since=job.as_of - CLOCK_SKEW,
    )
    job.processed_rows = job.total_rows
    job.error_count = errors.count
    job.errors = list(errors.first)
    if errors.count and job.mode == FeedJob.Mode.ALL_OR_NOTHING:
        job.status = Status.REJECTED
        job.message = f"{errors.count} bad row(s); nothing was applied (all_or_nothing)."
        return
    changed, clamped = _apply_rows(job, source)
    source.last_snapshot_at = job.as_of
    source.save(update_fields=["last_snapshot_at", "updated_at"])
    # Held messages the snapshot covers are superseded and the cursor moves here, with the
    # snapshot; the successors drain after commit (``_drain_after_snapshot``).
    superseded = feed_messages_supersede(source, as_of=job.as_of, sequence=job.sequence)
    job.changed_rows = changed
    job.status = Status.SUCCEEDED
    notes = [f"{changed} level(s) changed."]
    if errors.count:
        notes.append(f"{errors.count} bad row(s) skipped.")
    if clamped:
        notes.append(f"{clamped} level(s) clamped at zero (more sold since as-of).")
    if superseded:
        notes.append(f"{len(superseded)} held message(s) superseded.")
    job.message = " ".join(notes)


# Levels for new (product, location) pairs: zero counters (no ledger row needed for zeros).
_CREATE_LEVELS = """
INSERT INTO inventory_stocklevel (product_id, location_id, on_hand, reserved, damaged,
    quality_control, safety_stock, in_transit, incoming, updated_at)
SELECT product_id, location_id, 0, 0, 0, 0, 0, 0, 0, now()
FROM feed_diff WHERE level_id IS NULL ORDER BY product_id, location_id
ON CONFLICT (product_id, location_id) DO NOTHING
"""

_CREATED_IDS = """
UPDATE feed_diff d SET level_id = s.id FROM inventory_stocklevel s
WHERE d.level_id IS NULL AND s.product_id = d.product_id AND s.location_id = d.location_id
"""

# Σ on-hand changes the snapshot cannot know about, per level (see the module docstring).
_REPLAY = """
SELECT m.stock_level_id, SUM(m.delta_on_hand) AS delta
FROM inventory_stockmovement m
WHERE m.recorded_at > %(window)s
  AND m.reference_type <> 'feed_job'
  AND m.delta_on_hand <> 0
  AND CASE WHEN m.source = %(tag)s THEN m.occurred_at > %(as_of)s
           ELSE m.recorded_at > %(as_of)s END
GROUP BY m.stock_level_id
"""

# Candidates, from the levels read (unlocked) while resolving the rows (``feed_rows`` keeps
# only rows that may change their level). A level left out here cannot need a change: every
# later movement moves its on hand and the replay alike.
_CANDIDATES = f"""
CREATE TEMP TABLE feed_diff AS
WITH replay AS ({_REPLAY})
SELECT r.level_id, r.product_id, r.location_id, r.quantity AS counted
FROM feed_rows r
LEFT JOIN replay rp ON rp.stock_level_id = r.level_id
WHERE r.error IS NULL AND CASE
    WHEN r.level_id IS NULL THEN r.quantity > 0
    ELSE GREATEST(0, r.quantity + COALESCE(rp.delta, 0)) <> r.on_hand
END
"""

# The candidates' levels locked in primary-key order, with their counters as locked.
_LOCK = """
CREATE TEMP TABLE feed_locked AS
SELECT s.id, s.on_hand, s.reserved, s.damaged, s.quality_control, d.counted
FROM inventory_stocklevel s JOIN feed_diff d ON d.level_id = s.id
ORDER BY s.id FOR UPDATE OF s
"""

# The exact change under the locks: the replay is read after them, so nothing is missed.
_FINAL = f"""
CREATE TEMP TABLE feed_final AS
WITH replay AS ({_REPLAY})
SELECT k.id AS level_id, k.counted, n.on_hand - k.on_hand AS delta, n.on_hand,
       k.counted + COALESCE(rp.delta, 0) < 0 AS is_clamped,
       n.on_hand < k.reserved + k.damaged + k.quality_control AS is_short
FROM feed_locked k
LEFT JOIN replay rp ON rp.stock_level_id = k.id
CROSS JOIN LATERAL (SELECT GREATEST(0, k.counted + COALESCE(rp.delta, 0)) AS on_hand) n
WHERE n.on_hand <> k.on_hand
"""

_SUMMARY = """
SELECT count(*), count(*) FILTER (WHERE is_clamped),
    coalesce(array_agg(level_id ORDER BY level_id) FILTER (WHERE is_short), '{}'),
    coalesce(array_agg(on_hand ORDER BY level_id) FILTER (WHERE is_short), '{}')
FROM feed_final
"""

_WRITE = f"""
WITH changed AS (
    UPDATE inventory_stocklevel s SET on_hand = s.on_hand + f.delta, updated_at = now()
    FROM feed_final f WHERE s.id = f.level_id
    RETURNING s.id, s.product_id, s.location_id, f.delta, f.counted,
        GREATEST(0, s.on_hand - s.reserved - s.damaged - s.quality_control - s.safety_stock)
            AS atp,
        GREATEST(0, s.on_hand - f.delta - s.reserved - s.damaged - s.quality_control
            - s.safety_stock) AS atp_before
),
ledger AS (
    INSERT INTO inventory_stockmovement (stock_level_id, kind, delta_on_hand, delta_reserved,
        delta_damaged, delta_quality_control, delta_in_transit, delta_incoming, reason,
        reference_type, reference_id, actor, source, occurred_at, recorded_at)
    SELECT id, 'count', delta, 0, 0, 0, 0, 0, 'snapshot: counted ' || counted,
        'feed_job', %(job)s, '', %(tag)s, %(as_of)s, now()
    FROM changed ORDER BY id
),
crossings AS (
    SELECT *, CASE
        WHEN atp_before > 0 AND atp = 0 THEN 'stock.out_of_stock'
        WHEN atp_before = 0 AND atp > 0 THEN 'stock.back_in_stock'
        WHEN atp_before > %(low)s AND %(low)s >= atp AND atp > 0 THEN 'stock.low'
    END AS topic
    FROM changed
)
INSERT INTO {OutboxEvent._meta.db_table} (topic, aggregate_type, aggregate_id, payload,
    occurred_at)
SELECT topic, 'stock_level', id::text,
    jsonb_build_object('product_id', product_id, 'location_id', location_id,
        'atp_before', atp_before, 'atp', atp),
    now()
FROM crossings WHERE topic IS NOT NULL
"""


def _apply_rows(job: FeedJob, source: FeedSource) -> tuple[int, int]:
    """Write the changed levels; returns (levels changed, levels clamped at zero)."""
    params: dict[str, Any] = {
        "as_of": job.as_of,
        "window": job.as_of - CLOCK_SKEW,
        "tag": source_tag(source),
        "job": str(job.id),
        "low": settings.STOCK_LOW_THRESHOLD,
    }
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS feed_diff")
        cursor.execute(_CANDIDATES, params)
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE level_id IS NULL) FROM feed_diff")
        candidates, new_levels = cursor.fetchone()
        if not candidates:  # a replay: nothing to lock or write
            cursor.execute("DROP TABLE feed_diff")
            return 0, 0
        if new_levels:
            cursor.execute(_CREATE_LEVELS)
            cursor.execute(_CREATED_IDS)
        cursor.execute("ANALYZE feed_diff")
    origin = Origin(
        source=source_tag(source),
        reference_type="feed_job",
        reference_id=str(job.id),
        reason="snapshot",
        occurred_at=job.as_of,
    )

    def attempt(short_levels: set[int]) -> tuple[int, int]:
        # A savepoint of ``feed_loss_retry``: locks, the exact change under them, shortages.
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS feed_locked; DROP TABLE IF EXISTS feed_final")
            cursor.execute(_LOCK)
            cursor.execute(_FINAL, params)
            cursor.execute(_SUMMARY)
            changed, clamped, short_ids, short_on_hands = cursor.fetchone()
        short_levels.update(short_ids)
        for level_id, new_on_hand in zip(short_ids, short_on_hands, strict=True):
            stock_short_for(StockLevel.objects.get(id=level_id), new_on_hand, origin)
        with connection.cursor() as cursor:
            cursor.execute(_WRITE, params)
            cursor.execute("DROP TABLE feed_locked; DROP TABLE feed_final")
        return int(changed), int(clamped)

    result = feed_loss_retry(attempt)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE feed_diff")
    return result
