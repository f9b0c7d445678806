"""The store returns desk in a real browser: a web order delivered home (placed, routed,
prepared, shipped and delivered through the real services and the carrier's signed webhooks)
comes back at the store counter. The clerk logs in, opens the returns desk, finds the order by
its number, opens a return, scans the items (focus stays on the scan field, a wrong code is
refused), receives and inspects them as sellable, sees "restock here" proposed and confirms:
the return is dispositioned, the store's ATP rose at once, the ledger holds the ``return`` and
``qc_release`` movements. The refund is then requested through the API. Another store's staff
get 404s on the return's desk pages. Every desk page passes axe (no serious or critical
violations), its error states included."""

from __future__ import annotations

from typing import Any

import pytest

from fulfillment.models_store import StoreStaff
from omnilog.core.models import OutboxEvent
from returns.models import Refund, ReturnRequest
from tests.browser.conftest import axe_violations, log_in
from tests.browser.test_store_accessibility import SMALL_TARGETS, TARGETS
from tests.factories import StoreFactory
from tests.fulfillment.store.support import PASSWORD, staff_user
from tests.fulfillment.test_journeys import EANS
from tests.inventory.helpers import assert_ledger_consistent
from tests.returns.support import (
    atp,
    counters,
    delivered_home_order,
    return_movements,
    staff_client,
)

pytestmark = pytest.mark.django_db(transaction=True)

ITEM_SCAN = "Scan each item (or set the quantities below)"
DESK_SEARCH = "Scan or type the order number or the return number"


def scan_item(page: Any, code: str) -> None:
    field = page.get_by_label(ITEM_SCAN)
    field.fill(code)
    field.press("Enter")


def focused_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def desk_problems(page: Any) -> dict[str, Any]:
    """The page's serious or critical axe violations and its touch targets under 44 x 44 CSS px."""
    found = axe_violations(page)
    small = page.evaluate(SMALL_TARGETS, TARGETS)
    return {"axe": found, "small targets": small} if found or small else {}


def test_web_order_returned_at_the_store_desk_restocked_here(page: Any, live_server: Any) -> None:
    net, order = delivered_home_order({"MUG": 2, "SHIRT": 1})
    staff_user("lea", net["store"], StoreStaff.Role.ASSOCIATE)
    lyon = StoreFactory(code="st-lyon", channels=[net["web"]])
    staff_user("bob", lyon, StoreStaff.Role.ASSOCIATE)
    atp_before = atp("MUG", "st-opera")
    base = live_server.url
    desk_url = f"{base}/store/st-opera/returns/"
    problems: dict[str, Any] = {}

    # The clerk logs in and opens the returns desk from the store navigation.
    log_in(page, base, "lea", PASSWORD)
    page.wait_for_url(f"{base}/store/st-opera/queue/")
    page.get_by_role("navigation", name="Store screens").get_by_role(
        "link", name="Returns desk"
    ).click()
    page.wait_for_url(desk_url)
    assert focused_id(page) == "returns-q"
    problems["desk"] = desk_problems(page)

    # A number that is neither an order nor a return: a message, focus back on the field.
    search = page.get_by_label(DESK_SEARCH)
    search.fill("OM-999999")
    search.press("Enter")
    page.locator(".messages").get_by_text("No order or return OM-999999.").wait_for()
    assert focused_id(page) == "returns-q"
    problems["desk (not found)"] = desk_problems(page)

    # Find the order by its number (typed in lower case, as a scanner may send it).
    search = page.get_by_label(DESK_SEARCH)
    search.fill(order.number.lower())
    search.press("Enter")
    page.wait_for_url(f"{desk_url}order/{order.number}/")
    page.get_by_role("heading", name=f"Return of order {order.number}").wait_for()
    problems["order"] = desk_problems(page)

    # Too many units: refused with a message for people, nothing opened.
    page.get_by_label("Quantity of MUG").fill("3")
    page.get_by_label("Reason for MUG").select_option("changed_mind")
    opener = page.get_by_role("button", name="Open the return")
    opener.evaluate("button => { button.form.noValidate = true; }")  # past the browser's max
    opener.click()
    page.locator(".messages").get_by_text("At most 2 units", exact=False).wait_for()
    assert not ReturnRequest.objects.filter(order=order).exists()
    problems["order (refused)"] = desk_problems(page)

    # Open the return for both mugs.
    page.get_by_label("Quantity of MUG").fill("2")
    page.get_by_label("Reason for MUG").select_option("changed_mind")
    page.get_by_role("button", name="Open the return").click()
    page.locator(".messages").get_by_text("opened: receive the items now").wait_for()
    rma = ReturnRequest.objects.get(order=order)
    rma_url = f"{desk_url}rma/{rma.number}/"
    page.wait_for_url(rma_url)
    assert (rma.status, rma.mode, rma.location_id) == ("approved", "store", net["store"].pk)
    assert focused_id(page) == "item-scan"
    problems["return (receive)"] = desk_problems(page)

    # Receiving before anything is scanned: refused, nothing received, focus back on the scan.
    page.get_by_role("button", name="Receive and inspect").click()
    page.locator(".messages").get_by_text("The receipt is not valid.").wait_for()
    assert focused_id(page) == "item-scan"
    assert counters("MUG", "st-opera") == (0, 0, 0, 0, 0)
    problems["return (refused receipt)"] = desk_problems(page)

    # Scan the items: each scan counts one unit, a stranger's code is refused; focus stays.
    feedback = page.locator("#scan-feedback")
    scan_item(page, EANS["MUG"])
    page.wait_for_function(
        "() => document.getElementById('scan-feedback').textContent === 'MUG: 1 of 2'"
    )
    assert focused_id(page) == "item-scan"
    scan_item(page, EANS["CAP"])
    feedback.get_by_text(f"Not part of this return: {EANS['CAP']}").wait_for()
    assert focused_id(page) == "item-scan"
    problems["return (refused scan)"] = desk_problems(page)
    scan_item(page, EANS["MUG"])
    feedback.get_by_text("MUG: 2 of 2").wait_for()
    scan_item(page, EANS["MUG"])
    feedback.get_by_text("All expected units of MUG are scanned.").wait_for()
    assert focused_id(page) == "item-scan"
    line = rma.lines.get()
    assert page.locator(f"#quantity-{line.pk}").input_value() == "2"
    problems["return (scanned)"] = desk_problems(page)

    # Receive and inspect as sellable: "restock here" is proposed.
    page.get_by_label("Condition of MUG").select_option("sellable")
    page.get_by_role("button", name="Receive and inspect").click()
    page.locator(".messages").get_by_text("Received and inspected").wait_for()
    rma.refresh_from_db()
    assert rma.status == "inspected"
    proposal = page.locator("[data-proposal]")
    assert proposal.get_attribute("data-proposal") == "restock_here"
    assert "Restock at the receiving location" in proposal.inner_text()
    assert page.get_by_label("Decision for MUG").input_value() == "restock_here"
    # Received, held for inspection: on hand at the store but not yet for sale.
    assert counters("MUG", "st-opera") == (2, 0, 0, 2, 0)
    assert atp("MUG", "st-opera") == atp_before
    problems["return (confirm)"] = desk_problems(page)

    page.get_by_role("button", name="Confirm").click()
    page.locator(".messages").get_by_text(f"Return {rma.number} done: stock updated.").wait_for()
    problems["return (done)"] = desk_problems(page)

    rma.refresh_from_db()
    line.refresh_from_db()
    assert rma.status == "dispositioned"
    assert (line.disposition, line.disposition_location_id) == ("restock_here", net["store"].pk)
    assert atp("MUG", "st-opera") == atp_before + 2
    assert counters("MUG", "st-opera") == (2, 0, 0, 0, 0)
    assert return_movements("MUG", "st-opera") == [("return", 2, 2), ("qc_release", 0, -2)]
    assert_ledger_consistent()

    # The refund is requested (Omnilog asks the payment system through the outbox).
    mark = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    refunded = staff_client().post(f"/api/v1/returns/{rma.number}/refund", {}, format="json")
    assert refunded.status_code == 200, refunded.content
    assert refunded.json()["status"] == "refund_requested"
    refund = Refund.objects.get(return_request=rma)
    assert (refund.status, refund.currency) == ("requested", "EUR")
    event = OutboxEvent.objects.get(id__gt=mark, topic="return.refund_requested")
    assert event.payload["refund_reference"] == refund.reference
    assert problems == {name: {} for name in problems}

    # Another store's staff: the return's desk pages are 404s, and posting changes nothing.
    other = page.context.browser.new_context()
    intruder = other.new_page()
    log_in(intruder, base, "bob", PASSWORD)
    intruder.wait_for_url(f"{base}/store/st-lyon/queue/")
    for path in (
        f"/store/st-opera/returns/rma/{rma.number}/",
        f"/store/st-opera/returns/order/{order.number}/",
        "/store/st-opera/returns/",
        f"/store/st-lyon/returns/rma/{rma.number}/",
    ):
        assert intruder.goto(f"{base}{path}").status == 404, path
    intruder.goto(f"{base}/store/st-lyon/returns/?q={rma.number}")
    intruder.locator(".messages").get_by_text(f"No order or return {rma.number}.").wait_for()
    token = next(c["value"] for c in other.cookies() if c["name"] == "csrftoken")
    for path in (
        f"/store/st-lyon/returns/rma/{rma.number}/",
        f"/store/st-opera/returns/rma/{rma.number}/",
    ):
        response = intruder.request.post(
            f"{base}{path}",
            form={"action": "confirm"},
            headers={"X-CSRFToken": token, "Referer": f"{base}/store/"},
        )
        assert response.status == 404, path
    other.close()
    rma.refresh_from_db()
    assert rma.status == "refund_requested"


def test_desk_messages_pass_axe(page: Any, live_server: Any) -> None:
    net, _ = delivered_home_order({"MUG": 1})
    staff_user("lea", net["store"], StoreStaff.Role.ASSOCIATE)
    log_in(page, live_server.url, "lea", PASSWORD)
    page.goto(f"{live_server.url}/store/st-opera/returns/?q=OM-999999")
    page.locator(".messages").get_by_text("No order or return OM-999999.").wait_for()
    assert axe_violations(page) == []
