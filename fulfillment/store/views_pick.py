"""Store screens: pick a pickup order by scanning, mark it ready."""

from __future__ import annotations

from django.views.generic import TemplateView

from fulfillment.store.access import StoreRequiredMixin


class PickView(StoreRequiredMixin, TemplateView):
    template_name = "store/pick.html"


class ReadyView(StoreRequiredMixin, TemplateView):
    template_name = "store/pick.html"
