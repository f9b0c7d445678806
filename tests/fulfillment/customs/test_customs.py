"""Customs: territory, CN22/CN23 data, VAT by destination (OSS), duties DDP vs DAP, invoices."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from fulfillment.customs import (
    CustomsError,
    CustomsLine,
    DeclarationForm,
    Incoterm,
    ItemCategory,
    Party,
    VatRegime,
    commercial_invoice,
    crosses_customs_border,
    customs_declaration,
    duties_estimate,
    is_in_eu_customs_territory,
    is_in_eu_vat_territory,
    vat_for_destination,
)

ON = date(2026, 11, 21)


def line(**changes):
    values: dict[str, Any] = {
        "description": "Cotton T-shirt",
        "quantity": 2,
        "unit_value": Decimal("60.00"),
        "unit_net_weight_grams": 200,
        "hs_code": "6109.10.00",
        "origin_country": "PT",
        "sku": "TS-1",
    }
    values.update(changes)
    return CustomsLine(**values)


# Territory ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "postcode", "customs", "vat"),
    [
        ("FR", "75001", True, True),
        ("DE", "10115", True, True),
        ("EL", "10431", True, True),  # Greece under its EU code
        ("MC", "98000", True, True),
        ("ES", "35001", False, False),  # Las Palmas, Canary Islands
        ("FR", "97200", True, False),  # Martinique
        ("GP", "", True, False),
        ("FI", "22100", True, False),  # Åland
        ("DE", "27498", False, False),  # Heligoland
        ("GB", "SW1A 1AA", False, False),
        ("CH", "8001", False, False),
    ],
)
def test_territories(country, postcode, customs, vat):
    assert is_in_eu_customs_territory(country, postcode) is customs
    assert is_in_eu_vat_territory(country, postcode) is vat


def test_crossing_the_border():
    assert not crosses_customs_border(origin_country="FR", destination_country="DE")
    assert crosses_customs_border(origin_country="FR", destination_country="GB")
    assert crosses_customs_border(
        origin_country="FR", destination_country="ES", destination_postcode="38001"
    )
    assert crosses_customs_border(
        origin_country="FR", destination_country="FR", destination_postcode="97400"
    )


# CN22 / CN23 -------------------------------------------------------------------------------


def declare(lines, destination="GB", **changes):
    values: dict[str, Any] = {
        "lines": lines,
        "origin_country": "FR",
        "destination_country": destination,
        "currency": "EUR",
        "incoterm": Incoterm.DAP,
    }
    values.update(changes)
    return customs_declaration(**values)


def test_no_declaration_inside_the_union():
    assert declare([line()], destination="DE") is None


def test_cn22_with_every_field():
    result = declare([line()], gross_weight_grams=550, postage=Decimal("14.9"))
    assert result.form == DeclarationForm.CN22
    assert result.category == ItemCategory.SALE_OF_GOODS
    (declared,) = result.lines
    assert declared.description == "Cotton T-shirt"
    assert (declared.quantity, declared.net_weight_grams, declared.value) == (
        2,
        400,
        Decimal("120.00"),
    )
    assert (declared.hs_code, declared.origin_country) == ("61091000", "PT")
    assert (result.total_value, result.total_net_weight_grams, result.gross_weight_grams) == (
        Decimal("120.00"),
        400,
        550,
    )
    assert (result.origin_country, result.destination_country, result.currency) == (
        "FR",
        "GB",
        "EUR",
    )
    assert result.postage == Decimal("14.90")
    assert result.requires_commercial_invoice


@pytest.mark.parametrize(
    ("unit_value", "form"),
    [(Decimal("500.00"), DeclarationForm.CN22), (Decimal("500.01"), DeclarationForm.CN23)],
)
def test_value_threshold(unit_value, form):
    assert declare([line(unit_value=unit_value)]).form == form  # 2 units: 1000.00 / 1000.02


def test_weight_threshold():
    assert declare([line()], gross_weight_grams=2_000).form == DeclarationForm.CN22
    assert declare([line()], gross_weight_grams=2_001).form == DeclarationForm.CN23


def test_other_currency_is_converted_for_the_threshold():
    result = declare([line(unit_value=Decimal("450"))], currency="GBP", eur_rate=Decimal("1.19"))
    assert result.total_value == Decimal("900.00")
    assert result.total_value_eur == Decimal("1071.00")
    assert result.form == DeclarationForm.CN23
    with pytest.raises(CustomsError) as caught:
        declare([line()], currency="GBP")
    assert caught.value.code == "exchange_rate_missing"


def test_every_problem_is_listed():
    bad = [
        line(description="gift", hs_code="6109"),
        line(quantity=0, origin_country="Portugal", unit_net_weight_grams=0),
    ]
    with pytest.raises(CustomsError) as caught:
        declare(bad, category=ItemCategory.OTHER)
    assert caught.value.code == "declaration_invalid"
    assert [(p.line_index, p.code) for p in caught.value.problems] == [
        (0, "description_vague"),
        (0, "hs_code_invalid"),
        (1, "quantity_invalid"),
        (1, "weight_missing"),
        (1, "origin_invalid"),
        (None, "explanation_missing"),
    ]


def test_gift_and_return_categories():
    gift = declare([line()], category=ItemCategory.GIFT)
    assert gift.category == ItemCategory.GIFT
    assert not gift.requires_commercial_invoice
    returned = declare([line()], category=ItemCategory.RETURNED_GOODS, destination="CH")
    assert returned.category == ItemCategory.RETURNED_GOODS


# VAT ---------------------------------------------------------------------------------------


def vat(country, tax_class="standard", **changes):
    return vat_for_destination(country=country, tax_class=tax_class, on=ON, **changes)


def test_oss_uses_the_destination_rate():
    result = vat("DE")
    assert (result.rate, result.country_of_taxation, result.regime) == (
        Decimal(19),
        "DE",
        VatRegime.OSS_DESTINATION,
    )
    assert vat("DE", "reduced").rate == Decimal(7)
    assert vat("IT", "super_reduced").rate == Decimal(4)


def test_domestic_and_below_threshold_use_the_origin_rate():
    assert (vat("FR").rate, vat("FR").regime) == (Decimal(20), VatRegime.DOMESTIC)
    assert vat("FR", "reduced").rate == Decimal("5.5")
    assert vat("FR", "super_reduced").rate == Decimal("2.1")
    assert vat("MC").regime == VatRegime.DOMESTIC
    below = vat("DE", below_distance_sales_threshold=True)
    assert (below.rate, below.regime, below.country_of_taxation) == (
        Decimal(20),
        VatRegime.ORIGIN_BELOW_THRESHOLD,
        "FR",
    )


def test_missing_level_falls_back_to_the_next_higher():
    result = vat("DK", "reduced")
    assert (result.rate, result.applied_class) == (Decimal(25), "standard")
    assert vat("DE", "super_reduced").applied_class == "reduced"


def test_reverse_charge_and_exports():
    b2b = vat("DE", is_business_buyer_with_vat_number=True)
    assert (b2b.rate, b2b.regime) == (Decimal(0), VatRegime.REVERSE_CHARGE)
    for country, postcode in [("GB", ""), ("ES", "35001"), ("FR", "97200"), ("US", "")]:
        export = vat(country, postcode=postcode)
        assert (export.rate, export.regime) == (Decimal(0), VatRegime.EXPORT)


def test_dated_rate_changes():
    before = vat_for_destination(country="EE", tax_class="standard", on=date(2025, 6, 30))
    after = vat_for_destination(country="EE", tax_class="standard", on=date(2025, 7, 1))
    assert (before.rate, after.rate) == (Decimal(22), Decimal(24))
    assert (before.rates_in_force_from, after.rates_in_force_from) == (
        date(2025, 1, 1),
        date(2025, 7, 1),
    )
    assert vat("RO", "reduced").rate == Decimal(11)
    assert vat("FI", "intermediate").rate == Decimal("13.5")


def test_unknown_tax_class_and_seller_outside_the_union():
    with pytest.raises(CustomsError) as caught:
        vat("DE", "luxury")
    assert caught.value.code == "unknown_tax_class"
    with pytest.raises(CustomsError) as caught:
        vat("DE", seller_country="GB")
    assert caught.value.code == "seller_outside_eu"


# Duties ------------------------------------------------------------------------------------


def estimate(lines, destination, incoterm, **changes):
    return duties_estimate(
        lines=lines, destination_country=destination, incoterm=incoterm, **changes
    )


def test_gb_ddp_seller_pays_duty_and_import_vat():
    lines = [line(origin_country="CN", unit_value=Decimal("100.00"))]
    result = estimate(lines, "GB", Incoterm.DDP, shipping=Decimal("20.00"))
    assert result.customs_value == Decimal("220.00")  # CIF: goods + shipping
    assert (result.duty, result.import_vat) == (Decimal("26.40"), Decimal("49.28"))
    assert result.total_import_taxes == Decimal("75.68")
    assert (result.seller_cost, result.to_collect) == (Decimal("75.68"), Decimal("0.00"))
    assert result.lines[0].duty_rate == Decimal(12)


def test_gb_dap_customer_pays_with_the_clearance_fee():
    lines = [line(origin_country="CN", unit_value=Decimal("100.00"))]
    result = estimate(
        lines, "GB", Incoterm.DAP, shipping=Decimal("20.00"), clearance_fee=Decimal("12.00")
    )
    assert (result.seller_cost, result.to_collect) == (Decimal("0.00"), Decimal("87.68"))


def test_gb_eu_origin_is_duty_free():
    result = estimate([line(unit_value=Decimal("100.00"))], "GB", Incoterm.DDP)
    assert result.lines[0].is_preferential
    assert (result.duty, result.import_vat) == (Decimal("0.00"), Decimal("40.00"))


def test_gb_low_value_vat_is_charged_at_checkout():
    lines = [line(origin_country="CN", unit_value=Decimal("50.00"))]
    result = estimate(lines, "GB", Incoterm.DAP, shipping=Decimal("10.00"))
    assert result.is_below_duty_de_minimis
    assert (result.duty, result.import_vat, result.vat_at_checkout) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("22.00"),
    )
    assert result.to_collect == Decimal("0.00")


def test_us_fob_de_minimis_and_duty():
    shoes = line(description="Leather shoes", hs_code="640399", origin_country="IT")
    small = estimate([shoes], "US", Incoterm.DAP, shipping=Decimal("30"))
    assert (small.is_below_duty_de_minimis, small.total_import_taxes) == (True, Decimal("0.00"))
    big = estimate(
        [replace(shoes, unit_value=Decimal("500.00"))],
        "US",
        Incoterm.DAP,
        shipping=Decimal("30"),
        clearance_fee=Decimal("15"),
    )
    assert big.customs_value == Decimal("1000.00")  # FOB: shipping left out
    assert (big.duty, big.import_vat, big.to_collect) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("115.00"),
    )


def test_ch_industrial_goods_and_small_vat_not_collected():
    result = estimate([line()], "CH", Incoterm.DDP, shipping=Decimal("20.00"))
    assert (result.duty, result.import_vat) == (Decimal("0.00"), Decimal("11.34"))  # 8.1% of 140
    small = estimate([line(quantity=1, unit_value=Decimal("40.00"))], "CH", Incoterm.DDP)
    assert small.import_vat == Decimal("0.00")  # 3.24 is under CHF 5
    assert small.seller_cost == Decimal("0.00")
    reduced = estimate([line(tax_class="reduced")], "CH", Incoterm.DAP)
    assert reduced.lines[0].vat_rate == Decimal("2.6")


def test_destination_without_a_table():
    with pytest.raises(CustomsError) as caught:
        estimate([line()], "JP", Incoterm.DDP)
    assert caught.value.code == "no_duty_table"


# Commercial invoice ------------------------------------------------------------------------

SELLER = Party(name="Omnilog Shop", country="FR", postcode="75001", eori="FR123456789")
BUYER = Party(name="Jane Doe", country="GB", postcode="SW1A 1AA")


def test_commercial_invoice_data():
    duties = estimate([line()], "GB", Incoterm.DDP, shipping=Decimal("15.00"))
    invoice = commercial_invoice(
        invoice_number="INV-2026-0042",
        issued_on=date(2026, 11, 21),
        seller=SELLER,
        buyer=BUYER,
        lines=[line()],
        currency="eur",
        incoterm=Incoterm.DDP,
        shipping=Decimal("15"),
        gross_weight_grams=600,
        exporter_reference="FRREX123",
        duties=duties,
    )
    assert invoice is not None
    assert invoice.duties is not None
    assert (invoice.goods_total, invoice.shipping, invoice.total) == (
        Decimal("120.00"),
        Decimal("15.00"),
        Decimal("135.00"),
    )
    assert invoice.currency == "EUR"
    assert invoice.ship_to == BUYER
    assert invoice.lines[0].hs_code == "61091000"
    assert "FRREX123" in invoice.origin_statement
    assert invoice.duties.seller_cost == duties.total_import_taxes
    inside = commercial_invoice(
        invoice_number="INV-1",
        issued_on=date(2026, 11, 21),
        seller=SELLER,
        buyer=Party(name="Max", country="DE"),
        lines=[line()],
        currency="EUR",
        incoterm=Incoterm.DAP,
    )
    assert inside is None


def test_commercial_invoice_problems():
    with pytest.raises(CustomsError) as caught:
        commercial_invoice(
            invoice_number=" ",
            issued_on=date(2026, 11, 21),
            seller=SELLER,
            buyer=BUYER,
            lines=[line(hs_code="")],
            currency="EUR",
            incoterm=Incoterm.DAP,
        )
    assert [p.code for p in caught.value.problems] == ["hs_code_invalid", "invoice_number_missing"]
