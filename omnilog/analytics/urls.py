"""``/admin/analytics/``: included by ``omnilog.urls`` before ``admin/`` (staff login through
``admin.site.admin_view``; the views check ``orders.view_order``)."""

from django.contrib import admin
from django.urls import path

from omnilog.analytics.views import dashboard_view, drill_view

app_name = "analytics"

urlpatterns = [
    path("", admin.site.admin_view(dashboard_view), name="dashboard"),
    path("orders/", admin.site.admin_view(drill_view), name="orders"),
]
