"""Outside /api/, errors are the site's own HTML pages (templates/errors/error.html)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.urls("tests.core.urls")


def template_names(response: object) -> list[str]:
    return [template.name for template in response.templates]  # type: ignore[attr-defined]


def test_unknown_page_is_html_404() -> None:
    response = Client().get("/no/such/page")

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert template_names(response) == ["errors/error.html", "base.html"]
    html = response.content.decode()
    assert "<title>404 · Omnilog</title>" in html
    assert "<h1>Page not found</h1>" in html
    assert "Nothing is published at /no/such/page." in html
    assert '<link rel="stylesheet" href="/static/omnilog/site.css">' in html


def test_crash_in_a_page_is_html_500_without_the_error() -> None:
    response = Client(raise_request_exception=False).get("/_test/crash")

    assert response.status_code == 500
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert template_names(response) == ["errors/error.html", "base.html"]
    html = response.content.decode()
    assert "<h1>Something went wrong</h1>" in html
    assert "Something went wrong on our side; it has been logged." in html
    assert "a bug in a page" not in html
    assert "Traceback" not in html


def test_bad_host_outside_api_is_html_400() -> None:
    response = Client().get("/admin/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert "<h1>Bad request</h1>" in response.content.decode()


def test_site_stylesheet_is_served() -> None:
    response = Client().get("/static/omnilog/site.css")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b".error-page" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_healthz_refuses_post() -> None:
    assert Client().post("/healthz").status_code == 405
