"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's
``live_server`` (a real HTTP server in a thread of this process, transactional database).

- Chromium: ``OMNILOG_CHROMIUM`` or ``/usr/bin/chromium`` (``make test`` installs Debian's
  package). Playwright never downloads a browser here. When the executable is missing the
  tests are skipped with that reason; everything else that goes wrong fails.
- Failures keep a full-page screenshot (and the page's HTML) in ``var/test-artifacts/``.
- ``axe_violations(page)``: the serious and critical axe-core violations of the current page.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (fixtures, assertions) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def chromium_path() -> str:
    return os.environ.get("OMNILOG_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(autouse=True)
def _store_cache_clean() -> None:
    """Scan ids and code-guess windows of earlier runs must not leak into these tests."""
    from tests.fulfillment.store.support import store_cache_clean

    store_cache_clean()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if not os.access(executable, os.X_OK):
        pytest.skip(
            f"Chromium not found at {executable} (set OMNILOG_CHROMIUM, or run `make browsers` "
            "to install Debian's chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        screenshot_failure(request.node.nodeid, context)
    context.close()


def screenshot_failure(nodeid: str, context: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)[-150:]
    for index, opened in enumerate(context.pages):
        suffix = f"-{index}" if index else ""
        try:
            opened.screenshot(path=str(ARTIFACTS / f"{stem}{suffix}.png"), full_page=True)
            (ARTIFACTS / f"{stem}{suffix}.html").write_text(opened.content(), encoding="utf-8")
        except Exception as error:  # a crashed page still lets the other artifacts through
            (ARTIFACTS / f"{stem}{suffix}.txt").write_text(repr(error), encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results.response["violations"]
        if violation.get("impact") in BLOCKING_IMPACTS
    ]


def log_in(page: Any, base_url: str, username: str, password: str) -> None:
    """Through the store login form, as staff do."""
    page.goto(f"{base_url}/store/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("domcontentloaded")
