"""The fulfillment order status machine: one declared transition table (pure, no Django).

Every status change of a ``FulfillmentOrder`` goes through
``fulfillment.services.fulfillment_orders.fulfillment_order_transition``, which checks this
table. Picking and packing (a later issue) move along the same table.
"""

from __future__ import annotations

from enum import StrEnum


class FulfillmentStatus(StrEnum):
    CREATED = "created"  # sent to the location, waiting for it to accept (SLA: accept_by)
    ACCEPTED = "accepted"
    PICKING = "picking"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    COLLECTED = "collected"
    REJECTED = "rejected"  # every unit rejected by the location (not found, damaged)
    CANCELLED = "cancelled"  # withdrawn (SLA missed, allocation lost, order cancelled)


F = FulfillmentStatus

FULFILLMENT_TRANSITIONS: dict[FulfillmentStatus, frozenset[FulfillmentStatus]] = {
    F.CREATED: frozenset({F.ACCEPTED, F.REJECTED, F.CANCELLED}),
    F.ACCEPTED: frozenset({F.PICKING, F.REJECTED, F.CANCELLED}),
    F.PICKING: frozenset({F.PICKED, F.REJECTED, F.CANCELLED}),
    F.PICKED: frozenset({F.PACKED, F.CANCELLED}),
    F.PACKED: frozenset({F.SHIPPED, F.READY_FOR_PICKUP, F.CANCELLED}),
    F.SHIPPED: frozenset({F.DELIVERED}),
    F.READY_FOR_PICKUP: frozenset({F.COLLECTED, F.CANCELLED}),
    F.DELIVERED: frozenset(),
    F.COLLECTED: frozenset(),
    F.REJECTED: frozenset(),
    F.CANCELLED: frozenset(),
}

# Fulfillment orders that still hold their units for the order (count in quantity_allocated).
OPEN = frozenset({F.CREATED, F.ACCEPTED, F.PICKING, F.PICKED, F.PACKED, F.READY_FOR_PICKUP})
# A location may still reject lines (it has not picked them yet).
REJECTABLE = frozenset({F.CREATED, F.ACCEPTED, F.PICKING})


def can_transition(current: FulfillmentStatus | str, target: FulfillmentStatus | str) -> bool:
    return FulfillmentStatus(target) in FULFILLMENT_TRANSITIONS[FulfillmentStatus(current)]
