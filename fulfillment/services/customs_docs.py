"""Customs paperwork of a shipment leaving the EU customs (or VAT) territory: CN22/CN23 data,
a duties estimate and the commercial-invoice PDF (with the CN22/CN23 fields on a second page).

The data comes from the pure core ``fulfillment.customs``; this module feeds it from the
catalogue (``Product.hs_code``, ``country_of_origin``, ``weight_grams``, ``tax_class``) and the
order (quantities, the unit price actually paid: line total / quantity), and lays out the PDF.
Core refusals (``CustomsError``) become one ``ValidationFailed`` listing every problem.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from django.conf import settings
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from channels_app.pricing.money import money
from fulfillment.carriers.types import Address
from fulfillment.customs import (
    DUTY_TABLES,
    CommercialInvoice,
    CustomsDeclaration,
    CustomsError,
    CustomsLine,
    DutiesEstimate,
    Incoterm,
    Party,
    commercial_invoice,
    customs_declaration,
    duties_estimate,
)
from fulfillment.models import FulfillmentOrderLine
from fulfillment.services.labels import pdf_canvas
from omnilog.core.errors import FieldError, ValidationFailed

DEFAULT_SELLER = {"name": "Omnilog Retail", "company": "Omnilog Retail SAS", "eori": ""}


@dataclass(frozen=True)
class CustomsDocuments:
    declaration: CustomsDeclaration
    invoice: CommercialInvoice | None
    duties: DutiesEstimate | None
    invoice_pdf: bytes | None

    def as_json(self) -> dict[str, Any]:
        return {
            "declaration": jsonable(self.declaration),
            "invoice": jsonable(self.invoice) if self.invoice else None,
            "duties": jsonable(self.duties) if self.duties else None,
        }


def jsonable(value: Any) -> Any:
    """Dataclasses, enums, decimals and dates as JSON values (decimals as strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    return value


def customs_lines(fulfillment_order_id: int) -> list[CustomsLine]:
    """One line per open fulfillment-order line, from the catalogue and the order."""
    rows = (
        FulfillmentOrderLine.objects.filter(fulfillment_order_id=fulfillment_order_id)
        .select_related("order_line__product")
        .order_by("id")
    )
    lines: list[CustomsLine] = []
    for row in rows:
        quantity = row.quantity - row.quantity_rejected
        if quantity <= 0:
            continue
        order_line = row.order_line
        product = order_line.product
        lines.append(
            CustomsLine(
                description=product.name,
                quantity=quantity,
                unit_value=money(order_line.total / order_line.quantity),
                unit_net_weight_grams=product.weight_grams,
                hs_code=product.hs_code,
                origin_country=product.country_of_origin,
                sku=product.sku,
                tax_class=product.tax_class,
            )
        )
    return lines


def _party(address: Address, **extra: str) -> Party:
    return Party(
        name=address.name or address.company,
        country=address.country,
        lines=address.lines,
        postcode=address.postcode,
        city=address.city,
        company=address.company,
        phone=address.phone,
        email=address.email,
        **extra,
    )


def _refused(error: CustomsError) -> ValidationFailed:
    return ValidationFailed(
        "The parcel cannot be declared to customs.",
        code="customs_invalid",
        details={"customs_code": error.code},
        field_errors=[
            FieldError(
                problem.field
                if problem.line_index is None
                else f"lines.{problem.line_index}.{problem.field}",
                problem.message,
                problem.code,
            )
            for problem in error.problems
        ],
    )


def customs_documents_build(
    *,
    lines: Sequence[CustomsLine],
    sender: Address,
    recipient: Address,
    currency: str,
    incoterm: Incoterm,
    invoice_number: str,
    issued_on: date,
    postage: Decimal,
    gross_weight_grams: int,
    parcel_count: int,
    order_reference: str,
) -> CustomsDocuments | None:
    """The paperwork, or None when the parcel stays inside the EU customs and VAT areas.

    Raises ``ValidationFailed("customs_invalid")`` listing every problem (missing HS code,
    origin, weight...). Pure apart from reading settings: safe to call before any write.
    """
    seller_fields: dict[str, str] = {**DEFAULT_SELLER, **getattr(settings, "SHIPPING_SELLER", {})}
    try:
        declaration = customs_declaration(
            lines=lines,
            origin_country=sender.country,
            destination_country=recipient.country,
            origin_postcode=sender.postcode,
            destination_postcode=recipient.postcode,
            currency=currency,
            incoterm=incoterm,
            gross_weight_grams=gross_weight_grams,
            postage=postage,
            invoice_number=invoice_number,
        )
        if declaration is None:
            return None
        duties = (
            duties_estimate(
                lines=lines,
                destination_country=recipient.country,
                incoterm=incoterm,
                currency=currency,
                shipping=postage,
            )
            if declaration.destination_country in DUTY_TABLES
            else None
        )
        invoice = None
        if declaration.requires_commercial_invoice:
            seller = _party(
                Address(
                    country=sender.country,
                    postcode=sender.postcode,
                    city=sender.city,
                    lines=sender.lines,
                    name=seller_fields["name"],
                    company=seller_fields["company"],
                ),
                eori=seller_fields.get("eori", ""),
            )
            invoice = commercial_invoice(
                invoice_number=invoice_number,
                issued_on=issued_on,
                seller=seller,
                buyer=_party(recipient),
                lines=lines,
                currency=currency,
                incoterm=incoterm,
                shipping=postage,
                gross_weight_grams=gross_weight_grams,
                parcel_count=parcel_count,
                duties=duties,
                order_reference=order_reference,
            )
    except CustomsError as error:
        raise _refused(error) from error
    pdf = commercial_invoice_pdf(invoice, declaration) if invoice is not None else None
    return CustomsDocuments(declaration, invoice, duties, pdf)


def _party_lines(party: Party) -> list[str]:
    texts = [party.company, party.name, *party.lines, f"{party.postcode} {party.city}".strip()]
    texts.append(party.country)
    if party.eori:
        texts.append(f"EORI {party.eori}")
    return [text for text in texts if text]


def commercial_invoice_pdf(invoice: CommercialInvoice, declaration: CustomsDeclaration) -> bytes:
    """Page 1: the commercial invoice; page 2: the CN22/CN23 fields for the customs form."""
    buffer = io.BytesIO()
    canvas = pdf_canvas(buffer, pagesize=A4, title=f"Commercial invoice {invoice.invoice_number}")
    width, height = A4
    left, y = 15 * mm, height - 20 * mm
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(left, y, "COMMERCIAL INVOICE")
    canvas.setFont("Helvetica", 9)
    canvas.drawRightString(width - left, y, f"No {invoice.invoice_number}  {invoice.issued_on}")
    y -= 8 * mm
    canvas.drawString(
        left,
        y,
        f"Order {invoice.order_reference}   Incoterm {invoice.incoterm.value}   "
        f"Reason for export: {invoice.reason_for_export.value}",
    )
    y -= 8 * mm
    for title, party, x in (
        ("Seller / exporter", invoice.seller, left),
        ("Buyer", invoice.buyer, left + 95 * mm),
    ):
        canvas.setFont("Helvetica-Bold", 9)
        canvas.drawString(x, y, title)
        canvas.setFont("Helvetica", 9)
        for index, text in enumerate(_party_lines(party), start=1):
            canvas.drawString(x, y - index * 4.2 * mm, text)
    y -= 35 * mm
    columns = (
        left,
        left + 70 * mm,
        left + 95 * mm,
        left + 110 * mm,
        left + 125 * mm,
        left + 150 * mm,
    )
    canvas.setFont("Helvetica-Bold", 8)
    for x, heading in zip(
        columns, ("Description / SKU", "HS code", "Origin", "Qty", "Unit", "Total"), strict=True
    ):
        canvas.drawString(x, y, heading)
    canvas.setFont("Helvetica", 8)
    for line in invoice.lines:
        y -= 5 * mm
        values = (
            f"{line.description} ({line.sku})"[:48],
            line.hs_code,
            line.origin_country,
            str(line.quantity),
            f"{line.unit_price}",
            f"{line.total}",
        )
        for x, value in zip(columns, values, strict=True):
            canvas.drawString(x, y, value)
    y -= 10 * mm
    totals = (
        ("Goods", invoice.goods_total),
        ("Shipping", invoice.shipping),
        ("Insurance", invoice.insurance),
        ("Total", invoice.total),
    )
    for label, amount in totals:
        canvas.drawRightString(width - left - 25 * mm, y, label)
        canvas.drawRightString(width - left, y, f"{amount} {invoice.currency}")
        y -= 4.5 * mm
    if invoice.duties is not None:
        duties = invoice.duties
        canvas.drawString(
            left,
            y,
            f"Import duty {duties.duty}, import VAT {duties.import_vat} {duties.currency}"
            f" ({duties.incoterm.value}: seller pays {duties.seller_cost}, to collect "
            f"{duties.to_collect})",
        )
        y -= 4.5 * mm
    canvas.drawString(
        left,
        y,
        f"Net weight {invoice.total_net_weight_grams} g   Gross weight "
        f"{invoice.gross_weight_grams} g   Parcels {invoice.parcel_count}",
    )
    y -= 8 * mm
    canvas.drawString(left, y, invoice.declaration_text[:110])
    canvas.drawString(left, y - 4.2 * mm, invoice.declaration_text[110:])
    canvas.showPage()
    _draw_declaration(canvas, declaration)
    canvas.save()
    return buffer.getvalue()


def _draw_declaration(canvas: Any, declaration: CustomsDeclaration) -> None:
    height = A4[1]
    left, y = 15 * mm, height - 20 * mm
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(left, y, f"CUSTOMS DECLARATION {declaration.form.value}")
    canvas.setFont("Helvetica", 9)
    y -= 8 * mm
    for text in (
        f"Category of item: {declaration.category.value}",
        f"From {declaration.origin_country} to {declaration.destination_country}   "
        f"Incoterm {declaration.incoterm.value}",
        f"Total value {declaration.total_value} {declaration.currency} "
        f"({declaration.total_value_eur} EUR)   Postage {declaration.postage}",
        f"Net weight {declaration.total_net_weight_grams} g   Gross weight "
        f"{declaration.gross_weight_grams} g   Invoice {declaration.invoice_number}",
    ):
        canvas.drawString(left, y, text)
        y -= 5 * mm
    y -= 3 * mm
    for line in declaration.lines:
        canvas.drawString(
            left,
            y,
            f"{line.quantity} x {line.description}   HS {line.hs_code}   origin "
            f"{line.origin_country}   {line.net_weight_grams} g   {line.value}",
        )
        y -= 5 * mm
    canvas.showPage()
