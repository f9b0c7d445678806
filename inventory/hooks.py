"""Hooks through which ``inventory`` reaches the layers above it (``fulfillment``).

Replenishment plans transfers between locations, but transfer orders are fulfillment's
(``fulfillment.models_shipping.TransferOrder``), which inventory cannot import. Fulfillment
registers two functions at app-ready time (``fulfillment.apps.FulfillmentConfig.ready``):

- the **pending transfers provider**: units of replenishment transfers still in draft (not
  shipped: not yet in the ledger's ``in_transit``), per (product, destination) and per
  (product, origin), so a proposal run counts them as coming / already promised away;
- the **transfer creator**: turns a confirmed transfer proposal into a draft transfer order
  inside the caller's transaction and returns its id and reference.

Without registrations (inventory used alone), nothing is pending and confirming a transfer
proposal is refused (``Conflict`` ``transfers_unavailable``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PendingTransfers:
    inbound: Mapping[tuple[int, int], int] = field(default_factory=dict)
    """(product id, destination id) -> units in draft transfers towards it."""
    outbound: Mapping[tuple[int, int], int] = field(default_factory=dict)
    """(product id, origin id) -> units in draft transfers leaving it."""


PendingTransfersProvider = Callable[[Sequence[int]], PendingTransfers]
# (from location id, to location id, [(product id, quantity)], actor, note) -> (id, reference)
TransferCreator = Callable[[int, int, Sequence[tuple[int, int]], str, str], tuple[int, str]]

_pending_provider: list[PendingTransfersProvider] = []
_transfer_creator: list[TransferCreator] = []


def pending_transfers_provider_register(provider: PendingTransfersProvider) -> None:
    _pending_provider[:] = [provider]


def transfer_creator_register(creator: TransferCreator) -> None:
    _transfer_creator[:] = [creator]


def pending_transfers(product_ids: Sequence[int]) -> PendingTransfers:
    return _pending_provider[0](product_ids) if _pending_provider else PendingTransfers()


def transfer_creator() -> TransferCreator | None:
    return _transfer_creator[0] if _transfer_creator else None
