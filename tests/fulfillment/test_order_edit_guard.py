"""Editing an order that fulfillment already holds: refused while open fulfillment orders hold
its units (their lines and bound reservations would not follow the edit); an accepted edit is
routed again at the order's new version (``orders.hooks`` edit guard and edited hook)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from fulfillment.hooks import order_edit_guard, order_edited_route
from fulfillment.models import FulfillmentOrder
from fulfillment.services.routing import order_route
from fulfillment.tasks import order_route_task
from omnilog.core.errors import Conflict
from orders.hooks import order_edit_guard_list, order_edited_hook_list
from orders.models import Order, OrderLine
from orders.services.lifecycle import LineQuantityChange, OrderEdit, order_edit, order_transition
from tests.fulfillment.service_support import (
    active_reservations,
    fulfillment_orders,
    network,
    place,
    snapshot,
)
from tests.inventory.helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def _shirt(order: Order) -> OrderLine:
    return OrderLine.objects.get(order=order, sku="SHIRT")


def test_fulfillment_registered_its_edit_hooks() -> None:
    assert order_edit_guard_list().count(order_edit_guard) == 1
    assert order_edited_hook_list().count(order_edited_route) == 1


def test_edit_of_a_routed_order_with_open_fulfillment_orders_is_refused() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2})
    assert order_route(order_id=order.pk, expected_version=1, trigger="placed") is not None
    order.refresh_from_db()
    assert order.status == "routed"
    before = snapshot(order)
    for quantity in (1, 3):
        with pytest.raises(Conflict) as refused:
            order_edit(
                order_id=order.pk,
                changes=OrderEdit(
                    quantities=(LineQuantityChange(line_id=_shirt(order).pk, quantity=quantity),)
                ),
                actor="anna",
            )
        assert refused.value.code == "order_in_fulfillment"
        assert snapshot(order) == before
    assert_ledger_consistent()


def test_edit_of_a_placed_order_still_works() -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2})
    order_edit(
        order_id=order.pk,
        changes=OrderEdit(quantities=(LineQuantityChange(line_id=_shirt(order).pk, quantity=3),)),
        actor="anna",
    )
    assert _shirt(order).quantity == 3
    assert sum(quantity for _, _, quantity, _ in active_reservations(order)) == 3
    assert_ledger_consistent()


@override_settings(FULFILLMENT_ROUTE_ON_PLACE=True)
def test_an_accepted_edit_of_a_routed_order_is_routed_again(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2})
    # Routed, but no open fulfillment order holds anything (every allocation withdrawn).
    order_transition(order=order, to_status="routed", actor="routing")
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        order_route_task, "apply_async", lambda args, queue: queued.append((*args, queue))
    )
    with django_capture_on_commit_callbacks(execute=True):
        order_edit(
            order_id=order.pk,
            changes=OrderEdit(
                quantities=(LineQuantityChange(line_id=_shirt(order).pk, quantity=3),)
            ),
            actor="anna",
        )
    order.refresh_from_db()
    assert queued == [(order.pk, order.version, "retry", "routing")]
    # The queued task routes every unit of the new quantity.
    assert order_route(order_id=order.pk, expected_version=order.version, trigger="retry")
    ((code, _, lines),) = fulfillment_orders(order)
    assert (code, sum(quantity for _, quantity, _ in lines)) == ("wh-1", 3)
    assert FulfillmentOrder.objects.filter(order=order).count() == 1
    assert_ledger_consistent()
