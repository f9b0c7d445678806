"""Lead times per stage (p50/p90 per channel, mode, location, day), bottlenecks, the funnel,
and their drill-downs, on four hand-made orders.

- O1 web/ann, home, 2 Mar 10:00, at wh: routed +1 h, accepted +2 h, picked +1 h, packed +1 h,
  shipped +1 h, delivered +48 h (end to end 54 h).
- O2 web/bob, home, 3 Mar 10:00, at wh: +3, +4, +2, +1, +2, delivered +72 h (84 h).
- O3 app/ann, click-and-collect, 4 Mar 09:00, at st: +1, +1, +1, +1, ready +1, collected +24 h
  (29 h).
- O4 app/cat, home, 5 Mar 09:00, at wh: routed +0.5 h, accepted +6 h, nothing since.
"""

from __future__ import annotations

from typing import Any

import pytest

from omnilog.analytics.dashboard import dashboard_build
from omnilog.analytics.drill import drill_orders
from omnilog.analytics.queries import lead_times, stage_funnel
from omnilog.analytics.stats import percentile
from omnilog.core.errors import ValidationFailed
from tests.analytics.support import at, fulfillment, order, scope, world

pytestmark = pytest.mark.django_db


def flows() -> dict[str, Any]:
    net = world()
    o1 = order(net, placed=at(2, 10), status="delivered")
    fulfillment(
        net,
        o1,
        "wh",
        status="delivered",
        routed=at(2, 11),
        accepted=at(2, 13),
        picked=at(2, 14),
        packed=at(2, 15),
        shipped=at(2, 16),
        delivered=at(4, 16),
    )
    o2 = order(net, customer="bob", placed=at(3, 10), status="delivered")
    fulfillment(
        net,
        o2,
        "wh",
        status="delivered",
        routed=at(3, 13),
        accepted=at(3, 17),
        picked=at(3, 19),
        packed=at(3, 20),
        shipped=at(3, 22),
        delivered=at(6, 22),
    )
    o3 = order(
        net,
        channel="app",
        placed=at(4, 9),
        status="collected",
        mode="click_and_collect",
        pickup="st",
    )
    fulfillment(
        net,
        o3,
        "st",
        status="collected",
        routed=at(4, 10),
        accepted=at(4, 11),
        picked=at(4, 12),
        packed=at(4, 13),
        ready=at(4, 14),
        collected=at(5, 14),
    )
    o4 = order(net, channel="app", customer="cat", placed=at(5, 9), status="in_fulfillment")
    fulfillment(net, o4, "wh", status="accepted", routed=at(5, 9.5), accepted=at(5, 15.5))
    # Outside the period: never counted.
    old = order(net, placed=at(1, -48), status="delivered")
    fulfillment(net, old, "wh", status="accepted", routed=at(1, -47), accepted=at(1, -1))
    return {**net, "o1": o1, "o2": o2, "o3": o3, "o4": o4}


def figures(rows: list[Any], group: str) -> dict[tuple[str, str], tuple[int, float, float]]:
    """(stage, label) -> (count, p50 h, p90 h)."""
    return {
        (t.stage, t.label): (t.count, round(t.p50 / 3600, 4), round(t.p90 / 3600, 4))
        for t in rows
        if t.group == group
    }


def test_every_stage_overall() -> None:
    flows()
    assert figures(lead_times(scope()), "all") == {
        ("routed", "all"): (4, 1.0, 2.4),
        ("accepted", "all"): (4, 3.0, 5.4),
        ("picked", "all"): (3, 1.0, 1.8),
        ("packed", "all"): (3, 1.0, 1.0),
        ("shipped", "all"): (2, 1.5, 1.9),
        ("ready", "all"): (1, 1.0, 1.0),
        ("delivered", "all"): (2, 60.0, 69.6),
        ("collected", "all"): (1, 24.0, 24.0),
        ("end_to_end", "all"): (3, 54.0, 78.0),
    }
    # PostgreSQL's percentile_cont is stats.percentile.
    assert percentile([29, 54, 84], 0.9) == pytest.approx(78.0)
    assert percentile([1, 2, 4, 6], 0.5) == 3.0


def test_per_channel_mode_location_and_day() -> None:
    net = flows()
    rows = lead_times(scope())
    assert {k: v for k, v in figures(rows, "channel").items() if k[0] == "routed"} == {
        ("routed", "app"): (2, 0.75, 0.95),
        ("routed", "web"): (2, 2.0, 2.8),
    }
    assert {k: v for k, v in figures(rows, "mode").items() if k[0] == "accepted"} == {
        ("accepted", "click_and_collect"): (1, 1.0, 1.0),
        ("accepted", "home_standard"): (3, 4.0, 5.6),
    }
    assert {k: v for k, v in figures(rows, "location").items() if k[0] == "accepted"} == {
        ("accepted", "st"): (1, 1.0, 1.0),
        ("accepted", "wh"): (3, 4.0, 5.6),
    }
    days = {k[1]: v for k, v in figures(rows, "day").items() if k[0] == "routed"}
    assert days == {
        "2026-03-02": (1, 1.0, 1.0),
        "2026-03-03": (1, 3.0, 3.0),
        "2026-03-04": (1, 1.0, 1.0),
        "2026-03-05": (1, 0.5, 0.5),
    }
    keys = {(t.group, t.label): t.key for t in rows if t.stage == "routed"}
    assert keys[("location", "st")] == str(net["st"].pk)
    assert keys[("channel", "web")] == str(net["web"].pk)


def test_filters_restrict_to_a_channel_or_a_location() -> None:
    net = flows()
    by_channel = figures(lead_times(scope(channel_id=net["app"].pk)), "all")
    assert by_channel[("accepted", "all")] == (2, 3.5, 5.5)
    by_location = figures(lead_times(scope(location_id=net["st"].pk)), "all")
    assert set(by_location) == {
        ("routed", "all"),
        ("accepted", "all"),
        ("picked", "all"),
        ("packed", "all"),
        ("ready", "all"),
        ("collected", "all"),
        ("end_to_end", "all"),
    }
    assert by_location[("end_to_end", "all")] == (1, 29.0, 29.0)
    # A later period sees only O4.
    assert figures(lead_times(scope(start=at(5))), "all") == {
        ("routed", "all"): (1, 0.5, 0.5),
        ("accepted", "all"): (1, 6.0, 6.0),
    }


def test_drill_down_lists_the_orders_behind_a_figure_slowest_first() -> None:
    net = flows()
    drilled = drill_orders(scope=scope(), measure="lead_time", params={"stage": "accepted"})
    assert [d.order_id for d in drilled] == [net[o].pk for o in ("o4", "o2", "o1", "o3")]
    assert [d.note for d in drilled] == ["6.00 h", "4.00 h", "2.00 h", "1.00 h"]
    at_store = drill_orders(
        scope=scope(),
        measure="lead_time",
        params={"stage": "accepted", "group": "location", "key": str(net["st"].pk)},
    )
    assert [d.order_id for d in at_store] == [net["o3"].pk]
    on_day = drill_orders(
        scope=scope(),
        measure="lead_time",
        params={"stage": "routed", "group": "day", "key": "2026-03-03"},
    )
    assert [d.order_id for d in on_day] == [net["o2"].pk]
    # Every figure's count is the number of orders its drill-down lists (one FO per order).
    for timing in lead_times(scope()):
        params = {"stage": timing.stage, "group": timing.group, "key": timing.key}
        assert len(drill_orders(scope=scope(), measure="lead_time", params=params)) == timing.count


def test_bad_drill_parameters_are_field_errors() -> None:
    flows()
    with pytest.raises(ValidationFailed) as caught:
        drill_orders(
            scope=scope(),
            measure="lead_time",
            params={"stage": "teleported", "group": "location", "key": "x"},
        )
    assert [(e.field, e.code) for e in caught.value.field_errors] == [
        ("stage", "invalid"),
        ("key", "invalid"),
    ]
    with pytest.raises(ValidationFailed) as unknown:
        drill_orders(scope=scope(), measure="vibes", params={})
    assert unknown.value.field_errors[0].field == "measure"


def test_bottlenecks_and_funnel() -> None:
    flows()
    assert stage_funnel(scope()) == [
        ("routed", 4),
        ("accepted", 4),
        ("picked", 3),
        ("packed", 3),
        ("shipped / ready", 3),
        ("delivered / collected", 3),
    ]
    board = dashboard_build(scope())
    stages = board.table("bottleneck_stages")
    assert stages is not None
    assert [row[1].value for row in stages.rows][:3] == [
        "shipped → delivered",
        "ready → collected",
        "routed → accepted",
    ]
    places = board.table("bottleneck_locations")
    assert places is not None
    # Only wh measured "accepted" 3 times (the minimum); st measured everything once.
    assert [(row[1].value, row[2].value, row[3].value) for row in places.rows] == [
        ("wh", "routed → accepted", 3)
    ]


def test_an_empty_period_builds_an_empty_dashboard() -> None:
    board = dashboard_build(scope())
    headlines = {h.label: h.display for h in board.headlines}
    assert headlines["Orders placed"] == "0"
    assert headlines["On time"] == "-"
    fills = board.table("fill_rates")
    assert fills is not None
    assert [[c.display for c in row] for row in fills.rows] == [
        ["all", "0", "-", "-", "-", "orders"]
    ]
    assert board.sankey.nodes == ()
