"""Tables of (open lines, strategy, now) -> expected waves, pick lists, stops and flags."""

from __future__ import annotations

import random
from datetime import time, timedelta

import pytest

from fulfillment.picking import parse_bin, plan_picking, render_pick_list
from fulfillment.picking.types import (
    Allocation,
    DeliveryService,
    MissedCutoff,
    PickingStrategy,
    PickListKind,
    PlanningError,
    SortSlot,
    Tote,
    WalkEstimate,
    WalkPath,
    WaveKind,
)
from tests.fulfillment.picking.instances import CUTOFF, EXPRESS_CUTOFF, NOW, line

EXPRESS = DeliveryService.EXPRESS
SAME_DAY = DeliveryService.SAME_DAY
CLICK = DeliveryService.CLICK_AND_COLLECT


def stops_of(pick_list):
    return [(stop.address.raw, stop.sku, stop.quantity) for stop in pick_list.stops]


def orders_of(pick_list):
    return sorted({a.fulfillment_order_id for s in pick_list.stops for a in s.allocations})


# --- bins -------------------------------------------------------------------------------------


def test_parse_bin_fields_and_case():
    address = parse_bin("a-03-2-b")
    assert (address.is_known, address.aisle, address.bay, address.level, address.slot) == (
        True,
        "A",
        3,
        "2",
        "B",
    )
    assert address.raw == "a-03-2-b"
    assert parse_bin("C-7").is_known
    assert (parse_bin("C-7").level, parse_bin("C-7").slot) == ("", "")


@pytest.mark.parametrize("raw", ["", "DOCK 4", "A-B-1-1", "A-01-1-1-1", "A--1", "quai"])
def test_unknown_bins(raw):
    assert not parse_bin(raw).is_known


def test_bin_order_natural_then_unknown_last():
    raws = ["AA-01-1-A", "B-10-1-A", "B-9-2-A", "B-9-1-B", "B-9-1-A", "?", "A-02", "Z-99-9-Z"]
    ordered = sorted(raws, key=lambda raw: parse_bin(raw).sort_key)
    assert ordered == [
        "A-02",
        "B-9-1-A",
        "B-9-1-B",
        "B-9-2-A",
        "B-10-1-A",
        "Z-99-9-Z",
        "AA-01-1-A",
        "?",
    ]


# --- mono / multi and batches -----------------------------------------------------------------


def test_mono_lines_batched_multi_lines_clustered():
    lines = [
        line(1, 1, "B-02-1-A"),
        line(2, 2, "A-05-1-A"),
        line(2, 3, "C-01-1-A", quantity=2),
        line(3, 4, "A-01-1-A", quantity=3),
    ]
    plan = plan_picking(lines, PickingStrategy(), now=NOW)
    assert [wave.id for wave in plan.waves] == ["W01"]
    batch, cluster = plan.waves[0].pick_lists
    assert (batch.id, batch.kind, cluster.id, cluster.kind) == (
        "W01-B01",
        PickListKind.BATCH,
        "W01-C01",
        PickListKind.CLUSTER,
    )
    assert stops_of(batch) == [("A-01-1-A", "SKU-4", 3), ("B-02-1-A", "SKU-1", 1)]
    assert batch.sort_slots == (
        SortSlot(number=1, fulfillment_order_id=3, order_id=1003, line_id=4, unit_count=3),
        SortSlot(number=2, fulfillment_order_id=1, order_id=1001, line_id=1, unit_count=1),
    )
    assert batch.stops[0].allocations == (Allocation(3, 1003, 4, 3, tote=None, sort_slot=1),)
    assert stops_of(cluster) == [("A-05-1-A", "SKU-2", 1), ("C-01-1-A", "SKU-3", 2)]
    assert cluster.totes == (Tote(1, 2, 1002, line_count=2, unit_count=3, weight_grams=300),)
    assert (batch.order_count, batch.line_count, batch.unit_count) == (2, 2, 4)
    summary = plan.summary
    assert (summary.orders, summary.mono_line_orders, summary.multi_line_orders) == (3, 2, 1)
    assert (summary.lines, summary.units, summary.pick_lists, summary.stops) == (4, 7, 2, 4)
    assert (summary.batch_lists, summary.cluster_lists, summary.missed_cutoffs) == (1, 1, 0)


def test_batches_respect_line_and_unit_limits_along_the_path():
    lines = [
        line(order, order, bin_location, quantity=quantity)
        for order, (bin_location, quantity) in enumerate(
            [("A-01", 1), ("A-02", 2), ("A-03", 1), ("B-01", 2), ("B-02", 1), ("C-01", 7)],
            start=1,
        )
    ]
    strategy = PickingStrategy(batch_max_lines=3, batch_max_units=4)
    batches = plan_picking(lines, strategy, now=NOW).pick_lists
    # Path order A-01..C-01; cut at 3 lines, then at 4 units; the 7-unit line goes alone.
    assert [orders_of(batch) for batch in batches] == [[1, 2, 3], [4, 5], [6]]
    assert [(batch.line_count, batch.unit_count) for batch in batches] == [(3, 4), (2, 3), (1, 7)]
    assert [batch.id for batch in batches] == ["W01-B01", "W01-B02", "W01-B03"]


def test_shared_bin_and_sku_is_one_stop_with_a_breakdown_per_order():
    lines = [line(order, order, "A-04-1-A", sku="SKU-TEE", quantity=order) for order in (3, 1, 2)]
    (batch,) = plan_picking(lines, PickingStrategy(), now=NOW).pick_lists
    (stop,) = batch.stops
    assert (stop.sku, stop.quantity) == ("SKU-TEE", 6)
    assert [(a.fulfillment_order_id, a.sort_slot, a.quantity) for a in stop.allocations] == [
        (1, 1, 1),
        (2, 2, 2),
        (3, 3, 3),
    ]


# --- waves ------------------------------------------------------------------------------------


def test_hot_waves_first_for_express_and_same_day_cut_per_cutoff():
    same_day_cutoff = NOW.replace(hour=11)
    lines = [
        line(1, 1, "A-01"),
        line(2, 2, "A-02", service=EXPRESS, carrier="chronopost", cutoff=EXPRESS_CUTOFF),
        line(3, 3, "A-03", service=SAME_DAY, carrier="stuart", cutoff=same_day_cutoff),
        line(4, 4, "A-04", service=EXPRESS, carrier="chronopost", cutoff=EXPRESS_CUTOFF),
    ]
    plan = plan_picking(lines, PickingStrategy(), now=NOW)
    table = [
        (wave.id, wave.kind, wave.cutoff_at, wave.release_at, wave.carriers, wave.order_count)
        for wave in plan.waves
    ]
    assert table == [
        ("W01", WaveKind.HOT, same_day_cutoff, NOW, ("stuart",), 1),
        ("W02", WaveKind.HOT, EXPRESS_CUTOFF, NOW, ("chronopost",), 2),
        ("W03", WaveKind.REGULAR, CUTOFF, CUTOFF - timedelta(hours=2), ("colissimo",), 1),
    ]


def test_hot_services_are_configurable():
    lines = [line(1, 1, "A-01", service=EXPRESS, cutoff=EXPRESS_CUTOFF)]
    strategy = PickingStrategy(hot_services=frozenset({SAME_DAY}))
    (wave,) = plan_picking(lines, strategy, now=NOW).waves
    assert (wave.kind, wave.release_at) == (WaveKind.REGULAR, EXPRESS_CUTOFF - timedelta(hours=2))


def test_waves_cut_per_carrier_cutoff_carriers_sharing_a_cutoff_share_the_wave():
    early = NOW.replace(hour=14)
    lines = [
        line(1, 1, "A-01", carrier="colissimo", cutoff=CUTOFF),
        line(2, 2, "A-02", carrier="dpd", cutoff=early),
        line(3, 3, "A-03", carrier="gls", cutoff=CUTOFF),
        line(4, 4, "A-04", carrier="dpd", cutoff=early),
    ]
    plan = plan_picking(lines, PickingStrategy(wave_lead=timedelta(hours=3)), now=NOW)
    table = [
        (wave.cutoff_at, wave.release_at, wave.carriers, [orders_of(p) for p in wave.pick_lists])
        for wave in plan.waves
    ]
    assert table == [
        (early, NOW.replace(hour=11), ("dpd",), [[2, 4]]),
        (CUTOFF, NOW.replace(hour=13), ("colissimo", "gls"), [[1, 3]]),
    ]


def test_max_wave_lines_splits_a_cutoff_never_an_order():
    lines = [line(1, 1, "A-01"), line(1, 2, "A-02"), line(2, 3, "A-03"), line(3, 4, "A-04")]
    lines += [line(3, 5, "A-05"), line(3, 6, "A-06"), line(4, 7, "A-07")]
    plan = plan_picking(lines, PickingStrategy(max_wave_lines=3), now=NOW)
    assert [(wave.id, wave.line_count, wave.order_count) for wave in plan.waves] == [
        ("W01", 3, 2),
        ("W02", 3, 1),
        ("W03", 1, 1),
    ]
    assert all(wave.cutoff_at == CUTOFF for wave in plan.waves)


def test_order_past_its_cutoff_is_flagged_and_moved_to_the_next_collection():
    gone = NOW.replace(hour=8)  # collected an hour ago
    too_close = NOW + timedelta(minutes=10)  # less than the 20-minute minimum lead
    tomorrow = gone + timedelta(days=1)
    lines = [
        line(1, 1, "A-01", carrier="dpd", cutoff=gone),
        line(2, 2, "A-02", carrier="dpd", cutoff=tomorrow),
        line(3, 3, "A-03", carrier="gls", cutoff=too_close),
        line(4, 4, "A-04", carrier="gls", cutoff=CUTOFF),
    ]
    plan = plan_picking(lines, PickingStrategy(), now=NOW)
    assert [(wave.id, wave.cutoff_at, wave.carriers) for wave in plan.waves] == [
        ("W01", CUTOFF, ("gls",)),
        ("W02", tomorrow, ("dpd",)),
        ("W03", too_close + timedelta(days=1), ("gls",)),
    ]
    assert plan.missed_cutoffs == (
        MissedCutoff(1, 1001, "dpd", DeliveryService.STANDARD, gone, tomorrow, "W02"),
        MissedCutoff(
            3,
            1003,
            "gls",
            DeliveryService.STANDARD,
            too_close,
            too_close + timedelta(days=1),
            "W03",
        ),
    )
    # The late order leads its wave (sorted to pack first).
    (batch,) = plan.waves[1].pick_lists
    assert orders_of(batch) == [1, 2]
    assert plan.summary.missed_cutoffs == 2


def test_click_and_collect_wave_on_the_fixed_grid():
    grid = (time(10), time(12), time(14))
    lines = [
        line(1, 1, "A-01", service=CLICK, carrier="", cutoff=None, ready_by=NOW.replace(hour=13)),
        line(2, 2, "A-02", service=CLICK, carrier="", cutoff=None, ready_by=NOW.replace(hour=12)),
        line(3, 3, "A-03", service=CLICK, carrier="", cutoff=None, ready_by=NOW),  # late
        line(4, 4, "A-04", service=CLICK, carrier="", cutoff=None),  # undated
        line(5, 5, "A-05"),
    ]
    plan = plan_picking(lines, PickingStrategy(wave_cutoffs=grid), now=NOW)
    table = [(w.id, w.kind, w.cutoff_at, w.order_count, w.carriers) for w in plan.waves]
    assert table == [
        ("W01", WaveKind.CLICK_AND_COLLECT, NOW.replace(hour=10), 2, ()),
        ("W02", WaveKind.CLICK_AND_COLLECT, NOW.replace(hour=12), 2, ()),
        ("W03", WaveKind.REGULAR, CUTOFF, 1, ("colissimo",)),
    ]
    assert orders_of(plan.waves[0].pick_lists[0]) == [3, 4]
    assert [(m.fulfillment_order_id, m.wave_id) for m in plan.missed_cutoffs] == [(3, "W01")]
    # Without their own waves, pickups join the regular waves of their cut-off.
    shared = plan_picking(
        lines, PickingStrategy(wave_cutoffs=grid, is_click_and_collect_own_wave=False), now=NOW
    )
    assert {wave.kind for wave in shared.waves} == {WaveKind.REGULAR}


def test_click_and_collect_without_a_grid_uses_its_ready_by():
    ready_by = NOW.replace(hour=11)
    lines = [line(1, 1, "A-01", service=CLICK, carrier="", cutoff=None, ready_by=ready_by)]
    (wave,) = plan_picking(lines, PickingStrategy(), now=NOW).waves
    assert (wave.cutoff_at, wave.release_at) == (ready_by, NOW)


# --- walk and totes ---------------------------------------------------------------------------


SCATTERED = ["D-03-1-A", "B-02-1-A", "?", "A-05-1-A", "B-08-2-A", "A-01-1-A", "D-01-1-A"]


def test_stops_sorted_by_path_serpentine():
    lines = [line(1, index, bin_location) for index, bin_location in enumerate(SCATTERED, 1)]
    (cluster,) = plan_picking(lines, PickingStrategy(), now=NOW).pick_lists
    assert [stop.address.raw for stop in cluster.stops] == [
        "A-01-1-A",
        "A-05-1-A",
        "B-08-2-A",  # second visited aisle: walked down
        "B-02-1-A",
        "D-01-1-A",  # third: up again (aisle C is not visited)
        "D-03-1-A",
        "?",
    ]
    assert [stop.sequence for stop in cluster.stops] == [1, 2, 3, 4, 5, 6, 7]
    # A, B, D and the unknown zone: 4 aisle entries; 4 + 6 + 2 bays within aisles.
    assert cluster.walk == WalkEstimate(aisles_visited=4, aisle_changes=4, bays_walked=12, score=52)


def test_stops_sorted_by_path_sequential():
    lines = [line(1, index, bin_location) for index, bin_location in enumerate(SCATTERED, 1)]
    strategy = PickingStrategy(walk_path=WalkPath.SEQUENTIAL)
    (cluster,) = plan_picking(lines, strategy, now=NOW).pick_lists
    assert [stop.address.raw for stop in cluster.stops][2:4] == ["B-02-1-A", "B-08-2-A"]


def test_tote_assignment_follows_the_path_and_is_stable():
    lines = [
        line(7, 1, "C-01"),
        line(7, 2, "C-02"),
        line(3, 3, "A-01", sku="SKU-SHARED"),
        line(3, 4, "B-01"),
        line(5, 5, "A-01", sku="SKU-SHARED", quantity=2),
        line(5, 6, "A-09"),
    ]
    strategy = PickingStrategy(cluster_totes=2)
    plan = plan_picking(lines, strategy, now=NOW)
    first, second = plan.pick_lists
    # Orders by the stretch they cover: 5 (A-01..A-09), 3 (A-01..B-01), then 7 (aisle C).
    assert [(t.number, t.fulfillment_order_id) for t in first.totes] == [(1, 5), (2, 3)]
    assert [(t.number, t.fulfillment_order_id) for t in second.totes] == [(1, 7)]
    shared = first.stops[0]
    assert (shared.sku, shared.quantity) == ("SKU-SHARED", 3)
    assert [(a.tote, a.quantity) for a in shared.allocations] == [(1, 2), (2, 1)]
    for seed in range(5):
        shuffled = lines[:]
        random.Random(seed).shuffle(shuffled)
        assert plan_picking(shuffled, strategy, now=NOW) == plan


def test_cluster_unit_limit_and_oversize_order_alone():
    lines = [line(1, 1, "A-01", quantity=3), line(1, 2, "A-02", quantity=3)]
    lines += [line(2, 3, "A-03"), line(2, 4, "A-04"), line(3, 5, "A-05"), line(3, 6, "A-06")]
    strategy = PickingStrategy(cluster_max_units=4)
    carts = plan_picking(lines, strategy, now=NOW).pick_lists
    assert [(orders_of(cart), cart.unit_count) for cart in carts] == [([1], 6), ([2, 3], 4)]


# --- errors and rendering ---------------------------------------------------------------------


def test_invalid_input_is_refused():
    with pytest.raises(PlanningError, match="line 1 appears twice"):
        plan_picking([line(1, 1, "A-01"), line(2, 1, "A-02")], PickingStrategy(), now=NOW)
    with pytest.raises(PlanningError, match="quantity must be positive"):
        plan_picking([line(1, 1, "A-01", quantity=0)], PickingStrategy(), now=NOW)
    with pytest.raises(PlanningError, match="batch_max_units must be at least 1"):
        PickingStrategy(batch_max_units=0)


def test_empty_input_is_an_empty_plan():
    plan = plan_picking([], PickingStrategy(location_id=9), now=NOW)
    assert (plan.location_id, plan.waves, plan.missed_cutoffs) == (9, (), ())
    assert plan.summary.orders == 0


def test_render_pick_list():
    lines = [line(2, 1, "A-01-1-A"), line(2, 2, "B-03-1-A", quantity=2)]
    (cluster,) = plan_picking(lines, PickingStrategy(), now=NOW).pick_lists
    assert render_pick_list(cluster) == (
        "PICK LIST W01-C01  wave W01  CLUSTER\n"
        "orders 1  lines 2  units 3  weight 0.3 kg  aisle changes 2  bays 0\n"
        "  #  BIN          SKU              EAN             QTY  PUT\n"
        "  1  A-01-1-A     SKU-1            3000000000001     1  T1x1\n"
        "  2  B-03-1-A     SKU-2            3000000000002     2  T1x2\n"
        "TOTES\n"
        "  T1   fulfillment order 2 (order 1002): 2 lines, 3 units\n"
    )
