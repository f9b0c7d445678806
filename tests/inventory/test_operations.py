"""Physical stock operations: exact counters, exact ledger rows, refusals that write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from inventory.models import Location, Product, Reservation, StockLevel, StockMovement
from inventory.services import (
    ReserveLine,
    StockChange,
    stock_adjust,
    stock_count,
    stock_damage,
    stock_incoming_expect,
    stock_qc_hold,
    stock_qc_release,
    stock_receive,
    stock_reserve,
    stock_safety_set,
    stock_transfer_receive,
    stock_transfer_ship,
    stock_write_off,
)
from omnilog.core.errors import ApplicationError, InsufficientStock, NotFound, ValidationFailed
from omnilog.core.models import OutboxEvent
from tests.inventory.helpers import assert_ledger_consistent
from tests.inventory.typed_factories import make_channel, make_product, make_store, make_warehouse

pytestmark = pytest.mark.django_db

DELTA_FIELDS = (
    "kind",
    "delta_on_hand",
    "delta_reserved",
    "delta_damaged",
    "delta_quality_control",
    "delta_in_transit",
    "delta_incoming",
)
COUNTER_FIELDS = ("on_hand", "reserved", "damaged", "quality_control", "in_transit", "incoming")


@pytest.fixture(autouse=True)
def _counters_equal_ledger(db: None) -> Iterator[None]:
    yield
    assert_ledger_consistent()


@pytest.fixture
def network() -> tuple[Any, Location, Location, Product]:
    channel = make_channel(code="web")
    warehouse = make_warehouse(code="wh-paris", channels=[channel])
    store = make_store(code="st-lyon", channels=[channel])
    return channel, warehouse, store, make_product()


def counters(product: Product, location: Location) -> dict[str, int]:
    row = StockLevel.objects.filter(product=product, location=location).values(*COUNTER_FIELDS)
    return dict(row.get())


def moves(product: Product, location: Location) -> list[tuple[Any, ...]]:
    return list(
        StockMovement.objects.filter(stock_level__product=product, stock_level__location=location)
        .order_by("id")
        .values_list(*DELTA_FIELDS)
    )


def everything() -> tuple[Any, ...]:
    """All that a refused operation must leave untouched."""
    return (
        StockMovement.objects.count(),
        OutboxEvent.objects.count(),
        list(Reservation.objects.order_by("id").values_list("id", "status", "quantity")),
        list(
            StockLevel.objects.order_by("id").values_list(
                "id", *COUNTER_FIELDS, "safety_stock", "incoming_expected_date"
            )
        ),
    )


def refused(
    error_type: type[ApplicationError], call: Any, **kwargs: Any
) -> tuple[list[str], list[str]]:
    """Call, expect ``error_type`` and no write at all; return (fields, codes) of the error."""
    before = everything()
    with pytest.raises(error_type) as raised:
        call(**kwargs)
    assert everything() == before
    errors = raised.value.field_errors
    return [e.field for e in errors], [e.code for e in errors]


def reserve(product: Product, location: Location, quantity: int, reference: str) -> Reservation:
    (reservation,) = stock_reserve(
        lines=[
            ReserveLine(
                product_id=product.id,
                quantity=quantity,
                location_id=location.id,
                reference_id=reference,
            )
        ],
        reference_type="order_line",
    )
    return reservation


# Receive ---------------------------------------------------------------------------------


def test_receive_creates_the_level_and_writes_a_receipt(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, product = network
    result = stock_receive(
        product_id=product.id,
        location_id=warehouse.id,
        quantity=12,
        reference_type="purchase_order",
        reference_id="PO-1",
        actor="alice",
        source="wms:paris",
    )
    level = StockLevel.objects.get(product=product, location=warehouse)
    assert result == StockChange(level.id, 12, 0, 12)
    assert counters(product, warehouse) == dict.fromkeys(COUNTER_FIELDS, 0) | {"on_hand": 12}
    (row,) = StockMovement.objects.filter(stock_level=level)
    assert (row.kind, row.delta_on_hand, row.reference_type, row.reference_id) == (
        "receipt",
        12,
        "purchase_order",
        "PO-1",
    )
    assert (row.actor, row.source) == ("alice", "wms:paris")
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=3)
    assert counters(product, warehouse)["on_hand"] == 15


def test_receive_from_incoming_lowers_what_is_expected(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, product = network
    stock_incoming_expect(
        product_id=product.id,
        location_id=warehouse.id,
        quantity_delta=5,
        expected_date=date(2026, 12, 1),
    )
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=3, from_incoming=True)
    level = StockLevel.objects.get(product=product, location=warehouse)
    assert (level.on_hand, level.incoming, level.incoming_expected_date) == (
        3,
        2,
        date(2026, 12, 1),
    )
    # More arrives than was announced: incoming stops at zero and its date goes.
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=4, from_incoming=True)
    level.refresh_from_db()
    assert (level.on_hand, level.incoming, level.incoming_expected_date) == (7, 0, None)
    # A plain receipt leaves incoming alone.
    stock_incoming_expect(
        product_id=product.id, location_id=warehouse.id, quantity_delta=2, expected_date=None
    )
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=1)
    assert moves(product, warehouse) == [
        ("incoming", 0, 0, 0, 0, 0, 5),
        ("receipt", 3, 0, 0, 0, 0, -3),
        ("receipt", 4, 0, 0, 0, 0, -2),
        ("incoming", 0, 0, 0, 0, 0, 2),
        ("receipt", 1, 0, 0, 0, 0, 0),
    ]
    assert counters(product, warehouse)["incoming"] == 2


@pytest.mark.parametrize("quantity", [0, -3])
def test_receive_refuses_a_non_positive_quantity(network, quantity: int) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, product = network
    assert refused(
        ValidationFailed,
        stock_receive,
        product_id=product.id,
        location_id=warehouse.id,
        quantity=quantity,
    ) == (["quantity"], ["min_value"])
    assert not StockLevel.objects.exists()


# Adjust ----------------------------------------------------------------------------------


def test_adjust_up_and_down_with_a_reason(network) -> None:  # type: ignore[no-untyped-def]
    _, _, store, product = network
    up = stock_adjust(
        product_id=product.id,
        location_id=store.id,
        quantity_delta=5,
        reason="found in the back room",
        actor="bob",
    )
    down = stock_adjust(
        product_id=product.id, location_id=store.id, quantity_delta=-2, reason="theft"
    )
    assert (up.on_hand, up.atp, down.on_hand, down.atp, down.shorted_reservation_ids) == (
        5,
        5,
        3,
        3,
        (),
    )
    assert list(
        StockMovement.objects.order_by("id").values_list("kind", "delta_on_hand", "reason", "actor")
    ) == [
        ("adjustment", 5, "found in the back room", "bob"),
        ("adjustment", -2, "theft", ""),
    ]


def test_adjust_refusals_write_nothing(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, store, product = network
    stock_receive(product_id=product.id, location_id=store.id, quantity=3)
    common = {"product_id": product.id, "location_id": store.id}
    assert refused(ValidationFailed, stock_adjust, **common, quantity_delta=-1, reason="  ") == (
        ["reason"],
        ["required"],
    )
    assert refused(ValidationFailed, stock_adjust, **common, quantity_delta=0, reason="x") == (
        ["quantity_delta"],
        ["zero"],
    )
    assert refused(ValidationFailed, stock_adjust, **common, quantity_delta=-4, reason="x") == (
        ["quantity_delta"],
        ["negative_stock"],
    )
    # Removing units where the product never was: no level is created for it.
    assert refused(
        InsufficientStock,
        stock_adjust,
        product_id=product.id,
        location_id=warehouse.id,
        quantity_delta=-1,
        reason="x",
    ) == ([], [])
    assert not StockLevel.objects.filter(location=warehouse).exists()


def test_adjust_below_promised_writes_off_then_shorts_the_youngest(network) -> None:  # type: ignore[no-untyped-def]
    _, _, store, product = network
    stock_receive(product_id=product.id, location_id=store.id, quantity=10)
    oldest = reserve(product, store, 3, "a")
    middle = reserve(product, store, 2, "b")
    youngest = reserve(product, store, 2, "c")
    stock_damage(product_id=product.id, location_id=store.id, quantity=1)
    stock_qc_hold(product_id=product.id, location_id=store.id, quantity=1)
    events_before = OutboxEvent.objects.filter(topic="reservation.shorted").count()

    # 10 on hand, 7 reserved, 1 damaged, 1 QC: losing 6 leaves 4 for 9 set aside.
    result = stock_adjust(
        product_id=product.id, location_id=store.id, quantity_delta=-6, reason="flood"
    )

    assert result.shorted_reservation_ids == (youngest.id, middle.id)
    assert (result.on_hand, result.reserved, result.atp) == (4, 4, 0)
    assert counters(product, store) == {
        "on_hand": 4,
        "reserved": 4,
        "damaged": 0,
        "quality_control": 0,
        "in_transit": 0,
        "incoming": 0,
    }
    for reservation in (oldest, middle, youngest):
        reservation.refresh_from_db()
    assert [(r.status, r.quantity) for r in (oldest, middle, youngest)] == [
        ("active", 3),
        ("active", 1),
        ("released", 0),
    ]
    assert moves(product, store)[-4:] == [
        ("shortage", 0, 0, -1, -1, 0, 0),
        ("shortage", 0, -2, 0, 0, 0, 0),
        ("shortage", 0, -1, 0, 0, 0, 0),
        ("adjustment", -6, 0, 0, 0, 0, 0),
    ]
    shortage_refs = list(
        StockMovement.objects.filter(kind="shortage", delta_reserved__lt=0)
        .order_by("id")
        .values_list("reference_type", "reference_id", "reason")
    )
    assert shortage_refs == [
        ("reservation", str(youngest.id), "stock loss: reservation shorted"),
        ("reservation", str(middle.id), "stock loss: reservation shorted"),
    ]
    events = list(
        OutboxEvent.objects.filter(topic="reservation.shorted")
        .order_by("id")
        .values_list("aggregate_id", "payload")
    )[events_before:]
    assert events == [
        (
            str(youngest.id),
            {
                "reference_type": "order_line",
                "reference_id": "c",
                "product_id": product.id,
                "location_id": store.id,
                "quantity_shorted": 2,
            },
        ),
        (
            str(middle.id),
            {
                "reference_type": "order_line",
                "reference_id": "b",
                "product_id": product.id,
                "location_id": store.id,
                "quantity_shorted": 1,
            },
        ),
    ]


def test_adjust_covered_by_damaged_units_shorts_nobody(network) -> None:  # type: ignore[no-untyped-def]
    _, _, store, product = network
    stock_receive(product_id=product.id, location_id=store.id, quantity=5)
    reservation = reserve(product, store, 2, "a")
    stock_damage(product_id=product.id, location_id=store.id, quantity=3)
    result = stock_adjust(
        product_id=product.id, location_id=store.id, quantity_delta=-2, reason="binned"
    )
    assert (result.on_hand, result.reserved, result.shorted_reservation_ids) == (3, 2, ())
    assert counters(product, store)["damaged"] == 1
    reservation.refresh_from_db()
    assert (reservation.status, reservation.quantity) == ("active", 2)
    assert not OutboxEvent.objects.filter(topic="reservation.shorted").exists()


# Count -----------------------------------------------------------------------------------


def test_count_sets_on_hand_and_writes_the_difference(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, store, product = network
    first = stock_count(product_id=product.id, location_id=store.id, counted=7, source="pos:1")
    same = stock_count(product_id=product.id, location_id=store.id, counted=7)
    lower = stock_count(product_id=product.id, location_id=store.id, counted=4)
    assert (first.on_hand, same.on_hand, lower.on_hand) == (7, 7, 4)
    assert list(
        StockMovement.objects.order_by("id").values_list("kind", "delta_on_hand", "reason")
    ) == [("count", 7, "counted 7"), ("count", -3, "counted 4")]
    # A zero count of an unknown pair creates the level with nothing to write.
    zero = stock_count(product_id=product.id, location_id=warehouse.id, counted=0)
    assert (zero.on_hand, StockMovement.objects.count()) == (0, 2)


def test_count_below_reserved_shorts_reservations(network) -> None:  # type: ignore[no-untyped-def]
    _, _, store, product = network
    stock_receive(product_id=product.id, location_id=store.id, quantity=6)
    first = reserve(product, store, 2, "a")
    second = reserve(product, store, 3, "b")
    result = stock_count(product_id=product.id, location_id=store.id, counted=1)
    assert result.shorted_reservation_ids == (second.id, first.id)
    assert counters(product, store) == {
        "on_hand": 1,
        "reserved": 1,
        "damaged": 0,
        "quality_control": 0,
        "in_transit": 0,
        "incoming": 0,
    }
    first.refresh_from_db()
    second.refresh_from_db()
    assert [(r.status, r.quantity) for r in (first, second)] == [("active", 1), ("released", 0)]
    assert moves(product, store)[-3:] == [
        ("shortage", 0, -3, 0, 0, 0, 0),
        ("shortage", 0, -1, 0, 0, 0, 0),
        ("count", -5, 0, 0, 0, 0, 0),
    ]
    assert OutboxEvent.objects.filter(topic="reservation.shorted").count() == 2


def test_count_refuses_a_negative_count(network) -> None:  # type: ignore[no-untyped-def]
    _, _, store, product = network
    stock_receive(product_id=product.id, location_id=store.id, quantity=2)
    assert refused(
        ValidationFailed, stock_count, product_id=product.id, location_id=store.id, counted=-1
    ) == (["counted"], ["min_value"])


# Damage, quality control, write-off ------------------------------------------------------


def test_damage_sets_unpromised_units_aside(network) -> None:  # type: ignore[no-untyped-def]
    _, _, store, product = network
    stock_receive(product_id=product.id, location_id=store.id, quantity=5)
    reserve(product, store, 2, "a")
    result = stock_damage(product_id=product.id, location_id=store.id, quantity=2, reason="crushed")
    assert (result.on_hand, result.reserved, result.atp) == (5, 2, 1)
    assert counters(product, store)["damaged"] == 2
    assert moves(product, store)[-1] == ("damage", 0, 0, 2, 0, 0, 0)
    assert StockMovement.objects.order_by("id").last().reason == "crushed"  # type: ignore[union-attr]


def test_damage_refusals_write_nothing(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, store, product = network
    stock_receive(product_id=product.id, location_id=store.id, quantity=5)
    reserve(product, store, 4, "a")
    common = {"product_id": product.id, "location_id": store.id}
    assert refused(InsufficientStock, stock_damage, **common, quantity=2) == (
        ["quantity"],
        ["insufficient_stock"],
    )
    assert refused(ValidationFailed, stock_damage, **common, quantity=0) == (
        ["quantity"],
        ["min_value"],
    )
    assert refused(
        InsufficientStock, stock_damage, product_id=product.id, location_id=warehouse.id, quantity=1
    ) == ([], [])
    assert refused(InsufficientStock, stock_qc_hold, **common, quantity=2) == (
        ["quantity"],
        ["insufficient_stock"],
    )


def test_quality_control_hold_and_release(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, product = network
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=10)
    held = stock_qc_hold(product_id=product.id, location_id=warehouse.id, quantity=4)
    assert (held.on_hand, held.atp) == (10, 6)
    sellable = stock_qc_release(
        product_id=product.id, location_id=warehouse.id, quantity=1, is_sellable=True
    )
    assert sellable.atp == 7
    scrap = stock_qc_release(
        product_id=product.id,
        location_id=warehouse.id,
        quantity=2,
        is_sellable=False,
        reason="mould",
    )
    assert scrap.atp == 7
    assert (counters(product, warehouse)["quality_control"], counters(product, warehouse)) == (
        1,
        {
            "on_hand": 10,
            "reserved": 0,
            "damaged": 2,
            "quality_control": 1,
            "in_transit": 0,
            "incoming": 0,
        },
    )
    assert moves(product, warehouse)[1:] == [
        ("qc_hold", 0, 0, 0, 4, 0, 0),
        ("qc_release", 0, 0, 0, -1, 0, 0),
        ("qc_release", 0, 0, 2, -2, 0, 0),
    ]
    assert refused(
        ValidationFailed,
        stock_qc_release,
        product_id=product.id,
        location_id=warehouse.id,
        quantity=2,
        is_sellable=True,
    ) == (["quantity"], ["out_of_range"])


def test_write_off_removes_damaged_units(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, product = network
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=6)
    stock_damage(product_id=product.id, location_id=warehouse.id, quantity=3)
    result = stock_write_off(
        product_id=product.id, location_id=warehouse.id, quantity=2, reason="scrapped"
    )
    assert (result.on_hand, result.atp) == (4, 3)
    assert counters(product, warehouse)["damaged"] == 1
    assert moves(product, warehouse)[-1] == ("adjustment", -2, 0, -2, 0, 0, 0)
    common = {"product_id": product.id, "location_id": warehouse.id}
    assert refused(ValidationFailed, stock_write_off, **common, quantity=2, reason="x") == (
        ["quantity"],
        ["out_of_range"],
    )
    assert refused(ValidationFailed, stock_write_off, **common, quantity=1, reason="") == (
        ["reason"],
        ["required"],
    )
    assert refused(ValidationFailed, stock_write_off, **common, quantity=0, reason="x") == (
        ["quantity"],
        ["min_value"],
    )


# Transfers -------------------------------------------------------------------------------


def test_transfer_ship_unpromised_units_then_receive_with_a_discrepancy(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, store, product = network
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=10)
    reserve(product, warehouse, 3, "a")
    source, target = stock_transfer_ship(
        product_id=product.id,
        from_location_id=warehouse.id,
        to_location_id=store.id,
        quantity=7,
        transfer_reference="TR-1",
    )
    assert (source.on_hand, source.reserved, source.atp) == (3, 3, 0)
    assert (target.on_hand, counters(product, store)["in_transit"]) == (0, 7)
    assert moves(product, warehouse)[-1] == ("transfer_out", -7, 0, 0, 0, 0, 0)
    assert moves(product, store) == [("transfer_out", 0, 0, 0, 0, 7, 0)]

    arrived = stock_transfer_receive(
        product_id=product.id,
        location_id=store.id,
        quantity_expected=7,
        quantity_received=6,
        transfer_reference="TR-1",
    )
    assert (arrived.on_hand, arrived.atp) == (6, 6)
    assert counters(product, store)["in_transit"] == 0
    last = StockMovement.objects.order_by("id").last()
    assert last is not None
    assert (last.kind, last.delta_on_hand, last.delta_in_transit, last.reason) == (
        "transfer_in",
        6,
        -7,
        "discrepancy: -1 against 7 expected",
    )
    assert (last.reference_type, last.reference_id) == ("transfer", "TR-1")


def test_transfer_receive_as_expected_has_no_discrepancy(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, store, product = network
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=4)
    stock_transfer_ship(
        product_id=product.id,
        from_location_id=warehouse.id,
        to_location_id=store.id,
        quantity=4,
        transfer_reference="TR-2",
    )
    stock_transfer_receive(
        product_id=product.id,
        location_id=store.id,
        quantity_expected=4,
        quantity_received=4,
        transfer_reference="TR-2",
    )
    assert moves(product, store)[-1] == ("transfer_in", 4, 0, 0, 0, -4, 0)
    assert StockMovement.objects.order_by("id").last().reason == ""  # type: ignore[union-attr]


def test_transfer_ship_a_reservation_commits_its_units(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, store, product = network
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=10)
    reservation = reserve(product, warehouse, 4, "replenish")
    source, _target = stock_transfer_ship(
        product_id=product.id,
        from_location_id=warehouse.id,
        to_location_id=store.id,
        quantity=3,
        transfer_reference="TR-3",
        reservation_id=reservation.id,
    )
    assert (source.on_hand, source.reserved, source.atp) == (7, 1, 6)
    assert counters(product, store)["in_transit"] == 3
    reservation.refresh_from_db()
    assert (reservation.status, reservation.quantity, reservation.quantity_committed) == (
        "active",
        1,
        3,
    )
    assert moves(product, warehouse)[-1] == ("sale", -3, -3, 0, 0, 0, 0)
    sale = StockMovement.objects.get(kind="sale")
    assert (sale.source, sale.reference_id) == ("transfer:TR-3", str(reservation.id))
    assert moves(product, store) == [("transfer_out", 0, 0, 0, 0, 3, 0)]


def test_transfer_refusals_write_nothing(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, store, product = network
    other_product = make_product()
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=5)
    stock_receive(product_id=other_product.id, location_id=warehouse.id, quantity=5)
    stock_receive(product_id=product.id, location_id=store.id, quantity=5)
    reserve(product, warehouse, 2, "a")
    at_store = reserve(product, store, 2, "b")
    other = reserve(other_product, warehouse, 2, "c")
    ship = {
        "product_id": product.id,
        "from_location_id": warehouse.id,
        "to_location_id": store.id,
        "transfer_reference": "TR-9",
    }
    assert refused(InsufficientStock, stock_transfer_ship, **ship, quantity=4) == (
        ["quantity"],
        ["insufficient_stock"],
    )
    assert refused(ValidationFailed, stock_transfer_ship, **ship, quantity=0) == (
        ["quantity"],
        ["min_value"],
    )
    assert refused(
        ValidationFailed,
        stock_transfer_ship,
        **(ship | {"to_location_id": warehouse.id}),
        quantity=1,
    ) == (["to_location_id"], ["same_location"])
    # A reservation of another product, or held at another location, cannot leave from here.
    for wrong in (other, at_store):
        assert refused(
            ValidationFailed, stock_transfer_ship, **ship, quantity=1, reservation_id=wrong.id
        ) == (["reservation_id"], ["mismatch"])
    assert refused(NotFound, stock_transfer_ship, **ship, quantity=1, reservation_id=999_999) == (
        [],
        [],
    )
    # More than the reservation holds.
    (mine,) = Reservation.objects.filter(reference_id="a")
    assert refused(
        ValidationFailed, stock_transfer_ship, **ship, quantity=3, reservation_id=mine.id
    ) == (["quantity"], ["out_of_range"])

    receive = {"product_id": product.id, "location_id": store.id, "transfer_reference": "TR-9"}
    assert refused(
        ValidationFailed,
        stock_transfer_receive,
        **receive,
        quantity_expected=1,
        quantity_received=1,
    ) == (["quantity_expected"], ["out_of_range"])
    assert refused(
        ValidationFailed,
        stock_transfer_receive,
        **receive,
        quantity_expected=1,
        quantity_received=-1,
    ) == (["quantity_received"], ["min_value"])
    assert refused(
        ValidationFailed,
        stock_transfer_receive,
        **receive,
        quantity_expected=0,
        quantity_received=0,
    ) == (["quantity_expected"], ["min_value"])


# Incoming and safety stock ---------------------------------------------------------------


def test_incoming_expect_with_its_date(network) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, product = network
    common = {"product_id": product.id, "location_id": warehouse.id}
    first = stock_incoming_expect(
        **common,
        quantity_delta=5,
        expected_date=date(2026, 12, 1),
        reference_type="purchase_order",
        reference_id="PO-7",
    )
    assert (first.on_hand, first.atp) == (0, 0)
    level = StockLevel.objects.get(product=product, location=warehouse)
    assert (level.incoming, level.incoming_expected_date) == (5, date(2026, 12, 1))
    stock_incoming_expect(**common, quantity_delta=-2, expected_date=None)
    level.refresh_from_db()
    assert (level.incoming, level.incoming_expected_date) == (3, date(2026, 12, 1))
    stock_incoming_expect(**common, quantity_delta=1, expected_date=date(2026, 12, 5))
    level.refresh_from_db()
    assert (level.incoming, level.incoming_expected_date) == (4, date(2026, 12, 5))
    stock_incoming_expect(**common, quantity_delta=-4, expected_date=None)
    level.refresh_from_db()
    assert (level.incoming, level.incoming_expected_date) == (0, None)
    assert [m[-1] for m in moves(product, warehouse)] == [5, -2, 1, -4]
    first_move = StockMovement.objects.order_by("id").first()
    assert first_move is not None
    assert (first_move.reference_type, first_move.reference_id) == ("purchase_order", "PO-7")
    assert refused(
        ValidationFailed, stock_incoming_expect, **common, quantity_delta=-1, expected_date=None
    ) == (["quantity_delta"], ["out_of_range"])
    assert refused(
        ValidationFailed, stock_incoming_expect, **common, quantity_delta=0, expected_date=None
    ) == (["quantity_delta"], ["zero"])


def test_safety_stock_changes_atp_but_not_the_ledger(network) -> None:  # type: ignore[no-untyped-def]
    _, _, store, product = network
    stock_receive(product_id=product.id, location_id=store.id, quantity=5)
    movements = StockMovement.objects.count()
    result = stock_safety_set(product_id=product.id, location_id=store.id, safety_stock=2)
    assert (result.on_hand, result.atp) == (5, 3)
    assert StockLevel.objects.get(product=product, location=store).safety_stock == 2
    assert StockMovement.objects.count() == movements
    # Above the free units, ATP is published as zero, never negative.
    assert stock_safety_set(product_id=product.id, location_id=store.id, safety_stock=9).atp == 0
    assert refused(
        ValidationFailed,
        stock_safety_set,
        product_id=product.id,
        location_id=store.id,
        safety_stock=-1,
    ) == (["safety_stock"], ["min_value"])
