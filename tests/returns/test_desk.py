"""The store returns desk (Django test client): an online order returned at the counter,
opened on the spot, received and inspected, confirmed (restocked here); another store's
staff get 404s and nothing changes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from fulfillment.models_store import StoreStaff
from returns.models import ReturnRequest
from tests.factories import StoreFactory
from tests.inventory.helpers import assert_ledger_consistent
from tests.returns.support import atp, changed_nothing, counters, delivered_home_order

pytestmark = pytest.mark.django_db


def clerk(store, username: str = "lea") -> Client:  # type: ignore[no-untyped-def]
    user = User.objects.create_user(username, password="pw")
    StoreStaff.objects.create(user=user, location=store)
    client = Client()
    client.force_login(user)
    return client


def test_desk_receives_an_online_order_and_restocks_it_here() -> None:
    net, order = delivered_home_order({"MUG": 2, "SHIRT": 1})
    desk = clerk(net["store"])
    base = "/store/st-opera/returns/"
    home = desk.get(base)
    assert home.status_code == 200
    assert b'id="returns-q"' in home.content
    found = desk.get(base, {"q": order.number.lower()})
    assert found.status_code == 302
    assert found["Location"] == f"{base}order/{order.number}/"
    page = desk.get(found["Location"])
    assert b"MUG" in page.content
    mug = order.lines.get(sku="MUG").line_number
    opened = desk.post(found["Location"], {f"quantity-{mug}": "2", f"reason-{mug}": "changed_mind"})
    assert opened.status_code == 302, opened.content
    rma = ReturnRequest.objects.get(order=order)
    assert rma.location is not None
    assert (rma.status, rma.mode, rma.location.code) == ("approved", "store", "st-opera")
    line = rma.lines.get()
    rma_url = f"{base}rma/{rma.number}/"
    assert opened["Location"] == rma_url
    assert b"data-item-scan" in desk.get(rma_url).content
    desk.post(
        rma_url,
        {"action": "receive", f"quantity-{line.pk}": "2", f"condition-{line.pk}": "sellable"},
    )
    rma.refresh_from_db()
    assert rma.status == "inspected"
    confirm_page = desk.get(rma_url)
    assert b'data-proposal="restock_here"' in confirm_page.content
    assert counters("MUG", "st-opera") == (2, 0, 0, 2, 0)
    done = desk.post(rma_url, {"action": "confirm", f"disposition-{line.pk}": "restock_here"})
    assert done.status_code == 302
    rma.refresh_from_db()
    assert rma.status == "dispositioned"
    assert atp("MUG", "st-opera") == 2
    assert_ledger_consistent()


def test_desk_refusals_and_another_store() -> None:
    net, order = delivered_home_order({"MUG": 2})
    other = StoreFactory(code="st-lyon", channels=[net["web"]])
    desk, stranger = clerk(net["store"]), clerk(other, "max")
    base = "/store/st-opera/returns/"
    mug = order.lines.get(sku="MUG").line_number
    before = changed_nothing(order)
    too_many = desk.post(f"{base}order/{order.number}/", {f"quantity-{mug}": "5"}, follow=True)
    assert b"too_many" not in too_many.content  # a message for people, not a code
    assert b"At most 2 units" in too_many.content
    assert changed_nothing(order) == before
    desk.post(f"{base}order/{order.number}/", {f"quantity-{mug}": "1"})
    rma = ReturnRequest.objects.get(order=order)
    # Another store's staff: not a member of st-opera (404), and the return is not theirs.
    assert stranger.get(base).status_code == 404
    assert stranger.get(f"/store/st-lyon/returns/rma/{rma.number}/").status_code == 404
    line = rma.lines.get()
    refused = stranger.post(
        f"/store/st-lyon/returns/rma/{rma.number}/",
        {"action": "receive", f"quantity-{line.pk}": "1", f"condition-{line.pk}": "sellable"},
    )
    assert refused.status_code == 404
    rma.refresh_from_db()
    assert rma.status == "approved"
