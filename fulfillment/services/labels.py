"""Shipping label PDFs (A6, one page per parcel) laid out from the carrier core's ``LabelData``.

The barcode draws the core's Code 128 symbol values (``LabelData.barcode``) as they are, so the
printed symbol is exactly the one the carrier core computed for the tracking number. Rendering
is deterministic (``invariant``: no creation date or random document id); tests and debugging
turn page compression off (``settings.SHIPPING_PDF_COMPRESS = False``) to read the text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from reportlab.graphics.barcode.code128 import Code128 as ReportlabCode128
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from fulfillment.carriers.types import Address, Code128, LabelData


def pdf_compress() -> bool:
    return bool(getattr(settings, "SHIPPING_PDF_COMPRESS", True))


def pdf_canvas(buffer: io.BytesIO, *, pagesize: tuple[float, float], title: str) -> Canvas:
    canvas = Canvas(buffer, pagesize=pagesize, pageCompression=int(pdf_compress()), invariant=1)
    canvas.setTitle(title)
    canvas.setAuthor("Omnilog")
    return canvas


class _SymbolCode128(ReportlabCode128):  # type: ignore[misc]  # reportlab is untyped
    """reportlab's Code 128 drawing, fed with precomputed symbol values."""

    def __init__(self, symbol: Code128, **options: Any) -> None:
        self._symbol_values = list(symbol.values)
        super().__init__(symbol.payload, **options)

    def encode(self) -> list[int]:
        self.encoded = list(self._symbol_values)
        return self.encoded


def address_lines(address: Address) -> list[str]:
    lines = [address.name, address.company, *address.lines]
    lines.append(f"{address.postcode} {address.city}".strip())
    lines.append(address.country.upper())
    return [line for line in lines if line]


def _draw_label(canvas: Canvas, label: LabelData) -> None:
    width, height = A6
    left = 6 * mm
    top = height - 8 * mm
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(left, top, label.carrier_name)
    canvas.setFont("Helvetica", 9)
    canvas.drawRightString(width - left, top, f"{label.service.upper()}  {label.ship_date}")
    canvas.setFont("Helvetica-Bold", 22)
    canvas.drawString(left, top - 11 * mm, label.sort_code)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(left, top - 17 * mm, "FROM")
    y = top - 21 * mm
    for line in address_lines(label.sender):
        canvas.drawString(left, y, line)
        y -= 3.6 * mm
    canvas.setFont("Helvetica", 8)
    y -= 2 * mm
    canvas.drawString(left, y, "TO")
    y -= 5 * mm
    canvas.setFont("Helvetica-Bold", 11)
    for line in address_lines(label.recipient):
        canvas.drawString(left, y, line)
        y -= 4.8 * mm
    if label.relay_point_id:
        canvas.setFont("Helvetica", 9)
        canvas.drawString(left, y, f"Relay point {label.relay_point_id}")
        y -= 4.8 * mm
    canvas.setFont("Helvetica", 9)
    canvas.drawString(
        left,
        36 * mm,
        f"Parcel {label.parcel_index}/{label.parcel_count}   {label.weight_grams} g   "
        f"zone {label.zone}",
    )
    canvas.drawString(left, 32 * mm, f"Ref {label.reference}  Order {label.order_reference}")
    barcode = _SymbolCode128(
        label.barcode, barWidth=0.3 * mm, barHeight=16 * mm, humanReadable=False, quiet=False
    )
    barcode.drawOn(canvas, left, 13 * mm)
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(left, 8 * mm, label.tracking_number)


def labels_pdf(labels: Sequence[LabelData]) -> bytes:
    """One A6 page per parcel label, in the order given."""
    buffer = io.BytesIO()
    title = labels[0].reference if labels else "labels"
    canvas = pdf_canvas(buffer, pagesize=A6, title=f"Labels {title}")
    for label in labels:
        _draw_label(canvas, label)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
