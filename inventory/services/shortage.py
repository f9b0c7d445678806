"""Shortage handling: when on hand must fall below what is promised or set aside.

Shared by physical operations (adjust, count) and feeds (snapshots, deltas), so that every loss
writes off and shorts in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable

from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services.ledger import Deltas, Origin, change
from omnilog.core.errors import Conflict
from omnilog.core.outbox import outbox_emit

Kind = StockMovement.Kind


# A loss that finds the reservations it must short held by others rolls back and retries,
# reservations first, at most this many times (operations and feeds alike).
LOSS_ATTEMPTS = 5


class ReservationsBusy(Conflict):
    """The reservations a loss must short are held by transactions waiting for this level.

    Raised by ``stock_short_for`` before it writes anything. The locking contract takes
    reservation rows before stock levels, and a commit, release or expiry holding one of
    these reservations is waiting for the level the caller holds: waiting for it would
    deadlock. Callers roll back to a savepoint taken before the level lock (which releases
    it), lock the level's active reservations first (``reservations_lock_for_levels``), then
    the level, and try again. Left unhandled it is a plain 409 ``retry``.
    """

    def __init__(self, level_id: int) -> None:
        super().__init__(
            "The stock level is busy; try again.",
            code="retry",
            details={"stock_level_id": level_id},
        )


def reservations_lock_for_levels(level_ids: Iterable[int]) -> None:
    """Lock the active reservations of these levels, in id order.

    Precondition: the caller holds no stock-level lock yet (contract: reservations first).
    """
    ids = list(
        Reservation.objects.filter(
            stock_level_id__in=list(level_ids), status=Reservation.Status.ACTIVE
        ).values_list("id", flat=True)
    )
    if ids:
        list(
            Reservation.objects.select_for_update()
            .filter(id__in=ids)
            .order_by("id")
            .values_list("id", flat=True)
        )


def _apply(level: StockLevel, deltas: Deltas, origin: Origin) -> None:
    state = change(level.id, Kind.SHORTAGE, deltas, origin)
    if state is None:  # pragma: no cover - unconditional change on a locked row
        raise Conflict("The stock level vanished.", code="retry")


def stock_short_for(level: StockLevel, new_on_hand: int, origin: Origin) -> tuple[int, ...]:
    """Make ``reserved + damaged + QC <= new_on_hand`` before on hand drops to it.

    Caller holds the level's lock and ``level`` carries its current counters. Damaged, then QC
    units are written off first (they are promised to no one); then the youngest reservations
    are shorted (released with a ``shortage`` movement and a ``reservation.shorted`` event).
    Returns the ids of the shorted reservations. Never waits for a reservation lock: raises
    ``ReservationsBusy``, having written nothing, when the reservations it can lock at once
    (its own, or free ones) do not cover the deficit.
    """
    deficit = level.reserved + level.damaged + level.quality_control - new_on_hand
    if deficit <= 0:
        return ()
    write_off_damaged = min(level.damaged, deficit)
    write_off_qc = min(level.quality_control, deficit - write_off_damaged)
    reservations: list[Reservation] = []
    if deficit > write_off_damaged + write_off_qc:
        # SKIP LOCKED: a reservation someone else holds belongs to a commit, release or
        # expiry that is waiting for this level; waiting for it would deadlock.
        reservations = list(
            Reservation.objects.select_for_update(skip_locked=True)
            .filter(stock_level_id=level.id, status=Reservation.Status.ACTIVE)
            .order_by("-created_at", "-id")
        )
        if sum(r.quantity for r in reservations) < deficit - write_off_damaged - write_off_qc:
            raise ReservationsBusy(level.id)
    if write_off_damaged or write_off_qc:
        _apply(level, Deltas(damaged=-write_off_damaged, quality_control=-write_off_qc), origin)
        deficit -= write_off_damaged + write_off_qc
    shorted: list[int] = []
    if deficit > 0:
        for reservation in reservations:
            if deficit <= 0:
                break
            taken = min(deficit, reservation.quantity)
            _apply(
                level,
                Deltas(reserved=-taken),
                Origin(
                    actor=origin.actor,
                    source=origin.source,
                    reference_type="reservation",
                    reference_id=str(reservation.pk),
                    reason="stock loss: reservation shorted",
                    occurred_at=origin.occurred_at,
                ),
            )
            reservation.quantity -= taken
            if reservation.quantity == 0:
                reservation.status = Reservation.Status.RELEASED
            reservation.save(update_fields=["quantity", "status", "updated_at"])
            outbox_emit(
                topic="reservation.shorted",
                aggregate_type="reservation",
                aggregate_id=reservation.pk,
                payload={
                    "reference_type": reservation.reference_type,
                    "reference_id": reservation.reference_id,
                    "product_id": reservation.product_id,
                    "location_id": reservation.location_id,
                    "quantity_shorted": taken,
                },
            )
            shorted.append(reservation.pk)
            deficit -= taken
    return tuple(shorted)
