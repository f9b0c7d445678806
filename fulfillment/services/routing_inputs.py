"""Build the routing core's inputs from the database: the demand and the candidates.

Set-wise and bounded: one query for the candidate locations (with their groups and today's
fulfillment orders, for capacity, as subqueries), one for their stock levels of the demanded
products. The
units the order already holds at a location (its free reservations) count as available there,
so that routing never competes with the order itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, LocationGroup
from fulfillment.routing.types import (
    Candidate,
    DeliveryMode,
    Demand,
    DemandLine,
    GeoPoint,
    LocationKind,
)
from inventory.models import Location, Reservation, StockLevel
from orders.models import Order, OrderLine

# A location with ``daily_capacity = 0`` has no configured limit: routing treats it as this.
UNLIMITED_CAPACITY = 10_000
# Labour per unit picked, by location kind (store staff cost more per unit than a warehouse).
PICK_COST_PER_UNIT: dict[str, float] = {
    Location.Kind.WAREHOUSE: 0.4,
    Location.Kind.DARK_STORE: 0.6,
    Location.Kind.STORE: 1.2,
}


@dataclass(frozen=True)
class LineToRoute:
    """An order line's units still to place and the reservations that hold them now."""

    line: OrderLine
    quantity: int
    reservations: tuple[Reservation, ...]  # active, not bound to an open fulfillment order


def lines_to_route(
    lines: Iterable[OrderLine], free_reservations: Mapping[int, list[Reservation]]
) -> list[LineToRoute]:
    """Lines with open units not yet allocated (in open fulfillment orders), in id order."""
    result = []
    for line in sorted(lines, key=lambda item: item.pk):
        quantity = line.quantity_open - line.quantity_allocated
        if quantity > 0:
            result.append(LineToRoute(line, quantity, tuple(free_reservations.get(line.pk, ()))))
    return result


def excluded_pairs(*, order_id: int) -> dict[int, set[int]]:
    """Order line id -> locations that rejected it (or let it time out): not tried again."""
    rows = FulfillmentOrderLine.objects.filter(
        fulfillment_order__order_id=order_id, quantity_rejected__gt=0
    ).values_list("order_line_id", "fulfillment_order__location_id")
    excluded: dict[int, set[int]] = defaultdict(set)
    for line_id, location_id in rows:
        excluded[line_id].add(location_id)
    return excluded


def _destination(order: Order) -> GeoPoint | None:
    address = order.shipping_address or {}
    latitude, longitude = address.get("latitude"), address.get("longitude")
    if isinstance(latitude, int | float) and isinstance(longitude, int | float):
        return GeoPoint(float(latitude), float(longitude))
    location = order.pickup_location
    if location is not None and location.latitude is not None and location.longitude is not None:
        return GeoPoint(location.latitude, location.longitude)
    return None


def demand_build(
    *, order: Order, lines: list[LineToRoute], now: datetime, days_waiting: int = 0
) -> Demand:
    promise_by = None
    if order.promised_date is not None:
        promise_by = datetime.combine(
            order.promised_date, datetime.max.time(), tzinfo=now.tzinfo
        ).replace(microsecond=0)
    country = str((order.shipping_address or {}).get("country") or "FR").upper()
    return Demand(
        order_id=order.pk,
        channel=order.channel.code,
        delivery_mode=DeliveryMode(order.delivery_mode),
        lines=tuple(
            DemandLine(
                line_id=item.line.pk,
                product_id=item.line.product_id,
                quantity=item.quantity,
                weight_grams=item.line.product.weight_grams,
            )
            for item in lines
        ),
        placed_at=order.placed_at,
        country=country,
        destination=_destination(order),
        pickup_location_id=order.pickup_location_id,
        relay_carrier="",
        promise_by=promise_by,
        days_waiting=days_waiting,
    )


def candidates_build(
    *,
    order: Order,
    lines: list[LineToRoute],
    now: datetime,
    excluded: Mapping[int, set[int]] | None = None,
) -> tuple[Candidate, ...]:
    """The channel's active locations (and the pickup store) with stock of a demanded product.

    ``stock`` = ATP (safety stock deducted, never negative) + the units this order holds there;
    ``stock_with_safety`` adds the safety stock back. A line's ``excluded`` locations offer 0 of
    its product (the rejecting store is not asked again for that product).
    """
    product_ids = sorted({item.line.product_id for item in lines})
    held: dict[tuple[int, int], int] = defaultdict(int)
    for item in lines:
        for reservation in item.reservations:
            held[(reservation.location_id, reservation.product_id)] += reservation.quantity
    blocked = {
        (location_id, item.line.product_id)
        for item in lines
        for location_id in (excluded or {}).get(item.line.pk, ())
    }
    where = Q(channels=order.channel_id, is_active=True)
    if order.pickup_location_id is not None:
        where |= Q(pk=order.pickup_location_id)
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    taken_today = (
        FulfillmentOrder.objects.filter(location_id=OuterRef("pk"), created_at__gte=start_of_day)
        .exclude(status=FulfillmentOrder.Status.CANCELLED)
        .order_by()
        .values("location_id")
        .annotate(count=Count("id"))
        .values("count")
    )
    group_names = ArraySubquery(
        LocationGroup.locations.through.objects.filter(location_id=OuterRef("pk")).values(
            "locationgroup__name"
        )
    )
    stocked = StockLevel.objects.filter(location_id=OuterRef("pk"), product_id__in=product_ids)
    # One row per location: the dict drops the duplicates the channel join may yield.
    locations = {
        location.pk: location
        for location in Location.objects.filter(where)
        .filter(Exists(stocked) | Q(pk__in={location_id for location_id, _ in held}))
        .annotate(
            taken_today=Coalesce(Subquery(taken_today), Value(0), output_field=IntegerField()),
            group_names=group_names,
        )
    }
    if not locations:
        return ()
    free: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for level in StockLevel.objects.filter(
        location_id__in=list(locations), product_id__in=product_ids
    ).only(
        "location_id",
        "product_id",
        "on_hand",
        "reserved",
        "damaged",
        "quality_control",
        "safety_stock",
    ):
        unreserved = level.on_hand - level.reserved - level.damaged - level.quality_control
        free[level.location_id][level.product_id] = (
            max(0, unreserved - level.safety_stock),
            max(0, unreserved),
        )
    candidates = []
    for location_id in sorted(locations):
        location = locations[location_id]
        stock: dict[int, int] = {}
        with_safety: dict[int, int] = {}
        for product_id in product_ids:
            if (location_id, product_id) in blocked:
                stock[product_id] = with_safety[product_id] = 0
                continue
            atp, atp_with_safety = free[location_id].get(product_id, (0, 0))
            mine = held.get((location_id, product_id), 0)
            stock[product_id] = atp + mine
            with_safety[product_id] = atp_with_safety + mine
        capacity = location.daily_capacity or UNLIMITED_CAPACITY
        position = (
            GeoPoint(location.latitude, location.longitude)
            if location.latitude is not None and location.longitude is not None
            else None
        )
        candidates.append(
            Candidate(
                location_id=location_id,
                code=location.code,
                kind=LocationKind(location.kind),
                position=position,
                stock=stock,
                stock_with_safety=with_safety,
                ships_parcels=location.ships_parcels,
                is_ship_from_store=location.is_ship_from_store,
                is_click_and_collect=location.is_click_and_collect,
                groups=frozenset(location.group_names or ()),
                carriers=frozenset(),
                ready_at=now + timedelta(minutes=location.pick_minutes + location.pack_minutes),
                capacity_left=max(0, capacity - location.taken_today),
                daily_capacity=capacity,
                pick_cost_per_unit=PICK_COST_PER_UNIT.get(location.kind, 1.0),
                last_unit_threshold=order.channel.last_unit_threshold,
            )
        )
    return tuple(candidates)
