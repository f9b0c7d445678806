"""A shop for the refund, exchange and claim tests (database), orders placed through the real
capture service (``order_place``).

Channels ``web`` (consumers, tax included) and ``pro`` (B2B: tax excluded), both selling from
warehouse ``wh-refunds``; store ``st-refunds`` (no stock) takes returns. Products: SHIRT-S
and SHIRT-M (category ``shirts``, 19.99), BAG (``bags``, 24.50), CAP (``caps``, 9.00); 20 % VAT.
Promotions: ``shirts15`` (15 % off the shirts, a line promotion) and the coupon ``SAVE5`` (5.00
off the cart).

The stacked example (see ``tests/returns/refunds/test_calculator.py``): 3 SHIRT-S + 1 BAG with
``SAVE5`` costs 47.59 (tax 7.93) + 22.88 (tax 3.81) = 70.47.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from channels_app.models import PriceList, PriceListItem, Promotion, SalesChannel, TaxRate
from fulfillment.models import FulfillmentOrder, ProductBin, Shipment
from fulfillment.services.carrier_events import carrier_event_receive
from fulfillment.services.fulfillment_orders import fulfillment_order_accept
from fulfillment.services.lifecycle import fulfillment_order_ship
from fulfillment.services.packing import pack_close, pack_scan
from fulfillment.services.picking import pick_confirm_scan, picking_plan_location
from fulfillment.services.routing import order_route
from fulfillment.services.shipping import shipment_create
from inventory.models import StockLevel
from inventory.services import stock_receive
from orders.models import Order, OrderLine
from orders.services.capture import order_place
from orders.services.inputs import AddressInput, CustomerInput, DeliveryInput, LineInput, OrderInput
from tests.factories import LocationFactory, ProductFactory, SalesChannelFactory, StoreFactory
from tests.fulfillment.service_support import default_rule_sets
from tests.fulfillment.shipping_support import builtin_carrier, signed_event

PRICES = {"SHIRT-S": "19.99", "SHIRT-M": "19.99", "BAG": "24.50", "CAP": "9.00"}
CATEGORIES = {"SHIRT-S": "shirts", "SHIRT-M": "shirts", "BAG": "bags", "CAP": "caps"}
STOCK = {"SHIRT-S": 10, "SHIRT-M": 10, "BAG": 10, "CAP": 2}
EANS = {"SHIRT-S": "4000000000011", "SHIRT-M": "4000000000028", "BAG": "4000000000035"}
EANS["CAP"] = "4000000000042"
CARRIER = "omnilog-rates"
ADDRESS = AddressInput(line1="1 rue de Rivoli", postcode="75001", city="Paris")


def shop() -> dict[str, Any]:
    default_rule_sets()
    carrier = builtin_carrier()
    web = SalesChannelFactory(code="web", name="Web")
    pro = SalesChannelFactory(code="pro", name="Pro", kind=SalesChannel.Kind.B2B)
    warehouse = LocationFactory(
        code="wh-refunds",
        channels=[web, pro],
        address_line="10 rue de Paradis",
        postcode="75010",
        latitude=48.8760,
        longitude=2.3590,
    )
    store = StoreFactory(code="st-refunds", channels=[web])
    products = {
        sku: ProductFactory(
            sku=sku,
            ean=EANS[sku],
            name=sku.title(),
            category=CATEGORIES[sku],
            weight_grams=300,
            length_mm=300,
            width_mm=200,
            height_mm=50,
        )
        for sku in PRICES
    }
    for index, product in enumerate(products.values()):
        ProductBin.objects.create(location=warehouse, product=product, bin_location=f"A-0{index}")
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
    return {
        "web": web,
        "pro": pro,
        "warehouse": warehouse,
        "store": store,
        "carrier": carrier,
        **products,
    }


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


def shipped(order: Order, *, delivered: bool = True) -> Shipment:
    """Route, accept, pick, pack, label and ship every unit of ``order`` from the warehouse;
    the carrier then reports it in transit (and delivered), through its signed webhook."""
    order.refresh_from_db()
    morning = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    assert order_route(
        order_id=order.pk, expected_version=order.version, trigger="placed", now=morning
    )
    fo = FulfillmentOrder.objects.get(order=order)
    fulfillment_order_accept(fulfillment_order_id=fo.pk, actor="wh")
    (pick_list_id,) = picking_plan_location(location_id=fo.location_id).pick_list_ids
    lines = {line.sku: line.quantity for line in order.lines.all()}
    for sku, quantity in lines.items():
        pick_confirm_scan(pick_list_id=pick_list_id, ean=EANS[sku], quantity=quantity, actor="ana")
    for sku, quantity in lines.items():
        for _ in range(quantity):
            pack_scan(fulfillment_order_id=fo.pk, ean=EANS[sku], actor="leo")
    pack_close(fulfillment_order_id=fo.pk, weight_grams=1000, actor="leo")
    shipment = shipment_create(
        fulfillment_order_id=fo.pk, carrier_code=CARRIER, service="standard", actor="ana"
    )
    fulfillment_order_ship(fulfillment_order_id=fo.pk, actor="ana")
    carrier = shipment.carrier
    for index, status in enumerate(("in_transit", "delivered") if delivered else ("in_transit",)):
        headers, body = signed_event(
            carrier,
            event_id=f"evt-{shipment.tracking_number}-{index}",
            tracking_number=shipment.tracking_number,
            status=status,
            occurred_at=timezone.now().isoformat(),
        )
        carrier_event_receive(carrier_code=CARRIER, headers=headers, body=body)
    shipment.refresh_from_db()
    order.refresh_from_db()
    return shipment
