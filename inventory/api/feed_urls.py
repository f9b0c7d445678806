"""Feed endpoints under ``/api/v1/feeds/`` (systems: WMS, store tills)."""

from django.urls import path

from inventory.api.feeds import FeedDeltaReceiveApi, FeedJobDetailApi, FeedSnapshotSubmitApi

urlpatterns = [
    path("feeds/jobs/<uuid:job_id>", FeedJobDetailApi.as_view(), name="feed-job"),
    path("feeds/<slug:source>/snapshots", FeedSnapshotSubmitApi.as_view(), name="feed-snapshots"),
    path("feeds/<slug:source>/deltas", FeedDeltaReceiveApi.as_view(), name="feed-deltas"),
]
