"""problems.py is pure: problem documents and the flattening of DRF-style field errors."""

from __future__ import annotations

from rest_framework.exceptions import ErrorDetail

from omnilog.core.problems import PROBLEM_CONTENT_TYPE, flatten_field_errors, problem


def test_flatten_nested_list_serializer_errors_gives_dotted_paths_with_indexes() -> None:
    detail = {
        "channel": [ErrorDetail("This field is required.", code="required")],
        "lines": [
            {},
            {
                "quantity": [
                    ErrorDetail("Ensure this value is greater than or equal to 1.", "min_value")
                ]
            },
            {
                "sku": [ErrorDetail("Not a known SKU.", code="unknown_sku")],
                "quantity": [ErrorDetail("A valid integer is required.", code="invalid")],
            },
        ],
    }

    assert flatten_field_errors(detail) == [
        {"field": "channel", "code": "required", "message": "This field is required."},
        {
            "field": "lines.1.quantity",
            "code": "min_value",
            "message": "Ensure this value is greater than or equal to 1.",
        },
        {"field": "lines.2.sku", "code": "unknown_sku", "message": "Not a known SKU."},
        {"field": "lines.2.quantity", "code": "invalid", "message": "A valid integer is required."},
    ]


def test_flatten_non_field_errors_belong_to_their_parent() -> None:
    detail = {
        "non_field_errors": [ErrorDetail("The channel is closed.", code="channel_closed")],
        "lines": [{"non_field_errors": [ErrorDetail("Duplicate line.", code="duplicate")]}],
    }

    assert flatten_field_errors(detail) == [
        {"field": "__all__", "code": "channel_closed", "message": "The channel is closed."},
        {"field": "lines.0", "code": "duplicate", "message": "Duplicate line."},
    ]


def test_flatten_list_field_errors_keyed_by_index() -> None:
    # DRF's ListField reports child errors as a dict keyed by the integer index.
    detail = {
        "tags": {3: [ErrorDetail("Ensure this field has no more than 5 characters.", "max_length")]}
    }

    assert flatten_field_errors(detail) == [
        {
            "field": "tags.3",
            "code": "max_length",
            "message": "Ensure this field has no more than 5 characters.",
        }
    ]


def test_flatten_plain_strings_default_to_code_invalid() -> None:
    assert flatten_field_errors(["Bad.", "Worse."]) == [
        {"field": "__all__", "code": "invalid", "message": "Bad."},
        {"field": "__all__", "code": "invalid", "message": "Worse."},
    ]
    assert flatten_field_errors("Just wrong.") == [
        {"field": "__all__", "code": "invalid", "message": "Just wrong."}
    ]
    assert flatten_field_errors({"email": "Enter a valid e-mail."}) == [
        {"field": "email", "code": "invalid", "message": "Enter a valid e-mail."}
    ]


def test_flatten_many_serializer_errors_at_top_level() -> None:
    detail = [{}, {"sku": [ErrorDetail("Required.", code="required")]}, {}]

    assert flatten_field_errors(detail) == [
        {"field": "1.sku", "code": "required", "message": "Required."}
    ]


def test_flatten_empty_structures_give_no_errors() -> None:
    assert flatten_field_errors({}) == []
    assert flatten_field_errors([]) == []
    assert flatten_field_errors({"lines": [{}, {}]}) == []


def test_problem_minimal_shape() -> None:
    assert PROBLEM_CONTENT_TYPE == "application/problem+json"
    assert problem(status=404, code="not_found", detail="No order 7.") == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No order 7.",
        "code": "not_found",
    }


def test_problem_full_shape_keeps_reserved_members_from_extra() -> None:
    document = problem(
        status=409,
        code="insufficient_stock",
        title="Not enough stock",
        detail="1 line cannot be served.",
        instance="/api/v1/orders",
        errors=[{"field": "lines.0.quantity", "code": "insufficient_stock", "message": "2 left"}],
        extra={"lines": [{"sku": "A-1", "short": 3}], "status": 200, "type": "x"},
    )

    assert document == {
        "type": "https://omnilog.dev/problems/insufficient_stock",
        "title": "Not enough stock",
        "status": 409,
        "detail": "1 line cannot be served.",
        "code": "insufficient_stock",
        "instance": "/api/v1/orders",
        "errors": [
            {"field": "lines.0.quantity", "code": "insufficient_stock", "message": "2 left"}
        ],
        "lines": [{"sku": "A-1", "short": 3}],
    }


def test_problem_title_for_a_status_python_does_not_name() -> None:
    assert problem(status=499, code="client_closed", detail="Gone.")["title"] == "Error"
