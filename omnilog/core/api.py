"""One DRF exception handler: every API error becomes RFC 9457 problem details."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
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


def problem_response(document: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    response = Response(document, status=document["status"], headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


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
            )
        )
    if isinstance(exc, DjangoValidationError):
        detail: Any = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        exc = exceptions.ValidationError(detail=detail)
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
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            extra["retry_after"] = int(exc.wait) + 1
        document = problem(
            status=response.status_code,
            code=code,
            detail=detail_text,
            instance=instance,
            extra=extra,
        )
    return problem_response(document, headers=headers)
