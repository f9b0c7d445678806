"""Store pages on a counter tablet: touch targets of at least 44 x 44 CSS px, labelled
controls, no serious or critical axe violations (including an error state), focus on the scan
field after a refused scan. A radio button's or checkbox's target is its label."""

from __future__ import annotations

from typing import Any

import pytest

from fulfillment.store.services import store_order_ready, store_pick_scan
from tests.browser.conftest import axe_violations, log_in
from tests.fulfillment.store.support import EANS, PASSWORD, place_pickup, routed, store_world

pytestmark = pytest.mark.django_db(transaction=True)

TARGETS = (
    "main button, main a.button, main input:not([type=hidden]), main select, nav a, "
    "header button, header summary"
)
SMALL_TARGETS = """
selector => Array.from(document.querySelectorAll(selector))
  .filter(el => el.offsetParent !== null)
  .map(el => {
    const choice = el.matches('[type=radio], [type=checkbox]');
    const box = (choice ? el.closest('label') || el : el).getBoundingClientRect();
    return {what: el.outerHTML.slice(0, 80), width: box.width, height: box.height};
  })
  .filter(box => box.width < 44 || box.height < 44)
"""


def test_targets_labels_and_axe_on_every_store_page(page: Any, live_server: Any) -> None:
    world = store_world()
    picking = routed(place_pickup(world, {"SHIRT": 2, "CAP": 1}))
    ready = routed(place_pickup(world, {"SHIRT": 1}))
    store_pick_scan(fulfillment_order_id=ready.pk, code=EANS["SHIRT"], scan_id="r", actor="t")
    store_order_ready(fulfillment_order_id=ready.pk, actor="t")
    base = live_server.url
    log_in(page, base, "max", PASSWORD)
    pages = {
        "queue": "/store/st-opera/queue/",
        "pick": f"/store/st-opera/fo/{picking.pk}/pick/",
        "handover find": "/store/st-opera/handover/",
        "handover": f"/store/st-opera/handover/{ready.pk}/",
    }
    problems: dict[str, Any] = {}
    for name, path in pages.items():
        assert page.goto(f"{base}{path}").status == 200, path
        small = page.evaluate(SMALL_TARGETS, TARGETS)
        found = axe_violations(page)
        if small or found:
            problems[name] = {"small targets": small, "axe": found}

    # An error state: a wrong item keeps focus on the scan field and passes axe too.
    page.goto(f"{base}{pages['pick']}")
    field = page.get_by_label("Scan an item")
    field.fill("0000000000000")
    field.press("Enter")
    page.locator('[data-feedback="error"]').wait_for()
    assert page.evaluate("document.activeElement.id") == "scan-code"
    found = axe_violations(page)
    if found:
        problems["pick (refused scan)"] = found
    page.goto(f"{base}{pages['handover']}")
    page.get_by_label("Someone else (proxy)").check()
    page.get_by_label("Pickup code (type the 6 digits or scan the QR)").fill("1")
    page.get_by_role("button", name="Hand over", exact=True).click()
    page.locator("#handover-error").wait_for()
    found = axe_violations(page)
    if found:
        problems["handover (refused)"] = found
    assert problems == {}
