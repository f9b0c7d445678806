"""Inputs and outputs of the returns API (small serializers, one per operation)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from inventory.models import Location
from returns.models import (
    Disposition,
    ItemCondition,
    Refund,
    ReturnLine,
    ReturnMode,
    ReturnReason,
    ReturnRequest,
)
from returns.services.requests import MAX_LINES, ReturnInput, ReturnLineInput

MAX_PHOTOS_ACCEPTED = 20  # the service enforces RETURNS_MAX_PHOTOS with a field error


class PolicyOutput(serializers.Serializer[Any]):
    window_days = serializers.IntegerField()
    is_returnable = serializers.BooleanField()
    restocking_fee_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    shipping_refund_rule = serializers.CharField()
    is_auto_approved = serializers.BooleanField()


class ReturnableLineOutput(serializers.Serializer[Any]):
    line_number = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity_delivered = serializers.IntegerField()
    quantity_in_returns = serializers.IntegerField()
    quantity_claimed = serializers.IntegerField()
    quantity_returnable = serializers.IntegerField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    return_deadline = serializers.DateTimeField(allow_null=True)
    is_returnable = serializers.BooleanField()
    refusal_code = serializers.CharField(
        help_text="Why no unit may come back: not_returnable, not_delivered, window_closed, "
        "nothing_left; empty when some may."
    )
    policy = PolicyOutput()


class ReturnableOutput(serializers.Serializer[Any]):
    order_number = serializers.CharField(source="order.number")
    lines = ReturnableLineOutput(many=True)
    reasons = serializers.SerializerMethodField()
    modes = serializers.SerializerMethodField()

    def get_reasons(self, returnable: Any) -> list[dict[str, str]]:
        return [{"code": code, "label": str(label)} for code, label in returnable.reasons]

    def get_modes(self, returnable: Any) -> list[str]:
        return list(ReturnMode.values)


class ReturnLineInputSerializer(serializers.Serializer[Any]):
    line_number = serializers.IntegerField(min_value=1, max_value=32767)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    reason_code = serializers.ChoiceField(choices=ReturnReason.choices)


class ReturnCreateInputSerializer(serializers.Serializer[Any]):
    order_number = serializers.CharField(max_length=20)
    lines = serializers.ListField(
        child=ReturnLineInputSerializer(), min_length=1, max_length=MAX_LINES
    )
    # A plain string checked by the service (422 ``mode``): "mode" names another enum already.
    mode = serializers.CharField(
        max_length=16, help_text=f"One of: {', '.join(ReturnMode.values)}."
    )
    location = serializers.CharField(
        max_length=32, required=False, help_text="Store or warehouse code it comes back to."
    )
    relay_point = serializers.CharField(
        max_length=64, required=False, default="", help_text="Relay point id (relay drop-off)."
    )
    pickup_address = serializers.DictField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        default=dict,
        help_text="Carrier pickup: line1, line2, postcode, city, country, name, phone.",
    )
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    photo_urls = serializers.ListField(
        child=serializers.CharField(max_length=500),
        required=False,
        default=list,
        max_length=MAX_PHOTOS_ACCEPTED,
    )

    def to_input(self, location_id: int | None) -> ReturnInput:
        data = self.validated_data
        return ReturnInput(
            lines=tuple(
                ReturnLineInput(line["line_number"], line["quantity"], line["reason_code"])
                for line in data["lines"]
            ),
            mode=data["mode"],
            location_id=location_id,
            relay_point_code=data["relay_point"],
            pickup_address=dict(data["pickup_address"]),
            note=data["note"],
            photo_urls=tuple(data["photo_urls"]),
        )


class ApproveLineSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Return line id.")
    quantity = serializers.IntegerField(min_value=0, max_value=100_000)


class ApproveInputSerializer(serializers.Serializer[Any]):
    lines = serializers.ListField(
        child=ApproveLineSerializer(),
        required=False,
        max_length=MAX_LINES,
        help_text="Default: every unit.",
    )


class ReasonInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class ReceiveLineSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Return line id.")
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class ReceiveInputSerializer(serializers.Serializer[Any]):
    location = serializers.CharField(max_length=32, help_text="Code of the receiving location.")
    lines = serializers.ListField(
        child=ReceiveLineSerializer(),
        required=False,
        max_length=MAX_LINES,
        help_text="Default: every approved unit not received yet.",
    )


class InspectLineSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Return line id.")
    condition = serializers.ChoiceField(choices=ItemCondition.choices)
    note = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class InspectInputSerializer(serializers.Serializer[Any]):
    lines = serializers.ListField(child=InspectLineSerializer(), min_length=1, max_length=MAX_LINES)


class DispositionLineSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Return line id.")
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    location = serializers.CharField(
        max_length=32, required=False, help_text="Target warehouse code (to_warehouse)."
    )


class DispositionInputSerializer(serializers.Serializer[Any]):
    lines = serializers.ListField(
        child=DispositionLineSerializer(),
        required=False,
        default=list,
        max_length=MAX_LINES,
        help_text="Overrides of the proposal; lines not listed follow it.",
    )


class ParcelInputSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(
        choices=[("dropped_off", "dropped_off"), ("in_transit", "in_transit")]
    )


class RefundConfirmationInputSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=[("confirmed", "confirmed"), ("failed", "failed")])
    external_reference = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True
    )
    failure_reason = serializers.CharField(
        max_length=300, required=False, default="", allow_blank=True
    )


class RefundOutput(serializers.ModelSerializer[Refund]):
    class Meta:
        model = Refund
        fields = (
            "reference",
            "amount",
            "tax_amount",
            "shipping_amount",
            "restocking_fee",
            "currency",
            "document",
            "status",
            "external_reference",
            "failure_reason",
            "breakdown",
            "requested_at",
            "confirmed_at",
            "failed_at",
        )
        read_only_fields = fields


class ReturnLineOutput(serializers.ModelSerializer[ReturnLine]):
    line_number = serializers.IntegerField(source="order_line.line_number")
    sku = serializers.CharField(source="order_line.sku")
    proposed_disposition = serializers.CharField(
        help_text="A disposition, empty before inspection."
    )
    disposition = serializers.CharField(help_text="A disposition, empty before it is applied.")
    proposed_location = serializers.SlugRelatedField[Location](slug_field="code", read_only=True)
    disposition_location = serializers.SlugRelatedField[Location](slug_field="code", read_only=True)

    class Meta:
        model = ReturnLine
        fields = (
            "id",
            "line_number",
            "sku",
            "quantity_requested",
            "quantity_approved",
            "quantity_received",
            "reason_code",
            "condition",
            "inspection_note",
            "proposed_disposition",
            "proposed_location",
            "proposal_reason",
            "disposition",
            "disposition_location",
            "refunded_amount",
        )
        read_only_fields = fields


class ReturnOutput(serializers.ModelSerializer[ReturnRequest]):
    order_number = serializers.CharField(source="order.number")
    mode = serializers.CharField(help_text=f"One of: {', '.join(ReturnMode.values)}.")
    location = serializers.SlugRelatedField[Location](slug_field="code", read_only=True)
    received_location = serializers.SlugRelatedField[Location](slug_field="code", read_only=True)
    has_label = serializers.SerializerMethodField()
    lines = ReturnLineOutput(many=True)
    refunds = RefundOutput(many=True)

    class Meta:
        model = ReturnRequest
        fields = (
            "number",
            "order_number",
            "status",
            "mode",
            "location",
            "received_location",
            "relay_point_code",
            "tracking_number",
            "has_label",
            "reason_note",
            "photo_urls",
            "refusal_reason",
            "created_at",
            "approved_at",
            "received_at",
            "inspected_at",
            "dispositioned_at",
            "closed_at",
            "version",
            "lines",
            "refunds",
        )
        read_only_fields = fields

    def get_has_label(self, rma: ReturnRequest) -> bool:
        return bool(rma.tracking_number)
