"""Two buyers confirm the same proposal at once: one purchase order (real threads, real locks)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from inventory.models import PurchaseOrder, ReplenishmentProposal
from inventory.services.replenishment import replenishment_propose
from inventory.services.replenishment_decisions import replenishment_proposal_confirm
from inventory.services.supply import purchase_order_create
from tests.inventory.replenishment.support import network
from tests.inventory.test_concurrency import (
    backend_pid,
    run_clients,
    unexpected,
    wait_for_lock_wait,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_proposal_confirmed_twice_concurrently_creates_one_purchase_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    network()
    replenishment_propose()
    proposal = ReplenishmentProposal.objects.get(kind="purchase")
    second_pid: list[int] = []
    first_holds_the_lock = threading.Event()

    def paused_create(**kwargs: Any) -> PurchaseOrder:
        # The first buyer holds the proposal's row lock until the second one waits for it.
        first_holds_the_lock.set()
        deadline = time.monotonic() + 20
        while not second_pid and time.monotonic() < deadline:
            time.sleep(0.01)
        wait_for_lock_wait(second_pid[0])
        return purchase_order_create(**kwargs)

    monkeypatch.setattr(
        "inventory.services.replenishment_decisions.purchase_order_create", paused_create
    )

    def work(client: int) -> object:
        if client == 1:
            assert first_holds_the_lock.wait(20)
            second_pid.append(backend_pid())
        return replenishment_proposal_confirm(proposal_id=proposal.pk, actor=f"buyer{client}")

    outcomes = run_clients(2, work)
    assert unexpected(outcomes) == []
    order = PurchaseOrder.objects.get()
    assert {outcome.value.document_reference for outcome in outcomes} == {order.number}  # type: ignore[union-attr]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.document_id) == (
        "confirmed",
        "buyer0",
        order.pk,
    )
