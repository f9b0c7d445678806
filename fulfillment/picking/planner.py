"""``plan_picking``: the public entry of the picking planner.

1. Group the open lines by fulfillment order; plan each order's wave kind and cut-off, flagging
   the orders that can no longer make their deadline (``waves``).
2. Cut waves per (kind, cut-off), at most ``max_wave_lines`` lines each, in release order.
3. In each wave, batch the mono-line orders and cluster the multi-line ones (``lists``).
4. Summarise: counts and the walk estimate.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from fulfillment.picking.lists import wave_pick_lists
from fulfillment.picking.types import (
    MissedCutoff,
    OpenLine,
    PickingStrategy,
    PickListKind,
    Plan,
    PlanSummary,
    Wave,
)
from fulfillment.picking.waves import OrderToPick, cut_waves, group_orders


def plan_picking(lines: Iterable[OpenLine], strategy: PickingStrategy, *, now: datetime) -> Plan:
    """Plan the open lines of one location into waves and pick lists.

    Deterministic: the same lines in any order give the same plan. Every unit appears in
    exactly one stop allocation; a multi-line order is in exactly one cluster list and one tote;
    no list exceeds the strategy's limits unless one line (batch) or order (cluster) alone does.
    Raises ``PlanningError`` on a duplicate line id, a quantity below 1 or a fulfillment order
    whose lines name different orders.
    """
    orders = group_orders(lines, strategy, now=now)
    waves: list[Wave] = []
    missed: list[MissedCutoff] = []
    for index, draft in enumerate(cut_waves(orders, strategy, now=now), start=1):
        wave_id = f"W{index:02d}"
        pick_lists = wave_pick_lists(wave_id, draft.orders, strategy)
        waves.append(
            Wave(
                id=wave_id,
                kind=draft.kind,
                cutoff_at=draft.cutoff_at,
                release_at=draft.release_at,
                carriers=tuple(sorted({order.carrier for order in draft.orders} - {""})),
                pick_lists=pick_lists,
                order_count=len(draft.orders),
                line_count=sum(len(order.lines) for order in draft.orders),
                unit_count=sum(order.units for order in draft.orders),
            )
        )
        missed += [_missed(order, wave_id) for order in draft.orders if order.is_late]
    missed.sort(key=lambda item: item.fulfillment_order_id)
    return Plan(
        location_id=strategy.location_id,
        planned_at=now,
        waves=tuple(waves),
        missed_cutoffs=tuple(missed),
        summary=_summary(orders, waves, missed),
    )


def _missed(order: OrderToPick, wave_id: str) -> MissedCutoff:
    assert order.deadline is not None  # late orders have a deadline
    return MissedCutoff(
        fulfillment_order_id=order.fulfillment_order_id,
        order_id=order.order_id,
        carrier=order.carrier,
        service=order.service,
        missed_at=order.deadline,
        planned_cutoff_at=order.cutoff_at,
        wave_id=wave_id,
    )


def _summary(
    orders: list[OrderToPick], waves: list[Wave], missed: list[MissedCutoff]
) -> PlanSummary:
    pick_lists = [pick_list for wave in waves for pick_list in wave.pick_lists]
    mono = sum(order.is_mono_line for order in orders)
    return PlanSummary(
        orders=len(orders),
        mono_line_orders=mono,
        multi_line_orders=len(orders) - mono,
        lines=sum(len(order.lines) for order in orders),
        units=sum(order.units for order in orders),
        waves=len(waves),
        pick_lists=len(pick_lists),
        batch_lists=sum(pick_list.kind == PickListKind.BATCH for pick_list in pick_lists),
        cluster_lists=sum(pick_list.kind == PickListKind.CLUSTER for pick_list in pick_lists),
        stops=sum(len(pick_list.stops) for pick_list in pick_lists),
        aisle_changes=sum(pick_list.walk.aisle_changes for pick_list in pick_lists),
        bays_walked=sum(pick_list.walk.bays_walked for pick_list in pick_lists),
        walk_score=sum(pick_list.walk.score for pick_list in pick_lists),
        missed_cutoffs=len(missed),
    )
