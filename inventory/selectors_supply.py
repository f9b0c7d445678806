"""Supply reads: purchase orders (list, one), and incoming stock by date (future availability).

Incoming stock per (product, location) is the ``StockLevel.incoming`` counter; its dated
detail comes from the open lines of confirmed / partly received purchase orders (one part per
line: open units, of which preordered). Units the counter holds that no order line explains
(``stock_incoming_expect`` from a feed) form one more part at the level's
``incoming_expected_date``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import django_filters
from django.db.models import F, Prefetch, QuerySet

from inventory.models import (
    Location,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    Supplier,
)
from inventory.supply_statuses import INCOMING
from omnilog.core.errors import FieldError, NotFound, ValidationFailed

MAX_SKUS = 100


@dataclass(frozen=True)
class IncomingPart:
    """Units expected at one location on one date (``None``: no date known)."""

    product_id: int
    location_id: int
    expected_date: date | None
    quantity: int
    preordered: int
    purchase_order: str  # its number; "" for units no purchase order explains

    @property
    def available(self) -> int:
        """Units not yet sold to preorders."""
        return self.quantity - self.preordered


def incoming_parts(
    *, product_ids: Iterable[int], location_ids: Iterable[int]
) -> list[IncomingPart]:
    """Dated incoming parts for these products at these locations, by (product, location,
    date, order). Two queries: the levels with incoming units, their open order lines."""
    levels = list(
        StockLevel.objects.filter(
            product_id__in=list(product_ids), location_id__in=list(location_ids), incoming__gt=0
        ).values_list("product_id", "location_id", "incoming", "incoming_expected_date")
    )
    if not levels:
        return []
    return incoming_parts_for_levels(levels)


def incoming_parts_for_levels(
    levels: Sequence[tuple[int, int, int, date | None]],
) -> list[IncomingPart]:
    """``incoming_parts`` for levels already read as (product, location, incoming, date)
    rows with incoming units; one query (the open purchase order lines)."""
    pairs = {(product_id, location_id) for product_id, location_id, _, _ in levels}
    lines = (
        PurchaseOrderLine.objects.filter(
            product_id__in={product for product, _ in pairs},
            purchase_order__location_id__in={location for _, location in pairs},
            purchase_order__status__in=[str(status) for status in INCOMING],
            is_closed=False,
            quantity_confirmed__gt=F("quantity_received"),
        )
        .values_list(
            "product_id",
            "purchase_order__location_id",
            "expected_date",
            "quantity_confirmed",
            "quantity_received",
            "quantity_preordered",
            "purchase_order__number",
        )
        .order_by("expected_date", "purchase_order_id")
    )
    parts: dict[tuple[int, int], list[IncomingPart]] = defaultdict(list)
    for product_id, location_id, expected, confirmed, received, preordered, number in lines:
        if (product_id, location_id) in pairs:
            parts[(product_id, location_id)].append(
                IncomingPart(
                    product_id, location_id, expected, confirmed - received, preordered, number
                )
            )
    result: list[IncomingPart] = []
    for product_id, location_id, incoming, level_date in sorted(levels):
        own = parts.get((product_id, location_id), [])
        rest = incoming - sum(part.quantity for part in own)
        if rest > 0:
            own = [*own, IncomingPart(product_id, location_id, level_date, rest, 0, "")]
        result.extend(
            sorted(own, key=lambda p: (p.expected_date is None, p.expected_date, p.purchase_order))
        )
    return result


@dataclass(frozen=True)
class Arrival:
    expected_date: date | None
    location_code: str
    quantity: int
    preordered: int
    available: int
    purchase_order: str


@dataclass(frozen=True)
class ProductIncoming:
    sku: str
    name: str
    is_preorderable: bool
    incoming: int
    available_to_preorder: int
    arrivals: tuple[Arrival, ...]


def channel_incoming(*, channel_id: int, skus: Sequence[str]) -> list[ProductIncoming]:
    """Incoming units by date at the channel's active locations, per SKU (in request order;
    unknown SKUs are a ``NotFound`` listing them). Three queries: products, levels with
    their locations, open order lines."""
    wanted = list(dict.fromkeys(skus))
    products = {product.sku: product for product in Product.objects.filter(sku__in=wanted)}
    unknown = [sku for sku in wanted if sku not in products]
    if unknown:
        raise NotFound(
            f"Unknown SKU(s): {', '.join(unknown)}.",
            code="unknown_sku",
            details={"skus": unknown},
        )
    levels = list(
        StockLevel.objects.filter(
            product__in=products.values(),
            location__channels=channel_id,
            location__is_active=True,
            incoming__gt=0,
        ).values_list(
            "product_id", "location_id", "incoming", "incoming_expected_date", "location__code"
        )
    )
    codes = {row[1]: row[4] for row in levels}
    parts = incoming_parts_for_levels([row[:4] for row in levels]) if levels else []
    by_product: dict[int, list[IncomingPart]] = defaultdict(list)
    for part in parts:
        by_product[part.product_id].append(part)
    result = []
    for sku in wanted:
        product = products[sku]
        own = sorted(
            by_product.get(product.pk, []),
            key=lambda p: (p.expected_date is None, p.expected_date, codes[p.location_id]),
        )
        result.append(
            ProductIncoming(
                sku=sku,
                name=product.name,
                is_preorderable=product.is_backorderable or product.preorder_date is not None,
                incoming=sum(part.quantity for part in own),
                available_to_preorder=sum(part.available for part in own if part.purchase_order),
                arrivals=tuple(
                    Arrival(
                        expected_date=part.expected_date,
                        location_code=codes[part.location_id],
                        quantity=part.quantity,
                        preordered=part.preordered,
                        available=part.available,
                        purchase_order=part.purchase_order,
                    )
                    for part in own
                ),
            )
        )
    return result


class PurchaseOrderFilter(django_filters.FilterSet):  # type: ignore[misc]
    status = django_filters.MultipleChoiceFilter(choices=PurchaseOrder.Status.choices)
    supplier = django_filters.CharFilter(field_name="supplier__code")
    location = django_filters.CharFilter(field_name="location__code")
    expected_before = django_filters.DateFilter(
        field_name="lines__expected_date", lookup_expr="lte"
    )
    expected_after = django_filters.DateFilter(field_name="lines__expected_date", lookup_expr="gte")
    sku = django_filters.CharFilter(field_name="lines__product__sku")

    class Meta:
        model = PurchaseOrder
        fields = ["status"]


def purchase_order_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[PurchaseOrder]:
    """Purchase orders, filtered (``PurchaseOrderFilter``), with supplier, destination and
    lines (products) loaded in a fixed number of queries. Raises ``ValidationFailed``."""
    filterset = PurchaseOrderFilter(data=filters or {}, queryset=_purchase_orders())
    if not filterset.is_valid():
        raise ValidationFailed(
            "Some filters are not valid.",
            field_errors=[
                FieldError(name, str(message), "invalid")
                for name, messages in filterset.errors.items()
                for message in messages
            ],
        )
    orders: QuerySet[PurchaseOrder] = filterset.qs.distinct()
    return orders


def purchase_order_get(*, number: str) -> PurchaseOrder:
    order = _purchase_orders().filter(number=number).first()
    if order is None:
        raise NotFound(f"No purchase order {number}.", code="purchase_order_not_found")
    return order


def _purchase_orders() -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.select_related("supplier", "location").prefetch_related(
        Prefetch(
            "lines",
            queryset=PurchaseOrderLine.objects.select_related("product").order_by("line_number"),
        )
    )


def purchase_order_references(
    *, supplier_code: str, location_code: str, skus: Sequence[str]
) -> tuple[Supplier, Location, dict[str, Product]]:
    """Resolve the codes of a purchase order request; one ``ValidationFailed`` lists every
    unknown one (``supplier``, ``location``, ``lines.N.sku``)."""
    supplier = Supplier.objects.filter(code=supplier_code).first()
    location = Location.objects.filter(code=location_code).first()
    products = {product.sku: product for product in Product.objects.filter(sku__in=skus)}
    errors = [
        FieldError(f"lines.{index}.sku", f"Unknown SKU {sku!r}.", "unknown_sku")
        for index, sku in enumerate(skus)
        if sku not in products
    ]
    if location is None:
        errors.insert(0, FieldError("location", f"Unknown location {location_code!r}.", "unknown"))
    if supplier is None:
        errors.insert(0, FieldError("supplier", f"Unknown supplier {supplier_code!r}.", "unknown"))
    if errors or supplier is None or location is None:
        raise ValidationFailed("The purchase order is not valid.", field_errors=errors)
    return supplier, location, products


__all__ = [
    "MAX_SKUS",
    "Arrival",
    "IncomingPart",
    "ProductIncoming",
    "channel_incoming",
    "incoming_parts",
    "incoming_parts_for_levels",
    "purchase_order_get",
    "purchase_order_list",
    "purchase_order_references",
]
