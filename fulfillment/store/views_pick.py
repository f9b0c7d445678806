"""Store screens: pick a pickup order by scanning, report lines not found or damaged, mark it
ready (pickup code e-mailed), re-send a code (managers).

Scans and short picks post with htmx and get the pick panel back (refusals too, with their
status code and message); without JavaScript the same forms post and get the whole page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View

from fulfillment.models import FulfillmentOrder
from fulfillment.services.pickup_codes import pickup_code_issue, pickup_code_state
from fulfillment.store.access import (
    StoreRequiredMixin,
    fulfillment_order_for_staff,
    manager_required,
)
from fulfillment.store.forms import int_field
from fulfillment.store.selectors import pick_sheet
from fulfillment.store.services import store_line_short, store_order_ready, store_pick_scan
from omnilog.core.errors import ApplicationError

SHORT_LABELS = {"not_found": "not found", "damaged": "damaged"}


def _actor(request: HttpRequest) -> str:
    return f"store:{request.user.get_username()}"


class StoreOrderView(StoreRequiredMixin, View):
    def fulfillment_order(self, request: HttpRequest, pk: int) -> FulfillmentOrder:
        return fulfillment_order_for_staff(request.user, request.store, pk)  # type: ignore[attr-defined]


class PickView(StoreOrderView):
    def get(self, request: HttpRequest, store: str, pk: int) -> HttpResponse:
        return self.page(request, self.fulfillment_order(request, pk))

    def post(self, request: HttpRequest, store: str, pk: int) -> HttpResponse:
        fulfillment_order = self.fulfillment_order(request, pk)
        status, feedback = 200, None
        try:
            if request.POST.get("action") == "short":
                feedback = self.short(request, fulfillment_order)
            else:
                feedback = self.scan(request, fulfillment_order)
        except ApplicationError as error:
            status, feedback = error.status, ("error", error.message)
        fulfillment_order.refresh_from_db()
        return self.page(request, fulfillment_order, feedback=feedback, status=status)

    def scan(self, request: HttpRequest, fulfillment_order: FulfillmentOrder) -> tuple[str, str]:
        result = store_pick_scan(
            fulfillment_order_id=fulfillment_order.pk,
            code=request.POST.get("code", "")[:64],
            scan_id=request.POST.get("scan_id", "")[:64],
            actor=_actor(request),
        )
        if result.is_duplicate:
            return ("warn", "Duplicate scan ignored.")
        done = " Everything is picked: mark it ready." if result.units_left == 0 else ""
        return (
            "ok",
            f"Picked {result.sku} {result.name}: {result.line_picked} of {result.line_quantity}."
            + done,
        )

    def short(self, request: HttpRequest, fulfillment_order: FulfillmentOrder) -> tuple[str, str]:
        reason = request.POST.get("reason", "")
        quantity = int_field(request.POST, "quantity", default=1)
        result = store_line_short(
            fulfillment_order_id=fulfillment_order.pk,
            line_id=int_field(request.POST, "line_id"),
            quantity=quantity,
            reason=reason,
            actor=_actor(request),
        )
        text = f"{quantity} item(s) recorded {SHORT_LABELS.get(reason, reason)}; the order "
        text += "was re-routed." if result.decision is not None else "goes back to routing."
        if result.damage_error:
            return ("warn", text + f" Damaged stock not recorded: {result.damage_error}")
        return ("ok", text)

    def page(
        self,
        request: HttpRequest,
        fulfillment_order: FulfillmentOrder,
        *,
        feedback: tuple[str, str] | None = None,
        status: int = 200,
    ) -> HttpResponse:
        context: dict[str, Any] = {
            "fo": fulfillment_order,
            "order": fulfillment_order.order,
            "sheet": pick_sheet(fulfillment_order=fulfillment_order),
            "has_code": pickup_code_state(fulfillment_order) is not None,
            "feedback": feedback,
            "nav": "queue",
        }
        template = "store/_pick_panel.html" if request.htmx else "store/pick.html"  # type: ignore[attr-defined]
        return render(request, template, context, status=status)


class ReadyView(StoreOrderView):
    """POST: bag the picked order, make it ready, e-mail the pickup code; back to the queue."""

    def post(self, request: HttpRequest, store: str, pk: int) -> HttpResponse:
        fulfillment_order = self.fulfillment_order(request, pk)
        try:
            issued = store_order_ready(
                fulfillment_order_id=fulfillment_order.pk, actor=_actor(request)
            )
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("store:pick", store=store, pk=pk)
        where = (
            f"e-mailed to {issued.emailed_to}" if issued.emailed_to else "not e-mailed (no address)"
        )
        messages.success(
            request,
            f"Order {fulfillment_order.order.number} is ready; the pickup code was {where}.",
        )
        return redirect("store:queue", store=store)


@method_decorator(manager_required, name="post")
class CodeResendView(StoreOrderView):
    """POST (store managers): a new pickup code for a ready order (unlocks a locked one)."""

    def post(self, request: HttpRequest, store: str, pk: int) -> HttpResponse:
        fulfillment_order = self.fulfillment_order(request, pk)
        try:
            issued = pickup_code_issue(
                fulfillment_order_id=fulfillment_order.pk, actor=_actor(request)
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            where = issued.emailed_to or "nobody (no e-mail address)"
            messages.success(request, f"A new pickup code was sent to {where}.")
        return redirect("store:handover-order", store=store, pk=pk)
