"""Refuse oversize API bodies before any view reads them."""

from __future__ import annotations

import io
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse

from omnilog.core.problems import PROBLEM_CONTENT_TYPE, problem

FEEDS_PREFIX = "/api/v1/feeds/"


def is_api_path(path: str) -> bool:
    """Whether ``path`` belongs to the API, whose every error is problem details."""
    return path == "/api" or path.startswith("/api/")


def body_limit(path: str) -> int:
    """The largest body, in bytes, accepted on ``path`` (feed uploads have their own cap)."""
    if path.startswith(FEEDS_PREFIX):
        return int(settings.FEED_MAX_BODY_BYTES)
    return int(settings.API_MAX_BODY_BYTES)


class ApiBodyLimitMiddleware:
    """413 problem details for ``/api/`` requests whose body exceeds the cap.

    With a declared ``Content-Length`` the request is judged on the header alone. Without one
    (``Transfer-Encoding: chunked``), a WSGI server that terminates the input stream
    (``wsgi.input_terminated``, as gunicorn does) lets us read at most ``limit + 1`` bytes:
    more is a 413, less becomes the request body with its now known length. Django itself
    ignores bodies without a length, so without this a chunked JSON body would look empty.
    The parser (``LimitedJSONParser``) applies the same cap again while reading.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_path(request.path):
            return self.get_response(request)
        limit = body_limit(request.path)
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                return _refuse(request, 400, "malformed_request", "The Content-Length is invalid.")
            if length > limit:
                return _refuse(request, 413, "payload_too_large", _too_large(limit))
        elif request.META.get("wsgi.input_terminated") and _is_chunked(request):
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _refuse(request, 413, "payload_too_large", _too_large(limit))
            request.META["CONTENT_LENGTH"] = str(len(body))
            # Django built its stream with length 0 (no header); give it the body we read.
            request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]
        return self.get_response(request)


def _is_chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def _too_large(limit: int) -> str:
    return f"The request body exceeds {limit} bytes."


def _refuse(request: HttpRequest, status: int, code: str, detail: str) -> JsonResponse:
    document = problem(status=status, code=code, detail=detail, instance=request.get_full_path())
    return JsonResponse(document, status=status, content_type=PROBLEM_CONTENT_TYPE)
