"""Stock services under real concurrency: many clients, each on its own PostgreSQL connection.

Every test commits its data (``transaction=True``) so that the client threads see it. Clients
start together on a ``threading.Barrier``; each closes its connections when it is done. Any
exception a client raises that is not an expected business refusal is recorded and fails the
test (a deadlock surfaces as ``OperationalError`` with SQLSTATE 40P01).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import F, Sum

from inventory.models import Location, Product, Reservation, StockLevel, StockMovement
from inventory.services import (
    ReserveLine,
    reservations_expire,
    stock_adjust,
    stock_commit,
    stock_count,
    stock_receive,
    stock_release,
    stock_reserve,
    stock_transfer_ship,
)
from inventory.services.ledger import stock_levels_lock
from omnilog.core.errors import ApplicationError, Conflict, InsufficientStock, ValidationFailed
from omnilog.core.models import OutboxEvent
from tests.inventory.helpers import assert_ledger_consistent
from tests.inventory.typed_factories import make_channel, make_product, make_store, make_warehouse

pytestmark = pytest.mark.django_db(transaction=True)

# A fixed moment far in the future: holds expire when ``reservations_expire`` is told so,
# never because the wall clock moved.
FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Outcome:
    client: int
    value: Any = None
    error: BaseException | None = None


def run_clients(count: int, work: Callable[[int], object]) -> list[Outcome]:
    """Run ``work(client)`` in ``count`` threads released together; return every outcome."""
    barrier = threading.Barrier(count)
    outcomes: list[Outcome | None] = [None] * count

    def client(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = Outcome(index, value=work(index))
        except BaseException as error:  # recorded, judged by the test
            outcomes[index] = Outcome(index, error=error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a client is stuck"
    assert all(outcome is not None for outcome in outcomes)
    return [outcome for outcome in outcomes if outcome is not None]


def unexpected(outcomes: list[Outcome], *allowed: type[BaseException]) -> list[str]:
    """Errors that are not one of the ``allowed`` business refusals, described."""
    return [
        f"client {o.client}: {type(o.error).__name__}: {o.error}"
        for o in outcomes
        if o.error is not None and not isinstance(o.error, allowed)
    ]


def assert_invariants() -> None:
    """Counters = ledger = reservations; nothing promised that is not there; ATP >= 0."""
    assert_ledger_consistent()
    over = StockLevel.objects.filter(
        on_hand__lt=F("reserved") + F("damaged") + F("quality_control")
    )
    assert list(over.values_list("id", flat=True)) == []
    assert all(row.atp >= 0 for row in StockLevel.objects.all())
    assert not Reservation.objects.filter(status="active", quantity__lte=0).exists()
    assert not Reservation.objects.exclude(status="active").exclude(quantity=0).exists()


def reserved_at(product: Product, location: Location) -> int:
    return StockLevel.objects.get(product=product, location=location).reserved


def active_units(product: Product) -> int:
    total = Reservation.objects.filter(product=product, status="active").aggregate(
        total=Sum("quantity")
    )["total"]
    return int(total or 0)


def test_fifty_clients_on_ten_units_at_one_store() -> None:
    channel = make_channel(code="web")
    store = make_store(code="st-paris", channels=[channel])
    product = make_product()
    stock_receive(product_id=product.id, location_id=store.id, quantity=10)

    outcomes = run_clients(
        50,
        lambda client: stock_reserve(
            lines=[ReserveLine(product_id=product.id, quantity=1, location_id=store.id)],
            channel_id=channel.id,
            reference_type="order_line",
        ),
    )

    assert unexpected(outcomes, InsufficientStock) == []
    assert sum(1 for o in outcomes if o.error is None) == 10
    assert sum(1 for o in outcomes if isinstance(o.error, InsufficientStock)) == 40
    row = StockLevel.objects.get(product=product, location=store)
    assert (row.on_hand, row.reserved, row.atp) == (10, 10, 0)
    assert Reservation.objects.filter(status="active").count() == 10
    assert StockMovement.objects.filter(kind="reservation").count() == 10
    assert_invariants()


def test_fifty_clients_on_ten_units_spread_over_the_pool() -> None:
    channel = make_channel(code="web")
    locations = [make_warehouse(code=f"wh-{i}", channels=[channel]) for i in range(3)]
    store = make_store(code="st-lyon", channels=[channel])  # not a pool row: ships nothing
    product = make_product()
    for location, units in zip(locations, [4, 3, 3], strict=True):
        stock_receive(product_id=product.id, location_id=location.id, quantity=units)
    stock_receive(product_id=product.id, location_id=store.id, quantity=5)

    outcomes = run_clients(
        50,
        lambda client: stock_reserve(
            lines=[ReserveLine(product_id=product.id, quantity=1)], channel_id=channel.id
        ),
    )

    assert unexpected(outcomes, InsufficientStock) == []
    assert sum(1 for o in outcomes if o.error is None) == 10
    assert sum(1 for o in outcomes if isinstance(o.error, InsufficientStock)) == 40
    assert [reserved_at(product, location) for location in locations] == [4, 3, 3]
    assert reserved_at(product, store) == 0
    assert set(Reservation.objects.values_list("scope", flat=True)) == {"pool"}
    assert active_units(product) == 10
    assert_invariants()


def test_multi_line_orders_in_shuffled_order_never_deadlock() -> None:
    channel = make_channel(code="web")
    warehouses = [make_warehouse(code=f"wh-{i}", channels=[channel]) for i in range(2)]
    store = make_store(code="st-1", channels=[channel])
    locations = [*warehouses, store]
    products = [make_product() for _ in range(6)]
    on_hand: dict[tuple[int, int], int] = {}
    for p_index, product in enumerate(products):
        for l_index, location in enumerate(locations):
            units = 3 + (p_index + l_index) % 4
            stock_receive(product_id=product.id, location_id=location.id, quantity=units)
            on_hand[(product.id, location.id)] = units

    def order(client: int) -> list[Reservation]:
        rng = random.Random(client)  # reproducible order shapes
        lines = []
        for product in rng.sample(products, rng.randint(3, 5)):
            location = rng.choice([None, *locations])
            lines.append(
                ReserveLine(
                    product_id=product.id,
                    quantity=rng.randint(1, 3),
                    location_id=location.id if location else None,
                    reference_id=f"{client}-{product.id}",
                )
            )
        # A second line for one product on some orders: that product takes the blocking path.
        if client % 3 == 0:
            lines.append(ReserveLine(product_id=lines[0].product_id, quantity=1))
        rng.shuffle(lines)
        return stock_reserve(lines=lines, channel_id=channel.id, reference_type="order_line")

    outcomes = run_clients(30, order)

    assert unexpected(outcomes, InsufficientStock) == []
    succeeded = [o for o in outcomes if o.error is None]
    assert succeeded, "with this much stock some orders must go through"
    promised = sum(r.quantity for o in succeeded for r in o.value)
    assert StockLevel.objects.aggregate(total=Sum("reserved"))["total"] == promised
    assert Reservation.objects.filter(status="active").count() == sum(
        len(o.value) for o in succeeded
    )
    for row in StockLevel.objects.all():
        assert row.on_hand == on_hand[(row.product_id, row.location_id)]
        assert row.reserved <= row.on_hand
    assert_invariants()


def test_expiry_and_release_race_commits_and_each_hold_ends_once() -> None:
    channel = make_channel(code="web")
    store = make_store(code="st-1", channels=[channel])
    warehouse = make_warehouse(code="wh-1", channels=[channel])
    product = make_product()
    stock_receive(product_id=product.id, location_id=store.id, quantity=60)
    stock_receive(product_id=product.id, location_id=warehouse.id, quantity=60)
    holds: list[Reservation] = []
    for index in range(40):
        holds += stock_reserve(
            lines=[
                ReserveLine(
                    product_id=product.id,
                    quantity=1 + index % 2,
                    location_id=store.id if index % 2 else None,
                    reference_id=str(index),
                )
            ],
            channel_id=channel.id,
            kind="hold",
            reference_type="cart",
            expires_at=FUTURE,
        )
    held = {hold.id: hold.quantity for hold in holds}
    later = FUTURE + timedelta(seconds=1)

    def work(client: int) -> object:
        if client < 4:  # four beat runs overlapping
            return ("expire", reservations_expire(now=later, batch_size=7))
        hold = holds[(client - 4) % len(holds)]
        try:
            if client % 3:
                return ("commit", stock_commit(reservation_id=hold.id).id)
            return ("release", stock_release(reservation_id=hold.id).id)
        except Conflict as error:
            if error.code != "reservation_not_active":
                raise
            return ("too late", hold.id)

    outcomes = run_clients(44, work)

    assert unexpected(outcomes) == []
    values = [o.value for o in outcomes]
    expired = sum(count for kind, count in values if kind == "expire")
    committed = {key for kind, key in values if kind == "commit"}
    released = {key for kind, key in values if kind == "release"}
    statuses = dict(Reservation.objects.values_list("id", "status"))
    assert {key for key, status in statuses.items() if status == "committed"} == committed
    assert {key for key, status in statuses.items() if status == "released"} == released
    assert sum(1 for status in statuses.values() if status == "expired") == expired
    assert len(committed) + len(released) + expired == len(holds)
    assert Reservation.objects.filter(quantity=0).count() == len(holds)
    # Each hold's units leave its level exactly once, by one terminal movement.
    for hold_id, quantity in held.items():
        finals = list(
            StockMovement.objects.filter(
                reference_type="reservation",
                reference_id=str(hold_id),
                kind__in=["sale", "release", "expiry"],
            ).values_list("kind", "delta_reserved", "delta_on_hand")
        )
        kind = {"committed": "sale", "released": "release", "expired": "expiry"}[statuses[hold_id]]
        assert finals == [(kind, -quantity, -quantity if kind == "sale" else 0)]
    assert OutboxEvent.objects.filter(topic="reservation.expired").count() == expired
    sold = sum(held[key] for key in committed)
    total = StockLevel.objects.aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    assert total == {"on_hand": 120 - sold, "reserved": 0}
    assert_invariants()


def test_reserve_racing_losses_and_commits_keeps_every_invariant() -> None:
    channel = make_channel(code="web")
    store = make_store(code="st-1", channels=[channel])
    warehouses = [make_warehouse(code=f"wh-{i}", channels=[channel]) for i in range(2)]
    product = make_product()
    for location in [store, *warehouses]:
        stock_receive(product_id=product.id, location_id=location.id, quantity=30)
    # Promise most of it up front, one unit per reservation, so that losses must short some.
    promised: list[Reservation] = []
    for index in range(60):
        promised += stock_reserve(
            lines=[
                ReserveLine(
                    product_id=product.id,
                    quantity=1,
                    location_id=store.id if index % 3 == 0 else None,
                    reference_id=f"pre-{index}",
                )
            ],
            channel_id=channel.id,
            reference_type="order_line",
        )
    places = [store, *warehouses]

    def work(client: int) -> object:
        place = places[client % 3]
        role = client % 5
        if role == 0:  # a shrinkage found by staff
            return stock_adjust(
                product_id=product.id,
                location_id=place.id,
                quantity_delta=-4,
                reason="shrinkage",
            )
        if role == 1:  # a till or WMS count lower than the counters
            return stock_count(
                product_id=product.id, location_id=place.id, counted=12 - client // 5
            )
        if role == 2:  # new orders
            return stock_reserve(
                lines=[
                    ReserveLine(product_id=product.id, quantity=1, location_id=place.id),
                    ReserveLine(product_id=product.id, quantity=1),
                ],
                channel_id=channel.id,
            )
        # roles 3 and 4: ship the reservations made before
        results = []
        for reservation in promised[client % 20 :: 20][:3]:
            try:
                results.append(stock_commit(reservation_id=reservation.id))
            except Conflict as error:  # shorted (released) by a loss first
                if error.code != "reservation_not_active":
                    raise
        return results

    outcomes = run_clients(40, work)

    assert unexpected(outcomes, InsufficientStock, ValidationFailed) == []
    assert not [
        o
        for o in outcomes
        if isinstance(o.error, ApplicationError) and o.error.code == "stock_invariant"
    ]
    # Every shorted reservation was told so, once per shortage movement.
    shortage_rows = StockMovement.objects.filter(kind="shortage", delta_reserved__lt=0).count()
    assert OutboxEvent.objects.filter(topic="reservation.shorted").count() == shortage_rows
    assert_invariants()


def backend_pid() -> int:
    """This thread's PostgreSQL backend (its connection is opened if needed)."""
    connection.ensure_connection()
    return int(connection.connection.info.backend_pid)


def wait_for_lock_wait(pid: int) -> None:
    """Return once backend ``pid`` is blocked on a lock (polls pg_stat_activity)."""
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock")


def test_a_loss_never_waits_for_a_reservation_while_holding_its_level() -> None:
    """A commit holds its reservation and wants the level; a loss that must short that very
    reservation holds the level. The loss steps back (savepoint), takes the reservation
    first, and both finish: the commit, then the loss shorting what is left."""
    store = make_store(code="st-1")
    product = make_product()
    stock_receive(product_id=product.id, location_id=store.id, quantity=5)
    (reservation,) = stock_reserve(
        lines=[ReserveLine(product_id=product.id, quantity=5, location_id=store.id)]
    )
    loss_pid: list[int] = []
    reservation_locked = threading.Event()

    def work(client: int) -> object:
        if client == 0:  # the commit, paused between its two locks
            with transaction.atomic():
                list(Reservation.objects.select_for_update().filter(id=reservation.id))
                reservation_locked.set()
                while not loss_pid:
                    time.sleep(0.01)
                wait_for_lock_wait(loss_pid[0])
                return stock_commit(reservation_id=reservation.id, quantity=3)
        assert reservation_locked.wait(20)
        loss_pid.append(backend_pid())
        return stock_adjust(
            product_id=product.id, location_id=store.id, quantity_delta=-2, reason="broken"
        )

    outcomes = run_clients(2, work)

    assert unexpected(outcomes) == []
    loss = outcomes[1].value
    assert (loss.on_hand, loss.reserved, loss.shorted_reservation_ids) == (
        0,
        0,
        (reservation.id,),
    )
    reservation.refresh_from_db()
    assert (reservation.status, reservation.quantity, reservation.quantity_committed) == (
        "released",
        0,
        3,
    )
    assert list(StockMovement.objects.order_by("id").values_list("kind", flat=True)) == [
        "receipt",
        "reservation",
        "sale",
        "shortage",
        "adjustment",
    ]
    assert OutboxEvent.objects.filter(topic="reservation.shorted").count() == 1
    assert_invariants()


def test_transfer_of_a_reservation_takes_its_levels_in_key_order() -> None:
    """Shipping a reservation from the level with the higher key towards the lower one must
    not hold the higher one while it waits for the lower one."""
    product = make_product()
    first = make_store(code="st-1")
    second = make_store(code="st-2")
    stock_receive(product_id=product.id, location_id=first.id, quantity=4)
    stock_receive(product_id=product.id, location_id=second.id, quantity=4)
    low = StockLevel.objects.get(product=product, location=first)
    high = StockLevel.objects.get(product=product, location=second)
    assert low.id < high.id
    (reservation,) = stock_reserve(
        lines=[ReserveLine(product_id=product.id, quantity=2, location_id=second.id)]
    )
    shipper_pid: list[int] = []
    low_locked = threading.Event()

    def work(client: int) -> object:
        if client == 0:  # another transaction on both levels, in key order
            with transaction.atomic():
                stock_levels_lock([low.id])
                low_locked.set()
                while not shipper_pid:
                    time.sleep(0.01)
                wait_for_lock_wait(shipper_pid[0])
                return sorted(stock_levels_lock([low.id, high.id]))
        assert low_locked.wait(20)
        shipper_pid.append(backend_pid())
        return stock_transfer_ship(
            product_id=product.id,
            from_location_id=second.id,
            to_location_id=first.id,
            quantity=2,
            transfer_reference="TR-1",
            reservation_id=reservation.id,
        )

    outcomes = run_clients(2, work)

    assert unexpected(outcomes) == []
    assert outcomes[0].value == [low.id, high.id]
    source, _target = outcomes[1].value
    assert (source.on_hand, source.reserved) == (2, 0)
    assert StockLevel.objects.get(id=low.id).in_transit == 2
    assert_invariants()
