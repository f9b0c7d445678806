"""Pick lists of one wave: mono-line orders in batches, multi-line orders in clusters.

- Batch: the wave's mono-line orders, their lines sorted by path (bin, SKU, order), cut into
  consecutive runs of at most ``batch_max_lines`` lines and ``batch_max_units`` units, so that
  each batch covers a compact stretch of the path. Its orders get sort-to-pack slots numbered
  in the order their units come off the walk.
- Cluster: the wave's multi-line orders, sorted by the path stretch they cover (first bin,
  last bin, id), cut into carts of at most ``cluster_totes`` orders and ``cluster_max_units``
  units; tote numbers 1, 2, ... follow that order.
- A single line (batch) or order (cluster) larger than the unit limit goes alone: lines and
  orders are never split.
- Stops: one per (bin, SKU) with the total and the per-order (tote / slot) breakdown, in the
  strategy's walk order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from fulfillment.picking.bins import estimate_walk, parse_bin, walk_keys
from fulfillment.picking.types import (
    Allocation,
    OpenLine,
    PickingStrategy,
    PickList,
    PickListKind,
    SortSlot,
    Stop,
    Tote,
)
from fulfillment.picking.waves import OrderToPick

Item = TypeVar("Item")


def wave_pick_lists(
    wave_id: str, orders: Sequence[OrderToPick], strategy: PickingStrategy
) -> tuple[PickList, ...]:
    """Batches (``<wave>-B01``, ...) then clusters (``<wave>-C01``, ...) of one wave."""
    mono = sorted(
        (order.lines[0] for order in orders if order.is_mono_line),
        key=lambda line: (
            parse_bin(line.bin_location).sort_key,
            line.sku,
            line.fulfillment_order_id,
            line.line_id,
        ),
    )
    multi = sorted(
        (order for order in orders if not order.is_mono_line),
        key=lambda order: (order.path_key, order.fulfillment_order_id),
    )
    batches = _chunks(
        mono,
        size=lambda line: line.quantity,
        max_items=strategy.batch_max_lines,
        max_units=strategy.batch_max_units,
    )
    carts = _chunks(
        multi,
        size=lambda order: order.units,
        max_items=strategy.cluster_totes,
        max_units=strategy.cluster_max_units,
    )
    lists = [
        _batch(f"{wave_id}-B{index:02d}", wave_id, batch, strategy)
        for index, batch in enumerate(batches, start=1)
    ]
    lists += [
        _cluster(f"{wave_id}-C{index:02d}", wave_id, cart, strategy)
        for index, cart in enumerate(carts, start=1)
    ]
    return tuple(lists)


def _chunks(
    items: Sequence[Item], *, size: Callable[[Item], int], max_items: int, max_units: int | None
) -> list[list[Item]]:
    """Consecutive runs within both limits; an item over the unit limit alone."""
    chunks: list[list[Item]] = []
    current: list[Item] = []
    units = 0
    for item in items:
        item_units = size(item)
        is_full = len(current) >= max_items or (
            max_units is not None and units + item_units > max_units
        )
        if current and is_full:
            chunks.append(current)
            current, units = [], 0
        current.append(item)
        units += item_units
    if current:
        chunks.append(current)
    return chunks


StopKey = tuple[str, str]  # (normalised bin text, sku)


def _walk(
    lines: Sequence[OpenLine], strategy: PickingStrategy
) -> tuple[list[StopKey], dict[StopKey, list[OpenLine]]]:
    """The (bin, SKU) stops of ``lines`` in walking order and the lines at each."""
    at: dict[StopKey, list[OpenLine]] = {}
    for line in lines:
        address = parse_bin(line.bin_location)
        at.setdefault((address.sort_key[5], line.sku), []).append(line)
    stops = sorted(at)
    addresses = [(parse_bin(min(ln.bin_location for ln in at[stop])), stop[1]) for stop in stops]
    keys = walk_keys(addresses, strategy.walk_path)
    ordered = [stop for _key, stop in sorted(zip(keys, stops, strict=True))]
    return ordered, at


def _stops(
    ordered: Sequence[StopKey],
    at: dict[StopKey, list[OpenLine]],
    *,
    tote_of: dict[int, int] | None = None,
    slot_of: dict[int, int] | None = None,
) -> tuple[Stop, ...]:
    stops = []
    for sequence, stop in enumerate(ordered, start=1):
        here = at[stop]
        position = tote_of if tote_of is not None else (slot_of or {})
        allocations = tuple(
            sorted(
                (
                    Allocation(
                        fulfillment_order_id=line.fulfillment_order_id,
                        order_id=line.order_id,
                        line_id=line.line_id,
                        quantity=line.quantity,
                        tote=None if tote_of is None else tote_of[line.fulfillment_order_id],
                        sort_slot=None if slot_of is None else slot_of[line.fulfillment_order_id],
                    )
                    for line in here
                ),
                key=lambda a: (position.get(a.fulfillment_order_id, 0), a.line_id),
            )
        )
        first = min(here, key=lambda line: (line.bin_location, line.line_id))
        stops.append(
            Stop(
                sequence=sequence,
                address=parse_bin(first.bin_location),
                sku=stop[1],
                ean=min(line.ean for line in here),
                quantity=sum(line.quantity for line in here),
                allocations=allocations,
            )
        )
    return tuple(stops)


def _batch(
    list_id: str, wave_id: str, lines: Sequence[OpenLine], strategy: PickingStrategy
) -> PickList:
    ordered, at = _walk(lines, strategy)
    slot_of: dict[int, int] = {}
    for stop in ordered:
        for line in sorted(at[stop], key=lambda ln: (ln.fulfillment_order_id, ln.line_id)):
            slot_of.setdefault(line.fulfillment_order_id, len(slot_of) + 1)
    stops = _stops(ordered, at, slot_of=slot_of)
    by_order = {line.fulfillment_order_id: line for line in lines}
    slots = tuple(
        SortSlot(
            number=number,
            fulfillment_order_id=order_id,
            order_id=by_order[order_id].order_id,
            line_id=by_order[order_id].line_id,
            unit_count=by_order[order_id].quantity,
        )
        for order_id, number in sorted(slot_of.items(), key=lambda item: item[1])
    )
    return PickList(
        id=list_id,
        wave_id=wave_id,
        kind=PickListKind.BATCH,
        stops=stops,
        sort_slots=slots,
        order_count=len(slots),
        line_count=len(lines),
        unit_count=sum(line.quantity for line in lines),
        weight_grams=sum(line.quantity * line.weight_grams for line in lines),
        walk=estimate_walk(
            [stop.address for stop in stops], aisle_change_bays=strategy.aisle_change_bays
        ),
    )


def _cluster(
    list_id: str, wave_id: str, orders: Sequence[OrderToPick], strategy: PickingStrategy
) -> PickList:
    tote_of = {order.fulfillment_order_id: number for number, order in enumerate(orders, 1)}
    lines = [line for order in orders for line in order.lines]
    ordered, at = _walk(lines, strategy)
    stops = _stops(ordered, at, tote_of=tote_of)
    totes = tuple(
        Tote(
            number=number,
            fulfillment_order_id=order.fulfillment_order_id,
            order_id=order.order_id,
            line_count=len(order.lines),
            unit_count=order.units,
            weight_grams=sum(line.quantity * line.weight_grams for line in order.lines),
        )
        for number, order in enumerate(orders, start=1)
    )
    return PickList(
        id=list_id,
        wave_id=wave_id,
        kind=PickListKind.CLUSTER,
        stops=stops,
        totes=totes,
        order_count=len(orders),
        line_count=len(lines),
        unit_count=sum(line.quantity for line in lines),
        weight_grams=sum(tote.weight_grams for tote in totes),
        walk=estimate_walk(
            [stop.address for stop in stops], aisle_change_bays=strategy.aisle_change_bays
        ),
    )
