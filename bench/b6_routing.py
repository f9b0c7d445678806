"""B6: the routing core (``fulfillment.routing``), speed and quality, no database involved.

Speed (``B6``): one order of 5 lines routed against 100, 1,000 and 5,000 candidate locations
(home standard, at most 3 locations); p95 of ``route()`` per decision over many orders drawn
from the same generator. Headline: p95 at 1,000 (goal < 20 ms); details: every size and the
growth from 1,000 to 5,000 (linear would be 5x).

Quality, on the demo network (3 warehouses and 40 stores at French city coordinates, 300
products, stock drawn from a seed) and a fixed set of 1,000 orders of 1-5 lines to addresses
near the stores (85 % home standard, 15 % express):

- ``B6Q``: total cost of the greedy + local search (``route`` forced past its exact-search
  limit) over the exact optimum of the same instances (``route`` with no exact limit: the
  branch and bound over every location set, see ``fulfillment.routing.optimise``). Goal
  <= 1.01. With the default limit (2,000 candidate x lines) every demo order is solved exactly
  anyway; the figure measures the heuristic used past it.
- ``B6S``: extra shipments (locations beyond the first, summed over the orders) of ``route``
  over those of the naive "nearest location with stock" baseline. Goal <= 0.6.

Costs compare only between plans that serve the same units; the details count the orders
where a plan served fewer units than the exact optimum (the lexicographic objective serves
units first).
"""

from __future__ import annotations

import dataclasses
import math
import random
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bench.context import BenchContext, progress
from bench.registry import Measurement, benchmark
from fulfillment.routing import route, route_nearest_with_stock
from fulfillment.routing.types import (
    Candidate,
    CostWeights,
    Decision,
    DeliveryMode,
    Demand,
    DemandLine,
    FailureAction,
    GeoPoint,
    LocationKind,
    Policy,
    Rule,
    RuleSet,
    ShippingRate,
    SplitKind,
    SplitPolicy,
)

SEED = 43
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PRODUCTS = 300
ORDERS = 1_000
SPEED_SIZES = (100, 1_000, 5_000)
SPEED_ORDERS = 300  # per size, bounded by time too
WAREHOUSES: tuple[tuple[str, float, float], ...] = (
    ("wh-paris-nord", 48.9833, 2.5500),
    ("wh-lyon-est", 45.6974, 4.9440),
    ("wh-lille", 50.6232, 3.1442),
)
CITIES: tuple[tuple[str, float, float], ...] = (
    ("paris", 48.8566, 2.3522), ("marseille", 43.2965, 5.3698), ("lyon", 45.7640, 4.8357),
    ("toulouse", 43.6047, 1.4442), ("nice", 43.7102, 7.2620), ("nantes", 47.2184, -1.5536),
    ("strasbourg", 48.5734, 7.7521), ("montpellier", 43.6108, 3.8767),
    ("bordeaux", 44.8378, -0.5792), ("lille", 50.6292, 3.0573), ("rennes", 48.1173, -1.6778),
    ("reims", 49.2583, 4.0317), ("le-havre", 49.4944, 0.1079),
    ("saint-etienne", 45.4397, 4.3872), ("toulon", 43.1242, 5.9280),
    ("grenoble", 45.1885, 5.7245), ("dijon", 47.3220, 5.0415), ("angers", 47.4784, -0.5632),
    ("nimes", 43.8367, 4.3601), ("clermont-ferrand", 45.7772, 3.0870),
    ("le-mans", 48.0061, 0.1996), ("aix-en-provence", 43.5297, 5.4474),
    ("brest", 48.3904, -4.4861), ("tours", 47.3941, 0.6848), ("amiens", 49.8941, 2.2958),
    ("limoges", 45.8336, 1.2611), ("annecy", 45.8992, 6.1294), ("perpignan", 42.6887, 2.8948),
    ("metz", 49.1193, 6.1757), ("besancon", 47.2378, 6.0241), ("orleans", 47.9030, 1.9093),
    ("rouen", 49.4432, 1.0999), ("mulhouse", 47.7508, 7.3359), ("caen", 49.1829, -0.3707),
    ("nancy", 48.6921, 6.1844), ("avignon", 43.9493, 4.8055), ("poitiers", 46.5802, 0.3404),
    ("pau", 43.2951, -0.3708), ("la-rochelle", 46.1603, -1.1511), ("calais", 50.9513, 1.8587),
)  # fmt: skip


def demo_policy() -> Policy:
    """Standard and express rates by distance band and weight; at most 3 locations, backorder
    what cannot be served."""
    rates = []
    for service, surcharge, transit in (("standard", 0.0, 24), ("express", 6.0, 12)):
        for band, (distance, extra_hours) in enumerate(((50, 0), (200, 0), (500, 24), (1200, 48))):
            for step, weight in enumerate((1_000, 5_000, 20_000)):
                price = 4.0 + surcharge + 1.0 * band + 2.5 * step
                rates.append(ShippingRate(service, distance, weight, price, transit + extra_hours))
    rule = Rule(
        name="parcels",
        split=SplitPolicy(SplitKind.MAX_LOCATIONS, 3),
        on_failure=FailureAction.BACKORDER,
    )
    return Policy(
        rule_sets=(RuleSet(name="demo", version=1, rules=(rule,), weights=CostWeights()),),
        rates=tuple(rates),
    )


def _location(
    rng: random.Random, location_id: int, code: str, point: GeoPoint, *, is_warehouse: bool
) -> Candidate:
    """One location with stock for the ``PRODUCTS`` catalogue (warehouses deep, stores thin)."""
    stock: dict[int, int] = {}
    for product in range(1, PRODUCTS + 1):
        if is_warehouse and rng.random() < 0.85:
            stock[product] = rng.randint(1, 60)
        elif not is_warehouse and rng.random() < 0.35:
            stock[product] = rng.randint(1, 6)
    if is_warehouse:
        daily = rng.randrange(2_000, 5_001, 500)
        return Candidate(
            location_id=location_id,
            code=code,
            kind=LocationKind.WAREHOUSE,
            position=point,
            stock=stock,
            ships_parcels=True,
            ready_at=NOW + timedelta(hours=2),
            capacity_left=int(daily * rng.uniform(0.2, 0.9)),
            daily_capacity=daily,
            pick_cost_per_unit=0.3,
        )
    ships = rng.random() < 0.6
    daily = rng.randrange(30, 121, 10)
    return Candidate(
        location_id=location_id,
        code=code,
        kind=LocationKind.STORE,
        position=point,
        stock=stock,
        ships_parcels=ships,
        is_ship_from_store=ships,
        is_click_and_collect=True,
        ready_at=None if rng.random() < 0.05 else NOW + timedelta(hours=rng.randint(1, 5)),
        capacity_left=rng.randint(0, daily),
        daily_capacity=daily,
        pick_cost_per_unit=0.9,
        last_unit_threshold=1,
    )


def _near(rng: random.Random, latitude: float, longitude: float, km: float) -> GeoPoint:
    """A point within about ``km`` of the given one."""
    angle = rng.uniform(0, 2 * math.pi)
    radius = km * math.sqrt(rng.random())
    return GeoPoint(
        latitude + radius * math.cos(angle) / 111.0,
        longitude + radius * math.sin(angle) / (111.0 * math.cos(math.radians(latitude))),
    )


def demo_network(seed: int = SEED) -> tuple[Candidate, ...]:
    """3 warehouses and 40 stores (ids 1-43) at French coordinates, stock from ``seed``."""
    rng = random.Random(f"b6-network-{seed}")
    locations = [
        _location(rng, index + 1, code, GeoPoint(lat, lon), is_warehouse=True)
        for index, (code, lat, lon) in enumerate(WAREHOUSES)
    ]
    for index, (city, lat, lon) in enumerate(CITIES):
        point = GeoPoint(lat, lon)
        locations.append(_location(rng, 100 + index, f"st-{city}", point, is_warehouse=False))
    return tuple(locations)


def large_network(size: int, seed: int = SEED) -> tuple[Candidate, ...]:
    """``size`` locations (5 % warehouses) scattered around the demo cities."""
    rng = random.Random(f"b6-large-{size}-{seed}")
    locations = []
    for index in range(size):
        _city, lat, lon = CITIES[index % len(CITIES)]
        point = _near(rng, lat, lon, 40.0)
        is_warehouse = index % 20 == 0
        code = f"loc-{index}"
        locations.append(_location(rng, index + 1, code, point, is_warehouse=is_warehouse))
    return tuple(locations)


def _weight(product: int) -> int:
    return 150 + (product * 7919) % 2_850


def demo_orders(count: int = ORDERS, *, lines: int | None = None, seed: int = SEED) -> list[Demand]:
    """``count`` orders of 1-5 lines (or exactly ``lines``), popular products more likely,
    delivered near a demo city."""
    rng = random.Random(f"b6-orders-{seed}-{lines}")
    popularity = [1.0 / rank for rank in range(1, PRODUCTS + 1)]
    orders = []
    for order_id in range(1, count + 1):
        wanted = lines or rng.randint(1, 5)
        products: list[int] = []
        while len(products) < wanted:
            product = rng.choices(range(1, PRODUCTS + 1), weights=popularity)[0]
            if product not in products:
                products.append(product)
        _city, lat, lon = rng.choice(CITIES)
        mode = DeliveryMode.HOME_EXPRESS if rng.random() < 0.15 else DeliveryMode.HOME_STANDARD
        orders.append(
            Demand(
                order_id=order_id,
                channel="web",
                delivery_mode=mode,
                lines=tuple(
                    DemandLine(index + 1, product, 1 if rng.random() < 0.8 else 2, _weight(product))
                    for index, product in enumerate(products)
                ),
                placed_at=NOW,
                destination=_near(rng, lat, lon, 15.0),
            )
        )
    return orders


def _percentile(values: Sequence[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(percent / 100 * len(ordered)) - 1)]


@benchmark(
    "B6",
    limit=None,
    goal="< 20",
    unit="ms p95",
    title="Routing speed: one 5-line order against 1,000 candidate locations, p95 per decision",
)
def routing_speed(context: BenchContext) -> Measurement:
    """route() p95 per decision at 100, 1,000 and 5,000 candidates; headline at 1,000."""
    policy = demo_policy()
    orders = demo_orders(SPEED_ORDERS, lines=5)
    details: dict[str, float | int | str] = {}
    budget = max(2.0, context.duration)
    for size in SPEED_SIZES:
        network = large_network(size)
        route(orders[0], network, policy, now=NOW)  # warm-up
        timings: list[float] = []
        searches: set[str] = set()
        deadline = time.monotonic() + budget
        for order in orders:
            started = time.perf_counter()
            decision = route(order, network, policy, now=NOW)
            timings.append((time.perf_counter() - started) * 1000)
            searches.add(decision.search)
            if time.monotonic() > deadline and len(timings) >= 20:
                break
        details[f"p50_ms_{size}"] = round(statistics.median(timings), 2)
        details[f"p95_ms_{size}"] = round(_percentile(timings, 95), 2)
        details[f"decisions_{size}"] = len(timings)
        details[f"search_{size}"] = ",".join(sorted(searches))
        progress(f"B6: {size} candidates, p95 {details[f'p95_ms_{size}']} ms")
    growth = float(details["p95_ms_5000"]) / float(details["p95_ms_1000"])
    details["growth_5000_over_1000"] = round(growth, 2)
    details["growth_linear_would_be"] = 5.0
    details["growth_goal_met"] = "yes" if growth <= 5.0 else "no"
    return Measurement(value=float(details["p95_ms_1000"]), details=details)


@dataclasses.dataclass(frozen=True)
class _Quality:
    exact_cost: float
    heuristic_cost: float
    exact_splits: int
    baseline_splits: int
    baseline_cost: float
    heuristic_fewer_units: int
    baseline_fewer_units: int
    exact_short_units: int
    orders_split_exact: int
    orders_split_baseline: int
    seconds_exact: float
    seconds_heuristic: float


_QUALITY: dict[int, _Quality] = {}


def _units(decision: Decision) -> int:
    return sum(assignment.quantity for assignment in decision.assignments)


def quality(seed: int = SEED) -> _Quality:
    """Route the 1,000 demo orders three ways (exact, greedy + local, nearest with stock)."""
    if seed in _QUALITY:
        return _QUALITY[seed]
    network = demo_network(seed)
    policy = demo_policy()
    exact_policy = dataclasses.replace(policy, exact_search_limit=10**9)
    heuristic_policy = dataclasses.replace(policy, exact_search_limit=0)
    totals = dict.fromkeys(("exact", "heuristic", "baseline"), 0.0)
    splits = dict.fromkeys(("exact", "baseline"), 0)
    split_orders = dict.fromkeys(("exact", "baseline"), 0)
    fewer = dict.fromkeys(("heuristic", "baseline"), 0)
    seconds = dict.fromkeys(("exact", "heuristic"), 0.0)
    short = 0
    for order in demo_orders(seed=seed):
        started = time.perf_counter()
        exact = route(order, network, exact_policy, now=NOW)
        seconds["exact"] += time.perf_counter() - started
        started = time.perf_counter()
        heuristic = route(order, network, heuristic_policy, now=NOW)
        seconds["heuristic"] += time.perf_counter() - started
        baseline = route_nearest_with_stock(order, network, policy, now=NOW)
        assert exact.search in ("exact", "none"), exact.search
        short += sum(shortfall.quantity for shortfall in exact.shortfalls)
        totals["exact"] += exact.total_cost
        totals["heuristic"] += heuristic.total_cost
        totals["baseline"] += baseline.total_cost
        for name, decision in (("exact", exact), ("baseline", baseline)):
            splits[name] += max(0, len(decision.location_ids) - 1)
            split_orders[name] += len(decision.location_ids) > 1
        for name, decision in (("heuristic", heuristic), ("baseline", baseline)):
            fewer[name] += _units(decision) < _units(exact)
            if _units(decision) > _units(exact):
                raise AssertionError(f"order {order.order_id}: exact serves fewer units")
        if _units(heuristic) == _units(exact) and heuristic.total_cost < exact.total_cost - 1e-6:
            raise AssertionError(f"order {order.order_id}: heuristic cheaper than exact")
    result = _Quality(
        exact_cost=totals["exact"],
        heuristic_cost=totals["heuristic"],
        exact_splits=splits["exact"],
        baseline_splits=splits["baseline"],
        baseline_cost=totals["baseline"],
        heuristic_fewer_units=fewer["heuristic"],
        baseline_fewer_units=fewer["baseline"],
        exact_short_units=short,
        orders_split_exact=split_orders["exact"],
        orders_split_baseline=split_orders["baseline"],
        seconds_exact=seconds["exact"],
        seconds_heuristic=seconds["heuristic"],
    )
    _QUALITY[seed] = result
    return result


def _quality_details(result: _Quality) -> dict[str, float | int | str]:
    return {
        "orders": ORDERS,
        "exact_total_cost": round(result.exact_cost, 2),
        "greedy_local_total_cost": round(result.heuristic_cost, 2),
        "nearest_baseline_total_cost": round(result.baseline_cost, 2),
        "baseline_cost_over_exact": round(result.baseline_cost / result.exact_cost, 4),
        "extra_shipments_route": result.exact_splits,
        "extra_shipments_baseline": result.baseline_splits,
        "split_orders_route": result.orders_split_exact,
        "split_orders_baseline": result.orders_split_baseline,
        "orders_greedy_serves_fewer_units": result.heuristic_fewer_units,
        "orders_baseline_serves_fewer_units": result.baseline_fewer_units,
        "units_short_exact": result.exact_short_units,
        "exact_ms_per_order": round(1000 * result.seconds_exact / ORDERS, 2),
        "greedy_local_ms_per_order": round(1000 * result.seconds_heuristic / ORDERS, 2),
    }


@benchmark(
    "B6Q",
    limit=None,
    goal="<= 1.01",
    unit="x exact cost",
    title="Routing quality: greedy + local search cost over the exact optimum, 1,000 demo orders",
)
def routing_cost_quality(context: BenchContext) -> Measurement:
    """Total cost of greedy + local search over the exact optimum on the demo network."""
    progress("B6Q: routing 1,000 demo orders exactly, greedily and naively")
    result = quality()
    return Measurement(
        value=round(result.heuristic_cost / result.exact_cost, 5),
        details=_quality_details(result),
    )


@benchmark(
    "B6S",
    limit=None,
    goal="<= 0.6",
    unit="x baseline splits",
    title="Routing splits: extra shipments of route() over 'nearest location with stock'",
)
def routing_split_quality(context: BenchContext) -> Measurement:
    """Extra shipments (locations beyond the first) of route() over the naive baseline."""
    result = quality()
    return Measurement(
        value=round(result.exact_splits / max(1, result.baseline_splits), 4),
        details=_quality_details(result),
    )
