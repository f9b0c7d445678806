"""Channels endpoints under ``/api/v1/``."""

from django.urls import path

from channels_app.api.pricing import PriceQuoteApi

urlpatterns = [
    path("prices/quote", PriceQuoteApi.as_view(), name="prices-quote"),
]
