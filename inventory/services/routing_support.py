"""Locks for routing: take every row a routing run may change, in the global order, at once.

Routing moves several reservations of one order (``stock_allocate``) and may reserve fresh
units (``stock_reserve`` at a location) in one transaction. Each of those services locks its
own rows in primary-key order, but a sequence of calls would lock levels in call order, which
two concurrent routing runs could interleave into a deadlock. Taking all of them up front, in
the global order (reservation rows by id, then stock levels by primary key), makes the later
calls re-lock rows this transaction already holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from django.utils import timezone

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


def routing_levels_lock(
    *, reservations: Sequence[Reservation], targets: Iterable[tuple[int, int]]
) -> None:
    """Lock, in one statement and in primary-key order, the stock levels ``reservations`` sit
    on and those of ``targets`` ((product_id, location_id) pairs; missing ones are skipped).

    ``routing_rows_lock`` for a caller that already holds the reservations' row locks (routing
    locks the order's free reservations, ids ascending, before it plans): the same global
    order, one round trip instead of three. Precondition: inside ``transaction.atomic``; the
    caller holds the reservations' locks and no stock-level lock yet.
    """
    level_ids = sorted({reservation.stock_level_id for reservation in reservations})
    pairs = sorted(set(targets))
    if not level_ids and not pairs:
        return
    with connection.cursor() as cursor:
        # ORDER BY under FOR UPDATE: PostgreSQL sorts first, then locks the rows in that order.
        cursor.execute(
            "SELECT s.id FROM inventory_stocklevel s"
            " WHERE s.id = ANY(%s::bigint[])"
            " OR (s.product_id, s.location_id) IN"
            " (SELECT p, l FROM unnest(%s::bigint[], %s::bigint[]) AS pairs(p, l))"
            " ORDER BY s.id FOR UPDATE OF s",
            [level_ids, [product for product, _ in pairs], [location for _, location in pairs]],
        )
        cursor.fetchall()


def reservations_bind_in_place(*, reservations: Sequence[Reservation]) -> None:
    """Bind whole reservations to the location they already sit on, in one statement:
    ``stock_allocate(reservation_id, its own location, its whole quantity)`` for many (the scope
    becomes ``location``; no counter, ledger row or level lock is involved).

    Precondition: inside ``transaction.atomic``; the caller holds every reservation's row lock
    and read it under that lock (so each is active, with the quantity it has now).
    """
    if not reservations:
        return
    for reservation in reservations:
        if reservation.status != Reservation.Status.ACTIVE or reservation.quantity <= 0:
            raise ValueError(f"reservation {reservation.pk} cannot be bound in place")
    moment = timezone.now()
    ids = sorted(reservation.pk for reservation in reservations)
    updated = Reservation.objects.filter(id__in=ids, status=Reservation.Status.ACTIVE).update(
        scope=Reservation.Scope.LOCATION, updated_at=moment
    )
    if updated != len(ids):
        raise AssertionError(f"bound {updated} of {len(ids)} reservations in place")
    for reservation in reservations:
        reservation.scope = Reservation.Scope.LOCATION
        reservation.updated_at = moment
