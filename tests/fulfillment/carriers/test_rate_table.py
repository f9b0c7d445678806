"""The built-in rate-table carrier: zones, weight bands, dimensional weight, limits, labels,
tracking numbers and the registry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fulfillment.carriers import (
    Address,
    CarrierAdapter,
    CarrierError,
    Parcel,
    RateTableCarrier,
    RefusalCode,
    Service,
    ShipmentRequest,
    TrackingStatus,
    carrier_get,
    carrier_register,
    code128_b,
    is_valid_tracking_number,
    luhn_check_digit,
    tracking_number,
    volumetric_weight_grams,
)

CARRIER = RateTableCarrier()
PARIS = Address("FR", "75001", "Paris", latitude=48.8566, longitude=2.3522)
PARIS_EAST = Address("FR", "75011", "Paris", latitude=48.8600, longitude=2.4200)
ORLEANS = Address("FR", "45000", "Orléans", latitude=47.9030, longitude=1.9093)
MARSEILLE = Address("FR", "13001", "Marseille", latitude=43.2965, longitude=5.3698)
SMALL = Parcel(weight_grams=800, length_mm=300, width_mm=200, height_mm=100)


def quote(parcels, destination, service=Service.STANDARD, origin=PARIS):
    return CARRIER.quote(parcels, origin, destination, service)


@pytest.mark.parametrize(
    ("destination", "zone", "price", "transit"),
    [
        (PARIS_EAST, "local", "6.50", 1),
        (ORLEANS, "regional", "7.20", 2),
        (MARSEILLE, "national", "7.90", 2),
        (Address("FR", "33000"), "national", "7.90", 2),  # no coordinates
        (Address("MC", "98000"), "national", "7.90", 2),  # Monaco is served as France
        (Address("DE", "10115"), "eu", "14.90", 4),
        (Address("GB", "SW1A 1AA"), "europe", "19.90", 5),
        (Address("US", "10001"), "world", "32.90", 8),
    ],
)
def test_zones_and_prices(destination, zone, price, transit):
    # 800 g actual, 300 x 200 x 100 mm = 1,200 g volumetric: the 2 kg band.
    result = quote([SMALL], destination)
    assert result.is_available
    assert (result.zone, result.price, result.transit_days) == (zone, Decimal(price), transit)
    assert result.parcels[0].chargeable_weight_grams == 1_200
    assert result.parcels[0].weight_band_max_grams == 2_000


@pytest.mark.parametrize(
    ("weight", "band", "price"),
    [(1, 500, "5.90"), (500, 500, "5.90"), (501, 1_000, "6.90"), (30_000, 30_000, "29.90")],
)
def test_weight_band_edges(weight, band, price):
    parcel = Parcel(weight_grams=weight, length_mm=100, width_mm=100, height_mm=100)
    result = quote([parcel], MARSEILLE)
    assert result.parcels[0].weight_band_max_grams == band
    assert result.price == Decimal(price)


def test_dimensional_weight_decides_when_larger():
    light_box = Parcel(weight_grams=1_000, length_mm=400, width_mm=300, height_mm=200)
    assert volumetric_weight_grams(light_box) == 4_800  # 40 x 30 x 20 cm / 5000
    result = quote([light_box], MARSEILLE)
    charge = result.parcels[0]
    assert (charge.actual_weight_grams, charge.chargeable_weight_grams) == (1_000, 4_800)
    assert result.price == Decimal("10.90")
    assert volumetric_weight_grams(Parcel(1, 1, 1, 1)) == 1  # rounded up to the gram


def test_several_parcels_are_summed():
    heavy = Parcel(weight_grams=7_000, length_mm=400, width_mm=300, height_mm=200)
    result = quote([SMALL, heavy], MARSEILLE)
    assert [c.price for c in result.parcels] == [Decimal("7.90"), Decimal("15.90")]
    assert result.price == Decimal("23.80")


def test_relay_locker_limits_are_refused_with_every_reason():
    too_big = Parcel(weight_grams=21_000, length_mm=700, width_mm=300, height_mm=300)
    result = quote([SMALL, too_big], MARSEILLE, Service.RELAY)
    assert not result.is_available
    assert result.price is None
    assert [(r.code, r.parcel_index) for r in result.refusals] == [
        (RefusalCode.TOO_HEAVY, 1),
        (RefusalCode.TOO_LONG, 1),
        (RefusalCode.TOO_LARGE, 1),
    ]
    assert result.refusals[0].message == "21000 g is above the 20000 g limit of relay"


def test_relay_box_uses_sorted_sides():
    # 400 x 600 x 300 fits the 600 x 400 x 400 locker once turned; 450 x 450 x 300 does not.
    turned = Parcel(weight_grams=2_000, length_mm=400, width_mm=600, height_mm=300)
    assert quote([turned], MARSEILLE, Service.RELAY).is_available
    square = Parcel(weight_grams=2_000, length_mm=450, width_mm=450, height_mm=300)
    codes = [r.code for r in quote([square], MARSEILLE, Service.RELAY).refusals]
    assert codes == [RefusalCode.TOO_LARGE]


def test_volumetric_weight_above_the_limit_is_refused():
    bulky = Parcel(weight_grams=3_000, length_mm=1_000, width_mm=500, height_mm=500)
    result = quote([bulky], MARSEILLE, Service.SAME_DAY)
    assert RefusalCode.CHARGEABLE_WEIGHT_TOO_HIGH in [r.code for r in result.refusals]


def test_girth_limit():
    # A flat panel: 1450 + 2 x (760 + 20) = 3010 mm; volumetric 4,408 g, sides within limits.
    panel = Parcel(weight_grams=2_000, length_mm=1_450, width_mm=760, height_mm=20)
    codes = [r.code for r in quote([panel], MARSEILLE).refusals]
    assert codes == [RefusalCode.GIRTH_TOO_LARGE]


def test_services_not_offered_in_a_zone():
    assert quote([SMALL], Address("US", "10001"), Service.RELAY).refusals[0].code == (
        RefusalCode.SERVICE_NOT_OFFERED
    )
    same_day_far = quote([SMALL], MARSEILLE, Service.SAME_DAY)
    assert [r.code for r in same_day_far.refusals] == [RefusalCode.SERVICE_NOT_OFFERED]
    blind = quote([SMALL], Address("FR", "75011"), Service.SAME_DAY)
    assert RefusalCode.DISTANCE_UNKNOWN in [r.code for r in blind.refusals]
    nearby = quote([SMALL], PARIS_EAST, Service.SAME_DAY)
    assert (nearby.price, nearby.transit_days) == (Decimal("11.90"), 0)


def test_no_parcel_and_invalid_parcel():
    assert quote([], MARSEILLE).refusals[0].code == RefusalCode.NO_PARCELS
    flat = Parcel(weight_grams=100, length_mm=100, width_mm=100, height_mm=0)
    assert quote([flat], MARSEILLE).refusals[0].code == RefusalCode.INVALID_PARCEL


# Tracking numbers, barcodes, labels --------------------------------------------------------


def test_luhn_check_digit():
    assert luhn_check_digit("7992739871") == 3  # the textbook example
    assert tracking_number(service=Service.STANDARD, sequence=1234, parcel_index=1) == (
        "OMS0000001234012"
    )


@given(
    sequence=st.integers(0, 10**10 - 1),
    parcel_index=st.integers(1, 99),
    service=st.sampled_from(list(Service)),
    position=st.integers(3, 14),
    delta=st.integers(1, 9),
)
def test_every_single_digit_error_is_detected(sequence, parcel_index, service, position, delta):
    number = tracking_number(service=service, sequence=sequence, parcel_index=parcel_index)
    assert is_valid_tracking_number(number)
    digit = (int(number[position]) + delta) % 10
    mutated = number[:position] + str(digit) + number[position + 1 :]
    assert not is_valid_tracking_number(mutated)


def test_tracking_number_ranges():
    with pytest.raises(ValueError, match="parcel index"):
        tracking_number(service=Service.STANDARD, sequence=1, parcel_index=100)
    with pytest.raises(ValueError, match="sequence"):
        tracking_number(service=Service.STANDARD, sequence=10**10, parcel_index=1)


def test_code128_values():
    symbol = code128_b("A")
    assert symbol.values == (104, 33, 34, 106)  # (104 + 1 x 33) mod 103 = 34
    with pytest.raises(ValueError, match="printable ASCII"):
        code128_b("é")


def shipment(**changes):
    values: dict[str, Any] = {
        "reference": "SHP-42",
        "sequence": 42,
        "service": Service.STANDARD,
        "sender": PARIS,
        "recipient": MARSEILLE,
        "parcels": (SMALL, Parcel(7_000, 400, 300, 200, reference="SHP-42-2")),
        "ship_date": date(2026, 3, 3),
        "order_reference": "WEB-1001",
    }
    values.update(changes)
    return ShipmentRequest(**values)


def test_create_label_one_per_parcel_and_deterministic():
    label = CARRIER.create_label(shipment())
    assert label.tracking_numbers == ("OMS0000000042010", "OMS0000000042028")
    assert all(is_valid_tracking_number(number) for number in label.tracking_numbers)
    first, second = label.labels
    assert (first.parcel_index, first.parcel_count, second.parcel_index) == (1, 2, 2)
    assert first.barcode.payload == first.tracking_number
    assert (first.barcode.values[0], first.barcode.values[-1]) == (104, 106)
    assert (first.sort_code, first.zone, first.chargeable_weight_grams) == (
        "NATIONAL-FR-13",
        "national",
        1_200,
    )
    assert (first.reference, second.reference) == ("SHP-42", "SHP-42-2")
    assert label.price == Decimal("23.80")
    assert CARRIER.create_label(shipment()) == label  # a retry gets the same numbers


def test_create_label_refused_lists_every_reason():
    oversized = shipment(
        service=Service.RELAY, relay_point_id="R-1", parcels=(Parcel(25_000, 700, 300, 300),)
    )
    with pytest.raises(CarrierError) as caught:
        CARRIER.create_label(oversized)
    assert caught.value.code == "label_refused"
    assert [d["code"] for d in caught.value.details] == ["too_heavy", "too_long", "too_large"]
    with pytest.raises(CarrierError, match="relay point"):
        CARRIER.create_label(shipment(service=Service.RELAY))


def test_tracking_status():
    number = tracking_number(service=Service.EXPRESS, sequence=7, parcel_index=1)
    info = CARRIER.tracking_status(number.lower())
    assert (info.status, info.is_valid_number, info.tracking_number) == (
        TrackingStatus.INFO_RECEIVED,
        True,
        number,
    )
    bad = CARRIER.tracking_status(number[:-1] + str((int(number[-1]) + 1) % 10))
    assert (bad.status, bad.is_valid_number) == (TrackingStatus.UNKNOWN, False)


def test_registry():
    adapter = carrier_get("omnilog-rates")
    assert isinstance(adapter, RateTableCarrier)
    assert isinstance(adapter, CarrierAdapter)
    assert adapter.services() == (
        Service.STANDARD,
        Service.EXPRESS,
        Service.SAME_DAY,
        Service.RELAY,
    )
    with pytest.raises(CarrierError) as caught:
        carrier_get("acme")
    assert caught.value.code == "unknown_carrier"
    with pytest.raises(CarrierError):
        carrier_register("omnilog-rates", lambda: RateTableCarrier())
