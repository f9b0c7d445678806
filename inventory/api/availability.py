"""Availability API for a channel's front ends: list pages, product pages, stores, arrivals.

Each view validates its query with a small input serializer, calls one selector scoped to the
authenticated channel, and renders with a small output serializer. Errors are problem details
(``omnilog.core.api.exception_handler``). A channel never sees the network total, only what
its policy publishes (``atp``) and its own locations.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.api.auth import ChannelApi, channel_of
from inventory.geocoding import GeoPoint, city_locate, postcode_locate
from inventory.models import Location
from inventory.selectors import (
    MAX_SKUS,
    AvailabilityStep,
    FutureAvailability,
    PendingStock,
    ProductAvailability,
    channel_availability,
    future_availability,
    product_location_availability,
    stores_nearby,
)
from omnilog.core.errors import FieldError, ValidationFailed

TAGS = ["availability"]
PROBLEM = OpenApiTypes.OBJECT  # every error is an RFC 9457 problem document


def _many(rows: Any) -> Any:
    """Rows for a ``many=True`` serializer (the stubs type the instance as one object)."""
    return rows


class LocationCursorPagination(CursorPagination):
    """Stable pages of a product's locations, by location code."""

    ordering = "code"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ChannelAvailabilityApi(ChannelApi):
    """``GET /availability?sku=A&sku=B``: channel ATP for up to 100 SKUs (list pages)."""

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        sku = serializers.ListField(
            child=serializers.CharField(max_length=32),
            min_length=1,
            max_length=MAX_SKUS,
            error_messages={"min_length": "Give at least one SKU."},
        )

    class OutputSerializer(serializers.Serializer[ProductAvailability]):
        class Meta:
            ref_name = "ProductAvailability"

        sku = serializers.CharField()
        name = serializers.CharField()
        atp = serializers.IntegerField(help_text="Units this channel may promise.")
        is_available = serializers.BooleanField()
        locations_in_stock = serializers.IntegerField()
        is_backorderable = serializers.BooleanField()
        preorder_date = serializers.DateField(allow_null=True)

    @extend_schema(
        operation_id="availability_list",
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "sku",
                OpenApiTypes.STR,
                many=True,
                required=True,
                explode=True,
                description=f"Repeat for each SKU (1 to {MAX_SKUS}); commas also separate.",
            )
        ],
        responses={
            200: inline_serializer(
                "ChannelAvailability",
                {
                    "channel": serializers.CharField(),
                    "results": OutputSerializer(many=True),
                    "unknown_skus": serializers.ListField(child=serializers.CharField()),
                },
            ),
            400: PROBLEM,
            401: PROBLEM,
        },
    )
    def get(self, request: Request) -> Response:
        skus = [part for value in request.query_params.getlist("sku") for part in value.split(",")]
        serializer = self.InputSerializer(data={"sku": [sku for sku in skus if sku.strip()]})
        serializer.is_valid(raise_exception=True)
        channel = channel_of(request)
        availability = channel_availability(
            channel_id=channel.id, skus=serializer.validated_data["sku"]
        )
        return Response(
            {
                "channel": channel.code,
                "results": self.OutputSerializer(_many(availability.products), many=True).data,
                "unknown_skus": list(availability.unknown_skus),
            }
        )


class LocationAvailabilitySerializer(serializers.Serializer[Location]):
    """A location and its ATP for one product."""

    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Location.Kind.choices)
    address_line = serializers.CharField()
    postcode = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    is_click_and_collect = serializers.BooleanField()
    is_ship_from_store = serializers.BooleanField()
    atp = serializers.IntegerField()
    is_available = serializers.SerializerMethodField()

    def get_is_available(self, location: Any) -> bool:
        return bool(location.atp > 0)


class ProductLocationsApi(ChannelApi):
    """``GET /availability/{sku}/locations``: ATP per location of the channel (product page)."""

    @extend_schema(
        operation_id="availability_locations",
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "kind", OpenApiTypes.STR, enum=Location.Kind.values, many=True, explode=True
            ),
            OpenApiParameter("in_stock", OpenApiTypes.BOOL),
            OpenApiParameter("is_click_and_collect", OpenApiTypes.BOOL),
            OpenApiParameter("is_ship_from_store", OpenApiTypes.BOOL),
            OpenApiParameter("city", OpenApiTypes.STR),
            OpenApiParameter("postcode", OpenApiTypes.STR),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={
            200: inline_serializer(
                "LocationAvailabilityPage",
                {
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": LocationAvailabilitySerializer(many=True),
                },
            ),
            400: PROBLEM,
            401: PROBLEM,
            404: PROBLEM,
        },
    )
    def get(self, request: Request, sku: str) -> Response:
        locations = product_location_availability(
            channel_id=channel_of(request).id, sku=sku, filters=request.query_params
        )
        paginator = LocationCursorPagination()
        page = paginator.paginate_queryset(locations, request, view=self)
        data = LocationAvailabilitySerializer(_many(page), many=True).data
        return paginator.get_paginated_response(data)


class StoresNearbyApi(ChannelApi):
    """``GET /availability/{sku}/nearby``: stores with stock around a point, nearest first."""

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        lat = serializers.FloatField(min_value=-90, max_value=90, required=False)
        lon = serializers.FloatField(min_value=-180, max_value=180, required=False)
        postcode = serializers.CharField(max_length=16, required=False)
        city = serializers.CharField(max_length=100, required=False)
        country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False)
        radius_km = serializers.FloatField(min_value=0.1, max_value=500, default=25)
        limit = serializers.IntegerField(min_value=1, max_value=50, default=10)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            has_lat, has_lon = "lat" in attrs, "lon" in attrs
            if has_lat != has_lon:
                missing = "lon" if has_lat else "lat"
                raise serializers.ValidationError(
                    {missing: "Give both lat and lon."}, code="required"
                )
            if not has_lat and not attrs.get("postcode") and not attrs.get("city"):
                raise serializers.ValidationError(
                    {"lat": "Give lat and lon, a postcode or a city."}, code="required"
                )
            return attrs

    class OutputSerializer(LocationAvailabilitySerializer):
        class Meta:
            ref_name = "NearbyStore"

        distance_km = serializers.SerializerMethodField()

        def get_distance_km(self, location: Any) -> float:
            return round(float(location.distance_km), 2)

    @extend_schema(
        operation_id="availability_nearby",
        tags=TAGS,
        parameters=[InputSerializer],
        responses={
            200: inline_serializer(
                "StoresNearby",
                {
                    "origin": inline_serializer(
                        "NearbyOrigin",
                        {
                            "latitude": serializers.FloatField(),
                            "longitude": serializers.FloatField(),
                            "precision": serializers.ChoiceField(
                                choices=["coordinates", "postcode", "city"]
                            ),
                        },
                    ),
                    "results": OutputSerializer(many=True),
                },
            ),
            400: PROBLEM,
            401: PROBLEM,
            404: PROBLEM,
        },
    )
    def get(self, request: Request, sku: str) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        query = serializer.validated_data
        channel = channel_of(request)
        origin = self._origin(query, country=query.get("country") or channel.country)
        stores = stores_nearby(
            channel_id=channel.id,
            sku=sku,
            latitude=origin.latitude,
            longitude=origin.longitude,
            radius_km=query["radius_km"],
            limit=query["limit"],
        )
        return Response(
            {
                "origin": {
                    "latitude": origin.latitude,
                    "longitude": origin.longitude,
                    "precision": origin.precision,
                },
                "results": self.OutputSerializer(_many(stores), many=True).data,
            }
        )

    @staticmethod
    def _origin(query: dict[str, Any], *, country: str) -> GeoPoint:
        if "lat" in query:
            return GeoPoint(query["lat"], query["lon"], "coordinates", "")
        if query.get("postcode"):
            point = postcode_locate(postcode=query["postcode"], country=country)
            field = "postcode"
        else:
            point = city_locate(city=query["city"], country=country)
            field = "city"
        if point is None:
            raise ValidationFailed(
                f"This {field} cannot be located; send lat and lon instead.",
                code="location_unknown",
                status=400,
                field_errors=[FieldError(field, f"Unknown {field}.", "unknown")],
            )
        return point


class PendingStockSerializer(serializers.Serializer[PendingStock]):
    location_code = serializers.CharField()
    location_name = serializers.CharField()
    location_kind = serializers.CharField()
    in_transit = serializers.IntegerField()
    incoming = serializers.IntegerField()
    incoming_expected_date = serializers.DateField(allow_null=True)


class AvailabilityStepSerializer(serializers.Serializer[AvailabilityStep]):
    date = serializers.DateField()
    quantity = serializers.IntegerField(help_text="Supplier units due that day.")
    atp = serializers.IntegerField(help_text="Channel ATP projected once they have arrived.")


class FutureAvailabilityApi(ChannelApi):
    """``GET /availability/{sku}/future``: units in transit and incoming, with their dates."""

    class OutputSerializer(serializers.Serializer[FutureAvailability]):
        class Meta:
            ref_name = "FutureAvailability"

        sku = serializers.CharField()
        atp = serializers.IntegerField(help_text="Channel ATP now.")
        in_transit = serializers.IntegerField(help_text="Units travelling between locations.")
        incoming = serializers.IntegerField(help_text="Units expected from suppliers.")
        pending = PendingStockSerializer(many=True)
        schedule = AvailabilityStepSerializer(many=True)

    @extend_schema(
        operation_id="availability_future",
        tags=TAGS,
        responses={200: OutputSerializer, 401: PROBLEM, 404: PROBLEM},
    )
    def get(self, request: Request, sku: str) -> Response:
        future = future_availability(channel_id=channel_of(request).id, sku=sku)
        return Response(self.OutputSerializer(future).data)
