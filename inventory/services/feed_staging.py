"""Snapshot files into a session-local staging table, then row validation in set-wise SQL.

CSV goes straight to ``COPY ... FROM STDIN (FORMAT csv)`` in 1 MiB blocks (no Python per row).
If PostgreSQL refuses a row (wrong number of fields, broken quoting, an empty line), the file
is staged again through Python's ``csv`` module, which records each malformed row as a row
error with its line number instead of failing the whole file. JSON documents are parsed once
and written with ``copy.write_row``.

Staging tables are ``TEMP`` (no WAL, private to the worker's connection): ``feed_stage`` holds
the raw text of every row, ``feed_rows`` the resolved ids, the quantity and the row's error.
Both are written once and never updated in place (bar duplicate marks), so a row's physical
position (``ctid``) is its place in the file: row numbers are derived from it when errors are
reported, instead of drawing a sequence value per row during the COPY (which cost as much as the
COPY itself). The COPY uses ``FREEZE`` (the table is created in the same transaction), so the
first reads do not rewrite every page to set hint bits.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from django.db import connection, transaction

from inventory.models import FeedJob
from omnilog.core.errors import ApplicationError

HEADER = ("sku", "location", "on_hand")
MAX_STORED_ERRORS = 1000
_BLOCK = 1 << 20

ERROR_MESSAGES = {
    "malformed_row": "The row does not have exactly 3 fields (sku, location, on_hand).",
    "missing_sku": "The SKU is empty.",
    "missing_location": "The location is empty.",
    "unknown_sku": "No product has this SKU.",
    "unknown_location": "No location has this code.",
    "location_not_served": "This source does not report stock for this location.",
    "missing_quantity": "The on-hand quantity is empty.",
    "negative_quantity": "The on-hand quantity is negative.",
    "invalid_quantity": "The on-hand quantity is not a whole number.",
    "quantity_too_large": "The on-hand quantity is too large.",
    "duplicate_row": "The same SKU and location already appear on an earlier row.",
}


class SnapshotRejected(ApplicationError):
    """The whole file is unusable (header, encoding, JSON shape): nothing is applied."""

    status = 422
    code = "snapshot_rejected"
    title = "The snapshot cannot be read"


@dataclass(frozen=True)
class RowErrors:
    count: int
    first: tuple[dict[str, Any], ...]


# ``line``: set by the Python path only (a CSV record may span lines); rows carry no number.
_CREATE_STAGE = """
DROP TABLE IF EXISTS feed_stage;
CREATE TEMP TABLE feed_stage (line bigint, sku text, location text, on_hand text, problem text)
"""


def staging_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS feed_stage; DROP TABLE IF EXISTS feed_rows")


def snapshot_stage(*, path: Path, file_format: str) -> int:
    """Load the file into ``feed_stage``; returns the number of data rows staged."""
    if file_format == FeedJob.Format.JSON:
        with transaction.atomic():
            return _stage_json(path)
    try:
        with transaction.atomic():
            return _stage_csv_copy(path)
    except psycopg.Error:
        # PostgreSQL refused a row; redo it in Python to name every bad row.
        with transaction.atomic():
            return _stage_csv_python(path)


def _check_header(first_line: str) -> None:
    names = tuple(name.strip().strip('"').strip().lower() for name in first_line.split(","))
    if names != HEADER:
        shown = first_line.strip()[:200]
        raise SnapshotRejected(
            f"The CSV header must be 'sku,location,on_hand' (comma-separated); got {shown!r}.",
            code="malformed_csv",
        )


def _stage_csv_copy(path: Path) -> int:
    with path.open("rb") as handle:
        try:
            first = handle.readline().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SnapshotRejected("The file is not UTF-8.", code="malformed_csv") from None
        _check_header(first)
        with connection.cursor() as cursor:
            cursor.execute(_CREATE_STAGE)
            with cursor.copy(
                "COPY feed_stage (sku, location, on_hand) FROM STDIN (FORMAT csv, FREEZE)"
            ) as copy:
                while block := handle.read(_BLOCK):
                    copy.write(block)
            return _staged_count(cursor)


def _staged_count(cursor: Any) -> int:
    """Rows the COPY just wrote, then statistics for the planner (hash joins, not loops)."""
    count = int(cursor.rowcount)
    cursor.execute("ANALYZE feed_stage")
    return count


def _stage_csv_python(path: Path) -> int:
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader, [])
            _check_header(",".join(header))
            with connection.cursor() as cursor:
                cursor.execute(_CREATE_STAGE)
                with cursor.copy(
                    "COPY feed_stage (line, sku, location, on_hand, problem) FROM STDIN (FREEZE)"
                ) as copy:
                    for line, fields in _data_rows(reader):
                        if len(fields) == len(HEADER):
                            copy.write_row((line, *fields, None))
                        else:
                            copy.write_row((line, None, None, None, "malformed_row"))
                return _staged_count(cursor)
        except UnicodeDecodeError:
            raise SnapshotRejected("The file is not UTF-8.", code="malformed_csv") from None
        except csv.Error as error:
            raise SnapshotRejected(
                f"Line {reader.line_num}: {error}.", code="malformed_csv"
            ) from None


def _data_rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    for fields in reader:
        if not any(field.strip() for field in fields):
            continue  # blank lines carry no row
        # csv.NUL bytes would have raised; strip them from text PostgreSQL refuses anyway.
        yield reader.line_num, [field.replace("\x00", "") for field in fields]


def snapshot_json_read(path: Path) -> dict[str, Any]:
    """The JSON document: ``{"as_of": ..., "sequence": ..., "rows": [...]}``."""
    try:
        with path.open("rb") as handle:
            document = json.load(handle)
    except (ValueError, RecursionError) as error:
        raise SnapshotRejected(
            f"The JSON document is invalid: {error}.", code="malformed_json"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("rows"), list):
        raise SnapshotRejected(
            'The JSON document must be an object with a "rows" list.', code="malformed_json"
        )
    return document


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()  # refused as a quantity, kept readable in the error
    if isinstance(value, str):
        return value.replace("\x00", "")
    return json.dumps(value)


def _stage_json(path: Path) -> int:
    rows = snapshot_json_read(path)["rows"]
    with connection.cursor() as cursor:
        cursor.execute(_CREATE_STAGE)
        with cursor.copy(
            "COPY feed_stage (sku, location, on_hand, problem) FROM STDIN (FREEZE)"
        ) as copy:
            for row in rows:
                if isinstance(row, dict):
                    copy.write_row(
                        (
                            _json_text(row.get("sku")),
                            _json_text(row.get("location")),
                            _json_text(row.get("on_hand")),
                            None,
                        )
                    )
                else:
                    copy.write_row((None, None, None, "malformed_row"))
        return _staged_count(cursor)


# Every location with whether this source may report it (one small hash, no join per row).
_SERVED = """
served AS MATERIALIZED (
    SELECT l.id, l.code::text AS code,
        NOT %(restricted)s OR l.id IN (
            SELECT location_id FROM inventory_feedsource_locations WHERE feedsource_id = %(source)s
        ) AS is_served
    FROM inventory_location l
)"""

# Levels whose on hand moved since the replay window opened: a row for one of them may change
# it even when it states the current on hand (a superset of the replay, read unlocked).
_MOVED = """
moved AS MATERIALIZED (
    SELECT DISTINCT stock_level_id FROM inventory_stockmovement
    WHERE recorded_at > %(moved_since)s AND reference_type <> 'feed_job' AND delta_on_hand <> 0
)"""

# Every staged row resolved, in one pass. The quantity is parsed once: the common case (1 to 9
# ASCII digits) by a character test and a cast; only other text goes through the regular
# expressions that tell an acceptable " +5 " from a bad value. SKUs and codes join as sent;
# only a row that matches nothing is looked up again trimmed (an index probe for the rare
# padded value), which spares a btrim per field per row. The level and its on hand are read
# here (unlocked) for the diff; the write reads them again under lock. Materialized: the
# statements below read it twice.
_RESOLVED = """
resolved AS MATERIALIZED (
    SELECT r.position, r.product_id, r.location_id, r.quantity, s.id AS level_id, s.on_hand,
        CASE
            WHEN r.product_id IS NOT NULL AND r.location_id IS NOT NULL
                AND r.quantity IS NOT NULL AND r.is_served THEN NULL
            WHEN r.problem IS NOT NULL THEN r.problem
            WHEN coalesce(btrim(r.sku), '') = '' THEN 'missing_sku'
            WHEN coalesce(btrim(r.location), '') = '' THEN 'missing_location'
            WHEN r.product_id IS NULL THEN 'unknown_sku'
            WHEN r.location_id IS NULL THEN 'unknown_location'
            WHEN NOT r.is_served THEN 'location_not_served'
            WHEN coalesce(btrim(r.on_hand), '') = '' THEN 'missing_quantity'
            WHEN r.on_hand ~ '^\\s*-\\s*[0-9]+\\s*$' THEN 'negative_quantity'
            WHEN r.on_hand ~ '^\\s*\\+?[0-9]{10,}\\s*$' THEN 'quantity_too_large'
            ELSE 'invalid_quantity'
        END AS error
    FROM (
        SELECT st.ctid AS position, st.sku, st.location, st.on_hand, st.problem,
            coalesce(p.id, (SELECT id FROM inventory_product WHERE sku = btrim(st.sku)))
                AS product_id,
            coalesce(l.id, (SELECT id FROM served WHERE code = btrim(st.location)))
                AS location_id,
            coalesce(
                l.is_served, (SELECT is_served FROM served WHERE code = btrim(st.location))
            ) AS is_served,
            CASE
                WHEN octet_length(st.on_hand) BETWEEN 1 AND 9
                    AND translate(st.on_hand, '0123456789', '') = ''
                    THEN st.on_hand::integer
                WHEN st.on_hand ~ '^\\s*\\+?[0-9]{1,9}\\s*$'
                    THEN btrim(st.on_hand)::integer
            END AS quantity
        FROM feed_stage st
        LEFT JOIN inventory_product p ON p.sku = st.sku
        LEFT JOIN served l ON l.code = st.location
    ) r
    LEFT JOIN inventory_stocklevel s
        ON s.product_id = r.product_id AND s.location_id = r.location_id
)"""

_WITH = "WITH" + _SERVED + "," + _MOVED + "," + _RESOLVED

# What the rest of the job needs: the rows in error, and the valid rows that may change their
# level. The others cannot change anything and are not kept.
_KEPT = """
error IS NOT NULL OR level_id IS NULL OR quantity <> on_hand
    OR level_id IN (SELECT stock_level_id FROM moved)"""

_CREATE_ROWS = """
DROP TABLE IF EXISTS feed_rows;
CREATE TEMP TABLE feed_rows (
    position tid, product_id bigint, location_id bigint, quantity integer, level_id bigint,
    on_hand integer, error text
)
"""

# The usual case: keep the rows, and tell whether any (product, location) appears on two valid
# rows. DISTINCT in an aggregate sorts plain values (the level id), much cheaper than a window
# or a hash over a million pairs; pairs without a level yet are compared as pairs.
_RESOLVE = (
    _WITH
    + """,
kept AS (
    INSERT INTO feed_rows
    SELECT position, product_id, location_id, quantity, level_id, on_hand, error
    FROM resolved WHERE"""
    + _KEPT
    + """
)
SELECT count(level_id) <> count(DISTINCT level_id)
    OR count(*) FILTER (WHERE level_id IS NULL)
        <> count(DISTINCT (product_id, location_id)) FILTER (WHERE level_id IS NULL)
FROM resolved WHERE error IS NULL
"""
)

# Only when there are duplicates: again, naming every valid row whose (product, location)
# appeared on an earlier valid row (a window per pair, ordered by position).
_RESOLVE_WITH_DUPLICATES = (
    "TRUNCATE feed_rows; "
    + _WITH
    + """
INSERT INTO feed_rows
SELECT position, product_id, location_id, quantity, level_id, on_hand,
    CASE WHEN earlier IS NOT NULL AND error IS NULL THEN 'duplicate_row' ELSE error END
FROM (
    SELECT *, lag(position) OVER (
        PARTITION BY error IS NULL, product_id, location_id ORDER BY position
    ) AS earlier
    FROM resolved
) w
WHERE earlier IS NOT NULL OR"""
    + _KEPT
)

# The first errors with their row numbers (the rank of the staged row's position).
_FIRST_ERRORS = """
WITH numbered AS (
    SELECT ctid AS position, row_number() OVER (ORDER BY ctid) AS row_number,
        line, sku, location, on_hand
    FROM feed_stage
    WHERE ctid <= %(last)s::tid
)
SELECT n.row_number, n.line, n.sku, n.location, n.on_hand, e.error
FROM (
    SELECT position, error FROM feed_rows WHERE error IS NOT NULL ORDER BY position LIMIT %(limit)s
) e
JOIN numbered n ON n.position = e.position
ORDER BY e.position
"""


def snapshot_validate(
    *, source_id: int, is_restricted: bool, is_csv: bool, moved_since: datetime
) -> RowErrors:
    """Resolve the staged rows into ``feed_rows`` and list the row errors (first ones kept).

    ``is_restricted``: the source declares its locations, and rows elsewhere are errors.
    ``feed_rows`` keeps every row in error, and of the valid rows those that may change their
    level: no level yet, a quantity other than its on hand, or a level whose on hand moved
    since ``moved_since`` (other than by snapshots). The others cannot change anything.
    """
    with connection.cursor() as cursor:
        params: dict[str, Any] = {
            "restricted": is_restricted,
            "source": source_id,
            "moved_since": moved_since,
        }
        cursor.execute(_CREATE_ROWS)
        cursor.execute(_RESOLVE, params)
        (has_duplicates,) = cursor.fetchone()
        if has_duplicates:
            cursor.execute(_RESOLVE_WITH_DUPLICATES, params)
        cursor.execute(
            "SELECT count(*), max(position) FROM ("
            " SELECT position FROM feed_rows WHERE error IS NOT NULL ORDER BY position LIMIT %s"
            ") first",
            [MAX_STORED_ERRORS],
        )
        stored, last = cursor.fetchone()
        count = int(stored)
        if count == MAX_STORED_ERRORS:
            cursor.execute("SELECT count(*) FROM feed_rows WHERE error IS NOT NULL")
            count = int(cursor.fetchone()[0])
        first: tuple[dict[str, Any], ...] = ()
        if count:
            cursor.execute(_FIRST_ERRORS, {"last": last, "limit": MAX_STORED_ERRORS})
            first = tuple(
                _row_error(row_number, line, sku, location, raw, error, is_csv=is_csv)
                for row_number, line, sku, location, raw, error in cursor.fetchall()
            )
    return RowErrors(count=count, first=first)


def _row_error(
    row_number: int,
    line: int | None,
    sku: str | None,
    location: str | None,
    raw: str | None,
    error: str,
    *,
    is_csv: bool,
) -> dict[str, Any]:
    item: dict[str, Any] = {"row": row_number}
    if is_csv:
        # Fast path rows have one line each after the header; the Python path knows better.
        item["line"] = line if line is not None else row_number + 1
    item.update(
        {
            "code": error,
            "message": ERROR_MESSAGES.get(error, error),
            "sku": sku,
            "location": location,
            "on_hand": raw,
        }
    )
    return item
