"""The fulfillment floor API is scoped for store staff: another store's objects are 404s and
nothing changes; global staff and floor users of no store keep every location."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from tests.fulfillment.store.support import place_pickup, routed, store_world

pytestmark = pytest.mark.django_db


def floor_client(user: User) -> Client:
    user.user_permissions.add(Permission.objects.get(codename="pick_and_pack"))
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


def test_store_staff_act_only_on_their_stores() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 1}))
    line = FulfillmentOrderLine.objects.get(fulfillment_order=fo)
    bob = floor_client(world["bob"])
    refused = [
        bob.post(f"/api/v1/fulfillment-orders/{fo.pk}/accept"),
        bob.post(
            f"/api/v1/fulfillment-orders/{fo.pk}/reject",
            {"lines": [{"line_id": line.pk, "quantity": 1, "reason": "x"}]},
            content_type="application/json",
        ),
        bob.post(
            f"/api/v1/fulfillment-order-lines/{line.pk}/short",
            {"quantity": 1, "reason": "not_found"},
            content_type="application/json",
        ),
        bob.get("/api/v1/locations/st-opera/pick-lists"),
        bob.post("/api/v1/locations/st-opera/pick-lists/plan"),
        bob.get(f"/api/v1/fulfillment-orders/{fo.pk}/packing-slip.pdf"),
    ]
    assert [response.status_code for response in refused] == [404] * len(refused)
    assert refused[0]["Content-Type"] == "application/problem+json"
    assert refused[0].json()["code"] == "not_found"
    fo.refresh_from_db()
    assert fo.status == "created"
    line.refresh_from_db()
    assert line.quantity_rejected == 0
    assert bob.get("/api/v1/locations/st-bastille/pick-lists").status_code == 200
    ana = floor_client(world["ana"])
    assert ana.post(f"/api/v1/fulfillment-orders/{fo.pk}/accept").status_code == 200
    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "accepted"


def test_global_staff_and_floor_users_of_no_store_see_every_location() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 1}))
    picker = floor_client(User.objects.create_user("picker", password="pw"))
    assert picker.get("/api/v1/locations/st-opera/pick-lists").status_code == 200
    admin = User.objects.create_user("desk", password="pw", is_staff=True)
    client = Client()
    client.force_login(admin)
    assert client.post(f"/api/v1/fulfillment-orders/{fo.pk}/accept").status_code == 200
