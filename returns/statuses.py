"""The return request (RMA) status machine: one declared transition table (pure, no Django).

Every status change goes through ``returns.services.lifecycle.return_transition``, which checks
this table, writes the order's timeline and a ``return.<status>`` outbox event.

Receiving and refunding are separate steps: a return is received (any location), inspected,
dispositioned (stock moved), and only then is a refund requested; the payment system's
confirmation moves it to ``refunded`` and the return is closed. A failed refund goes back to
``dispositioned`` so it can be requested again. Claims have their own small table.
"""

from __future__ import annotations

from enum import StrEnum


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    IN_TRANSIT = "in_transit"
    DROPPED_OFF = "dropped_off"
    RECEIVED = "received"
    INSPECTED = "inspected"
    DISPOSITIONED = "dispositioned"
    REFUND_REQUESTED = "refund_requested"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    CLOSED = "closed"
    CANCELLED = "cancelled"


S = ReturnStatus

TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REFUSED, S.CANCELLED}),
    # Received straight from approved: a return brought to a store desk.
    S.APPROVED: frozenset({S.IN_TRANSIT, S.DROPPED_OFF, S.RECEIVED, S.CANCELLED}),
    S.DROPPED_OFF: frozenset({S.IN_TRANSIT, S.RECEIVED}),
    S.IN_TRANSIT: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.INSPECTED}),
    S.INSPECTED: frozenset({S.DISPOSITIONED}),
    # Closed without a refund: nothing to give back (a refused inspection, a goodwill return).
    S.DISPOSITIONED: frozenset({S.REFUND_REQUESTED, S.EXCHANGED, S.CLOSED}),
    # Back to dispositioned when the payment system reports the refund failed.
    S.REFUND_REQUESTED: frozenset({S.REFUNDED, S.DISPOSITIONED}),
    S.REFUNDED: frozenset({S.CLOSED}),
    # An exchange may still owe the customer a price difference.
    S.EXCHANGED: frozenset({S.REFUND_REQUESTED, S.CLOSED}),
    S.REFUSED: frozenset(),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Still counting against the returnable quantity of an order line.
OPEN_OR_DONE = frozenset(set(S) - {S.REFUSED, S.CANCELLED})
CANCELLABLE = frozenset(status for status, targets in TRANSITIONS.items() if S.CANCELLED in targets)
RECEIVABLE = frozenset({S.APPROVED, S.IN_TRANSIT, S.DROPPED_OFF, S.RECEIVED})
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


def can_transition(current: ReturnStatus | str, target: ReturnStatus | str) -> bool:
    return ReturnStatus(target) in TRANSITIONS[ReturnStatus(current)]


class ClaimStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    REFUSED = "refused"


CLAIM_TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.OPEN: frozenset({ClaimStatus.RESOLVED, ClaimStatus.REFUSED}),
    ClaimStatus.RESOLVED: frozenset(),
    ClaimStatus.REFUSED: frozenset(),
}


def claim_can_transition(current: ClaimStatus | str, target: ClaimStatus | str) -> bool:
    return ClaimStatus(target) in CLAIM_TRANSITIONS[ClaimStatus(current)]
