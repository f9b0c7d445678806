"""What-if replays on a small hand-made history: exact figures, period and channel filters,
the command's table and the admin action."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from fulfillment.models import RoutingDecision, RoutingRule, RoutingRuleSet
from fulfillment.services.routing import order_route
from fulfillment.services.whatif import routing_whatif
from omnilog.core.errors import ValidationFailed
from orders.models import Order
from tests.factories import SalesChannelFactory
from tests.fulfillment.service_support import network, place

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)


def _routed(net: dict[str, Any], lines: dict[str, int], *, day: date, promise: int | None) -> Order:
    order = place(net["web"], lines)
    today = timezone.localdate()
    address = {**order.shipping_address, "latitude": 48.8566, "longitude": 2.3522}
    Order.objects.filter(pk=order.pk).update(
        promised_date=None if promise is None else today + timedelta(days=promise),
        shipping_address=address,
    )
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is not None
    placed_at = datetime(
        day.year, day.month, day.day, 10, 0, tzinfo=timezone.get_current_timezone()
    )
    Order.objects.filter(pk=order.pk).update(placed_at=placed_at)
    return order


def _history() -> tuple[dict[str, Any], list[Order]]:
    """Delivered in Paris, where wh-1 is; wh-2 is in Lyon. Order 1: 2 SHIRT + 1 MUG (wh-1
    alone); order 2: 12 SHIRT (wh-1 8 + wh-2 4, a split, promised today: late); order 3:
    1 MUG promised in 5 days (on time), placed the next day; order 4: two days later."""
    net = network()
    net["wh2"].latitude, net["wh2"].longitude = 45.7640, 4.8357
    net["wh2"].save(update_fields=["latitude", "longitude"])
    orders = [
        _routed(net, {"SHIRT": 2, "MUG": 1}, day=DAY, promise=None),
        _routed(net, {"SHIRT": 12}, day=DAY, promise=0),
        _routed(net, {"MUG": 1}, day=DAY + timedelta(days=1), promise=5),
        _routed(net, {"MUG": 1}, day=DAY + timedelta(days=2), promise=None),
    ]
    return net, orders


def _draft() -> RoutingRuleSet:
    """One warehouse per order, never split: what cannot be served from one is backordered."""
    draft = RoutingRuleSet.objects.create(name="one-warehouse", priority=50, is_draft=True)
    RoutingRule.objects.create(
        rule_set=draft,
        position=1,
        name="one warehouse, backorder the rest",
        location_kinds=["warehouse"],
        split="none",
        on_failure="backorder",
    )
    return draft


def test_whatif_compares_the_draft_with_the_live_rules_on_the_stored_inputs() -> None:
    net, orders = _history()
    # Today's stock must not matter: the replay reads the decisions' stored candidates.
    from inventory.models import StockLevel

    StockLevel.objects.filter(location=net["wh2"]).update(safety_stock=1_000)
    draft = _draft()
    calls: list[tuple[int, int]] = []

    report = routing_whatif(
        draft_rule_set_id=draft.pk,
        since=DAY,
        until=DAY + timedelta(days=1),
        progress=lambda done, total: calls.append((done, total)),
    )

    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert (report.draft_rule_set, report.draft_version) == ("one-warehouse", 1)
    assert report.live_rule_sets == ("click-and-collect", "default")
    live, proposed = report.live, report.draft
    assert (live.orders, live.split_orders, live.locations) == (3, 1, 4)
    assert (proposed.orders, proposed.split_orders, proposed.locations) == (3, 0, 3)
    assert live.outcomes == {"routed": 3}
    assert proposed.outcomes == {"partial": 1, "routed": 2}
    assert (live.units_short, proposed.units_short) == (0, 4)
    assert (live.promised_orders, live.on_time_orders) == (2, 1)
    assert (proposed.promised_orders, proposed.on_time_orders) == (2, 1)
    assert live.on_time_share == 0.5
    assert round(live.split_rate, 4) == 0.3333
    assert proposed.split_rate == 0.0
    assert round(live.average_locations, 4) == 1.3333
    assert proposed.average_locations == 1.0
    # Order 1 costs 6.10 and order 3 5.30 on both sides (one warehouse, same plan); order 2
    # costs 47.52 split over Paris and Lyon and 22.10 from wh-1 alone (4 units short).
    assert (live.total_cost, proposed.total_cost) == (58.9156, 33.5006)
    assert (live.distances, proposed.distances) == (4, 3)
    # wh-1 is 0 km away three times, wh-2 (Lyon) 391.499 km once; the draft never uses wh-2.
    assert (live.distance_km_sum, proposed.distance_km_sum) == (391.499, 0.0)
    assert (live.average_distance_km, proposed.average_distance_km) == (97.87475, 0.0)
    assert report.changed_orders == 1
    assert report.live_replay_drift == 0
    assert report.unreadable == 0
    (difference,) = report.differences
    assert (
        difference.order_number,
        difference.live_outcome,
        difference.draft_outcome,
        difference.live_locations,
        difference.draft_locations,
        difference.draft_rule_set,
    ) == (orders[1].number, "routed", "partial", ("wh-1", "wh-2"), ("wh-1",), "one-warehouse")
    assert RoutingDecision.objects.count() == 4  # read-only


def test_whatif_period_and_channel_filters() -> None:
    net, _ = _history()
    draft = _draft()
    other = SalesChannelFactory(code="shop")

    def orders(**kwargs: Any) -> int:
        return routing_whatif(draft_rule_set_id=draft.pk, **kwargs).live.orders

    assert orders(since=DAY, until=DAY) == 2
    assert orders(since=DAY, until=DAY + timedelta(days=2)) == 4
    assert orders(since=DAY, until=DAY + timedelta(days=2), channel_id=net["web"].pk) == 4
    assert orders(since=DAY, until=DAY + timedelta(days=2), channel_id=other.pk) == 0
    with pytest.raises(ValidationFailed):
        orders(since=DAY, until=DAY - timedelta(days=1))
    with pytest.raises(ValidationFailed):
        routing_whatif(draft_rule_set_id=draft.pk, since=DAY, until=DAY, max_orders=1)


def test_first_decision_of_an_order_is_replayed() -> None:
    _, orders = _history()
    draft = _draft()
    # A later re-route of order 1 does not make it count twice.
    Order.objects.filter(pk=orders[0].pk).update(version=9)
    first = RoutingDecision.objects.filter(order=orders[0]).get()
    RoutingDecision.objects.create(
        order=orders[0],
        order_version=9,
        trigger="manual",
        outcome="parked",
        demand=first.demand,
        candidates=first.candidates,
    )
    report = routing_whatif(draft_rule_set_id=draft.pk, since=DAY, until=DAY)
    assert report.live.orders == 2


def test_command_prints_the_comparison_table() -> None:
    _history()
    _draft()
    out = StringIO()

    call_command(
        "routing_whatif",
        "--draft",
        "one-warehouse",
        "--since",
        "2026-03-02",
        "--until",
        "2026-03-03",
        "--channel",
        "web",
        stdout=out,
    )

    text = out.getvalue()
    assert text.startswith(
        "What-if: draft one-warehouse v1 vs live (click-and-collect, default), orders placed "
        "2026-03-02 .. 2026-03-03, web\n"
    )
    assert "split rate              33.3 %   0.0 %  -33.3 pt\n" in text
    assert "distance per shipment  97.9 km  0.0 km     -97.9\n" in text
    assert "total cost               58.92   33.50    -25.41\n" in text
    assert "on-time promise         50.0 %  50.0 %   +0.0 pt\n" in text
    assert "orders whose plan changed: 1\n" in text


def test_admin_action_runs_the_whatif_for_a_draft(admin_client: Client) -> None:
    _history()
    draft = _draft()
    url = "/admin/fulfillment/routingruleset/"

    form_page = admin_client.post(url, {"action": "whatif", "_selected_action": [draft.pk]})
    assert form_page.status_code == 200
    assert b"Run what-if" in form_page.content

    result = admin_client.post(
        url,
        {
            "action": "whatif",
            "_selected_action": [draft.pk],
            "confirm": "yes",
            "since": "2026-03-02",
            "until": "2026-03-03",
            "channel": "",
        },
    )
    assert result.status_code == 200
    html = result.content.decode()
    assert "<tr><td>split rate</td><td>33.3 %</td><td>0.0 %</td><td>-33.3 pt</td></tr>" in html
    assert "<tr><td>units short</td><td>0</td><td>4</td><td>+4</td></tr>" in html


def test_admin_action_refuses_a_live_rule_set(admin_client: Client) -> None:
    network()
    live = RoutingRuleSet.objects.get(name="default")
    response = admin_client.post(
        "/admin/fulfillment/routingruleset/",
        {"action": "whatif", "_selected_action": [live.pk]},
        follow=True,
    )
    assert b"Select exactly one draft rule set." in response.content
