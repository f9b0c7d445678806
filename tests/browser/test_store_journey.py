"""Click-and-collect end to end in a real browser: an order placed through the HTTP API with a
channel key, routed by the real Celery worker, appears on the store queue (announced in the
live region), is picked by scanning (duplicate scan ignored, focus kept), made ready (the
e-mail with the code is captured), handed over by typing the code; the order is collected and
the stock committed. Another store's staff get 404s. The pages pass axe (no serious or
critical violations)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from inventory.models import Reservation
from orders.models import Order
from tests.browser.conftest import axe_violations, log_in
from tests.conftest import wait_until
from tests.factories import channel_api_key
from tests.fulfillment.store.support import EANS, PASSWORD, level, store_world
from tests.inventory.helpers import assert_ledger_consistent, movement_kinds

pytestmark = pytest.mark.django_db(transaction=True)


def place_through_the_api(page: Any, base_url: str, key: str) -> int:
    response = page.request.post(
        f"{base_url}/api/v1/orders/",
        data={
            "customer": {
                "email": "camille@example.com",
                "first_name": "Camille",
                "last_name": "Martin",
            },
            "payment_status": "authorised",
            "delivery": {"mode": "click_and_collect", "store": "st-opera"},
            "lines": [{"sku": "SHIRT", "quantity": 2}, {"sku": "CAP", "quantity": 1}],
        },
        headers={"X-Api-Key": key, "Idempotency-Key": "browser-journey-1"},
    )
    assert response.status == 201, response.text()
    return int(response.json()["id"])


def feedback(page: Any, text: str) -> None:
    """Wait for the pick panel's feedback to say ``text``."""
    page.locator("[data-feedback]").get_by_text(text).wait_for()


def scan(page: Any, code: str) -> None:
    field = page.get_by_label("Scan an item")
    field.fill(code)
    field.press("Enter")


def test_click_and_collect_from_the_api_to_the_handover(
    page: Any, live_server: Any, celery_worker: Any, settings: Any
) -> None:
    settings.FULFILLMENT_ROUTE_ON_PLACE = True
    world = store_world()
    key = channel_api_key(world["web"])
    base = live_server.url
    violations: dict[str, list[dict[str, Any]]] = {}

    # The queue is open and polling before the order arrives.
    log_in(page, base, "ana", PASSWORD)
    page.wait_for_url(f"{base}/store/st-opera/queue/")
    violations["queue (empty)"] = axe_violations(page)

    order_id = place_through_the_api(page, base, key)
    fo = wait_until(lambda: FulfillmentOrder.objects.filter(order_id=order_id).first())
    order = Order.objects.get(pk=order_id)
    assert (fo.location.code, fo.status) == ("st-opera", "created")
    assert level(world["SHIRT"], world["opera"]) == (5, 2, 0)

    card = page.locator(f'[data-fo-id="{fo.pk}"]')
    card.wait_for(timeout=25_000)  # the next 10 s poll brings it
    assert page.locator("#column-to_prepare").locator(f'[data-fo-id="{fo.pk}"]').count() == 1
    page.wait_for_function(
        "text => document.getElementById('announcer').textContent.includes(text)",
        arg=f"New order {order.number} to prepare.",
    )
    violations["queue"] = axe_violations(page)

    # Pick by scanning: a double-fired scan is ignored, focus stays on the scan field.
    card.get_by_role("link", name=re.compile("Start picking")).click()
    page.wait_for_url(f"{base}/store/st-opera/fo/{fo.pk}/pick/")
    assert page.evaluate("document.activeElement.id") == "scan-code"
    violations["pick"] = axe_violations(page)
    scan(page, EANS["SHIRT"])
    feedback(page, "Picked SHIRT Demo shirt: 1 of 2.")
    scan(page, EANS["SHIRT"])  # the same code again within 2 s
    page.wait_for_function(
        "() => document.getElementById('announcer').textContent.includes('Duplicate scan')"
    )
    assert page.locator("[data-line-progress]").first.inner_text().startswith("1 of 2")
    assert page.evaluate("document.activeElement.id") == "scan-code"
    scan(page, EANS["CAP"])
    feedback(page, "Picked CAP Demo cap: 1 of 1.")
    scan(page, "shirt")  # by SKU
    feedback(page, "Everything is picked")
    assert page.evaluate("document.activeElement.id") == "scan-code"
    fo.refresh_from_db()
    assert fo.status == "picked"

    # Ready: the customer gets the code by e-mail.
    mail.outbox.clear()
    page.get_by_role("button", name="Mark ready and send the pickup code").click()
    page.wait_for_url(f"{base}/store/st-opera/queue/")
    page.locator(".messages").get_by_text(f"Order {order.number} is ready").wait_for()
    wait_until(lambda: len(mail.outbox) == 1)
    found = re.search(r"Your pickup code: (\d{6})", str(mail.outbox[0].body))
    assert found
    code = found.group(1)
    assert page.locator("#column-ready").locator(f'[data-fo-id="{fo.pk}"]').count() == 1

    # Handover by typing the code at the counter.
    page.get_by_role("link", name="Handover", exact=True).click()
    page.wait_for_url(f"{base}/store/st-opera/handover/")
    violations["handover (find)"] = axe_violations(page)
    field = page.get_by_label(re.compile("Scan the customer's QR code"))
    field.fill(code)
    field.press("Enter")
    page.get_by_role("heading", name=f"Hand over order {order.number}").wait_for()
    violations["handover"] = axe_violations(page)
    assert page.get_by_label(re.compile("Pickup code")).input_value() == code
    page.get_by_role("button", name="Hand over", exact=True).click()
    page.locator(".messages").get_by_text(
        f"Order {order.number} handed over: 3 item(s)."
    ).wait_for()

    fo.refresh_from_db()
    order.refresh_from_db()
    assert (fo.status, order.status) == ("collected", "collected")
    assert level(world["SHIRT"], world["opera"]) == (3, 0, 0)
    assert level(world["CAP"], world["opera"]) == (2, 0, 0)
    held = FulfillmentOrderLine.objects.filter(fulfillment_order=fo).values("reservation_id")
    assert set(Reservation.objects.filter(pk__in=held).values_list("status", flat=True)) == {
        "committed"
    }
    assert movement_kinds(world["SHIRT"], world["opera"]) == ["receipt", "reservation", "sale"]
    assert_ledger_consistent()
    assert violations == {name: [] for name in violations}

    # Another store's staff can neither see nor act on it.
    other = page.context.browser.new_context()
    intruder = other.new_page()
    log_in(intruder, base, "bob", PASSWORD)
    intruder.wait_for_url(f"{base}/store/st-bastille/queue/")
    assert intruder.locator(f'[data-fo-id="{fo.pk}"]').count() == 0
    for path in (
        f"/store/st-opera/fo/{fo.pk}/pick/",
        f"/store/st-bastille/fo/{fo.pk}/pick/",
        f"/store/st-opera/handover/{fo.pk}/",
        "/store/st-opera/queue/",
    ):
        assert intruder.goto(f"{base}{path}").status == 404, path
    token = next(c["value"] for c in other.cookies() if c["name"] == "csrftoken")
    for path in (f"/store/st-bastille/fo/{fo.pk}/ready/", f"/store/st-bastille/fo/{fo.pk}/pick/"):
        response = intruder.request.post(
            f"{base}{path}",
            form={"code": EANS["SHIRT"]},
            headers={"X-CSRFToken": token, "Referer": f"{base}/store/"},
        )
        assert response.status == 404, path
    other.close()
