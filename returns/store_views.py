"""The store returns desk (``/store/<store>/returns/``): find an order or a return by number
(scanner or keyboard), open a return on the spot for an online order, receive and inspect the
items, see where each goes (restock here, quarantine, send to a warehouse) and confirm.

Scoped server-side by ``fulfillment.store.access``: only members of the store; a return meant
for or received at another store is a 404. Every action calls the returns services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from fulfillment.store.access import StoreRequiredMixin
from fulfillment.store.forms import int_field
from inventory.models import Location
from omnilog.core.errors import ApplicationError
from orders.models import Order
from returns.models import Disposition, ItemCondition, ReturnReason, ReturnRequest
from returns.selectors import order_returnable
from returns.services.common import Actor
from returns.services.inspection import (
    DispositionChoice,
    return_desk_intake,
    return_disposition,
)
from returns.services.requests import ReturnLineInput, return_store_open
from returns.statuses import RECEIVABLE, ReturnStatus


def _actor(request: HttpRequest) -> Actor:
    return Actor(name=f"store:{request.user.get_username()}", source="store-desk")


def _store(request: HttpRequest) -> Location:
    return request.store  # type: ignore[attr-defined, no-any-return]


def desk_returns(store: Location) -> QuerySet[ReturnRequest]:
    """Returns the desk may handle: expected or received here, or store returns not yet placed."""
    return ReturnRequest.objects.select_related("order", "received_location").filter(
        Q(location=store) | Q(received_location=store) | Q(location__isnull=True, mode="store")
    )


def _problem(request: HttpRequest, error: ApplicationError) -> None:
    details = "; ".join(f"{e.field}: {e.message}" for e in error.field_errors)
    messages.error(request, f"{error.message} {details}".strip())


class DeskView(StoreRequiredMixin, View):
    """Search by RMA or order number; the store's open returns."""

    def get(self, request: HttpRequest, store: str) -> HttpResponse:
        query = request.GET.get("q", "").strip().upper()[:20]
        if query:
            if desk_returns(_store(request)).filter(number=query).exists():
                return redirect("store:returns-rma", store=store, number=query)
            if Order.objects.filter(number=query).exists():
                return redirect("store:returns-order", store=store, number=query)
            messages.error(request, f"No order or return {query}.")
        open_returns = (
            desk_returns(_store(request))
            .exclude(status__in=["closed", "cancelled", "refused"])
            .order_by("-id")[:50]
        )
        return render(
            request,
            "store/returns/desk.html",
            {"nav": "returns", "q": query, "open_returns": list(open_returns)},
        )


class DeskOrderView(StoreRequiredMixin, View):
    """An online order at the counter: what may come back, and a return opened on the spot."""

    def _order(self, number: str) -> Order:
        order = Order.objects.filter(number=number).first()
        if order is None:
            raise Http404("No such order.")
        return order

    def get(self, request: HttpRequest, store: str, number: str) -> HttpResponse:
        order = self._order(number)
        returnable = order_returnable(order=order, now=timezone.now())
        existing = desk_returns(_store(request)).filter(order=order).order_by("-id")
        return render(
            request,
            "store/returns/order.html",
            {
                "nav": "returns",
                "order": order,
                "returnable": returnable,
                "reasons": ReturnReason.choices,
                "existing": list(existing),
            },
        )

    def post(self, request: HttpRequest, store: str, number: str) -> HttpResponse:
        order = self._order(number)
        try:
            lines = []
            for line in order_returnable(order=order, now=timezone.now()).lines:
                quantity = int_field(request.POST, f"quantity-{line.line_number}", default=0)
                if quantity:
                    reason = request.POST.get(f"reason-{line.line_number}", "other")
                    lines.append(ReturnLineInput(line.line_number, quantity, reason))
            rma = return_store_open(
                order_id=order.pk,
                location_id=_store(request).pk,
                lines=lines,
                actor=_actor(request),
            )
        except ApplicationError as error:
            _problem(request, error)
            return self.get(request, store, number)
        messages.success(request, f"Return {rma.number} opened: receive the items now.")
        return redirect("store:returns-rma", store=store, number=rma.number)


class DeskReturnView(StoreRequiredMixin, View):
    """One return: receive and inspect (one form), then confirm the disposition."""

    def _rma(self, request: HttpRequest, number: str) -> ReturnRequest:
        rma = (
            desk_returns(_store(request))
            .prefetch_related("lines__order_line", "lines__product", "lines__proposed_location")
            .filter(number=number)
            .first()
        )
        if rma is None:
            raise Http404("No such return here.")
        return rma

    def get(self, request: HttpRequest, store: str, number: str) -> HttpResponse:
        rma = self._rma(request, number)
        context: dict[str, Any] = {
            "nav": "returns",
            "rma": rma,
            "lines": list(rma.lines.all()),
            "conditions": ItemCondition.choices,
            "dispositions": Disposition.choices,
            "can_receive": rma.status in RECEIVABLE,
            "can_confirm": rma.status == ReturnStatus.INSPECTED,
            "warehouses": list(
                Location.objects.filter(kind=Location.Kind.WAREHOUSE, is_active=True).order_by(
                    "code"
                )
            ),
        }
        return render(request, "store/returns/rma.html", context)

    def post(self, request: HttpRequest, store: str, number: str) -> HttpResponse:
        rma = self._rma(request, number)
        action = request.POST.get("action", "")
        try:
            if action == "receive":
                lines = [
                    (
                        line.pk,
                        int_field(request.POST, f"quantity-{line.pk}", default=0),
                        request.POST.get(f"condition-{line.pk}", ""),
                    )
                    for line in rma.lines.all()
                ]
                return_desk_intake(
                    return_id=rma.pk,
                    location_id=_store(request).pk,
                    lines=[line for line in lines if line[1]],
                    actor=_actor(request),
                )
                messages.success(request, "Received and inspected: check where each item goes.")
            elif action == "confirm":
                overrides = []
                for line in rma.lines.filter(quantity_received__gt=0):
                    chosen = request.POST.get(f"disposition-{line.pk}", line.proposed_disposition)
                    target = request.POST.get(f"target-{line.pk}", "")
                    if chosen != line.proposed_disposition or target:
                        location_id = (
                            Location.objects.filter(code=target)
                            .values_list("id", flat=True)
                            .first()
                            if chosen == Disposition.TO_WAREHOUSE and target
                            else None
                        )
                        overrides.append(DispositionChoice(line.pk, chosen, location_id))
                return_disposition(return_id=rma.pk, actor=_actor(request), overrides=overrides)
                messages.success(request, f"Return {rma.number} done: stock updated.")
            else:
                messages.error(request, "Unknown action.")
        except ApplicationError as error:
            _problem(request, error)
        return redirect(reverse("store:returns-rma", kwargs={"store": store, "number": number}))
