"""Supply endpoints under ``/api/v1/``: purchase orders, ASNs, receipts, incoming stock."""

from django.urls import path

from inventory.api.supply import (
    IncomingAvailabilityApi,
    NoticeCreateApi,
    PurchaseOrderCancelApi,
    PurchaseOrderCloseApi,
    PurchaseOrderConfirmApi,
    PurchaseOrderDetailApi,
    PurchaseOrderListCreateApi,
    PurchaseOrderRescheduleApi,
    PurchaseOrderSendApi,
    ReceiptPostApi,
)

urlpatterns = [
    path("availability/incoming", IncomingAvailabilityApi.as_view(), name="availability-incoming"),
    path("purchase-orders", PurchaseOrderListCreateApi.as_view(), name="purchase-orders"),
    path("purchase-orders/<str:number>", PurchaseOrderDetailApi.as_view(), name="purchase-order"),
    path(
        "purchase-orders/<str:number>/send",
        PurchaseOrderSendApi.as_view(),
        name="purchase-order-send",
    ),
    path(
        "purchase-orders/<str:number>/confirm",
        PurchaseOrderConfirmApi.as_view(),
        name="purchase-order-confirm",
    ),
    path(
        "purchase-orders/<str:number>/reschedule",
        PurchaseOrderRescheduleApi.as_view(),
        name="purchase-order-reschedule",
    ),
    path(
        "purchase-orders/<str:number>/cancel",
        PurchaseOrderCancelApi.as_view(),
        name="purchase-order-cancel",
    ),
    path(
        "purchase-orders/<str:number>/close",
        PurchaseOrderCloseApi.as_view(),
        name="purchase-order-close",
    ),
    path(
        "purchase-orders/<str:number>/notices",
        NoticeCreateApi.as_view(),
        name="purchase-order-notices",
    ),
    path(
        "purchase-orders/<str:number>/receipts",
        ReceiptPostApi.as_view(),
        name="purchase-order-receipts",
    ),
]
