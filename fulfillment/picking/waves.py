"""Orders and waves: group the open lines by fulfillment order, give each order its wave kind
and the cut-off it is planned for (flagging those that missed theirs), and cut waves.

Rules (``PickingStrategy`` holds the numbers):

- Kind: hot when the order's service is a hot service (express, same-day); click-and-collect
  when it is a pickup and the strategy gives pickups their own waves; regular otherwise.
- Deadline: the carrier cut-off when the order has one, else its promised ready-by, else none.
  An order is *late* when its deadline is less than ``minimum_lead`` away from ``now``.
- Planned cut-off: a carrier cut-off, rolled forward by whole ``cutoff_period`` (the carrier's
  next collection) when late. Without a carrier, the fixed ``wave_cutoffs`` grid: the latest
  reachable grid time not after the ready-by (the ready-by itself when no grid time fits), or,
  when late or without a ready-by, the first reachable grid time; with no grid, the ready-by
  (late or undated: ``None``, as soon as possible).
- Waves: one group per (kind, planned cut-off), split into waves of at most ``max_wave_lines``
  lines (an order is never split; late orders first, then by deadline). Hot waves and undated
  waves are released now, the others ``wave_lead`` before their cut-off (never before now).
  Waves are numbered in release order; at equal release, hot before click-and-collect before
  regular, then by cut-off.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fulfillment.picking.bins import parse_bin
from fulfillment.picking.types import (
    BinSortKey,
    DeliveryService,
    OpenLine,
    PickingStrategy,
    PlanningError,
    WaveKind,
)

KIND_RANK = {WaveKind.HOT: 0, WaveKind.CLICK_AND_COLLECT: 1, WaveKind.REGULAR: 2}
# Most urgent first: an order whose lines disagree takes its most urgent line's service.
SERVICE_RANK = {
    DeliveryService.SAME_DAY: 0,
    DeliveryService.EXPRESS: 1,
    DeliveryService.CLICK_AND_COLLECT: 2,
    DeliveryService.STANDARD: 3,
    DeliveryService.RELAY: 4,
}
GRID_DAYS = 8  # how far ahead the fixed wave cut-off grid is searched


@dataclass(frozen=True)
class OrderToPick:
    """One fulfillment order, its lines (by line id) and where it is planned."""

    fulfillment_order_id: int
    order_id: int
    lines: tuple[OpenLine, ...]
    service: DeliveryService
    carrier: str
    deadline: datetime | None
    kind: WaveKind
    cutoff_at: datetime | None
    is_late: bool
    path_key: tuple[BinSortKey, BinSortKey]  # first and last bin of its lines

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def is_mono_line(self) -> bool:
        return len(self.lines) == 1


@dataclass(frozen=True)
class WaveDraft:
    kind: WaveKind
    cutoff_at: datetime | None
    release_at: datetime
    part: int  # 0, 1, ... when a (kind, cut-off) group is split by size
    orders: tuple[OrderToPick, ...]

    @property
    def sort_key(self) -> tuple[datetime, int, int, datetime, int, int]:
        cutoff = self.cutoff_at or self.release_at
        first = self.orders[0].fulfillment_order_id
        return (
            self.release_at,
            KIND_RANK[self.kind],
            self.cutoff_at is None,
            cutoff,
            self.part,
            first,
        )


def group_orders(
    lines: Iterable[OpenLine], strategy: PickingStrategy, *, now: datetime
) -> list[OrderToPick]:
    """Validate the lines and group them into orders (by fulfillment order id)."""
    by_order: dict[int, list[OpenLine]] = {}
    seen: set[int] = set()
    for line in lines:
        if line.line_id in seen:
            raise PlanningError(f"line {line.line_id} appears twice")
        if line.quantity < 1:
            raise PlanningError(f"line {line.line_id}: quantity must be positive")
        seen.add(line.line_id)
        by_order.setdefault(line.fulfillment_order_id, []).append(line)
    orders = []
    for fulfillment_order_id in sorted(by_order):
        order_lines = tuple(sorted(by_order[fulfillment_order_id], key=lambda ln: ln.line_id))
        if len({line.order_id for line in order_lines}) > 1:
            raise PlanningError(
                f"fulfillment order {fulfillment_order_id} has lines of several orders"
            )
        orders.append(_order(fulfillment_order_id, order_lines, strategy, now=now))
    return orders


def _order(
    fulfillment_order_id: int,
    lines: tuple[OpenLine, ...],
    strategy: PickingStrategy,
    *,
    now: datetime,
) -> OrderToPick:
    service = min((line.service for line in lines), key=SERVICE_RANK.__getitem__)
    with_cutoff = [line for line in lines if line.carrier_cutoff_at is not None]
    carrier_line = min(with_cutoff, key=lambda ln: (ln.carrier_cutoff_at, ln.line_id), default=None)
    ready_by = min((ln.ready_by for ln in lines if ln.ready_by is not None), default=None)
    reachable = now + strategy.minimum_lead
    carrier = carrier_line.carrier if carrier_line else min(ln.carrier for ln in lines)
    cutoff: datetime | None
    if carrier_line is not None and carrier_line.carrier_cutoff_at is not None:
        deadline: datetime | None = carrier_line.carrier_cutoff_at
        cutoff = _roll(carrier_line.carrier_cutoff_at, reachable, strategy.cutoff_period)
    else:
        deadline = ready_by
        cutoff = _grid_cutoff(ready_by, strategy, now=now, reachable=reachable)
    if service in strategy.hot_services:
        kind = WaveKind.HOT
    elif service == DeliveryService.CLICK_AND_COLLECT and strategy.is_click_and_collect_own_wave:
        kind = WaveKind.CLICK_AND_COLLECT
    else:
        kind = WaveKind.REGULAR
    keys = [parse_bin(line.bin_location).sort_key for line in lines]
    return OrderToPick(
        fulfillment_order_id=fulfillment_order_id,
        order_id=lines[0].order_id,
        lines=lines,
        service=service,
        carrier=carrier,
        deadline=deadline,
        kind=kind,
        cutoff_at=cutoff,
        is_late=deadline is not None and deadline < reachable,
        path_key=(min(keys), max(keys)),
    )


def _roll(cutoff: datetime, reachable: datetime, period: timedelta) -> datetime:
    """The first occurrence ``cutoff + k x period`` (k >= 0) that is not before ``reachable``."""
    if cutoff >= reachable:
        return cutoff
    periods = -((cutoff - reachable) // period)  # ceiling of the gap in periods
    return cutoff + periods * period


def _grid_cutoff(
    ready_by: datetime | None, strategy: PickingStrategy, *, now: datetime, reachable: datetime
) -> datetime | None:
    grid = sorted(
        datetime.combine(now.date() + timedelta(days=day), moment, tzinfo=now.tzinfo)
        for day in range(GRID_DAYS)
        for moment in strategy.wave_cutoffs
    )
    reachable_grid = [moment for moment in grid if moment >= reachable]
    if ready_by is None or ready_by < reachable:  # undated or late: the first reachable wave
        return reachable_grid[0] if reachable_grid else None
    fitting = [moment for moment in reachable_grid if moment <= ready_by]
    return fitting[-1] if fitting else ready_by


def cut_waves(
    orders: Sequence[OrderToPick], strategy: PickingStrategy, *, now: datetime
) -> list[WaveDraft]:
    """Waves per (kind, planned cut-off), split by ``max_wave_lines``, in release order."""
    groups: dict[tuple[WaveKind, datetime | None], list[OrderToPick]] = {}
    for order in orders:
        groups.setdefault((order.kind, order.cutoff_at), []).append(order)
    drafts = []
    for (kind, cutoff), members in groups.items():
        members.sort(
            key=lambda order: (
                not order.is_late,
                order.deadline is None,
                order.deadline or now,
                order.fulfillment_order_id,
            )
        )
        if kind == WaveKind.HOT or cutoff is None:
            release = now
        else:
            release = max(now, cutoff - strategy.wave_lead)
        for part, chunk in enumerate(_chunks(members, strategy.max_wave_lines)):
            drafts.append(WaveDraft(kind, cutoff, release, part, tuple(chunk)))
    drafts.sort(key=lambda draft: draft.sort_key)
    return drafts


def _chunks(orders: Sequence[OrderToPick], max_lines: int) -> list[list[OrderToPick]]:
    chunks: list[list[OrderToPick]] = []
    current: list[OrderToPick] = []
    count = 0
    for order in orders:
        size = len(order.lines)
        if current and count + size > max_lines:
            chunks.append(current)
            current, count = [], 0
        current.append(order)
        count += size
    if current:
        chunks.append(current)
    return chunks
