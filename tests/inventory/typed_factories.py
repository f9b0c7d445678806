"""Typed doors to the factories (factory_boy's metaclass call is untyped for mypy)."""

from __future__ import annotations

from typing import Any, cast

from channels_app.models import SalesChannel
from inventory.models import Location, Product
from tests.factories import LocationFactory, ProductFactory, SalesChannelFactory, StoreFactory


def make_channel(**fields: Any) -> SalesChannel:
    return cast(SalesChannel, SalesChannelFactory(**fields))  # type: ignore[no-untyped-call]


def make_warehouse(**fields: Any) -> Location:
    """A warehouse that ships parcels (a pool row for its channels)."""
    return cast(Location, LocationFactory(**fields))  # type: ignore[no-untyped-call]


def make_store(**fields: Any) -> Location:
    """A click-and-collect store that ships nothing (not a pool row)."""
    return cast(Location, StoreFactory(**fields))  # type: ignore[no-untyped-call]


def make_product(**fields: Any) -> Product:
    return cast(Product, ProductFactory(**fields))  # type: ignore[no-untyped-call]
