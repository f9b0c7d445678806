"""The order status machine: one declared transition table (pure, no Django).

Every status change goes through ``orders.services.lifecycle.order_transition``, which checks
this table and writes an ``OrderEvent``. Fulfillment and returns move orders along the same
table.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    PLACED = "placed"
    ON_HOLD = "on_hold"
    BACKORDERED = "backordered"
    ROUTED = "routed"
    IN_FULFILLMENT = "in_fulfillment"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    COLLECTED = "collected"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PLACED: frozenset({S.ON_HOLD, S.ROUTED, S.BACKORDERED, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.PLACED, S.CANCELLED}),
    S.BACKORDERED: frozenset({S.ROUTED, S.ON_HOLD, S.CANCELLED}),
    # A routed order can go back to placed when every allocation is rejected (re-routing).
    S.ROUTED: frozenset({S.IN_FULFILLMENT, S.PLACED, S.ON_HOLD, S.BACKORDERED, S.CANCELLED}),
    # Back to placed / backordered when every accepted allocation is rejected and re-routing
    # finds nothing (accepting the first fulfillment order moves routed -> in_fulfillment).
    S.IN_FULFILLMENT: frozenset(
        {S.PARTIALLY_SHIPPED, S.SHIPPED, S.READY_FOR_PICKUP, S.PLACED, S.BACKORDERED, S.CANCELLED}
    ),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED, S.DELIVERED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.READY_FOR_PICKUP: frozenset({S.COLLECTED, S.CANCELLED}),
    S.DELIVERED: frozenset({S.COMPLETED}),
    S.COLLECTED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Before fulfillment starts, the customer (or the channel) may still edit or hold the order.
EDITABLE = frozenset({S.PLACED, S.ON_HOLD, S.BACKORDERED, S.ROUTED})
CANCELLABLE = frozenset(status for status, targets in TRANSITIONS.items() if S.CANCELLED in targets)
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


def can_transition(current: OrderStatus | str, target: OrderStatus | str) -> bool:
    return OrderStatus(target) in TRANSITIONS[OrderStatus(current)]
