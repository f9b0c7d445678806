"""Route of the delivery promise API (mounted under ``/api/v1/``)."""

from django.urls import path

from fulfillment.api.promise import DeliveryOptionsApi

urlpatterns = [
    path("delivery-options", DeliveryOptionsApi.as_view(), name="delivery-options"),
]
