"""Admin actions that write need the matching permission: a view-only staff member changes
nothing (the action is not offered, and posting it anyway has no effect)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from channels_app.models import Customer
from orders.models import Order
from tests.orders.lifecycle_support import place, shop

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders/order/"
CUSTOMERS = "/admin/channels_app/customer/"


def staff_with(*codenames: str) -> Client:
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    web = shop()["web"]
    keep = place(web, {"SHIRT": 1}, email="keep@example.com")
    other = place(web, {"SHIRT": 1}, email="other@example.com")
    return {
        "order": keep,
        "keep": Customer.objects.get(email="keep@example.com"),
        "other": Customer.objects.get(email="other@example.com"),
        "other_order": other,
    }


def _actions(client: Client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is offered at all
    return set() if form is None else {name for name, _ in form.fields["action"].choices}


def test_a_view_only_staff_member_cannot_cancel_hold_or_release(world) -> None:  # type: ignore[no-untyped-def]
    viewer = staff_with("view_order")
    assert not {"hold_orders", "release_orders", "cancel_orders"} & _actions(viewer, ORDERS)
    order = world["order"]
    for action in ("cancel_orders", "hold_orders"):
        viewer.post(ORDERS, {"action": action, "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert (order.status, order.events.count()) == ("placed", 1)


def test_a_change_permission_cancels(world) -> None:  # type: ignore[no-untyped-def]
    editor = staff_with("view_order", "change_order")
    assert {"hold_orders", "release_orders", "cancel_orders"} <= _actions(editor, ORDERS)
    order = world["order"]
    editor.post(ORDERS, {"action": "cancel_orders", "_selected_action": [order.pk]})
    assert Order.objects.get(pk=order.pk).status == "cancelled"


@pytest.mark.parametrize(
    "codenames",
    [
        ("view_customer",),
        ("view_customer", "change_customer"),
        ("view_customer", "delete_customer"),
    ],
)
def test_merging_customers_needs_change_and_delete(world, codenames) -> None:  # type: ignore[no-untyped-def]
    clerk = staff_with(*codenames)
    assert "merge_customers" not in _actions(clerk, CUSTOMERS)
    keep, other = world["keep"], world["other"]
    clerk.post(
        CUSTOMERS,
        {
            "action": "merge_customers",
            "_selected_action": [keep.pk, other.pk],
            "confirm": "yes",
            "keep": keep.pk,
        },
    )
    assert Customer.objects.filter(pk=other.pk).exists()
    assert Order.objects.get(pk=world["other_order"].pk).customer_id == other.pk


def test_change_and_delete_permissions_merge(world) -> None:  # type: ignore[no-untyped-def]
    clerk = staff_with("view_customer", "change_customer", "delete_customer")
    keep, other = world["keep"], world["other"]
    clerk.post(
        CUSTOMERS,
        {
            "action": "merge_customers",
            "_selected_action": [keep.pk, other.pk],
            "confirm": "yes",
            "keep": keep.pk,
        },
    )
    assert not Customer.objects.filter(pk=other.pk).exists()
    assert Order.objects.get(pk=world["other_order"].pk).customer_id == keep.pk
