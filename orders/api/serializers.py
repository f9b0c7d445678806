"""Order API shapes: small input serializers (what a client may write) and outputs.

Inputs carry no status, price (except a B2B/marketplace agreed price), total or allocation:
unknown fields are ignored, so a client cannot assign them (no mass assignment).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from orders.models import DeliveryMode, Order, OrderLine
from orders.services.capture import CAPTURE_PAYMENT_STATUSES
from orders.services.inputs import (
    AddressInput,
    CustomerInput,
    DeliveryGroupInput,
    DeliveryInput,
    LineInput,
    OrderInput,
)

MAX_DELIVERY_GROUPS = 20
MAX_COUPONS = 10


class BoundedListField(serializers.ListField):
    """A list whose length is checked before its items are (a huge list costs nothing)."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class AddressInputSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    postcode = serializers.CharField(max_length=16)
    city = serializers.CharField(max_length=100)
    country = serializers.CharField(min_length=2, max_length=2, required=False, default="FR")
    phone = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("latitude" in attrs) != ("longitude" in attrs):
            raise serializers.ValidationError(
                "Give both latitude and longitude, or neither.", code="coordinates_incomplete"
            )
        return attrs


class PickupSlotSerializer(serializers.Serializer[dict[str, Any]]):
    start = serializers.DateTimeField(help_text="A slot offered by POST /delivery-options.")
    end = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Optional: the offered slot's end."
    )


class DeliveryInputSerializer(serializers.Serializer[dict[str, Any]]):
    mode = serializers.ChoiceField(choices=DeliveryMode.choices)
    address = AddressInputSerializer(required=False)
    store = serializers.CharField(
        max_length=32, required=False, default="", help_text="Store code (click-and-collect)."
    )
    pickup_slot = PickupSlotSerializer(required=False)
    relay_point_id = serializers.CharField(max_length=64, required=False, default="")


class DeliveryGroupInputSerializer(DeliveryInputSerializer):
    key = serializers.CharField(max_length=32)


class LineInputSerializer(serializers.Serializer[dict[str, Any]]):
    sku = serializers.CharField(max_length=32)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    agreed_unit_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="B2B and marketplace channels: the net unit price agreed with the buyer.",
    )
    delivery_group = serializers.CharField(max_length=32, required=False, default="")


class CustomerInputSerializer(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField(max_length=254, required=False, default="", allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)
    loyalty_id = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    company_name = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )
    vat_number = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)


class OrderPlaceInputSerializer(serializers.Serializer[dict[str, Any]]):
    external_id = serializers.CharField(max_length=64, required=False, default="")
    customer = CustomerInputSerializer()
    payment_status = serializers.ChoiceField(
        choices=sorted(CAPTURE_PAYMENT_STATUSES), default="pending"
    )
    delivery = DeliveryInputSerializer()
    delivery_groups = BoundedListField(
        child=DeliveryGroupInputSerializer(),
        required=False,
        default=list,
        max_length=MAX_DELIVERY_GROUPS,
    )
    lines = BoundedListField(
        child=LineInputSerializer(), min_length=1, max_length=settings.ORDER_MAX_LINES
    )
    coupon_codes = BoundedListField(
        child=serializers.CharField(max_length=32),
        required=False,
        default=list,
        max_length=MAX_COUPONS,
    )
    billing_address = AddressInputSerializer(required=False)
    purchase_order_number = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    is_partial_delivery_allowed = serializers.BooleanField(required=False, default=True)

    def to_input(self) -> OrderInput:
        data = self.validated_data
        return OrderInput(
            external_id=data["external_id"],
            customer=CustomerInput(**data["customer"]),
            payment_status=data["payment_status"],
            delivery=_delivery(data["delivery"]),
            delivery_groups=tuple(
                DeliveryGroupInput(key=group["key"], delivery=_delivery(group))
                for group in data["delivery_groups"]
            ),
            lines=tuple(LineInput(**line) for line in data["lines"]),
            coupon_codes=tuple(data["coupon_codes"]),
            billing_address=_address(data.get("billing_address")),
            purchase_order_number=data["purchase_order_number"],
            is_partial_delivery_allowed=data["is_partial_delivery_allowed"],
        )


def _address(data: dict[str, Any] | None) -> AddressInput | None:
    return AddressInput(**data) if data else None


def _delivery(data: dict[str, Any]) -> DeliveryInput:
    slot = data.get("pickup_slot") or {}
    return DeliveryInput(
        mode=data["mode"],
        address=_address(data.get("address")),
        store_code=data["store"],
        pickup_slot_start=slot.get("start"),
        pickup_slot_end=slot.get("end"),
        relay_point_code=data["relay_point_id"],
    )


# ----------------------------------------------------------------------------------- outputs


class OrderLineOutputSerializer(serializers.ModelSerializer[OrderLine]):
    store = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "line_number",
            "sku",
            "name",
            "quantity",
            "quantity_allocated",
            "quantity_fulfilled",
            "quantity_cancelled",
            "quantity_returned",
            "unit_price",
            "agreed_unit_price",
            "discount_total",
            "tax_rate",
            "tax_amount",
            "total",
            "delivery_mode",
            "delivery_group",
            "store",
        ]
        read_only_fields = fields

    def get_store(self, line: OrderLine) -> str | None:
        return line.pickup_location.code if line.pickup_location else None


class OrderCustomerOutputSerializer(serializers.Serializer[Order]):
    """The order's own customer snapshot: what the channel gave when it placed this order.

    Never the matched ``Customer`` (its id or its other fields): it is one customer across
    channels, and a channel must learn nothing of it beyond what it sent itself.
    """

    email = serializers.CharField(source="customer_email")
    phone = serializers.CharField(source="customer_phone")
    first_name = serializers.CharField(source="customer_first_name")
    last_name = serializers.CharField(source="customer_last_name")
    company_name = serializers.CharField(source="customer_company_name")


class OrderOutputSerializer(serializers.ModelSerializer[Order]):
    customer = OrderCustomerOutputSerializer(source="*")
    lines = OrderLineOutputSerializer(many=True)
    delivery = serializers.SerializerMethodField()
    tracking_url = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "external_id",
            "status",
            "payment_status",
            "currency",
            "subtotal",
            "discount_total",
            "shipping_total",
            "tax_total",
            "grand_total",
            "coupon_codes",
            "delivery",
            "delivery_groups",
            "billing_address",
            "purchase_order_number",
            "is_partial_delivery_allowed",
            "promised_date",
            "placed_at",
            "customer",
            "lines",
            "tracking_url",
        ]
        read_only_fields = fields

    def get_delivery(self, order: Order) -> dict[str, Any]:
        return {
            "mode": order.delivery_mode,
            "store": order.pickup_location.code if order.pickup_location else None,
            "pickup_slot_start": (
                order.pickup_slot_start.isoformat() if order.pickup_slot_start else None
            ),
            "pickup_slot_end": order.pickup_slot_end.isoformat() if order.pickup_slot_end else None,
            "relay_point_id": order.relay_point_code,
            "address": order.shipping_address,
        }

    def get_tracking_url(self, order: Order) -> str:
        path = f"/track/{order.tracking_token}"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class TimelineEntrySerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    status = serializers.CharField()
    message = serializers.CharField()


class TrackingLineSerializer(serializers.Serializer[Any]):
    line_number = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    quantity_fulfilled = serializers.IntegerField()
    quantity_cancelled = serializers.IntegerField()
    delivery_mode = serializers.CharField()
    pickup_store = serializers.CharField()


class TrackingOutputSerializer(serializers.Serializer[Any]):
    order_id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    placed_at = serializers.DateTimeField()
    promised_date = serializers.DateField(allow_null=True)
    delivery_mode = serializers.CharField()
    delivery_mode_label = serializers.CharField()
    pickup_store = serializers.CharField()
    pickup_slot_start = serializers.DateTimeField(allow_null=True)
    pickup_slot_end = serializers.DateTimeField(allow_null=True)
    relay_point_code = serializers.CharField()
    currency = serializers.CharField()
    grand_total = serializers.CharField()
    lines = TrackingLineSerializer(many=True)
    timeline = TimelineEntrySerializer(many=True)
    shipments = serializers.ListField(child=serializers.DictField(), help_text="Coming later.")
    pickup_code = serializers.CharField(allow_null=True, help_text="Coming later.")
