"""Shipment and transfer status machines: declared transition tables (pure, no Django).

Every shipment status change goes through ``fulfillment.services.shipping`` (label creation,
cancellation) or ``fulfillment.services.carrier_events`` (the carrier's webhook); transfers
through ``fulfillment.services.transfers``. Each checks these tables.

A carrier repeats a status (one ``in_transit`` scan per hub): the same status again is recorded
as an event without a move, so it is not listed as a transition.
"""

from __future__ import annotations

from enum import StrEnum


class ShipmentStatus(StrEnum):
    LABEL_CREATED = "label_created"  # label printed, not yet scanned by the carrier
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    FAILED_ATTEMPT = "failed_attempt"  # nobody home, locker full, ...: the carrier tries again
    DELIVERED = "delivered"
    RETURNED_TO_SENDER = "returned_to_sender"
    CANCELLED = "cancelled"  # label voided before the carrier took the parcel


S = ShipmentStatus

SHIPMENT_TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    S.LABEL_CREATED: frozenset({S.IN_TRANSIT, S.CANCELLED}),
    S.IN_TRANSIT: frozenset(
        {S.OUT_FOR_DELIVERY, S.DELIVERED, S.FAILED_ATTEMPT, S.RETURNED_TO_SENDER}
    ),
    # Back to in transit: the parcel went back to the depot (e.g. the van broke down).
    S.OUT_FOR_DELIVERY: frozenset(
        {S.DELIVERED, S.FAILED_ATTEMPT, S.IN_TRANSIT, S.RETURNED_TO_SENDER}
    ),
    S.FAILED_ATTEMPT: frozenset(
        {S.OUT_FOR_DELIVERY, S.IN_TRANSIT, S.DELIVERED, S.RETURNED_TO_SENDER}
    ),
    S.DELIVERED: frozenset(),
    S.RETURNED_TO_SENDER: frozenset(),
    S.CANCELLED: frozenset(),
}

# Statuses a carrier may report through its webhook (label_created and cancelled are ours).
CARRIER_REPORTED = frozenset(
    {S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.FAILED_ATTEMPT, S.DELIVERED, S.RETURNED_TO_SENDER}
)
FINAL = frozenset(status for status, targets in SHIPMENT_TRANSITIONS.items() if not targets)


def shipment_can_transition(current: ShipmentStatus | str, target: ShipmentStatus | str) -> bool:
    return ShipmentStatus(target) in SHIPMENT_TRANSITIONS[ShipmentStatus(current)]


class TransferStatus(StrEnum):
    DRAFT = "draft"
    SHIPPED = "shipped"  # left the origin: on hand dropped there, in transit rose here
    RECEIVED = "received"
    CANCELLED = "cancelled"


T = TransferStatus

TRANSFER_TRANSITIONS: dict[TransferStatus, frozenset[TransferStatus]] = {
    T.DRAFT: frozenset({T.SHIPPED, T.CANCELLED}),
    T.SHIPPED: frozenset({T.RECEIVED}),
    T.RECEIVED: frozenset(),
    T.CANCELLED: frozenset(),
}


def transfer_can_transition(current: TransferStatus | str, target: TransferStatus | str) -> bool:
    return TransferStatus(target) in TRANSFER_TRANSITIONS[TransferStatus(current)]
