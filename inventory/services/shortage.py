"""Shortage handling: when on hand must fall below what is promised or set aside.

Shared by physical operations (adjust, count) and feeds (snapshots, deltas), so that every loss
writes off and shorts in the same order.
"""

from __future__ import annotations

from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services.ledger import Deltas, Origin, change
from omnilog.core.errors import Conflict
from omnilog.core.outbox import outbox_emit

Kind = StockMovement.Kind


def _apply(level: StockLevel, deltas: Deltas, origin: Origin) -> None:
    state = change(level.id, Kind.SHORTAGE, deltas, origin)
    if state is None:  # pragma: no cover - unconditional change on a locked row
        raise Conflict("The stock level vanished.", code="retry")


def stock_short_for(level: StockLevel, new_on_hand: int, origin: Origin) -> tuple[int, ...]:
    """Make ``reserved + damaged + QC <= new_on_hand`` before on hand drops to it.

    Caller holds the level's lock and ``level`` carries its current counters. Damaged, then QC
    units are written off first (they are promised to no one); then the youngest reservations
    are shorted (released with a ``shortage`` movement and a ``reservation.shorted`` event).
    Returns the ids of the shorted reservations.
    """
    deficit = level.reserved + level.damaged + level.quality_control - new_on_hand
    if deficit <= 0:
        return ()
    write_off_damaged = min(level.damaged, deficit)
    write_off_qc = min(level.quality_control, deficit - write_off_damaged)
    if write_off_damaged or write_off_qc:
        _apply(level, Deltas(damaged=-write_off_damaged, quality_control=-write_off_qc), origin)
        deficit -= write_off_damaged + write_off_qc
    shorted: list[int] = []
    if deficit > 0:
        reservations = (
            Reservation.objects.select_for_update()
            .filter(stock_level_id=level.id, status=Reservation.Status.ACTIVE)
            .order_by("-created_at", "-id")
        )
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
