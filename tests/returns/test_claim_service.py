"""Claims through the services: a lost parcel reshipped or refunded, bad input refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inventory.models import Reservation, StockLevel, StockMovement
from omnilog.core.errors import Conflict, InsufficientStock, NotFound, ValidationFailed
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent, OrderLine
from returns.models import Claim, ClaimLine, Refund
from returns.selectors import order_returnable
from returns.services.claims import (
    ClaimInput,
    ClaimLineInput,
    claim_open,
    claim_refund_request,
    claim_refund_settle,
    claim_refuse,
    claim_resolve,
)
from returns.services.common import Actor
from tests.returns.refunds.shop import atp, place, shipped, shop

pytestmark = pytest.mark.django_db
D = Decimal
STAFF = Actor(name="staff:nina", source="admin")


def lost(net, lines=None, **fields):
    order = place(net["web"], lines or {"SHIRT-S": 2, "BAG": 1}, coupons=("SAVE5",))
    shipment = shipped(order, delivered=False)
    return order, shipment


def claim_topics(order: Order) -> list[str]:
    return list(
        OutboxEvent.objects.filter(
            aggregate_type="order", aggregate_id=str(order.pk), topic__startswith="claim."
        )
        .order_by("id")
        .values_list("topic", flat=True)
    )


def world_snapshot() -> dict[str, Any]:
    return {
        "orders": list(Order.objects.order_by("id").values()),
        "lines": list(OrderLine.objects.order_by("id").values()),
        "events": OrderEvent.objects.count(),
        "claims": list(Claim.objects.order_by("id").values()),
        "claim_lines": ClaimLine.objects.count(),
        "refunds": list(Refund.objects.order_by("id").values()),
        "reservations": list(Reservation.objects.order_by("id").values()),
        "levels": list(StockLevel.objects.order_by("id").values()),
        "movements": StockMovement.objects.count(),
        "outbox": OutboxEvent.objects.count(),
    }


def test_lost_parcel_reshipped_free_and_reserved_at_once():
    net = shop()
    order, shipment = lost(net)
    shirt_atp, shirt_on_hand = (
        atp(net["SHIRT-S"], net["warehouse"]),
        StockLevel.objects.get(product=net["SHIRT-S"], location=net["warehouse"]).on_hand,
    )
    claim = claim_open(
        order_id=order.pk,
        data=ClaimInput(tracking_number=shipment.tracking_number, kind="lost", resolution="reship"),
        actor=Actor(name="web", channel_id=net["web"].pk),
    )
    assert (claim.status, claim.kind, claim.shipment_id) == ("open", "lost", shipment.pk)
    assert sorted(claim.lines.values_list("order_line__sku", "quantity")) == [
        ("BAG", 1),
        ("SHIRT-S", 2),
    ]
    # Claimed units no longer count as returnable (the lost parcel never arrived anyway).
    returnable = order_returnable(order=order, now=order.placed_at)
    assert {line.sku: line.quantity_claimed for line in returnable.lines} == {
        "SHIRT-S": 2,
        "BAG": 1,
    }

    claim = claim_resolve(claim_id=claim.pk, actor=STAFF)
    assert claim.replacement_order_id is not None
    replacement = Order.objects.get(pk=claim.replacement_order_id)
    assert (claim.status, claim.resolution) == ("resolved", "reship")
    assert replacement.channel_id == order.channel_id
    assert replacement.customer_id == order.customer_id
    assert replacement.external_id == claim.number
    assert (replacement.grand_total, replacement.tax_total, replacement.payment_status) == (
        D("0.00"),
        D("0.00"),
        "captured",
    )
    assert replacement.shipping_address["line1"] == order.shipping_address["line1"]
    assert sorted(replacement.lines.values_list("sku", "quantity", "total")) == [
        ("BAG", 1, D("0.00")),
        ("SHIRT-S", 2, D("0.00")),
    ]
    # Reserved at once: ATP down by the replacement's units, order reservations without expiry.
    assert atp(net["SHIRT-S"], net["warehouse"]) == shirt_atp - 2
    reservations = Reservation.objects.filter(
        reference_type="order_line",
        reference_id__in=[str(pk) for pk in replacement.lines.values_list("pk", flat=True)],
        status="active",
    )
    assert sorted(reservations.values_list("quantity", "kind", "expires_at")) == [
        (1, "order", None),
        (2, "order", None),
    ]
    # The lost units are not restocked: on hand unchanged.
    assert (
        StockLevel.objects.get(product=net["SHIRT-S"], location=net["warehouse"]).on_hand
        == shirt_on_hand
    )
    placed = OutboxEvent.objects.get(topic="order.placed", aggregate_id=str(replacement.pk))
    assert (placed.payload["grand_total"], placed.payload["free_of_charge"]) == ("0.00", True)
    assert claim_topics(order) == ["claim.opened", "claim.resolved"]
    assert not Refund.objects.exists()
    assert list(
        OrderEvent.objects.filter(order=replacement, kind="note").values_list("message", flat=True)
    ) == [f"Replacement for claim {claim.number} of order {order.number}"]


def test_lost_parcel_refunded_then_confirmed():
    net = shop()
    order, shipment = lost(net)
    Order.objects.filter(pk=order.pk).update(shipping_total=D("4.90"))
    claim = claim_open(
        order_id=order.pk,
        data=ClaimInput(
            tracking_number=shipment.tracking_number,
            kind="lost",
            resolution="refund",
            lines=(ClaimLineInput(line_number=1, quantity=2),),
        ),
        actor=STAFF,
    )
    claim = claim_resolve(claim_id=claim.pk, actor=STAFF)
    refund = Refund.objects.get(claim=claim)
    # 2 shirts: 39.98 - 6.00 (15 %) = 33.98, less their 5.00 coupon share (2.91): 31.07; no fee;
    # the shipping comes back (the delivery failed).
    assert (refund.amount, refund.shipping_amount, refund.restocking_fee, refund.status) == (
        D("35.97"),
        D("4.90"),
        D("0.00"),
        "requested",
    )
    assert refund.breakdown["lines"][0]["gross"] == "31.07"
    requested = OutboxEvent.objects.get(topic="claim.refund_requested")
    assert (requested.payload["reference"], requested.payload["amount"]) == (
        refund.reference,
        "35.97",
    )
    settled = claim_refund_settle(
        reference=refund.reference, is_confirmed=True, external_reference="psp-1", actor=STAFF
    )
    assert (settled.status, settled.external_reference) == ("confirmed", "psp-1")
    assert settled.confirmed_at is not None
    # The same answer again changes nothing; the opposite one is refused.
    claim_refund_settle(reference=refund.reference, is_confirmed=True, actor=STAFF)
    with pytest.raises(Conflict) as caught:
        claim_refund_settle(
            reference=refund.reference, is_confirmed=False, failure_reason="x", actor=STAFF
        )
    assert caught.value.code == "refund_settled"
    assert claim_topics(order) == [
        "claim.opened",
        "claim.resolved",
        "claim.refund_requested",
        "claim.refunded",
    ]
    with pytest.raises(Conflict) as again:
        claim_refund_request(claim_id=claim.pk, actor=STAFF)
    assert again.value.code == "refund_exists"


def test_failed_claim_refund_is_requested_again():
    net = shop()
    order, shipment = lost(net, {"BAG": 1})
    claim = claim_open(
        order_id=order.pk,
        data=ClaimInput(tracking_number=shipment.tracking_number, kind="lost", resolution="refund"),
        actor=STAFF,
    )
    claim_resolve(claim_id=claim.pk, actor=STAFF)
    first = Refund.objects.get(claim=claim)
    claim_refund_settle(
        reference=first.reference, is_confirmed=False, failure_reason="card expired", actor=STAFF
    )
    second = claim_refund_request(claim_id=claim.pk, actor=STAFF)
    assert (second.amount, second.status) == (first.amount, "requested")
    assert first.amount == D("19.50")  # 24.50 less the SAVE5 coupon


def test_damaged_parcel_needs_photos_and_nothing_is_written():
    net = shop()
    order = place(net["web"], {"BAG": 1})
    shipment = shipped(order)
    before = world_snapshot()
    with pytest.raises(ValidationFailed) as caught:
        claim_open(
            order_id=order.pk,
            data=ClaimInput(
                tracking_number=shipment.tracking_number,
                kind="damaged",
                resolution="reship",
                photo_urls=("http://example.com/x.jpg",),
            ),
            actor=STAFF,
        )
    assert [(e.field, e.code) for e in caught.value.field_errors] == [("photo_urls.0", "url")]
    with pytest.raises(ValidationFailed) as missing:
        claim_open(
            order_id=order.pk,
            data=ClaimInput(
                tracking_number=shipment.tracking_number, kind="damaged", resolution="reship"
            ),
            actor=STAFF,
        )
    assert [(e.field, e.code) for e in missing.value.field_errors] == [("photo_urls", "required")]
    assert world_snapshot() == before
    claim = claim_open(
        order_id=order.pk,
        data=ClaimInput(
            tracking_number=shipment.tracking_number,
            kind="damaged",
            resolution="refund",
            photo_urls=("https://img.example.com/box.jpg",),
        ),
        actor=STAFF,
    )
    assert claim.photo_urls == ["https://img.example.com/box.jpg"]


def test_bad_claims_are_refused_with_field_paths_and_nothing_written():
    net = shop()
    order, shipment = lost(net, {"SHIRT-S": 2})
    claim_open(
        order_id=order.pk,
        data=ClaimInput(
            tracking_number=shipment.tracking_number,
            kind="lost",
            resolution="refund",
            lines=(ClaimLineInput(1, 1),),
        ),
        actor=STAFF,
    )
    before = world_snapshot()
    with pytest.raises(ValidationFailed) as caught:
        claim_open(
            order_id=order.pk,
            data=ClaimInput(
                tracking_number=shipment.tracking_number,
                kind="stolen",
                resolution="cash",
                lines=(ClaimLineInput(1, 2), ClaimLineInput(7, 1), ClaimLineInput(1, 0)),
            ),
            actor=STAFF,
        )
    assert [(e.field, e.code) for e in caught.value.field_errors] == [
        ("kind", "invalid_choice"),
        ("resolution", "invalid_choice"),
        ("lines.0.quantity", "too_many"),
        ("lines.1.line_number", "not_in_parcel"),
        ("lines.2.line_number", "duplicate"),
        ("lines.2.quantity", "min_value"),
    ]
    with pytest.raises(ValidationFailed) as unknown:
        claim_open(
            order_id=order.pk,
            data=ClaimInput(tracking_number="NOPE", kind="lost", resolution="refund"),
            actor=STAFF,
        )
    assert [(e.field, e.code) for e in unknown.value.field_errors] == [
        ("tracking_number", "not_found")
    ]
    with pytest.raises(NotFound):
        claim_open(
            order_id=order.pk,
            data=ClaimInput(
                tracking_number=shipment.tracking_number, kind="lost", resolution="refund"
            ),
            actor=Actor(name="pro", channel_id=net["pro"].pk),
        )
    assert world_snapshot() == before


def test_reship_without_stock_is_refused_and_nothing_written():
    net = shop()
    order, shipment = lost(net, {"CAP": 2})  # the last two caps left with the parcel
    claim = claim_open(
        order_id=order.pk,
        data=ClaimInput(tracking_number=shipment.tracking_number, kind="lost", resolution="reship"),
        actor=STAFF,
    )
    before = world_snapshot()
    with pytest.raises(InsufficientStock):
        claim_resolve(claim_id=claim.pk, actor=STAFF)
    assert world_snapshot() == before
    # Staff may refund instead.
    claim = claim_resolve(claim_id=claim.pk, actor=STAFF, resolution="refund")
    assert (claim.status, claim.resolution, claim.replacement_order_id) == (
        "resolved",
        "refund",
        None,
    )
    assert Refund.objects.get(claim=claim).amount == D("13.00")  # 2 x 9.00 less SAVE5


def test_resolved_claim_cannot_be_resolved_or_refused_again():
    net = shop()
    order, shipment = lost(net, {"BAG": 1})
    claim = claim_open(
        order_id=order.pk,
        data=ClaimInput(tracking_number=shipment.tracking_number, kind="lost", resolution="refund"),
        actor=STAFF,
    )
    with pytest.raises(ValidationFailed):
        claim_refuse(claim_id=claim.pk, reason=" ", actor=STAFF)
    refused = claim_refuse(claim_id=claim.pk, reason="Delivered per carrier proof", actor=STAFF)
    assert (refused.status, refused.refusal_reason) == ("refused", "Delivered per carrier proof")
    with pytest.raises(Conflict) as caught:
        claim_resolve(claim_id=claim.pk, actor=STAFF)
    assert caught.value.code == "invalid_transition"
    assert claim_topics(order) == ["claim.opened", "claim.refused"]
