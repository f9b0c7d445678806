"""Drill-down: the orders behind a figure, selected from the same rows the figure counted.

``drill_orders(scope=..., measure=..., params=...)`` validates the figure's parameters (each
measure declares which it takes) and returns ``(order id, note)`` pairs, the most telling first
(slowest, latest, ...). Bad parameters raise ``ValidationFailed`` with one field error each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from omnilog.analytics.queries_stock import late_order_buckets
from omnilog.analytics.rows import GROUPS, STAGE_LABELS, measure_params, measure_sql
from omnilog.analytics.scope import Scope, fetch
from omnilog.analytics.stats import AGEING_BUCKETS, FREQUENCY_BUCKETS
from omnilog.core.errors import FieldError, ValidationFailed
from orders.models import DeliveryMode, Order
from returns.models import ReturnReason

MEASURES = (
    "lead_time",
    "orders",
    "basket",
    "frequency",
    "fill_rate",
    "split",
    "stores",
    "on_time",
    "cancellations",
    "journeys",
    "multichannel",
    "late",
    "returns",
    "pickups",
)


@dataclass(frozen=True)
class DrilledOrder:
    order_id: int
    note: str


class _Params:
    """Reads and checks the figure's parameters, collecting every error."""

    def __init__(self, data: Mapping[str, str]) -> None:
        self.data = data
        self.errors: list[FieldError] = []

    def text(self, name: str, *, required: bool = True, choices: Any = None) -> str | None:
        value = (self.data.get(name) or "").strip()
        if not value:
            if required:
                self.errors.append(FieldError(name, "This parameter is required.", "required"))
            return None
        if len(value) > 300 or (choices is not None and value not in choices):
            self.errors.append(FieldError(name, f"Not a valid value: {value[:40]!r}.", "invalid"))
            return None
        return value

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        if not value.isdigit() or len(value) > 18:
            self.errors.append(FieldError(name, "A positive integer is expected.", "invalid"))
            return None
        return int(value)

    def check(self) -> None:
        if self.errors:
            raise ValidationFailed(
                "Some drill-down parameters are not valid.", field_errors=self.errors
            )


def _where(conditions: list[str]) -> str:
    return " AND ".join(conditions) or "true"


def _select(
    scope: Scope, measure: str, conditions: list[str], values: dict[str, Any], note: str, order: str
) -> list[DrilledOrder]:
    sql = measure_sql(
        measure,
        f"SELECT order_id, {note} FROM rows WHERE {_where(conditions)} "
        f"GROUP BY order_id ORDER BY {order}, order_id DESC",
    )
    rows = fetch(sql, {**measure_params(scope), **values})
    return [DrilledOrder(int(order_id), str(text)) for order_id, text in rows]


def _lead_time(scope: Scope, p: _Params) -> list[DrilledOrder]:
    stage = p.text("stage", choices=STAGE_LABELS)
    group = p.text("group", required=False, choices=GROUPS) or "all"
    key = p.text("key", required=group != "all")
    if group in ("channel", "location") and key is not None and not key.isdigit():
        p.errors.append(FieldError("key", "A positive integer is expected.", "invalid"))
    if group == "day" and key is not None:
        try:
            date.fromisoformat(key)
        except ValueError:
            p.errors.append(FieldError("key", "An ISO date is expected.", "invalid"))
    p.check()
    conditions = ["stage = %(d_stage)s"]
    values: dict[str, Any] = {"d_stage": stage}
    if group != "all":
        column = GROUPS[group]
        cast = {"channel_id": "::bigint", "location_id": "::bigint", "placed_day": "::date"}
        conditions.append(f"{column} = %(d_key)s{cast.get(column, '')}")
        values["d_key"] = key
    note = "round((max(seconds) / 3600)::numeric, 2)::text || ' h'"
    return _select(scope, "lead_time", conditions, values, note, "max(seconds) DESC")


def _channel_condition(p: _Params, conditions: list[str], values: dict[str, Any]) -> None:
    channel = p.integer("channel")
    if channel is not None:
        conditions.append("channel_id = %(d_channel)s")
        values["d_channel"] = channel


def _equals(
    p: _Params,
    conditions: list[str],
    values: dict[str, Any],
    name: str,
    column: str,
    choices: Any = None,
) -> str | None:
    """An optional ``name`` parameter the rows' ``column`` must equal."""
    value = p.text(name, required=False, choices=choices)
    if value is not None:
        conditions.append(f"{column} = %(d_{name})s")
        values[f"d_{name}"] = value
    return value


def _located(flags: dict[str, str], default: str) -> Any:
    """Drill of a per-location table: ``location`` (required) and a ``flag`` column."""

    def extra(p: _Params, conditions: list[str], values: dict[str, Any]) -> str:
        location = p.integer("location", required=True)
        flag = p.text("flag", required=False, choices=flags) or default
        conditions.extend(["location_id = %(d_location)s", flags[flag]])
        values["d_location"] = location
        return "string_agg(DISTINCT location_code, ', ')"

    return extra


def _simple(measure: str, extra: Callable[[_Params, list[str], dict[str, Any]], str]) -> Any:
    def drill(scope: Scope, p: _Params) -> list[DrilledOrder]:
        conditions: list[str] = []
        values: dict[str, Any] = {}
        note = extra(p, conditions, values)
        p.check()
        return _select(scope, measure, conditions, values, note, "min(order_id)")

    return drill


def _orders(p: _Params, conditions: list[str], values: dict[str, Any]) -> str:
    _channel_condition(p, conditions, values)
    _equals(p, conditions, values, "status", "status", Order.Status.values)
    return "min(status)"


def _basket(p: _Params, conditions: list[str], values: dict[str, Any]) -> str:
    _channel_condition(p, conditions, values)
    return "min(grand_total)::text"


def _frequency(p: _Params, conditions: list[str], values: dict[str, Any]) -> str:
    labels = [label for label, _ in FREQUENCY_BUCKETS]
    bucket = p.text("bucket", choices=labels)
    if bucket is not None:
        index = labels.index(bucket)
        values["d_low"] = FREQUENCY_BUCKETS[index][1]
        values["d_high"] = (
            FREQUENCY_BUCKETS[index + 1][1] if index + 1 < len(FREQUENCY_BUCKETS) else 2**31
        )
        conditions.append("customer_orders >= %(d_low)s AND customer_orders < %(d_high)s")
    return "min(customer_orders)::text || ' orders'"


def _fill_rate(p: _Params, conditions: list[str], values: dict[str, Any]) -> str:
    _channel_condition(p, conditions, values)
    conditions.append("NOT is_filled")
    return "(sum(quantity) - sum(quantity_fulfilled))::text || ' units short'"


def _split(p: _Params, conditions: list[str], values: dict[str, Any]) -> str:
    _channel_condition(p, conditions, values)
    conditions.append("locations > 1")
    return "max(locations)::text || ' locations'"


STORE_FLAGS = {
    "all": "true",
    "rejected": "is_rejected",
    "timed_out": "is_timed_out",
    "rerouted": "is_rerouted",
}


def _on_time(p: _Params, conditions: list[str], values: dict[str, Any]) -> str:
    group = p.text("group", required=False, choices=("all", "channel", "mode")) or "all"
    flag = p.text("flag", required=False, choices=("all", "late", "on_time")) or "late"
    if group == "channel":
        _channel_condition(p, conditions, values)
    elif group == "mode":
        mode = p.text("mode", choices=DeliveryMode.values)
        conditions.append("delivery_mode = %(d_mode)s")
        values["d_mode"] = mode
    conditions.append({"all": "true", "late": "NOT is_on_time", "on_time": "is_on_time"}[flag])
    return "to_char(min(promised_at) AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI')"


def _cancellations(p: _Params, conditions: list[str], values: dict[str, Any]) -> str:
    _channel_condition(p, conditions, values)
    _equals(p, conditions, values, "reason", "reason")
    return "min(reason)"


def _journeys(p: _Params, conditions: list[str], values: dict[str, Any]) -> str:
    _channel_condition(p, conditions, values)
    _equals(p, conditions, values, "mode", "delivery_mode", DeliveryMode.values)
    _equals(p, conditions, values, "return", "return_channel")
    return "min(channel_code) || ' → ' || min(delivery_mode) || ' → ' || min(return_channel)"


def _multichannel(p: _Params, conditions: list[str], values: dict[str, Any]) -> str:
    if _equals(p, conditions, values, "combination", "combination") is None:
        conditions.append("channel_count > 1")
    return "min(combination)"


def _returns(p: _Params, conditions: list[str], values: dict[str, Any]) -> str:
    _channel_condition(p, conditions, values)
    _equals(p, conditions, values, "reason", "reason", ReturnReason.values)
    return "string_agg(DISTINCT reason, ', ') || ': ' || sum(units)::text || ' units'"


PICKUP_FLAGS = {
    "all": "true",
    "collected": "is_collected",
    "no_show": "is_no_show",
    "reminded": "is_reminded",
}


def _late(scope: Scope, p: _Params) -> list[DrilledOrder]:
    bucket = p.text("bucket", required=False, choices=[label for label, _ in AGEING_BUCKETS])
    p.check()
    buckets = late_order_buckets(scope)
    return [
        DrilledOrder(order_id, label)
        for order_id, label in sorted(buckets.items())
        if bucket is None or label == bucket
    ]


DRILLS: dict[str, Callable[[Scope, _Params], list[DrilledOrder]]] = {
    "lead_time": _lead_time,
    "orders": _simple("orders", _orders),
    "basket": _simple("basket", _basket),
    "frequency": _simple("frequency", _frequency),
    "fill_rate": _simple("fill_rate", _fill_rate),
    "split": _simple("split", _split),
    "stores": _simple("stores", _located(STORE_FLAGS, "all")),
    "on_time": _simple("on_time", _on_time),
    "cancellations": _simple("cancellations", _cancellations),
    "journeys": _simple("journeys", _journeys),
    "multichannel": _simple("multichannel", _multichannel),
    "late": _late,
    "returns": _simple("returns", _returns),
    "pickups": _simple("pickups", _located(PICKUP_FLAGS, "no_show")),
}


def drill_orders(*, scope: Scope, measure: str, params: Mapping[str, str]) -> list[DrilledOrder]:
    """The orders behind one figure of ``measure`` (see ``DRILLS``), most telling first."""
    drill = DRILLS.get(measure)
    if drill is None:
        raise ValidationFailed(
            "Unknown measure.",
            field_errors=[
                FieldError("measure", f"One of {', '.join(MEASURES)}.", "invalid_choice")
            ],
        )
    return drill(scope, _Params(params))
