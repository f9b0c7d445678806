"""Exchanges through the services: a size change reserved at once, the price difference."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Reservation
from omnilog.core.errors import InsufficientStock, ValidationFailed
from omnilog.core.models import OutboxEvent
from orders.models import Order
from returns.models import Refund, ReturnRequest
from returns.services.common import Actor
from returns.services.exchanges import (
    exchange_complete,
    exchange_create,
    exchange_settlement,
)
from returns.services.inspection import InspectionInput, return_disposition, return_inspect
from returns.services.receiving import return_receive
from returns.services.replacements import ReplacementLineInput
from returns.services.requests import ReturnInput, ReturnLineInput, return_approve
from returns.services.settlement import refund_confirmation_record
from tests.returns.refunds.shop import atp, place, shipped, shop
from tests.returns.test_claim_service import world_snapshot

pytestmark = pytest.mark.django_db
D = Decimal
STAFF = Actor(name="staff:nina", source="admin")


def delivered(net, lines):
    order = place(net["web"], lines)
    shipped(order)
    return order


def store_return(net, quantity=1, reason="wrong_size", line_number=1):
    return ReturnInput(
        lines=(ReturnLineInput(line_number=line_number, quantity=quantity, reason_code=reason),),
        mode="store",
        location_id=net["store"].pk,
    )


def replacement_holds(order: Order) -> list[tuple[int, str, bool]]:
    return sorted(
        (reservation.quantity, reservation.kind, reservation.expires_at is None)
        for reservation in Reservation.objects.filter(
            reference_type="order_line",
            reference_id__in=[str(pk) for pk in order.lines.values_list("pk", flat=True)],
            status="active",
        )
    )


def test_size_change_reserves_the_other_size_at_once_and_costs_nothing():
    net = shop()
    order = delivered(net, {"SHIRT-S": 1})
    before = atp(net["SHIRT-M"], net["warehouse"])
    exchange = exchange_create(
        order_id=order.pk,
        data=store_return(net),
        replacement_lines=[ReplacementLineInput("SHIRT-M", 1)],
        actor=Actor(name="web", channel_id=net["web"].pk),
    )
    rma, replacement = exchange.return_request, exchange.replacement_order
    assert ReturnRequest.objects.get(pk=rma.pk).exchange_order_id == replacement.pk
    assert list(rma.lines.values_list("order_line__sku", "quantity_requested")) == [("SHIRT-S", 1)]
    # Same channel and customer; SHIRT-M priced like SHIRT-S (19.99 - 15 % = 16.99).
    assert (replacement.channel_id, replacement.customer_id) == (
        order.channel_id,
        order.customer_id,
    )
    assert list(replacement.lines.values_list("sku", "quantity", "total")) == [
        ("SHIRT-M", 1, D("16.99"))
    ]
    assert atp(net["SHIRT-M"], net["warehouse"]) == before - 1
    # The returned shirt pays for it: captured, the reservation has no payment deadline.
    assert replacement.payment_status == "captured"
    assert replacement_holds(replacement) == [(1, "order", True)]
    assert exchange.settlement.as_json() == {
        "returned_value": "16.99",
        "replacement_total": "16.99",
        "difference": "0.00",
        "amount_due": "0.00",
        "refund_due": "0.00",
        "currency": "EUR",
    }
    event = OutboxEvent.objects.get(topic="return.exchange_created")
    assert (event.payload["replacement_order_number"], event.payload["difference"]) == (
        replacement.number,
        "0.00",
    )


def test_dearer_replacement_leaves_the_difference_to_pay():
    net = shop()
    order = delivered(net, {"SHIRT-S": 1})
    exchange = exchange_create(
        order_id=order.pk,
        data=store_return(net, reason="changed_mind"),
        replacement_lines=[ReplacementLineInput("BAG", 1)],
        actor=STAFF,
    )
    assert (exchange.settlement.amount_due, exchange.settlement.refund_due) == (
        D("7.51"),
        D("0.00"),
    )
    replacement = exchange.replacement_order
    assert replacement.payment_status == "pending"
    assert replacement_holds(replacement) == [(1, "hold", False)]


def test_cheaper_replacement_refunds_the_difference_once_the_goods_are_back():
    net = shop()
    order = delivered(net, {"BAG": 1})
    exchange = exchange_create(
        order_id=order.pk,
        data=store_return(net, reason="changed_mind"),
        replacement_lines=[ReplacementLineInput("CAP", 1)],
        actor=STAFF,
    )
    rma = exchange.return_request
    assert exchange.settlement.refund_due == D("15.50")  # 24.50 back, 9.00 for the cap
    return_approve(return_id=rma.pk, actor=STAFF)
    return_receive(return_id=rma.pk, location_id=net["store"].pk, actor=STAFF)
    (line,) = rma.lines.all()
    return_inspect(return_id=rma.pk, lines=[InspectionInput(line.pk, "sellable")], actor=STAFF)
    return_disposition(return_id=rma.pk, actor=STAFF)
    assert exchange_settlement(return_request=ReturnRequest.objects.get(pk=rma.pk)).refund_due == (
        D("15.50")
    )
    rma = exchange_complete(return_id=rma.pk, actor=STAFF)
    refund = Refund.objects.get(return_request=rma)
    assert (rma.status, refund.amount, refund.status) == (
        "refund_requested",
        D("15.50"),
        "requested",
    )
    assert refund.breakdown["exchange"]["refund_due"] == "15.50"
    refund_confirmation_record(reference=refund.reference, is_confirmed=True, actor=STAFF)
    assert ReturnRequest.objects.get(pk=rma.pk).status == "closed"
    topics = list(
        OutboxEvent.objects.filter(topic__startswith="return.")
        .order_by("id")
        .values_list("topic", flat=True)
    )
    assert topics[-5:] == [
        "return.dispositioned",
        "return.exchanged",
        "return.refund_requested",
        "return.refunded",
        "return.closed",
    ]


def test_replacement_without_stock_writes_nothing():
    net = shop()
    order = delivered(net, {"SHIRT-S": 1})
    before = world_snapshot()
    rmas = ReturnRequest.objects.count()
    with pytest.raises(InsufficientStock) as caught:
        exchange_create(
            order_id=order.pk,
            data=store_return(net),
            replacement_lines=[ReplacementLineInput("CAP", 3)],
            actor=STAFF,
        )
    assert caught.value.details["lines"][0]["sku"] == "CAP"
    assert world_snapshot() == before
    assert ReturnRequest.objects.count() == rmas


def test_bad_exchanges_are_refused_with_field_paths():
    net = shop()
    order = delivered(net, {"SHIRT-S": 1})
    before = world_snapshot()
    with pytest.raises(ValidationFailed) as shape:
        exchange_create(
            order_id=order.pk,
            data=store_return(net),
            replacement_lines=[ReplacementLineInput("SHIRT-M", 0)],
            actor=STAFF,
        )
    assert [(e.field, e.code) for e in shape.value.field_errors] == [
        ("replacement_lines.0.quantity", "min_value")
    ]
    with pytest.raises(ValidationFailed) as over:
        exchange_create(
            order_id=order.pk,
            data=store_return(net, quantity=2),
            replacement_lines=[ReplacementLineInput("SHIRT-M", 1)],
            actor=STAFF,
        )
    assert [(e.field, e.code) for e in over.value.field_errors] == [
        ("lines.0.quantity", "too_many")
    ]
    with pytest.raises(ValidationFailed) as unknown:
        exchange_create(
            order_id=order.pk,
            data=store_return(net),
            replacement_lines=[ReplacementLineInput("NOPE", 1)],
            actor=STAFF,
        )
    assert [(e.field, e.code) for e in unknown.value.field_errors] == [
        ("replacement_lines.0.sku", "unknown_sku")
    ]
    assert world_snapshot() == before
