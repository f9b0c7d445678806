"""The purchase order and ASN status machines: declared transition tables (pure, no Django).

Every status change of a ``PurchaseOrder`` goes through
``inventory.services.supply.purchase_order_transition``, which checks this table.
"""

from __future__ import annotations

from enum import StrEnum


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"  # sent to the supplier, not yet confirmed
    CONFIRMED = "confirmed"  # confirmed quantities are incoming stock with their dates
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"  # every line received, or the rest closed short
    CANCELLED = "cancelled"


P = PurchaseOrderStatus

PURCHASE_ORDER_TRANSITIONS: dict[PurchaseOrderStatus, frozenset[PurchaseOrderStatus]] = {
    P.DRAFT: frozenset({P.SENT, P.CANCELLED}),
    P.SENT: frozenset({P.CONFIRMED, P.CANCELLED}),
    P.CONFIRMED: frozenset({P.PARTLY_RECEIVED, P.RECEIVED, P.CANCELLED}),
    # A partly received order is never cancelled: what came stays; the rest is closed short.
    P.PARTLY_RECEIVED: frozenset({P.PARTLY_RECEIVED, P.RECEIVED}),
    P.RECEIVED: frozenset(),
    P.CANCELLED: frozenset(),
}

# Orders whose open quantities count as incoming stock (and may be sold as preorders).
INCOMING = frozenset({P.CONFIRMED, P.PARTLY_RECEIVED})
# Orders whose lines may still be edited.
EDITABLE = frozenset({P.DRAFT})


def can_transition(current: PurchaseOrderStatus | str, target: PurchaseOrderStatus | str) -> bool:
    return PurchaseOrderStatus(target) in PURCHASE_ORDER_TRANSITIONS[PurchaseOrderStatus(current)]


def open_quantity(*, confirmed: int, received: int, is_closed: bool) -> int:
    """Units of a line still expected from the supplier (incoming), never negative.

    >>> open_quantity(confirmed=10, received=4, is_closed=False)
    6
    >>> open_quantity(confirmed=10, received=12, is_closed=False)
    0
    """
    if is_closed:
        return 0
    return max(0, confirmed - received)


def over_receipt_tolerance(*, confirmed: int, percent: int) -> int:
    """Units a line may be received above its confirmed quantity (percent rounded up).

    >>> over_receipt_tolerance(confirmed=10, percent=5)
    1
    >>> over_receipt_tolerance(confirmed=10, percent=0)
    0
    """
    return -(-confirmed * percent // 100)
