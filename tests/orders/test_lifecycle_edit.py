"""Editing an order: quantities up and down, lines added and removed, delivery mode, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Reservation
from omnilog.core.errors import Conflict, InsufficientStock, ValidationFailed
from orders.models import Order, OrderEvent
from orders.services.lifecycle import (
    LineAddition,
    LineQuantityChange,
    OrderEdit,
    order_cancel,
    order_edit,
    order_transition,
)
from tests.inventory.helpers import assert_ledger_consistent
from tests.orders.lifecycle_support import active, line, place, reserved, shop, snapshot, topics

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    return shop()


def _edited(order: Order) -> OrderEvent:
    return OrderEvent.objects.filter(order=order, kind="edited").latest("id")


def test_quantity_up_and_down_re_reserves_and_re_prices(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 2, "SHOES": 2})
    shirt, shoes = line(order, "SHIRT"), line(order, "SHOES")
    assert order.grand_total == Decimal("140.00")

    edited = order_edit(
        order_id=order.id,
        changes=OrderEdit(
            quantities=(
                LineQuantityChange(line_id=shirt.id, quantity=5),
                LineQuantityChange(line_id=shoes.id, quantity=1),
            )
        ),
        actor="anna",
        channel_id=order.channel_id,
        source="api",
    )

    shirt.refresh_from_db()
    shoes.refresh_from_db()
    assert (shirt.quantity, shirt.total, shirt.tax_amount) == (
        5,
        Decimal("100.00"),
        Decimal("16.67"),
    )
    assert (shoes.quantity, shoes.total) == (1, Decimal("50.00"))
    assert active(shirt) == [("wh-paris", 2, "order", "pool"), ("wh-paris", 3, "order", "pool")]
    assert active(shoes) == [("wh-paris", 1, "order", "pool")]
    assert reserved(world["shirt"], world["warehouse"]) == 5
    assert reserved(world["shoes"], world["warehouse"]) == 1
    order.refresh_from_db()
    assert (order.subtotal, order.grand_total, order.version) == (
        Decimal("150.00"),
        Decimal("150.00"),
        edited.version,
    )
    assert order.pricing["grand_total"] == "150.00"
    event = _edited(order)
    assert (event.actor, event.channel_id, event.source) == ("anna", order.channel_id, "api")
    assert event.details == {
        "lines": [
            {"line_number": 1, "sku": "SHIRT", "quantity": [2, 5]},
            {"line_number": 2, "sku": "SHOES", "quantity": [2, 1]},
        ]
    }
    assert topics(order) == ["order.placed", "order.edited"]
    assert_ledger_consistent()


def test_add_and_remove_lines(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 2, "SHOES": 1})
    shoes = line(order, "SHOES")

    order_edit(
        order_id=order.id,
        changes=OrderEdit(additions=(LineAddition(sku="HAT", quantity=2),), removals=(shoes.id,)),
        actor="anna",
    )

    shoes.refresh_from_db()
    assert (shoes.quantity, shoes.quantity_cancelled, shoes.total) == (1, 1, Decimal("0"))
    assert active(shoes) == []
    hat = line(order, "HAT")
    assert (hat.line_number, hat.quantity, hat.total, hat.tax_rate) == (
        3,
        2,
        Decimal("20.00"),
        Decimal("0.2000"),
    )
    assert (hat.delivery_mode, hat.pickup_location_id) == ("home_standard", None)
    assert active(hat) == [("wh-paris", 2, "order", "pool")]
    assert reserved(world["shoes"], world["warehouse"]) == 0
    order.refresh_from_db()
    assert order.grand_total == Decimal("60.00")
    assert _edited(order).details == {
        "removed": [{"line_number": 2, "sku": "SHOES", "quantity": 1}],
        "added": [{"line_number": 3, "sku": "HAT", "quantity": 2}],
    }
    assert_ledger_consistent()


def test_failed_edit_changes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 2, "SHOES": 3})
    shirt, shoes = line(order, "SHIRT"), line(order, "SHOES")
    before = snapshot(order)

    with pytest.raises(InsufficientStock) as refused:
        order_edit(
            order_id=order.id,
            changes=OrderEdit(
                quantities=(
                    LineQuantityChange(line_id=shoes.id, quantity=1),  # would release 2
                    LineQuantityChange(line_id=shirt.id, quantity=20),  # 8 more free only
                ),
                additions=(LineAddition(sku="HAT", quantity=1),),
            ),
            actor="anna",
        )

    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("line_1.quantity", "insufficient_stock")
    ]
    assert refused.value.details["lines"][0]["field"] == "line_1.quantity"
    assert snapshot(order) == before
    assert_ledger_consistent()


def test_delivery_mode_change_re_reserves_at_the_store(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 3, "HAT": 1}, payment_status="pending")
    shirt = line(order, "SHIRT")
    (pool_hold,) = Reservation.objects.filter(reference_id=str(shirt.id))

    order_edit(
        order_id=order.id,
        changes=OrderEdit(delivery_mode="click_and_collect", pickup_location_id=world["store"].id),
        actor="anna",
    )

    order.refresh_from_db()
    assert (order.delivery_mode, order.pickup_location_id) == (
        "click_and_collect",
        world["store"].id,
    )
    shirt.refresh_from_db()
    assert (shirt.delivery_mode, shirt.pickup_location_id) == (
        "click_and_collect",
        world["store"].id,
    )
    # Still holds (the payment is pending), with the same expiry, now at the store.
    assert active(shirt) == [("st-lyon", 3, "hold", "location")]
    assert (
        Reservation.objects.get(reference_id=str(shirt.id), status="active").expires_at
        == pool_hold.expires_at
    )
    assert reserved(world["shirt"], world["warehouse"]) == 0
    assert reserved(world["shirt"], world["store"]) == 3
    assert reserved(world["hat"], world["store"]) == 1
    assert _edited(order).details == {
        "delivery_mode": ["home_standard", "click_and_collect"],
        "pickup_location_id": [None, world["store"].id],
    }
    assert_ledger_consistent()


def test_delivery_change_short_at_the_store_changes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 5})  # the store has 4
    before = snapshot(order)
    with pytest.raises(InsufficientStock):
        order_edit(
            order_id=order.id,
            changes=OrderEdit(
                delivery_mode="click_and_collect", pickup_location_id=world["store"].id
            ),
            actor="anna",
        )
    assert snapshot(order) == before


def test_edit_validation_errors(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 2})
    shirt = line(order, "SHIRT")
    order_cancel(order_id=order.id, lines=[(shirt.id, 1)], reason="x", actor="a")
    before = snapshot(order)

    with pytest.raises(ValidationFailed) as refused:
        order_edit(
            order_id=order.id,
            changes=OrderEdit(
                quantities=(LineQuantityChange(line_id=shirt.id, quantity=1),),
                additions=(LineAddition(sku="NOPE", quantity=1),),
                delivery_mode="click_and_collect",
            ),
            actor="anna",
        )
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("lines.0.quantity", "min_value"),
        ("added_lines.0.sku", "not_found"),
        ("pickup_location_id", "required"),
    ]
    with pytest.raises(ValidationFailed) as last_line:
        order_edit(order_id=order.id, changes=OrderEdit(removals=(shirt.id,)), actor="anna")
    assert [e.code for e in last_line.value.field_errors] == ["no_lines_left"]
    with pytest.raises(ValidationFailed):
        order_edit(order_id=order.id, changes=OrderEdit(), actor="anna")
    assert snapshot(order) == before


def test_same_values_write_nothing(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 2})
    before = snapshot(order)
    order_edit(
        order_id=order.id,
        changes=OrderEdit(
            quantities=(LineQuantityChange(line_id=line(order, "SHIRT").id, quantity=2),),
            delivery_mode="home_standard",
        ),
        actor="anna",
    )
    assert snapshot(order) == before


def test_only_editable_statuses(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 2})
    order_transition(order=order, to_status="routed", actor="routing")
    order_transition(order=order, to_status="in_fulfillment", actor="wms")
    before = snapshot(order)
    with pytest.raises(Conflict) as refused:
        order_edit(
            order_id=order.id,
            changes=OrderEdit(
                quantities=(LineQuantityChange(line_id=line(order, "SHIRT").id, quantity=3),)
            ),
            actor="anna",
        )
    assert refused.value.code == "not_editable"
    assert snapshot(order) == before
