"""Disposition through the inventory services: to a warehouse (a shipped replenishment
transfer), scrap (damaged then written off), staff overrides, and rules from the table."""

from __future__ import annotations

import pytest

from fulfillment.models import TransferOrder
from omnilog.core.errors import ValidationFailed
from returns.models import DispositionRule, ReturnLine, ReturnRequest
from returns.services.common import Actor
from returns.services.inspection import (
    DispositionChoice,
    InspectionInput,
    return_disposition,
    return_inspect,
)
from returns.services.receiving import return_receive
from returns.services.requests import (
    ReturnInput,
    ReturnLineInput,
    return_approve,
    return_request_create,
)
from tests.inventory.helpers import assert_ledger_consistent
from tests.returns.support import atp, counters, delivered_home_order, return_movements

pytestmark = pytest.mark.django_db
STAFF = Actor("staff:ana")


def inspected(lines: dict[str, int], conditions: dict[str, str], reason: str = "wrong_size"):  # type: ignore[no-untyped-def]
    """A return of ``lines`` brought to st-opera, received and inspected."""
    net, order = delivered_home_order(lines)
    rma = return_request_create(
        order_id=order.pk,
        data=ReturnInput(
            lines=tuple(
                ReturnLineInput(order.lines.get(sku=sku).line_number, count, reason)
                for sku, count in lines.items()
            ),
            mode="store",
            location_id=net["store"].pk,
        ),
        actor=STAFF,
    )
    return_approve(return_id=rma.pk, actor=STAFF)
    return_receive(return_id=rma.pk, location_id=net["store"].pk, actor=STAFF)
    return_inspect(
        return_id=rma.pk,
        lines=[
            InspectionInput(line.pk, conditions[line.order_line.sku])
            for line in rma.lines.select_related("order_line")
        ],
        actor=STAFF,
    )
    return net, order, rma


def line_of(rma: ReturnRequest, sku: str) -> ReturnLine:
    return ReturnLine.objects.select_related("proposed_location").get(
        return_request=rma, order_line__sku=sku
    )


def test_unwanted_sellable_units_travel_to_the_warehouse() -> None:
    # The store has 3 SHIRT (ATP 3, never sold there): not wanted, the warehouse gets it.
    _, _, rma = inspected({"SHIRT": 1}, {"SHIRT": "sellable"})
    line = line_of(rma, "SHIRT")
    assert line.proposed_location is not None
    assert (line.proposed_disposition, line.proposed_location.code) == ("to_warehouse", "wh-paris")
    return_disposition(return_id=rma.pk, actor=STAFF)
    line.refresh_from_db()
    assert line.transfer_id is not None
    transfer = TransferOrder.objects.get(pk=line.transfer_id)
    assert (transfer.status, transfer.from_location.code, transfer.to_location.code) == (
        "shipped",
        "st-opera",
        "wh-paris",
    )
    assert transfer.note == f"Return {rma.number}"
    assert counters("SHIRT", "st-opera") == (3, 0, 0, 0, 0)
    assert counters("SHIRT", "wh-paris")[4] == 1  # in transit towards the warehouse
    assert return_movements("SHIRT", "st-opera") == [
        ("return", 1, 1),
        ("qc_release", 0, -1),
        ("transfer_out", -1, 0),
    ]
    assert_ledger_consistent()


def test_scrap_by_override_and_a_rule_sending_defects_to_the_supplier() -> None:
    DispositionRule.objects.create(
        name="defects back to the supplier",
        priority=10,
        conditions=["defective"],
        action="return_to_supplier",
    )
    net, _, rma = inspected({"MUG": 2, "SHIRT": 1}, {"MUG": "defective", "SHIRT": "damaged"})
    mug, shirt = line_of(rma, "MUG"), line_of(rma, "SHIRT")
    assert (mug.proposed_disposition, mug.proposal_reason) == (
        "return_to_supplier",
        "defects back to the supplier",
    )
    assert shirt.proposed_disposition == "quarantine"
    with pytest.raises(ValidationFailed) as refused:
        return_disposition(
            return_id=rma.pk,
            actor=STAFF,
            overrides=[DispositionChoice(shirt.pk, "to_warehouse", net["store"].pk)],
        )
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("lines.0.location", "not_found")
    ]
    return_disposition(
        return_id=rma.pk, actor=STAFF, overrides=[DispositionChoice(shirt.pk, "scrap")]
    )
    shirt.refresh_from_db()
    assert shirt.disposition_location is not None
    assert (shirt.disposition, shirt.disposition_location.code) == ("scrap", "st-opera")
    # Scrapped and sent back: damaged, then written off; nothing left on hold or sellable.
    assert counters("MUG", "st-opera") == (0, 0, 0, 0, 0)
    assert counters("SHIRT", "st-opera") == (3, 0, 0, 0, 0)
    assert atp("SHIRT", "st-opera") == 3
    assert return_movements("MUG", "st-opera") == [
        ("return", 2, 2),
        ("qc_release", 0, -2),
        ("adjustment", -2, 0),
    ]
    assert_ledger_consistent()


def test_a_rule_with_a_higher_threshold_restocks_at_the_store() -> None:
    # ATP 3 at the store: not "wanted" by default (below 3), wanted by this rule (below 5).
    DispositionRule.objects.create(
        name="restock opened units if low",
        priority=1,
        conditions=["opened"],
        action="restock_here",
        requires_wanted_here=True,
        wanted_atp_below=5,
    )
    _, _, rma = inspected({"SHIRT": 1}, {"SHIRT": "opened"})
    line = line_of(rma, "SHIRT")
    assert (line.proposed_disposition, line.proposal_reason) == (
        "restock_here",
        "restock opened units if low",
    )
    return_disposition(return_id=rma.pk, actor=STAFF)
    assert atp("SHIRT", "st-opera") == 4
    assert not TransferOrder.objects.exists()
    assert_ledger_consistent()
