"""Snapshot files into a session-local staging table, then row validation in set-wise SQL.

CSV goes straight to ``COPY ... FROM STDIN (FORMAT csv)`` in 1 MiB blocks (no Python per row).
If PostgreSQL refuses a row (wrong number of fields, broken quoting, an empty line), the file
is staged again through Python's ``csv`` module, which records each malformed row as a row
error with its line number instead of failing the whole file. JSON documents are parsed once
and written with ``copy.write_row``.

Staging tables are ``TEMP`` (no WAL, private to the worker's connection): ``feed_stage`` holds
the raw text of every row, ``feed_rows`` the resolved ids, the quantity and the row's error.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
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


_CREATE_STAGE = """
DROP TABLE IF EXISTS feed_stage;
CREATE TEMP TABLE feed_stage (
    row_number bigserial, line bigint, sku text, location text, on_hand text, problem text
)
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
                "COPY feed_stage (sku, location, on_hand) FROM STDIN (FORMAT csv)"
            ) as copy:
                while block := handle.read(_BLOCK):
                    copy.write(block)
            return _staged_count(cursor)


def _staged_count(cursor: Any) -> int:
    cursor.execute("SELECT count(*) FROM feed_stage")
    return int(cursor.fetchone()[0])


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
                    "COPY feed_stage (row_number, line, sku, location, on_hand, problem) FROM STDIN"
                ) as copy:
                    for number, (line, fields) in enumerate(_data_rows(reader), start=1):
                        if len(fields) == len(HEADER):
                            copy.write_row((number, line, *fields, None))
                        else:
                            copy.write_row((number, line, None, None, None, "malformed_row"))
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
            "COPY feed_stage (row_number, sku, location, on_hand, problem) FROM STDIN"
        ) as copy:
            for number, row in enumerate(rows, start=1):
                if isinstance(row, dict):
                    copy.write_row(
                        (
                            number,
                            _json_text(row.get("sku")),
                            _json_text(row.get("location")),
                            _json_text(row.get("on_hand")),
                            None,
                        )
                    )
                else:
                    copy.write_row((number, None, None, None, "malformed_row"))
        return _staged_count(cursor)


_RESOLVE = """
CREATE TEMP TABLE feed_rows AS
SELECT st.row_number, st.line, st.sku, st.location, st.on_hand AS raw,
       p.id AS product_id, l.id AS location_id,
       CASE WHEN st.on_hand ~ '^\\d{1,9}$' THEN st.on_hand::integer
            WHEN st.on_hand ~ '^\\s*\\+?\\d{1,9}\\s*$' THEN btrim(st.on_hand)::integer END
           AS quantity,
       CASE
           WHEN p.id IS NOT NULL AND l.id IS NOT NULL AND st.on_hand ~ '^\\d{1,9}$'
               AND NOT (%(restricted)s AND fl.location_id IS NULL) THEN NULL
           WHEN st.problem IS NOT NULL THEN st.problem
           WHEN coalesce(btrim(st.sku), '') = '' THEN 'missing_sku'
           WHEN coalesce(btrim(st.location), '') = '' THEN 'missing_location'
           WHEN p.id IS NULL THEN 'unknown_sku'
           WHEN l.id IS NULL THEN 'unknown_location'
           WHEN %(restricted)s AND fl.location_id IS NULL THEN 'location_not_served'
           WHEN coalesce(btrim(st.on_hand), '') = '' THEN 'missing_quantity'
           WHEN st.on_hand ~ '^\\s*-\\s*\\d+\\s*$' THEN 'negative_quantity'
           WHEN st.on_hand ~ '^\\s*\\+?\\d{10,}\\s*$' THEN 'quantity_too_large'
           WHEN st.on_hand !~ '^\\s*\\+?\\d{1,9}\\s*$' THEN 'invalid_quantity'
       END AS error
FROM feed_stage st
LEFT JOIN inventory_product p ON p.sku = btrim(st.sku)
LEFT JOIN inventory_location l ON l.code = btrim(st.location)
LEFT JOIN (
    SELECT location_id FROM inventory_feedsource_locations WHERE feedsource_id = %(source)s
) fl ON fl.location_id = l.id
"""

_DUPLICATES = """
UPDATE feed_rows r SET error = 'duplicate_row'
FROM (
    SELECT row_number, row_number() OVER (
        PARTITION BY product_id, location_id ORDER BY row_number
    ) AS rank
    FROM feed_rows
    WHERE error IS NULL AND (product_id, location_id) IN (
        SELECT product_id, location_id FROM feed_rows WHERE error IS NULL
        GROUP BY product_id, location_id HAVING count(*) > 1
    )
) d
WHERE d.row_number = r.row_number AND d.rank > 1
"""


def snapshot_validate(*, source_id: int, is_restricted: bool, is_csv: bool) -> RowErrors:
    """Resolve every staged row into ``feed_rows`` and list the row errors (first ones kept).

    ``is_restricted``: the source declares its locations, and rows elsewhere are errors.
    """
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS feed_rows")
        cursor.execute(_RESOLVE, {"restricted": is_restricted, "source": source_id})
        cursor.execute(_DUPLICATES)
        cursor.execute("SELECT count(*) FROM feed_rows WHERE error IS NOT NULL")
        count = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT row_number, line, sku, location, raw, error FROM feed_rows"
            " WHERE error IS NOT NULL ORDER BY row_number LIMIT %s",
            [MAX_STORED_ERRORS],
        )
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
