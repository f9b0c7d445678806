"""Refuse oversize API bodies before any view reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from omnilog.core.problems import PROBLEM_CONTENT_TYPE, problem


class ApiBodyLimitMiddleware:
    """413 problem details for ``/api/`` requests whose declared length exceeds the cap.

    Feed uploads (``/api/v1/feeds/``) have their own, larger cap. Bodies without a declared
    length are capped while parsing (``LimitedJSONParser``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            limit = (
                settings.FEED_MAX_BODY_BYTES
                if request.path.startswith("/api/v1/feeds/")
                else settings.API_MAX_BODY_BYTES
            )
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > limit:
                document = problem(
                    status=413 if length > limit else 400,
                    code="payload_too_large" if length > limit else "malformed_request",
                    detail=(
                        f"The request body exceeds {limit} bytes."
                        if length > limit
                        else "The Content-Length header is not a number."
                    ),
                    instance=request.get_full_path(),
                )
                return JsonResponse(
                    document, status=document["status"], content_type=PROBLEM_CONTENT_TYPE
                )
        return self.get_response(request)
