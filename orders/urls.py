"""Public (non-API) order pages."""

from django.urls import path

from orders.views import order_curbside_arrive_page, order_tracking_page

urlpatterns = [
    path("<str:token>", order_tracking_page, name="order-tracking-page"),
    path("<str:token>/here", order_curbside_arrive_page, name="order-curbside-arrive"),
]
