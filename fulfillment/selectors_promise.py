"""Delivery promise reads: build the pure core's ``PromiseRequest`` from the database.

``delivery_options`` answers the API (a cart by SKU and a destination); ``order_promise`` the
capture hook (an order being placed). Both read, never write, and take a bounded number of
queries whatever the number of locations (tests/fulfillment/test_promise_api.py counts them):

1. the products of the cart (weights and sides for the parcel, unknown SKUs);
2. the channel's active locations that may serve the destination (ship parcels or ship from
   store; for a store destination, the store itself too);
3. their stock levels for the cart's products: ATP now, supplier units with their date;
4. units in transit towards them on shipped replenishment transfers with an expected arrival;
5. today's fulfillment orders per location (capacity left today), when one has a capacity;
6. the active carriers (or the relay point with its carrier).

Inputs the core gets and their limits:
- stock is per location ATP (the channel buffer is a publication policy on the channel total
  and does not apply to one location); in-transit units count only with a dated, shipped
  replenishment transfer (click-and-collect transfers carry units already sold); supplier
  units arrive at 00:00 of their date in the location's time zone: one part per open
  purchase order line less its preorders (``inventory.selectors_supply``, one more query
  when a level expects units), units no order explains at ``incoming_expected_date``;
- capacity: ``daily_capacity`` minus today's fulfillment orders (not rejected or cancelled)
  created since local midnight; later days take the full ``daily_capacity``; 0 means none;
- carriers: every active ``Carrier``'s adapter quotes one parcel per cart (weight: the sum of
  the products'; sides: the largest product's two longest sides, the shortest side stacked per
  unit, at least ``PROMISE_MIN_PARCEL_MM``); pickup cut-offs, delivery days and times come from
  ``settings.PROMISE_CARRIER_SCHEDULE`` (see ``carrier_schedule``), transit days from the
  quote (rate table, by zone) unless the schedule sets them;
- opening hours, closed days and time zone come from each ``Location``; relay points use the
  project's time zone (they have none of their own).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, F, IntegerField, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from fulfillment.carriers import Address
from fulfillment.models import FulfillmentOrder, RelayPoint, TransferLine, TransferOrder
from fulfillment.models_store import StorePolicy
from fulfillment.promise import (
    CartLine,
    DeliveryOption,
    Destination,
    HomeAddress,
    IncomingStock,
    PickupStore,
    PromiseRequest,
    Source,
    WeeklySchedule,
    promise_options,
)
from fulfillment.promise import RelayPoint as PromiseRelayPoint
from fulfillment.routing.geo import haversine_km
from fulfillment.routing.types import DeliveryMode, GeoPoint
from fulfillment.selectors_promise_carriers import (
    CartProduct,
    carrier_adapters,
    carrier_schedule,
    carrier_services,
    cart_parcel,
    cart_product,
)
from fulfillment.services.pickup_slots import SLOTS_LISTED, store_pickup_slots
from fulfillment.services.relay_points import relay_point_refusals
from fulfillment.slots import PickupSlot
from fulfillment.statuses import FulfillmentStatus
from inventory.geocoding import postcode_locate
from inventory.models import Location, Product, StockLevel
from inventory.selectors_supply import incoming_parts_for_levels
from omnilog.core.errors import FieldError, ValidationFailed

logger = logging.getLogger(__name__)

MAX_LINES = 100
DESTINATION_TYPES = ("home", "store", "relay_point")

PARCEL_MODES = (
    DeliveryMode.HOME_STANDARD,
    DeliveryMode.HOME_EXPRESS,
    DeliveryMode.SAME_DAY,
    DeliveryMode.RELAY_POINT,
    DeliveryMode.SHIP_TO_STORE,
)
HOME_PARCEL_MODES = PARCEL_MODES[:3]


@dataclass(frozen=True)
class PromiseLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class PromiseDestination:
    """Where the cart goes: ``home`` (coordinates and country, postcode optional), ``store``
    (a location code of the channel) or ``relay_point`` (carrier code and its point id)."""

    type: str
    latitude: float | None = None
    longitude: float | None = None
    country: str = "FR"
    postcode: str = ""
    store: str = ""
    carrier: str = ""
    point_id: str = ""


@dataclass(frozen=True)
class DeliveryPromise:
    """The core's options, with the codes of the locations they name."""

    now: datetime
    currency: str
    options: tuple[DeliveryOption, ...]
    location_codes: Mapping[int, str]
    store: Location | None = None
    # A click-and-collect store destination's pickup slots (``fulfillment.services.pickup_slots``).
    pickup_slots: tuple[PickupSlot, ...] = ()


# --- the cart -------------------------------------------------------------------------------


def _cart_from_skus(lines: Sequence[PromiseLine]) -> list[CartProduct]:
    """One query; every unknown or inactive SKU and bad quantity becomes a field error."""
    errors: list[FieldError] = []
    if not lines:
        errors.append(FieldError("lines", "At least one line is required.", "required"))
    elif len(lines) > MAX_LINES:
        errors.append(FieldError("lines", f"At most {MAX_LINES} lines.", "max_length"))
    if errors:
        raise ValidationFailed("The cart is not valid.", field_errors=errors)
    products = {
        product.sku: product
        for product in Product.objects.filter(sku__in={line.sku for line in lines}).only(
            "id", "sku", "is_active", "weight_grams", "length_mm", "width_mm", "height_mm"
        )
    }
    cart = []
    for index, line in enumerate(lines):
        product = products.get(line.sku)
        if line.quantity <= 0:
            errors.append(FieldError(f"lines.{index}.quantity", "Must be positive.", "min_value"))
        if product is None:
            errors.append(FieldError(f"lines.{index}.sku", "Unknown SKU.", "unknown_sku"))
        elif not product.is_active:
            errors.append(FieldError(f"lines.{index}.sku", "The product is not sold.", "inactive"))
        else:
            cart.append(cart_product(product, line.quantity))
    if errors:
        raise ValidationFailed("The cart is not valid.", field_errors=errors)
    return cart


# --- public entry points ----------------------------------------------------------------------


def delivery_options(
    *,
    channel_id: int,
    lines: Sequence[PromiseLine],
    destination: PromiseDestination,
    currency: str = "EUR",
    now: datetime | None = None,
) -> DeliveryPromise:
    """Every delivery option of the cart to ``destination`` for channel ``channel_id``.

    Raises ``ValidationFailed`` (422) with field errors for unknown SKUs (``lines.N.sku``), an
    unknown store (``destination.store``) or relay point (``destination.point_id``), missing
    coordinates. Read-only; a bounded number of queries (module docstring).
    """
    moment = now or timezone.now()
    cart = _cart_from_skus(lines)
    target = _destination_check(destination)
    promise = _promise(channel_id, cart, target, currency, moment)
    if promise.store is not None and promise.store.is_click_and_collect:
        # Three more queries: the store's policy and the bookings of its slots.
        slots = store_pickup_slots(
            location=promise.store,
            policy=StorePolicy.objects.filter(location=promise.store).first(),
            now=moment,
            limit=SLOTS_LISTED,
        )
        promise = replace(promise, pickup_slots=slots)
    return promise


def order_promise(order: Any, lines: Sequence[Any]) -> datetime | None:
    """The capture hook (``orders.hooks``): when ``order`` is promised for its delivery mode
    (home delivery: the end of the delivery day; pickup: ready-by), from its ``lines`` with
    the order's own delivery group; None when no option is available or the destination is
    incomplete. Called before the order's stock is reserved (its units still count)."""
    mine = [line for line in lines if line.delivery_group == "" and line.quantity > 0]
    if not mine:
        return None
    # Capture loaded the products with their weights and sides: no query here.
    cart = [cart_product(line.product, line.quantity) for line in mine]
    target = _order_destination(order)
    if target is None:
        return None
    promise = _promise(order.channel_id, cart, target, order.currency, timezone.now())
    option = next((o for o in promise.options if o.mode == order.delivery_mode), None)
    return option.promised_at if option is not None else None


# --- destinations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    kind: str
    home: HomeAddress | None = None
    store_code: str = ""
    store_id: int | None = None
    relay: RelayPoint | None = None


def _destination_check(destination: PromiseDestination) -> _Target:
    if destination.type == "home":
        errors = [
            FieldError(f"destination.{name}", "Required for home delivery.", "required")
            for name in ("latitude", "longitude")
            if getattr(destination, name) is None
        ]
        if errors:
            raise ValidationFailed("The destination is not valid.", field_errors=errors)
        assert destination.latitude is not None
        assert destination.longitude is not None
        return _Target(
            "home",
            home=HomeAddress(
                country=destination.country.upper(),
                postcode=destination.postcode,
                position=GeoPoint(destination.latitude, destination.longitude),
                timezone=settings.TIME_ZONE,
            ),
        )
    if destination.type == "store":
        if not destination.store:
            raise ValidationFailed(
                "The destination is not valid.",
                field_errors=[FieldError("destination.store", "A store is required.", "required")],
            )
        return _Target("store", store_code=destination.store)
    if destination.type == "relay_point":
        errors = [
            FieldError(f"destination.{name}", "Required for a relay point.", "required")
            for name in ("carrier", "point_id")
            if not getattr(destination, name)
        ]
        if errors:
            raise ValidationFailed("The destination is not valid.", field_errors=errors)
        relay = (
            RelayPoint.objects.select_related("carrier")
            .filter(
                carrier__code=destination.carrier,
                carrier__is_active=True,
                point_id=destination.point_id,
                is_active=True,
            )
            .first()
        )
        if relay is None:
            raise ValidationFailed(
                "The destination is not valid.",
                field_errors=[
                    FieldError("destination.point_id", "Unknown relay point.", "unknown_relay")
                ],
            )
        return _Target("relay_point", relay=relay)
    raise ValidationFailed(
        "The destination is not valid.",
        field_errors=[
            FieldError("destination.type", f"One of: {', '.join(DESTINATION_TYPES)}.", "invalid")
        ],
    )


def _order_destination(order: Any) -> _Target | None:
    mode = order.delivery_mode
    if mode in (DeliveryMode.CLICK_AND_COLLECT, DeliveryMode.SHIP_TO_STORE):
        if order.pickup_location_id is None:
            return None
        return _Target("store", store_id=order.pickup_location_id)
    if mode == DeliveryMode.RELAY_POINT:
        relay = (
            RelayPoint.objects.select_related("carrier")
            .filter(point_id=order.relay_point_code, is_active=True, carrier__is_active=True)
            .order_by("carrier__code")
            .first()
        )
        return _Target("relay_point", relay=relay) if relay is not None else None
    address = order.shipping_address or {}
    country = str(address.get("country") or "FR").upper()
    postcode = str(address.get("postcode") or "")
    position = postcode_locate(postcode=postcode, country=country) if postcode else None
    return _Target(
        "home",
        home=HomeAddress(
            country=country,
            postcode=postcode,
            position=GeoPoint(position.latitude, position.longitude) if position else None,
            timezone=settings.TIME_ZONE,
        ),
    )


# --- sources --------------------------------------------------------------------------------


def _location_atp() -> Greatest:
    """``StockFigures.atp`` in SQL (as ``inventory.selectors``): never below 0."""
    free = F("on_hand") - F("reserved") - F("damaged") - F("quality_control") - F("safety_stock")
    return Greatest(Value(0), free, output_field=IntegerField())


def _schedule(location: Location) -> WeeklySchedule | None:
    try:
        return WeeklySchedule.from_json(
            location.opening_hours or {}, location.closed_days or [], location.timezone
        )
    except (ValueError, TypeError, KeyError, IndexError):
        logger.warning("location %s has malformed opening hours; not promised", location.code)
        return None


def _position(latitude: float | None, longitude: float | None) -> GeoPoint | None:
    return GeoPoint(latitude, longitude) if latitude is not None and longitude is not None else None


def _capacity_used_today(locations: Sequence[Location], now: datetime) -> dict[int, int]:
    """Fulfillment orders taken today (local midnight onwards, each location's time zone) at
    the locations with a daily capacity: one grouped query (none when no capacity is set)."""
    limited = [location for location in locations if location.daily_capacity > 0]
    if not limited:
        return {}
    by_zone: dict[str, list[int]] = defaultdict(list)
    for location in limited:
        by_zone[location.timezone].append(location.pk)
    since = Q()
    for zone, ids in sorted(by_zone.items()):
        midnight = WeeklySchedule(timezone=zone).at(
            WeeklySchedule(timezone=zone).local_date(now), time(0, 0)
        )
        since |= Q(location_id__in=ids, created_at__gte=midnight)
    rows = (
        FulfillmentOrder.objects.filter(since)
        .exclude(status__in=[FulfillmentStatus.REJECTED, FulfillmentStatus.CANCELLED])
        .values("location_id")
        .annotate(taken=Count("id"))
        .values_list("location_id", "taken")
    )
    return dict(rows)


def _promise(
    channel_id: int, cart: Sequence[CartProduct], target: _Target, currency: str, now: datetime
) -> DeliveryPromise:
    store_filter = Q()
    if target.store_code:
        store_filter = Q(code=target.store_code)
    elif target.store_id is not None:
        store_filter = Q(pk=target.store_id)
    locations = list(
        Location.objects.filter(channels=channel_id, is_active=True)
        .filter(Q(ships_parcels=True) | Q(is_ship_from_store=True) | store_filter)
        .distinct()
        .order_by("pk")
    )
    store = None
    if target.kind == "store":
        store = next(
            (
                location
                for location in locations
                if location.code == target.store_code or location.pk == target.store_id
            ),
            None,
        )
        if store is None:
            raise ValidationFailed(
                "The destination is not valid.",
                field_errors=[FieldError("destination.store", "Unknown store.", "unknown_store")],
            )
    destination = _core_destination(target, store)
    product_ids = sorted({item.product_id for item in cart})
    location_ids = [location.pk for location in locations]
    stock: dict[int, dict[int, int]] = defaultdict(dict)
    incoming: dict[int, list[IncomingStock]] = defaultdict(list)
    zones = {location.pk: WeeklySchedule(timezone=location.timezone) for location in locations}
    in_transit = False
    dated: list[tuple[int, int, int, date | None]] = []
    for location_id, product_id, free, units, expected, travelling in (
        StockLevel.objects.filter(location_id__in=location_ids, product_id__in=product_ids)
        .annotate(free_units=_location_atp())
        .values_list(
            "location_id",
            "product_id",
            "free_units",
            "incoming",
            "incoming_expected_date",
            "in_transit",
        )
    ):
        stock[location_id][product_id] = free
        in_transit = in_transit or travelling > 0
        if units > 0:
            dated.append((product_id, location_id, units, expected))
    # Supplier units by date: one part per open purchase order line, less what preorders took
    # (one query, only when a level expects units).
    for part in incoming_parts_for_levels(dated) if dated else ():
        if part.expected_date is not None and part.available > 0:
            arrives = zones[part.location_id].at(part.expected_date, time(0, 0))
            incoming[part.location_id].append(
                IncomingStock(part.product_id, part.available, arrives)
            )
    # Dated transfers only when a counter says units are travelling (one query, or none).
    if in_transit:
        for location_id, product_id, quantity, expected_arrival in TransferLine.objects.filter(
            transfer__status=TransferOrder.Status.SHIPPED,
            transfer__reason=TransferOrder.Reason.REPLENISHMENT,
            transfer__expected_arrival__isnull=False,
            transfer__to_location_id__in=location_ids,
            product_id__in=product_ids,
        ).values_list(
            "transfer__to_location_id", "product_id", "quantity", "transfer__expected_arrival"
        ):
            if expected_arrival is not None:  # filtered in SQL; for the type checker
                incoming[location_id].append(IncomingStock(product_id, quantity, expected_arrival))
    used = _capacity_used_today(locations, now)
    parcel = cart_parcel(cart)
    adapters = carrier_adapters(target.relay.carrier if target.relay is not None else None)
    modes, leg = _leg(target, store)
    relay_refusal = (
        "; ".join(relay_point_refusals(target.relay, parcel)) if target.relay is not None else ""
    )
    schedule = carrier_schedule()
    sources = []
    demand = {item.product_id: 0 for item in cart}
    for item in cart:
        demand[item.product_id] += item.quantity
    candidates = _candidates(locations, store, demand, stock, incoming, _anchor(target, store))
    for location in candidates:
        working = _schedule(location)
        if working is None:
            continue
        ships = location.ships_parcels or location.is_ship_from_store
        capacity = location.daily_capacity or None
        sources.append(
            Source(
                location_id=location.pk,
                code=location.code,
                schedule=working,
                stock=stock.get(location.pk, {}),
                incoming=tuple(
                    sorted(incoming.get(location.pk, ()), key=lambda i: (i.arrives_at, i.quantity))
                ),
                pick_minutes=location.pick_minutes,
                pack_minutes=location.pack_minutes,
                capacity_today=(
                    max(0, capacity - used.get(location.pk, 0)) if capacity is not None else None
                ),
                daily_capacity=capacity,
                carrier_services=(
                    carrier_services(
                        location=location,
                        modes=modes,
                        destination=leg,
                        parcel=parcel,
                        adapters=adapters,
                        schedule=schedule,
                        refusal=relay_refusal,
                    )
                    if ships and location != store
                    else ()
                ),
                ships_parcels=ships,
                is_click_and_collect=location.is_click_and_collect,
                position=_position(location.latitude, location.longitude),
                country=location.country,
            )
        )
    request = PromiseRequest(
        now=now,
        lines=tuple(CartLine(item.product_id, item.quantity) for item in cart),
        sources=tuple(sources),
        destination=destination,
        currency=currency,
        click_and_collect_price=Decimal(str(settings.PROMISE_CLICK_AND_COLLECT_PRICE)),
    )
    return DeliveryPromise(
        now=now,
        currency=currency,
        options=promise_options(request),
        location_codes={location.pk: location.code for location in locations},
        store=store,
    )


def _anchor(target: _Target, store: Location | None) -> GeoPoint | None:
    """Where the cart goes, to rank sources by distance."""
    if target.home is not None:
        return target.home.position
    if store is not None:
        return _position(store.latitude, store.longitude)
    assert target.relay is not None
    return _position(target.relay.latitude, target.relay.longitude)


def _candidates(
    locations: Sequence[Location],
    store: Location | None,
    demand: Mapping[int, int],
    stock: Mapping[int, Mapping[int, int]],
    incoming: Mapping[int, Sequence[IncomingStock]],
    anchor: GeoPoint | None,
) -> list[Location]:
    """The sources the core times: the pickup store, then at most ``PROMISE_MAX_SOURCES``
    others: those holding every unit now, then those that need arrivals, then (so that the
    answer says out of stock) the others; nearest first, ties by id. A far source rarely beats
    a near one (zone, transit, price), and timing every location of a large network would cost
    more than the answer is worth."""

    def holds(location: Location, with_arrivals: bool) -> bool:
        for product_id, quantity in demand.items():
            have = stock.get(location.pk, {}).get(product_id, 0)
            if with_arrivals:
                have += sum(
                    i.quantity for i in incoming.get(location.pk, ()) if i.product_id == product_id
                )
            if have < quantity:
                return False
        return True

    def distance(location: Location) -> float:
        position = _position(location.latitude, location.longitude)
        if anchor is None or position is None:
            return float("inf")
        return haversine_km(anchor, position)

    def rank(location: Location) -> int:
        return 0 if holds(location, False) else 1 if holds(location, True) else 2

    ranked = sorted(
        (
            (rank(location), distance(location), location.pk, location)
            for location in locations
            if location != store
        ),
        key=lambda row: row[:3],
    )
    chosen = [row[3] for row in ranked[: int(settings.PROMISE_MAX_SOURCES)]]
    return ([store] if store is not None else []) + chosen


def _core_destination(target: _Target, store: Location | None) -> Destination:
    if target.home is not None:
        return target.home
    if store is not None:
        return PickupStore(
            location_id=store.pk,
            schedule=_schedule(store) or WeeklySchedule(timezone=store.timezone),
            is_click_and_collect=store.is_click_and_collect,
            receive_minutes=int(settings.PROMISE_STORE_RECEIVE_MINUTES),
            position=_position(store.latitude, store.longitude),
            country=store.country,
        )
    relay = target.relay
    assert relay is not None
    return PromiseRelayPoint(
        relay_id=relay.point_id,
        carrier_code=relay.carrier.code,
        schedule=WeeklySchedule.from_json(relay.opening_hours or {}, (), settings.TIME_ZONE),
        position=_position(relay.latitude, relay.longitude),
        country=relay.country,
    )


def _leg(target: _Target, store: Location | None) -> tuple[tuple[DeliveryMode, ...], Address]:
    """The parcel modes the destination takes and its address (quotes price to it)."""
    if target.home is not None:
        home = target.home
        return HOME_PARCEL_MODES, Address(
            country=home.country,
            postcode=home.postcode,
            latitude=home.position.latitude if home.position else None,
            longitude=home.position.longitude if home.position else None,
        )
    place: Location | RelayPoint | None = store if store is not None else target.relay
    assert place is not None
    modes = (DeliveryMode.SHIP_TO_STORE,) if store is not None else (DeliveryMode.RELAY_POINT,)
    return modes, Address(
        country=place.country,
        postcode=place.postcode,
        latitude=place.latitude,
        longitude=place.longitude,
    )
