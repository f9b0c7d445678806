"""Customs inputs and outputs: frozen dataclasses, no framework. Money is ``Decimal`` in the
shipment's currency (cents), weights grams."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Incoterm(StrEnum):
    DDP = "DDP"  # delivered duty paid: the seller pays duties and import VAT
    DAP = "DAP"  # delivered at place: the customer pays them on delivery


class ItemCategory(StrEnum):
    """Box "category of item" of the CN22/CN23 forms."""

    SALE_OF_GOODS = "sale_of_goods"
    GIFT = "gift"
    COMMERCIAL_SAMPLE = "commercial_sample"
    RETURNED_GOODS = "returned_goods"
    DOCUMENTS = "documents"
    OTHER = "other"  # needs an explanation


class DeclarationForm(StrEnum):
    CN22 = "CN22"
    CN23 = "CN23"


@dataclass(frozen=True)
class CustomsLine:
    """One article of a parcel, from the product catalogue (``hs_code``, ``country_of_origin``,
    ``weight_grams``, ``tax_class``) and the order line (quantity, unit price)."""

    description: str
    quantity: int
    unit_value: Decimal
    unit_net_weight_grams: int
    hs_code: str
    origin_country: str
    sku: str = ""
    tax_class: str = "standard"

    @property
    def value(self) -> Decimal:
        return self.unit_value * self.quantity

    @property
    def net_weight_grams(self) -> int:
        return self.unit_net_weight_grams * self.quantity


@dataclass(frozen=True)
class CustomsProblem:
    """Why a line (``line_index``) or the whole declaration (None) cannot be declared."""

    code: str
    field: str
    message: str
    line_index: int | None = None


class CustomsError(Exception):
    """Every problem at once (``problems``), with a stable ``code`` for the API."""

    def __init__(self, code: str, problems: tuple[CustomsProblem, ...]) -> None:
        super().__init__("; ".join(problem.message for problem in problems) or code)
        self.code = code
        self.problems = problems


@dataclass(frozen=True)
class Party:
    name: str
    country: str
    lines: tuple[str, ...] = ()
    postcode: str = ""
    city: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""
    vat_number: str = ""
    eori: str = ""
