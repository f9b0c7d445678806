"""Exchanges API: a return plus a replacement order reserved at once (``/returns/exchanges``).

``POST /returns/exchanges`` (channel key or staff) takes a return request's body plus
``replacement_lines``; it answers with the return, the replacement order and the settlement
(the difference the customer pays, or is owed once the goods are back). ``POST
/returns/{number}/exchange-complete`` (staff) settles an exchange whose goods were
dispositioned. Each view validates, calls one service, and renders.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from orders.models import Order, OrderLine
from returns.api.serializers import ReturnCreateInputSerializer, ReturnOutput
from returns.api.views import ERRORS, ReturnsApi, StaffReturnsApi, location_id_of, return_of
from returns.selectors import order_get_by_number, return_get
from returns.services.exchanges import (
    MAX_REPLACEMENT_LINES,
    exchange_complete,
    exchange_create,
    exchange_settlement,
)
from returns.services.replacements import ReplacementLineInput


class ReplacementLineInputSerializer(serializers.Serializer[Any]):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000)


class ExchangeCreateInputSerializer(ReturnCreateInputSerializer):
    replacement_lines = serializers.ListField(
        child=ReplacementLineInputSerializer(), min_length=1, max_length=MAX_REPLACEMENT_LINES
    )

    def replacement(self) -> list[ReplacementLineInput]:
        return [
            ReplacementLineInput(line["sku"], line["quantity"])
            for line in self.validated_data["replacement_lines"]
        ]


class ReplacementLineOutput(serializers.ModelSerializer[OrderLine]):
    class Meta:
        model = OrderLine
        fields = ("line_number", "sku", "name", "quantity", "unit_price", "total")
        read_only_fields = fields


class ReplacementOrderOutput(serializers.ModelSerializer[Order]):
    status = serializers.CharField()
    payment_status = serializers.CharField()
    lines = ReplacementLineOutput(many=True)

    class Meta:
        model = Order
        fields = ("number", "status", "payment_status", "currency", "grand_total", "lines")
        read_only_fields = fields


SettlementOutput = inline_serializer(
    "ExchangeSettlement",
    {
        "returned_value": serializers.DecimalField(max_digits=12, decimal_places=2),
        "replacement_total": serializers.DecimalField(max_digits=12, decimal_places=2),
        "difference": serializers.DecimalField(max_digits=12, decimal_places=2),
        "amount_due": serializers.DecimalField(max_digits=12, decimal_places=2),
        "refund_due": serializers.DecimalField(max_digits=12, decimal_places=2),
        "currency": serializers.CharField(),
    },
)
ExchangeOutput = inline_serializer(
    "Exchange",
    {
        "return": ReturnOutput(),
        "replacement_order": ReplacementOrderOutput(),
        "settlement": SettlementOutput,
    },
)


def _exchange(request: Request, rma: Any, status: int = 200) -> Response:
    replacement = Order.objects.prefetch_related("lines").get(pk=rma.exchange_order_id)
    return Response(
        {
            "return": ReturnOutput(rma, context={"request": request}).data,
            "replacement_order": ReplacementOrderOutput(replacement).data,
            "settlement": exchange_settlement(return_request=rma).as_json(),
        },
        status=status,
    )


class ExchangeCreateApi(ReturnsApi):
    @extend_schema(
        operation_id="exchange_create",
        tags=["returns"],
        request=ExchangeCreateInputSerializer,
        responses={201: ExchangeOutput, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        actor = self.actor(request)
        serializer = ExchangeCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = order_get_by_number(number=data["order_number"], channel_id=actor.channel_id)
        exchange = exchange_create(
            order_id=order.pk,
            data=serializer.to_input(location_id_of(data.get("location"))),
            replacement_lines=serializer.replacement(),
            actor=actor,
        )
        rma = return_get(number=exchange.return_request.number, channel_id=actor.channel_id)
        return _exchange(request, rma, status=201)


class ExchangeCompleteApi(StaffReturnsApi):
    @extend_schema(
        operation_id="exchange_complete",
        tags=["returns"],
        request=None,
        responses={200: ExchangeOutput, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        rma = return_of(self, request, number)
        exchange_complete(return_id=rma.pk, actor=self.actor(request))
        return _exchange(request, return_of(self, request, number))
