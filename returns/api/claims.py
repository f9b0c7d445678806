"""Claims API: a parcel lost or damaged in transit (``/api/v1/claims``).

A channel's key opens and follows the claims of its own orders (another channel's: 404); staff
resolve (reship or refund), refuse, ask again for a failed refund, and record the payment
system's answer for a claim's refund. Each view validates, calls one service or selector, and
renders the claim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from returns.api.serializers import RefundOutput
from returns.api.views import ERRORS, ReturnsApi, StaffReturnsApi
from returns.models import Claim, ClaimLine
from returns.selectors import order_get_by_number
from returns.selectors_claims import claim_get, claim_list
from returns.services.claims import (
    MAX_NOTE,
    ClaimInput,
    ClaimLineInput,
    claim_open,
    claim_refund_request,
    claim_refund_settle,
    claim_refuse,
    claim_resolve,
)

ViewMethod = TypeVar("ViewMethod", bound=Callable[..., Response])
MAX_LINES = 200
MAX_PHOTOS_ACCEPTED = 20  # the service applies the configured limit (422 photo_urls)


class ClaimLineInputSerializer(serializers.Serializer[Any]):
    line_number = serializers.IntegerField(min_value=1, max_value=32_767)
    quantity = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000)


class ClaimCreateInputSerializer(serializers.Serializer[Any]):
    order_number = serializers.CharField(max_length=20)
    tracking_number = serializers.CharField(max_length=64)
    kind = serializers.CharField(max_length=16, help_text="lost or damaged.")
    resolution = serializers.CharField(max_length=16, help_text="reship or refund (the wish).")
    lines = serializers.ListField(
        child=ClaimLineInputSerializer(),
        required=False,
        max_length=MAX_LINES,
        help_text="Empty: the whole parcel.",
    )
    photo_urls = serializers.ListField(
        child=serializers.CharField(max_length=500),
        required=False,
        default=list,
        max_length=MAX_PHOTOS_ACCEPTED,
        help_text="https URLs; required for a damaged parcel.",
    )
    note = serializers.CharField(max_length=MAX_NOTE, required=False, default="", allow_blank=True)

    def to_input(self) -> ClaimInput:
        data = self.validated_data
        return ClaimInput(
            tracking_number=data["tracking_number"],
            kind=data["kind"],
            resolution=data["resolution"],
            lines=tuple(
                ClaimLineInput(line["line_number"], line["quantity"])
                for line in data.get("lines", [])
            ),
            photo_urls=tuple(data["photo_urls"]),
            note=data["note"],
        )


class ClaimResolveInputSerializer(serializers.Serializer[Any]):
    resolution = serializers.CharField(
        max_length=16, required=False, default="", allow_blank=True, help_text="Empty: the wish."
    )
    note = serializers.CharField(max_length=MAX_NOTE, required=False, default="", allow_blank=True)


class ClaimRefuseInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=300, allow_blank=True)


class ClaimRefundConfirmationInputSerializer(serializers.Serializer[Any]):
    reference = serializers.CharField(max_length=20)
    # A plain string (checked here): the choice set is the refunds' one, named there already.
    status = serializers.CharField(max_length=10, help_text="confirmed or failed.")
    external_reference = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True
    )
    failure_reason = serializers.CharField(
        max_length=300, required=False, default="", allow_blank=True
    )

    def validate_status(self, value: str) -> str:
        if value not in ("confirmed", "failed"):
            raise serializers.ValidationError("confirmed or failed.", code="invalid_choice")
        return value


class ClaimLineOutput(serializers.ModelSerializer[ClaimLine]):
    line_number = serializers.IntegerField(source="order_line.line_number")
    sku = serializers.CharField(source="order_line.sku")

    class Meta:
        model = ClaimLine
        fields = ("line_number", "sku", "quantity")
        read_only_fields = fields


class ClaimOutput(serializers.ModelSerializer[Claim]):
    order_number = serializers.CharField(source="order.number")
    kind = serializers.CharField(help_text="lost or damaged.")
    resolution = serializers.CharField(help_text="reship or refund.")
    status = serializers.CharField(help_text="open, resolved or refused.")
    tracking_number = serializers.CharField(source="shipment.tracking_number", default="")
    replacement_order_number = serializers.CharField(
        source="replacement_order.number", default=None
    )
    lines = ClaimLineOutput(many=True)
    refunds = RefundOutput(many=True)

    class Meta:
        model = Claim
        fields = (
            "number",
            "order_number",
            "tracking_number",
            "kind",
            "resolution",
            "status",
            "lines",
            "photo_urls",
            "notes",
            "refusal_reason",
            "replacement_order_number",
            "refunds",
            "created_at",
            "resolved_at",
        )
        read_only_fields = fields


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> Any:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer


def _render(view: ReturnsApi, request: Request, number: str, status: int = 200) -> Response:
    claim = claim_get(number=number, channel_id=view.actor(request).channel_id)
    return Response(ClaimOutput(claim).data, status=status)


def _claim_id(view: ReturnsApi, request: Request, number: str) -> int:
    return claim_get(number=number, channel_id=view.actor(request).channel_id).pk


class ClaimFilter(django_filters.FilterSet):  # type: ignore[misc]
    status = django_filters.CharFilter(help_text="open, resolved or refused.")
    kind = django_filters.CharFilter(help_text="lost or damaged.")
    order = django_filters.CharFilter(field_name="order__number")

    class Meta:
        model = Claim
        fields = ("status", "kind", "order")


class ClaimListCreateApi(ReturnsApi, generics.ListAPIView[Claim]):
    """``GET /claims`` (paginated, filters) and ``POST /claims`` (open a claim)."""

    serializer_class = ClaimOutput
    filterset_class = ClaimFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Claim.objects.none()
        return claim_list(channel_id=self.actor(self.request).channel_id)

    @extend_schema(operation_id="claim_list", tags=["claims"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="claim_create",
        tags=["claims"],
        request=ClaimCreateInputSerializer,
        responses={201: ClaimOutput, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        actor = self.actor(request)
        serializer = _valid(ClaimCreateInputSerializer, request)
        order = order_get_by_number(
            number=serializer.validated_data["order_number"], channel_id=actor.channel_id
        )
        claim = claim_open(order_id=order.pk, data=serializer.to_input(), actor=actor)
        return _render(self, request, claim.number, status=201)


class ClaimDetailApi(ReturnsApi):
    @extend_schema(
        operation_id="claim_get", tags=["claims"], responses={200: ClaimOutput, **ERRORS}
    )
    def get(self, request: Request, number: str) -> Response:
        return _render(self, request, number)


def _schema(operation: str, request: Any) -> Callable[[ViewMethod], ViewMethod]:
    return extend_schema(
        operation_id=f"claim_{operation}",
        tags=["claims"],
        request=request,
        responses={200: ClaimOutput, **ERRORS},
    )


class ClaimResolveApi(StaffReturnsApi):
    @_schema("resolve", ClaimResolveInputSerializer)
    def post(self, request: Request, number: str) -> Response:
        data = _valid(ClaimResolveInputSerializer, request).validated_data
        claim_resolve(
            claim_id=_claim_id(self, request, number),
            actor=self.actor(request),
            resolution=data["resolution"],
            note=data["note"],
        )
        return _render(self, request, number)


class ClaimRefuseApi(StaffReturnsApi):
    @_schema("refuse", ClaimRefuseInputSerializer)
    def post(self, request: Request, number: str) -> Response:
        data = _valid(ClaimRefuseInputSerializer, request).validated_data
        claim_refuse(
            claim_id=_claim_id(self, request, number),
            reason=data["reason"],
            actor=self.actor(request),
        )
        return _render(self, request, number)


class ClaimRefundApi(StaffReturnsApi):
    """``POST /claims/{number}/refund``: ask again after the payment system failed it."""

    @_schema("refund", None)
    def post(self, request: Request, number: str) -> Response:
        claim_refund_request(claim_id=_claim_id(self, request, number), actor=self.actor(request))
        return _render(self, request, number)


class ClaimRefundConfirmationApi(StaffReturnsApi):
    """``POST /claims/{number}/refund-confirmation``: the payment system's answer."""

    @_schema("refund_confirmation", ClaimRefundConfirmationInputSerializer)
    def post(self, request: Request, number: str) -> Response:
        data = _valid(ClaimRefundConfirmationInputSerializer, request).validated_data
        claim_refund_settle(
            reference=data["reference"],
            claim_id=_claim_id(self, request, number),
            is_confirmed=data["status"] == "confirmed",
            actor=self.actor(request),
            external_reference=data["external_reference"],
            failure_reason=data["failure_reason"],
        )
        return _render(self, request, number)
