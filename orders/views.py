"""The public tracking page: ``/track/<token>``, for the customer, on any device.

The token is the only credential (unguessable, 32 URL-safe characters): the page is not
indexed, not cached by shared caches, and sends no referrer to other sites (the URL must not
leak). ``same-origin`` rather than ``no-referrer``: with ``no-referrer`` a browser sends
``Origin: null`` on the page's own form POST and Django's CSRF check refuses it.

A click-and-collect order that is ready for pickup shows an "I'm here" form (curbside pickup):
``POST /track/<token>/here`` (CSRF-protected) records the bay and note, then redirects back to
the page (303); a refusal re-renders the page with the reason and writes nothing.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from omnilog.core.errors import ApplicationError, FieldError, NotFound, ValidationFailed
from orders.selectors import Tracking, order_tracking_by_token
from orders.services.curbside import curbside_check, order_curbside_arrive


def _tracking_or_404(token: str) -> Tracking:
    try:
        return order_tracking_by_token(token=token)
    except NotFound as error:
        raise Http404("No such order.") from error


def _page(
    request: HttpRequest, token: str, tracking: Tracking, *, status: int = 200, **extra: Any
) -> HttpResponse:
    curbside = curbside_check(
        delivery_mode=tracking.delivery_mode,
        status=tracking.status,
        store_id=tracking.pickup_store_id,
    )
    context = {
        "tracking": tracking,
        "token": token,
        "curbside": curbside,
        "bays": range(1, curbside.bays + 1),
        **extra,
    }
    response = render(request, "orders/tracking.html", context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def order_tracking_page(request: HttpRequest, token: str) -> HttpResponse:
    return _page(request, token, _tracking_or_404(token))


@require_POST
def order_curbside_arrive_page(request: HttpRequest, token: str) -> HttpResponse:
    """The "I'm here" form: bay (1..the store's bays) and an optional note."""
    raw_bay = request.POST.get("bay", "").strip()
    note = request.POST.get("note", "")
    try:
        if not raw_bay.isdigit() or len(raw_bay) > 4:
            raise ValidationFailed(
                "Check the bay and the note.",
                field_errors=[FieldError("bay", "Choose your bay number.", "invalid")],
            )
        order_curbside_arrive(tracking_token=token, bay=int(raw_bay), note=note)
    except NotFound as error:
        raise Http404("No such order.") from error
    except ApplicationError as error:
        errors = {item.field: item.message for item in error.field_errors}
        return _page(
            request,
            token,
            _tracking_or_404(token),
            status=error.status,
            curbside_error=error.message,
            curbside_errors=errors,
            curbside_form={"bay": raw_bay, "note": note},
        )
    response = HttpResponseRedirect(reverse("order-tracking-page", args=[token]) + "#curbside")
    response.status_code = 303  # See Other: reloading the page does not post again
    return response
