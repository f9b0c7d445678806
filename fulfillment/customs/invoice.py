"""Commercial invoice data for goods sold across the EU customs or VAT border (the PDF
renderer lays it out). Totals: ``goods_total + shipping + insurance == total``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from channels_app.pricing.money import ZERO, money
from fulfillment.customs.declaration import line_problems, normalise_hs_code
from fulfillment.customs.duties import DutiesEstimate
from fulfillment.customs.territory import (
    EU_MEMBER_STATES,
    crosses_customs_border,
    normalise_country,
)
from fulfillment.customs.types import (
    CustomsError,
    CustomsLine,
    CustomsProblem,
    Incoterm,
    ItemCategory,
    Party,
)

# EU preferential origin statement (Regulation (EU) 2015/2446; EU-UK TCA Annex ORIG-4).
ORIGIN_STATEMENT = (
    "The exporter of the products covered by this document (Exporter Reference No {reference})"
    " declares that, except where otherwise clearly indicated, these products are of"
    " {origin} preferential origin."
)
DECLARATION_TEXT = (
    "I declare that the information on this invoice is true and correct and that the contents"
    " of this shipment are as stated above."
)


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    sku: str
    hs_code: str
    origin_country: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    net_weight_grams: int


@dataclass(frozen=True)
class CommercialInvoice:
    invoice_number: str
    issued_on: date
    seller: Party
    buyer: Party
    ship_from: Party
    ship_to: Party
    currency: str
    incoterm: Incoterm
    reason_for_export: ItemCategory
    lines: tuple[InvoiceLine, ...]
    goods_total: Decimal
    shipping: Decimal
    insurance: Decimal
    total: Decimal
    total_net_weight_grams: int
    gross_weight_grams: int
    parcel_count: int
    declaration_text: str
    origin_statement: str = ""  # set when every line is of EU origin and a reference is given
    duties: DutiesEstimate | None = None  # DDP: what the seller pays; DAP: what is collected
    order_reference: str = ""


def commercial_invoice(
    *,
    invoice_number: str,
    issued_on: date,
    seller: Party,
    buyer: Party,
    lines: Sequence[CustomsLine],
    currency: str,
    incoterm: Incoterm,
    ship_from: Party | None = None,
    ship_to: Party | None = None,
    reason_for_export: ItemCategory = ItemCategory.SALE_OF_GOODS,
    shipping: Decimal = ZERO,
    insurance: Decimal = ZERO,
    gross_weight_grams: int | None = None,
    parcel_count: int = 1,
    exporter_reference: str = "",
    duties: DutiesEstimate | None = None,
    order_reference: str = "",
    destination_postcode: str = "",
    origin_postcode: str = "",
) -> CommercialInvoice | None:
    """The invoice data, or None when the goods stay inside the EU customs and VAT areas.

    ``ship_from`` defaults to the seller, ``ship_to`` to the buyer. Raises
    ``CustomsError("invoice_invalid")`` listing every problem.
    """
    origin_party = ship_from or seller
    destination_party = ship_to or buyer
    if not crosses_customs_border(
        origin_country=origin_party.country,
        destination_country=destination_party.country,
        origin_postcode=origin_postcode or origin_party.postcode,
        destination_postcode=destination_postcode or destination_party.postcode,
    ):
        return None
    problems = line_problems(lines)
    if not invoice_number.strip():
        problems.append(
            CustomsProblem("invoice_number_missing", "invoice_number", "no invoice number")
        )
    if parcel_count < 1:
        problems.append(
            CustomsProblem("parcel_count_invalid", "parcel_count", "at least one parcel")
        )
    if problems:
        raise CustomsError("invoice_invalid", tuple(problems))
    invoice_lines = tuple(
        InvoiceLine(
            description=line.description.strip(),
            sku=line.sku,
            hs_code=normalise_hs_code(line.hs_code),
            origin_country=normalise_country(line.origin_country),
            quantity=line.quantity,
            unit_price=money(line.unit_value),
            total=money(line.value),
            net_weight_grams=line.net_weight_grams,
        )
        for line in lines
    )
    goods_total = sum((line.total for line in invoice_lines), ZERO)
    net_weight = sum(line.net_weight_grams for line in invoice_lines)
    origins = {line.origin_country for line in invoice_lines}
    origin_statement = ""
    if exporter_reference and origins <= EU_MEMBER_STATES:
        origin_statement = ORIGIN_STATEMENT.format(reference=exporter_reference, origin="EU")
    return CommercialInvoice(
        invoice_number=invoice_number.strip(),
        issued_on=issued_on,
        seller=seller,
        buyer=buyer,
        ship_from=origin_party,
        ship_to=destination_party,
        currency=currency.upper(),
        incoterm=incoterm,
        reason_for_export=reason_for_export,
        lines=invoice_lines,
        goods_total=goods_total,
        shipping=money(shipping),
        insurance=money(insurance),
        total=goods_total + money(shipping) + money(insurance),
        total_net_weight_grams=net_weight,
        gross_weight_grams=net_weight if gross_weight_grams is None else gross_weight_grams,
        parcel_count=parcel_count,
        declaration_text=DECLARATION_TEXT,
        origin_statement=origin_statement,
        duties=duties,
        order_reference=order_reference,
    )
