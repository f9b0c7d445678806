"""Ship (and reject) under real concurrency: two fulfillment orders of the same two products,
their lines (and reservations) in opposite orders, shipped at the same time.

Committing line by line locks reservation A, level A, then reservation B, level B: ship X
(SHIRT then MUG) would hold the SHIRT level while ship Y (MUG then SHIRT) holds the MUG level,
each waiting for the other (a deadlock: one fails with 40P01, a 409 for the API). The ship
takes every reservation (by id) and every level (by primary key) up front, so Y waits for X
before it holds any level. Steps are ordered with ``pg_stat_activity``: X, holding its first
commit, goes on only once Y's backend waits for a lock.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from fulfillment.models import FulfillmentOrder
from fulfillment.services.fulfillment_orders import fulfillment_order_reject
from fulfillment.services.lifecycle import fulfillment_order_ship
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import stock_commit, stock_release
from tests.fulfillment.pickpack_support import (
    MUG_EAN,
    NOW,
    SHIRT_EAN,
    accepted,
    pickpack_network,
)
from tests.inventory.test_concurrency import assert_invariants, backend_pid, run_clients, unexpected

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_lock_wait(pid: int) -> None:
    """Return once backend ``pid`` is blocked on a lock (snapshot cleared before each poll)."""
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock")


def packed_in_bin_order(net: dict[str, Any], lines: dict[str, int]) -> FulfillmentOrder:
    """An order placed with ``lines`` in the given order, picked along the bins (SHIRT at
    A-01-1 before MUG at B-04-2), packed in one parcel."""
    from fulfillment.services.packing import pack_close, pack_scan
    from fulfillment.services.picking import pick_confirm_scan, picking_plan_location

    _, fo = accepted(net, lines)
    (pick_list_id,) = picking_plan_location(location_id=net["wh1"].pk, now=NOW).pick_list_ids
    eans = {"SHIRT": SHIRT_EAN, "MUG": MUG_EAN}
    for sku in ("SHIRT", "MUG"):
        pick_confirm_scan(pick_list_id=pick_list_id, ean=eans[sku], quantity=lines[sku], actor="a")
    for sku in ("SHIRT", "MUG"):
        for _ in range(lines[sku]):
            pack_scan(fulfillment_order_id=fo.pk, ean=eans[sku], actor="leo")
    pack_close(fulfillment_order_id=fo.pk, weight_grams=1300, actor="leo")
    fo.refresh_from_db()
    assert fo.status == "packed"
    return fo


def _reservations(fo: FulfillmentOrder) -> list[tuple[str, int, int]]:
    """(sku, reservation id, level id) of the fulfillment order's lines, by reservation id."""
    rows = []
    for line in fo.lines.select_related("order_line"):
        assert line.reservation_id is not None
        reservation = Reservation.objects.get(pk=line.reservation_id)
        rows.append((line.order_line.sku, reservation.pk, reservation.stock_level_id))
    return sorted(rows, key=lambda row: row[1])


def test_two_ships_of_the_same_products_in_opposite_orders_both_succeed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = pickpack_network()
    fo_x = packed_in_bin_order(net, {"SHIRT": 1, "MUG": 1})
    fo_y = packed_in_bin_order(net, {"MUG": 1, "SHIRT": 1})
    x_rows, y_rows = _reservations(fo_x), _reservations(fo_y)
    # The race this test is about: X commits SHIRT first, Y commits MUG first, and the SHIRT
    # level comes first in primary-key order.
    assert [sku for sku, _, _ in x_rows] == ["SHIRT", "MUG"]
    assert [sku for sku, _, _ in y_rows] == ["MUG", "SHIRT"]
    assert x_rows[0][2] < x_rows[1][2]
    x_reservations = {reservation_id for _, reservation_id, _ in x_rows}

    y_pid: list[int] = []
    x_holds_first_commit = threading.Event()

    def paused_commit(**kwargs: Any) -> Any:
        result = stock_commit(**kwargs)
        if kwargs["reservation_id"] in x_reservations and not x_holds_first_commit.is_set():
            x_holds_first_commit.set()  # X holds its first reservation and level
            deadline = time.monotonic() + 20
            while not y_pid and time.monotonic() < deadline:
                time.sleep(0.01)
            wait_for_lock_wait(y_pid[0])
        return result

    monkeypatch.setattr("fulfillment.services.lifecycle.stock_commit", paused_commit)

    def work(client: int) -> object:
        if client == 0:
            return fulfillment_order_ship(fulfillment_order_id=fo_x.pk, actor="leo")
        assert x_holds_first_commit.wait(20)
        y_pid.append(backend_pid())
        return fulfillment_order_ship(fulfillment_order_id=fo_y.pk, actor="ana")

    outcomes = run_clients(2, work)

    assert unexpected(outcomes) == []
    assert list(
        FulfillmentOrder.objects.filter(pk__in=[fo_x.pk, fo_y.pk]).values_list("status", flat=True)
    ) == ["shipped", "shipped"]
    levels = {
        row.product.sku: (row.on_hand, row.reserved)
        for row in StockLevel.objects.filter(location=net["wh1"]).select_related("product")
    }
    assert levels == {"SHIRT": (8, 0), "MUG": (2, 0)}
    assert StockMovement.objects.filter(kind="sale").count() == 4
    assert_invariants()


def test_two_rejections_of_the_same_products_in_opposite_orders_both_succeed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same race for ``fulfillment_order_reject``, which releases line by line."""
    net = pickpack_network()
    _, fo_x = accepted(net, {"SHIRT": 1, "MUG": 1})
    _, fo_y = accepted(net, {"MUG": 1, "SHIRT": 1})
    x_rows, y_rows = _reservations(fo_x), _reservations(fo_y)
    assert [sku for sku, _, _ in x_rows] == ["SHIRT", "MUG"]
    assert [sku for sku, _, _ in y_rows] == ["MUG", "SHIRT"]
    assert x_rows[0][2] < x_rows[1][2]
    x_reservations = {reservation_id for _, reservation_id, _ in x_rows}

    y_pid: list[int] = []
    x_holds_first_release = threading.Event()

    def paused_release(**kwargs: Any) -> Any:
        result = stock_release(**kwargs)
        if kwargs["reservation_id"] in x_reservations and not x_holds_first_release.is_set():
            x_holds_first_release.set()
            deadline = time.monotonic() + 20
            while not y_pid and time.monotonic() < deadline:
                time.sleep(0.01)
            wait_for_lock_wait(y_pid[0])
        return result

    monkeypatch.setattr("fulfillment.services.fulfillment_orders.stock_release", paused_release)

    def reject(fo: FulfillmentOrder) -> object:
        return fulfillment_order_reject(
            fulfillment_order_id=fo.pk,
            lines=[(line.pk, line.quantity, "damaged") for line in fo.lines.order_by("id")],
            actor="wh-1",
        )

    def work(client: int) -> object:
        if client == 0:
            return reject(fo_x)
        assert x_holds_first_release.wait(20)
        y_pid.append(backend_pid())
        return reject(fo_y)

    outcomes = run_clients(2, work)

    assert unexpected(outcomes) == []
    assert list(
        FulfillmentOrder.objects.filter(pk__in=[fo_x.pk, fo_y.pk]).values_list("status", flat=True)
    ) == ["rejected", "rejected"]
    assert not Reservation.objects.filter(
        pk__in=[reservation_id for _, reservation_id, _ in x_rows + y_rows], status="active"
    ).exists()
    assert StockMovement.objects.filter(kind="release").count() >= 4
    assert_invariants()
