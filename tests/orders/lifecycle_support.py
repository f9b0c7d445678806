"""Orders for the lifecycle tests, placed through the real capture service (``order_place``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from channels_app.models import PriceList, PriceListItem, SalesChannel, TaxRate
from inventory.models import Location, Product, Reservation, StockLevel, StockMovement
from inventory.services import stock_receive
from omnilog.core.models import OutboxEvent
from orders.models import Order, OrderEvent, OrderLine
from orders.services.capture import order_place
from orders.services.inputs import (
    AddressInput,
    CustomerInput,
    DeliveryInput,
    LineInput,
    OrderInput,
)
from tests.factories import LocationFactory, ProductFactory, SalesChannelFactory, StoreFactory

PRICES = {"SHIRT": "20.00", "SHOES": "50.00", "HAT": "10.00"}
ADDRESS = AddressInput(line1="1 rue de Rivoli", postcode="75001", city="Paris")


def shop() -> dict[str, Any]:
    """Channel ``web`` with one warehouse (the pool) and one click-and-collect store.

    Warehouse: 10 SHIRT, 5 SHOES, 3 HAT. Store: 4 SHIRT, 2 HAT. Prices tax included, 20 % VAT.
    """
    web = SalesChannelFactory(code="web", name="Web")
    other = SalesChannelFactory(code="market", name="Market", kind=SalesChannel.Kind.MARKETPLACE)
    warehouse = LocationFactory(code="wh-paris", channels=[web, other])
    store = StoreFactory(code="st-lyon", channels=[web])
    products = {sku: ProductFactory(sku=sku) for sku in PRICES}
    base = PriceList.objects.create(code="base", name="Base", currency="EUR")
    PriceListItem.objects.bulk_create(
        PriceListItem(price_list=base, sku=sku, unit_price=Decimal(price))
        for sku, price in PRICES.items()
    )
    TaxRate.objects.create(country="FR", tax_class="standard", rate=Decimal("20"))
    for sku, quantity in {"SHIRT": 10, "SHOES": 5, "HAT": 3}.items():
        stock_receive(product_id=products[sku].id, location_id=warehouse.id, quantity=quantity)
    for sku, quantity in {"SHIRT": 4, "HAT": 2}.items():
        stock_receive(product_id=products[sku].id, location_id=store.id, quantity=quantity)
    return {
        "web": web,
        "other": other,
        "warehouse": warehouse,
        "store": store,
        **{sku.lower(): product for sku, product in products.items()},
    }


def place(
    channel: SalesChannel,
    lines: dict[str, int],
    *,
    payment_status: str = "authorised",
    store: Location | None = None,
    email: str = "camille@example.com",
) -> Order:
    delivery = (
        DeliveryInput(mode="click_and_collect", store_code=store.code)
        if store is not None
        else DeliveryInput(mode="home_standard", address=ADDRESS)
    )
    order = order_place(
        channel_id=channel.id,
        data=OrderInput(
            customer=CustomerInput(email=email, first_name="Camille", last_name="Martin"),
            lines=tuple(LineInput(sku=sku, quantity=quantity) for sku, quantity in lines.items()),
            delivery=delivery,
            payment_status=payment_status,
        ),
        actor="test",
    )
    return Order.objects.get(pk=order.pk)


def line(order: Order, sku: str) -> OrderLine:
    return OrderLine.objects.get(order=order, sku=sku)


def active(order_line: OrderLine) -> list[tuple[str, int, str, str]]:
    """(location code, quantity, kind, scope) of the line's active reservations, by id."""
    return [
        (r.location.code, r.quantity, r.kind, r.scope)
        for r in Reservation.objects.filter(
            reference_type="order_line", reference_id=str(order_line.id), status="active"
        )
        .select_related("location")
        .order_by("id")
    ]


def reserved(product: Product, location: Location) -> int:
    return StockLevel.objects.get(product=product, location=location).reserved


def events(order: Order) -> list[tuple[str, str, str]]:
    return [
        (e.kind, e.from_status, e.to_status)
        for e in OrderEvent.objects.filter(order=order).order_by("id")
    ]


def topics(order: Order) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_type="order", aggregate_id=str(order.pk))
        .order_by("id")
        .values_list("topic", flat=True)
    )


def snapshot(order: Order) -> dict[str, Any]:
    """Everything a refused change must leave as it was."""
    return {
        "order": Order.objects.filter(pk=order.pk).values().get(),
        "lines": list(OrderLine.objects.filter(order=order).order_by("id").values()),
        "events": list(OrderEvent.objects.filter(order=order).order_by("id").values()),
        "reservations": list(Reservation.objects.order_by("id").values()),
        "levels": list(StockLevel.objects.order_by("id").values()),
        "movements": StockMovement.objects.count(),
        "outbox": OutboxEvent.objects.count(),
    }
