"""Orders back office: changelist filters and search, order page, actions, edit form, merge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_app.models import Customer
from orders.models import Order
from tests.orders.lifecycle_support import active, line, place, reserved, shop

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    return shop()


@pytest.fixture
def staff(db) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(User.objects.create_superuser("anna", "anna@example.com", "pw"))
    return client


def _numbers(response) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(order.number for order in response.context["cl"].result_list)


@pytest.fixture
def orders(world):  # type: ignore[no-untyped-def]
    home = place(world["web"], {"SHIRT": 1}, email="late@example.com")
    store = place(world["web"], {"HAT": 1}, store=world["store"], email="store@example.com")
    pending = place(world["web"], {"SHOES": 1}, payment_status="pending", email="p@example.com")
    Order.objects.filter(pk=home.pk).update(
        promised_date=timezone.localdate() - timedelta(days=2), external_id="EXT-1"
    )
    Order.objects.filter(pk=store.pk).update(
        promised_date=timezone.localdate() - timedelta(days=2), status="collected"
    )
    return {"home": home, "store": store, "pending": pending}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("late=yes", ["home"]),
        ("late=no", ["pending", "store"]),
        ("delivery_mode__exact=click_and_collect", ["store"]),
        ("status__exact=collected", ["store"]),
        ("payment_status__exact=pending", ["pending"]),
        ("q=EXT-1", ["home"]),
        ("q=p%40example.com", ["pending"]),
        ("channel__id__exact={web}", ["home", "pending", "store"]),
        ("pickup_location={store}", ["store"]),
    ],
)
def test_changelist_filters_and_search(staff, world, orders, query, expected) -> None:  # type: ignore[no-untyped-def]
    url = f"{CHANGELIST}?{query.format(web=world['web'].id, store=world['store'].id)}"
    response = staff.get(url)
    assert response.status_code == 200
    assert _numbers(response) == sorted(orders[name].number for name in expected)


def test_changelist_query_count_does_not_grow_with_orders(staff, world, orders) -> None:  # type: ignore[no-untyped-def]
    url = f"{CHANGELIST}?late=yes&channel__id__exact={world['web'].id}"
    with CaptureQueriesContext(connection) as few:
        assert staff.get(url).status_code == 200
    for index in range(5):
        place(world["web"], {"SHIRT": 1}, email=f"more{index}@example.com")
    with CaptureQueriesContext(connection) as many:
        assert staff.get(f"{CHANGELIST}?channel__id__exact={world['web'].id}").status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 12


def test_order_page_shows_lines_timeline_and_reservations(staff, world, orders) -> None:  # type: ignore[no-untyped-def]
    order = orders["pending"]
    response = staff.get(f"{CHANGELIST}{order.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Reservations and allocations" in html
    assert "<td>SHOES</td><td>wh-paris</td><td>pool</td><td>hold</td><td>active</td>" in html
    assert "timeline" in html.lower()
    assert staff.get(f"{CHANGELIST}{order.pk}/edit/").status_code == 200


def test_actions_hold_release_cancel(staff, world, orders) -> None:  # type: ignore[no-untyped-def]
    home, collected = orders["home"], orders["store"]
    response = staff.post(
        CHANGELIST,
        {"action": "hold_orders", "_selected_action": [home.pk, collected.pk], "reason": "Fraud"},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert (
        f"{collected.number}: Order {collected.number} cannot go from collected to on_hold."
        in texts
    )
    assert "1 order(s) put on hold." in texts
    home.refresh_from_db()
    assert (home.status, home.hold_reason) == ("on_hold", "Fraud")
    assert home.events.latest("id").actor == "anna"

    staff.post(CHANGELIST, {"action": "release_orders", "_selected_action": [home.pk]})
    assert Order.objects.get(pk=home.pk).status == "placed"
    staff.post(CHANGELIST, {"action": "cancel_orders", "_selected_action": [home.pk]})
    home.refresh_from_db()
    assert home.status == "cancelled"
    assert home.events.latest("id").message == "Cancelled from the back office"
    assert reserved(world["shirt"], world["warehouse"]) == 0


def test_edit_form_calls_order_edit(staff, world, orders) -> None:  # type: ignore[no-untyped-def]
    order = orders["home"]
    shirt = line(order, "SHIRT")
    url = f"{CHANGELIST}{order.pk}/edit/"

    short = staff.post(url, {f"line_{shirt.pk}": 99, "delivery_mode": "home_standard"})
    assert short.status_code == 200
    assert "cannot be reserved: not enough stock" in short.content.decode()
    assert line(order, "SHIRT").quantity == 1

    done = staff.post(
        url,
        {
            f"line_{shirt.pk}": 3,
            "delivery_mode": "click_and_collect",
            "pickup_location": world["store"].pk,
        },
    )
    assert done.status_code == 302
    assert active(line(order, "SHIRT")) == [("st-lyon", 3, "order", "location")]
    assert order.events.latest("id").kind == "edited"


def test_customer_merge_action(staff, world, orders) -> None:  # type: ignore[no-untyped-def]
    keep = Customer.objects.get(email="late@example.com")
    other = Customer.objects.get(email="p@example.com")
    url = "/admin/channels_app/customer/"
    selected = {"action": "merge_customers", "_selected_action": [keep.pk, other.pk]}

    confirm = staff.post(url, selected)
    assert confirm.status_code == 200
    assert "Customer to keep" in confirm.content.decode()

    done = staff.post(url, {**selected, "confirm": "yes", "keep": keep.pk}, follow=True)
    assert [str(m) for m in done.context["messages"]] == [f"1 customer(s) merged into #{keep.pk}."]
    assert not Customer.objects.filter(pk=other.pk).exists()
    assert Order.objects.get(pk=orders["pending"].pk).customer_id == keep.pk
