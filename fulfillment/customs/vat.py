"""VAT rates of the EU member states and who taxes a sale (OSS).

Rates as of 2025-01-01 (European Commission, "VAT rates applied in the Member States of the
European Union", taxation-customs.ec.europa.eu), plus the later changes in ``VAT_CHANGES``
(dated, applied by ``on``). Rate levels, not product categories: ``reduced`` is the lowest
reduced rate (books and basic food in most states), ``intermediate`` a second, higher reduced
rate, ``super_reduced`` a rate below 5 % where one exists, ``zero`` 0 %. A level a state does
not have falls back to the next higher one (Denmark has no reduced rate: its goods pay the
standard rate). Mapping a product to a level per state (Italian books are 4 %, super-reduced)
is catalogue data, out of this table's reach.

OSS (Directive 2006/112/EC art. 33 and 59c, since 2021-07-01): a business-to-consumer distance
sale to another member state is taxed at the destination's rate, unless the seller's EU-wide
distance sales stayed under EUR 10,000 (``below_distance_sales_threshold``), when its own
state's rate applies. A sale to a business with a VAT number in another state is reverse-
charged; a sale leaving the EU VAT area is a zero-rated export (import VAT: ``duties``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from fulfillment.customs.territory import (
    is_in_eu_vat_territory,
    normalise_country,
)
from fulfillment.customs.types import CustomsError, CustomsProblem

RATES_AS_OF = date(2025, 1, 1)
DISTANCE_SALES_THRESHOLD_EUR = Decimal(10_000)
TAX_CLASSES = ("standard", "intermediate", "reduced", "super_reduced", "zero")


@dataclass(frozen=True)
class VatRates:
    standard: Decimal
    reduced: Decimal | None = None
    intermediate: Decimal | None = None
    super_reduced: Decimal | None = None

    def rate(self, tax_class: str) -> tuple[Decimal, str]:
        """(rate, level applied) for ``tax_class``, falling back to the next higher level."""
        if tax_class == "zero":
            return Decimal(0), "zero"
        chain = {
            "super_reduced": ("super_reduced", "reduced", "intermediate", "standard"),
            "reduced": ("reduced", "intermediate", "standard"),
            "intermediate": ("intermediate", "standard"),
            "standard": ("standard",),
        }.get(tax_class)
        if chain is None:
            raise CustomsError(
                "unknown_tax_class",
                (
                    CustomsProblem(
                        "unknown_tax_class",
                        "tax_class",
                        f"tax class {tax_class!r} is not one of {', '.join(TAX_CLASSES)}",
                    ),
                ),
            )
        for level in chain:
            value: Decimal | None = getattr(self, level)
            if value is not None:
                return value, level
        return self.standard, "standard"  # pragma: no cover - standard is always set


def _rates(standard: str, reduced: str = "", intermediate: str = "", super_: str = "") -> VatRates:
    return VatRates(
        standard=Decimal(standard),
        reduced=Decimal(reduced) if reduced else None,
        intermediate=Decimal(intermediate) if intermediate else None,
        super_reduced=Decimal(super_) if super_ else None,
    )


EU_VAT_RATES: dict[str, VatRates] = {
    "AT": _rates("20", "10", "13"),
    "BE": _rates("21", "6", "12"),
    "BG": _rates("20", "9"),
    "CY": _rates("19", "5", "9"),
    "CZ": _rates("21", "12"),
    "DE": _rates("19", "7"),
    "DK": _rates("25"),
    "EE": _rates("22", "9", "13"),
    "ES": _rates("21", "10", "", "4"),
    "FI": _rates("25.5", "10", "14"),
    "FR": _rates("20", "5.5", "10", "2.1"),
    "GR": _rates("24", "6", "13"),
    "HR": _rates("25", "5", "13"),
    "HU": _rates("27", "5", "18"),
    "IE": _rates("23", "9", "13.5", "4.8"),
    "IT": _rates("22", "5", "10", "4"),
    "LT": _rates("21", "5", "9"),
    "LU": _rates("17", "8", "14", "3"),
    "LV": _rates("21", "5", "12"),
    "MT": _rates("18", "5", "7"),
    "NL": _rates("21", "9"),
    "PL": _rates("23", "5", "8"),
    "PT": _rates("23", "6", "13"),
    "RO": _rates("19", "5", "9"),
    "SE": _rates("25", "6", "12"),
    "SI": _rates("22", "5", "9.5"),
    "SK": _rates("23", "5", "19"),
}
# Monaco applies French VAT.
EU_VAT_RATES["MC"] = EU_VAT_RATES["FR"]

# (country, in force from, rates): later changes known when the table was written.
VAT_CHANGES: tuple[tuple[str, date, VatRates], ...] = (
    ("EE", date(2025, 7, 1), _rates("24", "9", "13")),
    ("RO", date(2025, 8, 1), _rates("21", "11")),
    ("FI", date(2026, 1, 1), _rates("25.5", "10", "13.5")),
)


def vat_rates_on(country: str, on: date) -> VatRates:
    """The rates of ``country`` in force on ``on`` (the latest change on or before it)."""
    return _rates_in_force(country, on)[0]


def _rates_in_force(country: str, on: date) -> tuple[VatRates, date]:
    code = normalise_country(country)
    rates = EU_VAT_RATES.get(code)
    if rates is None:
        raise CustomsError(
            "no_vat_rates",
            (CustomsProblem("no_vat_rates", "country", f"no EU VAT rates for {code!r}"),),
        )
    since = RATES_AS_OF
    for changed_country, in_force_from, changed in sorted(VAT_CHANGES, key=lambda c: c[1]):
        if changed_country == code and in_force_from <= on:
            rates, since = changed, in_force_from
    return rates, since


class VatRegime(StrEnum):
    DOMESTIC = "domestic"  # seller and customer in the same state
    OSS_DESTINATION = "oss_destination"  # B2C distance sale: destination rate, declared via OSS
    ORIGIN_BELOW_THRESHOLD = "origin_below_threshold"  # B2C under EUR 10,000 EU-wide: origin
    REVERSE_CHARGE = "reverse_charge"  # B2B to a VAT-registered buyer in another state
    EXPORT = "export"  # leaves the EU VAT area: zero-rated here, import VAT at destination


@dataclass(frozen=True)
class VatDetermination:
    rate: Decimal  # percent
    country_of_taxation: str  # whose VAT (for an export: where import VAT is due)
    regime: VatRegime
    tax_class: str  # the level asked
    applied_class: str  # the level applied after fallback ("zero" for exports, reverse charge)
    rates_in_force_from: date  # the table's date or that of the change it applied


def vat_for_destination(
    *,
    country: str,
    tax_class: str,
    on: date,
    seller_country: str = "FR",
    postcode: str = "",
    is_business_buyer_with_vat_number: bool = False,
    below_distance_sales_threshold: bool = False,
) -> VatDetermination:
    """The VAT a seller established in ``seller_country`` (an EU VAT-area state) charges on
    goods of ``tax_class`` shipped to ``country``/``postcode`` on date ``on``."""
    seller = normalise_country(seller_country)
    destination = normalise_country(country)
    if not is_in_eu_vat_territory(seller):
        raise CustomsError(
            "seller_outside_eu",
            (
                CustomsProblem(
                    "seller_outside_eu",
                    "seller_country",
                    f"the seller's state {seller!r} is not in the EU VAT area",
                ),
            ),
        )
    if tax_class not in TAX_CLASSES:
        vat_rates_on(seller, on).rate(tax_class)  # raises unknown_tax_class
    if not is_in_eu_vat_territory(destination, postcode):
        return VatDetermination(
            Decimal(0), destination, VatRegime.EXPORT, tax_class, "zero", RATES_AS_OF
        )
    if is_business_buyer_with_vat_number and destination != seller:
        return VatDetermination(
            Decimal(0), destination, VatRegime.REVERSE_CHARGE, tax_class, "zero", RATES_AS_OF
        )
    if destination == seller or (destination == "MC" and seller == "FR"):
        regime, taxing = VatRegime.DOMESTIC, seller
    elif below_distance_sales_threshold:
        regime, taxing = VatRegime.ORIGIN_BELOW_THRESHOLD, seller
    else:
        regime, taxing = VatRegime.OSS_DESTINATION, destination
    rates, since = _rates_in_force(taxing, on)
    rate, applied = rates.rate(tax_class)
    return VatDetermination(rate, taxing, regime, tax_class, applied, since)
