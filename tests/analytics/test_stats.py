"""The pure statistics core: percentiles as PostgreSQL computes them, rates, buckets, funnel,
bottleneck ranking and the Sankey layout (no database)."""

from __future__ import annotations

import pytest

from omnilog.analytics.stats import (
    Timing,
    ageing_bucket,
    bottlenecks,
    frequency_bucket,
    funnel,
    percentile,
    rate,
    sankey_layout,
)


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert percentile([10, 20, 30, 40, 50], 0.9) == pytest.approx(46.0)
    assert percentile([1, 2], 0) == 1
    assert percentile([1, 2], 1) == 2
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile([1], 1.5)


def test_rates_and_buckets() -> None:
    assert rate(1, 4) == 0.25
    assert rate(0, 0) is None
    assert [ageing_bucket(h) for h in (0, 23.9, 24, 47.9, 95, 100, 168, 1000)] == [
        "< 1 day",
        "< 1 day",
        "1-2 days",
        "1-2 days",
        "2-4 days",
        "4-7 days",
        "> 7 days",
        "> 7 days",
    ]
    assert [frequency_bucket(n) for n in (1, 2, 3, 4, 5, 40)] == [
        "1 order",
        "2 orders",
        "3-4 orders",
        "3-4 orders",
        "5+ orders",
        "5+ orders",
    ]


def test_funnel_and_bottlenecks() -> None:
    steps = funnel([("routed", 10), ("accepted", 8), ("picked", 6)])
    assert [(s.count, s.from_previous, s.from_first) for s in steps] == [
        (10, None, 1.0),
        (8, 0.8, 0.8),
        (6, 0.75, 0.6),
    ]
    timings = [
        Timing("picked", "location", "2", "b", 5, 10, 50),
        Timing("picked", "location", "1", "a", 5, 20, 50),
        Timing("packed", "location", "1", "a", 2, 99, 99),
    ]
    assert [(t.label, t.p50) for t in bottlenecks(timings, minimum_count=3, limit=5)] == [
        ("a", 20),
        ("b", 10),
    ]


def test_sankey_layout_is_proportional_and_does_not_cross_inside_nodes() -> None:
    layout = sankey_layout(
        [
            (("web", "home", "none"), 6),
            (("app", "home", "store"), 2),
            (("web", "pickup", "none"), 2),
        ],
        width=300,
        height=100,
        node_width=10,
        gap=10,
    )
    nodes = {(n.column, n.label): n for n in layout.nodes}
    # Densest column has 2 nodes: (100 - 10) / 10 units = 9 px per order.
    assert nodes[(0, "web")].height == pytest.approx(72)
    assert nodes[(0, "app")].y == pytest.approx(82)
    assert nodes[(2, "none")].x == pytest.approx(290)
    bands = [(link.source, link.target, link.value) for link in layout.links]
    assert bands == [
        ("web", "home", 6),
        ("web", "pickup", 2),
        ("app", "home", 2),
        ("home", "none", 6),
        ("home", "store", 2),
        ("pickup", "none", 2),
    ]
    web_home, web_pickup = layout.links[0], layout.links[1]
    assert web_pickup.source_y == pytest.approx(web_home.source_y + web_home.thickness)
    assert sankey_layout([]).nodes == ()
    with pytest.raises(ValueError, match="same number"):
        sankey_layout([(("a", "b"), 1), (("a",), 1)])
