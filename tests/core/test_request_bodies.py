"""Malformed, empty and oversize request bodies are 4xx problems, never 500s."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError

from omnilog.core.middleware import body_limit
from omnilog.core.parsers import LimitedJSONParser, PayloadTooLarge
from tests.core.helpers import problem_of

pytestmark = pytest.mark.urls("tests.core.urls")

ORDERS = "/api/v1/_test/orders"
VALID = {"channel": "web", "lines": [{"sku": "A-1", "quantity": 2}]}


def post_raw(body: bytes | str, **extra: Any) -> Any:
    return Client().post(ORDERS, body, content_type="application/json", **extra)


@pytest.mark.parametrize(
    ("body", "detail_start"),
    [
        ('{"channel": "web",', "JSON parse error - "),
        ("not json at all", "JSON parse error - "),
        ('{"channel": NaN}', "JSON parse error - "),
        ('{"lines": [{"quantity": -Infinity}]}', "JSON parse error - "),
        (b'{"channel": "\xff\xfe"}', "JSON parse error - "),
        ("[" * 100_000, "JSON parse error - the document is nested too deeply."),
        ("   \n ", "The request body is empty; a JSON document is expected."),
    ],
    ids=["truncated", "text", "nan", "infinity", "bad-utf8", "deep-nesting", "whitespace"],
)
def test_malformed_body_is_400_malformed_request(body: bytes | str, detail_start: str) -> None:
    document = problem_of(post_raw(body), 400, "malformed_request")

    assert document["type"] == "https://omnilog.dev/problems/malformed_request"
    assert document["detail"].startswith(detail_start)


def test_empty_body_on_post_is_400_listing_required_fields() -> None:
    document = problem_of(post_raw(""), 400, "validation_failed")

    assert document["errors"] == [
        {"field": "channel", "code": "required", "message": "This field is required."},
        {"field": "lines", "code": "required", "message": "This field is required."},
    ]


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "42"])
def test_json_that_is_not_an_object_is_400(body: str) -> None:
    document = problem_of(post_raw(body), 400, "validation_failed")

    assert [error["field"] for error in document["errors"]] == ["__all__"]


@override_settings(API_MAX_BODY_BYTES=64)
def test_body_over_the_cap_with_content_length_is_413() -> None:
    body = json.dumps({**VALID, "tags": ["x" * 5] * 10})
    assert len(body) > 64

    document = problem_of(post_raw(body), 413, "payload_too_large")

    assert document["detail"] == "The request body exceeds 64 bytes."
    assert document["type"] == "https://omnilog.dev/problems/payload_too_large"


@override_settings(API_MAX_BODY_BYTES=64)
def test_body_at_the_cap_is_accepted() -> None:
    body = json.dumps(VALID).ljust(64)

    assert post_raw(body).status_code == 201


def test_invalid_content_length_is_400() -> None:
    problem_of(post_raw("{}", CONTENT_LENGTH="-5"), 400, "malformed_request")
    problem_of(post_raw("{}", CONTENT_LENGTH="many"), 400, "malformed_request")


def call_wsgi(path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """A chunked request as gunicorn hands it to Django: no Content-Length, a terminated
    input stream (``wsgi.input_terminated``) that yields the de-chunked body."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    started: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None, /
    ) -> Callable[[bytes], object]:
        started["status"] = int(status.split()[0])
        started["headers"] = dict(headers)
        return lambda data: None

    # As Django's test client does: the request must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = WSGIHandler()(environ, start_response)
        content = b"".join(result)
        result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started["status"], started["headers"], content


@override_settings(API_MAX_BODY_BYTES=64)
def test_chunked_body_over_the_cap_is_413() -> None:
    status, headers, content = call_wsgi(ORDERS, json.dumps({**VALID, "tags": ["x"] * 40}).encode())

    assert status == 413
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(content)["code"] == "payload_too_large"


@override_settings(API_MAX_BODY_BYTES=64)
def test_chunked_body_under_the_cap_is_read() -> None:
    status, _, content = call_wsgi(ORDERS, json.dumps(VALID).encode())

    assert status == 201
    assert json.loads(content) == VALID


@override_settings(API_MAX_BODY_BYTES=16)
def test_parser_caps_a_stream_of_unknown_length() -> None:
    parser = LimitedJSONParser()

    with pytest.raises(PayloadTooLarge) as raised:
        parser.parse(io.BytesIO(b'{"sku": "A-1", "q": 1}'), "application/json", {})
    assert str(raised.value.detail) == "The request body exceeds 16 bytes."
    assert parser.parse(io.BytesIO(b'{"sku": "A-1"}'), "application/json", {}) == {"sku": "A-1"}
    with pytest.raises(ParseError):
        parser.parse(io.BytesIO(b""), "application/json", {})


@override_settings(API_MAX_BODY_BYTES=100, FEED_MAX_BODY_BYTES=5000)
def test_feed_uploads_have_their_own_cap() -> None:
    assert body_limit("/api/v1/orders") == 100
    assert body_limit("/api/v1/feeds/stock-snapshots") == 5000


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["channel", "lines", "sku", "quantity", "tags", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=json_values)
def test_no_json_document_yields_a_server_error(body: object) -> None:
    response = Client(raise_request_exception=False).post(
        ORDERS, json.dumps(body), content_type="application/json"
    )

    assert response.status_code in {201, 400}, response.content
    if response.status_code == 400:
        problem_of(response, 400, "validation_failed")


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=200))
def test_no_byte_string_yields_a_server_error(body: bytes) -> None:
    response = Client(raise_request_exception=False).post(
        ORDERS, body, content_type="application/json"
    )

    assert response.status_code in {201, 400}, response.content
    if response.status_code == 400:
        assert response["Content-Type"] == "application/problem+json"
