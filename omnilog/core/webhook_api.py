"""Staff API for webhook subscriptions: list/create, replay, and the delivery log.

Mounted at ``/api/v1/webhooks/``. Staff only (session or HTTP Basic); errors are problem details.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from omnilog.core.authentication import STAFF_AUTHENTICATION_CLASSES
from omnilog.core.models import WebhookDelivery, WebhookSubscription
from omnilog.core.pagination import DefaultCursorPagination
from omnilog.core.webhook_services import (
    webhook_delivery_list,
    webhook_replay,
    webhook_subscription_create,
    webhook_subscription_list,
)

MAX_EVENT_ID = 2**63 - 1  # outbox ids and cursors are PostgreSQL bigints


class StaffApi(APIView):
    authentication_classes = STAFF_AUTHENTICATION_CLASSES
    permission_classes = (IsAdminUser,)


class SubscriptionOutput(serializers.ModelSerializer[WebhookSubscription]):
    class Meta:
        model = WebhookSubscription
        fields: tuple[str, ...] = (
            "id",
            "name",
            "url",
            "topics",
            "is_active",
            "cursor",
            "consecutive_failures",
            "next_attempt_at",
            "disabled_reason",
            "created_at",
        )
        read_only_fields: tuple[str, ...] = fields


class SubscriptionCreatedOutput(SubscriptionOutput):
    """The secret appears in this response only."""

    class Meta(SubscriptionOutput.Meta):
        fields = (*SubscriptionOutput.Meta.fields, "secret")
        read_only_fields = fields


class SubscriptionCreateInput(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=100)
    url = serializers.URLField(max_length=500)
    topics = serializers.ListField(child=serializers.CharField(max_length=64), default=list)
    is_active = serializers.BooleanField(default=True)
    from_event_id = serializers.IntegerField(min_value=1, max_value=MAX_EVENT_ID, required=False)


class ReplayInput(serializers.Serializer[dict[str, Any]]):
    from_event_id = serializers.IntegerField(min_value=1, max_value=MAX_EVENT_ID)


class DeliveryOutput(serializers.ModelSerializer[WebhookDelivery]):
    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "subscription",
            "event",
            "message_id",
            "attempt",
            "is_success",
            "status_code",
            "response_excerpt",
            "duration_ms",
            "error",
            "delivered_at",
        )
        read_only_fields = fields


class WebhookSubscriptionListCreateApi(StaffApi):
    """``GET`` lists subscriptions (newest first, cursor pages); ``POST`` creates one."""

    @extend_schema(responses=SubscriptionOutput(many=True), tags=["webhooks"])
    def get(self, request: Request) -> Response:
        paginator = DefaultCursorPagination()
        page = paginator.paginate_queryset(webhook_subscription_list(), request, view=self)
        return paginator.get_paginated_response(SubscriptionOutput(page, many=True).data)

    @extend_schema(
        request=SubscriptionCreateInput,
        responses={201: SubscriptionCreatedOutput},
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        data = SubscriptionCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webhook_subscription_create(**data.validated_data)
        return Response(
            SubscriptionCreatedOutput(subscription).data, status=status.HTTP_201_CREATED
        )


class WebhookReplayApi(StaffApi):
    """``POST {"from_event_id": N}``: re-deliver matching events from N on."""

    @extend_schema(request=ReplayInput, responses=SubscriptionOutput, tags=["webhooks"])
    def post(self, request: Request, subscription_id: int) -> Response:
        data = ReplayInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webhook_replay(
            subscription_id=subscription_id, from_event_id=data.validated_data["from_event_id"]
        )
        return Response(SubscriptionOutput(subscription).data)


class DeliveryFilter(serializers.Serializer[dict[str, Any]]):
    subscription = serializers.IntegerField(min_value=1, required=False)
    is_success = serializers.BooleanField(required=False, allow_null=True, default=None)


class WebhookDeliveryListApi(StaffApi):
    """``GET`` the delivery log, newest first, filtered by ``subscription`` and ``is_success``."""

    @extend_schema(
        parameters=[
            OpenApiParameter("subscription", int),
            OpenApiParameter("is_success", bool),
        ],
        responses=DeliveryOutput(many=True),
        tags=["webhooks"],
    )
    def get(self, request: Request) -> Response:
        filters = DeliveryFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        deliveries = webhook_delivery_list(
            subscription_id=filters.validated_data.get("subscription"),
            is_success=filters.validated_data.get("is_success"),
        )
        paginator = DefaultCursorPagination()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(DeliveryOutput(page, many=True).data)


urlpatterns = [
    path(
        "subscriptions",
        WebhookSubscriptionListCreateApi.as_view(),
        name="webhook-subscriptions",
    ),
    path(
        "subscriptions/<int:subscription_id>/replay",
        WebhookReplayApi.as_view(),
        name="webhook-replay",
    ),
    path("deliveries", WebhookDeliveryListApi.as_view(), name="webhook-deliveries"),
]
