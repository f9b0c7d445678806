"""Admin of the store data: pages load, the pickup code digest is never shown, a new code is
sent by the action, handovers are read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client, TestCase

from fulfillment.models_store import Handover, PickupCode
from fulfillment.services.handover import HandoverRequest, pickup_handover
from fulfillment.store.services import store_order_ready, store_pick_scan
from tests.fulfillment.store.support import EANS, place_pickup, routed, store_world

pytestmark = pytest.mark.django_db


def test_admin_pages_hide_the_digest_and_send_new_codes() -> None:
    world = store_world()
    fo = routed(place_pickup(world, {"SHIRT": 1}))
    store_pick_scan(fulfillment_order_id=fo.pk, code=EANS["SHIRT"], scan_id="a", actor="ana")
    issued = store_order_ready(fulfillment_order_id=fo.pk, actor="ana")
    pickup_handover(
        fulfillment_order_id=fo.pk,
        request=HandoverRequest(code=issued.code, lines=None),
        actor="ana",
        staff_key="t",
    )
    admin = User.objects.create_superuser("root", password="pw")
    client = Client()
    client.force_login(admin)
    code = PickupCode.objects.get()
    for url in (
        "/admin/fulfillment/storestaff/",
        "/admin/fulfillment/storepolicy/",
        "/admin/fulfillment/pickupcode/",
        f"/admin/fulfillment/pickupcode/{code.pk}/change/",
        "/admin/fulfillment/handover/",
        f"/admin/fulfillment/handover/{Handover.objects.get().pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert code.digest not in response.content.decode()
    assert client.get("/admin/fulfillment/handover/add/").status_code == 403
    # The order is collected: the action reports it and sends nothing.
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/admin/fulfillment/pickupcode/",
            {"action": "send_new_code", "_selected_action": [code.pk]},
            follow=True,
        )
    assert "a pickup code is sent once the order is ready" in response.content.decode()
    assert mail.outbox == []
