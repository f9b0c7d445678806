"""Fulfillment order lines never promise more than their reservations hold: partial shortages
are withdrawn by the sweep, picked units are neither cancelled nor rejected, shorted picked
units still ship; pickup orders are not shipped; a carrier scan of a packed parcel ships it."""

from __future__ import annotations

from typing import Any

import pytest

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, Shipment, ShipmentEvent
from fulfillment.services.carrier_events import carrier_event_receive
from fulfillment.services.fulfillment_orders import fulfillment_order_reject
from fulfillment.services.lifecycle import fulfillment_order_ship
from fulfillment.services.picking import pick_confirm_scan, picking_plan_location
from fulfillment.services.routing import order_route
from fulfillment.services.shipping import shipment_create
from fulfillment.services.sweeps import fulfillment_allocations_check
from inventory.models import StockLevel, StockMovement
from inventory.services import stock_count
from omnilog.core.errors import Conflict, ValidationFailed
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderLine
from orders.services.cancel import order_cancel
from tests.fulfillment.pickpack_support import NOW, SHIRT_EAN, accepted, packed, pickpack_network
from tests.fulfillment.service_support import (
    active_reservations,
    fulfillment_orders,
    network,
    place,
    reserved,
    snapshot,
)
from tests.fulfillment.shipping_support import ADDRESSES, builtin_carrier, signed_event
from tests.inventory.helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def _level(product: Any, location: Any) -> tuple[int, int]:
    row = StockLevel.objects.get(product=product, location=location)
    return row.on_hand, row.reserved


def _half_picked(net: dict[str, Any]) -> tuple[Order, FulfillmentOrder, FulfillmentOrderLine]:
    """2 SHIRT accepted at wh-1, one of them picked (the fulfillment order is ``picking``)."""
    order, fo = accepted(net, {"SHIRT": 2})
    (pick_list_id,) = picking_plan_location(location_id=net["wh1"].pk, now=NOW).pick_list_ids
    pick_confirm_scan(pick_list_id=pick_list_id, ean=SHIRT_EAN, quantity=1, actor="ana")
    fo.refresh_from_db()
    assert fo.status == "picking"
    line = fo.lines.get()
    assert (line.quantity, line.quantity_picked) == (2, 1)
    return order, fo, line


# --- 2a: a partial shortage ---------------------------------------------------------------------


def test_a_partial_shortage_is_withdrawn_and_routed_again() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 3})
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is not None
    assert fulfillment_orders(order) == [("wh-1", "created", [("SHIRT", 3, 0)])]
    # The count finds 2 of 10 shirts at wh-1 while 3 are promised: the reservation is shorted
    # by one unit and stays active with 2.
    stock_count(product_id=net["shirt"].pk, location_id=net["wh1"].pk, counted=2)
    assert active_reservations(order) == [("SHIRT", "wh-1", 2, "location")]

    assert fulfillment_allocations_check() == 1

    assert fulfillment_orders(order) == [
        ("wh-1", "created", [("SHIRT", 3, 1)]),
        ("wh-2", "created", [("SHIRT", 1, 0)]),
    ]
    line = FulfillmentOrderLine.objects.get(fulfillment_order__location=net["wh1"])
    assert line.rejection_reason == "allocation_cancelled"
    assert (reserved(net["shirt"], net["wh1"]), reserved(net["shirt"], net["wh2"])) == (2, 1)
    assert OrderLine.objects.get(order=order).quantity_allocated == 3
    assert fulfillment_allocations_check() == 0
    assert_ledger_consistent()


def test_shorted_units_already_packed_ship_and_commit_what_the_reservation_holds() -> None:
    """The count missed a packed unit: the sweep cannot withdraw it (it is in the parcel), the
    ship sends both and commits the one unit still reserved (the count took the other off)."""
    net = pickpack_network()
    order, fo = packed(net, {"SHIRT": 2})
    stock_count(product_id=net["shirt"].pk, location_id=net["wh1"].pk, counted=1)
    assert active_reservations(order) == [("SHIRT", "wh-1", 1, "location")]
    assert fulfillment_allocations_check() == 0

    fulfillment_order_ship(fulfillment_order_id=fo.pk, actor="leo")

    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "shipped"
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert _level(net["shirt"], net["wh1"]) == (0, 0)
    line = OrderLine.objects.get(order=order)
    assert (line.quantity_fulfilled, line.quantity_allocated) == (2, 0)
    shipped = OutboxEvent.objects.get(topic="fulfillment_order.shipped")
    assert shipped.payload["lines"] == [{"line_id": line.pk, "quantity": 2, "not_reserved": 1}]
    assert_ledger_consistent()


# --- 2b: cancelling picked units ----------------------------------------------------------------


def test_cancelling_packed_units_is_refused_and_writes_nothing() -> None:
    net = pickpack_network()
    order, _ = packed(net, {"SHIRT": 2})
    line = OrderLine.objects.get(order=order)
    before = snapshot(order)

    with pytest.raises(Conflict) as error:
        order_cancel(order_id=order.pk, lines=[(line.pk, 1)], reason="changed", actor="agent")

    assert error.value.code == "units_already_picked"
    assert snapshot(order) == before
    assert OrderLine.objects.get(pk=line.pk).quantity_cancelled == 0


def test_a_cancel_withdraws_unpicked_units_and_refuses_picked_ones() -> None:
    net = pickpack_network()
    order, fo, line = _half_picked(net)
    order_line = OrderLine.objects.get(order=order)

    order_cancel(order_id=order.pk, lines=[(order_line.pk, 1)], reason="changed", actor="agent")

    line.refresh_from_db()
    assert (line.quantity, line.quantity_rejected, line.quantity_picked) == (2, 1, 1)
    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "picking"
    assert reserved(net["shirt"], net["wh1"]) == 1
    before = snapshot(order)

    with pytest.raises(Conflict) as error:
        order_cancel(order_id=order.pk, lines=[(order_line.pk, 1)], reason="all", actor="agent")

    assert error.value.code == "units_already_picked"
    assert snapshot(order) == before
    assert_ledger_consistent()


# --- 3: rejecting picked units ------------------------------------------------------------------


def test_a_rejection_never_takes_picked_units() -> None:
    """The check runs under the line's lock: a short pick whose own check read the line before
    a scan picked a unit is refused by the rejection it calls."""
    net = pickpack_network()
    order, fo, line = _half_picked(net)
    before = snapshot(order)

    with pytest.raises(ValidationFailed) as error:
        fulfillment_order_reject(
            fulfillment_order_id=fo.pk, lines=[(line.pk, 2, "not found")], actor="wh-1"
        )

    assert [(item.field, item.message) for item in error.value.field_errors] == [
        ("lines.0.quantity", "At most 1 can be rejected (1 already picked).")
    ]
    assert snapshot(order) == before

    fulfillment_order_reject(
        fulfillment_order_id=fo.pk, lines=[(line.pk, 1, "not found")], actor="wh-1"
    )

    line.refresh_from_db()
    assert (line.quantity_rejected, line.quantity_picked) == (1, 1)
    assert reserved(net["shirt"], net["wh1"]) == 1
    assert_ledger_consistent()


# --- 4: pickup orders, carrier scans ------------------------------------------------------------


def test_a_pickup_order_is_not_shipped() -> None:
    net = pickpack_network()
    _, fo = packed(net, {"SHIRT": 1})
    for mode in ("click_and_collect", "ship_to_store"):
        FulfillmentOrder.objects.filter(pk=fo.pk).update(delivery_mode=mode)
        movements = StockMovement.objects.count()
        with pytest.raises(Conflict) as error:
            fulfillment_order_ship(fulfillment_order_id=fo.pk, actor="leo")
        assert error.value.code == "not_a_carrier_order"
        assert StockMovement.objects.count() == movements
        assert FulfillmentOrder.objects.get(pk=fo.pk).status == "packed"


def _labelled(net: dict[str, Any]) -> tuple[Order, FulfillmentOrder, Shipment]:
    carrier = builtin_carrier()
    order, fo = packed(net, {"SHIRT": 1})
    address = {"name": "Camille Martin", "line2": "", "phone": "", **ADDRESSES["FR"]}
    Order.objects.filter(pk=order.pk).update(shipping_address=address)
    shipment = shipment_create(
        fulfillment_order_id=fo.pk, carrier_code=carrier.code, service="standard", actor="t"
    )
    return order, fo, shipment


def _scan(shipment: Shipment, event_id: str, status: str) -> Any:
    headers, body = signed_event(
        shipment.carrier,
        event_id=event_id,
        tracking_number=shipment.tracking_number,
        status=status,
    )
    return carrier_event_receive(carrier_code=shipment.carrier.code, headers=headers, body=body)


def test_a_carrier_scan_of_a_packed_parcel_ships_it() -> None:
    net = pickpack_network()
    order, fo, shipment = _labelled(net)
    assert _level(net["shirt"], net["wh1"]) == (10, 1)

    _scan(shipment, "evt_1", "in_transit")

    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "shipped"
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert _level(net["shirt"], net["wh1"]) == (9, 0)
    assert StockMovement.objects.filter(kind="sale").count() == 1
    assert Shipment.objects.get(pk=shipment.pk).status == "in_transit"

    _scan(shipment, "evt_2", "delivered")

    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "delivered"
    assert Order.objects.get(pk=order.pk).status == "delivered"
    assert StockMovement.objects.filter(kind="sale").count() == 1
    assert_ledger_consistent()


def test_a_refused_carrier_event_does_not_ship_the_parcel() -> None:
    net = pickpack_network()
    _, fo, shipment = _labelled(net)
    events = ShipmentEvent.objects.count()

    with pytest.raises(Conflict):
        _scan(shipment, "evt_1", "delivered")  # label_created -> delivered: not in the table

    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "packed"
    assert _level(net["shirt"], net["wh1"]) == (10, 1)
    assert ShipmentEvent.objects.count() == events
    assert not OutboxEvent.objects.filter(topic="fulfillment_order.shipped").exists()
