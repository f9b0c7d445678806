"""Two clerks receive the same approved line at the same moment (real threads, real
PostgreSQL): one receipt wins, the other is refused, never more than approved comes in."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from omnilog.core.errors import ValidationFailed
from returns.models import ReturnLine, ReturnRequest
from returns.services.common import Actor
from returns.services.receiving import ReceivedInput, return_receive
from returns.services.requests import (
    ReturnInput,
    ReturnLineInput,
    return_approve,
    return_request_create,
)
from tests.inventory.helpers import assert_ledger_consistent
from tests.returns.support import counters, delivered_home_order

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_double_receive_cannot_exceed_the_approved_quantity() -> None:
    net, order = delivered_home_order({"MUG": 2})
    staff = Actor("staff:ana")
    mug = order.lines.get(sku="MUG")
    rma = return_request_create(
        order_id=order.pk,
        data=ReturnInput(
            lines=(ReturnLineInput(mug.line_number, 2, "changed_mind"),),
            mode="store",
            location_id=net["store"].pk,
        ),
        actor=staff,
    )
    return_approve(return_id=rma.pk, actor=staff)
    line = ReturnLine.objects.get(return_request=rma)
    barrier = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def clerk(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            return_receive(
                return_id=rma.pk,
                location_id=net["store"].pk,
                lines=[ReceivedInput(line.pk, 2)],
                actor=Actor(f"clerk-{index}"),
            )
            outcomes[index] = "received"
        except BaseException as error:  # judged below
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=clerk, args=(i,), daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, outcomes)).count("received") == 1
    (refused,) = [outcome for outcome in outcomes if outcome != "received"]
    assert isinstance(refused, ValidationFailed)
    assert [(e.field, e.code) for e in refused.field_errors] == [("lines.0.quantity", "too_many")]
    line.refresh_from_db()
    assert (line.quantity_approved, line.quantity_received) == (2, 2)
    assert ReturnRequest.objects.get(pk=rma.pk).status == "received"
    assert counters("MUG", "st-opera") == (2, 0, 0, 2, 0)
    assert order.lines.get(sku="MUG").quantity_returned == 2
    assert_ledger_consistent()
