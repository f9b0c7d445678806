"""Admin: buyers review proposals (edit quantities, confirm, discard) through the services."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from inventory.models import PurchaseOrder, ReplenishmentProposal, ReplenishmentRule
from inventory.services.replenishment import replenishment_propose
from tests.inventory.replenishment.support import network

pytestmark = pytest.mark.django_db
URL = "/admin/inventory/replenishmentproposal/"


def test_proposal_pages_and_confirm_action(admin_client: Client) -> None:
    network()
    replenishment_propose()
    listing = admin_client.get(URL)
    assert listing.status_code == 200
    purchase = ReplenishmentProposal.objects.get(kind="purchase")
    page = admin_client.get(f"{URL}{purchase.pk}/change/")
    assert page.status_code == 200
    assert b"pack of 6 -&gt; 30: order 30" in page.content
    response = admin_client.post(
        URL,
        {"action": "confirm", "_selected_action": [purchase.pk, purchase.pk]},
        follow=True,
    )
    assert response.status_code == 200
    order = PurchaseOrder.objects.get()
    messages = [str(message) for message in response.context["messages"]]
    assert f"Proposal {purchase.pk}: purchase order {order.number} (draft)." in messages
    assert "1 proposal(s) confirmed." in messages


def test_quantity_edit_goes_through_the_service_and_refusals_are_messages(
    admin_client: Client,
) -> None:
    network()
    replenishment_propose()
    purchase = ReplenishmentProposal.objects.get(kind="purchase")
    line = purchase.lines.get()
    form = {
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "1",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-id": str(line.pk),
        "lines-0-proposal": str(purchase.pk),
        "lines-0-quantity": "25",
        "_save": "Save",
    }
    assert admin_client.post(f"{URL}{purchase.pk}/change/", form).status_code == 302
    line.refresh_from_db()
    assert (line.quantity, line.proposed_quantity) == (25, 30)
    response = admin_client.post(
        URL, {"action": "confirm", "_selected_action": [purchase.pk]}, follow=True
    )
    messages = [str(message) for message in response.context["messages"]]
    assert any(message.startswith(f"Proposal {purchase.pk}: ") for message in messages)
    assert "0 proposal(s) confirmed." in messages
    assert PurchaseOrder.objects.count() == 0
    admin_client.post(URL, {"action": "discard", "_selected_action": [purchase.pk]})
    purchase.refresh_from_db()
    assert purchase.status == "discarded"


def test_actions_need_the_change_permission(client: Client) -> None:
    network()
    replenishment_propose()
    viewer = get_user_model().objects.create_user("viewer", password="secret", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_replenishmentproposal"),
        Permission.objects.get(codename="view_replenishmentrule"),
    )
    client.force_login(viewer)
    purchase = ReplenishmentProposal.objects.get(kind="purchase")
    response = client.post(URL, {"action": "confirm", "_selected_action": [purchase.pk]})
    assert response.status_code in (200, 302)
    purchase.refresh_from_db()
    assert (purchase.status, PurchaseOrder.objects.count()) == ("open", 0)


def test_rule_admin_runs_a_proposal_now(admin_client: Client) -> None:
    net = network()
    response = admin_client.post(
        "/admin/inventory/replenishmentrule/",
        {"action": "propose_now", "_selected_action": [net.transfer_rule.pk]},
        follow=True,
    )
    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["1 rule(s) reviewed at st: 1 open proposal(s) written, 0 replaced."]
    assert ReplenishmentProposal.objects.get().kind == "transfer"
    assert admin_client.get("/admin/inventory/replenishmentrule/").status_code == 200
    assert (
        admin_client.get(
            f"/admin/inventory/replenishmentrule/{net.purchase_rule.pk}/change/"
        ).status_code
        == 200
    )
    assert ReplenishmentRule.objects.count() == 2
    assert admin_client.get("/admin/inventory/masterdatafeedjob/").status_code == 200
