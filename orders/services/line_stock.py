"""The stock of order lines: their reservations in inventory, released and re-reserved.

Reservations of a line carry ``reference_type = "order_line"`` and ``reference_id =
str(line.id)`` (order capture writes them so). Changes go through ``inventory.services`` only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from inventory.models import Reservation
from inventory.services import stock_release
from orders.models import STORE_DELIVERY_MODES, OrderLine

ORDER_LINE = "order_line"


@dataclass(frozen=True)
class ReservationTerms:
    """How new reservations of an order are made: like the ones it already has."""

    kind: str = Reservation.Kind.ORDER
    expires_at: datetime | None = None


def reservation_tier(*, delivery_mode: str, pickup_location_id: int | None) -> int | None:
    """Where a line reserves: its pickup store (click-and-collect), else the pool (None)."""
    return pickup_location_id if delivery_mode in STORE_DELIVERY_MODES else None


def line_reservations_active(
    line_ids: Iterable[int], *, lock: bool = False
) -> dict[int, list[Reservation]]:
    """Active reservations per line id, youngest first (the order units are given back in).

    ``lock``: take the rows' locks in primary-key order (reservations before stock levels);
    PostgreSQL re-checks ``status`` after waiting, so a row expired or committed meanwhile is
    not returned. Precondition for ``lock``: inside ``transaction.atomic``.
    """
    by_line: dict[int, list[Reservation]] = defaultdict(list)
    references = [str(line_id) for line_id in line_ids]
    if not references:
        return by_line
    queryset = Reservation.objects.filter(
        reference_type=ORDER_LINE,
        reference_id__in=references,
        status=Reservation.Status.ACTIVE,
    )
    if lock:
        queryset = queryset.select_for_update()
    rows = sorted(queryset.order_by("id"), key=lambda r: (r.created_at, r.id), reverse=True)
    for row in rows:
        by_line[int(row.reference_id)].append(row)
    return by_line


def reservation_terms(reservations: Iterable[Reservation]) -> ReservationTerms:
    """Holds stay holds (a pending payment): new units get the latest expiry among them."""
    holds = [r for r in reservations if r.kind == Reservation.Kind.HOLD]
    if not holds:
        return ReservationTerms()
    expiries = [r.expires_at for r in holds if r.expires_at is not None]
    return ReservationTerms(
        kind=Reservation.Kind.HOLD, expires_at=max(expiries) if expiries else None
    )


def release_plan(
    reservations: Sequence[Reservation], quantity: int
) -> list[tuple[Reservation, int]]:
    """Which reservations give back ``quantity`` units, youngest first (as many as they hold)."""
    plan = []
    remaining = quantity
    for reservation in reservations:
        if remaining <= 0:
            break
        taken = min(remaining, reservation.quantity)
        plan.append((reservation, taken))
        remaining -= taken
    return plan


def releases_apply(plan: Sequence[tuple[Reservation, int]], *, reason: str, actor: str) -> int:
    """Release each planned quantity; return the units released.

    Precondition: the caller holds the reservations' locks (``line_reservations_active``). Stock
    levels are taken in ascending primary key, one level per release, so that the whole
    transaction acquires them in the project's global order.
    """
    units = 0
    for reservation, quantity in sorted(
        plan, key=lambda item: (item[0].stock_level_id, item[0].id)
    ):
        stock_release(reservation_id=reservation.id, quantity=quantity, reason=reason, actor=actor)
        units += quantity
    return units


def reserved_units(line: OrderLine, reservations: dict[int, list[Reservation]]) -> int:
    return sum(r.quantity for r in reservations.get(line.id, []))
