"""Stock services against a plain Python model, driven by Hypothesis.

Random sequences of reserve (pool and location), release, commit, expire, adjust, count,
receive, damage, QC hold and transfer ship/receive. After every step the database must equal
the model, the counters must equal the ledger (``stock_check``), nothing may be promised or set
aside beyond what is on hand, and published ATP is never negative. Each example runs inside a
savepoint that is rolled back at its end, so examples never see one another's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from inventory.models import Reservation, StockLevel
from inventory.services import (
    ReserveLine,
    reservations_expire,
    stock_adjust,
    stock_commit,
    stock_count,
    stock_damage,
    stock_qc_hold,
    stock_receive,
    stock_release,
    stock_reserve,
    stock_transfer_receive,
    stock_transfer_ship,
)
from inventory.services.integrity import stock_check
from omnilog.core.errors import InsufficientStock, ValidationFailed
from tests.inventory.typed_factories import make_channel, make_product, make_store, make_warehouse

# Holds expire when the machine's clock says so, never because the wall clock moved.
EPOCH = datetime(2100, 1, 1, tzinfo=UTC)

PRODUCTS = st.integers(min_value=0, max_value=1)
LOCATIONS = st.integers(min_value=0, max_value=2)  # 0, 1: warehouses (the pool); 2: a store
POOL = (0, 1)

DB_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@dataclass
class Level:
    on_hand: int = 0
    reserved: int = 0
    damaged: int = 0
    quality_control: int = 0
    in_transit: int = 0

    @property
    def free(self) -> int:
        return self.on_hand - self.reserved - self.damaged - self.quality_control

    def figures(self) -> tuple[int, int, int, int, int]:
        return (self.on_hand, self.reserved, self.damaged, self.quality_control, self.in_transit)


@dataclass
class Held:
    key: tuple[int, int]
    quantity: int
    expires_minute: int | None


@dataclass(frozen=True)
class InFlight:
    product: int
    to_location: int
    quantity: int
    reference: str


class StockMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.levels: dict[tuple[int, int], Level] = {}
        self.held: dict[int, Held] = {}  # active reservations by id
        self.transfers: list[InFlight] = []
        self.minute = 0

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    @initialize(stock=st.lists(st.integers(0, 9), min_size=6, max_size=6))
    def network(self, stock: list[int]) -> None:
        channel = make_channel()
        self.channel_id = channel.id
        self.location_ids = [
            make_warehouse(channels=[channel]).id,
            make_warehouse(channels=[channel]).id,
            make_store(channels=[channel]).id,  # click-and-collect only: not in the pool
        ]
        self.product_ids = [make_product().id, make_product().id]
        for index, quantity in enumerate(stock):
            product, location = divmod(index, 3)
            if quantity:
                self.receive(product, location, quantity)

    # Model helpers -----------------------------------------------------------------------

    def level(self, product: int, location: int) -> Level:
        return self.levels.setdefault((product, location), Level())

    def free(self, product: int, location: int) -> int:
        found = self.levels.get((product, location))
        return found.free if found else 0

    def short(self, key: tuple[int, int], new_on_hand: int) -> tuple[int, ...]:
        """What ``stock_short_for`` must do: write off damaged, QC, then youngest holds."""
        level = self.levels[key]
        deficit = level.reserved + level.damaged + level.quality_control - new_on_hand
        if deficit <= 0:
            return ()
        damaged = min(level.damaged, deficit)
        quality_control = min(level.quality_control, deficit - damaged)
        level.damaged -= damaged
        level.quality_control -= quality_control
        deficit -= damaged + quality_control
        shorted = []
        for reservation_id in sorted(self.held, reverse=True):  # youngest first
            held = self.held[reservation_id]
            if deficit <= 0:
                break
            if held.key != key:
                continue
            taken = min(deficit, held.quantity)
            held.quantity -= taken
            level.reserved -= taken
            deficit -= taken
            shorted.append(reservation_id)
            if held.quantity == 0:
                del self.held[reservation_id]
        return tuple(shorted)

    def expires_at(self, minutes: int | None) -> datetime | None:
        return None if minutes is None else EPOCH + timedelta(minutes=minutes)

    def take(self, reservation_id: int, quantity: int) -> None:
        held = self.held[reservation_id]
        held.quantity -= quantity
        self.levels[held.key].reserved -= quantity
        if held.quantity == 0:
            del self.held[reservation_id]

    # Rules -------------------------------------------------------------------------------

    @rule(
        product=PRODUCTS,
        location=LOCATIONS,
        quantity=st.integers(1, 3),
        lifetime=st.none() | st.integers(1, 10),
    )
    def reserve_at_location(
        self, product: int, location: int, quantity: int, lifetime: int | None
    ) -> None:
        expire = None if lifetime is None else self.minute + lifetime
        line = ReserveLine(
            product_id=self.product_ids[product],
            quantity=quantity,
            location_id=self.location_ids[location],
        )
        if self.free(product, location) < quantity:
            with pytest.raises(InsufficientStock):
                stock_reserve(lines=[line], channel_id=self.channel_id)
            return
        (reservation,) = stock_reserve(
            lines=[line],
            channel_id=self.channel_id,
            kind="hold" if expire is not None else "order",
            expires_at=self.expires_at(expire),
        )
        assert (reservation.location_id, reservation.quantity) == (
            self.location_ids[location],
            quantity,
        )
        self.level(product, location).reserved += quantity
        self.held[reservation.id] = Held((product, location), quantity, expire)

    @rule(product=PRODUCTS, quantity=st.integers(1, 4), lifetime=st.none() | st.integers(1, 10))
    def reserve_in_pool(self, product: int, quantity: int, lifetime: int | None) -> None:
        expire = None if lifetime is None else self.minute + lifetime
        line = ReserveLine(product_id=self.product_ids[product], quantity=quantity)
        pool_free = sum(max(0, self.free(product, location)) for location in POOL)
        if pool_free < quantity:
            with pytest.raises(InsufficientStock):
                stock_reserve(lines=[line], channel_id=self.channel_id)
            return
        reservations = stock_reserve(
            lines=[line], channel_id=self.channel_id, expires_at=self.expires_at(expire)
        )
        assert sum(r.quantity for r in reservations) == quantity
        for reservation in reservations:
            location = self.location_ids.index(reservation.location_id)
            assert location in POOL
            assert reservation.scope == "pool"
            assert 0 < reservation.quantity <= self.free(product, location)
            self.level(product, location).reserved += reservation.quantity
            self.held[reservation.id] = Held((product, location), reservation.quantity, expire)

    @precondition(lambda self: self.held)
    @rule(data=st.data(), commit=st.booleans())
    def release_or_commit(self, data: Any, commit: bool) -> None:
        reservation_id = data.draw(st.sampled_from(sorted(self.held)))
        held = self.held[reservation_id]
        quantity = data.draw(st.integers(1, held.quantity))
        if commit:
            result = stock_commit(reservation_id=reservation_id, quantity=quantity)
            self.levels[held.key].on_hand -= quantity
        else:
            result = stock_release(reservation_id=reservation_id, quantity=quantity)
        self.take(reservation_id, quantity)
        expected_status = "active" if reservation_id in self.held else None
        if expected_status is None:
            expected_status = "committed" if commit else "released"
        assert result.status == expected_status

    @rule(minutes=st.integers(0, 15))
    def expire(self, minutes: int) -> None:
        self.minute += minutes
        due = [
            reservation_id
            for reservation_id, held in self.held.items()
            if held.expires_minute is not None and held.expires_minute <= self.minute
        ]
        expired = reservations_expire(now=EPOCH + timedelta(minutes=self.minute), batch_size=3)
        assert expired == len(due)
        for reservation_id in due:
            self.take(reservation_id, self.held[reservation_id].quantity)

    @rule(product=PRODUCTS, location=LOCATIONS, quantity=st.integers(1, 8))
    def receive(self, product: int, location: int, quantity: int) -> None:
        stock_receive(
            product_id=self.product_ids[product],
            location_id=self.location_ids[location],
            quantity=quantity,
        )
        self.level(product, location).on_hand += quantity

    @rule(
        product=PRODUCTS,
        location=LOCATIONS,
        delta=st.integers(-6, 6).filter(lambda delta: delta != 0),
    )
    def adjust(self, product: int, location: int, delta: int) -> None:
        key = (product, location)
        call: dict[str, Any] = {
            "product_id": self.product_ids[product],
            "location_id": self.location_ids[location],
            "quantity_delta": delta,
            "reason": "stateful",
        }
        if delta < 0 and key not in self.levels:
            with pytest.raises(InsufficientStock):
                stock_adjust(**call)
            return
        if delta < 0 and self.levels[key].on_hand + delta < 0:
            with pytest.raises(ValidationFailed):
                stock_adjust(**call)
            return
        result = stock_adjust(**call)
        level = self.level(product, location)
        shorted = self.short(key, level.on_hand + delta)
        assert result.shorted_reservation_ids == shorted
        level.on_hand += delta

    @precondition(lambda self: self.held)
    @rule(data=st.data(), by_count=st.booleans())
    def lose_promised_units(self, data: Any, by_count: bool) -> None:
        """A loss deeper than the free units of a level that holds reservations."""
        # One entry per reservation: levels holding several are drawn more often.
        keys = sorted(held.key for held in self.held.values())
        product, location = data.draw(st.sampled_from(keys))
        level = self.levels[(product, location)]
        loss = level.free + data.draw(
            st.integers(1, level.reserved + level.damaged + level.quality_control)
        )
        if by_count:
            self.count(product, location, level.on_hand - loss)
        else:
            self.adjust(product, location, -loss)

    @rule(product=PRODUCTS, location=LOCATIONS, counted=st.integers(0, 12))
    def count(self, product: int, location: int, counted: int) -> None:
        result = stock_count(
            product_id=self.product_ids[product],
            location_id=self.location_ids[location],
            counted=counted,
        )
        self.level(product, location)
        assert result.shorted_reservation_ids == self.short((product, location), counted)
        self.levels[(product, location)].on_hand = counted

    @rule(product=PRODUCTS, location=LOCATIONS, quantity=st.integers(1, 3), qc=st.booleans())
    def set_aside(self, product: int, location: int, quantity: int, qc: bool) -> None:
        service = stock_qc_hold if qc else stock_damage
        call: dict[str, Any] = {
            "product_id": self.product_ids[product],
            "location_id": self.location_ids[location],
            "quantity": quantity,
        }
        if self.free(product, location) < quantity:
            with pytest.raises(InsufficientStock):
                service(**call)
            return
        service(**call)
        if qc:
            self.levels[(product, location)].quality_control += quantity
        else:
            self.levels[(product, location)].damaged += quantity

    @rule(
        product=PRODUCTS,
        origin=LOCATIONS,
        shift=st.integers(1, 2),
        quantity=st.integers(1, 5),
    )
    def transfer_ship_free_units(
        self, product: int, origin: int, shift: int, quantity: int
    ) -> None:
        target = (origin + shift) % 3
        reference = f"TR-{len(self.transfers)}"
        call: dict[str, Any] = {
            "product_id": self.product_ids[product],
            "from_location_id": self.location_ids[origin],
            "to_location_id": self.location_ids[target],
            "quantity": quantity,
            "transfer_reference": reference,
        }
        if self.free(product, origin) < quantity:
            with pytest.raises(InsufficientStock):
                stock_transfer_ship(**call)
            return
        stock_transfer_ship(**call)
        self.level(product, origin).on_hand -= quantity
        self.level(product, target).in_transit += quantity
        self.transfers.append(InFlight(product, target, quantity, reference))

    @precondition(lambda self: self.held)
    @rule(data=st.data(), shift=st.integers(1, 2))
    def transfer_ship_reservation(self, data: Any, shift: int) -> None:
        reservation_id = data.draw(st.sampled_from(sorted(self.held)))
        held = self.held[reservation_id]
        product, origin = held.key
        target = (origin + shift) % 3
        quantity = data.draw(st.integers(1, held.quantity))
        reference = f"TR-{len(self.transfers)}"
        stock_transfer_ship(
            product_id=self.product_ids[product],
            from_location_id=self.location_ids[origin],
            to_location_id=self.location_ids[target],
            quantity=quantity,
            transfer_reference=reference,
            reservation_id=reservation_id,
        )
        self.levels[held.key].on_hand -= quantity
        self.take(reservation_id, quantity)
        self.level(product, target).in_transit += quantity
        self.transfers.append(InFlight(product, target, quantity, reference))

    @precondition(lambda self: self.transfers)
    @rule(data=st.data(), gap=st.integers(-2, 1))
    def transfer_receive(self, data: Any, gap: int) -> None:
        transfer = data.draw(st.sampled_from(self.transfers))
        received = max(0, transfer.quantity + gap)
        stock_transfer_receive(
            product_id=self.product_ids[transfer.product],
            location_id=self.location_ids[transfer.to_location],
            quantity_expected=transfer.quantity,
            quantity_received=received,
            transfer_reference=transfer.reference,
        )
        self.transfers.remove(transfer)
        level = self.levels[(transfer.product, transfer.to_location)]
        level.in_transit -= transfer.quantity
        level.on_hand += received

    # Invariants --------------------------------------------------------------------------

    @invariant()
    def counters_equal_the_ledger(self) -> None:
        assert stock_check().drifts == ()

    @invariant()
    def nothing_promised_beyond_on_hand(self) -> None:
        over = StockLevel.objects.filter(
            on_hand__lt=F("reserved") + F("damaged") + F("quality_control")
        )
        assert not over.exists()
        assert all(level.atp >= 0 for level in StockLevel.objects.all())

    @invariant()
    def database_equals_the_model(self) -> None:
        products = {pk: index for index, pk in enumerate(self.product_ids)}
        locations = {pk: index for index, pk in enumerate(self.location_ids)}
        actual = {
            (products[row[0]], locations[row[1]]): tuple(row[2:])
            for row in StockLevel.objects.filter(product_id__in=products).values_list(
                "product_id",
                "location_id",
                "on_hand",
                "reserved",
                "damaged",
                "quality_control",
                "in_transit",
            )
        }
        assert actual == {key: level.figures() for key, level in self.levels.items()}
        active = dict(
            Reservation.objects.filter(status="active", product_id__in=products).values_list(
                "id", "quantity"
            )
        )
        assert active == {key: held.quantity for key, held in self.held.items()}


@pytest.mark.django_db
def test_stock_services_match_the_model() -> None:
    run_state_machine_as_test(StockMachine, settings=DB_SETTINGS)
