"""The public tracking page: ``/track/<token>``, for the customer, on any device.

The token is the only credential (unguessable, 32 URL-safe characters): the page is not
indexed, not cached by shared caches, and sends no referrer (the URL must not leak).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from omnilog.core.errors import NotFound
from orders.selectors import order_tracking_by_token


@require_safe
def order_tracking_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        tracking = order_tracking_by_token(token=token)
    except NotFound as error:
        raise Http404("No such order.") from error
    response = render(request, "orders/tracking.html", {"tracking": tracking})
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response
