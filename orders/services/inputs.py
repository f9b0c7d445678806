"""What a door hands to ``order_place``: frozen dataclasses, already shape-checked.

The API serializer (or any other door: a till import, a test) builds these; the service checks
what needs the database or the channel (SKUs, stores, prices, allowed fields). Nothing here is
a status, a price or a total: those are the server's (no mass assignment by construction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from inventory.geocoding import city_locate


@dataclass(frozen=True)
class CustomerInput:
    email: str = ""
    phone: str = ""
    loyalty_id: str = ""
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    vat_number: str = ""


@dataclass(frozen=True)
class AddressInput:
    line1: str
    postcode: str
    city: str
    country: str = "FR"
    name: str = ""
    line2: str = ""
    phone: str = ""
    # Where the parcel goes, for routing (distance, same-day radius) and carrier zones. When the
    # front end sends none, capture geocodes the city (``inventory.geocoding.city_locate``).
    latitude: float | None = None
    longitude: float | None = None

    def as_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.name,
            "line1": self.line1,
            "line2": self.line2,
            "postcode": self.postcode,
            "city": self.city,
            "country": self.country,
            "phone": self.phone,
        }
        latitude, longitude = self.latitude, self.longitude
        if latitude is None or longitude is None:
            found = city_locate(city=self.city, country=self.country)
            if found is not None:
                latitude, longitude = found.latitude, found.longitude
                document["geocoded"] = "city"
        if latitude is not None and longitude is not None:
            document["latitude"] = latitude
            document["longitude"] = longitude
        return document


@dataclass(frozen=True)
class DeliveryInput:
    """One delivery: a mode and what that mode needs.

    Home standard, express and same-day need ``address``; click-and-collect and ship-to-store
    need ``store_code`` (click-and-collect may add a pickup slot); relay point / locker needs
    ``relay_point_code``.
    """

    mode: str
    address: AddressInput | None = None
    store_code: str = ""
    pickup_slot_start: datetime | None = None
    pickup_slot_end: datetime | None = None
    relay_point_code: str = ""


@dataclass(frozen=True)
class DeliveryGroupInput:
    """A named delivery for some lines of a mixed basket (lines name it in ``delivery_group``)."""

    key: str
    delivery: DeliveryInput


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    agreed_unit_price: Decimal | None = None
    """B2B and marketplace channels only: the net unit price agreed with the buyer."""
    delivery_group: str = ""


@dataclass(frozen=True)
class OrderInput:
    customer: CustomerInput
    lines: tuple[LineInput, ...]
    delivery: DeliveryInput
    delivery_groups: tuple[DeliveryGroupInput, ...] = ()
    external_id: str = ""
    payment_status: str = "pending"
    coupon_codes: tuple[str, ...] = ()
    billing_address: AddressInput | None = None
    purchase_order_number: str = ""
    is_partial_delivery_allowed: bool = True
