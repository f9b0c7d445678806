"""One customer across channels, private per channel: a channel matching another channel's
customer (loyalty id, e-mail or phone) learns nothing of it, writes nothing to it and does not
get its prices; the back office still sees one customer with both orders."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from channels_app.models import Customer, PriceList, PriceListItem
from orders.models import Order
from orders.services.customers import customer_merge
from tests.orders.capture_helpers import Catalogue, catalogue_build, order_body, post_order

pytestmark = pytest.mark.django_db

# Everything channel A knows of its customer; none of it may reach channel B.
VICTIM = {
    "email": "victim@example.com",
    "phone": "+33611111111",
    "loyalty_id": "L-VICTIM",
    "first_name": "Alice",
    "last_name": "Secret",
    "company_name": "Victim SAS",
}


@pytest.fixture
def world() -> dict[str, Any]:
    a, b = catalogue_build(code="web"), catalogue_build(code="app")
    victim = Customer.objects.create(**VICTIM, first_channel=a.channel)  # vat_number blank
    b2b = PriceList.objects.create(
        code="victim-b2b", name="Victim", customer=victim, prices_include_tax=False
    )
    PriceListItem.objects.bulk_create(
        [
            PriceListItem(price_list=b2b, sku=catalogue.shirt.sku, unit_price=Decimal("5.00"))
            for catalogue in (a, b)
        ]
    )
    return {"a": a, "b": b, "victim": victim}


def _leaks(document: Any, sent: dict[str, str]) -> list[str]:
    """The victim's identifiers and names, but those the channel ``sent``, found anywhere in a
    response body."""
    text = json.dumps(document)
    return [value for value in VICTIM.values() if value not in sent.values() and value in text]


def _customer(catalogue: Catalogue, order_id: int) -> dict[str, Any]:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=catalogue.key)
    return dict(client.get(f"/api/v1/orders/{order_id}").json()["customer"])


@pytest.mark.parametrize(
    ("identity", "shown"),
    [
        pytest.param({"loyalty_id": "L-VICTIM"}, {"email": "", "phone": ""}, id="loyalty-id"),
        pytest.param(
            {"email": "VICTIM@example.com"},
            {"email": "victim@example.com", "phone": ""},
            id="email",
        ),
        pytest.param(
            {"phone": "+33 6 11 11 11 11"}, {"email": "", "phone": "+33611111111"}, id="phone"
        ),
    ],
)
def test_another_channels_customer_matched_leaks_nothing_and_is_not_written(
    world: dict[str, Any], identity: dict[str, str], shown: dict[str, str]
) -> None:
    a, b, victim = world["a"], world["b"], world["victim"]
    before = Customer.objects.values().get(pk=victim.pk)
    own = {"first_name": "Eve", "last_name": "", "company_name": "", "vat_number": "FR-EVE"}
    body = order_body(b, external_id="APP-1", customer={**identity, **own})

    placed = post_order(Client(), b.key, body)

    assert placed.status_code == 201, placed.content
    order = Order.objects.get(channel=b.channel)
    expected = {**shown, "first_name": "Eve", "last_name": "", "company_name": ""}
    assert placed.json()["customer"] == expected
    # Every door a channel has onto its order; the exact customer dicts carry no "id".
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=b.key)
    base = f"/api/v1/orders/{order.pk}"
    responses = {
        "capture": placed.json(),
        "detail": client.get(base).json(),
        "list": client.get("/api/v1/orders/").json(),
        "tracking": client.get(f"{base}/tracking").json(),
        "hold": client.post(f"{base}/hold", {"reason": "Check"}, format="json").json(),
        "release": client.post(f"{base}/release", format="json").json(),
        "edit": client.patch(
            base, {"lines": [{"line_number": 1, "quantity": 1}]}, format="json"
        ).json(),
    }
    assert {door: _leaks(document, shown) for door, document in responses.items()} == {
        door: [] for door in responses
    }
    for door in ("detail", "hold", "release", "edit"):
        assert responses[door]["customer"] == expected, door
    assert responses["list"]["results"][0]["customer"] == expected
    # Channel B's prices: its base list, tax included, not the victim's B2B list (5.00 net).
    assert [(line["sku"], line["unit_price"]) for line in responses["edit"]["lines"]] == [
        (b.shirt.sku, "20.00"),
        (b.mug.sku, "7.50"),
    ]
    assert (responses["capture"]["grand_total"], responses["edit"]["grand_total"]) == (
        "47.50",
        "27.50",
    )
    assert order.pricing["prices_include_tax"] is True
    # The victim's record is untouched (vat_number was blank: still blank).
    assert Customer.objects.values().get(pk=victim.pk) == before

    # The back office: one customer, the order history spans both channels.
    mine = post_order(Client(), a.key, order_body(a, customer={"email": VICTIM["email"]}))
    assert mine.status_code == 201, mine.content
    assert Customer.objects.count() == 1
    assert sorted(
        Order.objects.filter(customer=victim).values_list("channel__code", flat=True)
    ) == ["app", "web"]


def test_the_customers_own_channel_keeps_its_prices_and_fills_blanks(
    world: dict[str, Any],
) -> None:
    a, victim = world["a"], world["victim"]
    body = order_body(a, customer={"loyalty_id": "L-VICTIM", "vat_number": "FR-ACME"})

    placed = post_order(Client(), a.key, body)

    assert placed.status_code == 201, placed.content
    # Even its own channel sees what this order was placed with, not the record.
    assert placed.json()["customer"] == {
        "email": "",
        "phone": "",
        "first_name": "",
        "last_name": "",
        "company_name": "",
    }
    assert _customer(a, placed.json()["id"]) == placed.json()["customer"]
    assert [(line["sku"], line["unit_price"]) for line in placed.json()["lines"]] == [
        (a.shirt.sku, "5.00"),  # the customer's B2B list, tax excluded
        (a.mug.sku, "6.25"),
    ]
    victim.refresh_from_db()
    assert (victim.vat_number, victim.first_name) == ("FR-ACME", "Alice")


def test_a_back_office_merge_shows_the_channel_no_customer_ids(world: dict[str, Any]) -> None:
    b, victim = world["b"], world["victim"]
    body = order_body(b, external_id="APP-2", customer={"email": "eve@example.com"})
    placed = post_order(Client(), b.key, body)
    assert placed.status_code == 201, placed.content
    duplicate = Customer.objects.get(email="eve@example.com")

    customer_merge(keep_id=victim.pk, merge_id=duplicate.pk, actor="admin:jo")

    client = APIClient()
    client.credentials(HTTP_X_API_KEY=b.key)
    tracking = client.get(f"/api/v1/orders/{placed.json()['id']}/tracking").json()
    assert [entry["message"] for entry in tracking["timeline"]] == [
        "Placed on App.",
        "Customer records merged in the back office.",
    ]
    assert _customer(b, placed.json()["id"])["email"] == "eve@example.com"
