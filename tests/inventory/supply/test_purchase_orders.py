"""Purchase order lifecycle: draft -> sent -> confirmed (incoming with dates) -> cancelled."""

from __future__ import annotations

from datetime import date

import pytest

from inventory.models import (
    AdvanceShippingNotice,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    StockMovement,
)
from inventory.services.supply import (
    ConfirmLine,
    purchase_order_cancel,
    purchase_order_confirm,
    purchase_order_create,
    purchase_order_send,
)
from inventory.services.supply_notices import asn_create, purchase_order_reschedule
from inventory.supply_statuses import PurchaseOrderStatus
from omnilog.core.errors import Conflict, ValidationFailed
from omnilog.core.models import OutboxEvent
from tests.inventory.helpers import assert_ledger_consistent
from tests.inventory.supply.factories import confirmed_order, make_supplier, supply_setup
from tests.inventory.typed_factories import make_product, make_warehouse

pytestmark = pytest.mark.django_db

MAY_2 = date(2031, 5, 2)
MAY_9 = date(2031, 5, 9)


def _level(product, location) -> StockLevel:  # type: ignore[no-untyped-def]
    return StockLevel.objects.get(product=product, location=location)


def test_status_choices_match_the_transition_table() -> None:
    assert {value for value, _ in PurchaseOrder.Status.choices} == {
        status.value for status in PurchaseOrderStatus
    }


def test_create_send_confirm_makes_dated_incoming_stock() -> None:
    supply = supply_setup()
    order = purchase_order_create(
        supplier=supply.supplier,
        location=supply.warehouse,
        lines=[(supply.shirt, 10, MAY_9), (supply.shoes, 4, None)],
        actor="buyer",
        reference="proposal 7",
        expected_date=MAY_2,
    )
    assert order.number.startswith("PO-")
    assert order.status == "draft"
    lines = list(order.lines.order_by("line_number"))
    assert [(line.supplier_sku, line.quantity_ordered, str(line.unit_cost)) for line in lines] == [
        ("AC-SHIRT", 10, "4.5000"),
        ("AC-SHOES", 4, "4.5000"),
    ]
    assert not StockLevel.objects.filter(incoming__gt=0).exists()  # a draft expects nothing

    purchase_order_send(purchase_order_id=order.pk, actor="buyer")
    confirmed = purchase_order_confirm(
        purchase_order_id=order.pk,
        actor="buyer",
        lines=[ConfirmLine(line_id=lines[0].pk, quantity_confirmed=8)],
        supplier_reference="AC-778",
    )
    assert (confirmed.status, confirmed.version, confirmed.supplier_reference) == (
        "confirmed",
        3,
        "AC-778",
    )
    assert confirmed.sent_at is not None
    assert confirmed.confirmed_at is not None
    shirt, shoes = _level(supply.shirt, supply.warehouse), _level(supply.shoes, supply.warehouse)
    assert (shirt.incoming, shirt.incoming_expected_date) == (8, MAY_9)
    assert (shoes.incoming, shoes.incoming_expected_date) == (4, MAY_2)  # the order's date
    assert list(
        StockMovement.objects.filter(reference_id=order.number)
        .order_by("id")
        .values_list("kind", "delta_incoming")
    ) == [("incoming", 8), ("incoming", 4)]
    topics = list(
        OutboxEvent.objects.filter(aggregate_type="purchase_order").values_list("topic", flat=True)
    )
    assert topics == [
        "purchase_order.created",
        "purchase_order.sent",
        "purchase_order.confirmed",
    ]
    assert_ledger_consistent()


def test_two_orders_for_one_level_keep_the_sum_and_the_earliest_date() -> None:
    supply = supply_setup()
    late = confirmed_order(supply, [(supply.shirt, 5, MAY_9)])
    early = confirmed_order(supply, [(supply.shirt, 3, MAY_2)])
    level = _level(supply.shirt, supply.warehouse)
    assert (level.incoming, level.incoming_expected_date) == (8, MAY_2)

    purchase_order_cancel(purchase_order_id=early.pk, actor="buyer", reason="supplier out")
    level.refresh_from_db()
    assert (level.incoming, level.incoming_expected_date) == (5, MAY_9)
    assert PurchaseOrderLine.objects.get(purchase_order=early).is_closed

    purchase_order_reschedule(purchase_order_id=late.pk, expected_date=date(2031, 6, 1), actor="b")
    level.refresh_from_db()
    assert level.incoming_expected_date == date(2031, 6, 1)

    purchase_order_cancel(purchase_order_id=late.pk, actor="buyer")
    level = _level(supply.shirt, supply.warehouse)
    assert (level.incoming, level.incoming_expected_date) == (0, None)
    assert_ledger_consistent()


def test_default_date_is_today_plus_lead_time() -> None:
    from datetime import timedelta

    from django.utils import timezone

    supply = supply_setup()
    confirmed_order(supply, [(supply.shirt, 1, None)])
    level = _level(supply.shirt, supply.warehouse)
    assert level.incoming_expected_date == timezone.localdate() + timedelta(days=5)


def test_notice_moves_the_dates_of_its_lines() -> None:
    supply = supply_setup()
    order = confirmed_order(supply, [(supply.shirt, 6, MAY_9), (supply.shoes, 2, MAY_9)])
    notice = asn_create(
        purchase_order_id=order.pk,
        supplier_reference="DESADV-1",
        expected_arrival=MAY_2,
        lines=[(supply.shirt.pk, 6)],
        actor="edi",
    )
    assert notice.status == AdvanceShippingNotice.Status.ANNOUNCED
    assert _level(supply.shirt, supply.warehouse).incoming_expected_date == MAY_2
    assert _level(supply.shoes, supply.warehouse).incoming_expected_date == MAY_9
    with pytest.raises(Conflict) as duplicate:
        asn_create(
            purchase_order_id=order.pk,
            supplier_reference="DESADV-1",
            expected_arrival=MAY_2,
            lines=[(supply.shirt.pk, 6)],
            actor="edi",
        )
    assert duplicate.value.code == "duplicate_notice"


def test_bad_lines_are_refused_and_nothing_is_written() -> None:
    supply = supply_setup()
    stranger = make_product(sku="OTHER")
    with pytest.raises(ValidationFailed) as refused:
        purchase_order_create(
            supplier=supply.supplier,
            location=supply.warehouse,
            lines=[(supply.shirt, 0, None), (supply.shoes, 3, None), (stranger, 1, None)],
            actor="buyer",
        )
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("lines.0.quantity", "min_value"),
        ("lines.1.quantity", "pack_size"),
        ("lines.2.product", "not_supplied"),
    ]
    assert not PurchaseOrder.objects.exists()


def test_transitions_outside_the_table_are_refused_without_change() -> None:
    supply = supply_setup()
    order = purchase_order_create(
        supplier=supply.supplier,
        location=supply.warehouse,
        lines=[(supply.shirt, 2, None)],
        actor="buyer",
    )
    with pytest.raises(Conflict) as refused:
        purchase_order_confirm(purchase_order_id=order.pk, actor="buyer")  # not sent yet
    assert refused.value.code == "invalid_transition"
    order.refresh_from_db()
    assert (order.status, order.version) == ("draft", 1)
    assert not StockMovement.objects.exists()

    purchase_order_cancel(purchase_order_id=order.pk, actor="buyer")
    with pytest.raises(Conflict):
        purchase_order_send(purchase_order_id=order.pk, actor="buyer")


def test_minimum_order_value_is_enforced_on_send() -> None:
    supply = supply_setup()
    supply.supplier.minimum_order_value = 100
    supply.supplier.save()
    order = purchase_order_create(
        supplier=supply.supplier,
        location=supply.warehouse,
        lines=[(supply.shirt, 2, None)],
        actor="buyer",
    )
    with pytest.raises(Conflict) as refused:
        purchase_order_send(purchase_order_id=order.pk, actor="buyer")
    assert refused.value.code == "below_minimum_order"
    assert refused.value.details == {"total": "9.0000", "minimum": "100.00"}
    order.refresh_from_db()
    assert order.status == "draft"


def test_inactive_supplier_and_location_are_refused() -> None:
    supplier = make_supplier(is_active=False)
    location = make_warehouse(is_active=False)
    with pytest.raises(ValidationFailed) as refused:
        purchase_order_create(supplier=supplier, location=location, lines=[], actor="buyer")
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("supplier", "inactive"),
        ("location", "inactive"),
        ("lines", "required"),
    ]
