"""Nearest relay points: distance order, size and weight filters, carrier filter, one query;
the pure acceptance check; the channel API."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from fulfillment.carriers import Parcel
from fulfillment.models import Carrier, RelayPoint
from fulfillment.services.relay_points import (
    relay_point_accepts,
    relay_point_refusals,
    relay_points_nearest,
)
from omnilog.core.errors import ValidationFailed
from tests.factories import SalesChannelFactory, channel_api_key

# Strasbourg: no seeded point within 100 km.
CENTRE = (48.5734, 7.7521)


def _points() -> Carrier:
    carrier = Carrier.objects.create(code="relais-test", name="Relais test")
    other = Carrier.objects.create(code="other", name="Other")
    rows = [
        # point id, carrier, latitude, longitude, max weight, sides, locker, active
        ("S-NEAR-LOCKER", carrier, 48.5740, 7.7530, 10_000, (400, 300, 200), True, True),
        ("S-SHOP", carrier, 48.5800, 7.7600, 30_000, (1000, 600, 600), False, True),
        ("S-FAR", carrier, 48.6500, 7.8000, None, (None, None, None), False, True),
        ("S-CLOSED", carrier, 48.5735, 7.7522, 30_000, (1000, 600, 600), False, False),
        ("S-OTHER", other, 48.5750, 7.7540, 30_000, (1000, 600, 600), False, True),
        ("S-OUT", carrier, 48.9000, 8.2000, 30_000, (1000, 600, 600), False, True),
    ]
    RelayPoint.objects.bulk_create(
        RelayPoint(
            carrier=owner,
            point_id=point_id,
            name=point_id,
            city="Strasbourg",
            latitude=latitude,
            longitude=longitude,
            max_weight_grams=weight,
            max_length_mm=sides[0],
            max_width_mm=sides[1],
            max_height_mm=sides[2],
            is_locker=locker,
            is_active=active,
        )
        for point_id, owner, latitude, longitude, weight, sides, locker, active in rows
    )
    return carrier


def _nearest(**kwargs: object) -> list[tuple[str, float]]:
    """(point id, km) as SQL measures them; the pure core's haversine_km gives the same."""
    points = relay_points_nearest(latitude=CENTRE[0], longitude=CENTRE[1], **kwargs)  # type: ignore[arg-type]
    return [(point.point_id, round(point.distance_km, 3)) for point in points]  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_nearest_by_distance_with_carrier_weight_and_size_filters() -> None:
    _points()
    assert _nearest(radius_km=15) == [
        ("S-NEAR-LOCKER", 0.094),
        ("S-OTHER", 0.226),
        ("S-SHOP", 0.936),
        ("S-FAR", 9.217),
    ]
    assert _nearest(radius_km=15, carrier_code="relais-test", limit=2) == [
        ("S-NEAR-LOCKER", 0.094),
        ("S-SHOP", 0.936),
    ]
    assert _nearest(radius_km=15, parcel_weight_grams=12_000) == [
        ("S-OTHER", 0.226),
        ("S-SHOP", 0.936),
        ("S-FAR", 9.217),
    ]
    # 150 x 500 x 250 mm sorts to 500 x 250 x 150: too long for the 400 mm locker.
    assert _nearest(radius_km=15, parcel_dims=(150, 500, 250)) == [
        ("S-OTHER", 0.226),
        ("S-SHOP", 0.936),
        ("S-FAR", 9.217),
    ]
    assert _nearest(radius_km=5, parcel_dims=(350, 250, 150), parcel_weight_grams=2_000) == [
        ("S-NEAR-LOCKER", 0.094),
        ("S-OTHER", 0.226),
        ("S-SHOP", 0.936),
    ]


@pytest.mark.django_db
def test_nearest_is_one_query_whatever_the_number_of_points() -> None:
    _points()
    with CaptureQueriesContext(connection) as queries:
        points = relay_points_nearest(latitude=CENTRE[0], longitude=CENTRE[1], radius_km=15)
        carriers = [point.carrier.code for point in points]
    assert carriers == ["relais-test", "other", "relais-test", "relais-test"]
    assert len(queries) == 1


def test_invalid_search_lists_every_field() -> None:
    with pytest.raises(ValidationFailed) as error:
        relay_points_nearest(latitude=91, longitude=0, radius_km=0, limit=0, parcel_dims=(1, 2))
    assert [e.field for e in error.value.field_errors] == ["lat", "radius_km", "limit", "dims"]


def test_relay_point_accepts_checks_weight_and_sorted_sides() -> None:
    locker = RelayPoint(
        point_id="L1",
        max_weight_grams=10_000,
        max_length_mm=400,
        max_width_mm=300,
        max_height_mm=200,
        is_active=True,
    )
    assert relay_point_accepts(locker, Parcel(10_000, 200, 400, 300))  # any orientation
    assert not relay_point_accepts(locker, Parcel(10_001, 100, 100, 100))
    assert relay_point_refusals(locker, Parcel(500, 250, 250, 250)) == (
        "250x250x250 mm does not fit the 400x300x200 mm limits of L1",
    )
    unlimited = RelayPoint(point_id="U", is_active=False)
    assert relay_point_refusals(unlimited, Parcel(99_000, 2000, 2000, 2000)) == (
        "relay point U is not active",
    )


@pytest.mark.django_db
def test_channel_api_answers_nearest_points() -> None:
    _points()
    key = channel_api_key(SalesChannelFactory(code="web"))
    client = APIClient()
    query: dict[str, str | float] = {
        "lat": CENTRE[0],
        "lon": CENTRE[1],
        "radius_km": 2,
        "carrier": "relais-test",
        "weight_grams": 500,
    }
    response = client.get("/api/v1/relay-points/nearest", query, HTTP_X_API_KEY=key)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["point_id"], r["distance_km"], r["is_locker"]) for r in results] == [
        ("S-NEAR-LOCKER", 0.094, True),
        ("S-SHOP", 0.936, False),
    ]
    assert results[0]["max_dimensions_mm"] == [400, 300, 200]
    assert client.get("/api/v1/relay-points/nearest", {"lat": 1, "lon": 1}).status_code == 401
