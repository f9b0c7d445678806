"""Order endpoints of a channel: place and list (``orders/``), one order, its tracking.

Every read is scoped to the key's channel: another channel's order is a 404.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.api.auth import ChannelApi, channel_of
from omnilog.core.pagination import DefaultCursorPagination
from orders.api.capture import IDEMPOTENCY_HEADER, order_place_response
from orders.api.serializers import (
    OrderOutputSerializer,
    OrderPlaceInputSerializer,
    TrackingOutputSerializer,
)
from orders.api.throttling import OrderRateThrottle
from orders.filters import OrderFilter
from orders.selectors import order_get_for_channel, order_list_for_channel, order_tracking
from orders.services.idempotency import IdempotencyKeyInUse

PROBLEM = OpenApiTypes.OBJECT


class OrderChannelApi(ChannelApi):
    throttle_classes = (OrderRateThrottle,)  # instead of the channel-wide budget

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(exc, IdempotencyKeyInUse):
            response["Retry-After"] = str(exc.retry_after)
        return response


class OrderListPlaceApi(OrderChannelApi):
    """``GET``: the channel's orders, newest first. ``POST``: place an order."""

    @extend_schema(
        operation_id="orders_list",
        tags=["orders"],
        parameters=[
            OpenApiParameter(name, type=OpenApiTypes.STR, required=False)
            for name in OrderFilter.base_filters
        ]
        + [OpenApiParameter("page_size", OpenApiTypes.INT), OpenApiParameter("cursor", str)],
        responses={200: OrderOutputSerializer(many=True), 401: PROBLEM, 422: PROBLEM},
    )
    def get(self, request: Request) -> Response:
        orders = order_list_for_channel(
            channel_id=channel_of(request).pk, filters=request.query_params
        )
        paginator = DefaultCursorPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        data = OrderOutputSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="orders_place",
        tags=["orders"],
        request=OrderPlaceInputSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="Unique per operation; a retry with the same key and body "
                "returns the first response.",
            )
        ],
        responses={
            201: OrderOutputSerializer,
            400: PROBLEM,
            401: PROBLEM,
            409: PROBLEM,
            422: PROBLEM,
            429: PROBLEM,
        },
    )
    def post(self, request: Request) -> HttpResponse:
        return order_place_response(self, request)


class OrderDetailApi(OrderChannelApi):
    @extend_schema(
        operation_id="orders_retrieve",
        tags=["orders"],
        responses={200: OrderOutputSerializer, 401: PROBLEM, 404: PROBLEM},
    )
    def get(self, request: Request, order_id: int) -> Response:
        order = order_get_for_channel(channel_id=channel_of(request).pk, order_id=order_id)
        return Response(OrderOutputSerializer(order, context={"request": request}).data)


class OrderTrackingApi(OrderChannelApi):
    @extend_schema(
        operation_id="orders_tracking",
        tags=["orders"],
        responses={200: TrackingOutputSerializer, 401: PROBLEM, 404: PROBLEM},
    )
    def get(self, request: Request, order_id: int, **kwargs: Any) -> Response:
        tracking = order_tracking(channel_id=channel_of(request).pk, order_id=order_id)
        return Response(TrackingOutputSerializer(tracking).data)
