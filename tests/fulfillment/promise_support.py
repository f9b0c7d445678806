"""A small network for the delivery promise tests, at a frozen moment.

Channel ``web``: warehouse ``wh-paris`` (Mon-Fri 08:00-20:00, Sat 08:00-13:00, pick 10 + pack 5
minutes) and click-and-collect store ``st-opera`` (Mon-Sat 10:00-19:00, 5 + 5 minutes), both in
Paris; channel ``b2b`` has its own warehouse. The built-in carrier ``omnilog-rates`` and its
relay points come from migration fulfillment/0005. ``NOW`` is Tuesday 24 November 2026, 10:00
in Paris.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rest_framework.test import APIClient

from inventory.models import Location
from tests.factories import (
    LocationFactory,
    ProductFactory,
    SalesChannelFactory,
    StoreFactory,
    channel_api_key,
)
from tests.inventory.test_selectors import put_stock

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)  # a Tuesday
WAREHOUSE_HOURS = {
    **{day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "sat": [["08:00", "13:00"]],
}
STORE_HOURS = {day: [["10:00", "19:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
HOME = {"type": "home", "latitude": 48.8686, "longitude": 2.3412, "country": "FR"}


def paris(day: int, hour: int, minute: int = 0) -> str:
    """An ISO moment in November 2026, Paris time, as the API renders it."""
    return datetime(2026, 11, day, hour, minute, tzinfo=PARIS).isoformat()


def warehouse(code: str, channel: Any, **fields: Any) -> Location:
    location: Location = LocationFactory(
        code=code,
        channels=[channel],
        opening_hours=WAREHOUSE_HOURS,
        pick_minutes=10,
        pack_minutes=5,
        **fields,
    )
    return location


def network() -> dict[str, Any]:
    web = SalesChannelFactory(code="web", name="Web")
    b2b = SalesChannelFactory(code="b2b", name="B2B", kind="b2b")
    wh = warehouse("wh-paris", web, postcode="75010", latitude=48.8760, longitude=2.3590)
    store = StoreFactory(
        code="st-opera",
        channels=[web],
        opening_hours=STORE_HOURS,
        postcode="75009",
        latitude=48.8720,
        longitude=2.3316,
    )
    b2b_depot = warehouse("wh-b2b", b2b, postcode="75011", latitude=48.859, longitude=2.38)
    shirt = ProductFactory(sku="SHIRT", weight_grams=400, length_mm=300, width_mm=200, height_mm=30)
    put_stock(shirt, wh, 10)
    put_stock(shirt, store, 2)
    put_stock(shirt, b2b_depot, 50)
    return {"web": web, "b2b": b2b, "wh": wh, "store": store, "shirt": shirt}


def client_for(channel: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=channel_api_key(channel))
    return client


def options_of(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.content
    return {option["mode"]: option for option in response.json()["options"]}
