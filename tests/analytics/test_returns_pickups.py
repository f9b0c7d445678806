"""Returns (lead times requested -> received -> refunded, rates by reason, the return leg of
the channel journeys) and pickup no-shows, on hand-made rows with known answers.

- R1: order A (web, 2 units delivered) returns 1 unit "wrong_size" at the store st: requested
  5 Mar 10:00, received 6 Mar 10:00 (24 h), refund confirmed 6 Mar 16:00 (6 h).
- R2: order B (web, 1 unit) returns it "defective" by carrier: requested 7 Mar 09:00, received
  9 Mar 09:00 (48 h), not refunded yet.
- R3: order B's earlier request, refused: never counted.
- P1: order C (app, click-and-collect at st) ready 4 Mar 14:00, collected.
- P2: order D (app, click-and-collect at st) ready 4 Mar 15:00, reminded, then cancelled by
  the no-show sweep.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fulfillment.models import FulfillmentOrder
from omnilog.analytics import queries, queries_returns
from omnilog.analytics.dashboard import dashboard_build
from omnilog.analytics.drill import drill_orders
from orders.models import OrderEvent
from returns.models import Refund, ReturnLine, ReturnRequest
from tests.analytics.support import at, fulfillment, order, scope, world

pytestmark = pytest.mark.django_db


def returned(
    net: dict[str, Any],
    placed_order: Any,
    *,
    number: str,
    mode: str,
    reason: str,
    units: int,
    requested: Any,
    status: str = "requested",
    received: Any = None,
    refunded: Any = None,
) -> ReturnRequest:
    request = ReturnRequest.objects.create(
        number=number,
        order=placed_order,
        customer=placed_order.customer,
        mode=mode,
        status=status,
        refusal_reason="not eligible" if status == "refused" else "",
        received_location=net["st"] if received else None,
        received_at=received,
    )
    ReturnRequest.objects.filter(pk=request.pk).update(created_at=requested)
    ReturnLine.objects.create(
        return_request=request,
        order_line=placed_order.lines.get(),
        product=net["product"],
        quantity_requested=units,
        quantity_approved=units,
        reason_code=reason,
    )
    if refunded:
        Refund.objects.create(
            reference=f"RF-{number}",
            return_request=request,
            order=placed_order,
            amount=Decimal("10.00"),
            currency="EUR",
            status="confirmed",
            requested_at=received,
            confirmed_at=refunded,
        )
    return request


def data() -> dict[str, Any]:
    net = world()
    a = order(net, placed=at(2, 10), status="delivered", lines=[(2, "100.00", 2, 0)])
    fulfillment(net, a, "wh", status="delivered", routed=at(2, 11))
    b = order(net, customer="bob", placed=at(3, 10), status="delivered", lines=[(1, "50.00", 1, 0)])
    fulfillment(net, b, "wh", status="delivered", routed=at(3, 11))
    returned(
        net,
        a,
        number="R1",
        mode="store",
        reason="wrong_size",
        units=1,
        requested=at(5, 10),
        status="refunded",
        received=at(6, 10),
        refunded=at(6, 16),
    )
    returned(
        net,
        b,
        number="R3",
        mode="carrier_pickup",
        reason="changed_mind",
        units=1,
        requested=at(6, 9),
        status="refused",
    )
    returned(
        net,
        b,
        number="R2",
        mode="carrier_pickup",
        reason="defective",
        units=1,
        requested=at(7, 9),
        status="received",
        received=at(9, 9),
    )
    c = order(
        net,
        channel="app",
        placed=at(4, 9),
        status="collected",
        mode="click_and_collect",
        pickup="st",
        lines=[(1, "30.00", 1, 0)],
    )
    fulfillment(
        net, c, "st", status="collected", routed=at(4, 10), ready=at(4, 14), collected=at(5, 14)
    )
    d = order(
        net,
        channel="app",
        customer="cat",
        placed=at(4, 9),
        status="cancelled",
        mode="click_and_collect",
        pickup="st",
        lines=[(1, "30.00", 0, 1)],
    )
    no_show = fulfillment(net, d, "st", status="cancelled", routed=at(4, 10), ready=at(4, 15))
    OrderEvent.objects.create(order=d, kind="pickup", details={"no_show": "reminder"})
    OrderEvent.objects.create(
        order=d,
        kind="cancelled",
        to_status="cancelled",
        message="Cancelled: not collected within 7 days",
        details={"fulfillment_order_id": no_show.pk, "no_show": "cancel"},
    )
    return {**net, "A": a, "B": b, "C": c, "D": d}


def test_return_lead_times_per_stage_mode_and_location() -> None:
    net = data()
    timings = {
        (t.stage, t.group, t.label): (t.count, t.p50 / 3600) for t in queries.lead_times(scope())
    }
    assert timings[("return_received", "all", "all")] == (2, 36.0)
    assert timings[("return_refunded", "all", "all")] == (1, 6.0)
    assert timings[("return_received", "mode", "carrier_pickup")] == (1, 48.0)
    assert timings[("return_received", "location", "st")] == (2, 36.0)
    found = drill_orders(scope=scope(), measure="lead_time", params={"stage": "return_received"})
    assert [(item.order_id, item.note) for item in found] == [
        (net["B"].pk, "48.00 h"),
        (net["A"].pk, "24.00 h"),
    ]


def test_return_rates_by_reason() -> None:
    net = data()
    reasons = queries_returns.return_reasons(scope())
    # Delivered: A 2 units, B 1, C 1 (D's unit was never collected).
    assert (reasons.orders_fulfilled, reasons.units_fulfilled) == (3, 4)
    assert (reasons.orders_returned, reasons.units_returned) == (2, 2)
    assert reasons.by_reason == (("defective", 1, 1, 1), ("wrong_size", 1, 1, 1))
    found = drill_orders(scope=scope(), measure="returns", params={"reason": "wrong_size"})
    assert [item.order_id for item in found] == [net["A"].pk]
    board = dashboard_build(scope())
    headlines = {h.label: h.display for h in board.headlines}
    assert headlines["Units returned"] == "50.0 %"


def test_journeys_end_with_the_return_mode() -> None:
    net = data()
    web, app = net["web"].pk, net["app"].pk
    assert queries.journeys(scope()) == [
        (app, "app", "click_and_collect", "no return", 2),
        (web, "web", "home_standard", "return: carrier_pickup", 1),
        (web, "web", "home_standard", "return: store", 1),
    ]
    found = drill_orders(scope=scope(), measure="journeys", params={"return": "return: store"})
    assert [item.order_id for item in found] == [net["A"].pk]


def test_pickup_no_shows_per_store() -> None:
    net = data()
    (store,) = queries_returns.pickups(scope())
    assert (store.location, store.ready, store.collected, store.no_shows, store.reminded) == (
        "st",
        2,
        1,
        1,
        1,
    )
    found = drill_orders(scope=scope(), measure="pickups", params={"location": str(net["st"].pk)})
    assert [item.order_id for item in found] == [net["D"].pk]
    board = dashboard_build(scope())
    assert {h.label: h.display for h in board.headlines}["Pickup no-shows"] == "50.0 %"
    assert FulfillmentOrder.objects.filter(order=net["D"]).count() == 1
