"""Prove that counters equal the ledger, and reserved equals the active reservations.

Set-wise SQL over the whole table (it is a nightly job, not a hot path). ``--repair`` writes
compensating ``repair`` movements so the ledger explains every counter again, and brings
``reserved`` back to the sum of active reservations (those are the truth for promises).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from inventory.models import StockMovement
from inventory.services.ledger import COUNTERS, Deltas, Origin, counters_bump, movement, record

# ``{only}`` / ``{only_levels}``: empty for the whole table, or a filter on the levels the
# repair locked (``%(ids)s``).
_LEDGER_DRIFT_SQL = """
SELECT s.id, {counter_columns}, {ledger_columns}
FROM inventory_stocklevel s
LEFT JOIN (
    SELECT stock_level_id, {sums}
    FROM inventory_stockmovement {only} GROUP BY stock_level_id
) m ON m.stock_level_id = s.id
WHERE ({differs}) {only_levels}
ORDER BY s.id
"""

_RESERVED_DRIFT_SQL = """
SELECT s.id, s.reserved, COALESCE(r.held, 0)
FROM inventory_stocklevel s
LEFT JOIN (
    SELECT stock_level_id, SUM(quantity) AS held FROM inventory_reservation
    WHERE status = 'active' {and_only} GROUP BY stock_level_id
) r ON r.stock_level_id = s.id
WHERE s.reserved <> COALESCE(r.held, 0) {only_levels}
ORDER BY s.id
"""

# One repair at a time (transaction-scoped advisory lock; a fixed key, "stock_check").
_REPAIR_LOCK_KEY = 0x73746F636B5F63  # b"stock_c"


@dataclass(frozen=True)
class Drift:
    stock_level_id: int
    kind: str  # "ledger" or "reservations"
    counters: Deltas  # what the counters say
    expected: Deltas  # what the ledger (or the reservations) say

    @property
    def gap(self) -> Deltas:
        return Deltas(
            **{
                name: getattr(self.counters, name) - getattr(self.expected, name)
                for name in COUNTERS
            }
        )


@dataclass(frozen=True)
class StockCheckReport:
    levels_checked: int
    drifts: tuple[Drift, ...]
    repaired: int

    @property
    def is_consistent(self) -> bool:
        return not self.drifts


def _ledger_sql(*, only: bool = False) -> str:
    return _LEDGER_DRIFT_SQL.format(
        counter_columns=", ".join(f"s.{name}" for name in COUNTERS),
        ledger_columns=", ".join(f"COALESCE(m.{name}, 0)" for name in COUNTERS),
        sums=", ".join(f"SUM(delta_{name}) AS {name}" for name in COUNTERS),
        differs=" OR ".join(f"s.{name} <> COALESCE(m.{name}, 0)" for name in COUNTERS),
        only="WHERE stock_level_id = ANY(%(ids)s)" if only else "",
        only_levels="AND s.id = ANY(%(ids)s)" if only else "",
    )


def _reserved_sql(*, only: bool = False) -> str:
    return _RESERVED_DRIFT_SQL.format(
        and_only="AND stock_level_id = ANY(%(ids)s)" if only else "",
        only_levels="AND s.id = ANY(%(ids)s)" if only else "",
    )


def _drifts(cursor: CursorWrapper, ids: list[int] | None = None) -> list[Drift]:
    """Both drift queries: every level, or only ``ids``."""
    only = ids is not None
    params = {"ids": ids} if only else None
    size = len(COUNTERS)
    cursor.execute(_ledger_sql(only=only), params)
    drifts = [
        Drift(row[0], "ledger", Deltas(*row[1 : 1 + size]), Deltas(*row[1 + size :]))
        for row in cursor.fetchall()
    ]
    cursor.execute(_reserved_sql(only=only), params)
    drifts += [
        Drift(row[0], "reservations", Deltas(reserved=row[1]), Deltas(reserved=row[2]))
        for row in cursor.fetchall()
    ]
    return drifts


def stock_check(
    *, repair: bool = False, progress: Callable[[str], None] | None = None
) -> StockCheckReport:
    """Compare every level with its ledger and its reservations; optionally repair.

    The check reads without locks. A repair runs in one transaction: it takes a fixed advisory
    lock (one repair at a time), locks the drifting levels in primary-key order, then measures
    their drifts again under those locks and repairs only what is still drifting, by what it
    measured then (every counter change writes its ledger row, or its reservation, in the
    transaction that holds the level's lock: a locked level's drift cannot move). Two
    overlapping repairs therefore fix a drift once.
    """
    say = progress or (lambda message: None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inventory_stocklevel")
        (levels,) = cursor.fetchone() or (0,)
        say(f"checking {levels} stock levels against the ledger and active reservations")
        drifts = _drifts(cursor)
    repaired = 0
    if repair and drifts:
        repaired = stock_repair(sorted({drift.stock_level_id for drift in drifts}))
    return StockCheckReport(levels_checked=int(levels), drifts=tuple(drifts), repaired=repaired)


def stock_repair(level_ids: list[int]) -> int:
    """Repair the drifts ``level_ids`` still have once locked (see :func:`stock_check`);
    return how many drifts were repaired. Precondition: the caller holds no stock lock."""
    repaired = 0
    with transaction.atomic():
        from inventory.services.ledger import stock_levels_lock

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REPAIR_LOCK_KEY])
            stock_levels_lock(level_ids)
            drifts = _drifts(cursor, sorted(level_ids))
        if drifts:
            moves = []
            for drift in sorted(drifts, key=lambda d: (d.stock_level_id, d.kind)):
                if drift.kind == "ledger":
                    # The counters stand; the ledger gets a row that explains them.
                    moves.append(
                        movement(
                            drift.stock_level_id,
                            StockMovement.Kind.REPAIR,
                            drift.gap,
                            Origin(source="stock_check", reason="ledger repaired to counters"),
                        )
                    )
                else:
                    # Reservations are the truth for what is promised.
                    fix = -drift.gap
                    counters_bump(drift.stock_level_id, fix)
                    moves.append(
                        movement(
                            drift.stock_level_id,
                            StockMovement.Kind.REPAIR,
                            fix,
                            Origin(
                                source="stock_check", reason="reserved repaired to reservations"
                            ),
                        )
                    )
                repaired += 1
            record(moves)
    return repaired
