"""Bulk creation of stock levels with their opening ledger rows.

``stock_load_initial`` is the only bulk path into the stock tables. It is safe to bypass the
per-row locking contract of ``inventory.services.ledger`` because it only ever *creates* stock
levels: a (product, location) pair that already has a level is left untouched (``ON CONFLICT DO
NOTHING``), so no counter that another writer may hold a lock on is ever changed, and a level
that does not exist yet cannot have concurrent writers. A concurrent insert of the same pair
simply wins and this load skips it. Each new level and its RECEIPT ledger row are written by one
SQL statement, so counters equal the ledger from the first moment anyone can see the row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from inventory.models import StockLevel, StockMovement

BATCH_SIZE = 5000

_LOAD_SQL = f"""
WITH new_levels AS (
    INSERT INTO {StockLevel._meta.db_table} (
        product_id, location_id, on_hand, reserved, damaged, quality_control,
        safety_stock, in_transit, incoming, updated_at
    )
    SELECT product_id, location_id, quantity, 0, 0, 0, safety_stock, 0, 0, %(now)s
    FROM unnest(%(product_ids)s::bigint[], %(location_ids)s::bigint[],
                %(quantities)s::integer[], %(safety_stocks)s::integer[])
        AS rows(product_id, location_id, quantity, safety_stock)
    ORDER BY product_id, location_id
    ON CONFLICT (product_id, location_id) DO NOTHING
    RETURNING id, on_hand
), receipts AS (
    INSERT INTO {StockMovement._meta.db_table} (
        stock_level_id, kind, delta_on_hand, delta_reserved, delta_damaged,
        delta_quality_control, delta_in_transit, delta_incoming, reason, reference_type,
        reference_id, actor, source, occurred_at, recorded_at
    )
    SELECT id, %(kind)s, on_hand, 0, 0, 0, 0, 0, %(reason)s, '', '', %(actor)s, %(source)s,
           %(now)s, %(now)s
    FROM new_levels
    WHERE on_hand <> 0
    ORDER BY id
    RETURNING 1
)
SELECT (SELECT count(*) FROM new_levels), (SELECT count(*) FROM receipts)
"""


@dataclass(frozen=True, slots=True)
class InitialStockRow:
    """Opening stock of one product at one location."""

    product_id: int
    location_id: int
    quantity: int
    safety_stock: int = 0


@dataclass(frozen=True)
class InitialLoadResult:
    levels_created: int
    movements_created: int
    rows_skipped: int


def _batches(rows: Iterable[InitialStockRow], size: int) -> Iterator[list[InitialStockRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def stock_load_initial(
    *, rows: Iterable[InitialStockRow], source: str, actor: str
) -> InitialLoadResult:
    """Create stock levels for pairs that have none yet, each with one RECEIPT movement.

    Contract:
    - Only (product, location) pairs without a ``StockLevel`` are written; rows for existing
      pairs are skipped and counted in ``rows_skipped`` (so a repeated load is a no-op).
    - A new level gets ``on_hand = quantity`` and ``safety_stock``; when ``quantity`` is not
      zero it gets exactly one RECEIPT movement with ``delta_on_hand = quantity`` and
      ``occurred_at = now``; a zero level needs no ledger row (the sum of nothing is zero).
    - Quantities and safety stocks must be >= 0; the database CHECK constraints refuse anything
      else and the whole load rolls back.
    - Runs in its own ``transaction.atomic()`` (a savepoint inside the caller's); the caller
      needs to hold no lock. No outbox events are emitted: opening stock is not a change
      anybody subscribed to.
    """
    now = timezone.now()
    levels_created = movements_created = rows_seen = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for batch in _batches(rows, BATCH_SIZE):
            rows_seen += len(batch)
            cursor.execute(
                _LOAD_SQL,
                {
                    "product_ids": [row.product_id for row in batch],
                    "location_ids": [row.location_id for row in batch],
                    "quantities": [row.quantity for row in batch],
                    "safety_stocks": [row.safety_stock for row in batch],
                    "kind": StockMovement.Kind.RECEIPT.value,
                    "reason": "initial stock load",
                    "actor": actor[:150],
                    "source": source[:64],
                    "now": now,
                },
            )
            created = cursor.fetchone()
            assert created is not None
            levels_created += int(created[0])
            movements_created += int(created[1])
    return InitialLoadResult(
        levels_created=levels_created,
        movements_created=movements_created,
        rows_skipped=rows_seen - levels_created,
    )
