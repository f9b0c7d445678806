"""Dashboard panels of service and stock: orders by channel and status, basket, purchase
frequency, fill rate, split rate, re-routing by location, on time, late ageing,
cancellations, stock-outs and count accuracy."""

from __future__ import annotations

from typing import Any

from omnilog.analytics import queries, queries_returns, queries_stock
from omnilog.analytics.scope import Scope
from omnilog.analytics.stats import AGEING_BUCKETS, FREQUENCY_BUCKETS, frequency_bucket, rate
from omnilog.analytics.tables import Table, table


def order_tables(scope: Scope) -> list[Table]:
    by_status = queries.orders_by_channel_status(scope)
    channels = sorted({row.channel for row in by_status})
    statuses = sorted({row.status for row in by_status})
    counts = {(row.channel, row.status): row.orders for row in by_status}
    baskets = queries.baskets(scope)
    distribution = queries.customer_order_counts(scope)
    buckets: dict[str, list[int]] = {label: [0, 0] for label, _ in FREQUENCY_BUCKETS}
    for orders, customers in distribution:
        entry = buckets[frequency_bucket(orders)]
        entry[0] += customers
        entry[1] += customers * orders
    return [
        table(
            key="orders_by_channel_status",
            title="Orders by channel and status",
            columns=[
                ("channel", "Channel", "text"),
                ("status", "Status", "text"),
                ("orders", "Orders", "int"),
                ("value", "Value", "money"),
            ],
            rows=[(r.channel, r.status, r.orders, r.value) for r in by_status],
            drills=[
                {"orders": [("measure", "orders"), ("channel", r.channel_id), ("status", r.status)]}
                for r in by_status
            ],
            chart={
                "type": "stacked",
                "labels": channels,
                "series": {s: [counts.get((c, s), 0) for c in channels] for s in statuses},
            },
        ),
        table(
            key="baskets",
            title="Average basket",
            note="Orders not cancelled; value in the channel's currency.",
            columns=[
                ("channel", "Channel", "text"),
                ("orders", "Orders", "int"),
                ("value", "Value", "money"),
                ("average_value", "Average value", "money"),
                ("average_units", "Average units", "decimal"),
            ],
            rows=[
                (b.channel, b.orders, b.value, b.average_value, b.average_units) for b in baskets
            ],
            drills=[
                {
                    "orders": [("measure", "basket")]
                    + ([("channel", b.channel_id)] if b.channel_id else [])
                }
                for b in baskets
            ],
        ),
        table(
            key="purchase_frequency",
            title="Purchase frequency per customer",
            note="Orders not cancelled in the period, per customer.",
            columns=[
                ("bucket", "Orders per customer", "text"),
                ("customers", "Customers", "int"),
                ("orders", "Orders", "int"),
            ],
            rows=[(label, c, o) for label, (c, o) in buckets.items()],
            drills=[
                {"customers": [("measure", "frequency"), ("bucket", label)]} for label in buckets
            ],
        ),
    ]


def service_tables(scope: Scope) -> list[Table]:
    fills = queries.fill_rates(scope)
    splits = queries.splits(scope)
    stores = queries.store_reliability(scope)
    punctuality = queries.on_time(scope)
    late = queries_stock.late_order_buckets(scope)
    ageing = {label: 0 for label, _ in AGEING_BUCKETS}
    for label in late.values():
        ageing[label] += 1
    total, reasons = queries.cancellations(scope)

    def channel_drill(measure: str, channel_id: int | None) -> list[tuple[str, Any]]:
        return [("measure", measure)] + ([("channel", channel_id)] if channel_id else [])

    def on_time_drill(row: queries.OnTime, flag: str) -> list[tuple[str, Any]]:
        base: list[tuple[str, Any]] = [("measure", "on_time"), ("group", row.group), ("flag", flag)]
        if row.group == "channel":
            base.append(("channel", row.key))
        elif row.group == "mode":
            base.append(("mode", row.key))
        return base

    return [
        table(
            key="fill_rates",
            title="Fill rate",
            note="Lines, units and value delivered of settled orders (shipped, delivered, "
            "collected, completed).",
            columns=[
                ("channel", "Channel", "text"),
                ("lines", "Lines", "int"),
                ("line_rate", "Lines filled", "percent"),
                ("unit_rate", "Units filled", "percent"),
                ("value_rate", "Value filled", "percent"),
                ("short", "Orders short", "text"),
            ],
            rows=[
                (
                    f.channel,
                    f.lines,
                    rate(f.lines_filled, f.lines),
                    rate(f.units_filled, f.units),
                    rate(float(f.value_filled), float(f.value)),
                    "orders",
                )
                for f in fills
            ],
            drills=[{"short": channel_drill("fill_rate", f.channel_id)} for f in fills],
        ),
        table(
            key="split_rate",
            title="Split rate",
            note="Orders served by more than one location, of the orders routed.",
            columns=[
                ("channel", "Channel", "text"),
                ("orders", "Orders routed", "int"),
                ("split", "Split orders", "int"),
                ("rate", "Split rate", "percent"),
            ],
            rows=[
                (s.channel, s.orders, s.split_orders, rate(s.split_orders, s.orders))
                for s in splits
            ],
            drills=[{"split": channel_drill("split", s.channel_id)} for s in splits],
        ),
        table(
            key="store_reliability",
            title="Re-routing and rejection by location",
            note="Fulfillment orders received; rejected: the location refused units; timed "
            "out: not accepted in time; re-routed: any units sent elsewhere.",
            columns=[
                ("location", "Location", "text"),
                ("received", "Received", "int"),
                ("rejected", "Rejected", "int"),
                ("rejection_rate", "Rejection rate", "percent"),
                ("timed_out", "Timed out", "int"),
                ("rerouted", "Re-routed", "int"),
                ("reroute_rate", "Re-route rate", "percent"),
            ],
            rows=[
                (
                    s.location,
                    s.fulfillment_orders,
                    s.rejected,
                    rate(s.rejected, s.fulfillment_orders),
                    s.timed_out,
                    s.rerouted,
                    rate(s.rerouted, s.fulfillment_orders),
                )
                for s in stores
            ],
            drills=[
                {
                    name: [("measure", "stores"), ("location", s.location_id), ("flag", flag)]
                    for name, flag in (
                        ("received", "all"),
                        ("rejected", "rejected"),
                        ("timed_out", "timed_out"),
                        ("rerouted", "rerouted"),
                    )
                }
                for s in stores
            ],
        ),
        table(
            key="on_time",
            title="On time against the promise",
            note="Home delivery: delivered by the promise; pickup: ready by it. Orders still "
            "open past their promise count as late.",
            columns=[
                ("dimension", "By", "text"),
                ("value", "Value", "text"),
                ("orders", "Orders judged", "int"),
                ("on_time", "On time", "int"),
                ("late", "Late", "int"),
                ("rate", "On-time rate", "percent"),
            ],
            rows=[
                (
                    p.group,
                    p.label,
                    p.orders,
                    p.on_time,
                    p.orders - p.on_time,
                    rate(p.on_time, p.orders),
                )
                for p in punctuality
            ],
            drills=[
                {"on_time": on_time_drill(p, "on_time"), "late": on_time_drill(p, "late")}
                for p in punctuality
            ],
            chart={
                "type": "bar",
                "labels": [p.label for p in punctuality if p.group != "mode"],
                "series": {
                    "on time %": [
                        round(100 * (rate(p.on_time, p.orders) or 0), 1)
                        for p in punctuality
                        if p.group != "mode"
                    ]
                },
            },
        ),
        table(
            key="late_ageing",
            title="Late orders now, by age",
            note="Open orders past their promise (the order admin's late filter), any period.",
            columns=[("bucket", "Late by", "text"), ("orders", "Orders", "int")],
            rows=list(ageing.items()),
            drills=[{"orders": [("measure", "late"), ("bucket", label)]} for label in ageing],
            chart={
                "type": "bar",
                "labels": list(ageing),
                "series": {"late orders": list(ageing.values())},
            },
        ),
        table(
            key="cancellations",
            title="Cancellations by reason",
            note=f"Of {total} orders in the period.",
            columns=[
                ("reason", "Reason", "text"),
                ("orders", "Orders", "int"),
                ("rate", "Rate", "percent"),
            ],
            rows=[(reason, count, rate(count, total)) for reason, count in reasons],
            drills=[
                {"orders": [("measure", "cancellations"), ("reason", reason)]}
                for reason, _ in reasons
            ],
        ),
    ]


def stock_tables(scope: Scope) -> list[Table]:
    outs = queries_stock.stock_outs(scope)
    variances = queries_stock.count_variances(scope)
    return [
        table(
            key="stock_outs",
            title="Stock-outs by location",
            note="Levels whose ATP reached 0 (stock.out_of_stock events) in the period.",
            columns=[
                ("location", "Location", "text"),
                ("events", "Stock-outs", "int"),
                ("products", "Products", "int"),
            ],
            rows=[(o.location, o.events, o.products) for o in outs],
        ),
        table(
            key="count_variances",
            title="Inventory accuracy (count corrections)",
            note="Count movements in the period; accuracy over the corrections whose counted "
            "quantity is known: 1 - |variance| / system quantity.",
            columns=[
                ("location", "Location", "text"),
                ("corrections", "Corrections", "int"),
                ("over", "Units over", "int"),
                ("short", "Units short", "int"),
                ("accuracy", "Accuracy", "percent"),
            ],
            rows=[
                (v.location, v.corrections, v.units_over, v.units_short, v.accuracy)
                for v in variances
            ],
        ),
    ]


def return_tables(scope: Scope) -> list[Table]:
    returned = queries_returns.return_reasons(scope)
    stores = queries_returns.pickups(scope)
    units = returned.units_fulfilled
    return [
        table(
            key="returns_by_reason",
            title="Returns by reason",
            note=f"{returned.orders_returned} of {returned.orders_fulfilled} orders with "
            f"delivered units had a return; {returned.units_returned} of {units} units came "
            "back (refused and cancelled returns left out).",
            columns=[
                ("reason", "Reason", "text"),
                ("returns", "Returns", "int"),
                ("units", "Units", "int"),
                ("rate", "Of units delivered", "percent"),
            ],
            rows=[
                (reason, count, quantity, rate(quantity, units))
                for reason, count, quantity, _ in returned.by_reason
            ],
            drills=[
                {"returns": [("measure", "returns"), ("reason", reason)]}
                for reason, *_ in returned.by_reason
            ],
        ),
        table(
            key="pickup_no_shows",
            title="Pickup no-shows by store",
            note="Fulfillment orders made ready for pickup; no-show: cancelled as not "
            "collected by the no-show sweep.",
            columns=[
                ("location", "Store", "text"),
                ("ready", "Ready", "int"),
                ("collected", "Collected", "int"),
                ("no_shows", "No-shows", "int"),
                ("rate", "No-show rate", "percent"),
                ("reminded", "Reminded", "int"),
            ],
            rows=[
                (
                    p.location,
                    p.ready,
                    p.collected,
                    p.no_shows,
                    rate(p.no_shows, p.ready),
                    p.reminded,
                )
                for p in stores
            ],
            drills=[
                {
                    name: [("measure", "pickups"), ("location", p.location_id), ("flag", flag)]
                    for name, flag in (
                        ("ready", "all"),
                        ("collected", "collected"),
                        ("no_shows", "no_show"),
                        ("reminded", "reminded"),
                    )
                }
                for p in stores
            ],
        ),
    ]
