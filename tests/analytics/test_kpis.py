"""Every order, service, journey and stock KPI on one hand-made month (1-10 March 2026, now
10 March 12:00), with its known answer and the orders its drill-down lists.

- A web/ann home 2 Mar, 2 units 100.00, promised 5 Mar 18:00, delivered 4 Mar 16:00 (on time).
- B web/bob home 3 Mar, 50.00, promised 5 Mar 18:00, delivered 6 Mar 22:00 (late).
- C app/ann click-and-collect at st 4 Mar, 30.00, promised 4 Mar 18:00, ready 14:00, collected.
- D app/cat express 5 Mar, 2 units 60.00 (1 shipped, 1 cancelled) + 1 unit 20.00, shipped from
  wh and st (split), promised 6 Mar 18:00, not delivered: late by 90 h.
- E web/cat 6 Mar, 40.00, refused by st ("damaged"), then cancelled ("customer changed mind").
- F web/ann 7 Mar, 20.00, st missed its acceptance SLA, accepted at wh, promised 8 Mar 18:00:
  late by 42 h.
- G web/bob 8 Mar, 10.00, cancelled ("payment failed"), never routed.
- H web/bob 20 Feb (outside the period), routed, promised 22 Feb: late by more than 7 days.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inventory.services import stock_count, stock_receive
from omnilog.analytics import queries, queries_stock
from omnilog.analytics.dashboard import dashboard_build
from omnilog.analytics.drill import drill_orders
from omnilog.core.models import OutboxEvent
from tests.analytics.support import at, cancelled_event, fulfillment, order, scope, world

pytestmark = pytest.mark.django_db


def month() -> dict[str, Any]:
    net = world()
    a = order(
        net, placed=at(2, 10), status="delivered", lines=[(2, "100.00", 2, 0)], promised=at(5, 18)
    )
    fulfillment(
        net, a, "wh", status="delivered", routed=at(2, 11), shipped=at(2, 16), delivered=at(4, 16)
    )
    b = order(
        net,
        customer="bob",
        placed=at(3, 10),
        status="delivered",
        lines=[(1, "50.00", 1, 0)],
        promised=at(5, 18),
    )
    fulfillment(
        net, b, "wh", status="delivered", routed=at(3, 11), shipped=at(3, 22), delivered=at(6, 22)
    )
    c = order(
        net,
        channel="app",
        placed=at(4, 9),
        status="collected",
        mode="click_and_collect",
        pickup="st",
        lines=[(1, "30.00", 1, 0)],
        promised=at(4, 18),
    )
    fulfillment(
        net, c, "st", status="collected", routed=at(4, 10), ready=at(4, 14), collected=at(5, 14)
    )
    d = order(
        net,
        channel="app",
        customer="cat",
        placed=at(5, 9),
        status="shipped",
        mode="home_express",
        lines=[(2, "60.00", 1, 1), (1, "20.00", 1, 0)],
        promised=at(6, 18),
    )
    fulfillment(net, d, "wh", status="shipped", routed=at(5, 10), shipped=at(5, 15))
    fulfillment(net, d, "st", status="shipped", routed=at(5, 10), shipped=at(5, 16))
    e = order(net, customer="cat", placed=at(6, 9), status="cancelled", lines=[(1, "40.00", 0, 1)])
    fulfillment(net, e, "st", status="rejected", routed=at(6, 10), rejected=[(1, "damaged")])
    fulfillment(
        net,
        e,
        "wh",
        status="cancelled",
        routed=at(6, 12),
        rejected=[(1, "order cancelled: customer changed mind")],
    )
    cancelled_event(e, "customer changed mind")
    f = order(
        net,
        placed=at(7, 9),
        status="in_fulfillment",
        lines=[(1, "20.00", 0, 0)],
        promised=at(8, 18),
    )
    fulfillment(net, f, "st", status="cancelled", routed=at(7, 10), rejected=[(1, "sla_timeout")])
    fulfillment(net, f, "wh", status="accepted", routed=at(7, 14), accepted=at(7, 15))
    g = order(net, customer="bob", placed=at(8, 9), status="cancelled", lines=[(1, "10.00", 0, 1)])
    cancelled_event(g, "payment failed")
    h = order(net, customer="bob", placed=at(1, -216), status="routed", promised=at(1, -168))
    fulfillment(net, h, "wh", routed=at(1, -215))
    return {**net, "A": a, "B": b, "C": c, "D": d, "E": e, "F": f, "G": g, "H": h}


def ids(net: dict[str, Any], names: str) -> list[int]:
    return [net[name].pk for name in names]


def drilled(measure: str, **params: Any) -> list[int]:
    found = drill_orders(
        scope=scope(), measure=measure, params={k: str(v) for k, v in params.items()}
    )
    return [item.order_id for item in found]


def test_orders_by_channel_and_status() -> None:
    net = month()
    assert [
        (r.channel, r.status, r.orders, r.value) for r in queries.orders_by_channel_status(scope())
    ] == [
        ("app", "collected", 1, Decimal("30.00")),
        ("app", "shipped", 1, Decimal("80.00")),
        ("web", "cancelled", 2, Decimal("50.00")),
        ("web", "delivered", 2, Decimal("150.00")),
        ("web", "in_fulfillment", 1, Decimal("20.00")),
    ]
    assert drilled("orders", channel=net["web"].pk, status="cancelled") == ids(net, "EG")


def test_average_basket_and_purchase_frequency() -> None:
    net = month()
    assert [
        (b.channel, b.orders, b.value, b.average_value, b.average_units)
        for b in queries.baskets(scope())
    ] == [
        ("app", 2, Decimal("110.00"), Decimal("55.00"), Decimal("2.00")),
        ("web", 3, Decimal("170.00"), Decimal("56.67"), Decimal("1.33")),
        ("all", 5, Decimal("280.00"), Decimal("56.00"), Decimal("1.60")),
    ]
    assert drilled("basket", channel=net["app"].pk) == ids(net, "CD")
    # ann: A, C, F; bob: B (G cancelled); cat: D (E cancelled).
    assert queries.customer_order_counts(scope()) == [(1, 2), (3, 1)]
    board = dashboard_build(scope())
    frequency = board.table("purchase_frequency")
    assert frequency is not None
    assert [(r[0].value, r[1].value, r[2].value) for r in frequency.rows] == [
        ("1 order", 2, 2),
        ("2 orders", 0, 0),
        ("3-4 orders", 1, 3),
        ("5+ orders", 0, 0),
    ]
    assert drilled("frequency", bucket="3-4 orders") == ids(net, "ACF")
    assert drilled("frequency", bucket="1 order") == ids(net, "BD")


def test_fill_rate_by_lines_units_and_value() -> None:
    net = month()
    assert [
        (f.channel, f.lines, f.lines_filled, f.units, f.units_filled, f.value, f.value_filled)
        for f in queries.fill_rates(scope())
    ] == [
        ("app", 3, 2, 4, 3, Decimal("110.00"), Decimal("80.00")),
        ("web", 2, 2, 3, 3, Decimal("150.00"), Decimal("150.00")),
        ("all", 5, 4, 7, 6, Decimal("260.00"), Decimal("230.00")),
    ]
    assert drilled("fill_rate") == ids(net, "D")


def test_split_rate_and_rerouting_by_location() -> None:
    net = month()
    assert [(s.channel, s.orders, s.split_orders) for s in queries.splits(scope())] == [
        ("app", 2, 1),
        ("web", 3, 0),
        ("all", 5, 1),
    ]
    assert drilled("split") == ids(net, "D")
    assert [
        (s.location, s.fulfillment_orders, s.rejected, s.timed_out, s.rerouted)
        for s in queries.store_reliability(scope())
    ] == [("st", 4, 1, 1, 2), ("wh", 5, 0, 0, 0)]
    store = net["st"].pk
    assert drilled("stores", location=store, flag="rejected") == ids(net, "E")
    assert drilled("stores", location=store, flag="timed_out") == ids(net, "F")
    assert drilled("stores", location=store, flag="rerouted") == ids(net, "EF")
    assert drilled("stores", location=store) == ids(net, "CDEF")


def test_on_time_against_the_promise_and_late_ageing() -> None:
    net = month()
    assert [(o.group, o.label, o.orders, o.on_time) for o in queries.on_time(scope())] == [
        ("all", "all", 5, 2),
        ("channel", "app", 2, 1),
        ("channel", "web", 3, 1),
        ("mode", "click_and_collect", 1, 1),
        ("mode", "home_express", 1, 0),
        ("mode", "home_standard", 3, 1),
    ]
    assert drilled("on_time") == ids(net, "BDF")
    assert drilled("on_time", group="mode", mode="home_standard", flag="on_time") == ids(net, "A")
    assert drilled("on_time", group="channel", channel=net["app"].pk) == ids(net, "D")
    assert queries_stock.late_order_buckets(scope()) == {
        net["D"].pk: "2-4 days",
        net["F"].pk: "1-2 days",
        net["H"].pk: "> 7 days",
    }
    assert drilled("late", bucket="> 7 days") == ids(net, "H")
    assert queries_stock.late_order_buckets(scope(channel_id=net["app"].pk)) == {
        net["D"].pk: "2-4 days"
    }


def test_cancellations_by_reason() -> None:
    net = month()
    assert queries.cancellations(scope()) == (
        7,
        [("customer changed mind", 1), ("payment failed", 1)],
    )
    assert drilled("cancellations", reason="payment failed") == ids(net, "G")
    assert queries.cancellations(scope(start=at(9))) == (0, [])


def test_channel_journeys_and_customers_on_several_channels() -> None:
    net = month()
    web, app = net["web"].pk, net["app"].pk
    assert queries.journeys(scope()) == [
        (web, "web", "home_standard", "no return", 5),
        (app, "app", "click_and_collect", "no return", 1),
        (app, "app", "home_express", "no return", 1),
    ]
    assert drilled("journeys", channel=app, mode="home_express") == ids(net, "D")
    # ann (web + app) and cat (app + web) ordered on two channels; bob only on web.
    assert queries.channel_combinations(scope()) == [("app + web", 2, 2), ("web", 1, 1)]
    assert drilled("multichannel", combination="app + web") == ids(net, "ACDEF")
    assert drilled("multichannel") == ids(net, "ACDEF")
    board = dashboard_build(scope())
    assert [(n.column, n.label, n.value) for n in board.sankey.nodes] == [
        (0, "web", 5),
        (0, "app", 2),
        (1, "home_standard", 5),
        (1, "click_and_collect", 1),
        (1, "home_express", 1),
        (2, "no return", 7),
    ]
    headlines = {h.label: h.display for h in board.headlines}
    assert headlines["Multichannel customers"] == "66.7 %"
    assert headlines["Orders placed"] == "7"
    assert headlines["Late now"] == "3"
    assert headlines["On time"] == "40.0 %"
    assert headlines["Split rate"] == "20.0 %"
    assert headlines["Cancelled"] == "28.6 %"


def test_stock_outs_and_count_accuracy() -> None:
    net = month()
    product = net["product"]
    for location, day in (("wh", 3), ("wh", 4), ("st", 5), ("wh", 20)):
        event = OutboxEvent.objects.create(
            topic="stock.out_of_stock",
            aggregate_type="stock_level",
            aggregate_id="1",
            payload={"product_id": product.pk, "location_id": net[location].pk, "atp": 0},
        )
        OutboxEvent.objects.filter(pk=event.pk).update(occurred_at=at(day, 12))
    assert [(o.location, o.events, o.products) for o in queries_stock.stock_outs(scope())] == [
        ("wh", 2, 1),
        ("st", 1, 1),
    ]
    warehouse = net["wh"].pk
    stock_receive(product_id=product.pk, location_id=warehouse, quantity=10)
    stock_count(product_id=product.pk, location_id=warehouse, counted=8, occurred_at=at(3, 9))
    stock_count(product_id=product.pk, location_id=warehouse, counted=9, occurred_at=at(4, 9))
    stock_count(product_id=product.pk, location_id=warehouse, counted=9, occurred_at=at(5, 9))
    (variance,) = queries_stock.count_variances(scope())
    assert (variance.location, variance.corrections, variance.units_over) == ("wh", 2, 1)
    assert (variance.units_short, variance.system_units, variance.absolute_variance) == (2, 18, 3)
    assert variance.accuracy == pytest.approx(1 - 3 / 18)
    assert queries_stock.count_variances(scope(location_id=net["st"].pk)) == []
