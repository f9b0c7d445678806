"""The routing core's inputs and outputs: frozen dataclasses, no framework.

The caller (``fulfillment.services.routing``) builds them from the database; the core never
queries anything. Quantities are units; money is in the order's currency as floats rounded by
the caller for display (the optimiser compares costs, it never bills them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class DeliveryMode(StrEnum):
    HOME_STANDARD = "home_standard"
    HOME_EXPRESS = "home_express"
    SAME_DAY = "same_day"
    CLICK_AND_COLLECT = "click_and_collect"
    RELAY_POINT = "relay_point"
    SHIP_TO_STORE = "ship_to_store"


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"
    DARK_STORE = "dark_store"


class SplitKind(StrEnum):
    NONE = "none"  # one location serves every line
    MAX_LOCATIONS = "max_locations"  # at most ``max_locations`` locations
    FREE = "free"  # any number of locations


class FailureAction(StrEnum):
    NEXT_RULE = "next_rule"  # try the next rule of the rule set
    PARK = "park"  # keep the order waiting in a queue (re-tried by beat)
    BACKORDER = "backorder"  # route what can be, backorder the rest
    CANCEL_AFTER_DAYS = "cancel_after_days"  # park, cancel when still short after N days


class Outcome(StrEnum):
    ROUTED = "routed"  # every unit assigned
    PARTIAL = "partial"  # some units assigned, the rest backordered
    PARKED = "parked"  # nothing assigned; waits for stock
    BACKORDERED = "backordered"  # nothing assigned; backordered
    CANCEL = "cancel"  # still short past the rule's deadline


@dataclass(frozen=True)
class GeoPoint:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class DemandLine:
    line_id: int
    product_id: int
    quantity: int
    weight_grams: int = 0


@dataclass(frozen=True)
class Demand:
    """What must be fulfilled. ``destination`` is the home or relay point; ``pickup_location_id``
    the click-and-collect / ship-to-store store."""

    order_id: int
    channel: str
    delivery_mode: DeliveryMode
    lines: tuple[DemandLine, ...]
    placed_at: datetime
    country: str = "FR"
    priority: int = 0
    destination: GeoPoint | None = None
    pickup_location_id: int | None = None
    relay_carrier: str = ""
    promise_by: datetime | None = None
    # Days the order has already waited (parked / backordered), for cancel-after-N-days rules.
    days_waiting: int = 0


@dataclass(frozen=True)
class Candidate:
    """A location that might fulfil (part of) the demand, as seen now.

    ``stock`` is ATP per product with safety stock deducted; ``stock_with_safety`` adds the
    safety stock back (rules that do not respect safety stock may use it). Both already count
    the units this order holds at the location (its pool reservations parked there), so that
    re-routing never competes with itself.
    """

    location_id: int
    code: str
    kind: LocationKind
    position: GeoPoint | None
    stock: Mapping[int, int]
    stock_with_safety: Mapping[int, int] = field(default_factory=dict)
    ships_parcels: bool = False
    is_ship_from_store: bool = False
    is_click_and_collect: bool = False
    groups: frozenset[str] = frozenset()
    carriers: frozenset[str] = frozenset()
    # When a parcel prepared now could leave (opening hours, pick/pack minutes and carrier
    # cut-off applied by the caller); None when it cannot ship at all in the horizon.
    ready_at: datetime | None = None
    capacity_left: int = 0  # orders it may still take today
    daily_capacity: int = 0
    pick_cost_per_unit: float = 0.0
    # Units per product below which this location's stock is "last units" worth protecting.
    last_unit_threshold: int = 0


@dataclass(frozen=True)
class CostWeights:
    """Weights of the cost-to-serve components (per channel and delivery mode)."""

    shipping: float = 1.0  # carrier rate by zone, weight and service
    split_penalty: float = 4.0  # per extra location beyond the first
    labour: float = 1.0  # store or warehouse labour per unit picked
    distance_per_km: float = 0.01
    capacity_pressure: float = 2.0  # grows as capacity_left approaches 0
    last_unit_protection: float = 1.5  # per unit taken below the last-unit threshold
    promise_risk: float = 10.0  # when ready_at + transit would miss promise_by


@dataclass(frozen=True)
class ShippingRate:
    """Carrier rate: a service, a distance band (km) and a weight band (grams)."""

    service: str
    max_distance_km: float
    max_weight_grams: int
    price: float
    transit_hours: int


@dataclass(frozen=True)
class SplitPolicy:
    kind: SplitKind = SplitKind.FREE
    max_locations: int = 1


@dataclass(frozen=True)
class Rule:
    """Location filters, a split policy and what to do when it cannot serve the demand."""

    name: str
    location_groups: frozenset[str] = frozenset()  # empty: any group
    location_kinds: frozenset[LocationKind] = frozenset()  # empty: any kind
    max_distance_km: float | None = None
    require_ship_from_store: bool = False  # stores must have ship-from-store enabled
    require_capacity: bool = True
    respect_safety_stock: bool = True
    split: SplitPolicy = SplitPolicy()
    on_failure: FailureAction = FailureAction.NEXT_RULE
    cancel_after_days: int = 0


@dataclass(frozen=True)
class RuleSetConditions:
    """Which orders a rule set applies to; empty sets match everything."""

    channels: frozenset[str] = frozenset()
    delivery_modes: frozenset[DeliveryMode] = frozenset()
    countries: frozenset[str] = frozenset()
    min_priority: int | None = None
    promise_within_hours: int | None = None  # orders whose promise is this close


@dataclass(frozen=True)
class RuleSet:
    name: str
    version: int
    rules: tuple[Rule, ...]
    conditions: RuleSetConditions = RuleSetConditions()
    weights: CostWeights = CostWeights()


@dataclass(frozen=True)
class Policy:
    """Ordered rule sets (the first whose conditions match is used) and the rate table."""

    rule_sets: tuple[RuleSet, ...]
    rates: tuple[ShippingRate, ...] = ()
    same_day_radius_km: float = 30.0
    # Above this many (candidates x lines), the optimiser switches from exact search to a
    # greedy start improved by local search.
    exact_search_limit: int = 2_000


@dataclass(frozen=True)
class Assignment:
    line_id: int
    product_id: int
    location_id: int
    quantity: int


@dataclass(frozen=True)
class Shortfall:
    line_id: int
    product_id: int
    quantity: int


@dataclass(frozen=True)
class CandidateVerdict:
    """Why a candidate was or was not used: failed filters (empty when it passed) and, for
    candidates in the chosen plan, its cost components."""

    location_id: int
    code: str
    failed_filters: tuple[str, ...] = ()
    cost_components: Mapping[str, float] = field(default_factory=dict)
    is_chosen: bool = False
    # The filters it was checked against and passed (names), and its distance to the
    # destination (the pickup store for click-and-collect), when both points are known.
    passed_filters: tuple[str, ...] = ()
    distance_km: float | None = None


@dataclass(frozen=True)
class Decision:
    """The plan and its explanation; deterministic for the same inputs."""

    outcome: Outcome
    assignments: tuple[Assignment, ...]
    shortfalls: tuple[Shortfall, ...]
    rule_set: str
    rule_set_version: int
    rule: str
    total_cost: float
    cost_components: Mapping[str, float]
    verdicts: tuple[CandidateVerdict, ...]
    search: str  # "exact", "greedy+local", "pickup_store" or "none" (nothing to search)
    plans_evaluated: int
    rules_tried: tuple[str, ...] = ()
    # Click-and-collect: other click-and-collect stores near the pickup store that hold every
    # line (nearest first), to offer when the pickup store itself cannot serve the order.
    alternatives: tuple[int, ...] = ()
    # When the last parcel is expected (ready_at + transit), or, for a pickup from the store's
    # own stock, when it is ready; None when nothing is assigned.
    ready_by: datetime | None = None
    note: str = ""  # why nothing was routed (no rule set matched, ...), else empty

    @property
    def location_ids(self) -> tuple[int, ...]:
        return tuple(sorted({assignment.location_id for assignment in self.assignments}))
