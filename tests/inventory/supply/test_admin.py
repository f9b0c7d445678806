"""Supply back office: create, send, confirm, receive by scan, read-only records, permissions."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from inventory.models import PurchaseOrder, Receipt, StockLevel
from inventory.services.supply import purchase_order_lines_update
from omnilog.core.errors import Conflict, ValidationFailed
from tests.inventory.supply.factories import confirmed_order, supply_setup

pytestmark = pytest.mark.django_db

ADMIN = "/admin/inventory/purchaseorder/"


@pytest.fixture
def admin_client() -> Client:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_a_buyer_creates_sends_and_confirms_from_the_admin(admin_client: Client) -> None:
    supply = supply_setup()
    form = {
        "supplier": supply.supplier.pk,
        "location": supply.warehouse.pk,
        "reference": "",
        "expected_date": "",
        "note": "",
    }
    refused = admin_client.post(
        f"{ADMIN}add/", {**form, "lines_text": "SHIRT 5\nSHOES 3\nGHOST 1"}, follow=True
    )
    assert "Unknown SKU(s): GHOST." in refused.content.decode()
    refused = admin_client.post(f"{ADMIN}add/", {**form, "lines_text": "SHOES 3"})
    assert "Must be a multiple of the pack size (2)." in refused.content.decode()
    assert not PurchaseOrder.objects.exists()

    created = admin_client.post(
        f"{ADMIN}add/", {**form, "lines_text": "SHIRT 5 2031-05-02\nSHOES 4"}, follow=True
    )
    assert created.status_code == 200
    order = PurchaseOrder.objects.get()
    assert (order.status, order.created_by, order.lines.count()) == ("draft", "boss", 2)

    for action in ("send", "confirm"):
        response = admin_client.post(
            ADMIN, {"action": action, "_selected_action": [order.pk]}, follow=True
        )
        assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "confirmed"
    level = StockLevel.objects.get(product=supply.shirt, location=supply.warehouse)
    assert (level.incoming, level.incoming_expected_date) == (5, date(2031, 5, 2))

    # A refused action says why and changes nothing.
    response = admin_client.post(
        ADMIN, {"action": "send", "_selected_action": [order.pk]}, follow=True
    )
    assert f"{order.number}: A confirmed purchase order cannot become sent." in (
        response.content.decode()
    )
    listing = admin_client.get(f"{ADMIN}?status__exact=confirmed&q=SHIRT")
    assert order.number in listing.content.decode()


def test_receiving_by_scan_in_the_admin(admin_client: Client) -> None:
    supply = supply_setup()
    order = confirmed_order(supply, [(supply.shirt, 10, date(2031, 5, 2))])
    url = f"{ADMIN}{order.pk}/receive/"
    page = admin_client.get(url)
    assert page.status_code == 200
    key = page.context["form"].fields["idempotency_key"].initial
    data = {
        "scans": "3000000000011\n3000000000011\nSHIRT 5",
        "damaged": "SHIRT 1 broken",
        "note": "",
        "notice": "",
        "idempotency_key": key,
    }
    posted = admin_client.post(url, data)
    assert posted.status_code == 302
    receipt = Receipt.objects.get()
    assert posted["Location"] == f"/admin/inventory/receipt/{receipt.pk}/change/"
    again = admin_client.post(url, data)  # a double submit: the same receipt
    assert again.status_code == 302
    assert Receipt.objects.count() == 1
    level = StockLevel.objects.get(product=supply.shirt, location=supply.warehouse)
    assert (level.on_hand, level.damaged, level.incoming) == (8, 1, 2)
    bad = admin_client.post(url, {**data, "scans": "SHIRT many", "idempotency_key": "other"})
    assert "is not a number" in bad.content.decode()
    over = admin_client.post(
        url, {**data, "scans": "SHIRT 50", "damaged": "", "idempotency_key": "x"}
    )
    assert "More units than the order allows" in over.content.decode()
    assert Receipt.objects.count() == 1
    detail = admin_client.get(f"/admin/inventory/receipt/{receipt.pk}/change/")
    assert detail.status_code == 200


def test_receiving_needs_the_permission() -> None:
    supply = supply_setup()
    order = confirmed_order(supply, [(supply.shirt, 10, None)])
    clerk = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_purchaseorder"))
    client = Client()
    client.force_login(clerk)
    assert client.get(f"{ADMIN}{order.pk}/receive/").status_code == 403
    response = client.post(ADMIN, {"action": "cancel", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert response.status_code in (200, 302, 403)


def test_draft_lines_change_under_the_creation_rules() -> None:
    supply = supply_setup()
    order = confirmed_order(supply, [(supply.shirt, 2, None)])
    with pytest.raises(Conflict):
        purchase_order_lines_update(
            purchase_order_id=order.pk, changes=[(order.lines.get().pk, 3, None)], actor="b"
        )
    from inventory.services.supply import purchase_order_create

    draft = purchase_order_create(
        supplier=supply.supplier,
        location=supply.warehouse,
        lines=[(supply.shoes, 2, None)],
        actor="b",
    )
    line = draft.lines.get()
    with pytest.raises(ValidationFailed) as refused:
        purchase_order_lines_update(
            purchase_order_id=draft.pk, changes=[(line.pk, 3, None)], actor="b"
        )
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("lines.0.quantity", "pack_size")
    ]
    purchase_order_lines_update(
        purchase_order_id=draft.pk, changes=[(line.pk, 6, date(2031, 1, 5))], actor="b"
    )
    line.refresh_from_db()
    assert (line.quantity_ordered, line.expected_date) == (6, date(2031, 1, 5))


def test_changelist_query_count_does_not_grow(admin_client: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    supply = supply_setup()
    confirmed_order(supply, [(supply.shirt, 2, None)])

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(ADMIN).status_code == 200
        return len(captured)

    before = count()
    for _ in range(6):
        confirmed_order(supply, [(supply.shirt, 2, None), (supply.shoes, 2, None)])
    assert count() == before
