"""Proposal runs on a small network with known answers; confirm / discard / edit; re-runs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from fulfillment.models import TransferOrder
from fulfillment.services.transfers import TransferLineInput, transfer_create
from inventory.models import (
    PurchaseOrder,
    ReplenishmentProposal,
    ReplenishmentProposalLine,
    ReplenishmentRule,
)
from inventory.services.replenishment import replenishment_compute, replenishment_propose
from inventory.services.replenishment_decisions import (
    replenishment_line_update,
    replenishment_proposal_confirm,
    replenishment_proposal_discard,
)
from inventory.services.supply import purchase_order_create
from omnilog.core.errors import Conflict, ValidationFailed
from tests.factories import ProductFactory
from tests.inventory.replenishment.support import network, sell, sell_long_ago
from tests.inventory.supply.factories import make_supplier_product

pytestmark = pytest.mark.django_db


def open_lines() -> dict[tuple[str, str], tuple[int, str]]:
    """(kind, sku) -> (quantity, explanation) of the open proposals."""
    return {
        (line.proposal.kind, line.product.sku): (line.quantity, line.explanation)
        for line in ReplenishmentProposalLine.objects.filter(
            proposal__status="open"
        ).select_related("proposal", "product")
    }


def test_known_answers_for_a_purchase_and_a_transfer() -> None:
    net = network()
    run = replenishment_propose()
    assert (run.rules_reviewed, run.products_evaluated, run.replaced, run.skipped) == (2, 2, 0, ())
    lines = open_lines()
    # Beans: 3/day; position 14 - safety 4 = 10 <= reorder point 15 (3 x lead 5);
    # 3 x (5 + 7) = 36 - 10 = 26 -> packs of 6 -> 30.
    assert lines[("purchase", "BEANS")] == (
        30,
        "avg 3.00/day (84 in 28 days); position 10 (free 14 - safety 4) <= reorder point 15"
        " (demand over lead 5 days); avg 3.00/day x (lead 5 + review 7) days = 36;"
        " 36 - position 10 = 26 -> pack of 6 -> 30: order 30",
    )
    # Tea at the store: 3 <= min 5 -> 20 - 3 = 17 -> packs of 4 -> 20, the warehouse has 12.
    assert lines[("transfer", "TEA")] == (
        12,
        "avg 0.00/day (0 in 28 days); position 3 (free 3) <= min 5 -> max 20 - position 3 = 17"
        " -> pack of 4 -> 20 -> source has 12 free -> 12: order 12",
    )
    purchase = ReplenishmentProposal.objects.get(kind="purchase")
    assert (purchase.supplier, purchase.location, purchase.status) == (
        net.supplier,
        net.warehouse,
        "open",
    )
    line = purchase.lines.get()
    assert (line.position, line.on_order, line.in_transit, line.average_daily_demand) == (
        10,
        0,
        0,
        Decimal("3.00"),
    )
    assert line.lead_time_days == 5
    transfer = ReplenishmentProposal.objects.get(kind="transfer")
    assert (transfer.source_location, transfer.location) == (net.warehouse, net.store)
    net.purchase_rule.refresh_from_db()
    assert net.purchase_rule.last_reviewed_on == run.today


def test_on_order_and_draft_transfers_count_as_coming() -> None:
    net = network()
    purchase_order_create(
        supplier=net.supplier, location=net.warehouse, lines=[(net.beans, 6, None)], actor="buyer"
    )
    transfer_create(
        from_location_id=net.warehouse.pk,
        to_location_id=net.store.pk,
        reason="replenishment",
        lines=[TransferLineInput(product_id=net.tea.pk, quantity=4)],
        actor="planner",
    )
    run = replenishment_propose()
    assert run.drafts == ()  # beans: position 16 > 15; tea: 3 + 4 coming = 7 > min 5
    assert ReplenishmentProposal.objects.count() == 0


def test_lead_time_and_the_demand_window() -> None:
    net = network()
    net.supplier.lead_time_days = 10
    net.supplier.save()
    sell_long_ago(net.beans, net.warehouse, 5, days=40)  # outside the 28-day window
    replenishment_propose()
    # 3 x (10 + 7) = 51 - position 5 (free 9 - safety 4) = 46 -> 48
    assert open_lines()[("purchase", "BEANS")][0] == 48


def test_supplier_minimum_order_value_tops_up_the_fastest_seller() -> None:
    net = network()
    net.supplier.minimum_order_value = Decimal("100")
    net.supplier.save()
    replenishment_propose()
    proposal = ReplenishmentProposal.objects.get(kind="purchase")
    # 30 x 2.00 = 60 < 100: 40 more = 4 packs of 6 x 2.00 (12.00 each) -> 54 units
    assert proposal.note == (
        "worth 60.00, below the supplier's minimum 100.00: +4 pack(s) of 6 (24 units) on the"
        " fastest seller"
    )
    line = proposal.lines.get()
    assert (
        line.quantity,
        line.explanation.endswith("; 54 with the supplier's minimum order value"),
    ) == (
        54,
        True,
    )


def test_a_product_rule_wins_over_the_category_and_unsupplied_products_are_skipped() -> None:
    net = network()
    ProductFactory(sku="TEA-2", category="tea")  # no stock anywhere: 0 free at the source
    other = ProductFactory(sku="BEANS-2", category="coffee")
    ReplenishmentRule.objects.create(
        location=net.warehouse,
        category="coffee",
        method="min_max",
        max_quantity=10,
        supplier=net.supplier,
    )
    ReplenishmentRule.objects.create(
        location=net.store,
        product=net.tea,
        method="min_max",
        min_quantity=2,
        max_quantity=4,
        source_location=net.warehouse,
    )
    run = replenishment_propose()
    assert run.skipped == ("BEANS-2 at wh: not sold by supplier acme",)
    lines = open_lines()
    assert ("transfer", "TEA") not in lines  # the product rule: 3 > min 2
    assert ("transfer", "TEA-2") not in lines  # the source has none
    assert lines[("purchase", "BEANS")][0] == 30
    make_supplier_product(supplier=net.supplier, product=other, pack_size=5)
    replenishment_propose()
    assert open_lines()[("purchase", "BEANS-2")][0] == 10  # min/max 0..10 from nothing


def test_rerunning_replaces_open_proposals_and_keeps_decided_ones() -> None:
    net = network()
    first = replenishment_propose()
    second = replenishment_propose()
    assert second.replaced == 2
    assert ReplenishmentProposal.objects.filter(status="open").count() == 2
    assert set(first.proposal_ids).isdisjoint(second.proposal_ids)
    transfer = ReplenishmentProposal.objects.get(kind="transfer")
    replenishment_proposal_discard(proposal_id=transfer.pk, actor="buyer")
    sell(net.tea, net.store, 1)
    third = replenishment_propose()
    assert third.replaced == 1  # the purchase; the discarded transfer stays
    assert list(
        ReplenishmentProposal.objects.values_list("status", flat=True).order_by("status")
    ) == [
        "discarded",
        "open",
        "open",
    ]
    # The database refuses a second open proposal for the same supplier and destination.
    with pytest.raises(IntegrityError):
        ReplenishmentProposal.objects.create(
            kind="purchase", supplier=net.supplier, location=net.warehouse, proposed_on=third.today
        )


def test_review_cycle_skips_rules_reviewed_recently_unless_forced() -> None:
    net = network()
    net.purchase_rule.last_reviewed_on = timezone.localdate() - timedelta(days=3)
    net.purchase_rule.save()
    run = replenishment_propose()
    assert (run.rules_reviewed, [draft.kind for draft in run.drafts]) == (1, ["transfer"])
    forced = replenishment_propose(force=True)
    assert forced.rules_reviewed == 2


def test_dry_run_writes_nothing() -> None:
    net = network()
    run = replenishment_propose(dry_run=True, location_codes=["st"])
    assert (run.is_dry_run, [draft.location_code for draft in run.drafts]) == (True, ["st"])
    assert ReplenishmentProposal.objects.count() == 0
    net.transfer_rule.refresh_from_db()
    assert net.transfer_rule.last_reviewed_on is None
    with pytest.raises(ValidationFailed) as refused:
        replenishment_propose(location_codes=["nowhere"])
    assert [(e.field, e.code) for e in refused.value.field_errors] == [("location", "not_found")]


def test_confirm_creates_exactly_one_purchase_order_and_one_transfer() -> None:
    net = network()
    replenishment_propose()
    purchase = ReplenishmentProposal.objects.get(kind="purchase")
    confirmed = replenishment_proposal_confirm(proposal_id=purchase.pk, actor="buyer")
    again = replenishment_proposal_confirm(proposal_id=purchase.pk, actor="buyer")
    assert PurchaseOrder.objects.count() == 1
    order = PurchaseOrder.objects.get()
    assert (confirmed.status, confirmed.document_id, again.document_reference) == (
        "confirmed",
        order.pk,
        order.number,
    )
    assert (order.status, order.supplier, order.location, order.created_by) == (
        "draft",
        net.supplier,
        net.warehouse,
        "buyer",
    )
    assert list(order.lines.values_list("product__sku", "quantity_ordered")) == [("BEANS", 30)]
    transfer_proposal = ReplenishmentProposal.objects.get(kind="transfer")
    replenishment_proposal_confirm(proposal_id=transfer_proposal.pk, actor="buyer")
    replenishment_proposal_confirm(proposal_id=transfer_proposal.pk, actor="buyer")
    transfer = TransferOrder.objects.get()
    assert (transfer.reason, transfer.status, transfer.from_location, transfer.to_location) == (
        "replenishment",
        "draft",
        net.warehouse,
        net.store,
    )
    assert list(transfer.lines.values_list("product__sku", "quantity")) == [("TEA", 12)]
    # The next run sees both documents coming: nothing more to propose.
    assert replenishment_propose().drafts == ()


def test_refused_decisions_change_nothing() -> None:
    network()
    replenishment_propose()
    purchase = ReplenishmentProposal.objects.get(kind="purchase")
    line = purchase.lines.get()
    replenishment_line_update(line_id=line.pk, quantity=25, actor="buyer")  # not whole packs
    with pytest.raises(ValidationFailed) as refused:
        replenishment_proposal_confirm(proposal_id=purchase.pk, actor="buyer")
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("lines.0.quantity", "pack_size")
    ]
    purchase.refresh_from_db()
    assert (purchase.status, PurchaseOrder.objects.count()) == ("open", 0)
    replenishment_line_update(line_id=line.pk, quantity=0, actor="buyer")
    with pytest.raises(Conflict) as empty:
        replenishment_proposal_confirm(proposal_id=purchase.pk, actor="buyer")
    assert empty.value.code == "proposal_empty"
    replenishment_proposal_discard(proposal_id=purchase.pk, actor="buyer")
    with pytest.raises(Conflict) as discarded:
        replenishment_proposal_confirm(proposal_id=purchase.pk, actor="buyer")
    assert discarded.value.code == "proposal_discarded"
    with pytest.raises(Conflict):
        replenishment_line_update(line_id=line.pk, quantity=6, actor="buyer")
    with pytest.raises(ValidationFailed):
        replenishment_line_update(line_id=line.pk, quantity=-1, actor="buyer")
    assert (PurchaseOrder.objects.count(), TransferOrder.objects.count()) == (0, 0)


def test_a_run_reads_in_a_constant_number_of_queries(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    net = network()
    replenishment_compute()  # warm-up (content types, hooks)
    with django_assert_num_queries(7) as small:
        replenishment_compute(force=True)
    for number in range(5):
        product = ProductFactory(sku=f"TEA-{number}", category="tea")
        make_supplier_product(supplier=net.supplier, product=product)
        ReplenishmentRule.objects.create(
            location=net.warehouse,
            product=product,
            method="min_max",
            max_quantity=3,
            supplier=net.supplier,
        )
    with django_assert_num_queries(len(small.captured_queries)):
        replenishment_compute(force=True)
