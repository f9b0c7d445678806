"""Replenishment transfers for inventory's proposals (registered in ``inventory.hooks`` by
``FulfillmentConfig.ready``): create the draft transfer of a confirmed proposal, and report
the units of draft replenishment transfers (not in the ledger's ``in_transit`` until shipped).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Sum

from fulfillment.models import TransferLine, TransferOrder
from fulfillment.services.transfers import TransferLineInput, transfer_create
from inventory.hooks import PendingTransfers


def replenishment_transfer_create(
    from_location_id: int,
    to_location_id: int,
    lines: Sequence[tuple[int, int]],
    actor: str,
    note: str,
) -> tuple[int, str]:
    """A draft replenishment transfer (``transfer_create``, which validates and raises
    ``ValidationFailed`` with nothing written); its id and reference."""
    transfer = transfer_create(
        from_location_id=from_location_id,
        to_location_id=to_location_id,
        reason=TransferOrder.Reason.REPLENISHMENT,
        lines=[TransferLineInput(product_id=product, quantity=units) for product, units in lines],
        actor=actor,
        note=note,  # the expected arrival is set when it ships
    )
    return transfer.pk, transfer.reference


def replenishment_transfers_pending(product_ids: Sequence[int]) -> PendingTransfers:
    """Units of draft replenishment transfers per (product, destination) and (product, origin),
    in one grouped query."""
    rows = (
        TransferLine.objects.filter(
            transfer__status=TransferOrder.Status.DRAFT,
            transfer__reason=TransferOrder.Reason.REPLENISHMENT,
            product_id__in=product_ids,
        )
        .values_list("product_id", "transfer__to_location_id", "transfer__from_location_id")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    inbound: dict[tuple[int, int], int] = {}
    outbound: dict[tuple[int, int], int] = {}
    for product_id, to_id, from_id, units in rows:
        inbound[(product_id, to_id)] = inbound.get((product_id, to_id), 0) + units
        outbound[(product_id, from_id)] = outbound.get((product_id, from_id), 0) + units
    return PendingTransfers(inbound=inbound, outbound=outbound)
