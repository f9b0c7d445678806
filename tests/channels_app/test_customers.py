"""One customer across channels: resolve (loyalty id, e-mail, phone), race-safe creation, merge."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from channels_app.customers import customer_merge as channels_customer_merge
from channels_app.customers import customer_resolve
from channels_app.models import Address, Customer, PriceList
from omnilog.core.errors import ValidationFailed
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent
from orders.services.customers import customer_merge
from tests.factories import CustomerFactory, SalesChannelFactory

pytestmark = pytest.mark.django_db


def test_a_new_identity_creates_a_customer_with_normalised_contacts() -> None:
    channel = SalesChannelFactory(code="web")
    customer = customer_resolve(
        email=" Ana@Example.COM ",
        phone="+33 6 12-34-56-78",
        first_name="Ana",
        channel_id=channel.id,
    )
    assert (customer.email, customer.phone, customer.first_name, customer.first_channel_id) == (
        "ana@example.com",
        "+33612345678",
        "Ana",
        channel.id,
    )


def test_matching_prefers_loyalty_id_then_email_then_phone() -> None:
    by_phone = Customer.objects.create(phone="0612345678")
    by_email = Customer.objects.create(email="Ana@example.com")
    by_loyalty = Customer.objects.create(loyalty_id="L-1")
    assert (
        customer_resolve(email="ana@example.com", phone="06 12 34 56 78", loyalty_id="L-1")
        == by_loyalty
    )
    assert customer_resolve(email="ANA@EXAMPLE.COM", phone="06 12 34 56 78") == by_email
    assert customer_resolve(phone="06.12.34.56.78") == by_phone
    assert Customer.objects.count() == 3


def test_a_match_gains_the_identifiers_it_lacked_but_never_loses_its_own() -> None:
    channel = SalesChannelFactory(code="web")
    customer = Customer.objects.create(
        email="ana@example.com", first_name="Ana", first_channel=channel
    )
    resolved = customer_resolve(
        email="ana@example.com",
        phone="0600000000",
        first_name="Anna",
        loyalty_id="L-9",
        channel_id=channel.id,
    )
    customer.refresh_from_db()
    assert resolved.pk == customer.pk
    assert (customer.phone, customer.loyalty_id, customer.first_name) == (
        "0600000000",
        "L-9",
        "Ana",
    )


@pytest.mark.parametrize("first_channel_code", ["web", None])
def test_a_match_from_another_channel_or_the_back_office_is_not_written_to(
    first_channel_code: str | None,
) -> None:
    web, app = SalesChannelFactory(code="web"), SalesChannelFactory(code="app")
    owner = web if first_channel_code else None
    customer = Customer.objects.create(email="ana@example.com", first_channel=owner)
    before = Customer.objects.values().get(pk=customer.pk)

    resolved = customer_resolve(
        email="ana@example.com", phone="0600000000", first_name="Eve", channel_id=app.id
    )

    assert resolved.pk == customer.pk
    assert Customer.objects.values().get(pk=customer.pk) == before


def test_an_identity_is_required() -> None:
    with pytest.raises(ValidationFailed) as error:
        customer_resolve(first_name="Nobody")
    assert [e.field for e in error.value.field_errors] == ["customer"]
    assert Customer.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_resolves_of_one_email_create_one_customer() -> None:
    barrier = threading.Barrier(8)
    found: list[int] = []

    def resolve() -> None:
        try:
            barrier.wait(timeout=30)
            found.append(customer_resolve(email="race@example.com").pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=resolve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(found) == 8
    assert len(set(found)) == 1
    assert Customer.objects.count() == 1


def _order(channel, customer, number: str) -> Order:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    return Order.objects.create(
        number=number,
        channel=channel,
        customer=customer,
        currency="EUR",
        subtotal=10,
        grand_total=10,
        delivery_mode="home_standard",
        placed_at=timezone.now(),
    )


def test_merge_moves_orders_addresses_price_lists_and_fills_blanks() -> None:
    channel = SalesChannelFactory(code="web")
    keep = CustomerFactory(email="keep@example.com", phone="")
    merged = CustomerFactory(email="old@example.com", phone="0611111111", loyalty_id="L-5")
    orders = [_order(channel, merged, "OM-900001"), _order(channel, keep, "OM-900002")]
    Address.objects.create(customer=merged, line1="1 rue", postcode="75001", city="Paris")
    PriceList.objects.create(code="b2b-old", name="Old", customer=merged)

    result = customer_merge(keep_id=keep.pk, merge_id=merged.pk, actor="admin:jo")

    assert result.pk == keep.pk
    assert not Customer.objects.filter(pk=merged.pk).exists()
    assert set(Order.objects.values_list("customer_id", flat=True)) == {keep.pk}
    assert Address.objects.get().customer_id == keep.pk
    assert PriceList.objects.get().customer_id == keep.pk
    keep.refresh_from_db()
    assert (keep.email, keep.phone, keep.loyalty_id) == ("keep@example.com", "0611111111", "L-5")
    assert list(OrderEvent.objects.values_list("order_id", "kind")) == [(orders[0].pk, "note")]
    event = OutboxEvent.objects.get(topic="customer.merged")
    assert event.payload == {
        "customer_id": keep.pk,
        "merged_customer_id": merged.pk,
        "addresses_moved": 1,
        "price_lists_moved": 1,
        "actor": "admin:jo",
    }


def test_the_channels_merge_alone_refuses_a_customer_with_orders() -> None:
    from django.db.models import ProtectedError

    channel = SalesChannelFactory(code="web")
    keep, merged = CustomerFactory(), CustomerFactory()
    _order(channel, merged, "OM-900003")
    with pytest.raises(ProtectedError):
        channels_customer_merge(keep_id=keep.pk, merge_id=merged.pk, actor="admin")
    assert Customer.objects.filter(pk=merged.pk).exists()


def test_a_customer_cannot_merge_into_itself() -> None:
    customer = CustomerFactory()
    with pytest.raises(ValidationFailed):
        customer_merge(keep_id=customer.pk, merge_id=customer.pk, actor="admin")
