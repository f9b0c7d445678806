"""Holds that become order reservations (payment authorised while a hold was pending)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from inventory.models import Reservation


def stock_hold_confirm(*, reservation_ids: Sequence[int]) -> list[Reservation]:
    """Turn active holds into order reservations that never expire; return those confirmed.

    The units stay reserved where they are: no counter changes, so no ledger row. Rows are
    locked in primary-key order (the project's locking order: reservations before stock
    levels). A reservation that is no longer active (expired or released meanwhile) or already
    an order reservation is left as it is and not returned, so a repeated call confirms nothing
    twice. The expiry job skips rows locked here and re-checks ``expires_at`` after the lock, so
    a hold is either confirmed or expired, never both.
    """
    if not reservation_ids:
        return []
    with transaction.atomic():
        rows = list(
            Reservation.objects.select_for_update()
            .filter(
                id__in=list(reservation_ids),
                status=Reservation.Status.ACTIVE,
                kind=Reservation.Kind.HOLD,
            )
            .order_by("id")
        )
        if not rows:
            return []
        now = timezone.now()
        Reservation.objects.filter(id__in=[row.id for row in rows]).update(
            kind=Reservation.Kind.ORDER, expires_at=None, updated_at=now
        )
        for row in rows:
            row.kind = Reservation.Kind.ORDER
            row.expires_at = None
            row.updated_at = now
        return rows
