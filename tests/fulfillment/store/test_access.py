"""Store access: membership scoping, roles, login redirect, another store's order is a 404."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.http import Http404
from django.test import Client

from fulfillment.store.access import fulfillment_order_for_staff, store_locations, store_role
from tests.fulfillment.store.support import logged_in, place_pickup, routed, store_world

pytestmark = pytest.mark.django_db


def test_store_locations_and_roles() -> None:
    world = store_world()
    admin = User.objects.create_superuser("root", password="pw")
    assert [store.code for store in store_locations(world["ana"])] == ["st-opera"]
    assert [store.code for store in store_locations(admin)] == []
    assert store_role(world["ana"], world["opera"]) == "associate"
    assert store_role(world["max"], world["opera"]) == "manager"
    assert store_role(world["ana"], world["bastille"]) is None
    assert store_role(admin, world["opera"]) is None


def test_anonymous_users_are_sent_to_the_store_login() -> None:
    store_world()
    response = Client().get("/store/st-opera/queue/")
    assert response.status_code == 302
    assert response["Location"] == "/store/login/?next=/store/st-opera/queue/"


def test_login_then_the_only_store_opens() -> None:
    store_world()
    client = Client()
    page = client.get("/store/login/")
    assert page.status_code == 200
    assert b'id="id_username"' in page.content
    response = client.post("/store/login/", {"username": "ana", "password": "pw"})
    assert response.status_code == 302
    assert response["Location"] == "/store/"
    assert client.get("/store/")["Location"] == "/store/st-opera/queue/"
    assert client.post("/store/logout/").status_code == 302
    assert client.get("/store/").status_code == 302


def test_wrong_password_is_refused_with_a_message() -> None:
    store_world()
    response = Client().post("/store/login/", {"username": "ana", "password": "nope"})
    assert response.status_code == 200
    assert b"feedback error" in response.content


def test_a_store_the_user_is_not_a_member_of_is_a_404() -> None:
    world = store_world()
    assert logged_in(world["bob"]).get("/store/st-opera/queue/").status_code == 404
    assert logged_in(world["ana"]).get("/store/st-nowhere/queue/").status_code == 404
    superuser = User.objects.create_superuser("root", password="pw")
    assert logged_in(superuser).get("/store/st-opera/queue/").status_code == 404


def test_fulfillment_order_for_staff_is_scoped_to_the_store() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 1}))
    assert fulfillment_order_for_staff(world["ana"], world["opera"], fo.pk) == fo
    with pytest.raises(Http404):
        fulfillment_order_for_staff(world["bob"], world["opera"], fo.pk)
    with pytest.raises(Http404):
        fulfillment_order_for_staff(world["bob"], world["bastille"], fo.pk)


def test_the_shell_has_the_store_switcher_and_a_polite_live_region() -> None:
    world = store_world()
    from fulfillment.models_store import StoreStaff

    StoreStaff.objects.create(user=world["ana"], location=world["bastille"])
    client = logged_in(world["ana"])
    assert client.get("/store/").status_code == 200  # two stores: the chooser
    page = client.get("/store/st-opera/queue/").content.decode()
    assert 'aria-live="polite"' in page
    assert "Switch store" in page
    assert 'href="/store/st-bastille/queue/"' in page
    assert "/static/django_htmx/htmx" in page
    assert "/static/store/store.css" in page
