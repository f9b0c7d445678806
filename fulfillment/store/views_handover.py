"""Store screens: find a ready order (QR scan, order number or the code alone), hand it over
against its pickup code (proxy, ID check, partial handover, curbside bay).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from fulfillment.models import FulfillmentOrder
from fulfillment.models_store import Handover
from fulfillment.services.handover import HandoverRequest, pickup_handover
from fulfillment.services.pickup_codes import (
    CODE_PATTERN,
    code_guess_failed,
    code_guesses_check,
    pickup_code_search,
    pickup_code_state,
    qr_payload_parse,
)
from fulfillment.store.access import MANAGER, StoreRequiredMixin, fulfillment_order_for_staff
from fulfillment.store.forms import int_field
from fulfillment.store.selectors import handover_sheet, store_order_find
from omnilog.core.errors import ApplicationError, FieldError, ValidationFailed

# Fields whose errors show next to their input; the others are listed under the message.
INLINE = frozenset({"code", "collector_name", "id_checked"})


def _actor(request: HttpRequest) -> str:
    return f"store:{request.user.get_username()}"


def _staff_key(request: HttpRequest) -> str:
    return f"user:{request.user.pk}"


class HandoverFindView(StoreRequiredMixin, View):
    """One field: the customer's QR, an order number, or the 6-digit code alone (searched among
    the store's ready orders; a miss counts against the staff user's guessing window)."""

    def get(self, request: HttpRequest, store: str) -> HttpResponse:
        return render(request, "store/handover_find.html", {"nav": "handover"})

    def post(self, request: HttpRequest, store: str) -> HttpResponse:
        text = request.POST.get("q", "").strip()[:64]
        location = request.store  # type: ignore[attr-defined]
        try:
            scanned = qr_payload_parse(text)
            if scanned is not None:
                fulfillment_order = fulfillment_order_for_staff(request.user, location, scanned[0])
                return HandoverOrderView.page(request, fulfillment_order, code=text)
            if CODE_PATTERN.match(text):
                code_guesses_check(_staff_key(request))
                found = pickup_code_search(location=location, code=text)
                if found is None:
                    code_guess_failed(_staff_key(request))
                    raise ValidationFailed(
                        "No ready order here has this pickup code. Check the digits, or type "
                        "the order number.",
                        code="wrong_code",
                        field_errors=[FieldError("q", "Unknown pickup code.", "wrong_code")],
                    )
                fulfillment_order = fulfillment_order_for_staff(request.user, location, found)
                return HandoverOrderView.page(request, fulfillment_order, code=text)
            typed = store_order_find(location=location, text=text) if text else None
            if typed is None:
                raise ValidationFailed(
                    f"No pickup order {text or '(empty)'} at this store.",
                    code="not_found",
                    field_errors=[FieldError("q", "Not found.", "not_found")],
                )
            return redirect("store:handover-order", store=store, pk=typed.pk)
        except ApplicationError as error:
            context = {"nav": "handover", "error": error.message, "q": text}
            return render(request, "store/handover_find.html", context, status=error.status)
        except Http404:
            context = {
                "nav": "handover",
                "error": "This QR code is not for an order of this store.",
                "q": "",
            }
            return render(request, "store/handover_find.html", context, status=404)


class HandoverOrderView(StoreRequiredMixin, View):
    def get(self, request: HttpRequest, store: str, pk: int) -> HttpResponse:
        fulfillment_order = fulfillment_order_for_staff(request.user, request.store, pk)  # type: ignore[attr-defined]
        return self.page(request, fulfillment_order)

    def post(self, request: HttpRequest, store: str, pk: int) -> HttpResponse:
        fulfillment_order = fulfillment_order_for_staff(request.user, request.store, pk)  # type: ignore[attr-defined]
        data = request.POST
        code = data.get("code", "").strip()[:64]
        try:
            lines = [
                (row.line_id, int_field(data, f"quantity-{row.line_id}", default=row.left))
                for row in handover_sheet(fulfillment_order=fulfillment_order)
                if row.left
            ]
            result = pickup_handover(
                fulfillment_order_id=fulfillment_order.pk,
                request=HandoverRequest(
                    code=code,
                    relation=data.get("relation", Handover.Relation.CUSTOMER.value),
                    collector_name=data.get("collector_name", "")[:150],
                    proxy_relation=data.get("proxy_relation", "")[:64],
                    id_checked=data.get("id_checked") == "on",
                    lines=lines,
                    curbside_bay=fulfillment_order.order.curbside_bay,
                ),
                actor=_actor(request),
                staff_key=_staff_key(request),
            )
        except ApplicationError as error:
            fulfillment_order.refresh_from_db()
            return self.page(
                request, fulfillment_order, code=code, error=error, status=error.status
            )
        number = fulfillment_order.order.number
        if result.is_complete:
            messages.success(request, f"Order {number} handed over: {result.units} item(s).")
            return redirect("store:handover", store=store)
        messages.success(
            request,
            f"Order {number}: {result.units} item(s) handed over, {result.units_left} still "
            "waiting under the same code.",
        )
        return redirect("store:handover-order", store=store, pk=pk)

    @staticmethod
    def page(
        request: HttpRequest,
        fulfillment_order: FulfillmentOrder,
        *,
        code: str = "",
        error: ApplicationError | None = None,
        status: int = 200,
    ) -> HttpResponse:
        data = request.POST if request.method == "POST" and error is not None else None
        field_errors = error.field_errors if error is not None else ()
        context: dict[str, Any] = {
            "nav": "handover",
            "fo": fulfillment_order,
            "order": fulfillment_order.order,
            "lines": handover_sheet(fulfillment_order=fulfillment_order),
            "pickup_code": pickup_code_state(fulfillment_order),
            "is_manager": request.store_role == MANAGER,  # type: ignore[attr-defined]
            "code": code if error is None or error.code != "wrong_code" else "",
            "error": error,
            "field_errors": {item.field: item.message for item in field_errors},
            "other_errors": [item.message for item in field_errors if item.field not in INLINE],
            "form": data,
        }
        return render(request, "store/handover.html", context, status=status)
