"""Site-wide views: health, and error pages (problem details under /api/, HTML elsewhere)."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from omnilog.core.health import health_checks
from omnilog.core.middleware import is_api_path
from omnilog.core.problems import PROBLEM_CONTENT_TYPE, problem

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with every check when all pass, 503 when any part is down.

    Anyone (load balancers, orchestrators) gets the status and each check's verdict and time;
    the details (server versions, worker host names, error texts) only go to staff users, so an
    anonymous caller learns nothing that helps an attack.
    """
    checks = health_checks()
    healthy = all(check.is_healthy for check in checks)
    detailed = bool(getattr(request, "user", None) and request.user.is_staff)
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "checks": {
            check.name: {
                "healthy": check.is_healthy,
                "ms": check.milliseconds,
                **({"detail": check.detail} if detailed else {}),
            }
            for check in checks
        },
    }
    return JsonResponse(body, status=200 if healthy else 503)


def _error(request: HttpRequest, *, status: int, code: str, detail: str) -> HttpResponse:
    if is_api_path(request.path):
        document = problem(status=status, code=code, detail=detail, instance=request.path)
        return JsonResponse(document, status=status, content_type=PROBLEM_CONTENT_TYPE)
    context: dict[str, Any] = {"status": status, "detail": detail}
    return render(request, "errors/error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, status=400, code="malformed_request", detail="The request is malformed.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, status=403, code="permission_denied", detail="You may not do this here.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, status=404, code="not_found", detail=f"Nothing is published at {request.path}."
    )


def server_error(request: HttpRequest) -> HttpResponse:
    detail = "Something went wrong on our side; it has been logged."
    try:
        return _error(request, status=500, code="server_error", detail=detail)
    except Exception:  # the page itself failed (template, context): the status must still go out
        logger.exception("the 500 page could not be rendered")
        return HttpResponse(detail, status=500, content_type="text/plain; charset=utf-8")
