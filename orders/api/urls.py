"""Order endpoints under ``/api/v1/``; lifecycle endpoints come from ``lifecycle_urls``."""

from django.urls import include, path

from orders.api.lifecycle import OrderDetailEditApi
from orders.api.views import OrderListPlaceApi, OrderTrackingApi

urlpatterns = [
    path("orders/", OrderListPlaceApi.as_view(), name="orders"),
    # GET (detail) and PATCH (edit before fulfilment) share the resource URL.
    path("orders/<int:order_id>", OrderDetailEditApi.as_view(), name="order-detail"),
    path("orders/<int:order_id>/tracking", OrderTrackingApi.as_view(), name="order-tracking"),
    path("", include("orders.api.lifecycle_urls")),
]
