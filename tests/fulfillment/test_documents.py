"""Pick list and packing slip PDFs: a PDF, the right number of pages, the expected text."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from fulfillment.documents import PICK_ROWS_PER_PAGE, packing_slip_pdf, pick_list_pdf
from fulfillment.models import PickList, PickTask
from fulfillment.services.picking import picking_plan_location
from omnilog.core.errors import NotFound
from tests.fulfillment.pickpack_support import NOW, accepted, packed, pickpack_network

pytestmark = pytest.mark.django_db


def _pages(content: bytes) -> list[str]:
    assert content.startswith(b"%PDF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def test_pick_list_pdf_lists_the_stops_with_barcodes() -> None:
    net = pickpack_network()
    _, fo = accepted(net, {"SHIRT": 2, "MUG": 1})
    (pick_list_id,) = picking_plan_location(location_id=net["wh1"].pk, now=NOW).pick_list_ids

    content = pick_list_pdf(pick_list_id=pick_list_id, page_compression=0)

    (text,) = _pages(content)
    assert f"Pick list PL-{pick_list_id} (W01-C01)" in text
    assert "A-01-1" in text
    assert "B-04-2" in text
    assert "3000000000017" in text
    assert f"FO-{fo.pk}" in text
    assert "page 1/1" in text
    assert b"/Subtype /Image" not in content  # barcodes are vector drawings, not images


def test_a_long_pick_list_runs_over_several_pages() -> None:
    net = pickpack_network()
    accepted(net, {"SHIRT": 1, "MUG": 1})
    (pick_list_id,) = picking_plan_location(location_id=net["wh1"].pk, now=NOW).pick_list_ids
    task = PickTask.objects.filter(pick_list_id=pick_list_id).first()
    assert task is not None
    extra = PICK_ROWS_PER_PAGE * 2 - 1  # 2 real stops + 31 copies = 33 rows: 3 pages
    PickTask.objects.bulk_create(
        PickTask(
            pick_list_id=pick_list_id,
            sequence=10 + index,
            fulfillment_order_line_id=task.fulfillment_order_line_id,
            sku=f"X{index}",
            quantity=1,
            status="done",
        )
        for index in range(extra)
    )
    pages = _pages(pick_list_pdf(pick_list_id=pick_list_id, page_compression=0))
    assert len(pages) == 3
    assert "page 3/3" in pages[2]
    assert PickList.objects.get(pk=pick_list_id).code == "W01-C01"


def test_packing_slip_has_one_page_per_parcel() -> None:
    net = pickpack_network()
    order, fo = packed(net, {"SHIRT": 2, "MUG": 1})

    (text,) = _pages(packing_slip_pdf(fulfillment_order_id=fo.pk, page_compression=0))

    assert f"Packing slip - order {order.number}" in text
    assert "Parcel 1/1 - box S - 1300 g - 300x200x100 mm" in text
    assert "SHIRT" in text
    assert "MUG" in text
    with pytest.raises(NotFound):
        packing_slip_pdf(fulfillment_order_id=fo.pk + 1000)
