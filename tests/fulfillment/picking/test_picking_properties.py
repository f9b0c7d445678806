"""Properties of ``plan_picking`` on random instances (Hypothesis): every unit exactly once,
limits, one cluster list and one tote per multi-line order, waves, shuffle-proof."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from fulfillment.picking import parse_bin, plan_picking, render_pick_list, render_plan
from fulfillment.picking.bins import walk_keys
from fulfillment.picking.types import PickListKind, WaveKind
from tests.fulfillment.picking.instances import NOW, random_lines, random_strategy

instances = st.builds(
    lambda seed, orders: (
        random_lines(random.Random(seed), orders=orders),
        random_strategy(random.Random(seed + 1)),
    ),
    seed=st.integers(0, 2**32),
    orders=st.integers(0, 40),
)


@settings(max_examples=150, deadline=None)
@given(instance=instances)
def test_every_input_unit_appears_exactly_once(instance):
    lines, strategy = instance
    plan = plan_picking(lines, strategy, now=NOW)
    planned: Counter[int] = Counter()
    for pick_list in plan.pick_lists:
        for stop in pick_list.stops:
            assert stop.quantity == sum(a.quantity for a in stop.allocations)
            for allocation in stop.allocations:
                planned[allocation.line_id] += allocation.quantity
    assert planned == Counter({line.line_id: line.quantity for line in lines})
    assert plan.summary.lines == len(lines)
    assert plan.summary.units == sum(line.quantity for line in lines)
    assert sum(wave.unit_count for wave in plan.waves) == plan.summary.units


@settings(max_examples=150, deadline=None)
@given(instance=instances)
def test_no_list_or_wave_exceeds_its_limits(instance):
    lines, strategy = instance
    plan = plan_picking(lines, strategy, now=NOW)
    for wave in plan.waves:
        assert wave.order_count == 1 or wave.line_count <= strategy.max_wave_lines
        for pick_list in wave.pick_lists:
            if pick_list.kind == PickListKind.BATCH:
                assert pick_list.line_count == pick_list.order_count  # mono-line orders only
                assert pick_list.line_count <= strategy.batch_max_lines
                assert pick_list.line_count == 1 or pick_list.unit_count <= strategy.batch_max_units
                assert [slot.number for slot in pick_list.sort_slots] == list(
                    range(1, pick_list.order_count + 1)
                )
            else:
                assert len(pick_list.totes) == pick_list.order_count <= strategy.cluster_totes
                limit = strategy.cluster_max_units
                assert limit is None or pick_list.order_count == 1 or pick_list.unit_count <= limit
                assert all(tote.line_count >= 2 for tote in pick_list.totes)


@settings(max_examples=150, deadline=None)
@given(instance=instances)
def test_each_multi_line_order_in_one_cluster_list_and_one_tote(instance):
    lines, strategy = instance
    plan = plan_picking(lines, strategy, now=NOW)
    line_count = Counter(line.fulfillment_order_id for line in lines)
    placements: dict[int, set[tuple[str, int | None]]] = {}
    for pick_list in plan.pick_lists:
        for stop in pick_list.stops:
            for allocation in stop.allocations:
                order = allocation.fulfillment_order_id
                if pick_list.kind == PickListKind.CLUSTER:
                    assert allocation.tote is not None
                    assert allocation.sort_slot is None
                    totes = {t.number: t.fulfillment_order_id for t in pick_list.totes}
                    assert totes[allocation.tote] == order
                else:
                    assert allocation.sort_slot is not None
                    assert allocation.tote is None
                key = (pick_list.id, allocation.tote or allocation.sort_slot)
                placements.setdefault(order, set()).add(key)
    for order, count in line_count.items():
        assert len(placements[order]) == 1  # one list and one tote (or slot)
        (list_id, _position) = next(iter(placements[order]))
        kind = next(p.kind for p in plan.pick_lists if p.id == list_id)
        assert kind == (PickListKind.CLUSTER if count > 1 else PickListKind.BATCH)


@settings(max_examples=150, deadline=None)
@given(instance=instances, shuffle_seed=st.integers(0, 2**32))
def test_shuffled_input_gives_the_identical_plan(instance, shuffle_seed):
    lines, strategy = instance
    plan = plan_picking(lines, strategy, now=NOW)
    shuffled = lines[:]
    random.Random(shuffle_seed).shuffle(shuffled)
    assert plan_picking(shuffled, strategy, now=NOW) == plan
    assert render_plan(plan) == render_plan(plan_picking(shuffled, strategy, now=NOW))


@settings(max_examples=100, deadline=None)
@given(instance=instances)
def test_waves_in_release_order_hot_first_and_stops_in_walk_order(instance):
    lines, strategy = instance
    plan = plan_picking(lines, strategy, now=NOW)
    releases = [wave.release_at for wave in plan.waves]
    assert releases == sorted(releases)
    assert all(wave.release_at >= NOW for wave in plan.waves)
    is_hot = [wave.kind == WaveKind.HOT for wave in plan.waves]
    assert is_hot == sorted(is_hot, reverse=True)  # hot waves first
    assert all(wave.release_at == NOW for wave in plan.waves if wave.kind == WaveKind.HOT)
    missed = {m.fulfillment_order_id: m for m in plan.missed_cutoffs}
    for m in missed.values():
        wave = next(w for w in plan.waves if w.id == m.wave_id)
        assert wave.cutoff_at == m.planned_cutoff_at
        assert m.planned_cutoff_at is None or m.planned_cutoff_at > m.missed_at
    for pick_list in plan.pick_lists:
        pairs = [(stop.address, stop.sku) for stop in pick_list.stops]
        keys = walk_keys(pairs, strategy.walk_path)
        assert keys == sorted(keys)
        assert len(set(keys)) == len(keys)
        assert render_pick_list(pick_list).count("\n") >= len(pick_list.stops) + 3
        # Each aisle (and the unknown zone) is entered once, its bays walked one way only.
        assert pick_list.walk.aisle_changes == pick_list.walk.aisles_visited
        bays_by_aisle: dict[str, list[int]] = {}
        for stop in pick_list.stops:
            bays_by_aisle.setdefault(parse_bin(stop.address.raw).aisle, []).append(stop.address.bay)
        for bays in bays_by_aisle.values():
            assert bays in (sorted(bays), sorted(bays, reverse=True))
