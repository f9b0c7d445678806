"""Returns API routes under ``/api/v1/`` (included from ``omnilog.urls``)."""

from django.urls import path

from returns.api import actions
from returns.api.views import (
    OrderReturnableApi,
    ReturnDetailApi,
    ReturnLabelApi,
    ReturnListCreateApi,
)

urlpatterns = [
    path("orders/<str:number>/returnable", OrderReturnableApi.as_view(), name="order-returnable"),
    path("returns", ReturnListCreateApi.as_view(), name="return-list"),
    path("returns/<str:number>", ReturnDetailApi.as_view(), name="return-detail"),
    path("returns/<str:number>/label", ReturnLabelApi.as_view(), name="return-label"),
    path("returns/<str:number>/approve", actions.ReturnApproveApi.as_view(), name="return-approve"),
    path("returns/<str:number>/refuse", actions.ReturnRefuseApi.as_view(), name="return-refuse"),
    path("returns/<str:number>/cancel", actions.ReturnCancelApi.as_view(), name="return-cancel"),
    path("returns/<str:number>/parcel", actions.ReturnParcelApi.as_view(), name="return-parcel"),
    path("returns/<str:number>/receive", actions.ReturnReceiveApi.as_view(), name="return-receive"),
    path("returns/<str:number>/inspect", actions.ReturnInspectApi.as_view(), name="return-inspect"),
    path(
        "returns/<str:number>/disposition",
        actions.ReturnDispositionApi.as_view(),
        name="return-disposition",
    ),
    path("returns/<str:number>/refund", actions.ReturnRefundApi.as_view(), name="return-refund"),
    path("returns/<str:number>/close", actions.ReturnCloseApi.as_view(), name="return-close"),
    path(
        "refunds/<str:reference>/confirmation",
        actions.RefundConfirmationApi.as_view(),
        name="refund-confirmation",
    ),
]
