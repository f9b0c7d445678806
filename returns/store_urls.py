"""Store screens with the returns desk (namespace ``store``).

``omnilog.urls`` includes this module for ``/store/`` ahead of ``fulfillment.store.urls``: it
holds the returns desk routes and then every store-core route, so the one ``store`` namespace
reverses both (``store:returns-desk`` from ``templates/store/base.html``). The store-core
module stays the owner of its routes; new ones appear here without an edit.
"""

from django.urls import path

from fulfillment.store import urls as store_core
from returns import store_views

app_name = "store"

urlpatterns = [
    path("<slug:store>/returns/", store_views.DeskView.as_view(), name="returns-desk"),
    path(
        "<slug:store>/returns/order/<str:number>/",
        store_views.DeskOrderView.as_view(),
        name="returns-order",
    ),
    path(
        "<slug:store>/returns/rma/<str:number>/",
        store_views.DeskReturnView.as_view(),
        name="returns-rma",
    ),
    *store_core.urlpatterns,
]
