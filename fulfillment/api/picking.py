"""Staff and store-staff API for the fulfillment floor: accept / reject, pick lists (plan, scan,
short), packing (scan, close), ship, ready for pickup, handover, and the printed PDFs.

Session (or HTTP Basic) auth; staff users or users with ``fulfillment.pick_and_pack`` (the
store-staff group). Every view validates, calls one service or selector and renders; errors are
problem details. Store staff who are not global staff act only on their stores' locations (any
other location's object is a 404: ``FloorApi.initial``, ``fulfillment.store.access.floor_scope``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.limits import MAX_DIMENSION_MM, MAX_TOTE, MAX_UNITS, MAX_WEIGHT_GRAMS
from fulfillment.documents import packing_slip_pdf, pick_list_pdf
from fulfillment.models import FulfillmentOrder, Parcel, PickList, PickTask
from fulfillment.selectors_picking import fulfillment_order_get, pick_list_get, pick_list_list
from fulfillment.services.fulfillment_orders import (
    fulfillment_order_accept,
    fulfillment_order_reject,
)
from fulfillment.services.lifecycle import (
    fulfillment_order_handover,
    fulfillment_order_ready_for_pickup,
    fulfillment_order_ship,
)
from fulfillment.services.packing import pack_close, pack_scan
from fulfillment.services.picking import (
    SHORT_REASONS,
    pick_confirm_scan,
    pick_short,
    picking_plan_location,
)
from fulfillment.store.access import floor_location_of, floor_scope
from omnilog.core.authentication import STAFF_AUTHENTICATION_CLASSES
from omnilog.core.errors import NotFound


class IsFulfillmentStaff(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (user.is_staff or user.has_perm("fulfillment.pick_and_pack"))
        )


class FloorApi(APIView):
    authentication_classes = STAFF_AUTHENTICATION_CLASSES
    permission_classes = (IsFulfillmentStaff,)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Store staff (members of stores, not global staff) act only on their stores: any
        other location's object is a 404, as if it did not exist."""
        super().initial(request, *args, **kwargs)
        scope = floor_scope(request.user)
        if scope is not None and floor_location_of(**kwargs) not in scope:
            raise NotFound("Not found.", code="not_found")

    def actor(self, request: Request) -> str:
        return str(request.user.get_username())


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class FulfillmentOrderLineOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    sku = serializers.CharField(source="order_line.sku")
    quantity = serializers.IntegerField()
    quantity_rejected = serializers.IntegerField()
    quantity_picked = serializers.IntegerField()
    quantity_packed = serializers.IntegerField()


class ParcelOutput(serializers.ModelSerializer[Parcel]):
    class Meta:
        model = Parcel
        fields = (
            "id",
            "number",
            "status",
            "box_code",
            "suggested_box_code",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "closed_at",
        )
        read_only_fields = fields


class FulfillmentOrderOutput(serializers.ModelSerializer[FulfillmentOrder]):
    location = serializers.CharField(source="location.code")
    lines = FulfillmentOrderLineOutput(many=True)
    parcels = ParcelOutput(many=True)

    class Meta:
        model = FulfillmentOrder
        fields = (
            "id",
            "order",
            "location",
            "status",
            "delivery_mode",
            "accept_by",
            "accepted_at",
            "picked_at",
            "packed_at",
            "shipped_at",
            "ready_for_pickup_at",
            "collected_at",
            "lines",
            "parcels",
        )
        read_only_fields = fields


def _fulfillment_order(fulfillment_order_id: int) -> dict[str, Any]:
    return dict(FulfillmentOrderOutput(fulfillment_order_get(fulfillment_order_id)).data)


class PickTaskOutput(serializers.ModelSerializer[PickTask]):
    fulfillment_order_id = serializers.IntegerField(
        source="fulfillment_order_line.fulfillment_order_id"
    )

    class Meta:
        model = PickTask
        fields = (
            "id",
            "sequence",
            "bin_location",
            "sku",
            "ean",
            "quantity",
            "quantity_picked",
            "quantity_short",
            "tote",
            "sort_slot",
            "status",
            "fulfillment_order_line",
            "fulfillment_order_id",
        )
        read_only_fields = fields


class PickListOutput(serializers.ModelSerializer[PickList]):
    wave = serializers.CharField(source="wave.code")
    location = serializers.CharField(source="location.code")
    tasks = PickTaskOutput(many=True)

    class Meta:
        model = PickList
        fields = (
            "id",
            "code",
            "wave",
            "location",
            "kind",
            "status",
            "picker",
            "order_count",
            "line_count",
            "unit_count",
            "weight_grams",
            "walk_score",
            "created_at",
            "started_at",
            "completed_at",
            "tasks",
        )
        read_only_fields = fields


class RejectLineInput(serializers.Serializer[Any]):
    line_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)
    reason = serializers.CharField(max_length=200)


class RejectInput(serializers.Serializer[Any]):
    lines = RejectLineInput(many=True, allow_empty=False)


class ScanInput(serializers.Serializer[Any]):
    ean = serializers.CharField(max_length=32)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS, default=1)
    tote = serializers.IntegerField(
        min_value=1, max_value=MAX_TOTE, required=False, allow_null=True, default=None
    )


class ShortInput(serializers.Serializer[Any]):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)
    reason = serializers.ChoiceField(choices=SHORT_REASONS)


class PackScanInput(serializers.Serializer[Any]):
    ean = serializers.CharField(max_length=32)


class PackCloseInput(serializers.Serializer[Any]):
    weight_grams = serializers.IntegerField(min_value=1, max_value=MAX_WEIGHT_GRAMS)
    length_mm = serializers.IntegerField(min_value=1, max_value=MAX_DIMENSION_MM, required=False)
    width_mm = serializers.IntegerField(min_value=1, max_value=MAX_DIMENSION_MM, required=False)
    height_mm = serializers.IntegerField(min_value=1, max_value=MAX_DIMENSION_MM, required=False)
    box_code = serializers.CharField(max_length=16, required=False, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [attrs.get(key) for key in ("length_mm", "width_mm", "height_mm")]
        if any(given) and not all(given):
            raise serializers.ValidationError("Give all three dimensions or none.")
        return attrs


class HandoverLineInput(serializers.Serializer[Any]):
    line_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)


class HandoverInput(serializers.Serializer[Any]):
    lines = HandoverLineInput(many=True, required=False)


class FulfillmentOrderAcceptApi(FloorApi):
    @extend_schema(request=None, responses=FulfillmentOrderOutput, tags=["fulfillment"])
    def post(self, request: Request, fulfillment_order_id: int) -> Response:
        fulfillment_order_accept(
            fulfillment_order_id=fulfillment_order_id, actor=self.actor(request)
        )
        return Response(_fulfillment_order(fulfillment_order_id))


class FulfillmentOrderRejectApi(FloorApi):
    @extend_schema(request=RejectInput, responses=FulfillmentOrderOutput, tags=["fulfillment"])
    def post(self, request: Request, fulfillment_order_id: int) -> Response:
        data = RejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        decision = fulfillment_order_reject(
            fulfillment_order_id=fulfillment_order_id,
            lines=[
                (line["line_id"], line["quantity"], line["reason"])
                for line in data.validated_data["lines"]
            ],
            actor=self.actor(request),
        )
        body = _fulfillment_order(fulfillment_order_id)
        body["routing_decision_id"] = decision.pk if decision is not None else None
        return Response(body)


class LocationPickListsApi(FloorApi):
    """``GET``: the location's open and in-progress pick lists (read-only)."""

    pagination_class = None

    @extend_schema(responses=PickListOutput(many=True), tags=["fulfillment"])
    def get(self, request: Request, location_code: str) -> Response:
        _, pick_lists = pick_list_list(location_code=location_code)
        return Response(PickListOutput(pick_lists, many=True).data)


class LocationPickListsPlanApi(FloorApi):
    """``POST``: plan the location's open lines into pick lists, then list them as ``GET`` does."""

    @extend_schema(request=None, responses=PickListOutput(many=True), tags=["fulfillment"])
    def post(self, request: Request, location_code: str) -> Response:
        location_id, _ = pick_list_list(location_code=location_code)
        picking_plan_location(location_id=location_id)
        _, pick_lists = pick_list_list(location_code=location_code)
        return Response(PickListOutput(pick_lists, many=True).data)


class PickListDetailApi(FloorApi):
    @extend_schema(responses=PickListOutput, tags=["fulfillment"])
    def get(self, request: Request, pick_list_id: int) -> Response:
        return Response(PickListOutput(pick_list_get(pick_list_id)).data)


class PickListScanApi(FloorApi):
    @extend_schema(request=ScanInput, responses=PickListOutput, tags=["fulfillment"])
    def post(self, request: Request, pick_list_id: int) -> Response:
        data = ScanInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = pick_confirm_scan(
            pick_list_id=pick_list_id, actor=self.actor(request), **data.validated_data
        )
        return Response(
            {
                "sequence": result.sequence,
                "sku": result.sku,
                "quantity": result.quantity,
                "puts": [put.__dict__ for put in result.puts],
                "next_stop": result.next_stop.__dict__ if result.next_stop else None,
                "picked_fulfillment_orders": list(result.picked_fulfillment_order_ids),
                "pick_list": PickListOutput(pick_list_get(pick_list_id)).data,
            }
        )


class PickListPdfApi(FloorApi):
    @extend_schema(responses={(200, "application/pdf"): bytes}, tags=["fulfillment"])
    def get(self, request: Request, pick_list_id: int) -> HttpResponse:
        return _pdf(pick_list_pdf(pick_list_id=pick_list_id), f"pick-list-{pick_list_id}.pdf")


class FulfillmentOrderLineShortApi(FloorApi):
    @extend_schema(request=ShortInput, responses=FulfillmentOrderOutput, tags=["fulfillment"])
    def post(self, request: Request, line_id: int) -> Response:
        data = ShortInput(data=request.data)
        data.is_valid(raise_exception=True)
        decision = pick_short(
            fulfillment_order_line_id=line_id, actor=self.actor(request), **data.validated_data
        )
        return Response({"routing_decision_id": decision.pk if decision is not None else None})


class PackScanApi(FloorApi):
    @extend_schema(request=PackScanInput, responses=FulfillmentOrderOutput, tags=["fulfillment"])
    def post(self, request: Request, fulfillment_order_id: int) -> Response:
        data = PackScanInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = pack_scan(
            fulfillment_order_id=fulfillment_order_id,
            ean=data.validated_data["ean"],
            actor=self.actor(request),
        )
        return Response({**result.__dict__})


class PackCloseApi(FloorApi):
    @extend_schema(request=PackCloseInput, responses=ParcelOutput, tags=["fulfillment"])
    def post(self, request: Request, fulfillment_order_id: int) -> Response:
        data = PackCloseInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        dimensions = (
            (values["length_mm"], values["width_mm"], values["height_mm"])
            if values.get("length_mm")
            else None
        )
        parcel = pack_close(
            fulfillment_order_id=fulfillment_order_id,
            weight_grams=values["weight_grams"],
            dimensions=dimensions,
            box_code=values["box_code"],
            actor=self.actor(request),
        )
        return Response(ParcelOutput(parcel).data)


class FulfillmentOrderShipApi(FloorApi):
    @extend_schema(request=None, responses=FulfillmentOrderOutput, tags=["fulfillment"])
    def post(self, request: Request, fulfillment_order_id: int) -> Response:
        fulfillment_order_ship(fulfillment_order_id=fulfillment_order_id, actor=self.actor(request))
        return Response(_fulfillment_order(fulfillment_order_id))


class FulfillmentOrderReadyApi(FloorApi):
    @extend_schema(request=None, responses=FulfillmentOrderOutput, tags=["fulfillment"])
    def post(self, request: Request, fulfillment_order_id: int) -> Response:
        fulfillment_order_ready_for_pickup(
            fulfillment_order_id=fulfillment_order_id, actor=self.actor(request)
        )
        return Response(_fulfillment_order(fulfillment_order_id))


class FulfillmentOrderHandoverApi(FloorApi):
    @extend_schema(request=HandoverInput, responses=FulfillmentOrderOutput, tags=["fulfillment"])
    def post(self, request: Request, fulfillment_order_id: int) -> Response:
        data = HandoverInput(data=request.data)
        data.is_valid(raise_exception=True)
        lines = data.validated_data.get("lines")
        fulfillment_order_handover(
            fulfillment_order_id=fulfillment_order_id,
            lines=[(line["line_id"], line["quantity"]) for line in lines]
            if lines is not None
            else None,
            actor=self.actor(request),
        )
        return Response(_fulfillment_order(fulfillment_order_id))


class PackingSlipPdfApi(FloorApi):
    @extend_schema(responses={(200, "application/pdf"): bytes}, tags=["fulfillment"])
    def get(self, request: Request, fulfillment_order_id: int) -> HttpResponse:
        return _pdf(
            packing_slip_pdf(fulfillment_order_id=fulfillment_order_id),
            f"packing-slip-{fulfillment_order_id}.pdf",
        )
