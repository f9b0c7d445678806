"""Ready and handover: the pickup code e-mail (code, QR, hours), code checks (wrong, locked,
expired, guessing across orders), proxy pickups, partial handovers, stock committed once, and
a refused handover changes nothing but the attempt counter."""

from __future__ import annotations

import re
from datetime import timedelta
from email.mime.image import MIMEImage
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from fulfillment.models_store import Handover, PickupCode, StorePolicy
from fulfillment.services.lifecycle import fulfillment_order_handover
from fulfillment.services.pickup_codes import code_digest, qr_payload, qr_png
from fulfillment.store.services import store_pick_scan
from inventory.models import Reservation
from orders.models import Order
from tests.fulfillment.store.support import (
    EANS,
    level,
    logged_in,
    place_pickup,
    routed,
    store_cache_clean,
    store_world,
)
from tests.inventory.helpers import assert_ledger_consistent, movement_kinds

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    store_cache_clean()


def ready_order(world: dict[str, Any], lines: dict[str, int]) -> tuple[FulfillmentOrder, str]:
    """Placed, routed, picked by scan and made ready through the screens; (FO, e-mailed code)."""
    fo = routed(place_pickup(world, lines))
    for sku, quantity in lines.items():
        for index in range(quantity):
            store_pick_scan(
                fulfillment_order_id=fo.pk, code=EANS[sku], scan_id=f"{sku}{index}", actor="ana"
            )
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = logged_in(world["ana"]).post(f"/store/st-opera/fo/{fo.pk}/ready/")
    assert response.status_code == 302
    assert response["Location"] == "/store/st-opera/queue/"
    fo.refresh_from_db()
    assert fo.status == "ready_for_pickup"
    return fo, emailed_code()


def emailed_code() -> str:
    (message,) = mail.outbox
    found = re.search(r"Your pickup code: (\d{6})", str(message.body))
    assert found
    return found.group(1)


def hand_over(client: Client, fo: FulfillmentOrder, **fields: Any):  # type: ignore[no-untyped-def]
    return client.post(f"/store/st-opera/handover/{fo.pk}/", fields)


def snapshot(fo: FulfillmentOrder, world: dict[str, Any]) -> tuple[Any, ...]:
    fo.refresh_from_db()
    return (
        fo.status,
        Order.objects.get(pk=fo.order_id).status,
        level(world["SHIRT"], world["opera"]),
        level(world["CAP"], world["opera"]),
        Handover.objects.count(),
        list(Reservation.objects.order_by("id").values_list("status", "quantity")),
    )


def test_ready_emails_the_code_with_qr_address_and_hours() -> None:
    world = store_world()
    fo, code = ready_order(world, {"SHIRT": 1})
    (message,) = mail.outbox
    assert message.to == ["camille@example.com"]
    assert message.subject == f"Order {fo.order.number} is ready for pickup at Opéra"
    assert "2 rue Auber" in message.body
    assert "Monday: 09:00 to 19:00" in message.body
    assert "Sunday: closed" in message.body
    html, mimetype = message.alternatives[0]  # type: ignore[attr-defined]
    assert mimetype == "text/html"
    assert f"data-pickup-code>{code}<" in html
    assert 'src="cid:pickup-qr"' in html
    (image,) = [part for part in message.attachments if isinstance(part, MIMEImage)]
    assert image["Content-ID"] == "<pickup-qr>"
    assert image.get_payload(decode=True) == qr_png(qr_payload(fo.pk, code))
    stored = PickupCode.objects.get(fulfillment_order=fo)
    assert stored.digest == code_digest(fo.pk, code)
    assert code not in stored.digest
    assert stored.expires_at > timezone.now() + timedelta(days=13)
    assert fo.order.events.filter(kind="pickup", message="Pickup code sent").count() == 1


def test_a_second_ready_is_refused_and_sends_nothing() -> None:
    world = store_world()
    fo, _ = ready_order(world, {"SHIRT": 1})
    mail.outbox.clear()
    client = logged_in(world["ana"])
    response = client.post(f"/store/st-opera/fo/{fo.pk}/ready/", follow=True)
    assert "already ready" in response.content.decode()
    assert mail.outbox == []


def test_handover_by_code_commits_the_stock_and_collects_the_order() -> None:
    world = store_world()
    fo, code = ready_order(world, {"SHIRT": 2, "CAP": 1})
    assert level(world["SHIRT"], world["opera"]) == (5, 2, 0)
    response = hand_over(logged_in(world["ana"]), fo, code=code, relation="customer")
    assert response.status_code == 302
    assert response["Location"] == "/store/st-opera/handover/"
    fo.refresh_from_db()
    order = Order.objects.get(pk=fo.order_id)
    assert (fo.status, order.status) == ("collected", "collected")
    assert level(world["SHIRT"], world["opera"]) == (3, 0, 0)
    assert level(world["CAP"], world["opera"]) == (2, 0, 0)
    assert movement_kinds(world["SHIRT"], world["opera"]) == ["receipt", "reservation", "sale"]
    assert set(Reservation.objects.values_list("status", flat=True)) == {"committed"}
    handover = Handover.objects.get()
    assert (handover.relation, handover.actor) == ("customer", "store:ana")
    assert sorted(handover.lines.values_list("quantity", flat=True)) == [1, 2]
    assert PickupCode.objects.get(fulfillment_order=fo).used_at is not None
    assert order.events.filter(kind="pickup", message="Handed over to the customer").exists()
    assert_ledger_consistent()


def test_the_qr_payload_is_accepted_as_the_code() -> None:
    world = store_world()
    fo, code = ready_order(world, {"SHIRT": 1})
    response = hand_over(logged_in(world["ana"]), fo, code=qr_payload(fo.pk, code))
    assert response.status_code == 302
    fo.refresh_from_db()
    assert fo.status == "collected"


def test_a_wrong_code_counts_an_attempt_and_changes_nothing_else() -> None:
    world = store_world()
    fo, code = ready_order(world, {"SHIRT": 1})
    before = snapshot(fo, world)
    wrong = "000000" if code != "000000" else "111111"
    response = hand_over(logged_in(world["ana"]), fo, code=wrong)
    assert response.status_code == 422
    assert "Wrong pickup code. 4 attempts left before it is locked." in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert snapshot(fo, world) == before
    assert PickupCode.objects.get(fulfillment_order=fo).failed_attempts == 1


def test_the_code_locks_at_the_policy_limit_and_a_manager_sends_a_new_one() -> None:
    world = store_world()
    StorePolicy.objects.create(location=world["opera"], code_max_attempts=2)
    fo, code = ready_order(world, {"SHIRT": 1})
    ana = logged_in(world["ana"])
    wrong = "000000" if code != "000000" else "111111"
    assert hand_over(ana, fo, code=wrong).status_code == 422
    locked = hand_over(ana, fo, code=wrong)
    assert locked.status_code == 409
    assert "now locked" in locked.content.decode()
    right = hand_over(ana, fo, code=code)
    assert right.status_code == 409
    assert "locked after too many wrong attempts" in right.content.decode()
    fo.refresh_from_db()
    assert fo.status == "ready_for_pickup"
    # Associates cannot re-issue; managers can (a new e-mail, the old code is dead).
    assert ana.post(f"/store/st-opera/fo/{fo.pk}/code/").status_code == 403
    mail.outbox.clear()
    manager = logged_in(world["max"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert manager.post(f"/store/st-opera/fo/{fo.pk}/code/").status_code == 302
    new_code = emailed_code()
    stored = PickupCode.objects.get(fulfillment_order=fo)
    assert (stored.failed_attempts, stored.locked_at) == (0, None)
    if new_code != code:
        assert hand_over(ana, fo, code=code).status_code == 422
    assert hand_over(ana, fo, code=new_code).status_code == 302


def test_an_expired_code_is_refused() -> None:
    world = store_world()
    fo, code = ready_order(world, {"SHIRT": 1})
    PickupCode.objects.filter(fulfillment_order=fo).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    before = snapshot(fo, world)
    response = hand_over(logged_in(world["ana"]), fo, code=code)
    assert response.status_code == 409
    assert "This pickup code expired on" in response.content.decode()
    assert snapshot(fo, world) == before


def test_a_proxy_needs_a_name_and_an_id_check() -> None:
    world = store_world()
    fo, code = ready_order(world, {"SHIRT": 1})
    before = snapshot(fo, world)
    ana = logged_in(world["ana"])
    refused = hand_over(ana, fo, code=code, relation="proxy", collector_name="")
    assert refused.status_code == 422
    body = refused.content.decode()
    assert "Name the person collecting." in body
    assert "Check the identity document of a proxy." in body
    assert snapshot(fo, world) == before
    assert PickupCode.objects.get(fulfillment_order=fo).failed_attempts == 0
    done = hand_over(
        ana,
        fo,
        code=code,
        relation="proxy",
        collector_name="Jean Dupont",
        proxy_relation="neighbour",
        id_checked="on",
    )
    assert done.status_code == 302
    handover = Handover.objects.get()
    assert (handover.collector_name, handover.proxy_relation, handover.id_checked) == (
        "Jean Dupont",
        "neighbour",
        True,
    )
    order = Order.objects.get(pk=fo.order_id)
    assert order.events.filter(
        message="Handed over to Jean Dupont (neighbour) for the customer (ID checked)"
    ).exists()


def test_a_partial_handover_leaves_the_rest_ready_under_the_same_code() -> None:
    world = store_world()
    fo, code = ready_order(world, {"SHIRT": 2, "CAP": 1})
    shirt = FulfillmentOrderLine.objects.get(fulfillment_order=fo, order_line__sku="SHIRT")
    cap = FulfillmentOrderLine.objects.get(fulfillment_order=fo, order_line__sku="CAP")
    ana = logged_in(world["ana"])
    fields = {f"quantity-{shirt.pk}": "1", f"quantity-{cap.pk}": "0"}
    first = hand_over(ana, fo, code=code, **fields)
    assert first.status_code == 302
    assert first["Location"] == f"/store/st-opera/handover/{fo.pk}/"
    fo.refresh_from_db()
    assert (fo.status, Order.objects.get(pk=fo.order_id).status) == (
        "ready_for_pickup",
        "ready_for_pickup",
    )
    assert level(world["SHIRT"], world["opera"]) == (4, 1, 0)
    assert level(world["CAP"], world["opera"]) == (3, 1, 0)
    too_many = hand_over(ana, fo, code=code, **{f"quantity-{shirt.pk}": "2"})
    assert too_many.status_code == 422
    assert "At most 1 left to hand over." in too_many.content.decode()
    page = ana.get(f"/store/st-opera/handover/{fo.pk}/").content.decode()
    assert "1 already handed over" in page
    rest = hand_over(ana, fo, code=code)
    assert rest.status_code == 302
    fo.refresh_from_db()
    assert (fo.status, Order.objects.get(pk=fo.order_id).status) == ("collected", "collected")
    assert level(world["SHIRT"], world["opera"]) == (3, 0, 0)
    assert level(world["CAP"], world["opera"]) == (2, 0, 0)
    assert Handover.objects.count() == 2
    assert_ledger_consistent()


def test_the_floor_api_handover_after_a_partial_one_commits_only_the_rest() -> None:
    world = store_world()
    fo, code = ready_order(world, {"SHIRT": 2})
    shirt = FulfillmentOrderLine.objects.get(fulfillment_order=fo)
    hand_over(logged_in(world["ana"]), fo, code=code, **{f"quantity-{shirt.pk}": "1"})
    fulfillment_order_handover(fulfillment_order_id=fo.pk, actor="desk")
    fo.refresh_from_db()
    assert fo.status == "collected"
    assert level(world["SHIRT"], world["opera"]) == (3, 0, 0)
    assert_ledger_consistent()


def test_guessing_across_orders_is_rate_limited_per_staff_user(settings: Any) -> None:
    settings.STORE_CODE_GUESSES = 2
    world = store_world()
    first, code_one = ready_order(world, {"SHIRT": 1})
    second, code_two = ready_order(world, {"CAP": 1})
    ana = logged_in(world["ana"])
    wrong = next(c for c in ("000000", "111111", "222222") if c not in {code_one, code_two})
    assert hand_over(ana, first, code=wrong).status_code == 422
    assert hand_over(ana, second, code=wrong).status_code == 422
    blocked = hand_over(ana, second, code=code_two)
    assert blocked.status_code == 429
    assert "Too many wrong pickup codes" in blocked.content.decode()
    second.refresh_from_db()
    assert second.status == "ready_for_pickup"
    # Another staff user is not blocked.
    assert hand_over(logged_in(world["max"]), second, code=code_two).status_code == 302


def test_find_by_order_number_code_or_qr() -> None:
    world = store_world()
    fo, code = ready_order(world, {"SHIRT": 1})
    ana = logged_in(world["ana"])
    number = fo.order.number
    by_number = ana.post("/store/st-opera/handover/", {"q": number.lower()})
    assert by_number["Location"] == f"/store/st-opera/handover/{fo.pk}/"
    short = ana.post("/store/st-opera/handover/", {"q": str(int(number.split("-")[1]))})
    assert short["Location"] == f"/store/st-opera/handover/{fo.pk}/"
    by_code = ana.post("/store/st-opera/handover/", {"q": code})
    assert by_code.status_code == 200
    assert f'value="{code}"' in by_code.content.decode()
    by_qr = ana.post("/store/st-opera/handover/", {"q": qr_payload(fo.pk, code)})
    assert by_qr.status_code == 200
    assert f"Hand over order {number}" in by_qr.content.decode()
    unknown = ana.post("/store/st-opera/handover/", {"q": "OM-999999"})
    assert unknown.status_code == 422
    assert "No pickup order OM-999999 at this store." in unknown.content.decode()


def test_another_stores_staff_cannot_see_or_hand_over() -> None:
    world = store_world()
    fo, code = ready_order(world, {"SHIRT": 1})
    bob = logged_in(world["bob"])
    before = snapshot(fo, world)
    assert bob.get(f"/store/st-opera/handover/{fo.pk}/").status_code == 404
    assert bob.get(f"/store/st-bastille/handover/{fo.pk}/").status_code == 404
    assert bob.post(f"/store/st-bastille/handover/{fo.pk}/", {"code": code}).status_code == 404
    qr = bob.post("/store/st-bastille/handover/", {"q": qr_payload(fo.pk, code)})
    assert qr.status_code == 404
    by_code = bob.post("/store/st-bastille/handover/", {"q": code})
    assert by_code.status_code == 422
    assert snapshot(fo, world) == before
    outsider = User.objects.create_user("eve", password="pw")
    assert logged_in(outsider).get(f"/store/st-opera/handover/{fo.pk}/").status_code == 404


def test_a_ready_order_without_a_code_gets_one_from_the_handover_page() -> None:
    world = store_world()
    fo, _ = ready_order(world, {"SHIRT": 1})
    PickupCode.objects.filter(fulfillment_order=fo).delete()  # as a ship-to-store arrival
    ana = logged_in(world["ana"])
    page = ana.get(f"/store/st-opera/handover/{fo.pk}/").content.decode()
    assert "No pickup code was sent for this order yet" in page
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert ana.post(f"/store/st-opera/fo/{fo.pk}/ready/").status_code == 302
    assert hand_over(ana, fo, code=emailed_code()).status_code == 302
    fo.refresh_from_db()
    assert fo.status == "collected"
