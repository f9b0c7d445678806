"""Lifecycle endpoints of a channel's order: hold, release, cancel, edit (PATCH), payment.

Each view validates its small input, calls one service of ``orders.services.lifecycle`` with the
key's channel (another channel's order is a 404), and answers with the order as
``GET /orders/{id}`` renders it. Statuses, prices, totals and allocations are never writable:
the edit input refuses any field it does not list, with a field error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.api.auth import channel_of
from inventory.models import Location
from omnilog.core.errors import FieldError, ValidationFailed
from orders.api.serializers import OrderOutputSerializer
from orders.api.views import OrderChannelApi, OrderDetailApi
from orders.models import DeliveryMode, OrderLine, PaymentStatus
from orders.selectors import order_get_for_channel
from orders.services.lifecycle import (
    LineAddition,
    LineQuantityChange,
    OrderEdit,
    order_cancel,
    order_edit,
    order_hold,
    order_payment_update,
    order_release,
)

PROBLEM = OpenApiTypes.OBJECT
MAX_LINES = 200
ERRORS = {400: PROBLEM, 401: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM}


class HoldInputSerializer(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField(max_length=200)


class LineQuantitySerializer(serializers.Serializer[dict[str, Any]]):
    line_number = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class CancelInputSerializer(serializers.Serializer[dict[str, Any]]):
    lines = serializers.ListField(
        child=LineQuantitySerializer(),
        required=False,
        min_length=1,
        max_length=MAX_LINES,
        help_text="Units to cancel per line; without it, every open unit of the order.",
    )
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class PaymentInputSerializer(serializers.Serializer[dict[str, Any]]):
    # A plain string (checked by the service, 422 ``invalid_choice``): the OpenAPI enum name
    # ``PaymentStatusEnum`` belongs to the capture input's narrower set.
    payment_status = serializers.CharField(
        max_length=12, help_text=f"One of: {', '.join(PaymentStatus.values)}."
    )


class AddedLineSerializer(serializers.Serializer[dict[str, Any]]):
    sku = serializers.CharField(max_length=32)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class OrderEditInputSerializer(serializers.Serializer[dict[str, Any]]):
    """Only these fields may change; anything else in the body is refused by name."""

    lines = serializers.ListField(
        child=LineQuantitySerializer(),
        required=False,
        max_length=MAX_LINES,
        help_text="New ordered quantity per line.",
    )
    added_lines = serializers.ListField(
        child=AddedLineSerializer(), required=False, max_length=MAX_LINES
    )
    removed_lines = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=MAX_LINES,
        help_text="Line numbers whose open units are cancelled.",
    )
    delivery_mode = serializers.ChoiceField(choices=DeliveryMode.choices, required=False)
    store = serializers.CharField(
        max_length=32, required=False, help_text="Pickup store code (click-and-collect)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        initial = self.initial_data if isinstance(self.initial_data, dict) else {}
        unknown = sorted(set(initial) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: serializers.ErrorDetail(
                        "This field cannot be changed.", code="not_editable"
                    )
                    for name in unknown
                }
            )
        if not attrs:
            raise serializers.ValidationError(
                serializers.ErrorDetail("Give at least one change.", code="empty")
            )
        return attrs


def _line_ids(order_id: int, numbers: Iterable[tuple[str, int]]) -> list[int]:
    """Line ids for ``(field path, line number)`` pairs; unknown numbers are field errors."""
    ids = dict(OrderLine.objects.filter(order_id=order_id).values_list("line_number", "id"))
    pairs = list(numbers)
    errors = [
        FieldError(path, "No such line in this order.", "not_found")
        for path, number in pairs
        if number not in ids
    ]
    if errors:
        raise ValidationFailed("Some lines do not exist.", field_errors=errors)
    return [ids[number] for _, number in pairs]


def _store_id(channel_id: int, code: str) -> int:
    store_id = (
        Location.objects.filter(code=code, channels=channel_id).values_list("id", flat=True).first()
    )
    if store_id is None:
        raise ValidationFailed(
            "Unknown store.",
            field_errors=[FieldError("store", "Not a store of this channel.", "not_found")],
        )
    return store_id


def _answer(request: Request, order_id: int) -> Response:
    order = order_get_for_channel(channel_id=channel_of(request).pk, order_id=order_id)
    return Response(OrderOutputSerializer(order, context={"request": request}).data)


def _actor(request: Request) -> str:
    return f"api:{channel_of(request).code}"


class OrderHoldApi(OrderChannelApi):
    @extend_schema(
        operation_id="orders_hold",
        tags=["orders"],
        request=HoldInputSerializer,
        responses={200: OrderOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        serializer = HoldInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        channel = channel_of(request)
        order_hold(
            order_id=order_id,
            reason=serializer.validated_data["reason"],
            actor=_actor(request),
            channel_id=channel.pk,
            source="api",
        )
        return _answer(request, order_id)


class OrderReleaseApi(OrderChannelApi):
    @extend_schema(
        operation_id="orders_release",
        tags=["orders"],
        request=None,
        responses={200: OrderOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        order_release(
            order_id=order_id,
            actor=_actor(request),
            channel_id=channel_of(request).pk,
            source="api",
        )
        return _answer(request, order_id)


class OrderCancelApi(OrderChannelApi):
    @extend_schema(
        operation_id="orders_cancel",
        tags=["orders"],
        request=CancelInputSerializer,
        responses={200: OrderOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        serializer = CancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        channel = channel_of(request)
        order_get_for_channel(channel_id=channel.pk, order_id=order_id)  # 404 first
        lines = None
        if "lines" in data:
            ids = _line_ids(
                order_id,
                (
                    (f"lines.{i}.line_number", item["line_number"])
                    for i, item in enumerate(data["lines"])
                ),
            )
            lines = [
                (line_id, item["quantity"])
                for line_id, item in zip(ids, data["lines"], strict=True)
            ]
        order_cancel(
            order_id=order_id,
            lines=lines,
            reason=data["reason"] or "Cancelled by the channel",
            actor=_actor(request),
            channel_id=channel.pk,
            source="api",
        )
        return _answer(request, order_id)


class OrderPaymentApi(OrderChannelApi):
    @extend_schema(
        operation_id="orders_payment",
        tags=["orders"],
        request=PaymentInputSerializer,
        responses={200: OrderOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        serializer = PaymentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order_payment_update(
            order_id=order_id,
            payment_status=serializer.validated_data["payment_status"],
            actor=_actor(request),
            channel_id=channel_of(request).pk,
            source="api",
        )
        return _answer(request, order_id)


class OrderEditMixin:
    """``PATCH /orders/{id}``: mixed into the order detail view (one route, GET and PATCH)."""

    @extend_schema(
        operation_id="orders_edit",
        tags=["orders"],
        request=OrderEditInputSerializer,
        responses={200: OrderOutputSerializer, **ERRORS},
    )
    def patch(self, request: Request, order_id: int) -> Response:
        serializer = OrderEditInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        channel = channel_of(request)
        order_get_for_channel(channel_id=channel.pk, order_id=order_id)  # 404 first
        changed = data.get("lines", [])
        removed = data.get("removed_lines", [])
        ids = _line_ids(
            order_id,
            [(f"lines.{i}.line_number", item["line_number"]) for i, item in enumerate(changed)]
            + [(f"removed_lines.{i}", number) for i, number in enumerate(removed)],
        )
        order_edit(
            order_id=order_id,
            changes=OrderEdit(
                quantities=tuple(
                    LineQuantityChange(line_id=line_id, quantity=item["quantity"])
                    for line_id, item in zip(ids, changed, strict=False)
                ),
                additions=tuple(
                    LineAddition(sku=item["sku"], quantity=item["quantity"])
                    for item in data.get("added_lines", [])
                ),
                removals=tuple(ids[len(changed) :]),
                delivery_mode=data.get("delivery_mode"),
                pickup_location_id=_store_id(channel.pk, data["store"])
                if "store" in data
                else None,
            ),
            actor=_actor(request),
            channel_id=channel.pk,
            source="api",
        )
        return _answer(request, order_id)


class OrderDetailEditApi(OrderEditMixin, OrderDetailApi):
    """``GET`` (the order) and ``PATCH`` (edit) on ``/orders/{id}``."""
