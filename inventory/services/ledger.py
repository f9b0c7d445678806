"""The one place where stock counters change, each change with its ledger row.

Every function here requires an open transaction (``transaction.atomic``) owned by a service in
this package. Locking contract, for the whole project: stock-level rows are locked in ascending
primary-key order through ``stock_levels_lock`` (or one single-row conditional UPDATE), after
any reservation rows the caller locks, and nothing slow runs while they are held.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection
from django.utils import timezone

from inventory.availability import StockFigures
from inventory.models import StockLevel, StockMovement
from omnilog.core.errors import Conflict
from omnilog.core.outbox import outbox_emit_many

COUNTERS = ("on_hand", "reserved", "damaged", "quality_control", "in_transit", "incoming")


@dataclass(frozen=True)
class Deltas:
    """Signed changes to the counters of one stock level."""

    on_hand: int = 0
    reserved: int = 0
    damaged: int = 0
    quality_control: int = 0
    in_transit: int = 0
    incoming: int = 0

    def is_zero(self) -> bool:
        return not any(getattr(self, name) for name in COUNTERS)

    def __neg__(self) -> Deltas:
        return Deltas(**{name: -getattr(self, name) for name in COUNTERS})


@dataclass(frozen=True)
class Origin:
    """Who and what caused a change; copied onto every ledger row it produces."""

    actor: str = ""
    source: str = ""
    reference_type: str = ""
    reference_id: str = ""
    reason: str = ""
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class LevelState:
    """Counters of one level as they are after a change (read from ``RETURNING``)."""

    id: int
    product_id: int
    location_id: int
    figures: StockFigures


_RETURNING = (
    "id, product_id, location_id, on_hand, reserved, damaged, quality_control, safety_stock"
)


def _state(row: Sequence[int]) -> LevelState:
    return LevelState(
        id=row[0],
        product_id=row[1],
        location_id=row[2],
        figures=StockFigures(
            on_hand=row[3],
            reserved=row[4],
            damaged=row[5],
            quality_control=row[6],
            safety_stock=row[7],
        ),
    )


def stock_levels_lock(level_ids: Iterable[int]) -> dict[int, StockLevel]:
    """Lock stock levels in primary-key order (the global order) and return them by id."""
    ids = sorted(set(level_ids))
    if not ids:
        return {}
    rows = StockLevel.objects.select_for_update().filter(id__in=ids).order_by("id")
    return {level.id: level for level in rows}


def stock_level_ids(
    pairs: Iterable[tuple[int, int]], *, create: bool
) -> dict[tuple[int, int], int]:
    """Ids of the levels for (product_id, location_id) pairs; with ``create``, missing ones
    are inserted with zero counters (no ledger row is needed for zeros)."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    products = [product for product, _ in wanted]
    locations = [location for _, location in wanted]
    with connection.cursor() as cursor:
        if create:
            cursor.execute(
                "INSERT INTO inventory_stocklevel (product_id, location_id, on_hand, reserved,"
                " damaged, quality_control, safety_stock, in_transit, incoming, updated_at)"
                " SELECT p, l, 0, 0, 0, 0, 0, 0, 0, now()"
                " FROM unnest(%s::bigint[], %s::bigint[]) AS pairs(p, l)"
                " ON CONFLICT (product_id, location_id) DO NOTHING",
                [products, locations],
            )
        cursor.execute(
            "SELECT s.product_id, s.location_id, s.id FROM inventory_stocklevel s"
            " JOIN unnest(%s::bigint[], %s::bigint[]) AS pairs(p, l)"
            " ON s.product_id = pairs.p AND s.location_id = pairs.l",
            [products, locations],
        )
        return {(row[0], row[1]): row[2] for row in cursor.fetchall()}


def counters_bump(
    level_id: int, deltas: Deltas, *, require_atp: int | None = None
) -> LevelState | None:
    """Add ``deltas`` to one level in one conditional UPDATE; no ledger row (see ``record``).

    With ``require_atp``, the update happens only if the level's ATP (safety stock deducted)
    is at least that much; returns None when it is not. CHECK constraints refuse any state
    that would break an invariant; that surfaces as ``Conflict`` and the transaction is void.
    """
    condition = ""
    params: list[int] = [getattr(deltas, name) for name in COUNTERS] + [level_id]
    if require_atp is not None:
        condition = " AND on_hand - reserved - damaged - quality_control - safety_stock >= %s"
        params.append(require_atp)
    sql = (
        "UPDATE inventory_stocklevel SET on_hand = on_hand + %s, reserved = reserved + %s,"
        " damaged = damaged + %s, quality_control = quality_control + %s,"
        " in_transit = in_transit + %s, incoming = incoming + %s, updated_at = now()"
        f" WHERE id = %s{condition} RETURNING {_RETURNING}"
    )
    try:
        # No savepoint (it would cost two round trips per change): a refused change aborts
        # the caller's whole transaction, which is what every service wants.
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    except IntegrityError as error:
        raise Conflict(
            "This change would break a stock invariant (negative stock, or more promised "
            "than is physically there).",
            code="stock_invariant",
            details={"stock_level_id": level_id, "constraint": _constraint_name(error)},
        ) from error
    return _state(row) if row else None


def _constraint_name(error: IntegrityError) -> str:
    diag = getattr(getattr(error, "__cause__", None), "diag", None)
    return str(getattr(diag, "constraint_name", "") or "")


def movement(level_id: int, kind: str, deltas: Deltas, origin: Origin) -> StockMovement:
    """An unsaved ledger row for ``deltas`` on one level."""
    return StockMovement(
        stock_level_id=level_id,
        kind=kind,
        delta_on_hand=deltas.on_hand,
        delta_reserved=deltas.reserved,
        delta_damaged=deltas.damaged,
        delta_quality_control=deltas.quality_control,
        delta_in_transit=deltas.in_transit,
        delta_incoming=deltas.incoming,
        reason=origin.reason[:200],
        reference_type=origin.reference_type,
        reference_id=origin.reference_id,
        actor=origin.actor[:150],
        source=origin.source,
        occurred_at=origin.occurred_at or timezone.now(),
    )


def record(movements: Sequence[StockMovement]) -> None:
    """Append ledger rows in one statement."""
    if movements:
        StockMovement.objects.bulk_create(movements, batch_size=1000)


def change(
    level_id: int,
    kind: str,
    deltas: Deltas,
    origin: Origin,
    *,
    require_atp: int | None = None,
) -> LevelState | None:
    """``counters_bump`` + its ledger row + threshold events. Returns None when refused."""
    state = counters_bump(level_id, deltas, require_atp=require_atp)
    if state is None:
        return None
    record([movement(level_id, kind, deltas, origin)])
    emit_threshold_events([(state, deltas)])
    return state


def emit_threshold_events(changes: Iterable[tuple[LevelState, Deltas]]) -> None:
    """Outbox events when a level's ATP crosses zero or the low-stock threshold."""
    low = settings.STOCK_LOW_THRESHOLD
    events = []
    for state, deltas in changes:
        after = state.figures
        before = StockFigures(
            on_hand=after.on_hand - deltas.on_hand,
            reserved=after.reserved - deltas.reserved,
            damaged=after.damaged - deltas.damaged,
            quality_control=after.quality_control - deltas.quality_control,
            safety_stock=after.safety_stock,
        )
        topic = _threshold_topic(before.atp, after.atp, low)
        if topic:
            payload = {
                "product_id": state.product_id,
                "location_id": state.location_id,
                "atp_before": before.atp,
                "atp": after.atp,
            }
            events.append((topic, "stock_level", state.id, payload))
    if events:
        outbox_emit_many(events)


def _threshold_topic(before: int, after: int, low: int) -> str | None:
    if before > 0 and after == 0:
        return "stock.out_of_stock"
    if before == 0 and after > 0:
        return "stock.back_in_stock"
    if before > low >= after > 0:
        return "stock.low"
    return None


def deltas_from_movement_fields(values: dict[str, int]) -> Deltas:
    """Build ``Deltas`` from ``delta_*`` keyed values (used by integrity checks)."""
    return Deltas(**{f.name: int(values.get(f"delta_{f.name}", 0)) for f in fields(Deltas)})
