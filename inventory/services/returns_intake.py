"""Returned units arriving at a location (a store desk, a warehouse), awaiting inspection.

A return receipt is one ``return`` ledger movement per level: on hand rises and the same units
go on quality-control hold, so nothing that has not been inspected can be promised (ATP does
not move). The returns app then releases sellable units (``stock_qc_release``: ATP rises in
that transaction), leaves quarantined units on hold, or turns scrapped units damaged and writes
them off. Used by ``returns.services.receiving``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from inventory.models import StockMovement
from inventory.services.ledger import Deltas, Origin, change, stock_level_ids, stock_levels_lock
from omnilog.core.errors import Conflict, FieldError, ValidationFailed


@dataclass(frozen=True)
class ReturnedUnits:
    product_id: int
    quantity: int


def stock_return_receive(
    *,
    location_id: int,
    units: Sequence[ReturnedUnits],
    reference_id: str,
    actor: str,
    source: str = "returns",
    reason: str = "",
) -> None:
    """Receive returned ``units`` at ``location_id`` on quality-control hold (one ``return``
    movement per product, referenced ``return:<reference_id>``).

    Locks the levels (created when missing) in primary-key order; a caller already holding
    them keeps them (re-locking a held row does not wait). Runs in the caller's transaction
    when there is one. Raises ``ValidationFailed`` for a non-positive quantity (nothing
    written).
    """
    errors = [
        FieldError(f"units.{index}.quantity", "Must be a positive number.", "min_value")
        for index, item in enumerate(units)
        if item.quantity <= 0
    ]
    if errors:
        raise ValidationFailed("Returned quantities must be positive.", field_errors=errors)
    totals: dict[int, int] = {}
    for item in units:
        totals[item.product_id] = totals.get(item.product_id, 0) + item.quantity
    with transaction.atomic():
        ids = stock_level_ids([(product_id, location_id) for product_id in totals], create=True)
        stock_levels_lock(ids.values())
        origin = Origin(
            actor=actor,
            source=source,
            reference_type="return",
            reference_id=reference_id,
            reason=reason,
        )
        for product_id, quantity in sorted(totals.items()):
            state = change(
                ids[(product_id, location_id)],
                StockMovement.Kind.RETURN,
                Deltas(on_hand=quantity, quality_control=quantity),
                origin,
            )
            if state is None:  # pragma: no cover - unconditional change on a locked row
                raise Conflict("The stock level vanished.", code="retry")
