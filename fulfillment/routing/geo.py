"""Great-circle distance between two points (haversine on a spherical Earth)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from fulfillment.routing.types import GeoPoint

EARTH_RADIUS_KM = 6371.0088


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """Distance in kilometres along the Earth's surface; symmetric, 0 for the same point."""
    latitude_a = math.radians(a.latitude)
    latitude_b = math.radians(b.latitude)
    half_dlat = (latitude_b - latitude_a) / 2
    half_dlon = math.radians(b.longitude - a.longitude) / 2
    h = math.sin(half_dlat) ** 2 + math.cos(latitude_a) * math.cos(latitude_b) * (
        math.sin(half_dlon) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def distances_km(points: Sequence[GeoPoint | None], origin: GeoPoint | None) -> list[float | None]:
    """``haversine_km(point, origin)`` for many points (None where a point is unknown), with the
    origin's trigonometry computed once: routing measures every candidate against one point."""
    if origin is None:
        return [None] * len(points)
    radians = math.radians
    sin, cos, asin, sqrt = math.sin, math.cos, math.asin, math.sqrt
    origin_latitude = radians(origin.latitude)
    origin_cos = cos(origin_latitude)
    origin_longitude = origin.longitude
    diameter = 2 * EARTH_RADIUS_KM
    result: list[float | None] = []
    for point in points:
        if point is None:
            result.append(None)
            continue
        latitude = radians(point.latitude)
        h = sin((origin_latitude - latitude) / 2) ** 2 + origin_cos * cos(latitude) * (
            sin(radians(origin_longitude - point.longitude) / 2) ** 2
        )
        result.append(diameter * asin(min(1.0, sqrt(h))))
    return result
