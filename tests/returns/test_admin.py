"""Returns admin: the list with its filters and search, actions through the services
(approve, refuse with a reason, receive at a location, close) and their permission checks."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from returns.models import ReturnRequest
from returns.services.common import Actor
from returns.services.requests import ReturnInput, ReturnLineInput, return_request_create
from tests.returns.support import counters, delivered_home_order

pytestmark = pytest.mark.django_db
URL = "/admin/returns/returnrequest/"


def opened(order, store) -> ReturnRequest:  # type: ignore[no-untyped-def]
    mug = order.lines.get(sku="MUG")
    return return_request_create(
        order_id=order.pk,
        data=ReturnInput(
            lines=(ReturnLineInput(mug.line_number, 1, "wrong_size"),),
            mode="store",
            location_id=store.pk,
        ),
        actor=Actor("test"),
    )


def test_list_filters_search_and_actions(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    net, order = delivered_home_order({"MUG": 2})
    first, second = opened(order, net["store"]), opened(order, net["store"])
    admin = User.objects.create_superuser("boss", password="pw")
    client = Client()
    client.force_login(admin)
    with django_assert_max_num_queries(20):
        page = client.get(URL, {"status__exact": "requested", "lines__reason_code": "wrong_size"})
    assert page.status_code == 200
    assert first.number.encode() in page.content
    assert client.get(URL, {"q": order.number}).status_code == 200
    assert client.get(f"{URL}{first.pk}/change/").status_code == 200
    refused = client.post(
        URL,
        {"action": "refuse_returns", "_selected_action": [second.pk], "reason": ""},
        follow=True,
    )
    assert b"Give the reason to refuse." in refused.content
    too_long = client.post(
        URL,
        {"action": "refuse_returns", "_selected_action": [second.pk], "reason": "x" * 301},
        follow=True,
    )
    assert b"The reason is too long: at most 300 characters (301)." in too_long.content
    assert ReturnRequest.objects.get(pk=second.pk).status == "requested"
    client.post(
        URL, {"action": "refuse_returns", "_selected_action": [second.pk], "reason": "worn"}
    )
    client.post(URL, {"action": "approve_returns", "_selected_action": [first.pk]})
    received = client.post(
        URL,
        {
            "action": "receive_returns",
            "_selected_action": [first.pk],
            "location": net["store"].pk,
        },
        follow=True,
    )
    assert b"1 return(s) received." in received.content
    statuses = dict(ReturnRequest.objects.values_list("number", "status"))
    assert statuses == {first.number: "received", second.number: "refused"}
    assert counters("MUG", "st-opera") == (1, 0, 0, 1, 0)
    early = client.post(
        URL, {"action": "close_returns", "_selected_action": [first.pk]}, follow=True
    )
    assert b"cannot go from received to closed" in early.content


def test_actions_need_the_change_permission() -> None:
    net, order = delivered_home_order({"MUG": 2})
    rma = opened(order, net["store"])
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_returnrequest"))
    client = Client()
    client.force_login(viewer)
    assert client.get(URL).status_code == 200
    response = client.post(URL, {"action": "approve_returns", "_selected_action": [rma.pk]})
    assert response.status_code in (200, 302)
    rma.refresh_from_db()
    assert rma.status == "requested"
