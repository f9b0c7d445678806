"""Shipping API: the carrier's signed status webhook, nearest relay points (channel key), and
staff endpoints for shipments (label, commercial invoice) and transfers.

Each view validates its input, calls one service or selector and renders; every error is a
problem document (``omnilog.core.api.exception_handler``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.auth import ChannelApi
from fulfillment.api.limits import MAX_DIMENSION_MM, MAX_UNITS, MAX_WEIGHT_GRAMS
from fulfillment.models import RelayPoint, Shipment, TransferOrder
from fulfillment.services.carrier_events import carrier_event_receive
from fulfillment.services.relay_points import relay_points_nearest
from fulfillment.services.shipping import ParcelInput, shipment_cancel, shipment_create
from fulfillment.services.transfers import (
    ReceivedLine,
    TransferLineInput,
    transfer_create,
    transfer_receive,
    transfer_ship,
)
from omnilog.core.authentication import STAFF_AUTHENTICATION_CLASSES
from omnilog.core.errors import NotFound

PROBLEM = OpenApiTypes.OBJECT


class StaffApi(APIView):
    authentication_classes = STAFF_AUTHENTICATION_CLASSES
    permission_classes = (IsAdminUser,)


class CarrierEventApi(APIView):
    """``POST /carriers/{code}/events``: the carrier's signed status webhook (Standard
    Webhooks). No session or key: the signature is the authentication."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="carrier_event_receive",
        tags=["carriers"],
        request=OpenApiTypes.OBJECT,
        responses={
            200: OpenApiTypes.OBJECT,
            400: PROBLEM,
            401: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
            422: PROBLEM,
        },
    )
    def post(self, request: Request, code: str) -> Response:
        receipt = carrier_event_receive(
            carrier_code=code, headers=dict(request.headers), body=request.body
        )
        return Response(
            {
                "status": "duplicate" if receipt.is_duplicate else "accepted",
                "shipment_id": receipt.shipment_id,
                "shipment_status": receipt.status,
                "event_id": receipt.event_id,
                "is_status_change": receipt.is_status_change,
            }
        )


class RelayPointSerializer(serializers.Serializer[RelayPoint]):
    carrier = serializers.CharField(source="carrier.code")
    point_id = serializers.CharField()
    name = serializers.CharField()
    address_line = serializers.CharField()
    postcode = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    distance_km = serializers.SerializerMethodField()
    opening_hours = serializers.JSONField()
    is_locker = serializers.BooleanField()
    max_weight_grams = serializers.IntegerField(allow_null=True)
    max_dimensions_mm = serializers.SerializerMethodField()

    def get_distance_km(self, point: Any) -> float:
        return round(float(point.distance_km), 3)

    def get_max_dimensions_mm(self, point: RelayPoint) -> list[int | None]:
        return [point.max_length_mm, point.max_width_mm, point.max_height_mm]


class RelayPointsNearestApi(ChannelApi):
    """``GET /relay-points/nearest?lat=&lon=&radius_km=&carrier=&weight_grams=&dims=``."""

    class RelayPointsNearestInputSerializer(serializers.Serializer[dict[str, Any]]):
        lat = serializers.FloatField()
        lon = serializers.FloatField()
        radius_km = serializers.FloatField(required=False, default=10.0)
        limit = serializers.IntegerField(required=False, default=10)
        carrier = serializers.CharField(required=False, allow_blank=True, default="")
        weight_grams = serializers.IntegerField(required=False, allow_null=True, default=None)
        dims = serializers.RegexField(
            r"^\d+x\d+x\d+$", required=False, allow_blank=True, default=""
        )

    @extend_schema(
        operation_id="relay_points_nearest",
        tags=["relay points"],
        parameters=[RelayPointsNearestInputSerializer],
        responses={200: RelayPointSerializer(many=True), 401: PROBLEM, 422: PROBLEM},
    )
    def get(self, request: Request) -> Response:
        serializer = self.RelayPointsNearestInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        dims = [int(side) for side in data["dims"].split("x")] if data["dims"] else None
        points = relay_points_nearest(
            latitude=data["lat"],
            longitude=data["lon"],
            radius_km=data["radius_km"],
            limit=data["limit"],
            carrier_code=data["carrier"] or None,
            parcel_weight_grams=data["weight_grams"],
            parcel_dims=dims,
        )
        rows: Any = points
        return Response({"results": RelayPointSerializer(rows, many=True).data})


class ShipmentSerializer(serializers.ModelSerializer[Shipment]):
    carrier = serializers.CharField(source="carrier.code")
    relay_point = serializers.CharField(source="relay_point.point_id", allow_null=True)

    class Meta:
        model = Shipment
        fields = (
            "id",
            "fulfillment_order",
            "carrier",
            "service",
            "tracking_number",
            "status",
            "relay_point",
            "parcels",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "zone",
            "price",
            "currency",
            "incoterm",
            "customs_form",
            "customs_data",
            "shipped_at",
            "delivered_at",
            "created_at",
        )


class ShipmentCreateApi(StaffApi):
    """``POST /shipments``: buy the label of a fulfillment order."""

    class ShipmentCreateInputSerializer(serializers.Serializer[dict[str, Any]]):
        class ParcelSerializer(serializers.Serializer[dict[str, Any]]):
            weight_grams = serializers.IntegerField(min_value=1, max_value=MAX_WEIGHT_GRAMS)
            length_mm = serializers.IntegerField(min_value=1, max_value=MAX_DIMENSION_MM)
            width_mm = serializers.IntegerField(min_value=1, max_value=MAX_DIMENSION_MM)
            height_mm = serializers.IntegerField(min_value=1, max_value=MAX_DIMENSION_MM)

        fulfillment_order_id = serializers.IntegerField()
        carrier = serializers.CharField(max_length=32)
        service = serializers.CharField(max_length=16)
        incoterm = serializers.ChoiceField(choices=["DAP", "DDP"], default="DAP")
        parcels = ParcelSerializer(many=True, required=False)

    @extend_schema(
        operation_id="shipment_create",
        tags=["shipments"],
        request=ShipmentCreateInputSerializer,
        responses={201: ShipmentSerializer, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        serializer = self.ShipmentCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        shipment = shipment_create(
            fulfillment_order_id=data["fulfillment_order_id"],
            carrier_code=data["carrier"],
            service=data["service"],
            incoterm=data["incoterm"],
            parcels=[ParcelInput(**parcel) for parcel in data.get("parcels") or []] or None,
            actor=f"staff:{request.user.get_username()}",
        )
        return Response(ShipmentSerializer(shipment).data, status=status.HTTP_201_CREATED)


def _shipment(shipment_id: int) -> Shipment:
    shipment = (
        Shipment.objects.select_related("carrier", "relay_point").filter(pk=shipment_id).first()
    )
    if shipment is None:
        raise NotFound(f"No shipment {shipment_id}.", code="shipment_not_found")
    return shipment


class ShipmentDetailApi(StaffApi):
    @extend_schema(
        operation_id="shipment_get",
        tags=["shipments"],
        responses={200: ShipmentSerializer, 404: PROBLEM},
    )
    def get(self, request: Request, shipment_id: int) -> Response:
        return Response(ShipmentSerializer(_shipment(shipment_id)).data)


class ShipmentCancelApi(StaffApi):
    @extend_schema(
        operation_id="shipment_cancel",
        tags=["shipments"],
        request=None,
        responses={200: ShipmentSerializer, 409: PROBLEM},
    )
    def post(self, request: Request, shipment_id: int) -> Response:
        shipment = shipment_cancel(
            shipment_id=shipment_id, actor=f"staff:{request.user.get_username()}"
        )
        return Response(ShipmentSerializer(_shipment(shipment.pk)).data)


def _pdf(content: bytes | memoryview | None, filename: str) -> HttpResponse:
    if not content:
        raise NotFound(f"No {filename}.", code="document_not_found")
    response = HttpResponse(bytes(content), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class ShipmentLabelApi(StaffApi):
    @extend_schema(
        operation_id="shipment_label",
        tags=["shipments"],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: PROBLEM},
    )
    def get(self, request: Request, shipment_id: int) -> HttpResponse:
        shipment = _shipment(shipment_id)
        return _pdf(shipment.label_pdf, f"label-{shipment.tracking_number}.pdf")


class ShipmentInvoiceApi(StaffApi):
    @extend_schema(
        operation_id="shipment_commercial_invoice",
        tags=["shipments"],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: PROBLEM},
    )
    def get(self, request: Request, shipment_id: int) -> HttpResponse:
        shipment = _shipment(shipment_id)
        return _pdf(shipment.commercial_invoice_pdf, f"invoice-CI-{shipment.pk}.pdf")


class TransferSerializer(serializers.ModelSerializer[TransferOrder]):
    from_location = serializers.CharField(source="from_location.code")
    to_location = serializers.CharField(source="to_location.code")
    reference = serializers.CharField()
    lines = serializers.SerializerMethodField()

    class Meta:
        model = TransferOrder
        fields = (
            "id",
            "reference",
            "from_location",
            "to_location",
            "reason",
            "status",
            "order",
            "expected_arrival",
            "shipped_at",
            "received_at",
            "note",
            "lines",
        )

    def get_lines(self, transfer: TransferOrder) -> list[dict[str, Any]]:
        return [
            {
                "id": line.pk,
                "sku": line.product.sku,
                "quantity": line.quantity,
                "quantity_received": line.quantity_received,
                "discrepancy": line.discrepancy,
                "discrepancy_note": line.discrepancy_note,
            }
            for line in transfer.lines.select_related("product").order_by("id")
        ]


def _transfer(transfer_id: int) -> TransferOrder:
    transfer = (
        TransferOrder.objects.select_related("from_location", "to_location")
        .filter(pk=transfer_id)
        .first()
    )
    if transfer is None:
        raise NotFound(f"No transfer {transfer_id}.", code="transfer_not_found")
    return transfer


class TransferCreateApi(StaffApi):
    class TransferCreateInputSerializer(serializers.Serializer[dict[str, Any]]):
        class TransferCreateLineSerializer(serializers.Serializer[dict[str, Any]]):
            product_id = serializers.IntegerField()
            quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)
            reservation_id = serializers.IntegerField(required=False, allow_null=True, default=None)

        from_location_id = serializers.IntegerField()
        to_location_id = serializers.IntegerField()
        reason = serializers.ChoiceField(choices=TransferOrder.Reason.choices)
        expected_arrival = serializers.DateTimeField(required=False, allow_null=True, default=None)
        order_id = serializers.IntegerField(required=False, allow_null=True, default=None)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
        lines = TransferCreateLineSerializer(many=True)

    @extend_schema(
        operation_id="transfer_create",
        tags=["transfers"],
        request=TransferCreateInputSerializer,
        responses={201: TransferSerializer, 422: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        serializer = self.TransferCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        transfer = transfer_create(
            from_location_id=data["from_location_id"],
            to_location_id=data["to_location_id"],
            reason=data["reason"],
            lines=[TransferLineInput(**line) for line in data["lines"]],
            expected_arrival=data["expected_arrival"],
            order_id=data["order_id"],
            note=data["note"],
            actor=f"staff:{request.user.get_username()}",
        )
        return Response(
            TransferSerializer(_transfer(transfer.pk)).data, status=status.HTTP_201_CREATED
        )


class TransferDetailApi(StaffApi):
    @extend_schema(
        operation_id="transfer_get",
        tags=["transfers"],
        responses={200: TransferSerializer, 404: PROBLEM},
    )
    def get(self, request: Request, transfer_id: int) -> Response:
        return Response(TransferSerializer(_transfer(transfer_id)).data)


class TransferShipApi(StaffApi):
    class TransferShipInputSerializer(serializers.Serializer[dict[str, Any]]):
        expected_arrival = serializers.DateTimeField(required=False, allow_null=True, default=None)

    @extend_schema(
        operation_id="transfer_ship",
        tags=["transfers"],
        request=TransferShipInputSerializer,
        responses={200: TransferSerializer, 409: PROBLEM},
    )
    def post(self, request: Request, transfer_id: int) -> Response:
        serializer = self.TransferShipInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer_ship(
            transfer_id=transfer_id,
            expected_arrival=serializer.validated_data["expected_arrival"],
            actor=f"staff:{request.user.get_username()}",
        )
        return Response(TransferSerializer(_transfer(transfer_id)).data)


class TransferReceiveApi(StaffApi):
    class TransferReceiveInputSerializer(serializers.Serializer[dict[str, Any]]):
        class TransferReceiveLineSerializer(serializers.Serializer[dict[str, Any]]):
            line_id = serializers.IntegerField()
            quantity_received = serializers.IntegerField(min_value=0, max_value=MAX_UNITS)
            note = serializers.CharField(
                required=False, allow_blank=True, default="", max_length=200
            )

        lines = TransferReceiveLineSerializer(many=True)

    @extend_schema(
        operation_id="transfer_receive",
        tags=["transfers"],
        request=TransferReceiveInputSerializer,
        responses={200: TransferSerializer, 409: PROBLEM, 422: PROBLEM},
    )
    def post(self, request: Request, transfer_id: int) -> Response:
        serializer = self.TransferReceiveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer_receive(
            transfer_id=transfer_id,
            lines=[ReceivedLine(**line) for line in serializer.validated_data["lines"]],
            actor=f"staff:{request.user.get_username()}",
        )
        return Response(TransferSerializer(_transfer(transfer_id)).data)
