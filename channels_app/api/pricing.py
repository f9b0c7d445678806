"""``POST /prices/quote``: the priced cart, with each promotion's effect, for a channel.

The view validates, calls ``channels_app.selectors.cart_price`` (the same engine order capture
uses), and renders. Category and tax class are not known to this app (products live in
``inventory``): clients pass them per line when promotions or tax depend on them; without them a
line has no category and the ``standard`` tax class. Order capture supplies them from the
product catalogue, so an order is always priced with catalogue values.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.api.auth import ChannelApi, channel_of
from channels_app.pricing import (
    AppliedPromotion,
    CartLine,
    DiscountShare,
    PricedCart,
    PricedLine,
    RejectedCoupon,
    TaxBreakdown,
)
from channels_app.selectors import cart_price

MAX_LINES = 500
MAX_COUPONS = 10
PROBLEM = OpenApiTypes.OBJECT


def _money(**kwargs: object) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)  # type: ignore[arg-type]


class QuoteLineInputSerializer(serializers.Serializer[dict[str, Any]]):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    category = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    tax_class = serializers.CharField(max_length=32, required=False, default="standard")


class QuoteInputSerializer(serializers.Serializer[dict[str, Any]]):
    lines = serializers.ListField(
        child=QuoteLineInputSerializer(), min_length=1, max_length=MAX_LINES
    )
    customer_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    coupon_codes = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        default=list,
        max_length=MAX_COUPONS,
    )
    at = serializers.DateTimeField(
        required=False, help_text="Price as at this moment (default: now), e.g. to preview a sale."
    )


class DiscountShareSerializer(serializers.Serializer[DiscountShare]):
    promotion_code = serializers.CharField()
    amount = _money()


class PricedLineSerializer(serializers.Serializer[PricedLine]):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    category = serializers.CharField()
    tax_class = serializers.CharField()
    price_list_code = serializers.CharField()
    unit_price = _money(help_text="List price of one unit, in the cart's price basis.")
    subtotal = _money()
    line_discounts = DiscountShareSerializer(many=True)
    cart_discounts = DiscountShareSerializer(
        many=True, help_text="This line's prorated share of each cart-level promotion."
    )
    discount_total = _money()
    total = _money(help_text="subtotal - discount_total, in the cart's price basis.")
    tax_rate = _money(help_text="Percent.")
    tax_amount = _money()
    total_excluding_tax = _money()
    total_including_tax = _money()


class AppliedPromotionSerializer(serializers.Serializer[AppliedPromotion]):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField(help_text="line or cart")
    amount = _money()
    line_indexes = serializers.ListField(child=serializers.IntegerField())
    coupon_code = serializers.CharField()


class RejectedCouponSerializer(serializers.Serializer[RejectedCoupon]):
    code = serializers.CharField()
    reason = serializers.CharField()


class TaxBreakdownSerializer(serializers.Serializer[TaxBreakdown]):
    tax_class = serializers.CharField()
    rate = _money()
    base = _money()
    amount = _money()


class PricedCartSerializer(serializers.Serializer[PricedCart]):
    class Meta:
        ref_name = "PricedCart"

    currency = serializers.CharField()
    prices_include_tax = serializers.BooleanField()
    lines = PricedLineSerializer(many=True)
    subtotal = _money()
    discounts = AppliedPromotionSerializer(many=True)
    discount_total = _money()
    total = _money()
    total_excluding_tax = _money()
    tax_total = _money()
    total_including_tax = _money()
    grand_total = _money()
    taxes = TaxBreakdownSerializer(many=True)
    applied_coupons = serializers.ListField(child=serializers.CharField())
    rejected_coupons = RejectedCouponSerializer(many=True)


class PriceQuoteApi(ChannelApi):
    """Price a cart for the authenticated channel (nothing is written)."""

    @extend_schema(
        operation_id="prices_quote",
        tags=["prices"],
        request=QuoteInputSerializer,
        responses={200: PricedCartSerializer, 401: PROBLEM, 422: PROBLEM, 400: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        serializer = QuoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        cart = cart_price(
            channel=channel_of(request),
            lines=[CartLine(**line) for line in data["lines"]],
            customer_id=data.get("customer_id"),
            coupon_codes=data["coupon_codes"],
            at=data.get("at"),
        )
        return Response(PricedCartSerializer(cart).data)
