"""The picking planner's inputs and outputs: frozen dataclasses, no framework.

The caller (a service of ``fulfillment``) builds the open lines of one location and its strategy
from the database; the core never queries anything. Quantities are units, weights grams, and
every datetime is timezone-aware (the fixed wave cut-offs of a strategy are times of day in
``now``'s time zone, so the caller passes ``now`` in the location's local zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

# One component of a natural sort key: (0, number, "") for digits, (1, length, text) for text,
# so that 2 < 10 and "B" < "AA".
NaturalPart = tuple[int, int, str]
NaturalKey = tuple[NaturalPart, ...]
# (is unknown, aisle, bay, level, slot, raw text): known bins by path, unknown ones last.
BinSortKey = tuple[int, NaturalKey, int, NaturalKey, NaturalKey, str]


class PlanningError(ValueError):
    """The input cannot be planned (duplicate line, zero quantity, inconsistent order)."""


class DeliveryService(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"
    SAME_DAY = "same_day"
    RELAY = "relay"
    CLICK_AND_COLLECT = "click_and_collect"


class WaveKind(StrEnum):
    HOT = "hot"  # the strategy's hot services (express, same-day): released at once
    CLICK_AND_COLLECT = "click_and_collect"  # store pickups, when they have their own waves
    REGULAR = "regular"


class PickListKind(StrEnum):
    BATCH = "batch"  # mono-line orders of many customers, sorted to pack by order afterwards
    CLUSTER = "cluster"  # multi-line orders, one tote per order on a cart


class WalkPath(StrEnum):
    SERPENTINE = "serpentine"  # S-shape: the visited aisles alternately up and down
    SEQUENTIAL = "sequential"  # every visited aisle walked in ascending bay order


@dataclass(frozen=True)
class BinAddress:
    """A bin location path ``aisle-bay[-level[-slot]]`` such as ``A-03-2-B``, parsed.

    ``is_known`` is False for anything else (empty, free text, more parts): such bins keep
    their raw text and sort after every known bin (by raw text).
    """

    raw: str
    is_known: bool
    aisle: str = ""
    bay: int = 0
    level: str = ""
    slot: str = ""
    sort_key: BinSortKey = (1, (), 0, (), (), "")


@dataclass(frozen=True)
class OpenLine:
    """One open fulfillment-order line at the location, waiting to be picked."""

    fulfillment_order_id: int
    order_id: int
    line_id: int  # unique over the input
    sku: str
    quantity: int  # units, > 0
    bin_location: str  # "A-03-2-B"; anything unparsable is picked last
    ean: str = ""
    weight_grams: int = 0  # per unit
    service: DeliveryService = DeliveryService.STANDARD
    carrier: str = ""
    carrier_cutoff_at: datetime | None = None  # when the carrier collects (None: no carrier)
    ready_by: datetime | None = None  # promised ready-by (click-and-collect promise, ...)


@dataclass(frozen=True)
class PickingStrategy:
    """How one location picks. Limits are inclusive maxima."""

    location_id: int = 0
    batch_max_lines: int = 20  # mono-line batch: lines (= orders) per list
    batch_max_units: int = 40  # mono-line batch: units per list
    cluster_totes: int = 8  # multi-line cluster: totes (= orders) per cart
    cluster_max_units: int | None = None  # multi-line cluster: units per cart (None: no limit)
    max_wave_lines: int = 400  # lines per wave; a larger cut-off group becomes several waves
    hot_services: frozenset[DeliveryService] = frozenset(
        {DeliveryService.EXPRESS, DeliveryService.SAME_DAY}
    )
    # Fixed wave cut-offs (times of day in ``now``'s zone) for orders without a carrier
    # cut-off: click-and-collect and in-house deliveries are planned on this grid.
    wave_cutoffs: tuple[time, ...] = ()
    is_click_and_collect_own_wave: bool = True
    walk_path: WalkPath = WalkPath.SERPENTINE
    wave_lead: timedelta = timedelta(hours=2)  # a regular wave is released this long before
    minimum_lead: timedelta = timedelta(minutes=20)  # less than this before a deadline: missed
    cutoff_period: timedelta = timedelta(days=1)  # carrier cut-offs repeat every period
    aisle_change_bays: int = 10  # walk score: an aisle change costs this many bays

    def __post_init__(self) -> None:
        for name in ("batch_max_lines", "batch_max_units", "cluster_totes", "max_wave_lines"):
            if getattr(self, name) < 1:
                raise PlanningError(f"{name} must be at least 1")
        if self.cluster_max_units is not None and self.cluster_max_units < 1:
            raise PlanningError("cluster_max_units must be at least 1 (or None)")
        if self.cutoff_period <= timedelta(0):
            raise PlanningError("cutoff_period must be positive")
        if self.minimum_lead < timedelta(0) or self.wave_lead < timedelta(0):
            raise PlanningError("leads cannot be negative")


@dataclass(frozen=True)
class Allocation:
    """Part of a stop that goes to one order: into tote ``tote`` (cluster) or, after the walk,
    to sort slot ``sort_slot`` (batch)."""

    fulfillment_order_id: int
    order_id: int
    line_id: int
    quantity: int
    tote: int | None = None
    sort_slot: int | None = None


@dataclass(frozen=True)
class Stop:
    """One bin and SKU on the walk: take ``quantity`` units, split as ``allocations``."""

    sequence: int  # 1, 2, ... in walking order
    address: BinAddress
    sku: str
    ean: str
    quantity: int
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True)
class Tote:
    """A cluster cart's tote: one multi-line order."""

    number: int
    fulfillment_order_id: int
    order_id: int
    line_count: int
    unit_count: int
    weight_grams: int


@dataclass(frozen=True)
class SortSlot:
    """A batch's sort-to-pack slot (put wall): one mono-line order, numbered in the order its
    units come off the walk."""

    number: int
    fulfillment_order_id: int
    order_id: int
    line_id: int
    unit_count: int


@dataclass(frozen=True)
class WalkEstimate:
    """A simple walk metric (not metres): ``aisle_changes`` counts moves between consecutive
    stops in different aisles plus the entry into the first one (the unknown-bin zone counts
    as one aisle); ``bays_walked`` sums |bay difference| between consecutive stops in the same
    aisle; ``score`` = aisle_changes x strategy.aisle_change_bays + bays_walked."""

    aisles_visited: int = 0
    aisle_changes: int = 0
    bays_walked: int = 0
    score: int = 0


@dataclass(frozen=True)
class PickList:
    id: str  # "<wave id>-B01" (batch) / "<wave id>-C01" (cluster)
    wave_id: str
    kind: PickListKind
    stops: tuple[Stop, ...]
    totes: tuple[Tote, ...] = ()  # cluster lists
    sort_slots: tuple[SortSlot, ...] = ()  # batch lists
    order_count: int = 0
    line_count: int = 0
    unit_count: int = 0
    weight_grams: int = 0
    walk: WalkEstimate = WalkEstimate()


@dataclass(frozen=True)
class Wave:
    id: str  # "W01", ... in release order
    kind: WaveKind
    cutoff_at: datetime | None  # the cut-off it serves (None: no deadline, as soon as possible)
    release_at: datetime
    carriers: tuple[str, ...]
    pick_lists: tuple[PickList, ...]
    order_count: int
    line_count: int
    unit_count: int


@dataclass(frozen=True)
class MissedCutoff:
    """An order that can no longer make its deadline (carrier cut-off, else ready-by): flagged
    and planned into the next wave it can make."""

    fulfillment_order_id: int
    order_id: int
    carrier: str
    service: DeliveryService
    missed_at: datetime
    planned_cutoff_at: datetime | None
    wave_id: str


@dataclass(frozen=True)
class PlanSummary:
    orders: int = 0
    mono_line_orders: int = 0
    multi_line_orders: int = 0
    lines: int = 0
    units: int = 0
    waves: int = 0
    pick_lists: int = 0
    batch_lists: int = 0
    cluster_lists: int = 0
    stops: int = 0
    aisle_changes: int = 0
    bays_walked: int = 0
    walk_score: int = 0
    missed_cutoffs: int = 0


@dataclass(frozen=True)
class Plan:
    """Waves in release order; deterministic for the same input in any order."""

    location_id: int
    planned_at: datetime
    waves: tuple[Wave, ...]
    missed_cutoffs: tuple[MissedCutoff, ...]
    summary: PlanSummary

    @property
    def pick_lists(self) -> tuple[PickList, ...]:
        return tuple(pick_list for wave in self.waves for pick_list in wave.pick_lists)
