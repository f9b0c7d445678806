"""Transfer orders: ship (on hand leaves the origin, in transit rises at the destination),
receive with a discrepancy (ledger reason + line note), refusals write nothing, counters =
ledger; the click-and-collect link to its order; the staff API."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from fulfillment.models import TransferLine, TransferOrder
from fulfillment.services.transfers import (
    ReceivedLine,
    TransferLineInput,
    transfer_cancel,
    transfer_create,
    transfer_receive,
    transfer_ship,
)
from fulfillment.shipping_statuses import TransferStatus
from inventory.models import StockLevel, StockMovement
from inventory.services import stock_receive
from omnilog.core.errors import Conflict, InsufficientStock, ValidationFailed
from omnilog.core.models import OutboxEvent
from orders.models import OrderEvent
from tests.factories import LocationFactory, ProductFactory, StoreFactory
from tests.fulfillment.service_support import network, place
from tests.inventory.helpers import assert_ledger_consistent

ARRIVAL = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def _counters(product, location) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    level = StockLevel.objects.get(product=product, location=location)
    return level.on_hand, level.reserved, level.in_transit


def _ledger(reference: str) -> list[tuple[str, str, int, int, str]]:
    return list(
        StockMovement.objects.filter(reference_type="transfer", reference_id=reference)
        .order_by("id")
        .values_list(
            "kind", "stock_level__location__code", "delta_on_hand", "delta_in_transit", "reason"
        )
    )


def _replenishment() -> tuple[TransferOrder, Any, Any, Any, Any]:
    warehouse = LocationFactory(code="wh-a")
    store = StoreFactory(code="st-b")
    shirt, mug = ProductFactory(sku="SHIRT"), ProductFactory(sku="MUG")
    stock_receive(product_id=shirt.id, location_id=warehouse.id, quantity=10)
    stock_receive(product_id=mug.id, location_id=warehouse.id, quantity=4)
    transfer = transfer_create(
        from_location_id=warehouse.id,
        to_location_id=store.id,
        reason="replenishment",
        lines=[TransferLineInput(shirt.id, 5), TransferLineInput(mug.id, 2)],
        expected_arrival=ARRIVAL,
        actor="staff:ana",
    )
    return transfer, warehouse, store, shirt, mug


@pytest.mark.django_db
def test_ship_and_receive_with_a_discrepancy_show_each_leg_in_the_ledger() -> None:
    transfer, warehouse, store, shirt, mug = _replenishment()
    reference = f"TR-{transfer.pk}"

    transfer_ship(transfer_id=transfer.pk, actor="staff:ana")

    transfer.refresh_from_db()
    assert (transfer.status, transfer.expected_arrival) == ("shipped", ARRIVAL)
    assert _counters(shirt, warehouse) == (5, 0, 0)
    assert _counters(shirt, store) == (0, 0, 5)
    assert _counters(mug, warehouse) == (2, 0, 0)
    assert _counters(mug, store) == (0, 0, 2)
    assert _ledger(reference) == [
        ("transfer_out", "wh-a", -5, 0, ""),
        ("transfer_out", "st-b", 0, 5, ""),
        ("transfer_out", "wh-a", -2, 0, ""),
        ("transfer_out", "st-b", 0, 2, ""),
    ]

    shirt_line, mug_line = transfer.lines.order_by("id")
    transfer_receive(
        transfer_id=transfer.pk,
        lines=[ReceivedLine(shirt_line.pk, 4, "one torn"), ReceivedLine(mug_line.pk, 2)],
        actor="store:st-b",
    )

    transfer.refresh_from_db()
    assert transfer.status == "received"
    assert _counters(shirt, store) == (4, 0, 0)
    assert _counters(mug, store) == (2, 0, 0)
    assert _ledger(reference)[4:] == [
        ("transfer_in", "st-b", 4, -5, "discrepancy: -1 against 5 expected"),
        ("transfer_in", "st-b", 2, -2, ""),
    ]
    assert list(
        TransferLine.objects.filter(transfer=transfer)
        .order_by("id")
        .values_list("quantity", "quantity_received", "discrepancy_note")
    ) == [(5, 4, "-1 against 5 shipped: one torn"), (2, 2, "")]
    received = OutboxEvent.objects.get(topic="transfer.received")
    assert received.payload["discrepancies"] == [{"sku": "SHIRT", "shipped": 5, "received": 4}]
    assert list(
        OutboxEvent.objects.filter(aggregate_type="transfer")
        .order_by("id")
        .values_list("topic", flat=True)
    ) == ["transfer.created", "transfer.shipped", "transfer.received"]
    assert_ledger_consistent()


@pytest.mark.django_db
def test_short_origin_ships_nothing_and_a_second_ship_is_refused() -> None:
    transfer, warehouse, _store, shirt, mug = _replenishment()
    TransferLine.objects.filter(transfer=transfer, product=mug).update(quantity=5)  # 4 there
    movements = StockMovement.objects.count()
    with pytest.raises(InsufficientStock):
        transfer_ship(transfer_id=transfer.pk, actor="t")
    assert StockMovement.objects.count() == movements
    assert TransferOrder.objects.get(pk=transfer.pk).status == "draft"
    assert _counters(shirt, warehouse) == (10, 0, 0)

    TransferLine.objects.filter(transfer=transfer, product=mug).update(quantity=2)
    before = timezone.now()
    transfer_ship(transfer_id=transfer.pk, actor="t")
    movements = StockMovement.objects.count()
    with pytest.raises(Conflict):
        transfer_ship(transfer_id=transfer.pk, actor="t")
    with pytest.raises(Conflict):
        transfer_cancel(transfer_id=transfer.pk, actor="t")
    assert StockMovement.objects.count() == movements
    shipped_at = TransferOrder.objects.get(pk=transfer.pk).shipped_at
    assert shipped_at is not None
    assert shipped_at >= before
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_receipt_must_count_every_line_once() -> None:
    transfer, *_ = _replenishment()
    transfer_ship(transfer_id=transfer.pk, actor="t")
    shirt_line, _ = transfer.lines.order_by("id")
    movements = StockMovement.objects.count()
    with pytest.raises(ValidationFailed) as error:
        transfer_receive(
            transfer_id=transfer.pk,
            lines=[ReceivedLine(shirt_line.pk, -1), ReceivedLine(999_999, 1)],
            actor="t",
        )
    assert [e.field for e in error.value.field_errors] == [
        "lines.0.quantity_received",
        "lines.1.line_id",
        "lines",
    ]
    assert StockMovement.objects.count() == movements
    assert TransferOrder.objects.get(pk=transfer.pk).status == TransferStatus.SHIPPED


@pytest.mark.django_db
def test_click_and_collect_transfer_links_its_order_and_sets_a_default_arrival() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 1}, store=net["store"])
    with pytest.raises(ValidationFailed) as refused:
        transfer_create(
            from_location_id=net["wh1"].id,
            to_location_id=net["wh2"].id,
            reason="click_and_collect",
            lines=[TransferLineInput(net["shirt"].id, 1)],
            order_id=order.pk,
            actor="t",
        )
    assert [e.field for e in refused.value.field_errors] == ["to_location"]

    transfer = transfer_create(
        from_location_id=net["wh1"].id,
        to_location_id=net["store"].id,
        reason="click_and_collect",
        lines=[TransferLineInput(net["shirt"].id, 1)],
        order_id=order.pk,
        actor="t",
    )
    moment = timezone.now()
    transfer_ship(transfer_id=transfer.pk, actor="t")
    transfer.refresh_from_db()
    assert transfer.expected_arrival is not None
    assert timedelta(days=2) <= transfer.expected_arrival - moment < timedelta(days=2, minutes=1)
    assert list(
        OrderEvent.objects.filter(order=order, kind="shipment")
        .order_by("id")
        .values_list("message", flat=True)
    ) == [
        f"Transfer TR-{transfer.pk} created: wh-1 -> st-opera",
        f"Transfer TR-{transfer.pk} shipped: wh-1 -> st-opera",
    ]
    assert_ledger_consistent()


@pytest.mark.django_db
def test_staff_api_creates_ships_and_receives() -> None:
    _, warehouse, store, shirt, _ = _replenishment()
    User.objects.create_user("ana", password="pw", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"ana:pw").decode())
    created = client.post(
        "/api/v1/transfers",
        {
            "from_location_id": warehouse.id,
            "to_location_id": store.id,
            "reason": "replenishment",
            "lines": [{"product_id": shirt.id, "quantity": 3}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["from_location"], body["to_location"]) == ("draft", "wh-a", "st-b")
    shipped = client.post(f"/api/v1/transfers/{body['id']}/ship", {}, format="json")
    assert shipped.status_code == 200, shipped.content
    assert shipped.json()["status"] == "shipped"
    line_id = body["lines"][0]["id"]
    received = client.post(
        f"/api/v1/transfers/{body['id']}/receive",
        {"lines": [{"line_id": line_id, "quantity_received": 3}]},
        format="json",
    )
    assert received.status_code == 200, received.content
    assert received.json()["lines"][0]["quantity_received"] == 3
    again = client.post(
        f"/api/v1/transfers/{body['id']}/receive",
        {"lines": [{"line_id": line_id, "quantity_received": 3}]},
        format="json",
    )
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert_ledger_consistent()
