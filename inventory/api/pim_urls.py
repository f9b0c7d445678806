"""Master-data feed endpoints under ``/api/v1/feeds/`` (PIM products, CRM customers)."""

from django.urls import path

from inventory.api.pim import (
    CustomerFeedJobDetailApi,
    CustomerFeedSubmitApi,
    ProductFeedJobDetailApi,
    ProductFeedSubmitApi,
)

urlpatterns = [
    path("feeds/products", ProductFeedSubmitApi.as_view(), name="master-data-feed-products"),
    path(
        "feeds/products/jobs/<uuid:job_id>",
        ProductFeedJobDetailApi.as_view(),
        name="master-data-feed-job-products",
    ),
    path("feeds/customers", CustomerFeedSubmitApi.as_view(), name="master-data-feed-customers"),
    path(
        "feeds/customers/jobs/<uuid:job_id>",
        CustomerFeedJobDetailApi.as_view(),
        name="master-data-feed-job-customers",
    ),
]
