"""The price quote names only the channel's own customers: another channel's customer id is
answered exactly as an id that does not exist (no existence oracle, no borrowed B2B prices)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from channels_app.models import Customer, PriceList, PriceListItem, SalesChannel, TaxRate
from channels_app.pricing import CartLine
from channels_app.selectors import cart_price
from orders.models import Order
from tests.factories import CustomerFactory, SalesChannelFactory, channel_api_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/prices/quote"
BODY: dict[str, Any] = {"lines": [{"sku": "TEE", "quantity": 2}], "at": "2025-06-01T12:00:00Z"}


@pytest.fixture
def world() -> dict[str, Any]:
    web, app = SalesChannelFactory(code="web"), SalesChannelFactory(code="app")
    TaxRate.objects.create(country="FR", tax_class="standard", rate=Decimal("20.00"))
    base = PriceList.objects.create(code="base", name="Base")
    PriceListItem.objects.create(price_list=base, sku="TEE", unit_price=Decimal("24.00"))
    acme = CustomerFactory(company_name="Acme SAS", first_channel=web)
    b2b = PriceList.objects.create(
        code="acme", name="Acme", customer=acme, prices_include_tax=False
    )
    PriceListItem.objects.create(price_list=b2b, sku="TEE", unit_price=Decimal("15.00"))
    return {"web": web, "app": app, "acme": acme}


def quote(channel: SalesChannel, customer_id: int) -> tuple[int, dict[str, Any]]:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=channel_api_key(channel))
    response = client.post(URL, {**BODY, "customer_id": customer_id}, format="json")
    return response.status_code, response.json()


def _unknown_id() -> int:
    return max(Customer.objects.values_list("id", flat=True)) + 1000


def test_another_channels_customer_is_answered_as_an_unknown_one(world: dict[str, Any]) -> None:
    acme = world["acme"]
    # Orders on the channel (made by matching an e-mail, say) do not link the customer to it.
    Order.objects.create(
        number="OM-990001",
        channel=world["app"],
        customer=acme,
        currency="EUR",
        subtotal=10,
        grand_total=10,
        delivery_mode="home_standard",
        placed_at=timezone.now(),
    )
    back_office = CustomerFactory(company_name="Nobody's SAS")  # no first channel

    unknown = quote(world["app"], _unknown_id())

    assert unknown == (
        422,
        {
            **unknown[1],
            "errors": [
                {"field": "customer_id", "code": "not_found", "message": "No such customer."}
            ],
        },
    )
    assert quote(world["app"], acme.pk) == unknown
    assert quote(world["app"], back_office.pk) == unknown
    assert quote(world["web"], back_office.pk) == quote(world["web"], _unknown_id())


def test_the_customers_own_channel_quotes_with_its_list(world: dict[str, Any]) -> None:
    status, body = quote(world["web"], world["acme"].pk)
    assert status == 200, body
    assert (body["prices_include_tax"], body["lines"][0]["price_list_code"]) == (False, "acme")
    assert (body["lines"][0]["unit_price"], body["grand_total"]) == ("15.00", "36.00")


def test_a_resolved_customer_of_another_channel_prices_as_no_customer(
    world: dict[str, Any],
) -> None:
    lines = [CartLine(sku="TEE", quantity=2)]
    theirs = cart_price(channel=world["app"], lines=lines, customer=world["acme"])
    assert theirs == cart_price(channel=world["app"], lines=lines)
    assert (theirs.prices_include_tax, theirs.lines[0].price_list_code, theirs.grand_total) == (
        True,
        "base",
        Decimal("48.00"),
    )
