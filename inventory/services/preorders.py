"""Preorders: sell confirmed incoming supplier units before they arrive, never more of them.

``stock_preorder`` takes units of open purchase order lines (confirmed or partly received
orders to the given locations, earliest date first) for order lines; the CHECK
``po_line_preordered_within_open`` and the line locks make overselling impossible even under
concurrent captures. A receipt turns waiting preorders into reservations at the destination
(``preorders_reserve``); cancelling an order releases them (``preorders_release_reference``);
a cancelled or short-closed purchase order releases them too (``supply_stock.preorders_trim``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from inventory.models import (
    PreorderAllocation,
    PurchaseOrderLine,
    Reservation,
    StockMovement,
)
from inventory.services.ledger import Deltas, Origin, change
from inventory.supply_statuses import INCOMING
from omnilog.core.errors import FieldError, InsufficientStock, ValidationFailed
from omnilog.core.outbox import outbox_emit_many


@dataclass(frozen=True)
class PreorderLine:
    """Units of one product for one order line, from incoming stock at ``location_ids``."""

    product_id: int
    quantity: int
    reference_id: str
    location_ids: tuple[int, ...]


def stock_preorder(
    *,
    lines: Sequence[PreorderLine],
    reference_type: str,
    channel_id: int | None = None,
) -> list[PreorderAllocation]:
    """Allocate each line from open incoming units (earliest expected date first), all or
    nothing. Raises ``InsufficientStock`` (one ``lines.N.quantity`` error per short line, with
    ``details['lines']`` as ``stock_reserve`` does) and writes nothing then.

    Locks the candidate purchase order lines by id; the caller may hold stock-level locks
    (levels come before lines in the global order) but no purchase order line lock.
    """
    for index, line in enumerate(lines):
        if line.quantity <= 0:
            raise ValidationFailed(
                "Quantities must be positive.",
                field_errors=[
                    FieldError(f"lines.{index}.quantity", "Must be positive.", "min_value")
                ],
            )
    with transaction.atomic():
        candidates = list(
            PurchaseOrderLine.objects.select_for_update(of=("self",))
            .filter(
                product_id__in={line.product_id for line in lines},
                purchase_order__status__in=[str(status) for status in INCOMING],
                purchase_order__location_id__in={i for line in lines for i in line.location_ids},
                is_closed=False,
                quantity_confirmed__gt=F("quantity_received") + F("quantity_preordered"),
            )
            .select_related("purchase_order")
            .order_by("id")
        )
        free = {
            candidate.pk: candidate.quantity_open - candidate.quantity_preordered
            for candidate in candidates
        }
        plan: list[tuple[int, PurchaseOrderLine, int]] = []
        short: list[tuple[int, PreorderLine, int]] = []
        for index, line in enumerate(lines):
            usable = sorted(
                (
                    candidate
                    for candidate in candidates
                    if candidate.product_id == line.product_id
                    and candidate.purchase_order.location_id in line.location_ids
                ),
                key=lambda c: (c.expected_date is None, c.expected_date, c.pk),
            )
            available = sum(free[candidate.pk] for candidate in usable)
            if available < line.quantity:
                short.append((index, line, available))
                continue
            wanted = line.quantity
            for candidate in usable:
                take = min(wanted, free[candidate.pk])
                if take:
                    free[candidate.pk] -= take
                    plan.append((index, candidate, take))
                    wanted -= take
        if short:
            raise _short_error(short)
        allocations = [
            PreorderAllocation(
                purchase_order_line=candidate,
                product_id=candidate.product_id,
                location_id=candidate.purchase_order.location_id,
                channel_id=channel_id,
                reference_type=reference_type,
                reference_id=lines[index].reference_id,
                quantity=take,
            )
            for index, candidate, take in plan
        ]
        PreorderAllocation.objects.bulk_create(allocations)
        for _, candidate, take in plan:
            # The CHECK is the last word: a stale read can never oversell.
            PurchaseOrderLine.objects.filter(pk=candidate.pk).update(
                quantity_preordered=F("quantity_preordered") + take
            )
        return allocations


def _short_error(short: list[tuple[int, PreorderLine, int]]) -> InsufficientStock:
    return InsufficientStock(
        f"{len(short)} line(s) cannot be preordered: not enough incoming stock.",
        code="insufficient_incoming_stock",
        details={
            "lines": [
                {
                    "index": index,
                    "product_id": line.product_id,
                    "location_id": None,
                    "requested": line.quantity,
                    "available": available,
                }
                for index, line, available in short
            ]
        },
        field_errors=[
            FieldError(
                f"lines.{index}.quantity",
                f"Only {available} incoming units can be preordered, {line.quantity} requested.",
                "insufficient_incoming_stock",
            )
            for index, line, available in short
        ],
    )


def preorders_reserve(
    line: PurchaseOrderLine, *, level_id: int, units: int, origin: Origin
) -> list[Reservation]:
    """Received units go to the line's waiting preorders (oldest first), as reservations at
    the destination for the same order lines. At most ``units``. Caller: holds the level and
    line locks; the units are on hand (just received)."""
    reservations: list[Reservation] = []
    if units <= 0 or line.quantity_preordered <= 0:
        return reservations
    now = timezone.now()
    touched: list[PreorderAllocation] = []
    for allocation in (
        PreorderAllocation.objects.select_for_update()
        .filter(purchase_order_line=line, status=PreorderAllocation.Status.ACTIVE)
        .order_by("id")
    ):
        if units <= 0:
            break
        take = min(units, allocation.quantity)
        units -= take
        allocation.quantity -= take
        allocation.quantity_reserved += take
        if allocation.quantity == 0:
            allocation.status = PreorderAllocation.Status.RESERVED
        touched.append(allocation)
        reservations.append(
            Reservation(
                stock_level_id=level_id,
                product_id=allocation.product_id,
                location_id=allocation.location_id,
                channel_id=allocation.channel_id,
                kind=Reservation.Kind.ORDER,
                scope=Reservation.Scope.LOCATION,
                quantity=take,
                reference_type=allocation.reference_type,
                reference_id=allocation.reference_id,
                created_at=now,
                updated_at=now,
            )
        )
    PreorderAllocation.objects.bulk_update(touched, ["quantity", "quantity_reserved", "status"])
    Reservation.objects.bulk_create(reservations)
    reserved = sum(reservation.quantity for reservation in reservations)
    line.quantity_preordered -= reserved
    PurchaseOrderLine.objects.filter(pk=line.pk).update(
        quantity_preordered=F("quantity_preordered") - reserved
    )
    for reservation in reservations:
        change(
            level_id,
            StockMovement.Kind.RESERVATION,
            Deltas(reserved=reservation.quantity),
            Origin(
                actor=origin.actor,
                source=origin.source,
                reference_type="reservation",
                reference_id=str(reservation.pk),
                reason=f"preorder {reservation.reference_type}:{reservation.reference_id}",
            ),
        )
    outbox_emit_many(
        (
            "preorder.reserved",
            "preorder",
            allocation.pk,
            {
                "reference_type": allocation.reference_type,
                "reference_id": allocation.reference_id,
                "product_id": allocation.product_id,
                "location_id": allocation.location_id,
                "quantity_reserved": allocation.quantity_reserved,
                "quantity_waiting": allocation.quantity,
            },
        )
        for allocation in touched
    )
    return reservations


def preorders_release_reference(*, reference_type: str, reference_ids: Sequence[str]) -> int:
    """Release the waiting preorders of these references (an order cancelled); returns the
    units given back to incoming stock. Locks the purchase order lines by id."""
    with transaction.atomic():
        allocations = list(
            PreorderAllocation.objects.filter(
                Q(reference_type=reference_type, reference_id__in=list(reference_ids)),
                status=PreorderAllocation.Status.ACTIVE,
            ).values_list("purchase_order_line_id", flat=True)
        )
        if not allocations:
            return 0
        list(
            PurchaseOrderLine.objects.select_for_update()
            .filter(pk__in=set(allocations))
            .order_by("id")
            .values_list("id", flat=True)
        )
        released = 0
        for allocation in PreorderAllocation.objects.select_for_update().filter(
            reference_type=reference_type,
            reference_id__in=list(reference_ids),
            status=PreorderAllocation.Status.ACTIVE,
        ):
            PurchaseOrderLine.objects.filter(pk=allocation.purchase_order_line_id).update(
                quantity_preordered=F("quantity_preordered") - allocation.quantity
            )
            released += allocation.quantity
            allocation.quantity = 0
            allocation.status = PreorderAllocation.Status.RELEASED
            allocation.save(update_fields=["quantity", "status"])
        return released
