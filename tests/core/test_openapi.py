"""The OpenAPI schema and its docs page, served without any CDN."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.core.helpers import problem_of


def test_schema_is_an_openapi_3_document_in_yaml() -> None:
    response = Client().get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Omnilog API"
    assert "/api/v1/ping" in document["paths"]


def test_schema_in_json() -> None:
    response = Client().get("/api/schema/?format=json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json"
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["paths"]["/api/v1/ping"]["get"]["responses"]["200"]


def test_schema_generates_without_warnings(tmp_path: object) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", f"{tmp_path}/schema.yaml")


class AssetCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.assets.append(value)


def test_docs_page_loads_every_asset_from_our_own_static_files() -> None:
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    collector = AssetCollector()
    collector.feed(html)
    assert sorted(collector.assets) == [
        "/static/drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
    ]
    # No absolute or protocol-relative URL anywhere in the page: nothing comes from a CDN.
    assert re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, flags=re.IGNORECASE) == []
    assert '"/api/schema/"' in html
    for asset in collector.assets:
        path = asset.removeprefix("/static/")
        assert finders.find(path), asset
        served = Client().get(asset)
        assert served.status_code == 200, asset
        assert len(b"".join(served.streaming_content)) > 100, asset  # type: ignore[attr-defined]


def api_paths() -> list[str]:
    """Every route under /api/ with its converters filled with sample values."""
    samples = {
        "int": "1",
        "str": "x",
        "slug": "x",
        "uuid": "00000000-0000-0000-0000-000000000001",
        "path": "x",
    }
    found: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith("api/"):
                filled = re.sub(
                    r"<(?:(\w+):)?\w+>",
                    lambda match: samples.get(match.group(1) or "str", "x"),
                    route,
                )
                found.append("/" + filled.lstrip("^").rstrip("$"))

    walk(get_resolver().url_patterns, "")
    return sorted(found)


def test_api_paths_are_found() -> None:
    assert {"/api/v1/ping", "/api/schema/", "/api/docs/"} <= set(api_paths())


@pytest.mark.django_db
@pytest.mark.parametrize("path", api_paths())
def test_every_api_route_answers_a_bad_request_with_a_problem(path: str) -> None:
    client = Client(raise_request_exception=False)

    for response in (
        client.post(path, "{not json", content_type="application/json"),
        client.put(path, "{not json", content_type="application/json"),
        client.get(path, HTTP_ACCEPT="application/x-nothing-we-render"),
    ):
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert response["Content-Type"] == "application/problem+json", (path, response.content)
        problem_of(response, response.status_code, response.json()["code"])
