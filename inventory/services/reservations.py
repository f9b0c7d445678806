"""Reservations: reserve, release, commit, allocate, extend and expire.

Two tiers (docs/architecture.md, "The pool"): a line with a location reserves there
(click-and-collect); a line without one reserves in its channel's pool, i.e. on one of the
channel's shipping locations' own rows, so that a hot product spreads over many rows instead of
serialising every order on one. Routing later moves pool reservations with ``stock_allocate``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from inventory.models import Location, Reservation, StockLevel, StockMovement
from inventory.services.ledger import (
    Deltas,
    LevelState,
    Origin,
    counters_bump,
    emit_threshold_events,
    movement,
    record,
    stock_level_ids,
    stock_levels_lock,
)
from omnilog.core.errors import Conflict, FieldError, InsufficientStock, NotFound, ValidationFailed
from omnilog.core.outbox import outbox_emit

MAX_LINES = 200


@dataclass(frozen=True)
class ReserveLine:
    """One line to reserve. ``location_id`` None means the channel pool."""

    product_id: int
    quantity: int
    location_id: int | None = None
    reference_id: str = ""


class _Contended(Exception):
    """The optimistic attempt found its rows busy; retry with blocking locks."""


def pool_location_ids(channel_id: int) -> list[int]:
    """Locations whose rows hold a channel's pool: active, selling to it, able to ship."""
    return list(
        Location.objects.filter(channels=channel_id, is_active=True)
        .filter(Q(ships_parcels=True) | Q(is_ship_from_store=True))
        .order_by("id")
        .values_list("id", flat=True)
    )


def _validate(lines: Sequence[ReserveLine], channel_id: int | None) -> None:
    errors = []
    if not lines:
        errors.append(FieldError("lines", "At least one line is required.", "required"))
    if len(lines) > MAX_LINES:
        errors.append(FieldError("lines", f"At most {MAX_LINES} lines.", "max_length"))
    for index, line in enumerate(lines):
        if line.quantity <= 0:
            errors.append(
                FieldError(f"lines.{index}.quantity", "Must be a positive number.", "min_value")
            )
        if line.location_id is None and channel_id is None:
            errors.append(
                FieldError(
                    f"lines.{index}.location_id",
                    "A pool reservation needs a channel; give a location or a channel.",
                    "required",
                )
            )
    if errors:
        raise ValidationFailed("The reservation request is not valid.", field_errors=errors)


def stock_reserve(
    *,
    lines: Sequence[ReserveLine],
    channel_id: int | None = None,
    kind: str = Reservation.Kind.ORDER,
    reference_type: str = "",
    expires_at: datetime | None = None,
    actor: str = "",
    source: str = "",
) -> list[Reservation]:
    """Reserve every line or none; raise ``InsufficientStock`` listing every short line.

    Precondition: the caller holds no stock-level locks (a surrounding transaction, such as
    order capture, is fine: this runs in a savepoint). Never oversells: each row's increment is
    conditional on its ATP under a row lock, and PostgreSQL's CHECK constraints back it.
    """
    _validate(lines, channel_id)
    pool_ids = pool_location_ids(channel_id) if channel_id is not None else []
    attempt = partial(
        _reserve,
        lines,
        channel_id,
        pool_ids,
        kind,
        reference_type,
        expires_at,
        Origin(actor=actor, source=source, reference_type=reference_type),
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                return attempt(blocking=False)
        except _Contended:
            # The savepoint's rollback released every row lock it took, so the blocking pass
            # starts holding none and takes all its locks in primary-key order.
            pass
        return attempt(blocking=True)


def _reserve(
    lines: Sequence[ReserveLine],
    channel_id: int | None,
    pool_ids: list[int],
    kind: str,
    reference_type: str,
    expires_at: datetime | None,
    origin: Origin,
    *,
    blocking: bool,
) -> list[Reservation]:
    level_ids = stock_level_ids(
        [(line.product_id, line.location_id) for line in lines if line.location_id is not None],
        create=False,
    )
    pool_products = sorted({line.product_id for line in lines if line.location_id is None})
    candidates: dict[int, list[int]] = defaultdict(list)  # product -> pool level ids
    if pool_products and pool_ids:
        for product_id, level_id in (
            StockLevel.objects.filter(product_id__in=pool_products, location_id__in=pool_ids)
            .order_by("id")
            .values_list("product_id", "id")
        ):
            candidates[product_id].append(level_id)

    # Products touched by more than one line, or by a location line, are locked fully: one
    # row lock order per product keeps concurrent orders from deadlocking.
    lines_per_product: dict[int, int] = defaultdict(int)
    for line in lines:
        lines_per_product[line.product_id] += 1
    fast_pool = {
        product
        for product in pool_products
        if not blocking and lines_per_product[product] == 1 and candidates[product]
    }
    locked_ids = set(level_ids.values())
    for product in pool_products:
        if product not in fast_pool:
            locked_ids.update(candidates[product])
    locked = stock_levels_lock(locked_ids)
    free = {level_id: level.atp for level_id, level in locked.items()}

    pieces: list[tuple[int, int, ReserveLine]] = []  # (level id, quantity, line)
    short: list[tuple[int, ReserveLine, int]] = []
    for index, line in enumerate(lines):
        if line.location_id is not None:
            found = level_ids.get((line.product_id, line.location_id))
            available = free.get(found, 0) if found is not None else 0
            if found is None or available < line.quantity:
                short.append((index, line, available))
                continue
            free[found] -= line.quantity
            pieces.append((found, line.quantity, line))
        elif line.product_id in fast_pool:
            continue
        else:
            rows = sorted(candidates[line.product_id], key=lambda i: (-free.get(i, 0), i))
            available = sum(max(0, free.get(i, 0)) for i in rows)
            if available < line.quantity:
                short.append((index, line, available))
                continue
            pieces.extend(_split(rows, free, line))

    states: list[tuple[LevelState, Deltas]] = []
    for level_id, quantity, _line in pieces:
        state = counters_bump(level_id, Deltas(reserved=quantity), require_atp=quantity)
        if state is None:  # cannot happen under our lock; refuse rather than oversell
            raise Conflict("Stock changed during the reservation; try again.", code="retry")
        states.append((state, Deltas(reserved=quantity)))

    holds_levels = bool(locked)
    for index, line in enumerate(lines):
        if line.product_id not in fast_pool or line.location_id is not None:
            continue
        state = _reserve_pool_fast(
            line.product_id,
            line.quantity,
            candidates[line.product_id],
            may_wait=not holds_levels,
        )
        holds_levels = holds_levels or state is not None
        if state is None:
            if not blocking:
                raise _Contended
            short.append((index, line, 0))
            continue
        states.append((state, Deltas(reserved=line.quantity)))
        pieces.append((state.id, line.quantity, line))

    if short:
        raise _short_error(short)

    location_of = {state.id: state.location_id for state, _ in states}
    location_of.update({i: level.location_id for i, level in locked.items()})
    now = timezone.now()
    reservations = [
        Reservation(
            stock_level_id=level_id,
            product_id=line.product_id,
            location_id=location_of[level_id],
            channel_id=channel_id,
            kind=kind,
            scope=Reservation.Scope.LOCATION if line.location_id else Reservation.Scope.POOL,
            quantity=quantity,
            reference_type=reference_type,
            reference_id=line.reference_id,
            expires_at=expires_at,
            created_at=now,
            updated_at=now,
        )
        for level_id, quantity, line in pieces
    ]
    Reservation.objects.bulk_create(reservations)
    record(
        [
            movement(
                reservation.stock_level_id,
                StockMovement.Kind.RESERVATION,
                Deltas(reserved=reservation.quantity),
                Origin(
                    actor=origin.actor,
                    source=origin.source,
                    reference_type="reservation",
                    reference_id=str(reservation.pk),
                    reason=f"{reference_type}:{reservation.reference_id}".strip(":"),
                ),
            )
            for reservation in reservations
        ]
    )
    emit_threshold_events(states)
    return reservations


def _split(
    rows: list[int], free: dict[int, int], line: ReserveLine
) -> list[tuple[int, int, ReserveLine]]:
    """Whole line on the row with most ATP when it fits, else greedily across rows."""
    if rows and free.get(rows[0], 0) >= line.quantity:
        free[rows[0]] -= line.quantity
        return [(rows[0], line.quantity, line)]
    pieces = []
    remaining = line.quantity
    for level_id in rows:
        take = min(remaining, max(0, free.get(level_id, 0)))
        if take:
            free[level_id] -= take
            pieces.append((level_id, take, line))
            remaining -= take
        if not remaining:
            break
    return pieces


_POOL_FAST_SQL = """
WITH candidate AS (
    SELECT id FROM inventory_stocklevel
    WHERE id = ANY(%(ids)s)
      AND on_hand - reserved - damaged - quality_control - safety_stock >= %(quantity)s
    ORDER BY on_hand - reserved - damaged - quality_control - safety_stock DESC, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE inventory_stocklevel s SET reserved = s.reserved + %(quantity)s, updated_at = now()
FROM candidate
WHERE s.id = candidate.id
  AND s.on_hand - s.reserved - s.damaged - s.quality_control - s.safety_stock >= %(quantity)s
RETURNING s.id, s.product_id, s.location_id, s.on_hand, s.reserved, s.damaged,
          s.quality_control, s.safety_stock
"""


# Every pool row is busy: wait for the one with the most ATP (as last committed), then take
# the units if it still has them. One single-row conditional UPDATE (the locking contract's
# other door); PostgreSQL re-checks the condition on the row version it finally locks.
_POOL_WAIT_SQL = """
UPDATE inventory_stocklevel s SET reserved = s.reserved + %(quantity)s, updated_at = now()
WHERE s.id = (
    SELECT id FROM inventory_stocklevel
    WHERE id = ANY(%(ids)s)
      AND on_hand - reserved - damaged - quality_control - safety_stock >= %(quantity)s
    ORDER BY on_hand - reserved - damaged - quality_control - safety_stock DESC, id
    LIMIT 1
)
  AND s.on_hand - s.reserved - s.damaged - s.quality_control - s.safety_stock >= %(quantity)s
RETURNING s.id, s.product_id, s.location_id, s.on_hand, s.reserved, s.damaged,
          s.quality_control, s.safety_stock
"""


def _reserve_pool_fast(
    product_id: int, quantity: int, level_ids: list[int], *, may_wait: bool
) -> LevelState | None:
    """Reserve on the pool row with the most ATP that no one else holds; None if none can.

    With ``may_wait`` (precondition: the transaction holds no stock-level lock, so waiting for
    one row cannot deadlock), when every row with enough ATP is busy, wait for the best one
    instead of giving up: giving up sends the caller to the blocking pass, which locks *every*
    pool row of the product and so serialises all buyers of a hot product behind it.
    """
    from inventory.services.ledger import _state

    params: dict[str, Any] = {"ids": level_ids, "quantity": quantity}
    with connection.cursor() as cursor:
        cursor.execute(_POOL_FAST_SQL, params)
        row = cursor.fetchone()
        if row is None and may_wait:
            cursor.execute(_POOL_WAIT_SQL, params)
            row = cursor.fetchone()
    return _state(row) if row else None


def _short_error(short: list[tuple[int, ReserveLine, int]]) -> InsufficientStock:
    return InsufficientStock(
        f"{len(short)} line(s) cannot be reserved: not enough stock.",
        details={
            "lines": [
                {
                    "index": index,
                    "product_id": line.product_id,
                    "location_id": line.location_id,
                    "requested": line.quantity,
                    "available": available,
                }
                for index, line, available in short
            ]
        },
        field_errors=[
            FieldError(
                f"lines.{index}.quantity",
                f"Only {available} available, {line.quantity} requested.",
                "insufficient_stock",
            )
            for index, line, available in short
        ],
    )


def _lock_reservations(reservation_ids: Sequence[int]) -> list[Reservation]:
    rows = list(
        Reservation.objects.select_for_update().filter(id__in=reservation_ids).order_by("id")
    )
    missing = set(reservation_ids) - {row.id for row in rows}
    if missing:
        raise NotFound(f"No reservation {sorted(missing)[0]}.", code="reservation_not_found")
    return rows


def _require_active(reservation: Reservation) -> None:
    if reservation.status != Reservation.Status.ACTIVE:
        raise Conflict(
            f"Reservation {reservation.pk} is {reservation.status}, not active.",
            code="reservation_not_active",
            details={"reservation_id": reservation.pk, "status": reservation.status},
        )


def _take(reservation: Reservation, quantity: int | None) -> int:
    taken = reservation.quantity if quantity is None else quantity
    if taken <= 0 or taken > reservation.quantity:
        raise ValidationFailed(
            f"Quantity must be between 1 and {reservation.quantity}.",
            field_errors=[FieldError("quantity", "Out of range.", "out_of_range")],
        )
    return taken


def _finish(
    reservations: Sequence[Reservation],
    quantities: dict[int, int],
    *,
    kind: str,
    deltas_for: dict[int, Deltas],
    status: str,
    origin: Origin,
) -> None:
    """Apply per-reservation deltas to their levels (pk order) and close drained ones."""
    stock_levels_lock(r.stock_level_id for r in reservations)
    states = []
    moves = []
    for reservation in sorted(reservations, key=lambda r: r.stock_level_id):
        deltas = deltas_for[reservation.id]
        state = counters_bump(reservation.stock_level_id, deltas)
        assert state is not None
        states.append((state, deltas))
        moves.append(
            movement(
                reservation.stock_level_id,
                kind,
                deltas,
                Origin(
                    actor=origin.actor,
                    source=origin.source,
                    reference_type="reservation",
                    reference_id=str(reservation.pk),
                    reason=origin.reason
                    or f"{reservation.reference_type}:{reservation.reference_id}".strip(":"),
                ),
            )
        )
        taken = quantities[reservation.id]
        reservation.quantity -= taken
        if kind == StockMovement.Kind.SALE:
            reservation.quantity_committed += taken
        if reservation.quantity == 0:
            reservation.status = status
        reservation.save(update_fields=["quantity", "quantity_committed", "status", "updated_at"])
    record(moves)
    emit_threshold_events(states)


def _settle_one(
    *,
    reservation_id: int,
    quantity: int | None,
    kind: str,
    deltas: Callable[[int], Deltas],
    status: str,
    origin: Origin,
) -> Reservation:
    """Take ``quantity`` (all by default) off one active reservation and apply ``deltas(taken)``
    to its level; the reservation reaches ``status`` when nothing is left."""
    with transaction.atomic():
        (reservation,) = _lock_reservations([reservation_id])
        _require_active(reservation)
        taken = _take(reservation, quantity)
        _finish(
            [reservation],
            {reservation.id: taken},
            kind=kind,
            deltas_for={reservation.id: deltas(taken)},
            status=status,
            origin=origin,
        )
    return reservation


def stock_release(
    *, reservation_id: int, quantity: int | None = None, reason: str = "", actor: str = ""
) -> Reservation:
    """Give back all or part of an active reservation's units (cancellation, edit)."""
    return _settle_one(
        reservation_id=reservation_id,
        quantity=quantity,
        kind=StockMovement.Kind.RELEASE,
        deltas=lambda taken: Deltas(reserved=-taken),
        status=Reservation.Status.RELEASED,
        origin=Origin(actor=actor, reason=reason),
    )


def stock_release_reference(
    *, reference_type: str, reference_ids: Sequence[str], reason: str = "", actor: str = ""
) -> int:
    """Release every active reservation of these references (e.g. a cancelled order's lines).

    Returns the number of units released; releasing twice releases nothing the second time.
    """
    with transaction.atomic():
        ids = list(
            Reservation.objects.filter(
                reference_type=reference_type,
                reference_id__in=list(reference_ids),
                status=Reservation.Status.ACTIVE,
            ).values_list("id", flat=True)
        )
        rows = [r for r in _lock_reservations(ids) if r.status == Reservation.Status.ACTIVE]
        units = sum(r.quantity for r in rows)
        if rows:
            _finish(
                rows,
                {r.id: r.quantity for r in rows},
                kind=StockMovement.Kind.RELEASE,
                deltas_for={r.id: Deltas(reserved=-r.quantity) for r in rows},
                status=Reservation.Status.RELEASED,
                origin=Origin(actor=actor, reason=reason),
            )
        return units


def stock_commit(
    *, reservation_id: int, quantity: int | None = None, actor: str = "", source: str = ""
) -> Reservation:
    """The units leave: on hand and reserved both drop (ship, handover, till sale)."""
    return _settle_one(
        reservation_id=reservation_id,
        quantity=quantity,
        kind=StockMovement.Kind.SALE,
        deltas=lambda taken: Deltas(on_hand=-taken, reserved=-taken),
        status=Reservation.Status.COMMITTED,
        origin=Origin(actor=actor, source=source),
    )


def stock_allocate(
    *, reservation_id: int, location_id: int, quantity: int | None = None, actor: str = ""
) -> Reservation:
    """Bind (part of) a pool reservation to a location; returns the location reservation.

    Same location: the reservation's scope becomes ``location`` (no counter moves). Another
    location: units are reserved there (conditional on its ATP) and released where they were
    parked, both rows locked in pk order; ``InsufficientStock`` if the target lacks them.
    """
    with transaction.atomic():
        (reservation,) = _lock_reservations([reservation_id])
        _require_active(reservation)
        taken = _take(reservation, quantity)
        if reservation.location_id == location_id and taken == reservation.quantity:
            reservation.scope = Reservation.Scope.LOCATION
            reservation.save(update_fields=["scope", "updated_at"])
            return reservation
        target_id = stock_level_ids([(reservation.product_id, location_id)], create=False).get(
            (reservation.product_id, location_id)
        )
        if target_id is None:
            raise InsufficientStock(
                "The target location has no stock of this product.",
                details={"location_id": location_id, "product_id": reservation.product_id},
            )
        if target_id != reservation.stock_level_id:
            _move_reserved(reservation, target_id, location_id, taken, actor)
        # Same level (part of a pool reservation bound where it is parked): the units stay
        # reserved on that row; only the reservation splits, so no counter or ledger row moves.
        reservation.quantity -= taken
        if reservation.quantity == 0:
            reservation.status = Reservation.Status.RELEASED
        reservation.save(update_fields=["quantity", "status", "updated_at"])
        now = timezone.now()
        return Reservation.objects.create(
            stock_level_id=target_id,
            product_id=reservation.product_id,
            location_id=location_id,
            channel_id=reservation.channel_id,
            kind=reservation.kind,
            scope=Reservation.Scope.LOCATION,
            quantity=taken,
            reference_type=reservation.reference_type,
            reference_id=reservation.reference_id,
            expires_at=reservation.expires_at,
            created_at=now,
            updated_at=now,
        )


def _move_reserved(
    reservation: Reservation, target_id: int, location_id: int, taken: int, actor: str
) -> None:
    """Reserve ``taken`` units on ``target_id`` (if its ATP allows) and release them where
    ``reservation`` parks them. Caller holds the reservation's lock."""
    stock_levels_lock([reservation.stock_level_id, target_id])
    origin = Origin(
        actor=actor,
        reference_type="reservation",
        reference_id=str(reservation.pk),
        reason=f"allocate to location {location_id}",
    )
    moved_in = counters_bump(target_id, Deltas(reserved=taken), require_atp=taken)
    if moved_in is None:
        raise InsufficientStock(
            "The target location does not have enough stock.",
            details={"location_id": location_id, "requested": taken},
        )
    moved_out = counters_bump(reservation.stock_level_id, Deltas(reserved=-taken))
    assert moved_out is not None
    record(
        [
            movement(
                reservation.stock_level_id,
                StockMovement.Kind.ALLOCATION,
                Deltas(reserved=-taken),
                origin,
            ),
            movement(target_id, StockMovement.Kind.ALLOCATION, Deltas(reserved=taken), origin),
        ]
    )
    emit_threshold_events(
        [(moved_out, Deltas(reserved=-taken)), (moved_in, Deltas(reserved=taken))]
    )


def stock_hold_extend(*, reservation_id: int, expires_at: datetime) -> Reservation:
    """Keep a hold alive longer (e.g. payment pending). Refused once it has expired."""
    with transaction.atomic():
        (reservation,) = _lock_reservations([reservation_id])
        _require_active(reservation)
        if expires_at <= timezone.now():
            raise ValidationFailed(
                "The new expiry must be in the future.",
                field_errors=[FieldError("expires_at", "Must be in the future.", "past")],
            )
        reservation.expires_at = expires_at
        reservation.save(update_fields=["expires_at", "updated_at"])
    return reservation


def reservations_expire(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Release every active reservation whose ``expires_at`` has passed, exactly once.

    Rows being committed or released concurrently are skipped (SKIP LOCKED) and seen again
    on the next run if still active. Returns the number of reservations expired.
    """
    moment = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            rows = list(
                Reservation.objects.select_for_update(skip_locked=True)
                .filter(status=Reservation.Status.ACTIVE, expires_at__lte=moment)
                .order_by("id")[:batch_size]
            )
            if not rows:
                return expired
            _finish(
                rows,
                {r.id: r.quantity for r in rows},
                kind=StockMovement.Kind.EXPIRY,
                deltas_for={r.id: Deltas(reserved=-r.quantity) for r in rows},
                status=Reservation.Status.EXPIRED,
                origin=Origin(source="beat", reason="hold expired"),
            )
            for row in rows:
                outbox_emit(
                    topic="reservation.expired",
                    aggregate_type="reservation",
                    aggregate_id=row.pk,
                    payload={
                        "reference_type": row.reference_type,
                        "reference_id": row.reference_id,
                        "product_id": row.product_id,
                        "location_id": row.location_id,
                    },
                )
            expired += len(rows)
