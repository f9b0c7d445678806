"""Every door: admin, REST API v1 (+ OpenAPI), store screens, health."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from omnilog.analytics.metrics import metrics_view
from omnilog.core.views import healthz

admin.site.site_header = "Omnilog back office"
admin.site.site_title = "Omnilog"
admin.site.index_title = "Orders, stock and channels"

api_v1 = [
    path("", include("omnilog.core.api_urls")),
    path("", include("inventory.api.urls")),
    path("", include("inventory.api.feed_urls")),
    path("", include("inventory.api.supply_urls")),
    path("", include("inventory.api.pim_urls")),
    path("", include("channels_app.api.urls")),
    path("webhooks/", include("omnilog.core.webhook_api")),
    path("", include("orders.api.urls")),
    path("", include("fulfillment.api.picking_urls")),
    path("", include("fulfillment.api.shipping_urls")),
    path("", include("fulfillment.api.promise_urls")),
    path("", include("returns.api.claims_urls")),  # before returns.api.urls: returns/exchanges
    path("", include("returns.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/analytics/", include("omnilog.analytics.urls")),
    path("admin/", admin.site.urls),
    path("track/", include("orders.urls")),
    # Store screens: the returns desk's routes, then every route of fulfillment.store.urls
    # (one "store" namespace; returns may import fulfillment, not the reverse).
    path("store/", include("returns.store_urls")),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

handler400 = "omnilog.core.views.bad_request"
handler403 = "omnilog.core.views.permission_denied"
handler404 = "omnilog.core.views.page_not_found"
handler500 = "omnilog.core.views.server_error"
