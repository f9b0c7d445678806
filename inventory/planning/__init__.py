"""Pure replenishment planning (no framework): reorder points, min/max, order quantities.

One function, :func:`replenishment_plan`, turns a rule, the stock position of one product at
one location and its recent demand into the quantity to order and a sentence explaining it.
Integer arithmetic throughout (demand is ``units`` sold over ``days``; quantities round up), so
the same inputs always give the same answer and the explanation's numbers add up.

- **Position** = free on hand (on hand - reserved - damaged - quality control) + in transit +
  on order - safety stock: what will be available to sell once everything coming has come,
  keeping the safety stock aside.
- **min_max**: when the position is at or below ``min``, order up to ``max``.
- **reorder_point**: the reorder point is the rule's, or else the demand over the lead time;
  when the position is at or below it, order up to the larger of the demand over
  (lead time + review cycle) and the reorder point.
- The need is rounded: at least the source's minimum order quantity, then up to whole packs;
  a source with limited free stock (a warehouse feeding a store) caps it, in whole packs.
- A purchase order worth less than the supplier's minimum order value is topped up
  (:func:`minimum_order_top_up`): whole packs are added to the line selling fastest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import StrEnum

__all__ = [
    "Demand",
    "Method",
    "OrderLine",
    "Plan",
    "PlanningRule",
    "Position",
    "TopUp",
    "minimum_order_top_up",
    "pack_round_up",
    "replenishment_plan",
    "review_is_due",
]


class Method(StrEnum):
    MIN_MAX = "min_max"
    REORDER_POINT = "reorder_point"


@dataclass(frozen=True)
class Demand:
    """``units`` sold (or sent out) over the last ``days`` days."""

    units: int
    days: int

    def __post_init__(self) -> None:
        if self.days <= 0:
            raise ValueError("demand needs a window of at least one day")
        if self.units < 0:
            raise ValueError("demand units cannot be negative")

    def over(self, days: int) -> int:
        """Units expected over ``days`` days at the average rate, rounded up."""
        return _ceil_div(self.units * days, self.days)

    @property
    def per_day(self) -> Decimal:
        return (Decimal(self.units) / Decimal(self.days)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )


@dataclass(frozen=True)
class Position:
    on_hand: int
    reserved: int = 0
    damaged: int = 0
    quality_control: int = 0
    in_transit: int = 0
    on_order: int = 0
    safety_stock: int = 0

    @property
    def free(self) -> int:
        return self.on_hand - self.reserved - self.damaged - self.quality_control

    @property
    def projected(self) -> int:
        return self.free + self.in_transit + self.on_order - self.safety_stock

    def describe(self) -> str:
        parts = [f"free {self.free}"]
        if self.in_transit:
            parts.append(f"+ in transit {self.in_transit}")
        if self.on_order:
            parts.append(f"+ on order {self.on_order}")
        if self.safety_stock:
            parts.append(f"- safety {self.safety_stock}")
        return f"position {self.projected} ({' '.join(parts)})"


@dataclass(frozen=True)
class PlanningRule:
    method: Method
    lead_time_days: int
    review_cycle_days: int = 0
    min_quantity: int = 0
    max_quantity: int = 0
    reorder_point: int | None = None
    pack_size: int = 1
    minimum_order_quantity: int = 0

    def __post_init__(self) -> None:
        if self.pack_size < 1:
            raise ValueError("pack size must be at least 1")
        if self.lead_time_days < 0 or self.review_cycle_days < 0:
            raise ValueError("lead time and review cycle cannot be negative")
        if self.min_quantity > self.max_quantity and self.method is Method.MIN_MAX:
            raise ValueError("min must not exceed max")


@dataclass(frozen=True)
class Plan:
    quantity: int
    """Units to order (0: nothing), a whole number of packs."""
    need: int
    """Units missing before rounding (0 when the rule does not trigger)."""
    is_triggered: bool
    explanation: str


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def pack_round_up(quantity: int, pack_size: int) -> int:
    """The smallest whole number of packs holding ``quantity`` units."""
    return _ceil_div(quantity, pack_size) * pack_size if quantity > 0 else 0


def review_is_due(*, last_reviewed_on: date | None, today: date, review_cycle_days: int) -> bool:
    """Whether a rule reviewed last on ``last_reviewed_on`` is reviewed ``today``.

    A cycle of 0 or 1 day reviews daily; a rule is due again ``review_cycle_days`` after its
    last review, and a second run on the day of a review recomputes it (re-running replaces
    the day's open proposals).
    """
    if last_reviewed_on is None or last_reviewed_on >= today:
        return True
    return today >= last_reviewed_on + timedelta(days=max(review_cycle_days, 1))


def _demand_text(demand: Demand) -> str:
    return f"avg {demand.per_day}/day ({demand.units} in {demand.days} days)"


def replenishment_plan(
    *,
    rule: PlanningRule,
    position: Position,
    demand: Demand,
    source_available: int | None = None,
) -> Plan:
    """What to order for one product at one location, and why.

    ``source_available``: free units at a source location (transfers), ``None`` for a supplier.
    """
    projected = position.projected
    if rule.method is Method.MIN_MAX:
        trigger, target = rule.min_quantity, rule.max_quantity
        head = f"{_demand_text(demand)}; {position.describe()}"
        if projected > trigger:
            return Plan(0, 0, False, f"{head} > min {trigger}: no order")
        need = target - projected
        steps = f"{head} <= min {trigger} -> max {target} - position {projected} = {need}"
    else:
        lead_demand = demand.over(rule.lead_time_days)
        cover_days = rule.lead_time_days + rule.review_cycle_days
        cover_demand = demand.over(cover_days)
        if rule.reorder_point is None:
            trigger = lead_demand
            trigger_text = f"reorder point {trigger} (demand over lead {rule.lead_time_days} days)"
        else:
            trigger = rule.reorder_point
            trigger_text = f"reorder point {trigger}"
        head = f"{_demand_text(demand)}; {position.describe()}"
        if projected > trigger:
            return Plan(0, 0, False, f"{head} > {trigger_text}: no order")
        target = max(cover_demand, trigger)
        cover_text = (
            f"avg {demand.per_day}/day x (lead {rule.lead_time_days} + review "
            f"{rule.review_cycle_days}) days = {cover_demand}"
        )
        if target != cover_demand:
            cover_text += f", reorder point {trigger} is higher"
        need = target - projected
        steps = f"{head} <= {trigger_text}; {cover_text}; {target} - position {projected} = {need}"
    if need <= 0:
        return Plan(0, 0, True, f"{steps}: nothing to order")
    quantity = need
    if rule.minimum_order_quantity > quantity:
        quantity = rule.minimum_order_quantity
        steps += f" -> minimum order {quantity}"
    if rule.pack_size > 1:
        rounded = pack_round_up(quantity, rule.pack_size)
        steps += f" -> pack of {rule.pack_size} -> {rounded}"
        quantity = rounded
    if source_available is not None and quantity > source_available:
        capped = max(0, source_available) // rule.pack_size * rule.pack_size
        steps += f" -> source has {max(0, source_available)} free -> {capped}"
        quantity = capped
    return Plan(quantity, need, True, f"{steps}: order {quantity}")


@dataclass(frozen=True)
class OrderLine:
    """A line of a proposed purchase order, for the supplier's minimum order value."""

    key: int
    quantity: int
    pack_size: int
    unit_cost: Decimal
    daily_demand: Decimal


@dataclass(frozen=True)
class TopUp:
    extra: tuple[tuple[int, int], ...]
    """(line key, units added), at most one line."""
    note: str


def minimum_order_top_up(lines: Sequence[OrderLine], minimum_value: Decimal) -> TopUp:
    """Whole packs added to reach ``minimum_value``: all on the line with the highest daily
    demand among lines with a cost (ties: the lowest key). Nothing when the order already
    reaches it; a note only when no line has a cost."""
    total = sum((line.unit_cost * line.quantity for line in lines), Decimal(0))
    if minimum_value <= 0 or total >= minimum_value or not lines:
        return TopUp((), "")
    priced = [line for line in lines if line.unit_cost > 0]
    if not priced:
        return TopUp(
            (),
            f"worth {total:.2f}, below the supplier's minimum {minimum_value:.2f}"
            " (no unit cost to top up with)",
        )
    chosen = min(priced, key=lambda line: (-line.daily_demand, line.key))
    pack_value = chosen.unit_cost * chosen.pack_size
    packs = int(((minimum_value - total) / pack_value).to_integral_value(rounding=ROUND_CEILING))
    units = packs * chosen.pack_size
    return TopUp(
        ((chosen.key, units),),
        f"worth {total:.2f}, below the supplier's minimum {minimum_value:.2f}: +{packs}"
        f" pack(s) of {chosen.pack_size} ({units} units) on the fastest seller",
    )
