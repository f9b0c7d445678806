"""What-if replays, the pure half: stored JSON back to core inputs, and plan statistics.

``fulfillment.services.decisions.jsonable`` writes a decision's ``Demand`` and ``Candidate``s
as JSON (enums as values, sets as sorted lists, datetimes ISO 8601, mapping keys as strings);
``demand_from_json`` / ``candidates_from_json`` read them back exactly, so a replay sees the
world the live run saw (its stock, capacity and ``ready_at``), not today's.

``plan_statistics`` aggregates decisions into the figures the what-if report compares. Every
average divides by the number of replayed orders except ``average_distance_km`` (per chosen
location with a known distance) and ``on_time_share`` (per order with a promise date).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fulfillment.routing.types import (
    Candidate,
    Decision,
    DeliveryMode,
    Demand,
    DemandLine,
    GeoPoint,
    LocationKind,
)


def _datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _point(value: Any) -> GeoPoint | None:
    if not isinstance(value, Mapping):
        return None
    return GeoPoint(float(value["latitude"]), float(value["longitude"]))


def _stock(value: Any) -> dict[int, int]:
    return {int(key): int(units) for key, units in (value or {}).items()}


def demand_from_json(data: Mapping[str, Any]) -> Demand:
    """The ``Demand`` a decision stored (``RoutingDecision.demand``). Raises ``KeyError`` /
    ``ValueError`` on JSON that is not one."""
    placed_at = _datetime(data["placed_at"])
    if placed_at is None:
        raise ValueError("a demand needs placed_at")
    return Demand(
        order_id=int(data["order_id"]),
        channel=str(data["channel"]),
        delivery_mode=DeliveryMode(data["delivery_mode"]),
        lines=tuple(
            DemandLine(
                line_id=int(line["line_id"]),
                product_id=int(line["product_id"]),
                quantity=int(line["quantity"]),
                weight_grams=int(line.get("weight_grams", 0)),
            )
            for line in data["lines"]
        ),
        placed_at=placed_at,
        country=str(data.get("country", "FR")),
        priority=int(data.get("priority", 0)),
        destination=_point(data.get("destination")),
        pickup_location_id=data.get("pickup_location_id"),
        relay_carrier=str(data.get("relay_carrier", "")),
        promise_by=_datetime(data.get("promise_by")),
        days_waiting=int(data.get("days_waiting", 0)),
    )


def candidates_from_json(rows: Sequence[Mapping[str, Any]]) -> tuple[Candidate, ...]:
    """The ``Candidate``s a decision stored (``RoutingDecision.candidates``)."""
    return tuple(
        Candidate(
            location_id=int(row["location_id"]),
            code=str(row["code"]),
            kind=LocationKind(row["kind"]),
            position=_point(row.get("position")),
            stock=_stock(row.get("stock")),
            stock_with_safety=_stock(row.get("stock_with_safety")),
            ships_parcels=bool(row.get("ships_parcels", False)),
            is_ship_from_store=bool(row.get("is_ship_from_store", False)),
            is_click_and_collect=bool(row.get("is_click_and_collect", False)),
            groups=frozenset(str(name) for name in row.get("groups") or ()),
            carriers=frozenset(str(name) for name in row.get("carriers") or ()),
            ready_at=_datetime(row.get("ready_at")),
            capacity_left=int(row.get("capacity_left", 0)),
            daily_capacity=int(row.get("daily_capacity", 0)),
            pick_cost_per_unit=float(row.get("pick_cost_per_unit", 0.0)),
            last_unit_threshold=int(row.get("last_unit_threshold", 0)),
        )
        for row in rows
    )


@dataclass(frozen=True)
class PlanStatistics:
    """Figures of one policy over the replayed orders."""

    orders: int
    split_orders: int  # orders served from more than one location
    locations: int  # locations summed over the orders (shipments)
    total_cost: float
    distance_km_sum: float
    distances: int  # chosen locations with a known distance
    promised_orders: int  # orders with a promise date
    on_time_orders: int  # of those, planned ready by the promise
    outcomes: Mapping[str, int]
    units_short: int

    @property
    def split_rate(self) -> float:
        return self.split_orders / self.orders if self.orders else 0.0

    @property
    def average_locations(self) -> float:
        return self.locations / self.orders if self.orders else 0.0

    @property
    def average_cost(self) -> float:
        return self.total_cost / self.orders if self.orders else 0.0

    @property
    def average_distance_km(self) -> float | None:
        return self.distance_km_sum / self.distances if self.distances else None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time_orders / self.promised_orders if self.promised_orders else None


def plan_statistics(runs: Iterable[tuple[Demand, Decision]]) -> PlanStatistics:
    """Aggregate ``(demand, decision)`` pairs. On time: something is assigned and
    ``ready_by <= promise_by``; an order with a promise and nothing assigned is late."""
    orders = split = locations = distances = promised = on_time = short = 0
    cost = distance_sum = 0.0
    outcomes: Counter[str] = Counter()
    for demand, decision in runs:
        orders += 1
        used = len(decision.location_ids)
        locations += used
        split += used > 1
        cost += decision.total_cost
        outcomes[str(decision.outcome)] += 1
        short += sum(shortfall.quantity for shortfall in decision.shortfalls)
        for verdict in decision.verdicts:
            if verdict.is_chosen and verdict.distance_km is not None:
                distances += 1
                distance_sum += verdict.distance_km
        if demand.promise_by is not None:
            promised += 1
            if decision.ready_by is not None and decision.ready_by <= demand.promise_by:
                on_time += 1
    return PlanStatistics(
        orders=orders,
        split_orders=split,
        locations=locations,
        total_cost=round(cost, 4),
        distance_km_sum=round(distance_sum, 3),
        distances=distances,
        promised_orders=promised,
        on_time_orders=on_time,
        outcomes=dict(sorted(outcomes.items())),
        units_short=short,
    )


def plan_key(decision: Decision) -> tuple[tuple[int, int, int], ...]:
    """What a plan does, comparable across policies: (line, location, units), sorted."""
    return tuple(
        sorted(
            (assignment.line_id, assignment.location_id, assignment.quantity)
            for assignment in decision.assignments
        )
    )


def _number(value: float | None, digits: int, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _delta(live: float | None, draft: float | None, digits: int, scale: float = 1.0) -> str:
    if live is None or draft is None:
        return "-"
    return f"{(draft - live) * scale:+.{digits}f}"


def comparison_rows(live: PlanStatistics, draft: PlanStatistics) -> list[tuple[str, str, str, str]]:
    """(figure, live, draft, draft - live) rows, as text, for the command and the admin."""
    outcome_names = sorted(set(live.outcomes) | set(draft.outcomes))
    rows = [
        ("orders", str(live.orders), str(draft.orders), f"{draft.orders - live.orders:+d}"),
        (
            "split rate",
            _percent(live.split_rate),
            _percent(draft.split_rate),
            _delta(live.split_rate, draft.split_rate, 1, 100) + " pt",
        ),
        (
            "locations per order",
            _number(live.average_locations, 3),
            _number(draft.average_locations, 3),
            _delta(live.average_locations, draft.average_locations, 3),
        ),
        (
            "total cost",
            _number(live.total_cost, 2),
            _number(draft.total_cost, 2),
            _delta(live.total_cost, draft.total_cost, 2),
        ),
        (
            "cost per order",
            _number(live.average_cost, 2),
            _number(draft.average_cost, 2),
            _delta(live.average_cost, draft.average_cost, 2),
        ),
        (
            "distance per shipment",
            _number(live.average_distance_km, 1, " km"),
            _number(draft.average_distance_km, 1, " km"),
            _delta(live.average_distance_km, draft.average_distance_km, 1),
        ),
        (
            "on-time promise",
            _percent(live.on_time_share),
            _percent(draft.on_time_share),
            _delta(live.on_time_share, draft.on_time_share, 1, 100) + " pt"
            if live.on_time_share is not None and draft.on_time_share is not None
            else "-",
        ),
        (
            "units short",
            str(live.units_short),
            str(draft.units_short),
            f"{draft.units_short - live.units_short:+d}",
        ),
    ]
    for name in outcome_names:
        before, after = live.outcomes.get(name, 0), draft.outcomes.get(name, 0)
        rows.append((f"outcome {name}", str(before), str(after), f"{after - before:+d}"))
    return rows


def table_text(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(row[index]) for row in (header, *rows)) for index in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.ljust(widths[index]) if index == 0 else cell.rjust(widths[index])
            for index, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
