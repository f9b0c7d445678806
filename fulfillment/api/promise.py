"""``POST /api/v1/delivery-options``: every delivery option of a cart to a destination.

The view validates the body with a small input serializer, calls one selector
(``fulfillment.selectors_promise.delivery_options``) scoped to the key's channel, and renders
each option. Errors are problem details (field errors for a bad body, an unknown SKU, store or
relay point).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.api.auth import ChannelApi, channel_of
from fulfillment.promise import Availability, DeliveryOption
from fulfillment.selectors_promise import (
    DESTINATION_TYPES,
    MAX_LINES,
    PromiseDestination,
    PromiseLine,
    delivery_options,
)
from fulfillment.slots import PickupSlot

PROBLEM = OpenApiTypes.OBJECT


class LineSerializer(serializers.Serializer[dict[str, Any]]):
    sku = serializers.CharField(max_length=32)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class DestinationSerializer(serializers.Serializer[dict[str, Any]]):
    type = serializers.ChoiceField(choices=DESTINATION_TYPES)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, default="FR")
    postcode = serializers.CharField(max_length=16, required=False, default="")
    store = serializers.CharField(max_length=32, required=False, default="")
    carrier = serializers.CharField(max_length=32, required=False, default="")
    point_id = serializers.CharField(max_length=64, required=False, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        required = {
            "home": ("latitude", "longitude"),
            "store": ("store",),
            "relay_point": ("carrier", "point_id"),
        }[attrs["type"]]
        missing = {
            name: serializers.ErrorDetail("This field is required.", code="required")
            for name in required
            if attrs.get(name) in (None, "")
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class PickupSlotSerializer(serializers.Serializer[PickupSlot]):
    """A pickup slot of a click-and-collect store: book it with the order's
    ``delivery.pickup_slot.start``."""

    class Meta:
        ref_name = "PickupSlotOffer"

    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    capacity = serializers.IntegerField()
    remaining = serializers.IntegerField()


class DeliveryOptionsApi(ChannelApi):
    """Options for home (standard, express, same-day), a store (click-and-collect,
    ship-to-store) or a relay point: availability, price, promised date, cut-off countdown.
    For a click-and-collect store, ``pickup_slots`` lists its next slots with the places
    left (empty otherwise)."""

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        # DRF's ListSerializer takes max_length; the stubs do not know it.
        lines = LineSerializer(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]
        destination = DestinationSerializer()

    class OptionSerializer(serializers.Serializer[DeliveryOption]):
        class Meta:
            ref_name = "DeliveryOption"

        mode = serializers.CharField()
        availability = serializers.CharField()
        is_available = serializers.SerializerMethodField()
        reason = serializers.CharField(allow_null=True)
        detail = serializers.CharField()
        location = serializers.SerializerMethodField()
        carrier = serializers.CharField(source="carrier_code")
        service = serializers.CharField()
        price = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
        currency = serializers.CharField()
        earliest_delivery = serializers.DateTimeField(source="delivery_at", allow_null=True)
        ready_by = serializers.DateTimeField(allow_null=True)
        promised_at = serializers.DateTimeField(allow_null=True)
        promised_date = serializers.SerializerMethodField()
        dispatch_at = serializers.DateTimeField(allow_null=True)
        cutoff_at = serializers.DateTimeField(allow_null=True)
        cutoff_seconds = serializers.IntegerField(allow_null=True)

        def get_is_available(self, option: DeliveryOption) -> bool:
            return option.availability != Availability.UNAVAILABLE

        def get_location(self, option: DeliveryOption) -> str | None:
            if option.location_id is None:
                return None
            codes: dict[int, str] = self.context["location_codes"]
            return codes.get(option.location_id)

        def get_promised_date(self, option: DeliveryOption) -> str | None:
            promised = option.promised_at
            return promised.date().isoformat() if promised is not None else None

    @extend_schema(
        operation_id="delivery_options",
        tags=["promise"],
        request=inline_serializer(
            "DeliveryOptionsRequest",
            {
                "lines": LineSerializer(many=True),
                "destination": DestinationSerializer(),
            },
        ),
        responses={
            200: inline_serializer(
                "DeliveryOptions",
                {
                    "now": serializers.DateTimeField(),
                    "currency": serializers.CharField(),
                    "options": OptionSerializer(many=True),
                    "pickup_slots": PickupSlotSerializer(many=True),
                },
            ),
            400: PROBLEM,
            401: PROBLEM,
            422: PROBLEM,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        channel = channel_of(request)
        promise = delivery_options(
            channel_id=channel.id,
            lines=[PromiseLine(item["sku"], item["quantity"]) for item in data["lines"]],
            destination=PromiseDestination(**data["destination"]),
            currency=channel.currency,
        )
        options: Any = promise.options
        slots: Any = promise.pickup_slots
        return Response(
            {
                "now": promise.now.isoformat(),
                "currency": promise.currency,
                "options": self.OptionSerializer(
                    options, many=True, context={"location_codes": promise.location_codes}
                ).data,
                "pickup_slots": PickupSlotSerializer(slots, many=True).data,
            }
        )
