"""Order endpoints under ``/api/v1/``; lifecycle endpoints come from ``lifecycle_urls``."""

from django.urls import include, path

from orders.api.views import OrderDetailApi, OrderListPlaceApi, OrderTrackingApi

urlpatterns = [
    path("orders/", OrderListPlaceApi.as_view(), name="orders"),
    path("orders/<int:order_id>", OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:order_id>/tracking", OrderTrackingApi.as_view(), name="order-tracking"),
    path("", include("orders.api.lifecycle_urls")),
]
