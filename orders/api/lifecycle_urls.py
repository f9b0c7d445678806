"""Order lifecycle endpoints under ``/api/v1/`` (included by ``orders.api.urls``).

``PATCH /orders/{id}`` (edit) shares its route with ``GET /orders/{id}``: the view of that
route is ``orders.api.lifecycle.OrderDetailEditApi`` (detail + ``OrderEditMixin``).
"""

from django.urls import path

from orders.api.lifecycle import OrderCancelApi, OrderHoldApi, OrderPaymentApi, OrderReleaseApi

urlpatterns = [
    path("orders/<int:order_id>/hold", OrderHoldApi.as_view(), name="order-hold"),
    path("orders/<int:order_id>/release", OrderReleaseApi.as_view(), name="order-release"),
    path("orders/<int:order_id>/cancel", OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<int:order_id>/payment", OrderPaymentApi.as_view(), name="order-payment"),
]
