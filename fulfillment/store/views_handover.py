"""Store screens: hand a ready order over with its pickup code."""

from __future__ import annotations

from django.views.generic import TemplateView

from fulfillment.store.access import StoreRequiredMixin


class HandoverFindView(StoreRequiredMixin, TemplateView):
    template_name = "store/handover.html"


class HandoverOrderView(StoreRequiredMixin, TemplateView):
    template_name = "store/handover.html"
