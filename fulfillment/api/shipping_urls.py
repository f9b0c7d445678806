"""Routes of the shipping API (mounted under ``/api/v1/``)."""

from django.urls import path

from fulfillment.api import shipping

urlpatterns = [
    path("carriers/<slug:code>/events", shipping.CarrierEventApi.as_view(), name="carrier-events"),
    path(
        "relay-points/nearest",
        shipping.RelayPointsNearestApi.as_view(),
        name="relay-points-nearest",
    ),
    path("shipments", shipping.ShipmentCreateApi.as_view(), name="shipment-create"),
    path("shipments/<int:shipment_id>", shipping.ShipmentDetailApi.as_view(), name="shipment"),
    path(
        "shipments/<int:shipment_id>/cancel",
        shipping.ShipmentCancelApi.as_view(),
        name="shipment-cancel",
    ),
    path(
        "shipments/<int:shipment_id>/label",
        shipping.ShipmentLabelApi.as_view(),
        name="shipment-label",
    ),
    path(
        "shipments/<int:shipment_id>/commercial-invoice",
        shipping.ShipmentInvoiceApi.as_view(),
        name="shipment-invoice",
    ),
    path("transfers", shipping.TransferCreateApi.as_view(), name="transfer-create"),
    path("transfers/<int:transfer_id>", shipping.TransferDetailApi.as_view(), name="transfer"),
    path(
        "transfers/<int:transfer_id>/ship", shipping.TransferShipApi.as_view(), name="transfer-ship"
    ),
    path(
        "transfers/<int:transfer_id>/receive",
        shipping.TransferReceiveApi.as_view(),
        name="transfer-receive",
    ),
]
