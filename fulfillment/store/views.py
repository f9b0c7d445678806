"""Store screens: log in, choose a store, the pickup queue (polled with htmx).

Every view is thin: access (``fulfillment.store.access``), one selector or service, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.safestring import mark_safe
from django.views import View
from django.views.generic import TemplateView

from fulfillment.store.access import StoreRequiredMixin, store_locations, store_view
from fulfillment.store.queue_board import queue_board_html


class StoreLoginView(LoginView):
    template_name = "store/login.html"
    redirect_authenticated_user = True
    next_page = "store:chooser"


class StoreLogoutView(LogoutView):
    next_page = "store:login"


@login_required(login_url=reverse_lazy("store:login"))
def store_chooser(request: HttpRequest) -> HttpResponse:
    """The user's stores; straight to the queue when there is only one."""
    stores = list(store_locations(request.user))
    if len(stores) == 1:
        return redirect("store:queue", store=stores[0].code)
    return render(request, "store/chooser.html", {"stores": stores})


@store_view
def store_home(request: HttpRequest, store: str) -> HttpResponse:
    return redirect("store:queue", store=store)


class QueueView(StoreRequiredMixin, TemplateView):
    """The pickup queue; its board is re-read every 10 s while the tab is visible."""

    template_name = "store/queue.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["board"] = mark_safe(queue_board_html(location=self.request.store))  # type: ignore[attr-defined]  # noqa: S308
        context["nav"] = "queue"
        return context


class QueueBoardView(StoreRequiredMixin, View):
    """The board alone (the htmx poll swaps it in place)."""

    def get(self, request: HttpRequest, store: str) -> HttpResponse:
        return HttpResponse(queue_board_html(location=request.store))  # type: ignore[attr-defined]
