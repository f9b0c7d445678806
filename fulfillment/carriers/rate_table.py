"""``RateTableCarrier``: a carrier that needs no network, priced from a rate table.

Zones (``zone_for``): same country within ``local_radius_km`` is ``local``, within
``regional_radius_km`` ``regional``, else (or without coordinates) ``national``; another EU
member state is ``eu``; a listed European non-member ``europe``; anything else ``world``.
Chargeable weight per parcel is the larger of the actual and the volumetric weight
(length x width x height in cm / ``volumetric_divisor``, i.e. mm^3 / 5000 = grams with the
default divisor of 5000 cm^3/kg), rounded up to the gram; the price is that of the first weight
band holding it. A shipment of several parcels costs the sum of its parcels. Service limits
(weight, longest side, girth, a locker box) refuse parcels with a reason each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from fulfillment.carriers.base import CarrierError
from fulfillment.carriers.tracking import (
    MAX_PARCELS_PER_SHIPMENT,
    code128_b,
    is_valid_tracking_number,
    tracking_number,
)
from fulfillment.carriers.types import (
    Address,
    Label,
    LabelData,
    Parcel,
    ParcelCharge,
    Quote,
    Refusal,
    RefusalCode,
    Service,
    ShipmentRequest,
    TrackingInfo,
    TrackingStatus,
)
from fulfillment.customs.territory import EU_MEMBER_STATES, normalise_country
from fulfillment.routing.geo import haversine_km
from fulfillment.routing.types import GeoPoint


@dataclass(frozen=True)
class ServiceLimits:
    """Per parcel. ``max_box_mm`` (longest, middle, shortest) is a locker or a courier bag:
    the parcel's sorted sides must each fit. ``max_girth_mm`` bounds length + 2 x (w + h)."""

    max_weight_grams: int
    max_length_mm: int
    max_girth_mm: int | None = None
    max_box_mm: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class ZoneRate:
    """Prices of ``service`` in ``zone``, aligned with the table's weight bands (a shorter tuple
    means the heavier bands are not offered), and the transit in delivery days."""

    service: Service
    zone: str
    prices: tuple[Decimal, ...]
    transit_days: int


@dataclass(frozen=True)
class RateTable:
    carrier_code: str
    carrier_name: str
    currency: str
    weight_bands_grams: tuple[int, ...]  # upper bounds, ascending
    rates: tuple[ZoneRate, ...]
    limits: Mapping[Service, ServiceLimits]
    volumetric_divisor: int = 5000  # cm^3 per kg
    local_radius_km: float = 30.0
    regional_radius_km: float = 250.0
    europe_countries: frozenset[str] = frozenset()
    # Countries zoned as another's domestic network (Monaco is served as France).
    domestic_aliases: Mapping[str, str] = field(default_factory=dict)

    def rate(self, service: Service, zone: str) -> ZoneRate | None:
        return next((r for r in self.rates if r.service == service and r.zone == zone), None)


_BANDS = (500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000)

# service, zone, transit days, price (EUR) per weight band up to 0.5/1/2/5/10/20/30 kg.
_RATES: tuple[tuple[Service, str, int, str], ...] = (
    (Service.STANDARD, "local", 1, "4.90 5.50 6.50 8.90 12.90 18.90 24.90"),
    (Service.STANDARD, "regional", 2, "5.50 6.20 7.20 9.90 13.90 19.90 26.90"),
    (Service.STANDARD, "national", 2, "5.90 6.90 7.90 10.90 15.90 22.90 29.90"),
    (Service.STANDARD, "eu", 4, "9.90 11.90 14.90 19.90 27.90 39.90 54.90"),
    (Service.STANDARD, "europe", 5, "13.90 15.90 19.90 26.90 36.90 52.90 69.90"),
    (Service.STANDARD, "world", 8, "19.90 24.90 32.90 49.90 79.90 119.90 159.90"),
    (Service.EXPRESS, "local", 1, "9.90 10.90 11.90 14.90 19.90 27.90 35.90"),
    (Service.EXPRESS, "regional", 1, "10.90 11.90 12.90 15.90 21.90 29.90 38.90"),
    (Service.EXPRESS, "national", 1, "11.90 12.90 14.90 17.90 24.90 34.90 44.90"),
    (Service.EXPRESS, "eu", 2, "24.90 27.90 32.90 42.90 59.90 84.90 109.90"),
    (Service.EXPRESS, "europe", 2, "29.90 33.90 39.90 52.90 72.90 99.90 129.90"),
    (Service.EXPRESS, "world", 3, "44.90 54.90 69.90 99.90 149.90 219.90 289.90"),
    # Same-day courier: local zone only, up to 20 kg.
    (Service.SAME_DAY, "local", 0, "9.90 9.90 11.90 14.90 19.90 24.90"),
    # Relay network (shops and lockers): domestic and EU, up to 20 kg.
    (Service.RELAY, "local", 3, "3.90 4.40 4.90 6.90 9.90 13.90"),
    (Service.RELAY, "regional", 3, "3.90 4.40 4.90 6.90 9.90 13.90"),
    (Service.RELAY, "national", 3, "3.90 4.40 4.90 6.90 9.90 13.90"),
    (Service.RELAY, "eu", 5, "6.90 7.90 9.90 12.90 16.90 22.90"),
)

# European countries outside the EU (zone "europe"); Monaco is zoned as France.
_EUROPE = "AD AL BA CH FO GB GG GI IM IS JE LI ME MK NO RS SM UA VA XK"

DEFAULT_RATE_TABLE = RateTable(
    carrier_code="omnilog-rates",
    carrier_name="Omnilog Rate Table",
    currency="EUR",
    weight_bands_grams=_BANDS,
    rates=tuple(
        ZoneRate(service, zone, tuple(Decimal(price) for price in prices.split()), transit)
        for service, zone, transit, prices in _RATES
    ),
    limits={
        Service.STANDARD: ServiceLimits(30_000, 1_500, max_girth_mm=3_000),
        Service.EXPRESS: ServiceLimits(30_000, 1_200, max_girth_mm=3_000),
        Service.SAME_DAY: ServiceLimits(20_000, 1_000, max_box_mm=(1_000, 600, 600)),
        Service.RELAY: ServiceLimits(20_000, 600, max_box_mm=(600, 400, 400)),
    },
    europe_countries=frozenset(_EUROPE.split(" ")),
    domestic_aliases={"MC": "FR"},
)


def volumetric_weight_grams(parcel: Parcel, *, divisor: int = 5000) -> int:
    """``L x W x H`` in cm / ``divisor`` kg, in grams rounded up: (mm^3 / 1000) / divisor kg is
    mm^3 / divisor grams. 400 x 300 x 200 mm -> 4,800 g."""
    volume_mm3 = parcel.length_mm * parcel.width_mm * parcel.height_mm
    return -(-volume_mm3 // divisor)


def _position(address: Address) -> GeoPoint | None:
    if address.latitude is None or address.longitude is None:
        return None
    return GeoPoint(address.latitude, address.longitude)


def distance_km(origin: Address, destination: Address) -> float | None:
    a, b = _position(origin), _position(destination)
    return haversine_km(a, b) if a is not None and b is not None else None


def zone_for(table: RateTable, origin: Address, destination: Address) -> str:
    origin_country = normalise_country(origin.country)
    destination_country = normalise_country(destination.country)
    origin_country = table.domestic_aliases.get(origin_country, origin_country)
    destination_country = table.domestic_aliases.get(destination_country, destination_country)
    if origin_country == destination_country:
        distance = distance_km(origin, destination)
        if distance is not None and distance <= table.local_radius_km:
            return "local"
        if distance is not None and distance <= table.regional_radius_km:
            return "regional"
        return "national"
    if destination_country in EU_MEMBER_STATES:
        return "eu"
    if destination_country in table.europe_countries:
        return "europe"
    return "world"


def _parcel_refusals(
    parcel: Parcel, index: int, limits: ServiceLimits, service: Service, chargeable: int
) -> list[Refusal]:
    refusals: list[Refusal] = []
    if parcel.weight_grams <= 0 or min(parcel.length_mm, parcel.width_mm, parcel.height_mm) <= 0:
        return [
            Refusal(
                RefusalCode.INVALID_PARCEL,
                "weight and every side must be positive",
                index,
            )
        ]
    longest, middle, shortest = parcel.sides_mm
    if parcel.weight_grams > limits.max_weight_grams:
        refusals.append(
            Refusal(
                RefusalCode.TOO_HEAVY,
                f"{parcel.weight_grams} g is above the {limits.max_weight_grams} g limit of "
                f"{service}",
                index,
            )
        )
    if longest > limits.max_length_mm:
        refusals.append(
            Refusal(
                RefusalCode.TOO_LONG,
                f"longest side {longest} mm is above the {limits.max_length_mm} mm limit of "
                f"{service}",
                index,
            )
        )
    if limits.max_box_mm is not None and any(
        side > limit
        for side, limit in zip((longest, middle, shortest), limits.max_box_mm, strict=True)
    ):
        box = "x".join(str(side) for side in limits.max_box_mm)
        refusals.append(
            Refusal(
                RefusalCode.TOO_LARGE,
                f"{longest}x{middle}x{shortest} mm does not fit the {box} mm box of {service}",
                index,
            )
        )
    girth = longest + 2 * (middle + shortest)
    if limits.max_girth_mm is not None and girth > limits.max_girth_mm:
        refusals.append(
            Refusal(
                RefusalCode.GIRTH_TOO_LARGE,
                f"length + girth {girth} mm is above the {limits.max_girth_mm} mm limit of "
                f"{service}",
                index,
            )
        )
    if chargeable > limits.max_weight_grams and parcel.weight_grams <= limits.max_weight_grams:
        refusals.append(
            Refusal(
                RefusalCode.CHARGEABLE_WEIGHT_TOO_HIGH,
                f"volumetric weight {chargeable} g is above the {limits.max_weight_grams} g "
                f"limit of {service}",
                index,
            )
        )
    return refusals


class RateTableCarrier:
    """A ``CarrierAdapter`` priced from a ``RateTable``; pure and deterministic."""

    def __init__(self, table: RateTable = DEFAULT_RATE_TABLE) -> None:
        self._table = table

    @property
    def code(self) -> str:
        return self._table.carrier_code

    @property
    def name(self) -> str:
        return self._table.carrier_name

    @property
    def table(self) -> RateTable:
        return self._table

    def services(self) -> tuple[Service, ...]:
        return tuple(service for service in Service if self._table.limits.get(service))

    def quote(
        self,
        parcels: Sequence[Parcel],
        origin: Address,
        destination: Address,
        service: Service,
    ) -> Quote:
        table = self._table
        zone = zone_for(table, origin, destination)
        distance = distance_km(origin, destination)
        refusals: list[Refusal] = []
        if not parcels:
            refusals.append(Refusal(RefusalCode.NO_PARCELS, "a shipment needs a parcel"))
        if len(parcels) > MAX_PARCELS_PER_SHIPMENT:
            refusals.append(
                Refusal(
                    RefusalCode.INVALID_PARCEL,
                    f"at most {MAX_PARCELS_PER_SHIPMENT} parcels per shipment",
                )
            )
        if service == Service.SAME_DAY and distance is None:
            refusals.append(
                Refusal(
                    RefusalCode.DISTANCE_UNKNOWN,
                    "same-day needs the coordinates of both addresses",
                )
            )
        rate = table.rate(service, zone)
        limits = table.limits.get(service)
        if rate is None or limits is None:
            refusals.append(
                Refusal(
                    RefusalCode.SERVICE_NOT_OFFERED,
                    f"{service} is not offered in zone {zone}",
                )
            )
        charges: list[ParcelCharge] = []
        for index, parcel in enumerate(parcels):
            volumetric = volumetric_weight_grams(parcel, divisor=table.volumetric_divisor)
            chargeable = max(parcel.weight_grams, volumetric)
            if limits is not None:
                refusals.extend(_parcel_refusals(parcel, index, limits, service, chargeable))
            if rate is None:
                continue
            offered = table.weight_bands_grams[: len(rate.prices)]
            band = next((i for i, bound in enumerate(offered) if chargeable <= bound), None)
            if band is None:
                if not any(r.parcel_index == index for r in refusals):
                    refusals.append(
                        Refusal(
                            RefusalCode.CHARGEABLE_WEIGHT_TOO_HIGH,
                            f"chargeable weight {chargeable} g is above the heaviest band "
                            f"({offered[-1]} g) of {service} in zone {zone}",
                            index,
                        )
                    )
                continue
            charges.append(
                ParcelCharge(
                    parcel_index=index,
                    actual_weight_grams=parcel.weight_grams,
                    volumetric_weight_grams=volumetric,
                    chargeable_weight_grams=chargeable,
                    weight_band_max_grams=offered[band],
                    price=rate.prices[band],
                )
            )
        if refusals or rate is None:
            return Quote(
                carrier_code=table.carrier_code,
                service=service,
                zone=zone,
                currency=table.currency,
                price=None,
                transit_days=None,
                refusals=tuple(refusals),
                distance_km=distance,
            )
        return Quote(
            carrier_code=table.carrier_code,
            service=service,
            zone=zone,
            currency=table.currency,
            price=sum((charge.price for charge in charges), Decimal("0.00")),
            transit_days=rate.transit_days,
            parcels=tuple(charges),
            distance_km=distance,
        )

    def create_label(self, shipment: ShipmentRequest) -> Label:
        """One ``LabelData`` per parcel; raises ``CarrierError("label_refused")`` listing every
        refusal when the service cannot carry the shipment."""
        if shipment.service == Service.RELAY and not shipment.relay_point_id:
            raise CarrierError("relay_point_missing", "a relay shipment needs a relay point id")
        quote = self.quote(shipment.parcels, shipment.sender, shipment.recipient, shipment.service)
        if not quote.is_available or quote.price is None:
            raise CarrierError(
                "label_refused",
                f"{self.name} cannot carry shipment {shipment.reference} with {shipment.service}",
                [
                    {
                        "code": refusal.code.value,
                        "message": refusal.message,
                        "parcel_index": ""
                        if refusal.parcel_index is None
                        else str(refusal.parcel_index),
                    }
                    for refusal in quote.refusals
                ],
            )
        count = len(shipment.parcels)
        postcode_area = shipment.recipient.postcode.replace(" ", "")[:2].upper()
        sort_code = f"{quote.zone.upper()}-{normalise_country(shipment.recipient.country)}"
        if postcode_area:
            sort_code += f"-{postcode_area}"
        labels = []
        for charge, parcel in zip(quote.parcels, shipment.parcels, strict=True):
            number = tracking_number(
                service=shipment.service,
                sequence=shipment.sequence,
                parcel_index=charge.parcel_index + 1,
            )
            labels.append(
                LabelData(
                    carrier_code=self.code,
                    carrier_name=self.name,
                    service=shipment.service,
                    tracking_number=number,
                    barcode=code128_b(number),
                    sender=shipment.sender,
                    recipient=shipment.recipient,
                    ship_date=shipment.ship_date,
                    parcel_index=charge.parcel_index + 1,
                    parcel_count=count,
                    weight_grams=parcel.weight_grams,
                    chargeable_weight_grams=charge.chargeable_weight_grams,
                    zone=quote.zone,
                    sort_code=sort_code,
                    reference=parcel.reference or shipment.reference,
                    order_reference=shipment.order_reference,
                    relay_point_id=shipment.relay_point_id,
                    contents=shipment.contents,
                )
            )
        return Label(
            carrier_code=self.code,
            reference=shipment.reference,
            labels=tuple(labels),
            price=quote.price,
            currency=quote.currency,
        )

    def tracking_status(self, tracking_number: str) -> TrackingInfo:
        """Without a network the table carrier only knows whether a number is one of its own:
        a valid one is ``info_received`` (label created, no scan known), anything else
        ``unknown`` with ``is_valid_number=False``."""
        number = tracking_number.strip().upper()
        if not is_valid_tracking_number(number):
            return TrackingInfo(
                carrier_code=self.code,
                tracking_number=number,
                status=TrackingStatus.UNKNOWN,
                is_valid_number=False,
            )
        return TrackingInfo(
            carrier_code=self.code, tracking_number=number, status=TrackingStatus.INFO_RECEIVED
        )
