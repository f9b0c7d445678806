"""Packing: every unit scanned, wrong items and excess refused with nothing written, parcels
closed with weight, dimensions and a box; box suggestion table."""

from __future__ import annotations

import pytest

from fulfillment.models import PackedItem, Parcel
from fulfillment.picking.boxes import BOX_CATALOGUE, Box, PackItem, box_suggest
from fulfillment.services.packing import pack_close, pack_scan
from omnilog.core.errors import Conflict, ValidationFailed
from omnilog.core.models import OutboxEvent
from tests.factories import ProductFactory
from tests.fulfillment.pickpack_support import MUG_EAN, SHIRT_EAN, picked, pickpack_network
from tests.fulfillment.service_support import snapshot

SHIRT = PackItem(300, 200, 30, 250)
MUG = PackItem(120, 90, 100, 400)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], "XS"),
        ([PackItem(150, 100, 40, 200)], "XS"),
        ([SHIRT], "S"),  # 300 mm does not fit XS (200 mm)
        ([PackItem(300, 200, 30, 250, quantity=2)], "S"),  # 3.6 of 4.8 litres
        ([PackItem(300, 200, 30, 250, quantity=6)], "M"),  # 10.8 litres > 80 % of S
        ([SHIRT, MUG], "S"),
        ([PackItem(100, 100, 40, 1_950)], "S"),  # 1.95 kg + 60 g tare > 2 kg for XS
        ([PackItem(0, 0, 0, 300)], "XS"),  # unmeasured: weight only
        ([PackItem(650, 100, 100, 500)], None),  # longer than every box
        ([PackItem(100, 100, 100, 31_000)], None),  # heavier than every box
    ],
)
def test_box_suggestion_table(items: list[PackItem], expected: str | None) -> None:
    box = box_suggest(items)
    assert (box.code if box else None) == expected


def test_box_suggestion_picks_the_smallest_of_any_catalogue_order() -> None:
    catalogue = (Box("BIG", 500, 500, 500, 20_000), Box("TINY", 100, 100, 100, 1_000))
    assert box_suggest([PackItem(50, 50, 50, 100)], catalogue).code == "TINY"  # type: ignore[union-attr]
    assert [box.code for box in BOX_CATALOGUE] == ["XS", "S", "M", "L", "XL"]


@pytest.mark.django_db
def test_every_unit_is_scanned_then_the_parcel_closes_with_a_suggested_box() -> None:
    net = pickpack_network()
    _, fo = picked(net, {"SHIRT": 2, "MUG": 1})

    first = pack_scan(fulfillment_order_id=fo.pk, ean=SHIRT_EAN, actor="leo")
    assert (first.parcel_number, first.sku, first.line_packed, first.line_picked) == (
        1,
        "SHIRT",
        1,
        2,
    )
    assert first.units_left == 2
    pack_scan(fulfillment_order_id=fo.pk, ean=SHIRT_EAN, actor="leo")
    last = pack_scan(fulfillment_order_id=fo.pk, ean=MUG_EAN, actor="leo")
    assert last.units_left == 0

    parcel = pack_close(fulfillment_order_id=fo.pk, weight_grams=1_020, actor="leo")

    assert (parcel.status, parcel.box_code, parcel.suggested_box_code) == ("closed", "S", "S")
    assert (parcel.weight_grams, parcel.length_mm, parcel.width_mm, parcel.height_mm) == (
        1_020,
        300,
        200,
        100,
    )
    assert sorted(
        PackedItem.objects.filter(parcel=parcel).values_list(
            "fulfillment_order_line__order_line__sku", "quantity"
        )
    ) == [("MUG", 1), ("SHIRT", 2)]
    fo.refresh_from_db()
    assert fo.status == "packed"
    assert fo.packed_at is not None
    assert (
        OutboxEvent.objects.filter(
            aggregate_id=str(fo.pk), topic="fulfillment_order.packed"
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_wrong_item_and_excess_are_refused_naming_the_item_with_nothing_written() -> None:
    net = pickpack_network()
    order, fo = picked(net, {"SHIRT": 1})
    ProductFactory(sku="CAP", name="Cap", ean="3000000000031")
    pack_scan(fulfillment_order_id=fo.pk, ean=SHIRT_EAN, actor="leo")
    before = snapshot(order)
    parcels = list(Parcel.objects.values())
    items = list(PackedItem.objects.values())

    with pytest.raises(Conflict) as wrong:
        pack_scan(fulfillment_order_id=fo.pk, ean="3000000000031", actor="leo")
    assert wrong.value.code == "wrong_item"
    assert wrong.value.message == f"Wrong item: 3000000000031 (CAP Cap) is not part of FO-{fo.pk}."
    with pytest.raises(Conflict) as unknown:
        pack_scan(fulfillment_order_id=fo.pk, ean="999", actor="leo")
    assert unknown.value.message == f"Wrong item: 999 (unknown EAN) is not part of FO-{fo.pk}."
    with pytest.raises(Conflict) as excess:
        pack_scan(fulfillment_order_id=fo.pk, ean=SHIRT_EAN, actor="leo")
    assert excess.value.code == "excess_item"
    assert excess.value.message == (
        f"Excess item: SHIRT Shirt: all 1 picked unit(s) of FO-{fo.pk} are already packed."
    )
    with pytest.raises(ValidationFailed):
        pack_close(fulfillment_order_id=fo.pk, weight_grams=0, actor="leo")
    with pytest.raises(ValidationFailed):
        pack_close(fulfillment_order_id=fo.pk, weight_grams=300, box_code="Z", actor="leo")

    assert snapshot(order) == before
    assert list(Parcel.objects.values()) == parcels
    assert list(PackedItem.objects.values()) == items


@pytest.mark.django_db
def test_an_accepted_order_cannot_be_packed_before_it_is_picked() -> None:
    from tests.fulfillment.pickpack_support import accepted

    net = pickpack_network()
    _, fo = accepted(net, {"SHIRT": 1})
    with pytest.raises(Conflict) as error:
        pack_scan(fulfillment_order_id=fo.pk, ean=SHIRT_EAN, actor="leo")
    assert error.value.code == "invalid_transition"
