"""Master-data feed jobs (PIM products, CRM customers): upload, parse, validate, apply.

Rules (docs/supply.md, "Feeds from PIM and CRM"):
- A file is CSV (a header row naming the columns) or JSON (``{"rows": [...]}`` or a list of
  objects). Rows are numbered from 1 in file order; CSV errors also give the line number.
- Every row is parsed and checked before anything is written (pass 1). ``all_or_nothing``
  rejects the job when any row is bad; ``apply_valid`` applies the good rows, and bad rows
  never block them. A key (SKU, e-mail / loyalty id) listed twice: the later rows are errors.
- Rows are applied in batches of ``ROW_BATCH``, one transaction each, so the job resource shows
  progress (``processed_rows``). Applying is idempotent (an upsert that writes only what
  differs): a replayed file changes nothing, and a job taken over after a dead worker
  (``JOB_STALE`` after it started) just runs again.
- A row that loses a race between check and write (another writer took its EAN, e-mail...)
  is reported as that row's error: its batch is retried row by row, each in a savepoint.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from channels_app.crm_feed import CustomerFeed
from inventory.models import MasterDataFeedJob
from omnilog.core.errors import FieldError, NotFound, ValidationFailed

logger = logging.getLogger(__name__)

Job = MasterDataFeedJob
Status = MasterDataFeedJob.Status
ROW_BATCH = 500
MAX_STORED_ERRORS = 1000
MAX_ROWS = 1_000_000
JOB_STALE = timedelta(minutes=15)


@dataclass(frozen=True)
class FeedRow:
    """One row as sent: ``number`` from 1 in file order, ``line`` in a CSV file."""

    number: int
    values: dict[str, Any]
    line: int | None = None


@dataclass
class RowProblem:
    row: FeedRow
    key: str
    errors: list[FieldError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"row": self.row.number}
        if self.row.line is not None:
            item["line"] = self.row.line
        item["key"] = self.key
        item["errors"] = [
            {"field": error.field, "code": error.code, "message": error.message}
            for error in self.errors
        ]
        return item


class Outcome(Protocol):
    @property
    def created(self) -> int: ...
    @property
    def updated(self) -> int: ...
    @property
    def unchanged(self) -> int: ...


@dataclass(frozen=True)
class BatchOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class FileRejected(Exception):
    def __init__(self, message: str, code: str = "invalid_file") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


Problem = tuple[Any, str, list[FieldError]]  # (the row, its key, its field errors)


class RowApplier(Protocol):
    """What a kind of feed provides (``pim_feed.ProductFeed``, ``channels_app.crm_feed``'s
    ``CustomerFeed``, which cannot import this module: rows are duck-typed, with ``number``
    and ``values``)."""

    columns: frozenset[str]

    def key(self, row: Any) -> str:
        """The row's identity (for duplicates and error reports); "" when it has none."""

    def check(self, rows: Sequence[Any]) -> tuple[list[Any], list[Problem]]:
        """Parse and check rows (database reads, no writes): the valid items (each with its
        ``row``) and the problems."""

    def apply(self, items: Sequence[Any], *, job_id: str, actor: str) -> Outcome:
        """Write a batch inside the caller's transaction; idempotent per item."""


def _applier(kind: str) -> RowApplier:
    if kind == Job.Kind.PRODUCTS:
        from inventory.services.pim_feed import ProductFeed  # it imports this module's types

        return ProductFeed()
    return CustomerFeed()


def _field_error(field_name: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, field_errors=[FieldError(field_name, message, code)])


# --- submit ---------------------------------------------------------------------------------


def master_data_feed_submit(
    *,
    kind: str,
    chunks: Iterable[bytes],
    file_format: str,
    mode: str = Job.Mode.ALL_OR_NOTHING,
    actor: str = "",
) -> MasterDataFeedJob:
    """Store the upload under ``MEDIA_ROOT/feeds/<kind>/`` and queue its job (``stock`` queue,
    after commit). A file that cannot be read at all is refused here (field ``file``)."""
    if kind not in Job.Kind.values:
        raise _field_error("kind", "Choose products or customers.", "invalid_choice")
    if file_format not in Job.Format.values:
        raise _field_error("format", "Send CSV (text/csv) or JSON (application/json).")
    if mode not in Job.Mode.values:
        raise _field_error("mode", "Choose all_or_nothing or apply_valid.", "invalid_choice")
    job_id = uuid.uuid4()
    path = Path(settings.MEDIA_ROOT) / "feeds" / kind / f"{job_id}.{file_format}"
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with path.open("wb") as handle:
        for chunk in chunks:
            size += len(chunk)
            handle.write(chunk)
    try:
        if size == 0:
            raise _field_error("file", "The file is empty.", "required")
        try:
            _read_rows(path, file_format, _applier(kind).columns, limit=1)
        except FileRejected as error:
            raise _field_error("file", error.message, error.code) from None
        from inventory.tasks import master_data_feed_apply_task

        with transaction.atomic():
            job = Job.objects.create(
                id=job_id,
                kind=kind,
                mode=mode,
                format=file_format,
                file_path=str(path),
                actor=actor[:150],
            )
            transaction.on_commit(lambda: master_data_feed_apply_task.delay(str(job_id)))
    except Exception:
        path.unlink(missing_ok=True)  # no job row points at the file
        raise
    return job


# --- reading --------------------------------------------------------------------------------


def _read_rows(
    path: Path, file_format: str, columns: frozenset[str], *, limit: int | None = None
) -> list[FeedRow]:
    if file_format == Job.Format.CSV:
        return _read_csv(path, columns, limit)
    return _read_json(path, limit)


def _read_csv(path: Path, columns: frozenset[str], limit: int | None) -> list[FeedRow]:
    rows: list[FeedRow] = []
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        try:
            header = [name.strip().lower() for name in next(reader, [])]
            if not any(header):
                raise FileRejected("The CSV file has no header row.", "missing_header")
            unknown = sorted(set(header) - columns)
            if unknown:
                raise FileRejected(
                    f"Unknown column(s): {', '.join(unknown)}."
                    f" Known: {', '.join(sorted(columns))}.",
                    "unknown_column",
                )
            if len(set(header)) != len(header):
                raise FileRejected("A column is named twice in the header.", "duplicate_column")
            line = reader.line_num
            for fields in reader:
                if not any(value.strip() for value in fields):
                    line = reader.line_num
                    continue  # blank lines are not rows
                values: dict[str, Any] = dict(zip(header, fields, strict=False))
                if len(fields) != len(header):
                    values = {"__malformed__": len(fields)}
                rows.append(FeedRow(number=len(rows) + 1, values=values, line=line + 1))
                line = reader.line_num
                if limit is not None and len(rows) >= limit:
                    break
                if len(rows) > MAX_ROWS:
                    raise FileRejected(f"More than {MAX_ROWS} rows.", "too_many_rows")
        except (UnicodeDecodeError, csv.Error) as error:
            raise FileRejected(f"The CSV file cannot be read: {error}.", "malformed_csv") from None
    return rows


def _read_json(path: Path, limit: int | None) -> list[FeedRow]:
    try:
        with path.open("rb") as handle:
            document = json.load(handle)
    except (ValueError, RecursionError) as error:
        raise FileRejected(f"The JSON document is invalid: {error}.", "malformed_json") from None
    items = document.get("rows") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise FileRejected(
            'The JSON document must be a list of objects or an object with a "rows" list.',
            "malformed_json",
        )
    if len(items) > MAX_ROWS:
        raise FileRejected(f"More than {MAX_ROWS} rows.", "too_many_rows")
    chosen = items if limit is None else items[:limit]
    return [
        FeedRow(
            number=index,
            values=item if isinstance(item, dict) else {"__malformed__": type(item).__name__},
        )
        for index, item in enumerate(chosen, start=1)
    ]


# --- apply ----------------------------------------------------------------------------------


def _claim(job_id: uuid.UUID | str) -> MasterDataFeedJob | None:
    """Mark the job running; None when it is finished or another live run holds it."""
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None:
            raise NotFound("No such feed job.", details={"job_id": str(job_id)})
        is_stale = job.status == Status.RUNNING and (
            job.started_at is None or job.started_at < now - JOB_STALE
        )
        if job.status != Status.QUEUED and not is_stale:
            return None
        job.status = Status.RUNNING
        job.started_at = now
        job.message = "Reading the file."
        job.processed_rows = job.created_rows = job.updated_rows = job.unchanged_rows = 0
        job.save()
    return job


def master_data_feed_apply(*, job_id: uuid.UUID | str) -> MasterDataFeedJob:
    """Run a job. Idempotent: a finished job (or one another live run holds) is returned as
    it is."""
    job = _claim(job_id)
    if job is None:
        return Job.objects.get(id=job_id)
    try:
        return _run(job)
    except OperationalError:
        raise  # lost connection, deadlock: the task retries; the job is taken over when stale
    except Exception as error:
        logger.exception("master data feed job %s failed", job.id)
        return _close(job, Status.FAILED, f"Internal error: {type(error).__name__}.")


def _close(job: MasterDataFeedJob, status: str, message: str, **values: Any) -> MasterDataFeedJob:
    Job.objects.filter(id=job.id, status=Status.RUNNING).update(
        status=status, message=message, finished_at=timezone.now(), **values
    )
    job.refresh_from_db()
    return job


def _duplicates(applier: RowApplier, rows: Sequence[FeedRow]) -> list[RowProblem]:
    first_row: dict[str, int] = {}
    problems = []
    for row in rows:
        key = applier.key(row)
        if not key:
            continue
        if key in first_row:
            problems.append(
                RowProblem(
                    row,
                    key,
                    [FieldError("row", f"Same key as row {first_row[key]}.", "duplicate")],
                )
            )
        else:
            first_row[key] = row.number
    return problems


def _run(job: MasterDataFeedJob) -> MasterDataFeedJob:
    applier = _applier(job.kind)
    try:
        rows = _read_rows(Path(job.file_path), job.format, applier.columns)
    except FileRejected as error:
        return _close(job, Status.REJECTED, error.message)
    except FileNotFoundError:
        return _close(job, Status.FAILED, "The uploaded file is missing.")
    Job.objects.filter(id=job.id).update(total_rows=len(rows), message="Checking the rows.")
    duplicates = _duplicates(applier, rows)
    duplicate_numbers = {problem.row.number for problem in duplicates}
    valid: list[Any] = []
    problems: list[RowProblem] = list(duplicates)
    unique_rows = [row for row in rows if row.number not in duplicate_numbers]
    for start in range(0, len(unique_rows), ROW_BATCH):
        items, found = applier.check(unique_rows[start : start + ROW_BATCH])
        valid.extend(items)
        problems.extend(RowProblem(row, key, errors) for row, key, errors in found)
    if problems and job.mode == Job.Mode.ALL_OR_NOTHING:
        return _close(
            job,
            Status.REJECTED,
            f"{len(problems)} bad row(s); nothing was applied (all_or_nothing).",
            **_error_fields(problems),
            processed_rows=len(rows),
        )
    Job.objects.filter(id=job.id).update(processed_rows=len(problems), message="Applying.")
    totals = {"created": 0, "updated": 0, "unchanged": 0}
    for start in range(0, len(valid), ROW_BATCH):
        batch = valid[start : start + ROW_BATCH]
        outcome, lost = _apply_batch(applier, batch, job)
        problems.extend(lost)
        totals["created"] += outcome.created
        totals["updated"] += outcome.updated
        totals["unchanged"] += outcome.unchanged
        Job.objects.filter(id=job.id).update(processed_rows=F("processed_rows") + len(batch))
    notes = [
        f"{totals['created']} created, {totals['updated']} updated,"
        f" {totals['unchanged']} unchanged."
    ]
    if problems:
        notes.append(f"{len(problems)} bad row(s) skipped.")
    return _close(
        job,
        Status.SUCCEEDED,
        " ".join(notes),
        created_rows=totals["created"],
        updated_rows=totals["updated"],
        unchanged_rows=totals["unchanged"],
        **_error_fields(problems),
    )


def _error_fields(problems: list[RowProblem]) -> dict[str, Any]:
    ordered = sorted(problems, key=lambda problem: problem.row.number)
    return {
        "error_count": len(ordered),
        "errors": [problem.as_dict() for problem in ordered[:MAX_STORED_ERRORS]],
    }


def _apply_batch(
    applier: RowApplier, batch: Sequence[Any], job: MasterDataFeedJob
) -> tuple[Outcome, list[RowProblem]]:
    try:
        with transaction.atomic():
            return applier.apply(batch, job_id=str(job.id), actor=job.actor), []
    except IntegrityError:
        pass  # a concurrent writer took a unique value meanwhile: find the row(s), one by one
    created = updated = unchanged = 0
    lost: list[RowProblem] = []
    for item in batch:
        try:
            with transaction.atomic():
                outcome = applier.apply([item], job_id=str(job.id), actor=job.actor)
        except IntegrityError:
            lost.append(
                RowProblem(
                    item.row,
                    applier.key(item.row),
                    [
                        FieldError(
                            "row", "Conflicts with a concurrent change; send it again.", "conflict"
                        )
                    ],
                )
            )
            continue
        created += outcome.created
        updated += outcome.updated
        unchanged += outcome.unchanged
    return BatchOutcome(created, updated, unchanged), lost
