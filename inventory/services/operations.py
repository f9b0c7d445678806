"""Physical stock operations: receive, adjust, count, damage, quality control, transfers.

Each service owns its transaction, locks the levels it changes in primary-key order and
writes one ledger row per level change. When a loss leaves fewer units than are promised, the
youngest reservations are shorted (released with a ``shortage`` movement and an outbox event
that routing reacts to) so the invariant ``reserved + damaged + QC <= on hand`` always holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services.ledger import (
    Deltas,
    Origin,
    change,
    stock_level_ids,
    stock_levels_lock,
)
from inventory.services.shortage import (
    LOSS_ATTEMPTS,
    ReservationsBusy,
    reservations_lock_for_levels,
    stock_short_for,
)
from omnilog.core.errors import (
    Conflict,
    FieldError,
    InsufficientStock,
    NotFound,
    ValidationFailed,
)

Kind = StockMovement.Kind


@dataclass(frozen=True)
class StockChange:
    """What a physical operation did to one level."""

    stock_level_id: int
    on_hand: int
    reserved: int
    atp: int
    shorted_reservation_ids: tuple[int, ...] = ()


def _positive(name: str, value: int) -> None:
    if value <= 0:
        raise ValidationFailed(
            f"{name} must be a positive number.",
            field_errors=[FieldError(name, "Must be a positive number.", "min_value")],
        )


def _reason_required(reason: str) -> None:
    if not reason.strip():
        raise ValidationFailed(
            "A reason is required.",
            field_errors=[FieldError("reason", "A reason is required.", "required")],
        )


def _level_id(product_id: int, location_id: int, *, create: bool) -> int:
    level_id = stock_level_ids([(product_id, location_id)], create=create).get(
        (product_id, location_id)
    )
    if level_id is None:
        raise InsufficientStock(
            "This location has no stock of this product.",
            details={"product_id": product_id, "location_id": location_id},
        )
    return level_id


def _level(product_id: int, location_id: int, *, create: bool) -> StockLevel:
    level_id = _level_id(product_id, location_id, create=create)
    return stock_levels_lock([level_id])[level_id]


def _with_loss_locks(level_id: int, apply: Callable[[StockLevel], StockChange]) -> StockChange:
    """Run ``apply`` (which may short reservations) on the locked level, deadlock-free.

    The locking contract takes reservation rows before stock levels, while a loss only learns
    under the level lock whether it must short reservations. So the first attempt locks the
    level and ``stock_short_for`` takes only reservations no one holds. If those cannot absorb
    the loss (``ReservationsBusy``: the others belong to a commit, release or expiry waiting
    for this level), the attempt rolls back to its savepoint, releasing the level, and is
    redone with the level's active reservations locked first, in id order. Caller: inside
    ``transaction.atomic``.
    """
    for attempt in range(LOSS_ATTEMPTS):
        try:
            with transaction.atomic():
                if attempt:
                    reservations_lock_for_levels([level_id])
                return apply(stock_levels_lock([level_id])[level_id])
        except ReservationsBusy:
            if attempt == LOSS_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _result(level: StockLevel, shorted: tuple[int, ...] = ()) -> StockChange:
    level.refresh_from_db()
    return StockChange(level.id, level.on_hand, level.reserved, level.atp, shorted)


def _apply(level: StockLevel, kind: str, deltas: Deltas, origin: Origin) -> None:
    state = change(level.id, kind, deltas, origin)
    if state is None:  # pragma: no cover - unconditional change on a locked row
        raise Conflict("The stock level vanished.", code="retry")


def _short_for(level: StockLevel, new_on_hand: int, origin: Origin) -> tuple[int, ...]:
    """Make ``reserved + damaged + QC <= new_on_hand`` (see ``shortage.stock_short_for``)."""
    return stock_short_for(level, new_on_hand, origin)


def stock_receive(
    *,
    product_id: int,
    location_id: int,
    quantity: int,
    from_incoming: bool = False,
    reference_type: str = "",
    reference_id: str = "",
    actor: str = "",
    source: str = "",
    occurred_at: datetime | None = None,
) -> StockChange:
    """Units arrive (goods receipt). ``from_incoming`` also lowers the expected quantity."""
    _positive("quantity", quantity)
    with transaction.atomic():
        level = _level(product_id, location_id, create=True)
        incoming = -min(quantity, level.incoming) if from_incoming else 0
        _apply(
            level,
            Kind.RECEIPT,
            Deltas(on_hand=quantity, incoming=incoming),
            Origin(
                actor=actor,
                source=source,
                reference_type=reference_type,
                reference_id=reference_id,
                occurred_at=occurred_at,
            ),
        )
        if incoming and level.incoming + incoming == 0:
            # Nothing more is expected: the date goes, as in ``stock_incoming_expect``.
            StockLevel.objects.filter(id=level.id).update(incoming_expected_date=None)
        return _result(level)


def stock_adjust(
    *,
    product_id: int,
    location_id: int,
    quantity_delta: int,
    reason: str,
    actor: str = "",
    source: str = "",
) -> StockChange:
    """Correct on hand by a signed amount, with a reason (admin, store, integration)."""
    _reason_required(reason)
    if quantity_delta == 0:
        raise ValidationFailed(
            "The adjustment is zero.",
            field_errors=[FieldError("quantity_delta", "Must not be zero.", "zero")],
        )
    origin = Origin(actor=actor, source=source, reason=reason)

    def apply(level: StockLevel) -> StockChange:
        new_on_hand = level.on_hand + quantity_delta
        if new_on_hand < 0:
            raise ValidationFailed(
                f"Only {level.on_hand} on hand; cannot remove {-quantity_delta}.",
                field_errors=[
                    FieldError("quantity_delta", "Would make on hand negative.", "negative_stock")
                ],
            )
        shorted = _short_for(level, new_on_hand, origin)
        _apply(level, Kind.ADJUSTMENT, Deltas(on_hand=quantity_delta), origin)
        return _result(level, shorted)

    with transaction.atomic():
        return _with_loss_locks(
            _level_id(product_id, location_id, create=quantity_delta > 0), apply
        )


def stock_count(
    *,
    product_id: int,
    location_id: int,
    counted: int,
    actor: str = "",
    source: str = "",
    occurred_at: datetime | None = None,
) -> StockChange:
    """A physical count sets on hand; the difference is written as a ``count`` movement."""
    if counted < 0:
        raise ValidationFailed(
            "A count cannot be negative.",
            field_errors=[FieldError("counted", "Must be zero or more.", "min_value")],
        )
    origin = Origin(
        actor=actor, source=source, reason=f"counted {counted}", occurred_at=occurred_at
    )

    def apply(level: StockLevel) -> StockChange:
        difference = counted - level.on_hand
        if difference == 0:
            return _result(level)
        shorted = _short_for(level, counted, origin)
        _apply(level, Kind.COUNT, Deltas(on_hand=difference), origin)
        return _result(level, shorted)

    with transaction.atomic():
        return _with_loss_locks(_level_id(product_id, location_id, create=True), apply)


def _set_aside(
    *,
    product_id: int,
    location_id: int,
    quantity: int,
    kind: str,
    deltas: Deltas,
    reason: str,
    actor: str,
) -> StockChange:
    _positive("quantity", quantity)
    with transaction.atomic():
        level = _level(product_id, location_id, create=False)
        free = level.on_hand - level.reserved - level.damaged - level.quality_control
        if (deltas.damaged > 0 or deltas.quality_control > 0) and free < quantity:
            raise InsufficientStock(
                f"Only {free} unpromised units here; {quantity} requested.",
                field_errors=[FieldError("quantity", f"At most {free}.", "insufficient_stock")],
            )
        _apply(level, kind, deltas, Origin(actor=actor, reason=reason))
        return _result(level)


def stock_damage(
    *, product_id: int, location_id: int, quantity: int, reason: str = "", actor: str = ""
) -> StockChange:
    """Unpromised sellable units found damaged: they stay on hand but leave ATP."""
    return _set_aside(
        product_id=product_id,
        location_id=location_id,
        quantity=quantity,
        kind=Kind.DAMAGE,
        deltas=Deltas(damaged=quantity),
        reason=reason,
        actor=actor,
    )


def stock_qc_hold(
    *, product_id: int, location_id: int, quantity: int, reason: str = "", actor: str = ""
) -> StockChange:
    """Unpromised units put on quality-control hold."""
    return _set_aside(
        product_id=product_id,
        location_id=location_id,
        quantity=quantity,
        kind=Kind.QC_HOLD,
        deltas=Deltas(quality_control=quantity),
        reason=reason,
        actor=actor,
    )


def stock_qc_release(
    *,
    product_id: int,
    location_id: int,
    quantity: int,
    is_sellable: bool,
    reason: str = "",
    actor: str = "",
) -> StockChange:
    """End a QC hold: back to sellable, or over to damaged."""
    _positive("quantity", quantity)
    with transaction.atomic():
        level = _level(product_id, location_id, create=False)
        if level.quality_control < quantity:
            raise ValidationFailed(
                f"Only {level.quality_control} units are on hold.",
                field_errors=[FieldError("quantity", "More than is on hold.", "out_of_range")],
            )
        deltas = Deltas(quality_control=-quantity, damaged=0 if is_sellable else quantity)
        _apply(level, Kind.QC_RELEASE, deltas, Origin(actor=actor, reason=reason))
        return _result(level)


def stock_write_off(
    *, product_id: int, location_id: int, quantity: int, reason: str, actor: str = ""
) -> StockChange:
    """Damaged units leave the building (scrap, return to supplier)."""
    _positive("quantity", quantity)
    _reason_required(reason)
    with transaction.atomic():
        level = _level(product_id, location_id, create=False)
        if level.damaged < quantity:
            raise ValidationFailed(
                f"Only {level.damaged} damaged units here.",
                field_errors=[FieldError("quantity", "More than is damaged.", "out_of_range")],
            )
        _apply(
            level,
            Kind.ADJUSTMENT,
            Deltas(on_hand=-quantity, damaged=-quantity),
            Origin(actor=actor, reason=reason),
        )
        return _result(level)


def stock_transfer_ship(
    *,
    product_id: int,
    from_location_id: int,
    to_location_id: int,
    quantity: int,
    transfer_reference: str,
    actor: str = "",
    reservation_id: int | None = None,
) -> tuple[StockChange, StockChange]:
    """Units leave ``from`` towards ``to``: on hand drops there, in transit rises here.

    Without ``reservation_id`` only unpromised units may leave. With it, the reserved units
    of that reservation are shipped (committed) instead.
    """
    _positive("quantity", quantity)
    if from_location_id == to_location_id:
        raise ValidationFailed(
            "A transfer needs two different locations.",
            field_errors=[FieldError("to_location_id", "Same as the origin.", "same_location")],
        )
    with transaction.atomic():
        ids = stock_level_ids(
            [(product_id, from_location_id), (product_id, to_location_id)], create=True
        )
        source_id = ids[(product_id, from_location_id)]
        target_id = ids[(product_id, to_location_id)]
        if reservation_id is not None:
            # The contract's order: the reservation row first, then both levels by pk
            # (committing first would hold the origin level while waiting for the target).
            _transfer_reservation_lock(reservation_id, product_id, from_location_id)
        locked = stock_levels_lock([source_id, target_id])
        if reservation_id is not None:
            from inventory.services.reservations import stock_commit

            stock_commit(  # takes the locks this transaction already holds: no wait
                reservation_id=reservation_id,
                quantity=quantity,
                actor=actor,
                source=f"transfer:{transfer_reference}",
            )
        source, target = locked[source_id], locked[target_id]
        origin = Origin(actor=actor, reference_type="transfer", reference_id=transfer_reference)
        if reservation_id is None:
            free = source.on_hand - source.reserved - source.damaged - source.quality_control
            if free < quantity:
                raise InsufficientStock(
                    f"Only {free} unpromised units at the origin; {quantity} requested.",
                    field_errors=[FieldError("quantity", f"At most {free}.", "insufficient_stock")],
                )
            _apply(source, Kind.TRANSFER_OUT, Deltas(on_hand=-quantity), origin)
        _apply(target, Kind.TRANSFER_OUT, Deltas(in_transit=quantity), origin)
        return _result(source), _result(target)


def _transfer_reservation_lock(reservation_id: int, product_id: int, location_id: int) -> None:
    """Lock the reservation a transfer ships; it must hold this product at the origin."""
    reservation = Reservation.objects.select_for_update().filter(id=reservation_id).first()
    if reservation is None:
        raise NotFound(f"No reservation {reservation_id}.", code="reservation_not_found")
    if (reservation.product_id, reservation.location_id) != (product_id, location_id):
        raise ValidationFailed(
            "The reservation is not for this product at the origin.",
            field_errors=[
                FieldError(
                    "reservation_id",
                    "Not a reservation of this product at the origin.",
                    "mismatch",
                )
            ],
        )


def stock_transfer_receive(
    *,
    product_id: int,
    location_id: int,
    quantity_expected: int,
    quantity_received: int,
    transfer_reference: str,
    actor: str = "",
) -> StockChange:
    """A transfer arrives: in transit drops by what was expected, on hand rises by what came.

    A discrepancy (``received != expected``) is written in the movement's reason.
    """
    _positive("quantity_expected", quantity_expected)
    if quantity_received < 0:
        raise ValidationFailed(
            "Received quantity cannot be negative.",
            field_errors=[FieldError("quantity_received", "Must be zero or more.", "min_value")],
        )
    with transaction.atomic():
        level = _level(product_id, location_id, create=True)
        if level.in_transit < quantity_expected:
            raise ValidationFailed(
                f"Only {level.in_transit} units are in transit here.",
                field_errors=[
                    FieldError("quantity_expected", "More than is in transit.", "out_of_range")
                ],
            )
        gap = quantity_received - quantity_expected
        reason = "" if gap == 0 else f"discrepancy: {gap:+d} against {quantity_expected} expected"
        _apply(
            level,
            Kind.TRANSFER_IN,
            Deltas(on_hand=quantity_received, in_transit=-quantity_expected),
            Origin(
                actor=actor,
                reference_type="transfer",
                reference_id=transfer_reference,
                reason=reason,
            ),
        )
        return _result(level)


def stock_incoming_expect(
    *,
    product_id: int,
    location_id: int,
    quantity_delta: int,
    expected_date: date | None,
    reference_type: str = "",
    reference_id: str = "",
    actor: str = "",
) -> StockChange:
    """Supplier units announced (positive) or cancelled (negative), with their expected date."""
    if quantity_delta == 0:
        raise ValidationFailed(
            "The change is zero.",
            field_errors=[FieldError("quantity_delta", "Must not be zero.", "zero")],
        )
    with transaction.atomic():
        level = _level(product_id, location_id, create=True)
        if level.incoming + quantity_delta < 0:
            raise ValidationFailed(
                f"Only {level.incoming} units are expected.",
                field_errors=[
                    FieldError("quantity_delta", "More than is expected.", "out_of_range")
                ],
            )
        _apply(
            level,
            Kind.INCOMING,
            Deltas(incoming=quantity_delta),
            Origin(actor=actor, reference_type=reference_type, reference_id=reference_id),
        )
        if expected_date is not None or level.incoming + quantity_delta == 0:
            StockLevel.objects.filter(id=level.id).update(
                incoming_expected_date=expected_date
                if level.incoming + quantity_delta > 0
                else None
            )
        return _result(level)


def stock_safety_set(*, product_id: int, location_id: int, safety_stock: int) -> StockChange:
    """Set the safety stock (configuration: it changes ATP, not the ledger)."""
    if safety_stock < 0:
        raise ValidationFailed(
            "Safety stock cannot be negative.",
            field_errors=[FieldError("safety_stock", "Must be zero or more.", "min_value")],
        )
    with transaction.atomic():
        level = _level(product_id, location_id, create=True)
        StockLevel.objects.filter(id=level.id).update(safety_stock=safety_stock)
        return _result(level)
