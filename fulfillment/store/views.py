"""Store screens: log in, choose a store, the pickup queue (polled with htmx).

Every view is thin: access (``fulfillment.store.access``), one selector or service, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.generic import TemplateView

from fulfillment.store.access import StoreRequiredMixin, store_locations, store_view
from fulfillment.store.selectors import store_queue


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
        context["queue"] = store_queue(location=self.request.store)  # type: ignore[attr-defined]
        context["nav"] = "queue"
        context["board_url"] = reverse(
            "store:queue-board",
            kwargs={"store": self.request.store.code},  # type: ignore[attr-defined]
        )
        return context


class QueueBoardView(QueueView):
    """The board alone (the htmx poll swaps it in place)."""

    template_name = "store/_queue_board.html"
