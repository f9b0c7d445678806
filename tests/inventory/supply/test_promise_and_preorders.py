"""Incoming stock in the delivery promise, and preorders sold against it (never beyond it)."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connections

from channels_app.models import PriceList, PriceListItem
from inventory.models import (
    PreorderAllocation,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Reservation,
    StockLevel,
)
from inventory.services.receiving import Scan, receipt_post
from inventory.services.supply import purchase_order_cancel
from omnilog.core.errors import InsufficientStock
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent
from orders.services.cancel import order_cancel
from tests.fulfillment.promise_support import HOME, NOW, client_for, network, options_of, paris
from tests.inventory.helpers import assert_ledger_consistent
from tests.inventory.supply.factories import (
    Supply,
    confirmed_order,
    make_supplier,
    make_supplier_product,
)
from tests.orders.lifecycle_support import place
from tests.orders.lifecycle_support import shop as order_shop

NOV_26 = date(2026, 11, 26)  # a Thursday
NOV_30 = date(2026, 11, 30)  # a Monday


def _supply_for(channel: Any, location: Any, product: Product) -> Supply:
    supplier = make_supplier(code="acme")
    make_supplier_product(supplier=supplier, product=product)
    return Supply(channel, supplier, location, product, product)


# --- delivery promise ----------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_promise_uses_each_orders_date_when_no_location_has_stock() -> None:
    world = network()
    book = Product.objects.create(sku="BOOK", name="Book", weight_grams=300)
    supply = _supply_for(world["web"], world["wh"], book)
    confirmed_order(supply, [(book, 5, NOV_26)])
    confirmed_order(supply, [(book, 10, NOV_30)])

    def home_standard(quantity: int) -> dict[str, Any]:
        response = client_for(world["web"]).post(
            "/api/v1/delivery-options",
            {"lines": [{"sku": "BOOK", "quantity": quantity}], "destination": HOME},
            format="json",
        )
        return options_of(response)["home_standard"]

    # 5 arrive Thursday (prepared then, Thursday's pickup, Friday home) ...
    three = home_standard(3)
    assert (three["availability"], three["dispatch_at"], three["earliest_delivery"]) == (
        "available_later",
        paris(26, 17),
        paris(27, 18),
    )
    # ... the rest only Monday: 8 units wait for the second order, not the earliest date.
    assert home_standard(8)["dispatch_at"] == paris(30, 17)


# --- preorders through order capture -------------------------------------------------------


def _preorder_shop() -> dict[str, Any]:
    world = order_shop()
    book = Product.objects.create(sku="BOOK", name="Book", is_backorderable=True)
    PriceListItem.objects.create(
        price_list=PriceList.objects.get(code="base"), sku="BOOK", unit_price=Decimal("12.00")
    )
    supply = _supply_for(world["web"], world["warehouse"], book)
    world["book"] = book
    world["purchase_order"] = confirmed_order(supply, [(book, 5, NOV_26)])
    return world


@pytest.mark.django_db
def test_a_preorder_is_sold_against_incoming_and_reserved_on_receipt() -> None:
    world = _preorder_shop()
    order = place(world["web"], {"SHIRT": 1, "BOOK": 3})
    book_line = order.lines.get(sku="BOOK")
    (allocation,) = PreorderAllocation.objects.all()
    assert (allocation.reference_id, allocation.quantity, allocation.status) == (
        str(book_line.pk),
        3,
        "active",
    )
    assert PurchaseOrderLine.objects.get(product=world["book"]).quantity_preordered == 3
    assert OrderEvent.objects.get(order=order, kind="placed").details["preordered_lines"] == [2]
    assert not Reservation.objects.filter(reference_id=str(book_line.pk)).exists()

    with pytest.raises(InsufficientStock) as refused:  # only 2 left to sell
        place(world["web"], {"BOOK": 3})
    assert refused.value.code == "insufficient_incoming_stock"
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("lines.0.quantity", "insufficient_incoming_stock")
    ]
    assert refused.value.details["lines"][0]["sku"] == "BOOK"
    assert Order.objects.count() == 1
    with pytest.raises(InsufficientStock) as plain:  # not preorderable: refused as before
        place(world["web"], {"SHOES": 6})
    assert plain.value.code == "insufficient_stock"

    receipt_post(
        purchase_order_id=world["purchase_order"].pk,
        scans=[Scan("BOOK", 5)],
        idempotency_key="dock-1",
        actor="dock",
    )
    allocation.refresh_from_db()
    assert (allocation.quantity, allocation.quantity_reserved, allocation.status) == (
        0,
        3,
        "reserved",
    )
    reservation = Reservation.objects.get(reference_id=str(book_line.pk))
    assert (reservation.quantity, reservation.location, reservation.scope) == (
        3,
        world["warehouse"],
        "location",
    )
    level = StockLevel.objects.get(product=world["book"], location=world["warehouse"])
    assert (level.on_hand, level.reserved, level.incoming, level.atp) == (5, 3, 0, 2)
    assert OutboxEvent.objects.filter(topic="preorder.reserved").count() == 1
    assert_ledger_consistent()


@pytest.mark.django_db
def test_cancelling_frees_the_incoming_units() -> None:
    world = _preorder_shop()
    order = place(world["web"], {"BOOK": 5})
    order_cancel(order_id=order.pk, reason="changed mind", actor="test")
    assert PurchaseOrderLine.objects.get(product=world["book"]).quantity_preordered == 0
    assert PreorderAllocation.objects.get().status == "released"
    place(world["web"], {"BOOK": 5})  # sellable again

    purchase_order_cancel(purchase_order_id=world["purchase_order"].pk, actor="buyer")
    assert PreorderAllocation.objects.filter(status="released").count() == 2
    assert OutboxEvent.objects.filter(topic="preorder.released").count() == 1
    assert StockLevel.objects.get(product=world["book"], location=world["warehouse"]).incoming == 0


@pytest.mark.django_db
def test_damaged_units_release_the_youngest_preorders() -> None:
    world = _preorder_shop()
    first = place(world["web"], {"BOOK": 3})
    second = place(world["web"], {"BOOK": 2})
    receipt_post(
        purchase_order_id=world["purchase_order"].pk,
        scans=[Scan("BOOK", 3, damaged_quantity=2, damage_reason="broken")],
        idempotency_key="dock-1",
        actor="dock",
    )
    by_order = {
        order.pk: PreorderAllocation.objects.get(reference_id=str(order.lines.get().pk))
        for order in (first, second)
    }
    assert (by_order[first.pk].status, by_order[first.pk].quantity_reserved) == ("reserved", 3)
    assert (by_order[second.pk].status, by_order[second.pk].quantity) == ("released", 0)
    line = PurchaseOrderLine.objects.get(product=world["book"])
    assert (line.quantity_received, line.quantity_open, line.quantity_preordered) == (5, 0, 0)
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_concurrent_preorders_never_sell_more_than_is_coming() -> None:
    world = _preorder_shop()
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    guard = threading.Lock()

    def client(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            try:
                place(world["web"], {"BOOK": 1}, email=f"c{index}@example.com")
                outcome = "placed"
            except InsufficientStock as error:
                outcome = error.code
            except Exception as error:
                outcome = repr(error)
            with guard:
                outcomes.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["insufficient_incoming_stock"] * 3 + ["placed"] * 5
    assert PurchaseOrderLine.objects.get(product=world["book"]).quantity_preordered == 5
    assert sum(a.quantity for a in PreorderAllocation.objects.filter(status="active")) == 5
    assert PurchaseOrder.objects.count() == 1


@pytest.mark.django_db
def test_routing_backorders_a_preorder_then_ships_it_from_the_received_units() -> None:
    from fulfillment.models import FulfillmentOrder
    from fulfillment.services.routing import order_route

    world = _preorder_shop()
    order = place(world["web"], {"BOOK": 2})
    order_route(order_id=order.pk, expected_version=order.version, trigger="test")
    order.refresh_from_db()
    assert order.status == "backordered"
    receipt_post(
        purchase_order_id=world["purchase_order"].pk,
        scans=[Scan("BOOK", 5)],
        idempotency_key="dock-1",
        actor="dock",
    )
    order_route(order_id=order.pk, expected_version=order.version, trigger="test")
    order.refresh_from_db()
    assert order.status == "routed"
    (fulfillment_order,) = FulfillmentOrder.objects.filter(order=order)
    assert fulfillment_order.location == world["warehouse"]
    level = StockLevel.objects.get(product=world["book"], location=world["warehouse"])
    assert (level.on_hand, level.reserved) == (5, 2)  # the preorder's units, not two more
    assert_ledger_consistent()
