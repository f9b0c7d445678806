"""Locks for routing: take every row a routing run may change, in the global order, at once.

Routing moves several reservations of one order (``stock_allocate``) and may reserve fresh
units (``stock_reserve`` at a location) in one transaction. Each of those services locks its
own rows in primary-key order, but a sequence of calls would lock levels in call order, which
two concurrent routing runs could interleave into a deadlock. Taking all of them up front, in
the global order (reservation rows by id, then stock levels by primary key), makes the later
calls re-lock rows this transaction already holds.
"""

from __future__ import annotations

from collections.abc import Iterable

from inventory.models import Reservation
from inventory.services.ledger import stock_level_ids, stock_levels_lock


def routing_rows_lock(
    *, reservation_ids: Iterable[int], targets: Iterable[tuple[int, int]]
) -> list[Reservation]:
    """Lock ``reservation_ids`` (id order), then the stock levels they sit on and those of
    ``targets`` ((product_id, location_id) pairs that exist), in primary-key order.

    Precondition: inside ``transaction.atomic``; the caller holds no stock-level lock yet.
    Returns the reservations (id order) as they are under the lock.
    """
    reservations = list(
        Reservation.objects.select_for_update(of=("self",))
        .filter(id__in=sorted(set(reservation_ids)))
        .order_by("id")
    )
    level_ids = {reservation.stock_level_id for reservation in reservations}
    level_ids.update(stock_level_ids(list(targets), create=False).values())
    stock_levels_lock(level_ids)
    return reservations
