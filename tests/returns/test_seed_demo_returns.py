"""``seed_demo_returns``: one demo return per planned state, through the services; a second run
adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from returns.models import ReturnRequest
from tests.inventory.helpers import assert_ledger_consistent
from tests.returns.support import another_delivered_order, delivered_home_order

pytestmark = pytest.mark.django_db


def test_seed_demo_returns_is_deterministic_and_idempotent() -> None:
    net, _ = delivered_home_order({"SHIRT": 1})
    for _ in range(5):
        another_delivered_order(net, {"SHIRT": 1})
    out = StringIO()
    call_command("seed_demo_returns", stdout=out)
    assert "demo returns: 6 added" in out.getvalue()
    states = list(ReturnRequest.objects.order_by("order__number").values_list("status", flat=True))
    assert states == [
        "requested",
        "approved",
        "inspected",
        "refund_requested",
        "closed",
        "dispositioned",
    ]
    again = StringIO()
    call_command("seed_demo_returns", stdout=again)
    assert "nothing added (6 present" in again.getvalue()
    assert ReturnRequest.objects.count() == 6
    assert_ledger_consistent()
