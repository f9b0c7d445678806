"""Typed doors to the factories (factory_boy's metaclass call is untyped for mypy)."""

from __future__ import annotations

from typing import Any

from channels_app.models import SalesChannel
from inventory.models import Location, Product
from tests.factories import LocationFactory, ProductFactory, SalesChannelFactory, StoreFactory


def make_channel(**fields: Any) -> SalesChannel:
    return SalesChannelFactory(**fields)


def make_warehouse(**fields: Any) -> Location:
    """A warehouse that ships parcels (a pool row for its channels)."""
    return LocationFactory(**fields)


def make_store(**fields: Any) -> Location:
    """A click-and-collect store that ships nothing (not a pool row)."""
    return StoreFactory(**fields)


def make_product(**fields: Any) -> Product:
    return ProductFactory(**fields)
