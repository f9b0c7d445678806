"""Inventory endpoints under ``/api/v1/``."""

from django.urls import path

from inventory.api.availability import (
    ChannelAvailabilityApi,
    FutureAvailabilityApi,
    ProductLocationsApi,
    StoresNearbyApi,
)

urlpatterns = [
    path("availability", ChannelAvailabilityApi.as_view(), name="availability"),
    path(
        "availability/<str:sku>/locations",
        ProductLocationsApi.as_view(),
        name="availability-locations",
    ),
    path("availability/<str:sku>/nearby", StoresNearbyApi.as_view(), name="availability-nearby"),
    path(
        "availability/<str:sku>/future", FutureAvailabilityApi.as_view(), name="availability-future"
    ),
]
