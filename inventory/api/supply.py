"""Supply API: purchase orders for buyers, ASNs from suppliers' EDI, receipts from handheld
scanners (staff session or HTTP Basic), and incoming stock by date for channels (API key).

Staff doors need the model permission of what they do (``inventory.add_purchaseorder`` to
create, ``change_purchaseorder`` to send / confirm / reschedule / cancel / close,
``add_advanceshippingnotice``, ``add_receipt``; ``view_purchaseorder`` to read). Every view
validates with a small input serializer, calls one service or selector and renders; errors
are problem details.
"""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.auth import ChannelApi, channel_of
from inventory.models import PurchaseOrder, PurchaseOrderLine, Receipt, ReceiptLine
from inventory.selectors_supply import (
    MAX_SKUS,
    PurchaseOrderFilter,
    channel_incoming,
    purchase_order_get,
    purchase_order_list,
    purchase_order_references,
)
from inventory.services.receiving import MAX_SCANS, Scan, receipt_post
from inventory.services.supply import (
    ConfirmLine,
    purchase_order_cancel,
    purchase_order_close,
    purchase_order_confirm,
    purchase_order_create,
    purchase_order_send,
)
from inventory.services.supply_notices import asn_create, purchase_order_reschedule
from omnilog.core.authentication import STAFF_AUTHENTICATION_CLASSES
from omnilog.core.errors import FieldError, ValidationFailed
from omnilog.core.pagination import DefaultCursorPagination

PROBLEM = OpenApiTypes.OBJECT
TAGS = ["supply"]
MAX_LINES = 500
# DRF's ListSerializer takes max_length; the stubs do not know it (``type: ignore[call-arg]``).


class HasSupplyPermission(BasePermission):
    """Staff users holding the view's ``permission`` (``inventory.<codename>``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        needed = view.permissions.get(request.method or "", "")
        return bool(
            user
            and user.is_authenticated
            and user.is_staff
            and (not needed or user.has_perm(f"inventory.{needed}"))
        )


class SupplyApi(APIView):
    authentication_classes = STAFF_AUTHENTICATION_CLASSES
    permission_classes = (HasSupplyPermission,)
    permissions: ClassVar[dict[str, str]] = {}

    def actor(self, request: Request) -> str:
        return str(request.user.get_username())

    @staticmethod
    def valid(serializer: serializers.Serializer[Any]) -> dict[str, Any]:
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# --- output --------------------------------------------------------------------------------


class PurchaseOrderLineOutput(serializers.ModelSerializer[PurchaseOrderLine]):
    sku = serializers.CharField(source="product.sku")
    quantity_open = serializers.IntegerField()

    class Meta:
        model = PurchaseOrderLine
        fields = (
            "id",
            "line_number",
            "sku",
            "supplier_sku",
            "quantity_ordered",
            "quantity_confirmed",
            "quantity_received",
            "quantity_damaged",
            "quantity_preordered",
            "quantity_open",
            "over_receipt_tolerance",
            "unit_cost",
            "expected_date",
            "is_closed",
        )


class PurchaseOrderOutput(serializers.ModelSerializer[PurchaseOrder]):
    supplier = serializers.CharField(source="supplier.code")
    location = serializers.CharField(source="location.code")
    lines = PurchaseOrderLineOutput(many=True)

    class Meta:
        model = PurchaseOrder
        fields = (
            "number",
            "supplier",
            "location",
            "status",
            "reference",
            "supplier_reference",
            "expected_date",
            "currency",
            "created_by",
            "created_at",
            "sent_at",
            "confirmed_at",
            "received_at",
            "cancelled_at",
            "close_reason",
            "version",
            "lines",
        )


class ReceiptLineOutput(serializers.ModelSerializer[ReceiptLine]):
    sku = serializers.CharField(source="product.sku")

    class Meta:
        model = ReceiptLine
        fields = (
            "sku",
            "scanned_codes",
            "quantity_expected",
            "quantity_received",
            "quantity_damaged",
            "quantity_over",
            "quantity_short",
            "damage_reason",
            "discrepancy_note",
        )


class ReceiptOutput(serializers.ModelSerializer[Receipt]):
    purchase_order = serializers.CharField(source="purchase_order.number")
    purchase_order_status = serializers.CharField(source="purchase_order.status")
    lines = ReceiptLineOutput(many=True)

    class Meta:
        model = Receipt
        fields = (
            "id",
            "purchase_order",
            "purchase_order_status",
            "notice",
            "idempotency_key",
            "has_discrepancies",
            "posted_at",
            "actor",
            "lines",
        )


ORDER_CHANGED = {200: PurchaseOrderOutput, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM}


def _order(number: str) -> Response:
    return Response(PurchaseOrderOutput(purchase_order_get(number=number)).data)


# --- purchase orders -----------------------------------------------------------------------


class PurchaseOrderListCreateApi(SupplyApi):
    """``GET``: purchase orders, newest first, filtered. ``POST``: a draft purchase order."""

    permissions: ClassVar[dict[str, str]] = {
        "GET": "view_purchaseorder",
        "POST": "add_purchaseorder",
    }

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "PurchaseOrderListCreateInput"

        class LineInput(serializers.Serializer[dict[str, Any]]):
            class Meta:
                ref_name = "PurchaseOrderListCreateLineInput"

            sku = serializers.CharField(max_length=32)
            quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
            expected_date = serializers.DateField(required=False, allow_null=True)

        supplier = serializers.CharField(max_length=32)
        location = serializers.CharField(max_length=32)
        reference = serializers.CharField(max_length=100, required=False, default="")
        expected_date = serializers.DateField(required=False, allow_null=True)
        note = serializers.CharField(max_length=2000, required=False, default="")
        lines = LineInput(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]

    @extend_schema(
        operation_id="purchase_orders_list",
        tags=TAGS,
        parameters=[
            OpenApiParameter(name, OpenApiTypes.STR, required=False)
            for name in PurchaseOrderFilter.base_filters
        ]
        + [OpenApiParameter("page_size", OpenApiTypes.INT), OpenApiParameter("cursor", str)],
        responses={200: PurchaseOrderOutput(many=True), 401: PROBLEM, 403: PROBLEM, 422: PROBLEM},
    )
    def get(self, request: Request) -> Response:
        orders = purchase_order_list(filters=request.query_params)
        paginator = DefaultCursorPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(PurchaseOrderOutput(page, many=True).data)

    @extend_schema(
        operation_id="purchase_orders_create",
        tags=TAGS,
        request=InputSerializer,
        responses={201: PurchaseOrderOutput, 400: PROBLEM, 403: PROBLEM, 422: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        data = self.valid(self.InputSerializer(data=request.data))
        supplier, location, products = purchase_order_references(
            supplier_code=data["supplier"],
            location_code=data["location"],
            skus=[line["sku"] for line in data["lines"]],
        )
        order = purchase_order_create(
            supplier=supplier,
            location=location,
            lines=[
                (products[line["sku"]], line["quantity"], line.get("expected_date"))
                for line in data["lines"]
            ],
            actor=self.actor(request),
            reference=data["reference"],
            expected_date=data.get("expected_date"),
            note=data["note"],
        )
        response = _order(order.number)
        response.status_code = status.HTTP_201_CREATED
        return response


class PurchaseOrderDetailApi(SupplyApi):
    permissions: ClassVar[dict[str, str]] = {"GET": "view_purchaseorder"}

    @extend_schema(
        operation_id="purchase_orders_get",
        tags=TAGS,
        responses={200: PurchaseOrderOutput, 403: PROBLEM, 404: PROBLEM},
    )
    def get(self, request: Request, number: str) -> Response:
        return _order(number)


class _VersionInput(serializers.Serializer[dict[str, Any]]):
    class Meta:
        ref_name = "PurchaseOrderVersionInput"

    version = serializers.IntegerField(min_value=1, required=False)


class PurchaseOrderSendApi(SupplyApi):
    permissions: ClassVar[dict[str, str]] = {"POST": "change_purchaseorder"}

    @extend_schema(
        operation_id="purchase_orders_send",
        tags=TAGS,
        request=_VersionInput,
        responses=ORDER_CHANGED,
    )
    def post(self, request: Request, number: str) -> Response:
        data = self.valid(_VersionInput(data=request.data))
        order = purchase_order_get(number=number)
        purchase_order_send(
            purchase_order_id=order.pk, actor=self.actor(request), version=data.get("version")
        )
        return _order(number)


class PurchaseOrderConfirmApi(SupplyApi):
    """Confirmed quantities and dates (lines not given: as ordered, as planned)."""

    permissions: ClassVar[dict[str, str]] = {"POST": "change_purchaseorder"}

    class InputSerializer(_VersionInput):
        class Meta:
            ref_name = "PurchaseOrderConfirmInput"

        class LineInput(serializers.Serializer[dict[str, Any]]):
            class Meta:
                ref_name = "PurchaseOrderConfirmLineInput"

            line_id = serializers.IntegerField()
            quantity_confirmed = serializers.IntegerField(
                min_value=0, max_value=1_000_000, required=False, allow_null=True
            )
            expected_date = serializers.DateField(required=False, allow_null=True)

        supplier_reference = serializers.CharField(max_length=64, required=False, default="")
        lines = LineInput(many=True, required=False, max_length=MAX_LINES)  # type: ignore[call-arg]

    @extend_schema(
        operation_id="purchase_orders_confirm",
        tags=TAGS,
        request=InputSerializer,
        responses=ORDER_CHANGED,
    )
    def post(self, request: Request, number: str) -> Response:
        data = self.valid(self.InputSerializer(data=request.data))
        order = purchase_order_get(number=number)
        purchase_order_confirm(
            purchase_order_id=order.pk,
            actor=self.actor(request),
            lines=[
                ConfirmLine(
                    line_id=line["line_id"],
                    quantity_confirmed=line.get("quantity_confirmed"),
                    expected_date=line.get("expected_date"),
                )
                for line in data.get("lines", [])
            ],
            supplier_reference=data["supplier_reference"],
            version=data.get("version"),
        )
        return _order(number)


class PurchaseOrderRescheduleApi(SupplyApi):
    permissions: ClassVar[dict[str, str]] = {"POST": "change_purchaseorder"}

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "PurchaseOrderRescheduleInput"

        expected_date = serializers.DateField()
        line_ids = serializers.ListField(
            child=serializers.IntegerField(), required=False, max_length=MAX_LINES
        )

    @extend_schema(
        operation_id="purchase_orders_reschedule",
        tags=TAGS,
        request=InputSerializer,
        responses=ORDER_CHANGED,
    )
    def post(self, request: Request, number: str) -> Response:
        data = self.valid(self.InputSerializer(data=request.data))
        order = purchase_order_get(number=number)
        purchase_order_reschedule(
            purchase_order_id=order.pk,
            expected_date=data["expected_date"],
            actor=self.actor(request),
            line_ids=data.get("line_ids", []),
        )
        return _order(number)


class PurchaseOrderCancelApi(SupplyApi):
    permissions: ClassVar[dict[str, str]] = {"POST": "change_purchaseorder"}

    class InputSerializer(_VersionInput):
        class Meta:
            ref_name = "PurchaseOrderCancelInput"

        reason = serializers.CharField(max_length=200, required=False, default="")

    @extend_schema(
        operation_id="purchase_orders_cancel",
        tags=TAGS,
        request=InputSerializer,
        responses=ORDER_CHANGED,
    )
    def post(self, request: Request, number: str) -> Response:
        data = self.valid(self.InputSerializer(data=request.data))
        order = purchase_order_get(number=number)
        purchase_order_cancel(
            purchase_order_id=order.pk,
            actor=self.actor(request),
            reason=data["reason"],
            version=data.get("version"),
        )
        return _order(number)


class PurchaseOrderCloseApi(SupplyApi):
    """A partly received order is closed short: the rest will not come."""

    permissions: ClassVar[dict[str, str]] = {"POST": "change_purchaseorder"}

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "PurchaseOrderCloseInput"

        reason = serializers.CharField(max_length=200)

    @extend_schema(
        operation_id="purchase_orders_close",
        tags=TAGS,
        request=InputSerializer,
        responses=ORDER_CHANGED,
    )
    def post(self, request: Request, number: str) -> Response:
        data = self.valid(self.InputSerializer(data=request.data))
        order = purchase_order_get(number=number)
        purchase_order_close(
            purchase_order_id=order.pk, actor=self.actor(request), reason=data["reason"]
        )
        return _order(number)


class NoticeCreateApi(SupplyApi):
    """An advance shipping notice from the supplier (its EDI, or a buyer typing it in)."""

    permissions: ClassVar[dict[str, str]] = {"POST": "add_advanceshippingnotice"}

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "NoticeCreateInput"

        class LineInput(serializers.Serializer[dict[str, Any]]):
            class Meta:
                ref_name = "NoticeCreateLineInput"

            sku = serializers.CharField(max_length=32)
            quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)

        supplier_reference = serializers.CharField(max_length=64)
        expected_arrival = serializers.DateField()
        lines = LineInput(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]

    class OutputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "ShippingNotice"

        id = serializers.IntegerField()
        supplier_reference = serializers.CharField()
        expected_arrival = serializers.DateField()
        status = serializers.CharField()

    @extend_schema(
        operation_id="purchase_orders_notice_create",
        tags=TAGS,
        request=InputSerializer,
        responses={201: OutputSerializer, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
    )
    def post(self, request: Request, number: str) -> Response:
        data = self.valid(self.InputSerializer(data=request.data))
        order = purchase_order_get(number=number)
        by_sku = {line.product.sku: line.product_id for line in order.lines.all()}
        unknown = [
            FieldError(f"lines.{index}.sku", "Not on this order.", "not_on_order")
            for index, line in enumerate(data["lines"])
            if line["sku"] not in by_sku
        ]
        if unknown:
            raise ValidationFailed("The shipping notice is not valid.", field_errors=unknown)
        notice = asn_create(
            purchase_order_id=order.pk,
            supplier_reference=data["supplier_reference"],
            expected_arrival=data["expected_arrival"],
            lines=[(by_sku[line["sku"]], line["quantity"]) for line in data["lines"]],
            actor=self.actor(request),
        )
        return Response(self.OutputSerializer(notice).data, status=status.HTTP_201_CREATED)


class ReceiptPostApi(SupplyApi):
    """Post what a handheld scanned against a purchase order (or one of its ASNs).

    201 for a new receipt; 200 with the same receipt for a replay of ``idempotency_key``.
    """

    permissions: ClassVar[dict[str, str]] = {"POST": "add_receipt"}

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "ReceiptPostInput"

        class ScanInput(serializers.Serializer[dict[str, Any]]):
            class Meta:
                ref_name = "ReceiptPostScanInput"

            code = serializers.CharField(max_length=32, help_text="EAN or SKU as scanned.")
            quantity = serializers.IntegerField(max_value=1_000_000)
            damaged_quantity = serializers.IntegerField(max_value=1_000_000, default=0)
            damage_reason = serializers.CharField(max_length=16, required=False, default="")

        idempotency_key = serializers.CharField(max_length=64)
        notice_id = serializers.IntegerField(required=False, allow_null=True)
        note = serializers.CharField(max_length=200, required=False, default="")
        scans = ScanInput(many=True, allow_empty=False, max_length=MAX_SCANS)  # type: ignore[call-arg]

    @extend_schema(
        operation_id="purchase_orders_receipt_post",
        tags=TAGS,
        request=InputSerializer,
        responses={
            200: ReceiptOutput,
            201: ReceiptOutput,
            403: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
            422: PROBLEM,
        },
    )
    def post(self, request: Request, number: str) -> Response:
        data = self.valid(self.InputSerializer(data=request.data))
        order = purchase_order_get(number=number)
        posted = receipt_post(
            purchase_order_id=order.pk,
            scans=[
                Scan(
                    code=scan["code"],
                    quantity=scan["quantity"],
                    damaged_quantity=scan["damaged_quantity"],
                    damage_reason=scan["damage_reason"],
                )
                for scan in data["scans"]
            ],
            idempotency_key=data["idempotency_key"],
            notice_id=data.get("notice_id"),
            note=data["note"],
            actor=self.actor(request),
            source="api",
        )
        receipt = (
            Receipt.objects.select_related("purchase_order")
            .prefetch_related("lines__product")
            .get(pk=posted.receipt.pk)
        )
        return Response(
            ReceiptOutput(receipt).data,
            status=status.HTTP_201_CREATED if posted.created else status.HTTP_200_OK,
        )


# --- channels: incoming stock by date ------------------------------------------------------


class ArrivalSerializer(serializers.Serializer[Any]):
    expected_date = serializers.DateField(allow_null=True)
    location_code = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Units expected that day.")
    preordered = serializers.IntegerField(help_text="Of which already sold to preorders.")
    available = serializers.IntegerField()
    purchase_order = serializers.CharField(help_text='"" for units no purchase order explains.')


class ProductIncomingSerializer(serializers.Serializer[Any]):
    sku = serializers.CharField()
    name = serializers.CharField()
    is_preorderable = serializers.BooleanField()
    incoming = serializers.IntegerField()
    available_to_preorder = serializers.IntegerField()
    arrivals = ArrivalSerializer(many=True)


class IncomingPageSerializer(serializers.Serializer[Any]):
    results = ProductIncomingSerializer(many=True)


class IncomingAvailabilityApi(ChannelApi):
    """``GET /availability/incoming?sku=A&sku=B``: supplier units coming to the channel's
    locations, by date, and how many can still be sold as preorders."""

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "IncomingAvailabilityInput"

        sku = serializers.ListField(
            child=serializers.CharField(max_length=32), min_length=1, max_length=MAX_SKUS
        )

    @extend_schema(
        operation_id="availability_incoming",
        tags=["availability"],
        parameters=[OpenApiParameter("sku", OpenApiTypes.STR, many=True, required=True)],
        responses={200: IncomingPageSerializer, 401: PROBLEM, 404: PROBLEM, 422: PROBLEM},
    )
    def get(self, request: Request) -> Response:
        serializer = self.InputSerializer(data={"sku": request.query_params.getlist("sku")})
        serializer.is_valid(raise_exception=True)
        rows = channel_incoming(
            channel_id=channel_of(request).id, skus=serializer.validated_data["sku"]
        )
        return Response({"results": ProductIncomingSerializer(rows, many=True).data})
