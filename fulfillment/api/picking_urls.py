"""Fulfillment floor endpoints under ``/api/v1/`` (``fulfillment.api.picking``)."""

from django.urls import path

from fulfillment.api import picking as views

FO = "fulfillment-orders/<int:fulfillment_order_id>"

urlpatterns = [
    path(f"{FO}/accept", views.FulfillmentOrderAcceptApi.as_view(), name="fo-accept"),
    path(f"{FO}/reject", views.FulfillmentOrderRejectApi.as_view(), name="fo-reject"),
    path(f"{FO}/pack/scan", views.PackScanApi.as_view(), name="fo-pack-scan"),
    path(f"{FO}/pack/close", views.PackCloseApi.as_view(), name="fo-pack-close"),
    path(f"{FO}/ship", views.FulfillmentOrderShipApi.as_view(), name="fo-ship"),
    path(f"{FO}/ready-for-pickup", views.FulfillmentOrderReadyApi.as_view(), name="fo-ready"),
    path(f"{FO}/handover", views.FulfillmentOrderHandoverApi.as_view(), name="fo-handover"),
    path(f"{FO}/packing-slip.pdf", views.PackingSlipPdfApi.as_view(), name="fo-packing-slip"),
    path(
        "fulfillment-order-lines/<int:line_id>/short",
        views.FulfillmentOrderLineShortApi.as_view(),
        name="fo-line-short",
    ),
    path(
        "locations/<slug:location_code>/pick-lists",
        views.LocationPickListsApi.as_view(),
        name="location-pick-lists",
    ),
    path(
        "locations/<slug:location_code>/pick-lists/plan",
        views.LocationPickListsPlanApi.as_view(),
        name="location-pick-lists-plan",
    ),
    path("pick-lists/<int:pick_list_id>", views.PickListDetailApi.as_view(), name="pick-list"),
    path(
        "pick-lists/<int:pick_list_id>/scan", views.PickListScanApi.as_view(), name="pick-list-scan"
    ),
    path("pick-lists/<int:pick_list_id>/pdf", views.PickListPdfApi.as_view(), name="pick-list-pdf"),
]
