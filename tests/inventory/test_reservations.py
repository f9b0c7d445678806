"""Reservation services: two tiers, all-or-nothing, commit/release/allocate/expiry, ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from channels_app.models import SalesChannel
from inventory.models import Location, Product, Reservation, StockLevel, StockMovement
from inventory.services import (
    ReserveLine,
    reservations_expire,
    stock_allocate,
    stock_commit,
    stock_hold_extend,
    stock_receive,
    stock_release,
    stock_release_reference,
    stock_reserve,
    stock_safety_set,
)
from omnilog.core.errors import Conflict, InsufficientStock, ValidationFailed
from omnilog.core.models import OutboxEvent
from tests.factories import LocationFactory, ProductFactory, SalesChannelFactory, StoreFactory
from tests.inventory.helpers import assert_ledger_consistent, level, movement_kinds

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Network:
    channel: SalesChannel
    warehouse: Location
    store: Location
    product: Product


@pytest.fixture
def network() -> Network:
    channel = SalesChannelFactory(code="web")
    warehouse = LocationFactory(code="wh-paris", channels=[channel])
    store = StoreFactory(code="st-lyon", channels=[channel])
    product = ProductFactory()
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=10)
    stock_receive(product_id=product.id, location_id=store.id, quantity=3)
    return Network(channel=channel, warehouse=warehouse, store=store, product=product)


def test_location_reservation_takes_units_at_that_store(network: Network) -> None:
    (reservation,) = stock_reserve(
        lines=[
            ReserveLine(
                product_id=network.product.id,
                quantity=2,
                location_id=network.store.id,
                reference_id="line-1",
            )
        ],
        channel_id=network.channel.id,
        reference_type="order_line",
    )
    assert (reservation.location_id, reservation.scope, reservation.quantity) == (
        network.store.id,
        "location",
        2,
    )
    assert level(network.product, network.store).reserved == 2
    assert level(network.product, network.warehouse).reserved == 0
    assert movement_kinds(network.product, network.store) == ["receipt", "reservation"]
    assert_ledger_consistent()


def test_pool_reservation_parks_on_a_shipping_location(network: Network) -> None:
    (reservation,) = stock_reserve(
        lines=[ReserveLine(product_id=network.product.id, quantity=4)],
        channel_id=network.channel.id,
    )
    # The network.store does not ship parcels, so the pool lives on the network.warehouse only.
    assert (reservation.location_id, reservation.scope) == (network.warehouse.id, "pool")
    assert level(network.product, network.warehouse).reserved == 4
    assert_ledger_consistent()


def test_pool_line_splits_across_rows_when_no_row_holds_it_all() -> None:
    channel = SalesChannelFactory(code="web")
    first = LocationFactory(channels=[channel])
    second = LocationFactory(channels=[channel])
    product = ProductFactory()
    stock_receive(product_id=product.id, location_id=first.id, quantity=3)
    stock_receive(product_id=product.id, location_id=second.id, quantity=4)
    reservations = stock_reserve(
        lines=[ReserveLine(product_id=product.id, quantity=6)], channel_id=channel.id
    )
    assert sorted((r.location_id, r.quantity) for r in reservations) == sorted(
        [(second.id, 4), (first.id, 2)]
    )
    assert_ledger_consistent()


def test_short_lines_are_all_listed_and_nothing_is_written(network: Network) -> None:
    other = ProductFactory()
    before = StockMovement.objects.count()
    with pytest.raises(InsufficientStock) as raised:
        stock_reserve(
            lines=[
                ReserveLine(
                    product_id=network.product.id, quantity=1, location_id=network.store.id
                ),
                ReserveLine(product_id=network.product.id, quantity=11),
                ReserveLine(product_id=other.id, quantity=1, location_id=network.store.id),
            ],
            channel_id=network.channel.id,
        )
    assert [(line["index"], line["available"]) for line in raised.value.details["lines"]] == [
        (1, 10),
        (2, 0),
    ]
    # The pool is the network.warehouse's 10: the network.store's row does not ship parcels.
    assert [error.field for error in raised.value.field_errors] == [
        "lines.1.quantity",
        "lines.2.quantity",
    ]
    assert StockMovement.objects.count() == before
    assert Reservation.objects.count() == 0
    assert level(network.product, network.store).reserved == 0


def test_safety_stock_is_not_promised(network: Network) -> None:
    stock_safety_set(product_id=network.product.id, location_id=network.store.id, safety_stock=2)
    with pytest.raises(InsufficientStock):
        stock_reserve(
            lines=[
                ReserveLine(product_id=network.product.id, quantity=2, location_id=network.store.id)
            ],
            channel_id=network.channel.id,
        )
    (reservation,) = stock_reserve(
        lines=[
            ReserveLine(product_id=network.product.id, quantity=1, location_id=network.store.id)
        ],
        channel_id=network.channel.id,
    )
    assert reservation.quantity == 1
    assert level(network.product, network.store).atp == 0


def test_bad_lines_are_refused_with_field_errors(network: Network) -> None:
    with pytest.raises(ValidationFailed) as raised:
        stock_reserve(
            lines=[
                ReserveLine(product_id=network.product.id, quantity=0),
                ReserveLine(product_id=network.product.id, quantity=1),
            ]
        )
    assert [e.field for e in raised.value.field_errors] == [
        "lines.0.quantity",
        "lines.0.location_id",
        "lines.1.location_id",
    ]
    assert StockMovement.objects.filter(kind="reservation").count() == 0


def test_commit_release_and_partial_amounts(network: Network) -> None:
    (reservation,) = stock_reserve(
        lines=[
            ReserveLine(product_id=network.product.id, quantity=3, location_id=network.store.id)
        ],
        channel_id=network.channel.id,
    )
    stock_commit(reservation_id=reservation.id, quantity=2)
    row = level(network.product, network.store)
    assert (row.on_hand, row.reserved) == (1, 1)
    released = stock_release(reservation_id=reservation.id)
    assert (released.status, released.quantity, released.quantity_committed) == ("released", 0, 2)
    row = level(network.product, network.store)
    assert (row.on_hand, row.reserved, row.atp) == (1, 0, 1)
    with pytest.raises(Conflict):
        stock_commit(reservation_id=reservation.id)
    assert movement_kinds(network.product, network.store) == [
        "receipt",
        "reservation",
        "sale",
        "release",
    ]
    assert_ledger_consistent()


def test_release_by_reference_is_idempotent(network: Network) -> None:
    stock_reserve(
        lines=[
            ReserveLine(product_id=network.product.id, quantity=2, reference_id="7"),
            ReserveLine(
                product_id=network.product.id,
                quantity=1,
                location_id=network.store.id,
                reference_id="8",
            ),
        ],
        channel_id=network.channel.id,
        reference_type="order_line",
    )
    assert stock_release_reference(reference_type="order_line", reference_ids=["7", "8"]) == 3
    assert stock_release_reference(reference_type="order_line", reference_ids=["7", "8"]) == 0
    assert level(network.product, network.warehouse).reserved == 0
    assert_ledger_consistent()


def test_allocate_moves_a_pool_reservation_to_another_location(network: Network) -> None:
    (pool,) = stock_reserve(
        lines=[ReserveLine(product_id=network.product.id, quantity=2)],
        channel_id=network.channel.id,
    )
    allocated = stock_allocate(reservation_id=pool.id, location_id=network.store.id)
    pool.refresh_from_db()
    assert (pool.status, pool.quantity) == ("released", 0)
    assert (allocated.location_id, allocated.scope, allocated.quantity) == (
        network.store.id,
        "location",
        2,
    )
    assert (
        level(network.product, network.warehouse).reserved,
        level(network.product, network.store).reserved,
    ) == (0, 2)
    (another,) = stock_reserve(
        lines=[ReserveLine(product_id=network.product.id, quantity=9)],
        channel_id=network.channel.id,
    )
    with pytest.raises(InsufficientStock):
        stock_allocate(reservation_id=another.id, location_id=network.store.id)
    another.refresh_from_db()
    assert (another.status, another.quantity, level(network.product, network.store).reserved) == (
        "active",
        9,
        2,
    )
    assert_ledger_consistent()


def test_allocate_to_the_same_location_only_changes_scope(network: Network) -> None:
    (pool,) = stock_reserve(
        lines=[ReserveLine(product_id=network.product.id, quantity=2)],
        channel_id=network.channel.id,
    )
    moves = StockMovement.objects.count()
    same = stock_allocate(reservation_id=pool.id, location_id=network.warehouse.id)
    assert (same.id, same.scope) == (pool.id, "location")
    assert StockMovement.objects.count() == moves


def test_expiry_releases_holds_exactly_once(network: Network) -> None:
    soon = timezone.now() + timedelta(minutes=5)
    (hold,) = stock_reserve(
        lines=[
            ReserveLine(product_id=network.product.id, quantity=2, location_id=network.store.id)
        ],
        channel_id=network.channel.id,
        kind="hold",
        expires_at=soon,
    )
    assert reservations_expire(now=timezone.now()) == 0
    later = soon + timedelta(seconds=1)
    assert reservations_expire(now=later) == 1
    assert reservations_expire(now=later) == 0
    hold.refresh_from_db()
    assert hold.status == "expired"
    assert level(network.product, network.store).reserved == 0
    assert OutboxEvent.objects.filter(topic="reservation.expired").count() == 1
    with pytest.raises(Conflict):
        stock_hold_extend(reservation_id=hold.id, expires_at=later + timedelta(hours=1))
    assert_ledger_consistent()


def test_extend_keeps_a_hold_alive(network: Network) -> None:
    soon = timezone.now() + timedelta(minutes=5)
    (hold,) = stock_reserve(
        lines=[
            ReserveLine(product_id=network.product.id, quantity=1, location_id=network.store.id)
        ],
        channel_id=network.channel.id,
        kind="hold",
        expires_at=soon,
    )
    stock_hold_extend(reservation_id=hold.id, expires_at=soon + timedelta(hours=1))
    assert reservations_expire(now=soon + timedelta(minutes=1)) == 0


def test_out_of_stock_and_back_in_stock_events(network: Network) -> None:
    (reservation,) = stock_reserve(
        lines=[
            ReserveLine(product_id=network.product.id, quantity=3, location_id=network.store.id)
        ],
        channel_id=network.channel.id,
    )
    stock_release(reservation_id=reservation.id)
    topics = list(
        OutboxEvent.objects.filter(aggregate_type="stock_level")
        .order_by("id")
        .values_list("topic", flat=True)
    )
    assert topics == [
        "stock.back_in_stock",
        "stock.back_in_stock",
        "stock.out_of_stock",
        "stock.back_in_stock",
    ]


def test_postgresql_refuses_broken_invariants_and_ledger_edits(network: Network) -> None:
    row = level(network.product, network.store)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(id=row.id).update(reserved=row.on_hand + 1)
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE inventory_stockmovement SET delta_on_hand = 99")
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM inventory_stockmovement")
    assert_ledger_consistent()


def test_allocate_part_of_a_pool_reservation_where_it_is_parked(network: Network) -> None:
    (pool,) = stock_reserve(
        lines=[ReserveLine(product_id=network.product.id, quantity=3)],
        channel_id=network.channel.id,
    )
    moves = StockMovement.objects.count()
    bound = stock_allocate(reservation_id=pool.id, location_id=network.warehouse.id, quantity=2)
    pool.refresh_from_db()
    # The units stay reserved on the same row: the reservation splits, no counter moves.
    assert (pool.status, pool.quantity, pool.scope) == ("active", 1, "pool")
    assert (bound.location_id, bound.scope, bound.quantity) == (network.warehouse.id, "location", 2)
    assert level(network.product, network.warehouse).reserved == 3
    assert StockMovement.objects.count() == moves
    assert_ledger_consistent()
