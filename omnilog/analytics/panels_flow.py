"""Dashboard panels of the flow: lead times per stage and dimension, bottlenecks, channel
journeys (Sankey) and customers on several channels."""

from __future__ import annotations

from django.conf import settings

from omnilog.analytics import queries
from omnilog.analytics.rows import STAGE_LABELS
from omnilog.analytics.scope import Scope
from omnilog.analytics.stats import SankeyLayout, Timing, bottlenecks, rate, sankey_layout
from omnilog.analytics.tables import Table, table

# Stages a location answers for (placed -> routed is routing's, the journey the carrier's or
# the customer's).
LOCATION_STAGES = ("accepted", "picked", "packed", "shipped", "ready")


def lead_tables(scope: Scope) -> tuple[list[Table], list[queries.LeadTime]]:
    timings = queries.lead_times(scope)
    tables = []
    labels = STAGE_LABELS
    overall = [t for t in timings if t.group == "all"]
    tables.append(
        table(
            key="lead_times",
            title="Lead time per stage",
            note="Per fulfillment order; the count links to the orders, slowest first.",
            columns=[
                ("stage", "Stage", "text"),
                ("count", "Measured", "int"),
                ("p50", "p50", "hours"),
                ("p90", "p90", "hours"),
                ("mean", "Mean", "hours"),
            ],
            rows=[(labels[t.stage], t.count, t.p50, t.p90, t.mean) for t in overall],
            drills=[{"count": [("measure", "lead_time"), ("stage", t.stage)]} for t in overall],
            chart={
                "type": "bar",
                "labels": [labels[t.stage] for t in overall],
                "series": {
                    "p50 (h)": [round(t.p50 / 3600, 2) for t in overall],
                    "p90 (h)": [round(t.p90 / 3600, 2) for t in overall],
                },
            },
        )
    )
    for group, title in (
        ("channel", "channel"),
        ("mode", "delivery mode"),
        ("location", "location"),
        ("day", "day placed"),
    ):
        picked = [t for t in timings if t.group == group]
        tables.append(
            table(
                key=f"lead_times_by_{group}",
                title=f"Lead time per stage and {title}",
                columns=[
                    (group, title.capitalize(), "text"),
                    ("stage", "Stage", "text"),
                    ("count", "Measured", "int"),
                    ("p50", "p50", "hours"),
                    ("p90", "p90", "hours"),
                ],
                rows=[(t.label, labels[t.stage], t.count, t.p50, t.p90) for t in picked],
                drills=[
                    {
                        "count": [
                            ("measure", "lead_time"),
                            ("stage", t.stage),
                            ("group", group),
                            ("key", t.key),
                        ]
                    }
                    for t in picked
                ],
            )
        )
    return tables, timings


def bottleneck_tables(timings: list[queries.LeadTime]) -> list[Table]:
    minimum = int(getattr(settings, "ANALYTICS_BOTTLENECK_MIN_COUNT", 3))
    labels = STAGE_LABELS

    def as_timing(t: queries.LeadTime) -> Timing:
        return Timing(t.stage, t.group, t.key, t.label, t.count, t.p50, t.p90)

    stages = bottlenecks(
        (as_timing(t) for t in timings if t.group == "all" and t.stage != "end_to_end"),
        minimum_count=1,
        limit=20,
    )
    places = bottlenecks(
        (as_timing(t) for t in timings if t.group == "location" and t.stage in LOCATION_STAGES),
        minimum_count=minimum,
        limit=15,
    )
    return [
        table(
            key="bottleneck_stages",
            title="Bottlenecks: slowest stages",
            note="Ranked by p90.",
            columns=[
                ("rank", "#", "int"),
                ("stage", "Stage", "text"),
                ("count", "Measured", "int"),
                ("p50", "p50", "hours"),
                ("p90", "p90", "hours"),
            ],
            rows=[(i, labels[t.stage], t.count, t.p50, t.p90) for i, t in enumerate(stages, 1)],
            drills=[{"count": [("measure", "lead_time"), ("stage", t.stage)]} for t in stages],
        ),
        table(
            key="bottleneck_locations",
            title="Bottlenecks: slowest locations",
            note=f"Stages a location answers for, ranked by p90; at least {minimum} measured.",
            columns=[
                ("rank", "#", "int"),
                ("location", "Location", "text"),
                ("stage", "Stage", "text"),
                ("count", "Measured", "int"),
                ("p50", "p50", "hours"),
                ("p90", "p90", "hours"),
            ],
            rows=[
                (i, t.label, labels[t.stage], t.count, t.p50, t.p90)
                for i, t in enumerate(places, 1)
            ],
            drills=[
                {
                    "count": [
                        ("measure", "lead_time"),
                        ("stage", t.stage),
                        ("group", "location"),
                        ("key", t.key),
                    ]
                }
                for t in places
            ],
        ),
    ]


def journey_tables(scope: Scope) -> tuple[list[Table], SankeyLayout, tuple[int, int]]:
    paths = queries.journeys(scope)
    combinations = queries.channel_combinations(scope)
    active = sum(customers for _, _, customers in combinations)
    multi = [row for row in combinations if row[1] > 1]
    multi_count = sum(customers for _, _, customers in multi)
    layout = sankey_layout(
        [((channel, mode, returned), count) for _, channel, mode, returned, count in paths]
    )
    tables = [
        table(
            key="journeys",
            title="Channel journeys",
            note="Order channel → delivery mode → return channel.",
            columns=[
                ("channel", "Channel", "text"),
                ("mode", "Delivery mode", "text"),
                ("return", "Return", "text"),
                ("orders", "Orders", "int"),
            ],
            rows=[(channel, mode, returned, count) for _, channel, mode, returned, count in paths],
            drills=[
                {
                    "orders": [
                        ("measure", "journeys"),
                        ("channel", cid),
                        ("mode", mode),
                        ("return", returned),
                    ]
                }
                for cid, _, mode, returned, _ in paths
            ],
        ),
        table(
            key="multichannel",
            title="Customers on several channels",
            note=f"{multi_count} of {active} active customers ordered on more than one channel.",
            columns=[
                ("combination", "Channels", "text"),
                ("customers", "Customers", "int"),
                ("share", "Share of active", "percent"),
            ],
            rows=[(combo, customers, rate(customers, active)) for combo, _, customers in multi],
            drills=[
                {"customers": [("measure", "multichannel"), ("combination", combo)]}
                for combo, _, _ in multi
            ],
        ),
    ]
    return tables, layout, (multi_count, active)
