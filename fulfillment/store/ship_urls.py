"""Ship-from-store screens, included under ``/store/<store>/ship/`` by ``fulfillment.store.urls``
(namespace ``store``)."""

from django.urls import path

from fulfillment.store import ship_views

urlpatterns = [
    path("", ship_views.ShipListView.as_view(), name="ship-list"),
    path("<int:pk>/", ship_views.ShipOrderView.as_view(), name="ship-order"),
    path("<int:pk>/label.pdf", ship_views.ShipLabelView.as_view(), name="ship-label"),
]
