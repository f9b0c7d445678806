"""The cost-to-serve model: each component on its own, summed with the rule set's weights.

A plan ships one parcel per location used (its *shipment*). Its cost is

- per shipment: ``shipping`` (carrier rate for the service, the distance band of the
  location -> destination leg and the parcel weight; a parcel heavier than the heaviest band
  goes as several parcels of that band), ``distance`` (km x weight per km), ``capacity_pressure``
  (share of the location's daily capacity already used), ``promise_risk`` (when ready_at plus
  transit misses the promise date);
- per unit: ``labour`` (the location's pick cost per unit) and ``last_unit_protection`` (each
  unit taken from the last ``last_unit_threshold`` units of a product at the location);
- per plan: ``split_penalty`` per location beyond the first.

Everything that does not depend on the assignment is computed once per location (``Site``), so
that the optimiser only adds up numbers. Shipping is non-decreasing in weight, per-unit costs
are convex per (location, product): the optimiser's lower bounds rely on both.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fulfillment.routing.types import (
    Candidate,
    CostWeights,
    DeliveryMode,
    DemandLine,
    ShippingRate,
)

COMPONENTS: tuple[str, ...] = (
    "shipping",
    "split_penalty",
    "labour",
    "distance",
    "capacity_pressure",
    "last_unit_protection",
    "promise_risk",
)

SERVICE_BY_MODE: Mapping[DeliveryMode, str] = {
    DeliveryMode.HOME_STANDARD: "standard",
    DeliveryMode.HOME_EXPRESS: "express",
    DeliveryMode.SAME_DAY: "same_day",
    DeliveryMode.RELAY_POINT: "relay",
    # A transfer to the pickup store travels as a standard parcel.
    DeliveryMode.CLICK_AND_COLLECT: "standard",
    DeliveryMode.SHIP_TO_STORE: "standard",
}
# Transit when the rate table has no rate for the service at all.
DEFAULT_TRANSIT_HOURS: Mapping[str, int] = {
    "standard": 48,
    "express": 24,
    "same_day": 4,
    "relay": 72,
}

# (max weight in grams, weighted price, transit hours), by increasing weight.
Steps = tuple[tuple[int, float, int], ...]


class RateTable:
    """The rates of one service as step functions of weight, one per distance band."""

    def __init__(self, rates: Sequence[ShippingRate], *, service: str, weight: float) -> None:
        own = [rate for rate in rates if rate.service == service]
        self.service = service
        self._default_transit = DEFAULT_TRANSIT_HOURS.get(service, 48)
        self._bands: list[float] = sorted({rate.max_distance_km for rate in own})
        self._steps: list[Steps] = [
            _steps([rate for rate in own if rate.max_distance_km >= band], weight)
            for band in self._bands
        ]

    def steps_for(self, distance_km: float) -> Steps:
        """The weight steps of the cheapest rates serving ``distance_km`` (beyond the last
        band: the last band's rates); empty when the service has no rate."""
        bands = self._bands
        if not bands:
            return ()
        index = bisect_left(bands, distance_km)
        return self._steps[min(index, len(bands) - 1)]

    def transit_hours(self, steps: Steps) -> int:
        return steps[0][2] if steps else self._default_transit


def _steps(rates: Sequence[ShippingRate], weight: float) -> Steps:
    thresholds = sorted({rate.max_weight_grams for rate in rates})
    result: list[tuple[int, float, int]] = []
    for threshold in thresholds:
        fitting = [rate for rate in rates if rate.max_weight_grams >= threshold]
        best = min(
            fitting, key=lambda rate: (rate.price, rate.transit_hours, rate.max_weight_grams)
        )
        result.append((threshold, best.price * weight, best.transit_hours))
    return tuple(result)


def shipping_price(steps: Steps, weight_grams: int) -> float:
    """Weighted price of one shipment of ``weight_grams`` (non-decreasing in weight)."""
    if not steps:
        return 0.0
    for max_weight, price, _transit in steps:
        if weight_grams <= max_weight:
            return price
    heaviest, price, _transit = steps[-1]
    return price * math.ceil(weight_grams / heaviest) if heaviest > 0 else price


class Site:
    """A candidate that passed the filters, with every assignment-independent cost computed.

    ``stock`` and ``free`` are per product index of the problem: the usable units, and how many
    of them can be taken before reaching the last-unit threshold.
    """

    __slots__ = (
        "base",
        "candidate",
        "distance_km",
        "fixed",
        "fixed_components",
        "free",
        "labour",
        "last_unit",
        "location_id",
        "ready_at",
        "ship_empty",
        "steps",
        "stock",
        "transit_hours",
    )

    def __init__(
        self,
        *,
        candidate: Candidate,
        distance_km: float | None,
        fixed_components: dict[str, float],
        steps: Steps,
        stock: list[int],
        weights: CostWeights,
        transit_hours: int,
        ready_at: datetime,
    ) -> None:
        self.candidate = candidate
        self.location_id = candidate.location_id
        self.distance_km = distance_km
        self.fixed_components = fixed_components
        self.fixed = sum(fixed_components.values())
        self.steps = steps
        self.ship_empty = steps[0][1] if steps else 0.0
        # Lower bound of what using this site costs at all (its parcel weighs at least 0 g).
        self.base = self.fixed + self.ship_empty
        self.stock = stock
        threshold = candidate.last_unit_threshold
        self.free = [max(0, units - threshold) for units in stock] if threshold > 0 else stock
        self.labour = weights.labour * candidate.pick_cost_per_unit
        self.last_unit = weights.last_unit_protection
        self.transit_hours = transit_hours
        self.ready_at = ready_at

    def unit_cost(self, product: int, before: int, quantity: int) -> float:
        """Labour and last-unit protection of taking ``quantity`` more units of ``product``
        when ``before`` are already taken here."""
        free = self.free[product]
        protected = max(0, before + quantity - free) - max(0, before - free)
        return self.labour * quantity + self.last_unit * protected


def usable_stock(candidate: Candidate, product_id: int, *, respect_safety_stock: bool) -> int:
    """ATP of ``product_id`` at ``candidate``; with the safety stock added back when the rule
    does not respect it (never less than the ATP)."""
    atp = candidate.stock.get(product_id, 0)
    if respect_safety_stock:
        return max(0, atp)
    return max(0, atp, candidate.stock_with_safety.get(product_id, 0))


class SiteBuilder:
    """``build_site`` for many candidates of one problem: everything that does not depend on
    the candidate (rates, weights, products, promise) is looked up once."""

    def __init__(
        self,
        *,
        products: Sequence[int],
        table: RateTable,
        weights: CostWeights,
        respect_safety_stock: bool,
        promise_by: datetime | None,
        now: datetime,
    ) -> None:
        self.products = tuple(products)
        self.table = table
        self.weights = weights
        self.respect_safety_stock = respect_safety_stock
        self.promise_by = promise_by
        self.now = now
        self._transit: dict[Steps, int] = {}

    def build(
        self, candidate: Candidate, distance_km: float | None, *, is_pickup_store: bool = False
    ) -> Site:
        """Exactly ``build_site(candidate, ...)`` with this builder's arguments."""
        distance = 0.0 if is_pickup_store or distance_km is None else distance_km
        table = self.table
        if is_pickup_store:
            steps: Steps = ()
            transit = 0
        else:
            steps = table.steps_for(distance)
            transit = self._transit.get(steps, -1)
            if transit < 0:
                transit = self._transit[steps] = table.transit_hours(steps)
        ready_at = candidate.ready_at or self.now
        daily = candidate.daily_capacity
        if daily > 0:
            used_share = min(1.0, max(0.0, 1.0 - candidate.capacity_left / daily))
        else:
            used_share = 1.0 if candidate.capacity_left <= 0 else 0.0
        promise_by = self.promise_by
        late = promise_by is not None and ready_at + timedelta(hours=transit) > promise_by
        weights = self.weights
        components = {
            "distance": weights.distance_per_km * distance,
            "capacity_pressure": weights.capacity_pressure * used_share,
            "promise_risk": weights.promise_risk if late else 0.0,
        }
        if self.respect_safety_stock:
            atp = candidate.stock
            stock = [max(0, atp.get(product, 0)) for product in self.products]
        else:
            stock = [
                usable_stock(candidate, product, respect_safety_stock=False)
                for product in self.products
            ]
        return Site(
            candidate=candidate,
            distance_km=distance_km,
            fixed_components=components,
            steps=steps,
            stock=stock,
            weights=weights,
            transit_hours=transit,
            ready_at=ready_at,
        )


def build_site(
    candidate: Candidate,
    *,
    distance_km: float | None,
    products: Sequence[int],
    table: RateTable,
    weights: CostWeights,
    respect_safety_stock: bool,
    promise_by: datetime | None,
    now: datetime,
    is_pickup_store: bool = False,
) -> Site:
    """The cost profile of one eligible candidate. The pickup store of a click-and-collect
    order ships nothing: its units are already where the customer collects them."""
    builder = SiteBuilder(
        products=products,
        table=table,
        weights=weights,
        respect_safety_stock=respect_safety_stock,
        promise_by=promise_by,
        now=now,
    )
    return builder.build(candidate, distance_km, is_pickup_store=is_pickup_store)


@dataclass(frozen=True)
class Problem:
    """One optimisation instance: lines (sorted by line id), the products they ask for, and the
    eligible sites (sorted by location id)."""

    lines: tuple[DemandLine, ...]
    products: tuple[int, ...]  # product ids, index = product index
    line_product: tuple[int, ...]  # product index of each line
    sites: tuple[Site, ...]
    split_penalty: float
    max_locations: int
    demand_per_product: tuple[int, ...]  # units asked per product index

    @classmethod
    def build(
        cls,
        lines: Sequence[DemandLine],
        sites: Sequence[Site],
        *,
        products: Sequence[int],
        split_penalty: float,
        max_locations: int,
    ) -> Problem:
        index = {product: position for position, product in enumerate(products)}
        ordered = tuple(sorted(lines, key=lambda line: line.line_id))
        line_product = tuple(index[line.product_id] for line in ordered)
        demand = [0] * len(products)
        for line, product in zip(ordered, line_product, strict=True):
            demand[product] += line.quantity
        return cls(
            lines=ordered,
            products=tuple(products),
            line_product=line_product,
            sites=tuple(sites),
            split_penalty=split_penalty,
            max_locations=max_locations,
            demand_per_product=tuple(demand),
        )


# A plan: units per (line index, site index); zero entries omitted.
Plan = Mapping[tuple[int, int], int]


@dataclass(frozen=True)
class PlanCost:
    total: float
    components: Mapping[str, float]
    per_site: Mapping[int, Mapping[str, float]]  # site index -> its components


def evaluate_plan(problem: Problem, plan: Plan) -> PlanCost:
    """The cost of ``plan`` from scratch (the reference the optimiser's sums must equal)."""
    weight: dict[int, int] = {}
    taken: dict[tuple[int, int], int] = {}
    for (line_index, site_index), quantity in plan.items():
        if quantity <= 0:
            continue
        line = problem.lines[line_index]
        weight[site_index] = weight.get(site_index, 0) + quantity * line.weight_grams
        key = (site_index, problem.line_product[line_index])
        taken[key] = taken.get(key, 0) + quantity
    per_site: dict[int, dict[str, float]] = {}
    for site_index in sorted(weight):
        site = problem.sites[site_index]
        per_site[site_index] = {
            "shipping": shipping_price(site.steps, weight[site_index]),
            "labour": 0.0,
            "last_unit_protection": 0.0,
            **site.fixed_components,
        }
    for (site_index, product), quantity in sorted(taken.items()):
        site = problem.sites[site_index]
        protected = max(0, quantity - site.free[product])
        per_site[site_index]["labour"] += site.labour * quantity
        per_site[site_index]["last_unit_protection"] += site.last_unit * protected
    totals = dict.fromkeys(COMPONENTS, 0.0)
    for components in per_site.values():
        for name, value in components.items():
            totals[name] += value
    totals["split_penalty"] = problem.split_penalty * max(0, len(per_site) - 1)
    return PlanCost(total=sum(totals.values()), components=totals, per_site=per_site)
