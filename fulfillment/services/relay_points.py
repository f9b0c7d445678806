"""Relay points and parcel lockers: which points take a parcel, and the nearest ones.

``relay_point_accepts`` is the one size/weight check; packing (choosing boxes for a relay
order), routing (a relay delivery) and ``shipment_create`` call it, and
``relay_points_nearest`` applies the same rule in SQL. Limits are sorted sides (longest
first): a parcel fits when its sorted sides each fit, whatever way it was measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.db.models import F, FloatField, Q, QuerySet, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt

from fulfillment.carriers.types import Parcel
from fulfillment.models import RelayPoint
from omnilog.core.errors import FieldError, NotFound, ValidationFailed

EARTH_RADIUS_KM = 6371.0088
MAX_RADIUS_KM = 100.0
MAX_LIMIT = 50


def relay_point_refusals(point: RelayPoint, parcel: Parcel) -> tuple[str, ...]:
    """Why ``point`` cannot take ``parcel`` (empty when it can). Reads only the instance."""
    reasons: list[str] = []
    if not point.is_active:
        reasons.append(f"relay point {point.point_id} is not active")
    if point.max_weight_grams is not None and parcel.weight_grams > point.max_weight_grams:
        reasons.append(
            f"{parcel.weight_grams} g is above the {point.max_weight_grams} g limit of "
            f"{point.point_id}"
        )
    limits = (point.max_length_mm, point.max_width_mm, point.max_height_mm)
    sides = parcel.sides_mm
    if any(limit is not None and side > limit for side, limit in zip(sides, limits, strict=True)):
        box = "x".join("-" if limit is None else str(limit) for limit in limits)
        reasons.append(
            f"{sides[0]}x{sides[1]}x{sides[2]} mm does not fit the {box} mm limits of "
            f"{point.point_id}"
        )
    return tuple(reasons)


def relay_point_accepts(point: RelayPoint, parcel: Parcel) -> bool:
    """True when ``point`` takes ``parcel`` (active, weight and sorted sides within limits)."""
    return not relay_point_refusals(point, parcel)


def relay_point_unit_refusals(
    *, point_id: str, units: Sequence[tuple[str, int, tuple[int, int, int]]]
) -> list[str]:
    """Why no point ``point_id`` (of an active carrier) can ever take these units, each
    ``(sku, weight in grams, (length, width, height) in mm)``: a unit heavier or larger than the
    point's limits fits no parcel it accepts, however the order is packed (a cart over the limit
    as a whole can still travel as several parcels: packing and ``shipment_create`` check each).
    Empty when a point takes every unit, or when no point has that id (the label is refused
    later). Unknown dimensions (0) are not held against a unit."""
    points = list(RelayPoint.objects.filter(point_id=point_id, carrier__is_active=True))
    if not points:
        return []
    for point in points:
        reasons = [
            f"{sku}: {reason}"
            for sku, weight, sides in units
            for reason in relay_point_refusals(point, Parcel(weight, *sides))
        ]
        if not reasons:
            return []
    return reasons


def relay_point_capture_check(
    mode: str, relay_point_code: str, units: Sequence[tuple[str, int, tuple[int, int, int]]]
) -> list[str]:
    """The capture hook (``orders.hooks.order_delivery_check_register``): a relay-point
    delivery whose units the point can never take is refused."""
    if mode != "relay_point" or not relay_point_code:
        return []
    return relay_point_unit_refusals(point_id=relay_point_code, units=units)


def _haversine_km(latitude: float, longitude: float) -> CombinedExpression:
    """Great-circle distance in km from a point to each row's coordinates, in SQL (the same
    formula as ``inventory.selectors``)."""
    lat1, lon1 = math.radians(latitude), math.radians(longitude)
    lat2, lon2 = Radians(F("latitude")), Radians(F("longitude"))
    half_chord = Power(Sin((lat2 - Value(lat1)) / Value(2.0)), 2) + Value(math.cos(lat1)) * Cos(
        lat2
    ) * Power(Sin((lon2 - Value(lon1)) / Value(2.0)), 2)
    return Value(2 * EARTH_RADIUS_KM) * ASin(
        Sqrt(Least(Value(1.0), half_chord, output_field=FloatField()))
    )


def _fits(weight_grams: int | None, dimensions_mm: Sequence[int] | None) -> Q:
    condition = Q()
    if weight_grams is not None:
        condition &= Q(max_weight_grams__isnull=True) | Q(max_weight_grams__gte=weight_grams)
    if dimensions_mm is not None:
        longest, middle, shortest = sorted(dimensions_mm, reverse=True)
        for field, side in (
            ("max_length_mm", longest),
            ("max_width_mm", middle),
            ("max_height_mm", shortest),
        ):
            condition &= Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": side})
    return condition


def _validate(
    *,
    latitude: float,
    longitude: float,
    radius_km: float,
    limit: int,
    parcel_weight_grams: int | None,
    parcel_dims: Sequence[int] | None,
) -> None:
    errors: list[FieldError] = []
    if not -90 <= latitude <= 90:
        errors.append(FieldError("lat", "Between -90 and 90.", "out_of_range"))
    if not -180 <= longitude <= 180:
        errors.append(FieldError("lon", "Between -180 and 180.", "out_of_range"))
    if not 0 < radius_km <= MAX_RADIUS_KM:
        errors.append(FieldError("radius_km", f"Above 0, at most {MAX_RADIUS_KM:g}.", "range"))
    if not 1 <= limit <= MAX_LIMIT:
        errors.append(FieldError("limit", f"From 1 to {MAX_LIMIT}.", "out_of_range"))
    if parcel_weight_grams is not None and parcel_weight_grams <= 0:
        errors.append(FieldError("weight_grams", "Must be positive.", "min_value"))
    if parcel_dims is not None and (len(parcel_dims) != 3 or min(parcel_dims) <= 0):
        errors.append(FieldError("dims", "Three positive sides in mm.", "invalid"))
    if errors:
        raise ValidationFailed("The search is not valid.", field_errors=errors)


def relay_points_nearest(
    *,
    latitude: float,
    longitude: float,
    radius_km: float = 10.0,
    limit: int = 10,
    carrier_code: str | None = None,
    parcel_weight_grams: int | None = None,
    parcel_dims: Sequence[int] | None = None,
) -> list[RelayPoint]:
    """Active points of active carriers within ``radius_km`` that take the parcel, nearest
    first (ties by carrier code then point id), each annotated with ``distance_km``.

    One query (carrier joined). No spatial index: every active point is measured, fine for
    tens of thousands of points; PostGIS would be the next step past that.
    """
    _validate(
        latitude=latitude,
        longitude=longitude,
        radius_km=radius_km,
        limit=limit,
        parcel_weight_grams=parcel_weight_grams,
        parcel_dims=parcel_dims,
    )
    queryset: QuerySet[RelayPoint] = RelayPoint.objects.select_related("carrier").filter(
        is_active=True, carrier__is_active=True
    )
    if carrier_code:
        queryset = queryset.filter(carrier__code=carrier_code)
    queryset = (
        queryset.filter(_fits(parcel_weight_grams, parcel_dims))
        .annotate(distance_km=_haversine_km(latitude, longitude))
        .filter(distance_km__lte=radius_km)
        .order_by("distance_km", "carrier__code", "point_id")
    )
    return list(queryset[:limit])


def relay_point_get(*, carrier_id: int, point_id: str) -> RelayPoint:
    point = (
        RelayPoint.objects.select_related("carrier")
        .filter(carrier_id=carrier_id, point_id=point_id)
        .first()
    )
    if point is None:
        raise NotFound(f"No relay point {point_id!r}.", code="relay_point_not_found")
    return point
