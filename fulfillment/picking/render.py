"""Plain-text renderings of a pick list and a plan (terminals, logs, tests; the printed PDF
is built from the same dataclasses elsewhere)."""

from __future__ import annotations

from datetime import datetime

from fulfillment.picking.types import Allocation, PickList, PickListKind, Plan


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def _target(allocation: Allocation) -> str:
    if allocation.tote is not None:
        return f"T{allocation.tote}"
    return f"S{allocation.sort_slot}" if allocation.sort_slot is not None else "-"


def render_pick_list(pick_list: PickList) -> str:
    """A fixed-width table: one row per stop (walk order), then the totes or sort slots."""
    kind = "BATCH (sort to pack)" if pick_list.kind == PickListKind.BATCH else "CLUSTER"
    walk = pick_list.walk
    rows = [
        f"PICK LIST {pick_list.id}  wave {pick_list.wave_id}  {kind}",
        f"orders {pick_list.order_count}  lines {pick_list.line_count}  units "
        f"{pick_list.unit_count}  weight {pick_list.weight_grams / 1000:.1f} kg  "
        f"aisle changes {walk.aisle_changes}  bays {walk.bays_walked}",
        f"{'#':>3}  {'BIN':<12} {'SKU':<16} {'EAN':<14} {'QTY':>4}  PUT",
    ]
    for stop in pick_list.stops:
        put = "  ".join(
            f"{_target(allocation)}x{allocation.quantity}" for allocation in stop.allocations
        )
        rows.append(
            f"{stop.sequence:>3}  {stop.address.raw:<12} {stop.sku:<16} {stop.ean:<14} "
            f"{stop.quantity:>4}  {put}"
        )
    if pick_list.totes:
        rows.append("TOTES")
        rows += [
            f"  T{tote.number:<3} fulfillment order {tote.fulfillment_order_id} "
            f"(order {tote.order_id}): {tote.line_count} lines, {tote.unit_count} units"
            for tote in pick_list.totes
        ]
    if pick_list.sort_slots:
        rows.append("SORT TO PACK")
        rows += [
            f"  S{slot.number:<3} fulfillment order {slot.fulfillment_order_id} "
            f"(order {slot.order_id}): {slot.unit_count} units"
            for slot in pick_list.sort_slots
        ]
    return "\n".join(rows) + "\n"


def render_plan(plan: Plan) -> str:
    """One line per wave and per pick list, then the missed cut-offs and the summary."""
    rows = [f"PICKING PLAN location {plan.location_id} at {_time(plan.planned_at)}"]
    for wave in plan.waves:
        rows.append(
            f"{wave.id} {wave.kind.value:<17} cut-off {_time(wave.cutoff_at)}  release "
            f"{_time(wave.release_at)}  carriers {','.join(wave.carriers) or '-'}  "
            f"orders {wave.order_count} lines {wave.line_count} units {wave.unit_count}"
        )
        rows += [
            f"  {pick_list.id} {pick_list.kind.value:<7} orders {pick_list.order_count} "
            f"lines {pick_list.line_count} units {pick_list.unit_count} stops "
            f"{len(pick_list.stops)} aisle changes {pick_list.walk.aisle_changes}"
            for pick_list in wave.pick_lists
        ]
    rows += [
        f"MISSED fulfillment order {missed.fulfillment_order_id} ({missed.carrier or '-'}, "
        f"{missed.service.value}) missed {_time(missed.missed_at)} -> {missed.wave_id} "
        f"cut-off {_time(missed.planned_cutoff_at)}"
        for missed in plan.missed_cutoffs
    ]
    summary = plan.summary
    rows.append(
        f"SUMMARY orders {summary.orders} (mono {summary.mono_line_orders}, multi "
        f"{summary.multi_line_orders}) lines {summary.lines} units {summary.units} waves "
        f"{summary.waves} lists {summary.pick_lists} stops {summary.stops} aisle changes "
        f"{summary.aisle_changes} bays {summary.bays_walked} missed {summary.missed_cutoffs}"
    )
    return "\n".join(rows) + "\n"
