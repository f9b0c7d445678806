"""Receiving by scan: partial receipts, discrepancies, ASN, idempotency, bad input."""

from __future__ import annotations

from datetime import date

import pytest

from inventory.models import (
    AdvanceShippingNotice,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    StockLevel,
    StockMovement,
)
from inventory.services.receiving import Scan, receipt_post
from inventory.services.supply import (
    purchase_order_cancel,
    purchase_order_close,
)
from inventory.services.supply_notices import asn_create
from omnilog.core.errors import Conflict, ValidationFailed
from omnilog.core.models import OutboxEvent
from tests.inventory.helpers import assert_ledger_consistent
from tests.inventory.supply.factories import Supply, confirmed_order, supply_setup
from tests.inventory.typed_factories import make_product

pytestmark = pytest.mark.django_db

MAY_2 = date(2031, 5, 2)
MAY_9 = date(2031, 5, 9)


def _level(product, location) -> StockLevel:  # type: ignore[no-untyped-def]
    return StockLevel.objects.get(product=product, location=location)


def _figures(supply: Supply, product) -> tuple[int, int, int, object]:  # type: ignore[no-untyped-def]
    level = _level(product, supply.warehouse)
    return (level.on_hand, level.damaged, level.incoming, level.incoming_expected_date)


def _post(order: PurchaseOrder, *scans: Scan, key: str = "k1", **kwargs):  # type: ignore[no-untyped-def]
    return receipt_post(
        purchase_order_id=order.pk, scans=scans, idempotency_key=key, actor="dock", **kwargs
    )


def test_partial_then_complete_receipts() -> None:
    supply = supply_setup()
    order = confirmed_order(supply, [(supply.shirt, 10, MAY_2), (supply.shoes, 4, MAY_9)])

    first = _post(order, Scan("3000000000011", 4), Scan("SHIRT", 2))  # EAN and SKU both work
    order.refresh_from_db()
    assert (first.created, order.status) == (True, "partly_received")
    assert _figures(supply, supply.shirt) == (6, 0, 4, MAY_2)
    (line,) = first.receipt.lines.all()
    assert (line.scanned_codes, line.quantity_expected, line.quantity_received) == (
        ["3000000000011", "SHIRT"],
        10,
        6,
    )
    assert (line.quantity_over, line.quantity_short, first.receipt.has_discrepancies) == (
        0,
        4,
        True,
    )
    movement = StockMovement.objects.filter(kind="receipt").get()
    assert (movement.delta_on_hand, movement.delta_incoming, movement.reference_id) == (
        6,
        -6,
        order.number,
    )

    _post(order, Scan("SHIRT", 4), Scan("SHOES", 4), key="k2")
    order.refresh_from_db()
    assert order.status == "received"
    assert order.received_at is not None
    assert _figures(supply, supply.shirt) == (10, 0, 0, None)
    assert _figures(supply, supply.shoes) == (4, 0, 0, None)
    received = OutboxEvent.objects.filter(topic="purchase_order.received").order_by("id")
    assert [(e.payload["status"], e.payload["is_complete"]) for e in received] == [
        ("partly_received", False),
        ("received", True),
    ]
    assert_ledger_consistent()


def test_over_damaged_and_short_discrepancies() -> None:
    supply = supply_setup(over_receipt_percent=10)
    order = confirmed_order(supply, [(supply.shirt, 10, MAY_2), (supply.shoes, 4, MAY_9)])
    posted = _post(
        order,
        Scan("SHIRT", 9, damaged_quantity=2, damage_reason="broken"),  # 11: one over (10 %)
        Scan("SHOES", 2),
    )
    lines = {line.product_id: line for line in posted.receipt.lines.all()}
    shirt, shoes = lines[supply.shirt.pk], lines[supply.shoes.pk]
    assert (shirt.quantity_received, shirt.quantity_damaged, shirt.quantity_over) == (11, 2, 1)
    assert (shirt.damage_reason, shirt.discrepancy_note) == ("broken", "over 1")
    assert (shoes.quantity_short, shoes.discrepancy_note) == (2, "short 2")
    assert _figures(supply, supply.shirt) == (11, 2, 0, None)  # incoming lowered by 10 only
    assert _level(supply.shirt, supply.warehouse).atp == 9
    assert list(
        StockMovement.objects.filter(stock_level__product=supply.shirt, kind="damage").values_list(
            "delta_damaged", "reason"
        )
    ) == [(2, "damaged on receipt: broken")]
    po_line = PurchaseOrderLine.objects.get(purchase_order=order, product=supply.shirt)
    assert (po_line.quantity_received, po_line.quantity_damaged, po_line.quantity_open) == (
        11,
        2,
        0,
    )
    assert_ledger_consistent()


def test_over_receipt_beyond_tolerance_is_refused_and_nothing_changes() -> None:
    supply = supply_setup(over_receipt_percent=10)
    order = confirmed_order(supply, [(supply.shirt, 10, MAY_2)])
    movements = StockMovement.objects.count()
    with pytest.raises(Conflict) as refused:
        _post(order, Scan("SHIRT", 12))
    assert refused.value.code == "over_receipt"
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("scans.0.quantity", "over_receipt")
    ]
    assert StockMovement.objects.count() == movements
    assert not Receipt.objects.exists()
    assert _figures(supply, supply.shirt) == (0, 0, 10, MAY_2)
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_bad_scans_are_refused_with_field_paths_and_nothing_changes() -> None:
    supply = supply_setup()
    make_product(sku="NOT-ORDERED")
    order = confirmed_order(supply, [(supply.shirt, 10, MAY_2)])
    with pytest.raises(ValidationFailed) as shape:
        _post(
            order,
            Scan("SHIRT", -1),
            Scan("SHIRT", 1, damaged_quantity=1),
            Scan("SHIRT", 0, damaged_quantity=1, damage_reason="lost"),
            Scan("SHIRT", 0),
            key="",
        )
    assert [(e.field, e.code) for e in shape.value.field_errors] == [
        ("idempotency_key", "required"),
        ("scans.0.quantity", "min_value"),
        ("scans.1.damage_reason", "required"),
        ("scans.2.damage_reason", "invalid"),
        ("scans.3.quantity", "min_value"),
    ]
    with pytest.raises(ValidationFailed) as codes:
        _post(order, Scan("SHIRT", 1), Scan("NOPE", 1), Scan("NOT-ORDERED", 1))
    assert [(e.field, e.code) for e in codes.value.field_errors] == [
        ("scans.1.code", "unknown_product"),
        ("scans.2.code", "not_on_order"),
    ]
    assert not Receipt.objects.exists()
    assert _figures(supply, supply.shirt) == (0, 0, 10, MAY_2)


def test_a_cancelled_order_cannot_be_received() -> None:
    supply = supply_setup()
    order = confirmed_order(supply, [(supply.shirt, 10, MAY_2)])
    purchase_order_cancel(purchase_order_id=order.pk, actor="buyer")
    with pytest.raises(Conflict) as refused:
        _post(order, Scan("SHIRT", 1))
    assert (refused.value.code, refused.value.details) == (
        "purchase_order_not_receivable",
        {"status": "cancelled"},
    )
    assert not Receipt.objects.exists()
    assert _figures(supply, supply.shirt) == (0, 0, 0, None)


def test_posting_twice_is_idempotent() -> None:
    supply = supply_setup()
    order = confirmed_order(supply, [(supply.shirt, 10, MAY_2)])
    first = _post(order, Scan("SHIRT", 3))
    again = _post(order, Scan("SHIRT", 3))
    assert (again.created, again.receipt.pk) == (False, first.receipt.pk)
    assert _figures(supply, supply.shirt) == (3, 0, 7, MAY_2)
    assert StockMovement.objects.filter(kind="receipt").count() == 1
    with pytest.raises(Conflict) as reused:
        _post(order, Scan("SHIRT", 4))
    assert reused.value.code == "idempotency_key_reused"
    assert _figures(supply, supply.shirt) == (3, 0, 7, MAY_2)


def test_receiving_against_a_notice_reports_against_what_was_announced() -> None:
    supply = supply_setup()
    order = confirmed_order(supply, [(supply.shirt, 10, MAY_9), (supply.shoes, 4, MAY_9)])
    notice = asn_create(
        purchase_order_id=order.pk,
        supplier_reference="DESADV-9",
        expected_arrival=MAY_2,
        lines=[(supply.shirt.pk, 5), (supply.shoes.pk, 2)],
        actor="edi",
    )
    posted = _post(order, Scan("SHIRT", 4), notice_id=notice.pk)
    lines = {line.product_id: line for line in posted.receipt.lines.all()}
    assert (lines[supply.shirt.pk].quantity_expected, lines[supply.shirt.pk].quantity_short) == (
        5,
        1,
    )
    # Announced, not scanned: short by all of it, nothing received.
    assert (lines[supply.shoes.pk].quantity_received, lines[supply.shoes.pk].quantity_short) == (
        0,
        2,
    )
    notice.refresh_from_db()
    assert notice.status == AdvanceShippingNotice.Status.RECEIVED
    with pytest.raises(Conflict) as again:
        _post(order, Scan("SHIRT", 1), key="k2", notice_id=notice.pk)
    assert again.value.code == "notice_not_receivable"


def test_over_receipt_on_one_order_never_eats_another_orders_incoming() -> None:
    supply = supply_setup(over_receipt_percent=50)
    first = confirmed_order(supply, [(supply.shirt, 4, MAY_2)])
    confirmed_order(supply, [(supply.shirt, 6, MAY_9)])
    _post(first, Scan("SHIRT", 6))  # 2 over on the first order
    assert _figures(supply, supply.shirt) == (6, 0, 6, MAY_9)  # the second's 6 still expected
    assert_ledger_consistent()


def test_closing_short_drops_what_will_not_come() -> None:
    supply = supply_setup()
    order = confirmed_order(supply, [(supply.shirt, 10, MAY_2)])
    _post(order, Scan("SHIRT", 7))
    with pytest.raises(ValidationFailed):
        purchase_order_close(purchase_order_id=order.pk, actor="buyer", reason=" ")
    closed = purchase_order_close(purchase_order_id=order.pk, actor="buyer", reason="end of run")
    assert (closed.status, closed.close_reason) == ("received", "end of run")
    assert _figures(supply, supply.shirt) == (7, 0, 0, None)
    assert ReceiptLine.objects.count() == 1
    assert OutboxEvent.objects.filter(topic="purchase_order.closed").count() == 1
    assert_ledger_consistent()
