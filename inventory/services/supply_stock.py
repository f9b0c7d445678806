"""Stock effects of purchase orders: incoming units with their dates, preorders kept within them.

Shared by ``supply`` (confirm, cancel, close, reschedule), ``receiving`` and ``preorders``.
Every function requires the caller's transaction. Locking order for purchase orders (after
any reservation rows): the purchase order row, then stock levels in primary-key order
(``stock_levels_lock``), then purchase order lines by id. Capture's preorders take levels
(``stock_reserve``) then lines, the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection

from inventory.models import (
    PreorderAllocation,
    PurchaseOrder,
    PurchaseOrderLine,
    StockMovement,
)
from inventory.services.ledger import Deltas, Origin, change, stock_level_ids, stock_levels_lock
from inventory.supply_statuses import INCOMING
from omnilog.core.errors import Conflict, NotFound
from omnilog.core.outbox import outbox_emit_many

PURCHASE_ORDER = "purchase_order"


def purchase_order_lock(purchase_order_id: int) -> PurchaseOrder:
    """Lock one purchase order row (first in the order above)."""
    purchase_order = (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("supplier", "location")
        .filter(pk=purchase_order_id)
        .first()
    )
    if purchase_order is None:
        raise NotFound(f"No purchase order {purchase_order_id}.", code="purchase_order_not_found")
    return purchase_order


def purchase_order_lines_lock(purchase_order: PurchaseOrder) -> list[PurchaseOrderLine]:
    """Lock the order's levels at its destination (pk order), then its lines (id order).

    Levels are created with zero counters when missing. Returns the lines by line number.
    """
    product_ids = list(
        PurchaseOrderLine.objects.filter(purchase_order=purchase_order).values_list(
            "product_id", flat=True
        )
    )
    ids = stock_level_ids(
        [(product_id, purchase_order.location_id) for product_id in product_ids], create=True
    )
    stock_levels_lock(ids.values())
    lines = list(
        PurchaseOrderLine.objects.select_for_update()
        .filter(purchase_order=purchase_order)
        .select_related("product")
        .order_by("id")
    )
    for line in lines:
        line.stock_level_id = ids[(line.product_id, purchase_order.location_id)]  # type: ignore[attr-defined]
    return sorted(lines, key=lambda line: line.line_number)


def incoming_change(
    *, level_id: int, quantity_delta: int, origin: Origin, on_hand: int = 0
) -> None:
    """One ledger row: ``incoming`` (and, for a receipt, ``on_hand``) change on a locked level.

    A positive ``on_hand`` makes it a ``receipt`` movement; otherwise an ``incoming`` one.
    The CHECK ``incoming >= 0`` refuses lowering more than is expected (``Conflict``).
    """
    kind = StockMovement.Kind.RECEIPT if on_hand else StockMovement.Kind.INCOMING
    deltas = Deltas(on_hand=on_hand, incoming=quantity_delta)
    if deltas.is_zero():
        return
    if change(level_id, kind, deltas, origin) is None:  # pragma: no cover - unconditional
        raise Conflict("The stock level vanished.", code="retry")


def incoming_dates_refresh(level_ids: Iterable[int]) -> None:
    """Set each level's ``incoming_expected_date`` to the earliest date of its open purchase
    order lines (kept as is when its incoming units come from elsewhere; None at zero).
    Caller: holds the levels' locks."""
    ids = sorted(set(level_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_stocklevel s SET incoming_expected_date = CASE"
            " WHEN s.incoming = 0 THEN NULL ELSE COALESCE(("
            "  SELECT min(l.expected_date) FROM inventory_purchaseorderline l"
            "  JOIN inventory_purchaseorder o ON o.id = l.purchase_order_id"
            "  WHERE o.status = ANY(%s) AND o.location_id = s.location_id"
            "  AND l.product_id = s.product_id AND NOT l.is_closed"
            "  AND l.quantity_confirmed > l.quantity_received"
            " ), s.incoming_expected_date) END"
            " WHERE s.id = ANY(%s)",
            [sorted(str(status) for status in INCOMING), ids],
        )


def preorders_trim(
    line: PurchaseOrderLine, *, open_after: int, reason: str
) -> list[PreorderAllocation]:
    """Release preorders beyond ``open_after`` units (the youngest first) and lower
    ``line.quantity_preordered`` in memory and in the database. Caller: holds the line lock.

    Emits ``preorder.released`` per allocation so that orders can react (the order line no
    longer has goods coming).
    """
    excess = line.quantity_preordered - max(0, open_after)
    if excess <= 0:
        return []
    released: list[PreorderAllocation] = []
    for allocation in (
        PreorderAllocation.objects.select_for_update()
        .filter(purchase_order_line=line, status=PreorderAllocation.Status.ACTIVE)
        .order_by("-id")
    ):
        if excess <= 0:
            break
        take = min(excess, allocation.quantity)
        allocation.quantity -= take
        if allocation.quantity == 0:
            allocation.status = PreorderAllocation.Status.RELEASED
        allocation.save(update_fields=["quantity", "status"])
        excess -= take
        line.quantity_preordered -= take
        released.append(allocation)
    PurchaseOrderLine.objects.filter(pk=line.pk).update(
        quantity_preordered=line.quantity_preordered
    )
    outbox_emit_many(
        (
            "preorder.released",
            "preorder",
            allocation.pk,
            {
                "reference_type": allocation.reference_type,
                "reference_id": allocation.reference_id,
                "product_id": allocation.product_id,
                "quantity_waiting": allocation.quantity,
                "purchase_order_line_id": line.pk,
                "reason": reason,
            },
        )
        for allocation in released
    )
    return released


def lines_close(
    lines: Sequence[PurchaseOrderLine],
    *,
    origin: Origin,
    reason: str,
) -> None:
    """Nothing more comes on these lines: incoming drops by their open units, preorders on
    them are released, the lines are closed. Caller: ``purchase_order_lines_lock``."""
    for line in lines:
        open_units = line.quantity_open
        preorders_trim(line, open_after=0, reason=reason)
        incoming_change(
            level_id=line.stock_level_id,  # type: ignore[attr-defined]
            quantity_delta=-open_units,
            origin=origin,
        )
    PurchaseOrderLine.objects.filter(pk__in=[line.pk for line in lines]).update(is_closed=True)
    for line in lines:
        line.is_closed = True
    incoming_dates_refresh(line.stock_level_id for line in lines)  # type: ignore[attr-defined]


__all__ = [
    "PURCHASE_ORDER",
    "incoming_change",
    "incoming_dates_refresh",
    "lines_close",
    "preorders_trim",
    "purchase_order_lines_lock",
    "purchase_order_lock",
]
