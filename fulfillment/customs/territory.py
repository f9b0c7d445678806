"""The EU customs and VAT territories, simply.

Member states are listed by ISO 3166-1 alpha-2 code (Greece is ``GR`` in ISO; the EU's own
``EL`` is accepted as an alias). A few territories of member states sit outside the customs
union, the VAT area or both; they are recognised by country code and postcode prefix, which is
how an address reaches us. Monaco belongs to both (through France); Andorra, San Marino, the
Vatican, Gibraltar, the Channel Islands and the Isle of Man are not EU countries at all and fall
out by not being listed. Sources: Council Directive 2006/112/EC art. 6, Regulation (EU)
952/2013 art. 4 (Union Customs Code); state as of 2025-01-01.
"""

from __future__ import annotations

from dataclasses import dataclass

_MEMBERS = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
EU_MEMBER_STATES: frozenset[str] = frozenset(_MEMBERS.split(" "))

# Not member states, but inside the Union's customs territory and, for Monaco, its VAT area.
_ASSOCIATED: dict[str, tuple[bool, bool]] = {"MC": (True, True)}

# ISO codes some addresses use for French overseas departments instead of FR + postcode.
_FRENCH_OVERSEAS_CODES: frozenset[str] = frozenset({"GP", "MQ", "GF", "RE", "YT"})


@dataclass(frozen=True)
class SpecialTerritory:
    """A part of a member state with its own status, found by ``country`` + postcode prefix."""

    country: str
    postcode_prefix: str
    name: str
    is_in_customs_territory: bool
    is_in_vat_territory: bool


SPECIAL_TERRITORIES: tuple[SpecialTerritory, ...] = (
    SpecialTerritory("ES", "35", "Canary Islands (Las Palmas)", False, False),
    SpecialTerritory("ES", "38", "Canary Islands (Santa Cruz de Tenerife)", False, False),
    SpecialTerritory("ES", "51", "Ceuta", False, False),
    SpecialTerritory("ES", "52", "Melilla", False, False),
    SpecialTerritory("DE", "27498", "Heligoland", False, False),
    SpecialTerritory("DE", "78266", "Büsingen am Hochrhein", False, False),
    SpecialTerritory("IT", "23041", "Livigno", False, False),
    SpecialTerritory("IT", "22061", "Campione d'Italia", True, False),
    SpecialTerritory("FI", "22", "Åland Islands", True, False),
    SpecialTerritory("GR", "63086", "Mount Athos", True, False),
    # French overseas departments: inside the customs union, outside the VAT area.
    SpecialTerritory("FR", "971", "Guadeloupe", True, False),
    SpecialTerritory("FR", "972", "Martinique", True, False),
    SpecialTerritory("FR", "973", "French Guiana", True, False),
    SpecialTerritory("FR", "974", "Réunion", True, False),
    SpecialTerritory("FR", "976", "Mayotte", True, False),
)


def normalise_country(country: str) -> str:
    """Upper-case ISO code; the EU's ``EL`` for Greece becomes ISO ``GR``."""
    code = country.strip().upper()
    return "GR" if code == "EL" else code


def special_territory(country: str, postcode: str = "") -> SpecialTerritory | None:
    """The special territory an address falls in, or None (the longest prefix wins)."""
    code = normalise_country(country)
    compact = postcode.replace(" ", "").strip()
    if not compact:
        return None
    matches = [
        territory
        for territory in SPECIAL_TERRITORIES
        if territory.country == code and compact.startswith(territory.postcode_prefix)
    ]
    return max(matches, key=lambda territory: len(territory.postcode_prefix), default=None)


def is_in_eu_customs_territory(country: str, postcode: str = "") -> bool:
    code = normalise_country(country)
    if code in _FRENCH_OVERSEAS_CODES:
        return True
    if code in _ASSOCIATED:
        return _ASSOCIATED[code][0]
    if code not in EU_MEMBER_STATES:
        return False
    territory = special_territory(code, postcode)
    return territory.is_in_customs_territory if territory else True


def is_in_eu_vat_territory(country: str, postcode: str = "") -> bool:
    code = normalise_country(country)
    if code in _FRENCH_OVERSEAS_CODES:
        return False
    if code in _ASSOCIATED:
        return _ASSOCIATED[code][1]
    if code not in EU_MEMBER_STATES:
        return False
    territory = special_territory(code, postcode)
    return territory.is_in_vat_territory if territory else True


def crosses_customs_border(
    *,
    origin_country: str,
    destination_country: str,
    origin_postcode: str = "",
    destination_postcode: str = "",
) -> bool:
    """True when a parcel needs customs paperwork: it leaves (or never was in) the EU customs
    territory, or crosses the edge of the EU VAT area (e.g. mainland France to Martinique or the
    Canary Islands, where import VAT or local taxes are declared)."""
    both_in_customs = is_in_eu_customs_territory(
        origin_country, origin_postcode
    ) and is_in_eu_customs_territory(destination_country, destination_postcode)
    both_in_vat = is_in_eu_vat_territory(origin_country, origin_postcode) and (
        is_in_eu_vat_territory(destination_country, destination_postcode)
    )
    return not (both_in_customs and both_in_vat)
