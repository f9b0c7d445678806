"""A shop for the refund, exchange and claim tests (database), orders placed through the real
capture service (``order_place``).

Channels ``web`` (consumers, tax included) and ``pro`` (B2B: tax excluded), both selling from
warehouse ``wh-refunds``. Products: SHIRT-S and SHIRT-M (category ``shirts``, 19.99), BAG
(``bags``, 24.50), CAP (``caps``, 9.00); 20 % VAT. Promotions: ``shirts15`` (15 % off the
shirts, a line promotion) and the coupon ``SAVE5`` (5.00 off the cart).

The stacked example (see ``tests/returns/refunds/test_calculator.py``): 3 SHIRT-S + 1 BAG with
``SAVE5`` costs 47.59 (tax 7.93) + 22.88 (tax 3.81) = 70.47.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from channels_app.models import PriceList, PriceListItem, Promotion, SalesChannel, TaxRate
from inventory.models import StockLevel
from inventory.services import stock_receive
from orders.models import Order, OrderLine
from orders.services.capture import order_place
from orders.services.inputs import AddressInput, CustomerInput, DeliveryInput, LineInput, OrderInput
from tests.factories import LocationFactory, ProductFactory, SalesChannelFactory

PRICES = {"SHIRT-S": "19.99", "SHIRT-M": "19.99", "BAG": "24.50", "CAP": "9.00"}
CATEGORIES = {"SHIRT-S": "shirts", "SHIRT-M": "shirts", "BAG": "bags", "CAP": "caps"}
STOCK = {"SHIRT-S": 10, "SHIRT-M": 10, "BAG": 10, "CAP": 2}
ADDRESS = AddressInput(line1="1 rue de Rivoli", postcode="75001", city="Paris")


def shop() -> dict[str, Any]:
    web = SalesChannelFactory(code="web", name="Web")
    pro = SalesChannelFactory(code="pro", name="Pro", kind=SalesChannel.Kind.B2B)
    warehouse = LocationFactory(code="wh-refunds", channels=[web, pro])
    products = {
        sku: ProductFactory(sku=sku, name=sku.title(), category=CATEGORIES[sku]) for sku in PRICES
    }
    base = PriceList.objects.create(code="base", name="Base", currency="EUR")
    PriceListItem.objects.bulk_create(
        PriceListItem(price_list=base, sku=sku, unit_price=Decimal(price))
        for sku, price in PRICES.items()
    )
    TaxRate.objects.get_or_create(country="FR", tax_class="standard", defaults={"rate": 20})
    Promotion.objects.create(
        code="shirts15",
        name="Shirts -15%",
        kind=Promotion.Kind.PERCENT_OFF,
        target=Promotion.Target.PRODUCT,
        value=Decimal("15"),
        skus=["SHIRT-S", "SHIRT-M"],
        priority=1,
    )
    Promotion.objects.create(
        code="save5",
        name="5 off",
        kind=Promotion.Kind.AMOUNT_OFF,
        target=Promotion.Target.CART,
        value=Decimal("5.00"),
        coupon_code="SAVE5",
    )
    for sku, quantity in STOCK.items():
        stock_receive(product_id=products[sku].id, location_id=warehouse.id, quantity=quantity)
    return {"web": web, "pro": pro, "warehouse": warehouse, **products}


def place(
    channel: SalesChannel,
    lines: dict[str, int],
    *,
    coupons: tuple[str, ...] = (),
    email: str = "camille@example.com",
    company: str = "",
) -> Order:
    order = order_place(
        channel_id=channel.id,
        data=OrderInput(
            customer=CustomerInput(
                email=email, first_name="Camille", last_name="Martin", company_name=company
            ),
            lines=tuple(LineInput(sku=sku, quantity=quantity) for sku, quantity in lines.items()),
            delivery=DeliveryInput(mode="home_standard", address=ADDRESS),
            payment_status="captured",
            coupon_codes=coupons,
        ),
        actor="test",
    )
    return Order.objects.get(pk=order.pk)


def line_of(order: Order, sku: str) -> OrderLine:
    return OrderLine.objects.get(order=order, sku=sku)


def atp(product: Any, location: Any) -> int:
    level = StockLevel.objects.get(product=product, location=location)
    return level.on_hand - level.reserved - level.safety_stock
