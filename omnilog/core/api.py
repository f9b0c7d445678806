"""One DRF exception handler: every API error becomes RFC 9457 problem details."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError as DatabaseDataError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.fields import get_error_detail
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from omnilog.core.errors import ApplicationError
from omnilog.core.parsers import PayloadTooLarge
from omnilog.core.problems import PROBLEM_CONTENT_TYPE, flatten_field_errors, problem

logger = logging.getLogger(__name__)


_CODES_BY_EXCEPTION: dict[type[exceptions.APIException], str] = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    exceptions.ParseError: "malformed_request",
    exceptions.ValidationError: "validation_failed",
    PayloadTooLarge: "payload_too_large",
}


class ProblemJSONRenderer(JSONRenderer):
    media_type = PROBLEM_CONTENT_TYPE


def problem_response(
    document: dict[str, Any],
    *,
    request: Request | None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem document rendered as JSON whatever renderers the view declares.

    A view may render YAML (the schema) or HTML (the docs); its errors are still problem+json.
    DRF renders with ``request.accepted_renderer`` (set by content negotiation, or forced by
    ``finalize_response`` after this handler), so the handler sets it here.
    """
    response = Response(document, status=document["status"], headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    if request is not None:
        request.accepted_renderer = ProblemJSONRenderer()
        request.accepted_media_type = PROBLEM_CONTENT_TYPE
    return response


_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


def _is_transient_conflict(exc: Exception) -> bool:
    if not isinstance(exc, DatabaseOperationalError):
        return False
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in _TRANSIENT_SQLSTATES


# A value the column cannot hold: too long, out of range, a NUL in jsonb, an impossible date.
_INVALID_VALUE_SQLSTATES = frozenset({"22001", "22003", "22P05", "22007", "22008"})


def _is_invalid_value(exc: Exception) -> bool:
    """A safety net under the serializers' bounds: PostgreSQL refused a value from the request.

    psycopg refuses a NUL in a text parameter itself, before PostgreSQL sees it (no SQLSTATE).
    """
    if not isinstance(exc, DatabaseDataError):
        return False
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate in _INVALID_VALUE_SQLSTATES or (sqlstate is None and "NUL" in str(cause))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every error raised under DRF as RFC 9457 problem details."""
    request = context.get("request")
    instance = request.get_full_path() if request is not None else None

    if isinstance(exc, ApplicationError):
        errors = [
            {"field": error.field, "code": error.code, "message": error.message}
            for error in exc.field_errors
        ]
        return problem_response(
            problem(
                status=exc.status,
                code=exc.code,
                title=exc.title,
                detail=exc.message,
                instance=instance,
                errors=errors,
                extra=exc.details,
            ),
            request=request,
        )
    if _is_transient_conflict(exc):
        # PostgreSQL aborted the transaction to break a deadlock or a serialization conflict:
        # nothing was written, and the same request can succeed when sent again.
        return problem_response(
            problem(
                status=409,
                code="concurrent_update",
                title="Concurrent update",
                detail="Another request changed the same data at the same moment; "
                "nothing was written. Send the request again.",
                instance=instance,
            ),
            request=request,
            headers={"Retry-After": "1"},
        )
    if _is_invalid_value(exc):
        logger.warning("A value reached the database unchecked: %s", exc)
        return problem_response(
            problem(
                status=422,
                code="invalid_value",
                title="A value is not valid",
                detail="A value is too long, out of range or not a valid date; "
                "nothing was written.",
                instance=instance,
            ),
            request=request,
        )
    if isinstance(exc, DjangoValidationError):
        # get_error_detail keeps each message's code (``unique``, ``invalid``...).
        exc = exceptions.ValidationError(detail=get_error_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handler renders it (as problem details under /api/)

    code = next(
        (name for kind, name in _CODES_BY_EXCEPTION.items() if isinstance(exc, kind)),
        str(getattr(exc, "default_code", "error")),
    )
    headers = {
        key: value
        for key, value in response.items()
        if key in {"Retry-After", "WWW-Authenticate", "Allow"}
    }
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_field_errors(exc.detail)
        document = problem(
            status=response.status_code,
            code=code,
            title="The input is not valid",
            detail=f"{len(errors)} field(s) are not valid.",
            instance=instance,
            errors=errors,
        )
    else:
        detail_text = str(exc.detail) if not isinstance(exc.detail, dict | list) else str(exc)
        extra: dict[str, Any] = {}
        wait = getattr(exc, "wait", None)  # set by DRF on Throttled, missing from its stubs
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            extra["retry_after"] = int(wait) + 1
        document = problem(
            status=response.status_code,
            code=code,
            detail=detail_text,
            instance=instance,
            extra=extra,
        )
    return problem_response(document, request=request, headers=headers)
