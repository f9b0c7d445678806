"""CN22 / CN23 customs declaration data for a parcel that crosses the EU customs or VAT border.

Form choice: CN22 when the total value is at most ``cn22_max_value_eur`` and the gross weight
at most ``cn22_max_weight_grams``, else CN23. The defaults follow our issue (EUR 1,000) and the
UPU letter-post weight limit (2 kg: heavier items travel as parcels, which always take a CN23).
Posts that apply the UPU value limit (300 SDR, about EUR 370) pass their own figure.
Descriptions must be specific (a bare "gift" or "goods" is refused by customs), HS codes are
6 to 10 digits (dots and spaces are dropped), origins ISO 3166-1 alpha-2 codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from channels_app.pricing.money import money
from fulfillment.customs.territory import crosses_customs_border, normalise_country
from fulfillment.customs.types import (
    CustomsError,
    CustomsLine,
    CustomsProblem,
    DeclarationForm,
    Incoterm,
    ItemCategory,
)

CN22_MAX_VALUE_EUR = Decimal(1000)
CN22_MAX_WEIGHT_GRAMS = 2_000
VAGUE_DESCRIPTIONS = frozenset(
    {
        "gift",
        "gifts",
        "goods",
        "item",
        "items",
        "merchandise",
        "parts",
        "sample",
        "samples",
        "stuff",
    }
)


@dataclass(frozen=True)
class DeclarationLine:
    description: str
    quantity: int
    net_weight_grams: int
    value: Decimal
    hs_code: str
    origin_country: str
    sku: str = ""


@dataclass(frozen=True)
class CustomsDeclaration:
    """Every field of the CN22 / CN23 forms that we know; the PDF renderer lays them out."""

    form: DeclarationForm
    category: ItemCategory
    lines: tuple[DeclarationLine, ...]
    total_value: Decimal
    total_value_eur: Decimal
    total_net_weight_grams: int
    gross_weight_grams: int
    currency: str
    origin_country: str
    destination_country: str
    incoterm: Incoterm
    explanation: str = ""  # required for category "other"
    postage: Decimal = Decimal("0.00")  # CN23 "postal charges/fees"
    invoice_number: str = ""  # CN23: the commercial invoice it refers to
    comments: str = ""

    @property
    def requires_commercial_invoice(self) -> bool:
        """Goods sold across the border travel with a commercial invoice."""
        return self.category == ItemCategory.SALE_OF_GOODS


def normalise_hs_code(hs_code: str) -> str:
    """Digits only (``"6109.10 00"`` -> ``"61091000"``); validity is checked by the caller."""
    return "".join(character for character in hs_code if character not in ". -")


def _is_country(code: str) -> bool:
    return len(code) == 2 and code.isascii() and code.isalpha()


def line_problems(lines: Sequence[CustomsLine]) -> list[CustomsProblem]:
    """Every problem of every line (empty when all can be declared)."""
    problems: list[CustomsProblem] = []
    if not lines:
        problems.append(CustomsProblem("no_lines", "lines", "a declaration needs a line"))
    for index, line in enumerate(lines):
        description = line.description.strip()
        if not description:
            problems.append(
                CustomsProblem("description_missing", "description", "no description", index)
            )
        elif description.lower() in VAGUE_DESCRIPTIONS:
            problems.append(
                CustomsProblem(
                    "description_vague",
                    "description",
                    f"{description!r} is too vague: say what the goods are",
                    index,
                )
            )
        if line.quantity <= 0:
            problems.append(
                CustomsProblem("quantity_invalid", "quantity", "quantity must be positive", index)
            )
        if line.unit_value < 0:
            problems.append(
                CustomsProblem("value_invalid", "unit_value", "value cannot be negative", index)
            )
        if line.unit_net_weight_grams <= 0:
            problems.append(
                CustomsProblem(
                    "weight_missing", "unit_net_weight_grams", "net weight must be positive", index
                )
            )
        hs_code = normalise_hs_code(line.hs_code)
        if not (hs_code.isdigit() and 6 <= len(hs_code) <= 10):
            problems.append(
                CustomsProblem(
                    "hs_code_invalid",
                    "hs_code",
                    f"HS code {line.hs_code!r} must have 6 to 10 digits",
                    index,
                )
            )
        if not _is_country(line.origin_country.strip()):
            problems.append(
                CustomsProblem(
                    "origin_invalid",
                    "origin_country",
                    f"origin {line.origin_country!r} is not an ISO 3166-1 alpha-2 code",
                    index,
                )
            )
    return problems


def to_eur(amount: Decimal, *, currency: str, eur_rate: Decimal | None) -> Decimal:
    """``amount`` in EUR; ``eur_rate`` is EUR per unit of ``currency`` (needed unless EUR)."""
    if currency.upper() == "EUR":
        return amount
    if eur_rate is None or eur_rate <= 0:
        raise CustomsError(
            "exchange_rate_missing",
            (
                CustomsProblem(
                    "exchange_rate_missing",
                    "eur_rate",
                    f"amounts in {currency} need a positive EUR exchange rate",
                ),
            ),
        )
    return money(amount * eur_rate)


def customs_declaration(
    *,
    lines: Sequence[CustomsLine],
    origin_country: str,
    destination_country: str,
    currency: str,
    incoterm: Incoterm,
    category: ItemCategory = ItemCategory.SALE_OF_GOODS,
    origin_postcode: str = "",
    destination_postcode: str = "",
    gross_weight_grams: int | None = None,
    eur_rate: Decimal | None = None,
    explanation: str = "",
    postage: Decimal = Decimal("0.00"),
    invoice_number: str = "",
    comments: str = "",
    cn22_max_value_eur: Decimal = CN22_MAX_VALUE_EUR,
    cn22_max_weight_grams: int = CN22_MAX_WEIGHT_GRAMS,
) -> CustomsDeclaration | None:
    """The declaration of a parcel, or None when it stays inside the EU customs and VAT areas.

    Raises ``CustomsError("declaration_invalid")`` listing every problem (all lines checked).
    ``gross_weight_grams`` is the packed parcel; it defaults to the net weight of the lines.
    """
    origin = normalise_country(origin_country)
    destination = normalise_country(destination_country)
    if not crosses_customs_border(
        origin_country=origin,
        destination_country=destination,
        origin_postcode=origin_postcode,
        destination_postcode=destination_postcode,
    ):
        return None
    problems = line_problems(lines)
    if category == ItemCategory.OTHER and not explanation.strip():
        problems.append(
            CustomsProblem(
                "explanation_missing", "explanation", 'category "other" needs an explanation'
            )
        )
    net_weight = sum(line.net_weight_grams for line in lines)
    if gross_weight_grams is not None and gross_weight_grams < net_weight:
        problems.append(
            CustomsProblem(
                "gross_weight_below_net",
                "gross_weight_grams",
                f"gross weight {gross_weight_grams} g is below the net weight {net_weight} g",
            )
        )
    if problems:
        raise CustomsError("declaration_invalid", tuple(problems))
    declared = tuple(
        DeclarationLine(
            description=line.description.strip(),
            quantity=line.quantity,
            net_weight_grams=line.net_weight_grams,
            value=money(line.value),
            hs_code=normalise_hs_code(line.hs_code),
            origin_country=normalise_country(line.origin_country),
            sku=line.sku,
        )
        for line in lines
    )
    total_value = sum((line.value for line in declared), Decimal("0.00"))
    total_value_eur = to_eur(total_value, currency=currency, eur_rate=eur_rate)
    gross = net_weight if gross_weight_grams is None else gross_weight_grams
    is_small = total_value_eur <= cn22_max_value_eur and gross <= cn22_max_weight_grams
    return CustomsDeclaration(
        form=DeclarationForm.CN22 if is_small else DeclarationForm.CN23,
        category=category,
        lines=declared,
        total_value=total_value,
        total_value_eur=total_value_eur,
        total_net_weight_grams=net_weight,
        gross_weight_grams=gross,
        currency=currency.upper(),
        origin_country=origin,
        destination_country=destination,
        incoterm=incoterm,
        explanation=explanation.strip(),
        postage=money(postage),
        invoice_number=invoice_number,
        comments=comments,
    )
