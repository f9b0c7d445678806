"""Customs paperwork on shipments leaving the EU: CN22 vs CN23, duties, commercial invoice."""

from __future__ import annotations

import pytest

from fulfillment.models import Shipment
from fulfillment.services.shipping import ParcelInput, shipment_create
from inventory.models import Product
from omnilog.core.errors import ValidationFailed
from tests.fulfillment.shipping_support import accepted_fulfillment_order, builtin_carrier


@pytest.fixture(autouse=True)
def _uncompressed_pdfs(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SHIPPING_PDF_COMPRESS = False


def _ship(fo_id: int, weight_grams: int, incoterm: str = "DAP") -> Shipment:
    return shipment_create(
        fulfillment_order_id=fo_id,
        carrier_code="omnilog-rates",
        service="standard",
        parcels=[ParcelInput(weight_grams, 300, 200, 100)],
        incoterm=incoterm,
        actor="t",
    )


@pytest.mark.django_db
def test_light_parcel_to_switzerland_takes_a_cn22_and_an_invoice() -> None:
    builtin_carrier()
    _, order, fo = accepted_fulfillment_order("CH")
    shipment = _ship(fo.pk, 900)
    shipment.refresh_from_db()

    assert (shipment.zone, str(shipment.price)) == ("europe", "19.90")
    assert (shipment.customs_form, shipment.incoterm) == ("CN22", "DAP")
    declaration = shipment.customs_data["declaration"]
    assert declaration["lines"] == [
        {
            "description": "Cotton T-shirt",
            "quantity": 2,
            "net_weight_grams": 400,
            "value": "40.00",
            "hs_code": "610910",
            "origin_country": "PT",
            "sku": "SHIRT",
        },
        {
            "description": "Ceramic mug",
            "quantity": 1,
            "net_weight_grams": 350,
            "value": "7.50",
            "hs_code": "691200",
            "origin_country": "CN",
            "sku": "MUG",
        },
    ]
    assert (
        declaration["total_value"],
        declaration["total_net_weight_grams"],
        declaration["gross_weight_grams"],
        declaration["origin_country"],
        declaration["destination_country"],
        declaration["postage"],
        declaration["invoice_number"],
        declaration["category"],
    ) == ("47.50", 750, 900, "FR", "CH", "19.90", f"CI-{shipment.pk}", "sale_of_goods")
    invoice = shipment.customs_data["invoice"]
    assert (invoice["goods_total"], invoice["shipping"], invoice["total"]) == (
        "47.50",
        "19.90",
        "67.40",
    )
    assert invoice["order_reference"] == order.number
    assert shipment.customs_data["duties"]["destination_country"] == "CH"
    pdf = bytes(shipment.commercial_invoice_pdf or b"")
    assert pdf.startswith(b"%PDF")
    assert f"(No CI-{shipment.pk}".encode() in pdf
    assert b"(CUSTOMS DECLARATION CN22)" in pdf
    assert rb"(Cotton T-shirt \(SHIRT\))" in pdf


@pytest.mark.django_db
def test_heavy_parcel_to_the_us_takes_a_cn23() -> None:
    builtin_carrier()
    _, _, fo = accepted_fulfillment_order("US")
    shipment = _ship(fo.pk, 2_500, incoterm="DDP")
    shipment.refresh_from_db()

    assert (shipment.zone, str(shipment.price)) == ("world", "49.90")  # 5 kg band
    assert (shipment.customs_form, shipment.incoterm) == ("CN23", "DDP")
    assert shipment.customs_data["declaration"]["gross_weight_grams"] == 2_500
    assert shipment.customs_data["declaration"]["incoterm"] == "DDP"
    assert b"(CUSTOMS DECLARATION CN23)" in bytes(shipment.commercial_invoice_pdf or b"")


@pytest.mark.django_db
def test_missing_hs_code_refuses_the_export_and_writes_nothing() -> None:
    builtin_carrier()
    _, _, fo = accepted_fulfillment_order("US")
    Product.objects.filter(sku="MUG").update(hs_code="")

    with pytest.raises(ValidationFailed) as refused:
        _ship(fo.pk, 900)

    assert refused.value.code == "customs_invalid"
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("lines.1.hs_code", "hs_code_invalid")
    ]
    assert Shipment.objects.count() == 0
