"""Factories for every app's models (factory_boy). Deterministic sequences, no randomness."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.db import models
from factory.django import DjangoModelFactory

from channels_app.models import Customer, SalesChannel
from inventory.models import ChannelStockRule, Location, Product

ModelT = TypeVar("ModelT", bound=models.Model)


class TypedFactory(DjangoModelFactory[ModelT]):
    """factory_boy creates instances in an untyped metaclass; this tells mypy what comes out."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:

        def __new__(cls, *args: Any, **kwargs: Any) -> ModelT: ...  # type: ignore[misc]


class SalesChannelFactory(TypedFactory[SalesChannel]):
    class Meta:
        model = SalesChannel
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"channel-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    kind = SalesChannel.Kind.WEB


class LocationFactory(TypedFactory[Location]):
    class Meta:
        model = Location
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"loc-{n}")
    name = factory.LazyAttribute(lambda o: f"Location {o.code}")
    kind = Location.Kind.WAREHOUSE
    city = "Paris"
    latitude = 48.8566
    longitude = 2.3522
    ships_parcels = True

    @factory.post_generation
    def channels(self, create: bool, extracted: list[SalesChannel] | None, **kwargs: object):  # type: ignore[no-untyped-def]
        if create and extracted:
            self.channels.add(*extracted)


class StoreFactory(LocationFactory):
    kind = Location.Kind.STORE
    ships_parcels = False
    is_click_and_collect = True
    is_ship_from_store = False
    accepts_returns = True


class ProductFactory(TypedFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    ean = factory.Sequence(lambda n: f"{2000000000000 + n}")
    name = factory.LazyAttribute(lambda o: f"Product {o.sku}")
    category = "apparel"
    weight_grams = 500


class CustomerFactory(TypedFactory[Customer]):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Martin{n}")


# Availability and back office (inventory selectors, API keys).
class ChannelStockRuleFactory(TypedFactory[ChannelStockRule]):
    class Meta:
        model = ChannelStockRule

    channel = factory.SubFactory(SalesChannelFactory)
    product = None
    category = ""
    buffer_units = 0
    buffer_percent = 0


def channel_api_key(channel: SalesChannel, **fields: object) -> str:
    """Create a ChannelAPIKey for ``channel``; return the plain key (shown once in real life)."""
    from channels_app.models import ChannelAPIKey

    _, key = ChannelAPIKey.objects.create_key(
        name=str(fields.pop("name", f"{channel.code} key")), channel=channel, **fields
    )
    return str(key)
