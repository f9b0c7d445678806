"""The promise watch: orders past their promise and not settled emit ``order.late`` once.

An order is late when its promised moment (``promised_at``) has passed, or its
``promised_date`` is before today (the project's time zone), and it is not delivered,
collected, cancelled or completed. ``orders_late_notify`` (beat, every few
minutes) marks each late order with ``late_notified_at`` in the transaction that writes its
``order.late`` outbox event, so an order is announced exactly once, even when two sweeps run
at the same time (rows are claimed with ``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from omnilog.core.outbox import outbox_emit_many
from orders.models import Order
from orders.statuses import OrderStatus

SETTLED_STATUSES = (
    OrderStatus.DELIVERED,
    OrderStatus.COLLECTED,
    OrderStatus.CANCELLED,
    OrderStatus.COMPLETED,
)
BATCH_SIZE = 500


def order_late_q(now: datetime) -> Q:
    """Orders whose promise has passed at ``now`` (settled ones included: filter them out)."""
    today = timezone.localdate(now)
    # ``promised_date__lte`` first: the partial index ``order_promise_watch_idx`` serves it.
    return Q(promised_date__lte=today) & (Q(promised_at__lt=now) | Q(promised_date__lt=today))


def orders_late_notify(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Emit ``order.late`` for every late, unsettled, not yet notified order; return how many.

    Batches of ``batch_size`` rows, each in its own short transaction (claim with ``SKIP
    LOCKED``, write the events, mark the orders). Idempotent: a notified order is never
    announced again, even if its promise changes later.
    """
    moment = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            late = list(
                Order.objects.filter(order_late_q(moment), late_notified_at__isnull=True)
                .exclude(status__in=SETTLED_STATUSES)
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))
                .only("id", "number", "channel_id", "status", "promised_at", "promised_date")[
                    :batch_size
                ]
            )
            if not late:
                return total
            outbox_emit_many(
                ("order.late", "order", order.pk, _payload(order, moment)) for order in late
            )
            Order.objects.filter(pk__in=[order.pk for order in late]).update(
                late_notified_at=moment
            )
        total += len(late)
        if len(late) < batch_size:
            return total


def _payload(order: Order, now: datetime) -> dict[str, object]:
    promised = order.promised_at
    if promised is None:
        assert order.promised_date is not None
        promised = timezone.make_aware(
            datetime.combine(order.promised_date + timedelta(days=1), datetime.min.time())
        )
    return {
        "order_id": order.pk,
        "number": order.number,
        "channel_id": order.channel_id,
        "status": order.status,
        "promised_at": order.promised_at.isoformat() if order.promised_at else None,
        "promised_date": order.promised_date.isoformat() if order.promised_date else None,
        "late_by_seconds": max(0, int((now - promised).total_seconds())),
    }
