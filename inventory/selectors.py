"""Inventory reads: what a channel may promise, where, and when.

Every figure comes from the stock-level counters and the pure policy in
``inventory.availability``; nothing here writes. Location ATP is computed in SQL with the same
formula as ``StockFigures.atp`` (max(0, on hand - reserved - damaged - QC - safety stock)).
A channel sees only its own active locations (``Location.channels``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import (
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import (
    ASin,
    Coalesce,
    Cos,
    Greatest,
    Least,
    Power,
    Radians,
    Sin,
    Sqrt,
)
from django.utils.datastructures import MultiValueDict

from channels_app.models import SalesChannel
from inventory.availability import (
    BufferRule,
    ChannelPolicy,
    StockFigures,
    channel_atp,
    network_atp,
)
from inventory.filters import LocationAvailabilityFilter
from inventory.models import ChannelStockRule, Location, Product, StockLevel
from inventory.selectors_supply import incoming_parts_for_levels
from omnilog.core.errors import FieldError, NotFound, ValidationFailed

MAX_SKUS = 100
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


@dataclass(frozen=True)
class ProductAvailability:
    """One product as a channel may publish it."""

    product_id: int
    sku: str
    name: str
    network_atp: int  # sum of location ATPs over the channel's active locations
    atp: int  # channel ATP: after buffer, rationing and last-unit protection
    locations_in_stock: int
    is_backorderable: bool
    preorder_date: date | None

    @property
    def is_available(self) -> bool:
        return self.atp > 0


@dataclass(frozen=True)
class ChannelAvailability:
    """The answer for a list of SKUs: known products in request order, and the unknown SKUs."""

    products: tuple[ProductAvailability, ...]
    unknown_skus: tuple[str, ...]


@dataclass(frozen=True)
class PendingStock:
    """Units on their way to one location."""

    location_id: int
    location_code: str
    location_name: str
    location_kind: str
    in_transit: int
    incoming: int
    incoming_expected_date: date | None


@dataclass(frozen=True)
class AvailabilityStep:
    """On ``date`` the dated supplier units due that day arrive; ATPs as projected then."""

    date: date
    quantity: int
    network_atp: int
    atp: int


@dataclass(frozen=True)
class FutureAvailability:
    product_id: int
    sku: str
    atp: int
    in_transit: int
    incoming: int
    pending: tuple[PendingStock, ...]
    schedule: tuple[AvailabilityStep, ...]


def _location_atp(prefix: str = "") -> Greatest:
    """SQL for ``StockFigures.atp`` of the stock level reached through ``prefix``."""
    free = (
        F(f"{prefix}on_hand")
        - F(f"{prefix}reserved")
        - F(f"{prefix}damaged")
        - F(f"{prefix}quality_control")
        - F(f"{prefix}safety_stock")
    )
    return Greatest(Value(0), free, output_field=IntegerField())


def channel_policy_get(
    *, channel_id: int, product_ids: Collection[int] | None = None
) -> ChannelPolicy:
    """The channel's defaults with its product and category rules (two queries).

    ``product_ids`` limits the product rules loaded to those products (a list page does not
    need the rules of the whole catalogue); category rules are always loaded.
    """
    channel = (
        SalesChannel.objects.filter(pk=channel_id)
        .values("buffer_units", "buffer_percent", "rationing_percent", "last_unit_threshold")
        .first()
    )
    if channel is None:
        raise NotFound("This channel does not exist.", code="channel_not_found")
    rules = ChannelStockRule.objects.filter(channel_id=channel_id)
    if product_ids is not None:
        rules = rules.filter(Q(product__isnull=True) | Q(product_id__in=list(product_ids)))
    product_buffers: dict[int, BufferRule] = {}
    category_buffers: dict[str, BufferRule] = {}
    for product_id, category, units, percent in rules.values_list(
        "product_id", "category", "buffer_units", "buffer_percent"
    ):
        rule = BufferRule(units=units, percent=percent)
        if product_id is not None:
            product_buffers[product_id] = rule
        else:
            category_buffers[category] = rule
    return ChannelPolicy(
        default_buffer=BufferRule(units=channel["buffer_units"], percent=channel["buffer_percent"]),
        rationing_percent=channel["rationing_percent"],
        last_unit_threshold=channel["last_unit_threshold"],
        product_buffers=product_buffers,
        category_buffers=category_buffers,
    )


def _unique(skus: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for sku in skus:
        seen.setdefault(sku.strip(), None)
    seen.pop("", None)
    return list(seen)


def channel_availability(*, channel_id: int, skus: Sequence[str]) -> ChannelAvailability:
    """Channel ATP for up to ``MAX_SKUS`` SKUs: one aggregate query, then the pure policy.

    Three queries whatever the number of SKUs or locations: the aggregate over the channel's
    active locations, the channel, its rules. Inactive products count as unknown.
    """
    wanted = _unique(skus)
    if len(wanted) > MAX_SKUS:
        raise ValidationFailed(
            f"At most {MAX_SKUS} SKUs per call.",
            status=400,
            field_errors=[FieldError("sku", f"At most {MAX_SKUS} SKUs.", "max_length")],
        )
    in_channel = Q(
        stock_levels__location__channels=channel_id, stock_levels__location__is_active=True
    )
    has_atp = Q(
        stock_levels__on_hand__gt=F("stock_levels__reserved")
        + F("stock_levels__damaged")
        + F("stock_levels__quality_control")
        + F("stock_levels__safety_stock")
    )
    rows = (
        Product.objects.filter(sku__in=wanted, is_active=True)
        .annotate(
            network=Coalesce(Sum(_location_atp("stock_levels__"), filter=in_channel), 0),
            in_stock=Count("stock_levels", filter=in_channel & has_atp),
        )
        .values_list(
            "id",
            "sku",
            "name",
            "category",
            "is_backorderable",
            "preorder_date",
            "network",
            "in_stock",
        )
    )
    found = {row[1]: row for row in rows}
    policy = channel_policy_get(
        channel_id=channel_id, product_ids=[row[0] for row in found.values()]
    )
    products = []
    for sku in wanted:
        if sku not in found:
            continue
        product_id, _, name, category, backorderable, preorder, network, in_stock = found[sku]
        buffer = policy.buffer_for(product_id=product_id, category=category)
        products.append(
            ProductAvailability(
                product_id=product_id,
                sku=sku,
                name=name,
                network_atp=network,
                atp=channel_atp(network=network, buffer=buffer, policy=policy),
                locations_in_stock=in_stock,
                is_backorderable=backorderable,
                preorder_date=preorder,
            )
        )
    unknown = tuple(sku for sku in wanted if sku not in found)
    return ChannelAvailability(products=tuple(products), unknown_skus=unknown)


def product_get(*, sku: str) -> Product:
    """An active product by SKU, else ``NotFound`` (404)."""
    product = Product.objects.filter(sku=sku, is_active=True).first()
    if product is None:
        raise NotFound(f"No product with SKU {sku!r}.", code="product_not_found")
    return product


def _channel_locations_with_atp(*, channel_id: int, product_id: int) -> QuerySet[Location]:
    """The channel's active locations, each annotated with ``atp`` for one product."""
    level_atp = (
        StockLevel.objects.filter(product_id=product_id, location_id=OuterRef("pk"))
        .annotate(level_atp=_location_atp())
        .values("level_atp")[:1]
    )
    return Location.objects.filter(channels=channel_id, is_active=True).annotate(
        atp=Coalesce(Subquery(level_atp, output_field=IntegerField()), Value(0))
    )


def _multi(filters: Mapping[str, Any]) -> MultiValueDict[str, Any]:
    """Plain ``{"kind": "store"}`` or ``{"kind": ["store", ...]}`` as form data."""
    return MultiValueDict(
        {
            key: list(value) if isinstance(value, list | tuple) else [value]
            for key, value in filters.items()
        }
    )


def _filtered(
    filter_class: Any, filters: Mapping[str, Any] | None, queryset: QuerySet[Location]
) -> QuerySet[Location]:
    data = filters if isinstance(filters, MultiValueDict) else _multi(filters or {})
    filterset = filter_class(data, queryset=queryset)
    if not filterset.is_valid():
        errors = [
            FieldError(field, message, error.code or "invalid")
            for field, field_errors in filterset.errors.as_data().items()
            for error in field_errors
            for message in error.messages
        ]
        raise ValidationFailed("The filters are not valid.", status=400, field_errors=errors)
    result: QuerySet[Location] = filterset.qs
    return result


def product_location_availability(
    *, channel_id: int, sku: str, filters: Mapping[str, Any] | None = None
) -> QuerySet[Location]:
    """Per-location ATP of one product over the channel's active locations, by location code.

    Each row is a ``Location`` annotated with ``atp``; locations without a stock level have 0.
    ``filters`` are ``LocationAvailabilityFilter`` parameters (kind, in_stock, ...). Raises
    ``NotFound`` for an unknown SKU. One query for the product; the queryset is one more.
    """
    product = product_get(sku=sku)
    queryset = _channel_locations_with_atp(channel_id=channel_id, product_id=product.id)
    return _filtered(LocationAvailabilityFilter, filters, queryset).order_by("code")


def _haversine_km(latitude: float, longitude: float) -> CombinedExpression:
    """Great-circle distance in km from a point to each row's (latitude, longitude), in SQL."""
    lat1, lon1 = math.radians(latitude), math.radians(longitude)
    lat2, lon2 = Radians(F("latitude")), Radians(F("longitude"))
    half_chord = Power(Sin((lat2 - Value(lat1)) / Value(2.0)), 2) + Value(math.cos(lat1)) * Cos(
        lat2
    ) * Power(Sin((lon2 - Value(lon1)) / Value(2.0)), 2)
    # LEAST guards asin against rounding a hair above 1 for antipodal points.
    return Value(2 * EARTH_RADIUS_KM) * ASin(
        Sqrt(Least(Value(1.0), half_chord, output_field=FloatField()))
    )


def stores_nearby(
    *,
    channel_id: int,
    sku: str,
    latitude: float,
    longitude: float,
    radius_km: float,
    limit: int,
) -> list[Location]:
    """The channel's stores with ATP > 0 within ``radius_km``, nearest first (ties by code).

    Rows are ``Location`` annotated with ``atp`` and ``distance_km`` (haversine in SQL; no
    spatial index, so every channel store is measured: fine for thousands of stores).
    """
    product = product_get(sku=sku)
    queryset = (
        _channel_locations_with_atp(channel_id=channel_id, product_id=product.id)
        .filter(kind=Location.Kind.STORE, latitude__isnull=False, longitude__isnull=False)
        .annotate(distance_km=_haversine_km(latitude, longitude))
        .filter(**{"atp__gt": 0, "distance_km__lte": radius_km})
        .order_by("distance_km", "code")
    )
    return list(queryset[:limit])


def _project(
    levels: Sequence[StockLevel],
    arrivals: Mapping[int, int],
    policy: ChannelPolicy,
    product: Product,
) -> tuple[int, int]:
    figures = [
        StockFigures(
            on_hand=level.on_hand + arrivals.get(level.id, 0),
            reserved=level.reserved,
            damaged=level.damaged,
            quality_control=level.quality_control,
            safety_stock=level.safety_stock,
        )
        for level in levels
    ]
    network = network_atp(figures)
    buffer = policy.buffer_for(product_id=product.id, category=product.category)
    return network, channel_atp(network=network, buffer=buffer, policy=policy)


def future_availability(*, channel_id: int, sku: str) -> FutureAvailability:
    """What is on its way to the channel's locations, and the ATP on each supplier date.

    ``schedule`` has one step per dated supplier delivery: the units due that day and the
    network and channel ATP projected once every delivery up to that day has arrived
    (reservations as they stand now; units preordered arrive already sold). Supplier dates
    are per open purchase order line (``selectors_supply.incoming_parts_for_levels``).
    Units in transit between locations and supplier units without a date are listed in
    ``pending`` but not scheduled: transfers carry no arrival date at the inventory layer.
    Four queries: product, levels, channel, rules; a fifth when a level expects units.
    """
    product = product_get(sku=sku)
    levels = list(
        StockLevel.objects.filter(
            product_id=product.id, location__channels=channel_id, location__is_active=True
        )
        .select_related("location")
        .order_by("location__code")
    )
    policy = channel_policy_get(channel_id=channel_id, product_ids=[product.id])
    _, atp_now = _project(levels, {}, policy, product)
    pending = tuple(
        PendingStock(
            location_id=level.location_id,
            location_code=level.location.code,
            location_name=level.location.name,
            location_kind=level.location.kind,
            in_transit=level.in_transit,
            incoming=level.incoming,
            incoming_expected_date=level.incoming_expected_date if level.incoming else None,
        )
        for level in levels
        if level.in_transit or level.incoming
    )
    # Supplier units by date: one part per open purchase order line (preordered units arrive
    # already sold); one more query, only when a level expects units.

    parts = (
        incoming_parts_for_levels(
            [
                (level.product_id, level.location_id, level.incoming, level.incoming_expected_date)
                for level in levels
                if level.incoming
            ]
        )
        if any(level.incoming for level in levels)
        else []
    )
    level_of = {level.location_id: level.id for level in levels}
    schedule = []
    arrived: dict[int, int] = defaultdict(int)
    for day in sorted({part.expected_date for part in parts if part.expected_date}):
        due = [part for part in parts if part.expected_date == day]
        for part in due:
            arrived[level_of[part.location_id]] += part.available
        network, atp = _project(levels, arrived, policy, product)
        schedule.append(
            AvailabilityStep(
                date=day,
                quantity=sum(part.quantity for part in due),
                network_atp=network,
                atp=atp,
            )
        )
    return FutureAvailability(
        product_id=product.id,
        sku=product.sku,
        atp=atp_now,
        in_transit=sum(p.in_transit for p in pending),
        incoming=sum(p.incoming for p in pending),
        pending=pending,
        schedule=tuple(schedule),
    )
