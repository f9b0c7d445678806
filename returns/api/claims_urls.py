"""Claims and exchanges API routes under ``/api/v1/`` (included from ``omnilog.urls`` before
``returns.api.urls``, so that ``returns/exchanges`` is not taken for a return number)."""

from django.urls import path

from returns.api import claims, exchanges

urlpatterns = [
    path("returns/exchanges", exchanges.ExchangeCreateApi.as_view(), name="exchange-create"),
    path(
        "returns/<str:number>/exchange-complete",
        exchanges.ExchangeCompleteApi.as_view(),
        name="exchange-complete",
    ),
    path("claims", claims.ClaimListCreateApi.as_view(), name="claim-list"),
    path("claims/<str:number>", claims.ClaimDetailApi.as_view(), name="claim-detail"),
    path("claims/<str:number>/resolve", claims.ClaimResolveApi.as_view(), name="claim-resolve"),
    path("claims/<str:number>/refuse", claims.ClaimRefuseApi.as_view(), name="claim-refuse"),
    path("claims/<str:number>/refund", claims.ClaimRefundApi.as_view(), name="claim-refund"),
    path(
        "claims/<str:number>/refund-confirmation",
        claims.ClaimRefundConfirmationApi.as_view(),
        name="claim-refund-confirmation",
    ),
]
