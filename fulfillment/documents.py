"""Printed documents: pick lists and packing slips as PDF (reportlab), with Code128 barcodes
(pick list, EANs, order number) and a QR code (the order's tracking link) where a phone helps.

Read-only: these functions read the rows and render; they never write. ``page_compression=0``
leaves the page streams readable (tests); ``invariant`` output makes the same rows give the
same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, Parcel, PickList, PickTask
from omnilog.core.errors import NotFound

PICK_ROWS_PER_PAGE = 16
SLIP_ROWS_PER_PAGE = 20
WIDTH, HEIGHT = A4
MARGIN = 15 * mm


@dataclass(frozen=True)
class _Row:
    cells: tuple[str, ...]
    barcode: str = ""


def _canvas(buffer: io.BytesIO, title: str, page_compression: int) -> Canvas:
    pdf = Canvas(buffer, pagesize=A4, pageCompression=page_compression, invariant=1)
    pdf.setTitle(title)
    pdf.setAuthor("Omnilog")
    return pdf


def _code128(pdf: Canvas, value: str, x: float, y: float, height: float = 12 * mm) -> None:
    barcode = code128.Code128(value, barHeight=height, barWidth=0.33 * mm, humanReadable=True)
    barcode.drawOn(pdf, x, y)


def _qr(pdf: Canvas, value: str, x: float, y: float, size: float = 25 * mm) -> None:
    widget = qr.QrCodeWidget(value)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0]
    )
    drawing.add(widget)
    renderPDF.draw(drawing, pdf, x, y)


def _chunks(rows: Sequence[_Row], size: int) -> list[Sequence[_Row]]:
    return [rows[start : start + size] for start in range(0, len(rows), size)] or [()]


def _table(
    pdf: Canvas,
    *,
    top: float,
    columns: Sequence[tuple[str, float]],
    rows: Sequence[_Row],
    row_height: float,
) -> None:
    pdf.setFont("Helvetica-Bold", 9)
    for title, x in columns:
        pdf.drawString(MARGIN + x, top, title)
    pdf.line(MARGIN, top - 2 * mm, WIDTH - MARGIN, top - 2 * mm)
    y = top - 7 * mm
    for row in rows:
        pdf.setFont("Helvetica", 9)
        for (_, x), cell in zip(columns, row.cells, strict=False):
            pdf.drawString(MARGIN + x, y, cell)
        if row.barcode:
            _code128(pdf, row.barcode, WIDTH - MARGIN - 55 * mm, y - 3 * mm, height=7 * mm)
        y -= row_height


def pick_list_pdf(*, pick_list_id: int, page_compression: int = 1) -> bytes:
    """The pick list: stops in walking order (bin, SKU, EAN with its barcode, quantity, tote or
    sort slot), ``PICK_ROWS_PER_PAGE`` per page, the list's Code128 on every page."""
    pick_list = PickList.objects.select_related("wave", "location").filter(pk=pick_list_id).first()
    if pick_list is None:
        raise NotFound(f"No pick list {pick_list_id}.", code="pick_list_not_found")
    tasks = list(
        PickTask.objects.filter(pick_list=pick_list)
        .select_related("fulfillment_order_line")
        .order_by("sequence", "tote", "sort_slot", "id")
    )
    rows = [
        _Row(
            cells=(
                str(task.sequence),
                task.bin_location or "-",
                task.sku,
                task.ean or "-",
                str(task.quantity),
                f"T{task.tote}" if task.tote else (f"S{task.sort_slot}" if task.sort_slot else "-"),
                f"FO-{task.fulfillment_order_line.fulfillment_order_id}",
                "done" if task.status == PickTask.Status.DONE else "",
            ),
            barcode=task.ean,
        )
        for task in tasks
    ]
    label = f"PL-{pick_list.pk}"
    buffer = io.BytesIO()
    pdf = _canvas(buffer, f"Pick list {label}", page_compression)
    pages = _chunks(rows, PICK_ROWS_PER_PAGE)
    for number, chunk in enumerate(pages, start=1):
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawString(MARGIN, HEIGHT - MARGIN - 5 * mm, f"Pick list {label} ({pick_list.code})")
        pdf.setFont("Helvetica", 9)
        pdf.drawString(
            MARGIN,
            HEIGHT - MARGIN - 11 * mm,
            f"{pick_list.get_kind_display()} - wave {pick_list.wave.code} "
            f"({pick_list.wave.get_kind_display()}) - location {pick_list.location.code}",
        )
        pdf.drawString(
            MARGIN,
            HEIGHT - MARGIN - 16 * mm,
            f"orders {pick_list.order_count}  lines {pick_list.line_count}  units "
            f"{pick_list.unit_count}  weight {pick_list.weight_grams / 1000:.1f} kg  "
            f"page {number}/{len(pages)}",
        )
        _code128(pdf, label, WIDTH - MARGIN - 45 * mm, HEIGHT - MARGIN - 17 * mm)
        _table(
            pdf,
            top=HEIGHT - MARGIN - 28 * mm,
            columns=(
                ("#", 0),
                ("Bin", 8 * mm),
                ("SKU", 30 * mm),
                ("EAN", 58 * mm),
                ("Qty", 86 * mm),
                ("Put", 96 * mm),
                ("For", 108 * mm),
                ("", 125 * mm),
            ),
            rows=chunk,
            row_height=14 * mm,
        )
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _address_lines(address: dict[str, object]) -> list[str]:
    keys = ("name", "company", "line1", "line2", "address_line", "postcode", "city", "country")
    return [str(address[key]) for key in keys if address.get(key)]


def packing_slip_pdf(*, fulfillment_order_id: int, page_compression: int = 1) -> bytes:
    """The packing slip: one page per parcel (its items) or, before packing, one page with every
    open line; order number as Code128 and the tracking link as QR code."""
    fulfillment_order = (
        FulfillmentOrder.objects.select_related("order", "location")
        .filter(pk=fulfillment_order_id)
        .first()
    )
    if fulfillment_order is None:
        raise NotFound(
            f"No fulfillment order {fulfillment_order_id}.", code="fulfillment_order_not_found"
        )
    order = fulfillment_order.order
    parcels = list(
        Parcel.objects.filter(fulfillment_order=fulfillment_order)
        .prefetch_related("items__fulfillment_order_line__order_line")
        .order_by("number")
    )
    pages: list[tuple[str, list[_Row]]] = []
    for parcel in parcels:
        detail = f"Parcel {parcel.number}/{len(parcels)}"
        if parcel.status == Parcel.Status.CLOSED:
            detail += (
                f" - box {parcel.box_code} - {parcel.weight_grams} g - "
                f"{parcel.length_mm}x{parcel.width_mm}x{parcel.height_mm} mm"
            )
        rows = [
            _Row(
                cells=(
                    item.fulfillment_order_line.order_line.sku,
                    item.fulfillment_order_line.order_line.name[:40],
                    str(item.quantity),
                )
            )
            for item in parcel.items.all()
        ]
        pages += [(detail, list(chunk)) for chunk in _chunks(rows, SLIP_ROWS_PER_PAGE)]
    if not parcels:
        lines = FulfillmentOrderLine.objects.filter(fulfillment_order=fulfillment_order)
        rows = [
            _Row(cells=(line.order_line.sku, line.order_line.name[:40], str(line.quantity_open)))
            for line in lines.select_related("order_line").order_by("id")
            if line.quantity_open
        ]
        pages = [("Not packed yet", list(chunk)) for chunk in _chunks(rows, SLIP_ROWS_PER_PAGE)]
    buffer = io.BytesIO()
    pdf = _canvas(buffer, f"Packing slip {order.number}", page_compression)
    tracking = (
        f"{getattr(settings, 'PUBLIC_BASE_URL', '').rstrip('/')}/track/{order.tracking_token}"
    )
    for number, (detail, rows) in enumerate(pages, start=1):
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawString(MARGIN, HEIGHT - MARGIN - 5 * mm, f"Packing slip - order {order.number}")
        pdf.setFont("Helvetica", 9)
        pdf.drawString(
            MARGIN,
            HEIGHT - MARGIN - 11 * mm,
            f"FO-{fulfillment_order.pk} from {fulfillment_order.location.name} "
            f"({fulfillment_order.location.code}) - {fulfillment_order.delivery_mode}",
        )
        pdf.drawString(MARGIN, HEIGHT - MARGIN - 16 * mm, f"{detail} - page {number}/{len(pages)}")
        y = HEIGHT - MARGIN - 24 * mm
        for text in _address_lines(order.shipping_address or {}):
            pdf.drawString(MARGIN, y, text)
            y -= 4.5 * mm
        _code128(pdf, order.number, WIDTH - MARGIN - 75 * mm, HEIGHT - MARGIN - 20 * mm)
        _qr(pdf, tracking, WIDTH - MARGIN - 25 * mm, HEIGHT - MARGIN - 45 * mm)
        _table(
            pdf,
            top=HEIGHT - MARGIN - 60 * mm,
            columns=(("SKU", 0), ("Item", 35 * mm), ("Qty", 130 * mm)),
            rows=rows,
            row_height=7 * mm,
        )
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
