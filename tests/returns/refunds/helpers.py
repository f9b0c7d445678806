"""Builders for refund calculator inputs (pure, no database)."""

from __future__ import annotations

from decimal import Decimal

from channels_app.pricing import PricedCart
from returns.refunds import CustomerKind, PaidLine, PaidOrder


def D(value: str | int) -> Decimal:
    return Decimal(value)


def paid_order_of(
    cart: PricedCart, *, shipping_paid: str = "0.00", shipping_tax_rate: str = "20"
) -> PaidOrder:
    """What the order service stores, as the calculator reads it: line ``key`` = index + 1."""
    return PaidOrder(
        currency=cart.currency,
        prices_include_tax=cart.prices_include_tax,
        lines=tuple(
            PaidLine(
                key=index + 1,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_discount=sum((share.amount for share in line.line_discounts), D(0)),
                order_discount=sum((share.amount for share in line.cart_discounts), D(0)),
                tax_rate=line.tax_rate,
                tax_amount=line.tax_amount,
            )
            for index, line in enumerate(cart.lines)
        ),
        shipping_paid=D(shipping_paid),
        shipping_tax_rate=D(shipping_tax_rate),
        customer_kind=CustomerKind.CONSUMER if cart.prices_include_tax else CustomerKind.BUSINESS,
    )
