"""``seed_demo_flows``: demo orders played through the real services and dated in the past;
deterministic and idempotent; the dashboard then has something to show."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from omnilog.analytics.dashboard import dashboard_build, preset_period
from omnilog.analytics.scope import Scope
from orders.models import Order, OrderEvent
from tests.fulfillment.service_support import default_rule_sets
from tests.fulfillment.shipping_support import builtin_carrier

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    default_rule_sets()
    builtin_carrier()
    call_command("seed_demo", "--scale", "0.02", stdout=StringIO())


def test_flows_are_played_dated_in_the_past_and_seeded_once(demo: None) -> None:
    out = StringIO()
    call_command("seed_demo_flows", "--orders", "24", "--days", "20", stdout=out)
    assert "24 orders played" in out.getvalue()
    orders = Order.objects.filter(external_id__startswith="demo-flow-")
    assert orders.count() == 24
    now = timezone.now()
    placed = list(orders.values_list("placed_at", flat=True))
    assert all(now - timedelta(days=21) <= moment < now for moment in placed)
    statuses = set(orders.values_list("status", flat=True))
    assert {"delivered", "cancelled"} <= statuses
    # Every timeline event of a seeded order is dated in the past, after its order was placed.
    for order in orders:
        moments = OrderEvent.objects.filter(order=order).values_list("created_at", flat=True)
        assert all(order.placed_at <= moment <= now for moment in moments)
    delivered = FulfillmentOrder.objects.filter(order__in=orders, status="delivered")
    for fo in delivered:
        steps = [fo.created_at, fo.accepted_at, fo.picked_at, fo.packed_at, fo.shipped_at]
        assert None not in steps
        assert steps == sorted(steps)  # type: ignore[type-var]
    snapshot = sorted(orders.values_list("external_id", "status", "placed_at", "channel__code"))

    again = StringIO()
    call_command("seed_demo_flows", "--orders", "24", "--days", "20", stdout=again)
    assert "nothing added" in again.getvalue()
    assert sorted(orders.values_list("external_id", "status", "placed_at", "channel__code")) == (
        snapshot
    )

    start, end = preset_period("30d", now=now)
    board = dashboard_build(Scope(start=start, end=end, now=now))
    headlines = {h.label: h.display for h in board.headlines}
    assert headlines["Orders placed"] == "24"
    lead = board.table("lead_times")
    assert lead is not None
    assert {row[0].value for row in lead.rows} >= {"placed → routed", "shipped → delivered"}


def test_bad_arguments_are_refused(demo: None) -> None:
    with pytest.raises(Exception, match="--orders must be"):
        call_command("seed_demo_flows", "--orders", "0", stdout=StringIO())
    assert not Order.objects.exists()
