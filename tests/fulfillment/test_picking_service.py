"""Picking: plan persisted from the pure planner (idempotent), scan to confirm, short picks
re-route."""

from __future__ import annotations

import pytest

from fulfillment.models import FulfillmentOrder, PickList, PickTask, RoutingDecision
from fulfillment.services.picking import pick_confirm_scan, pick_short, picking_plan_location
from omnilog.core.errors import Conflict, ValidationFailed
from omnilog.core.models import OutboxEvent
from orders.models import OrderEvent
from tests.fulfillment.pickpack_support import MUG_EAN, NOW, SHIRT_EAN, accepted, pickpack_network
from tests.fulfillment.service_support import decisions, fulfillment_orders, snapshot
from tests.inventory.helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def _tasks(pick_list_id: int) -> list[tuple[int, str, str, int, int | None, int | None, str]]:
    return list(
        PickTask.objects.filter(pick_list_id=pick_list_id)
        .order_by("sequence", "id")
        .values_list("sequence", "bin_location", "sku", "quantity", "tote", "sort_slot", "status")
    )


def test_plan_batches_mono_line_orders_clusters_multi_line_and_never_plans_twice() -> None:
    net = pickpack_network()
    _, mono = accepted(net, {"SHIRT": 2})
    _, multi = accepted(net, {"SHIRT": 1, "MUG": 1})

    result = picking_plan_location(location_id=net["wh1"].pk, now=NOW)

    assert result.plan.summary.batch_lists == 1
    assert result.plan.summary.cluster_lists == 1
    lists = {row.kind: row for row in PickList.objects.filter(pk__in=result.pick_list_ids)}
    assert (lists["batch"].code, lists["batch"].unit_count) == ("W01-B01", 2)
    assert (lists["cluster"].code, lists["cluster"].unit_count) == ("W01-C01", 2)
    assert _tasks(lists["batch"].pk) == [(1, "A-01-1", "SHIRT", 2, None, 1, "open")]
    assert _tasks(lists["cluster"].pk) == [
        (1, "A-01-1", "SHIRT", 1, 1, None, "open"),
        (2, "B-04-2", "MUG", 1, 1, None, "open"),
    ]
    again = picking_plan_location(location_id=net["wh1"].pk, now=NOW)
    assert again.pick_list_ids == ()
    assert PickList.objects.count() == 2
    assert {mono.status, multi.status} == {"accepted"}


def test_scans_pick_the_stops_and_move_the_fulfillment_order_to_picked() -> None:
    net = pickpack_network()
    order, fo = accepted(net, {"SHIRT": 2, "MUG": 1})
    (pick_list_id,) = picking_plan_location(location_id=net["wh1"].pk, now=NOW).pick_list_ids

    first = pick_confirm_scan(pick_list_id=pick_list_id, ean=SHIRT_EAN, quantity=2, actor="ana")
    assert (first.sequence, first.sku, first.pick_list_status) == (1, "SHIRT", "in_progress")
    assert [(put.quantity, put.tote) for put in first.puts] == [(2, 1)]
    assert first.next_stop is not None
    assert (first.next_stop.bin_location, first.next_stop.ean) == ("B-04-2", MUG_EAN)
    fo.refresh_from_db()
    assert fo.status == "picking"

    last = pick_confirm_scan(pick_list_id=pick_list_id, ean=MUG_EAN, actor="ana")
    assert last.picked_fulfillment_order_ids == (fo.pk,)
    assert last.pick_list_status == "done"
    assert last.next_stop is None
    fo.refresh_from_db()
    assert fo.status == "picked"
    assert list(fo.lines.order_by("id").values_list("quantity_picked", flat=True)) == [2, 1]
    pick_list = PickList.objects.get(pk=pick_list_id)
    assert (pick_list.status, pick_list.picker) == ("done", "ana")
    assert list(
        OrderEvent.objects.filter(order=order, kind="fulfillment")
        .order_by("-id")
        .values_list("message", flat=True)[:2]
    ) == [f"FO-{fo.pk} picked at wh-1", f"FO-{fo.pk} picking at wh-1"]
    topics = list(
        OutboxEvent.objects.filter(aggregate_type="fulfillment_order", aggregate_id=str(fo.pk))
        .order_by("id")
        .values_list("topic", flat=True)
    )
    assert topics[-2:] == ["fulfillment_order.picking", "fulfillment_order.picked"]


def test_wrong_ean_and_excess_are_refused_with_nothing_written() -> None:
    net = pickpack_network()
    order, _ = accepted(net, {"SHIRT": 2, "MUG": 1})
    (pick_list_id,) = picking_plan_location(location_id=net["wh1"].pk, now=NOW).pick_list_ids
    before = snapshot(order)
    tasks_before = _tasks(pick_list_id)

    with pytest.raises(Conflict) as wrong:
        pick_confirm_scan(pick_list_id=pick_list_id, ean=MUG_EAN, actor="ana")
    assert wrong.value.code == "wrong_item"
    assert wrong.value.message == (
        "Wrong item: scanned 3000000000024 (MUG Mug); stop 1 at A-01-1 expects "
        "3000000000017 (SHIRT)."
    )
    with pytest.raises(Conflict) as excess:
        pick_confirm_scan(pick_list_id=pick_list_id, ean=SHIRT_EAN, quantity=3, actor="ana")
    assert excess.value.code == "excess_quantity"
    assert excess.value.message == (
        "Excess: 3 x SHIRT scanned, only 2 left to pick at stop 1 (A-01-1)."
    )
    with pytest.raises(Conflict) as tote:
        pick_confirm_scan(pick_list_id=pick_list_id, ean=SHIRT_EAN, tote=4, actor="ana")
    assert tote.value.code == "wrong_tote"
    with pytest.raises(ValidationFailed):
        pick_confirm_scan(pick_list_id=pick_list_id, ean=" ", actor="ana")

    assert snapshot(order) == before
    assert _tasks(pick_list_id) == tasks_before
    assert PickList.objects.get(pk=pick_list_id).status == "open"


def test_short_pick_rejects_the_units_and_re_routes_without_this_location() -> None:
    net = pickpack_network()
    order, fo = accepted(net, {"SHIRT": 2, "MUG": 1})
    (pick_list_id,) = picking_plan_location(location_id=net["wh1"].pk, now=NOW).pick_list_ids
    shirt = fo.lines.get(order_line__sku="SHIRT")
    pick_confirm_scan(pick_list_id=pick_list_id, ean=SHIRT_EAN, quantity=1, actor="ana")

    with pytest.raises(ValidationFailed):
        pick_short(fulfillment_order_line_id=shirt.pk, quantity=2, reason="not_found", actor="ana")
    decision = pick_short(
        fulfillment_order_line_id=shirt.pk, quantity=1, reason="not_found", actor="ana"
    )

    assert decision is not None
    assert [trigger for trigger, _, _ in decisions(order)] == ["placed", "rejected"]
    wh1 = next(c for c in decision.candidates if c["code"] == "wh-1")
    assert wh1["stock"] == {str(net["shirt"].pk): 0}
    assert RoutingDecision.objects.filter(order=order).count() == 2
    routed = fulfillment_orders(order)
    assert routed[0] == ("wh-1", "picking", [("SHIRT", 2, 1), ("MUG", 1, 0)])
    assert routed[1][0] == "wh-2"
    assert routed[1][2] == [("SHIRT", 1, 0)]
    task = PickTask.objects.get(fulfillment_order_line=shirt)
    assert (task.quantity_picked, task.quantity_short, task.status) == (1, 1, "done")

    last = pick_confirm_scan(pick_list_id=pick_list_id, ean=MUG_EAN, actor="ana")
    assert last.picked_fulfillment_order_ids == (fo.pk,)
    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "picked"
    assert_ledger_consistent()
