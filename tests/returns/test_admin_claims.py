"""Claims in the admin: the list (filters by status, kind, resolution and channel; search by
claim number, order number and e-mail), the claim page (lines, refunds, the replacement
order's link) and the actions through the claim services: resolve by reshipping or by refund,
refuse with a reason, request a failed refund again. Actions need ``returns.change_claim``;
bad input gets a clear admin message and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from inventory.models import Reservation, StockLevel, StockMovement
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent
from returns.models import Claim, Refund
from returns.services.claims import ClaimInput, claim_open, claim_refund_settle
from returns.services.common import Actor
from tests.returns.refunds.shop import place, shipped, shop

pytestmark = pytest.mark.django_db
URL = "/admin/returns/claim/"
STAFF = Actor(name="staff:nina", source="admin")


def lost_claim(
    net: dict[str, Any], lines: dict[str, int], resolution: str, channel: str = "web", **kw: Any
) -> Claim:
    """A claim for the lost parcel of a new order of ``channel`` (opened by its key)."""
    order = place(net[channel], lines, **kw)
    shipment = shipped(order, delivered=False)
    return claim_open(
        order_id=order.pk,
        data=ClaimInput(
            tracking_number=shipment.tracking_number, kind="lost", resolution=resolution
        ),
        actor=Actor(name=channel, channel_id=net[channel].pk),
    )


def admin_client(*codenames: str) -> Client:
    """A superuser without ``codenames``; otherwise staff with exactly those permissions."""
    client = Client()
    if not codenames:
        client.force_login(User.objects.create_superuser("boss", password="pw"))
        return client
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def act(client: Client, action: str, claims: list[Claim], **fields: str) -> str:
    """Run ``action`` on ``claims``; the admin messages of the resulting page."""
    response = client.post(
        URL,
        {"action": action, "_selected_action": [claim.pk for claim in claims], **fields},
        follow=True,
    )
    assert response.status_code == 200
    return " | ".join(str(message) for message in response.context["messages"])


def snapshot() -> dict[str, Any]:
    """Everything a refused action must leave as it was."""
    return {
        "claims": list(Claim.objects.order_by("id").values()),
        "orders": Order.objects.count(),
        "refunds": Refund.objects.count(),
        "events": OrderEvent.objects.count(),
        "outbox": OutboxEvent.objects.count(),
        "reservations": Reservation.objects.count(),
        "levels": list(StockLevel.objects.order_by("id").values()),
        "movements": StockMovement.objects.count(),
    }


def test_list_filters_search_and_the_claim_page(django_assert_max_num_queries: Any) -> None:
    net = shop()
    reship = lost_claim(net, {"SHIRT-S": 1}, "reship", email="ines@example.com")
    refund = lost_claim(net, {"BAG": 1}, "refund")
    lost_claim(net, {"SHIRT-S": 1}, "reship", channel="pro", company="Acme")
    client = admin_client()
    with django_assert_max_num_queries(20):
        page = client.get(
            URL,
            {
                "status__exact": "open",
                "kind__exact": "lost",
                "resolution__exact": "reship",
                "order__channel__id__exact": net["web"].pk,
            },
        )
    assert page.status_code == 200
    assert [claim.number for claim in page.context["cl"].result_list] == [reship.number]
    for query in (reship.number, reship.order.number, "ines@example.com"):
        found = client.get(URL, {"q": query})
        assert [claim.number for claim in found.context["cl"].result_list] == [reship.number]
    assert act(client, "resolve_reship", [reship]) == "1 claim(s) resolved by reshipping."
    assert act(client, "resolve_refund", [refund]) == "1 claim(s) resolved by refund."
    with django_assert_max_num_queries(20):
        listed = client.get(URL)
    reship.refresh_from_db()
    assert reship.replacement_order is not None
    order_url = reverse("admin:orders_order_change", args=[reship.replacement_order_id])
    assert f'<a href="{order_url}">{reship.replacement_order.number}</a>' in listed.text

    detail = client.get(f"{URL}{reship.pk}/change/")
    assert detail.status_code == 200
    assert f'<a href="{order_url}">{reship.replacement_order.number}</a>' in detail.text
    assert "SHIRT-S" in detail.text  # its line
    money = client.get(f"{URL}{refund.pk}/change/")
    assert Refund.objects.get(claim=refund).reference in money.text
    assert "24.50" in money.text
    # No field of a claim is edited by hand: every change goes through the actions.
    assert b'name="notes"' not in detail.content


def test_resolve_by_reshipping_and_by_refund_through_the_services() -> None:
    net = shop()
    reship = lost_claim(net, {"SHIRT-S": 2}, "refund")  # staff decide otherwise
    refund = lost_claim(net, {"BAG": 1}, "reship")
    client = admin_client("view_claim", "change_claim")
    assert act(client, "resolve_reship", [reship], note="Carrier confirmed the loss") == (
        "1 claim(s) resolved by reshipping."
    )
    reship.refresh_from_db()
    assert (reship.status, reship.resolution) == ("resolved", "reship")
    assert "Carrier confirmed the loss" in reship.notes
    replacement = reship.replacement_order
    assert replacement is not None
    assert list(replacement.lines.values_list("sku", "quantity")) == [("SHIRT-S", 2)]
    assert str(replacement.grand_total) == "0.00"
    assert not Refund.objects.filter(claim=reship).exists()

    assert act(client, "resolve_refund", [refund]) == "1 claim(s) resolved by refund."
    refund.refresh_from_db()
    assert (refund.status, refund.resolution, refund.replacement_order_id) == (
        "resolved",
        "refund",
        None,
    )
    paid = Refund.objects.get(claim=refund)
    assert (paid.status, str(paid.amount)) == ("requested", "24.50")
    topics = OutboxEvent.objects.filter(topic__startswith="claim.").values_list("topic", flat=True)
    assert sorted(topics) == sorted(
        ["claim.opened"] * 2 + ["claim.resolved"] * 2 + ["claim.refund_requested"]
    )
    actors = OrderEvent.objects.filter(message__startswith=f"Claim {refund.number} resolved")
    assert list(actors.values_list("actor", flat=True)) == ["staff:clerk"]


def test_refuse_needs_a_reason_of_at_most_300_characters() -> None:
    net = shop()
    claim = lost_claim(net, {"BAG": 1}, "refund")
    client = admin_client()
    before = snapshot()
    assert act(client, "refuse_claims", [claim], reason="   ") == "Give the reason to refuse."
    assert act(client, "refuse_claims", [claim], reason="x" * 301) == (
        "The reason is too long: at most 300 characters (301)."
    )
    assert snapshot() == before
    assert act(client, "refuse_claims", [claim], reason="Delivered: signed by the customer") == (
        "1 claim(s) refused."
    )
    claim.refresh_from_db()
    assert (claim.status, claim.refusal_reason) == ("refused", "Delivered: signed by the customer")
    assert OutboxEvent.objects.filter(topic="claim.refused").count() == 1


def test_refused_actions_say_why_and_change_nothing() -> None:
    net = shop()
    done = lost_claim(net, {"BAG": 1}, "refund")
    short = lost_claim(net, {"CAP": 2}, "reship")  # the last two caps left with the parcel
    client = admin_client()
    assert act(client, "resolve_refund", [done]) == "1 claim(s) resolved by refund."
    before = snapshot()

    # Already resolved: the service's conflict, per claim.
    said = act(client, "resolve_reship", [done])
    assert said == f"{done.number}: Claim {done.number} is resolved and cannot become resolved."
    # Nothing to reship: the stock error, the claim stays open.
    said = act(client, "resolve_reship", [short])
    assert said == (
        f"{short.number}: 1 line(s) cannot be reserved: not enough stock. "
        "lines.0.quantity: Only 0 available, 2 requested."
    )
    # A note too long for the claim.
    said = act(client, "resolve_refund", [short], note="n" * 2001)
    assert said == "The note is too long: at most 2000 characters (2001)."
    # A refund asked again while the first one is pending.
    said = act(client, "request_refund_again", [done])
    assert said == f"{done.number}: Claim {done.number} has its refund."
    assert snapshot() == before

    # A mixed selection: the open claim is resolved, the other one says why it is not.
    said = act(client, "resolve_refund", [done, short])
    assert said == (
        f"{done.number}: Claim {done.number} is resolved and cannot become resolved."
        " | 1 claim(s) resolved by refund."
    )
    short.refresh_from_db()
    assert (short.status, short.resolution) == ("resolved", "refund")


def test_a_failed_refund_is_requested_again() -> None:
    net = shop()
    claim = lost_claim(net, {"BAG": 1}, "refund")
    client = admin_client()
    act(client, "resolve_refund", [claim])
    first = Refund.objects.get(claim=claim)
    claim_refund_settle(
        reference=first.reference, is_confirmed=False, failure_reason="card expired", actor=STAFF
    )
    assert act(client, "request_refund_again", [claim]) == (
        "1 claim(s) sent to the payment system again."
    )
    assert list(Refund.objects.filter(claim=claim).values_list("status", flat=True)) == [
        "requested",
        "failed",
    ]
    page = client.get(f"{URL}{claim.pk}/change/")
    assert "card expired" in page.text


def test_actions_need_the_change_claim_permission() -> None:
    net = shop()
    claim = lost_claim(net, {"BAG": 1}, "refund")
    viewer = admin_client("view_claim")
    listed = viewer.get(URL)
    assert listed.status_code == 200
    assert b"resolve_refund" not in listed.content  # the actions are not offered
    assert viewer.get(f"{URL}{claim.pk}/change/").status_code == 200
    before = snapshot()
    for action, fields in (
        ("resolve_reship", {}),
        ("resolve_refund", {}),
        ("refuse_claims", {"reason": "no"}),
        ("request_refund_again", {}),
    ):
        response = viewer.post(
            URL, {"action": action, "_selected_action": [claim.pk], **fields}, follow=True
        )
        assert response.status_code == 200
        assert list(response.context["messages"]) == []
    assert snapshot() == before
