"""Every API error is RFC 9457 problem details, with field errors for bad input."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.core.helpers import problem_of

pytestmark = pytest.mark.urls("tests.core.urls")

ORDERS = "/api/v1/_test/orders"


def test_valid_body_passes_through() -> None:
    body = {"channel": "web", "lines": [{"sku": "A-1", "quantity": 2}]}

    response = Client().post(ORDERS, body, content_type="application/json")

    assert response.status_code == 201
    assert response.json() == {"channel": "web", "lines": [{"sku": "A-1", "quantity": 2}]}


def test_nested_field_errors_have_dotted_paths() -> None:
    body = {
        "lines": [{"sku": "A-1", "quantity": 1}, {"sku": "B-2", "quantity": 0}, {"quantity": "x"}],
        "tags": ["ok", "much-too-long"],
    }

    response = Client().post(ORDERS, body, content_type="application/json")

    document = problem_of(response, 400, "validation_failed")
    assert document == {
        "type": "https://omnilog.dev/problems/validation_failed",
        "title": "The input is not valid",
        "status": 400,
        "detail": "5 field(s) are not valid.",
        "code": "validation_failed",
        "instance": ORDERS,
        "errors": [
            {"field": "channel", "code": "required", "message": "This field is required."},
            {
                "field": "lines.1.quantity",
                "code": "min_value",
                "message": "Ensure this value is greater than or equal to 1.",
            },
            {"field": "lines.2.sku", "code": "required", "message": "This field is required."},
            {
                "field": "lines.2.quantity",
                "code": "invalid",
                "message": "A valid integer is required.",
            },
            {
                "field": "tags.1",
                "code": "max_length",
                "message": "Ensure this field has no more than 5 characters.",
            },
        ],
    }


def test_object_level_error_is_reported_on_all() -> None:
    body = {"channel": "closed", "lines": [{"sku": "A-1", "quantity": 1}]}

    response = Client().post(ORDERS, body, content_type="application/json")

    document = problem_of(response, 400, "validation_failed")
    assert document["errors"] == [
        {"field": "__all__", "code": "channel_closed", "message": "The channel is closed."}
    ]


def test_application_error_keeps_code_title_details_and_field_errors() -> None:
    response = Client().get("/api/v1/_test/application-error?x=1")

    assert problem_of(response, 409, "insufficient_stock") == {
        "type": "https://omnilog.dev/problems/insufficient_stock",
        "title": "Not enough stock",
        "status": 409,
        "detail": "2 lines cannot be served.",
        "code": "insufficient_stock",
        "instance": "/api/v1/_test/application-error?x=1",
        "errors": [
            {"field": "lines.0.quantity", "code": "insufficient_stock", "message": "Only 2 left."}
        ],
        "lines": [{"sku": "A-1", "short": 3}, {"sku": "B-2", "short": 1}],
    }


def test_django_validation_error_keeps_fields_and_codes() -> None:
    response = Client().get("/api/v1/_test/django-validation-error")

    document = problem_of(response, 400, "validation_failed")
    assert document["errors"] == [
        {"field": "email", "code": "invalid_email", "message": "Enter a valid e-mail."}
    ]


def test_django_validation_error_without_fields() -> None:
    response = Client().get("/api/v1/_test/django-validation-error?shape=list")

    document = problem_of(response, 400, "validation_failed")
    assert document["errors"] == [
        {"field": "__all__", "code": "invalid", "message": "First problem."},
        {"field": "__all__", "code": "invalid", "message": "Second problem."},
    ]


def test_http404_in_a_view_is_not_found_problem() -> None:
    response = Client().get("/api/v1/_test/missing")

    document = problem_of(response, 404, "not_found")
    assert document["type"] == "about:blank"
    assert document["instance"] == "/api/v1/_test/missing"


def test_unknown_api_route_is_not_found_problem() -> None:
    response = Client().get("/api/v1/no-such-thing")

    assert problem_of(response, 404, "not_found") == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Nothing is published at /api/v1/no-such-thing.",
        "code": "not_found",
        "instance": "/api/v1/no-such-thing",
    }


@pytest.mark.parametrize("path", ["/api", "/api/", "/api/v2/orders", "/api/v1/_test/orders/"])
def test_every_unknown_path_under_api_is_a_problem(path: str) -> None:
    problem_of(Client().post(path, "{}", content_type="application/json"), 404, "not_found")


def test_wrong_method_is_405_problem_with_allow_header() -> None:
    response = Client().get(ORDERS)

    document = problem_of(response, 405, "method_not_allowed")
    assert document["detail"] == 'Method "GET" not allowed.'
    assert response["Allow"] == "POST, OPTIONS"


def test_wrong_method_on_schema_and_docs_is_still_json() -> None:
    # These views render YAML and HTML; their errors must not.
    for path in ("/api/schema/", "/api/docs/"):
        response = Client().delete(path)
        problem_of(response, 405, "method_not_allowed")
        assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_unsupported_content_type_is_415_problem() -> None:
    response = Client().post(
        ORDERS, "channel=web", content_type="application/x-www-form-urlencoded"
    )

    document = problem_of(response, 415, "unsupported_media_type")
    assert (
        document["detail"]
        == 'Unsupported media type "application/x-www-form-urlencoded" in request.'
    )


def test_not_acceptable_is_406_problem() -> None:
    response = Client().get("/api/v1/ping", HTTP_ACCEPT="text/html")

    problem_of(response, 406, "not_acceptable")


def test_unknown_schema_format_is_404_problem_in_json() -> None:
    problem_of(Client().get("/api/schema/?format=xml"), 404, "not_found")


def test_anonymous_request_to_session_view_is_403_not_authenticated() -> None:
    """Session authentication has no challenge to send (401 requires WWW-Authenticate), so DRF
    answers 403; ``code`` says ``not_authenticated`` rather than ``permission_denied``."""
    response = Client().get("/api/v1/_test/private")

    assert problem_of(response, 403, "not_authenticated") == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
        "instance": "/api/v1/_test/private",
    }
    assert "WWW-Authenticate" not in response


def test_missing_or_bad_header_credential_is_401_with_challenge() -> None:
    """An authenticator with a challenge (API keys) gets a real 401 and WWW-Authenticate."""
    missing = Client().get("/api/v1/_test/key")
    document = problem_of(missing, 401, "not_authenticated")
    assert document["title"] == "Unauthorized"
    assert missing["WWW-Authenticate"] == 'Api-Key realm="test"'

    bad = Client().get("/api/v1/_test/key", HTTP_X_TEST_KEY="bad")
    document = problem_of(bad, 401, "authentication_failed")
    assert document["detail"] == "The key is not valid."
    assert bad["WWW-Authenticate"] == 'Api-Key realm="test"'

    assert Client().get("/api/v1/_test/key", HTTP_X_TEST_KEY="good").json() == {"key": "good"}


@pytest.mark.django_db
def test_signed_in_user_without_permission_is_403_permission_denied() -> None:
    client = Client()
    client.force_login(User.objects.create_user("clerk", password="x"))

    assert client.get("/api/v1/_test/private").json() == {"user": "clerk"}
    document = problem_of(client.get("/api/v1/_test/staff"), 403, "permission_denied")
    assert document["detail"] == "You do not have permission to perform this action."


def test_unhandled_exception_in_api_view_is_500_problem(caplog: pytest.LogCaptureFixture) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/_test/crash")

    assert problem_of(response, 500, "server_error") == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "Something went wrong on our side; it has been logged.",
        "code": "server_error",
        "instance": "/api/v1/_test/crash",
    }
    assert "a bug in a view" not in response.content.decode()
    assert any(
        record.exc_info and "a bug in a view" in str(record.exc_info[1])
        for record in caplog.records
    )


def test_disallowed_host_under_api_is_400_problem() -> None:
    response = Client().get("/api/v1/ping", HTTP_HOST="evil.example")

    problem_of(response, 400, "malformed_request")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 2147483648::integer",  # 22003 numeric value out of range
        "SELECT '2026-02-30'::date",  # 22008 datetime field overflow
        "SELECT '\"\\u0000\"'::jsonb",  # 22P05 untranslatable character
        # 22001 string data right truncation
        "CREATE TEMP TABLE short_text (v varchar(2)); INSERT INTO short_text VALUES ('abc')",
    ],
)
def test_a_value_postgresql_refuses_is_a_422_invalid_value_problem(sql: str) -> None:
    """The safety net under the serializers' bounds: never a 500 for a client's value."""
    from django.db import DataError, connection, transaction

    from omnilog.core.api import exception_handler

    with pytest.raises(DataError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    response = exception_handler(refused.value, {"request": None})
    assert response is not None
    assert (response.status_code, response.data["code"]) == (422, "invalid_value")
    assert response.content_type == "application/problem+json"


@pytest.mark.django_db
def test_a_nul_in_a_text_parameter_is_a_422_invalid_value_problem() -> None:
    from django.db import DataError, connection, transaction

    from omnilog.core.api import exception_handler

    with pytest.raises(DataError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT %s::text", ["a\x00b"])
    response = exception_handler(refused.value, {"request": None})
    assert response is not None
    assert (response.status_code, response.data["code"]) == (422, "invalid_value")


@pytest.mark.django_db
def test_a_data_error_of_our_own_making_stays_a_bug() -> None:
    """Division by zero is not the client's value: left to the 500 handler."""
    from django.db import DataError, connection, transaction

    from omnilog.core.api import exception_handler

    with pytest.raises(DataError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")
    assert exception_handler(refused.value, {"request": None}) is None
