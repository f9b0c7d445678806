"""Instance builders for the routing core tests: a small rate table, candidates, demands."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from fulfillment.routing.types import (
    Candidate,
    CostWeights,
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

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PARIS = GeoPoint(48.8566, 2.3522)
LYON = GeoPoint(45.7640, 4.8357)
MARSEILLE = GeoPoint(43.2965, 5.3698)
LILLE = GeoPoint(50.6292, 3.0573)

# Standard: 5.00 up to 1 kg / 8.00 up to 5 kg within 100 km; 7.00 / 11.00 up to 1,000 km.
RATES = (
    ShippingRate("standard", 100, 1_000, 5.0, 24),
    ShippingRate("standard", 100, 5_000, 8.0, 24),
    ShippingRate("standard", 1_000, 1_000, 7.0, 48),
    ShippingRate("standard", 1_000, 5_000, 11.0, 48),
    ShippingRate("express", 1_000, 5_000, 15.0, 12),
    ShippingRate("same_day", 50, 5_000, 9.0, 3),
    ShippingRate("relay", 1_000, 5_000, 4.0, 72),
)


def policy(*rules: Rule, weights: CostWeights | None = None, **options: object) -> Policy:
    rule_set = RuleSet(
        name="default",
        version=3,
        rules=rules or (Rule(name="any"),),
        weights=weights or CostWeights(),
    )
    return Policy(rule_sets=(rule_set,), rates=RATES, **options)  # type: ignore[arg-type]


def warehouse(
    location_id: int, stock: dict[int, int], *, at: GeoPoint = PARIS, **fields: object
) -> Candidate:
    values: dict[str, object] = {
        "ships_parcels": True,
        "ready_at": NOW + timedelta(hours=2),
        "capacity_left": 500,
        "daily_capacity": 1_000,
        "pick_cost_per_unit": 0.3,
    }
    values.update(fields)
    return Candidate(
        location_id=location_id,
        code=f"wh-{location_id}",
        kind=LocationKind.WAREHOUSE,
        position=at,
        stock=stock,
        **values,  # type: ignore[arg-type]
    )


def store(
    location_id: int, stock: dict[int, int], *, at: GeoPoint = PARIS, **fields: object
) -> Candidate:
    values: dict[str, object] = {
        "ships_parcels": True,
        "is_ship_from_store": True,
        "is_click_and_collect": True,
        "ready_at": NOW + timedelta(hours=1),
        "capacity_left": 20,
        "daily_capacity": 40,
        "pick_cost_per_unit": 0.9,
    }
    values.update(fields)
    return Candidate(
        location_id=location_id,
        code=f"st-{location_id}",
        kind=LocationKind.STORE,
        position=at,
        stock=stock,
        **values,  # type: ignore[arg-type]
    )


def demand(
    *lines: tuple[int, int] | tuple[int, int, int],
    mode: DeliveryMode = DeliveryMode.HOME_STANDARD,
    to: GeoPoint | None = PARIS,
    **fields: object,
) -> Demand:
    """Lines as (product, quantity[, grams]); line ids 1, 2, ... in that order."""
    return Demand(
        order_id=1,
        channel=str(fields.pop("channel", "web")),
        delivery_mode=mode,
        lines=tuple(
            DemandLine(index + 1, line[0], line[1], line[2] if len(line) == 3 else 500)
            for index, line in enumerate(lines)
        ),
        placed_at=NOW,
        destination=to,
        **fields,  # type: ignore[arg-type]
    )


def random_instance(
    rng: random.Random, *, candidates: int, lines: int, max_quantity: int, max_stock: int
) -> tuple[Demand, list[Candidate], Policy]:
    """A random home-delivery instance around Paris: weights straddle the 1 kg / 5 kg bands,
    last-unit thresholds and capacity vary, the split policy is drawn too."""
    products = rng.sample(range(1, 9), k=min(lines, 8))
    demand_lines = tuple(
        DemandLine(
            index + 1,
            products[index % len(products)],
            rng.randint(1, max_quantity),
            rng.choice((0, 300, 700, 1_800)),
        )
        for index in range(lines)
    )
    network = []
    for location_id in rng.sample(range(1, 1_000), k=candidates):
        position = GeoPoint(48.0 + rng.random() * 3, 1.0 + rng.random() * 3)
        stock = {p: rng.randint(0, max_stock) for p in products if rng.random() < 0.8}
        daily = rng.choice((0, 10, 40))
        network.append(
            Candidate(
                location_id=location_id,
                code=f"loc-{location_id}",
                kind=rng.choice((LocationKind.WAREHOUSE, LocationKind.STORE)),
                position=position,
                stock=stock,
                ships_parcels=True,
                is_ship_from_store=True,
                ready_at=NOW + timedelta(hours=rng.randint(1, 30)),
                capacity_left=rng.randint(1, max(1, daily)),
                daily_capacity=daily,
                pick_cost_per_unit=rng.choice((0.2, 0.5, 1.0)),
                last_unit_threshold=rng.randint(0, 2),
            )
        )
    split = rng.choice(
        (
            SplitPolicy(SplitKind.NONE),
            SplitPolicy(SplitKind.MAX_LOCATIONS, 2),
            SplitPolicy(SplitKind.MAX_LOCATIONS, 3),
            SplitPolicy(SplitKind.FREE),
        )
    )
    rule = Rule(name="r", split=split, on_failure=FailureAction.BACKORDER)
    weights = CostWeights(
        split_penalty=rng.choice((0.5, 4.0)),
        last_unit_protection=rng.choice((0.0, 3.0)),
        promise_risk=rng.choice((0.0, 10.0)),
    )
    order = Demand(
        order_id=1,
        channel="web",
        delivery_mode=DeliveryMode.HOME_STANDARD,
        lines=demand_lines,
        placed_at=NOW,
        destination=GeoPoint(48.0 + rng.random() * 3, 1.0 + rng.random() * 3),
        promise_by=NOW + timedelta(hours=rng.choice((30, 60))),
    )
    return order, network, policy(rule, weights=weights)
