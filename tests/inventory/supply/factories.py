"""Supply factories and a small catalogue: a supplier, a warehouse, two supplied products."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import factory

from channels_app.models import SalesChannel
from inventory.models import Location, Product, PurchaseOrder, Supplier, SupplierProduct
from inventory.services.supply import (
    ConfirmLine,
    purchase_order_confirm,
    purchase_order_create,
    purchase_order_send,
)
from tests.factories import TypedFactory
from tests.inventory.typed_factories import make_channel, make_product, make_warehouse


class SupplierFactory(TypedFactory[Supplier]):
    class Meta:
        model = Supplier

    code = factory.Sequence(lambda n: f"sup-{n}")
    name = factory.LazyAttribute(lambda o: f"Supplier {o.code}")
    lead_time_days = 5
    currency = "EUR"


class SupplierProductFactory(TypedFactory[SupplierProduct]):
    class Meta:
        model = SupplierProduct

    supplier = factory.SubFactory(SupplierFactory)
    supplier_sku = factory.Sequence(lambda n: f"S-{n:05d}")
    pack_size = 1
    cost = Decimal("4.5000")


def make_supplier(**fields: Any) -> Supplier:
    return SupplierFactory(**fields)


def make_supplier_product(**fields: Any) -> SupplierProduct:
    return SupplierProductFactory(**fields)


@dataclass
class Supply:
    channel: SalesChannel
    supplier: Supplier
    warehouse: Location
    shirt: Product
    shoes: Product


def supply_setup(*, over_receipt_percent: int = 0, **product_fields: Any) -> Supply:
    channel = make_channel(code="web")
    supplier = make_supplier(code="acme", over_receipt_percent=over_receipt_percent)
    warehouse = make_warehouse(code="wh-lyon", channels=[channel])
    shirt = make_product(sku="SHIRT", ean="3000000000011", **product_fields)
    shoes = make_product(sku="SHOES", ean="3000000000028", **product_fields)
    make_supplier_product(supplier=supplier, product=shirt, supplier_sku="AC-SHIRT")
    make_supplier_product(supplier=supplier, product=shoes, supplier_sku="AC-SHOES", pack_size=2)
    return Supply(channel, supplier, warehouse, shirt, shoes)


def confirmed_order(
    supply: Supply,
    lines: list[tuple[Product, int, date | None]],
    *,
    confirm: tuple[ConfirmLine, ...] = (),
    location: Location | None = None,
) -> PurchaseOrder:
    """A purchase order created, sent and confirmed (as ordered unless ``confirm`` says)."""
    order = purchase_order_create(
        supplier=supply.supplier,
        location=location or supply.warehouse,
        lines=lines,
        actor="buyer",
    )
    purchase_order_send(purchase_order_id=order.pk, actor="buyer")
    return purchase_order_confirm(purchase_order_id=order.pk, actor="buyer", lines=confirm)
