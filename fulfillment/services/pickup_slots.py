"""Pickup slots of click-and-collect stores: what is offered, and booking one at capture.

The slots come from the pure core (``fulfillment.slots``) fed with the store's opening hours
(``Location.opening_hours``, ``closed_days``, ``timezone``), its ``StorePolicy`` (defaults when
the store has none) and the bookings: open orders (not cancelled, collected or completed) of
the store with that slot, as the order's own delivery or as a click-and-collect delivery group.

Capacity under concurrency: :func:`pickup_slot_book` runs inside the capture transaction
(``orders.hooks.order_pickup_slot_book``). It locks the store's ``StorePolicy`` row (created
when missing, in the same transaction) *before* counting the bookings, and the lock holds until
the capture commits or rolls back. Two captures booking the same store therefore count one
after the other, and the second sees the first's order (READ COMMITTED: the count is a new
statement after the lock was granted). Nothing else locks policy rows while holding stock
locks, and capture takes them before any stock lock, so the lock adds no deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from fulfillment.models_store import StorePolicy
from fulfillment.promise.schedule import WeeklySchedule
from fulfillment.slots import PickupSlot, SlotPolicy, pickup_slot_find, pickup_slots
from inventory.models import Location
from orders.hooks import PickupSlotAnswer
from orders.models import DeliveryMode, Order

# Orders that no longer need their slot.
SLOT_RELEASED_STATUSES = (
    Order.Status.CANCELLED,
    Order.Status.COLLECTED,
    Order.Status.COMPLETED,
)
# The delivery-options API lists at most this many slots.
SLOTS_LISTED = 96


def slot_policy_of(policy: StorePolicy | None) -> SlotPolicy:
    """The core's policy from the store's row (the model's defaults without one)."""
    row = policy if policy is not None else StorePolicy()
    return SlotPolicy(
        slot_minutes=row.slot_minutes,
        capacity=row.slot_capacity,
        preparation_minutes=row.preparation_minutes,
        days_ahead=row.slot_days_ahead,
    )


def store_schedule(location: Location) -> WeeklySchedule | None:
    """The store's opening hours, or None when they are malformed (then nothing is offered)."""
    try:
        return WeeklySchedule.from_json(
            location.opening_hours or {}, location.closed_days or [], location.timezone
        )
    except (ValueError, TypeError, KeyError, IndexError):
        return None


_GROUP_BOOKINGS_SQL = """
SELECT (grp->>'pickup_slot_start')::timestamptz AS slot_start, count(*)
FROM orders_order o
CROSS JOIN LATERAL jsonb_array_elements(o.delivery_groups) AS grp
WHERE o.delivery_groups <> '[]'::jsonb
  AND NOT (o.status = ANY(%(released)s))
  AND EXISTS (
    SELECT 1 FROM orders_orderline line
    WHERE line.order_id = o.id AND line.pickup_location_id = %(store)s
      AND line.delivery_group <> '' AND line.delivery_mode = %(mode)s
  )
  AND grp->>'mode' = %(mode)s
  AND (grp->>'pickup_location_id')::bigint = %(store)s
  AND grp->>'pickup_slot_start' IS NOT NULL
  AND (grp->>'pickup_slot_start')::timestamptz >= %(since)s
  AND (grp->>'pickup_slot_start')::timestamptz < %(until)s
GROUP BY 1
"""


def pickup_slot_bookings(
    *, location_id: int, since: datetime, until: datetime
) -> dict[datetime, int]:
    """Open orders booked per slot start in ``[since, until)`` at the store (two queries: the
    orders' own deliveries, then click-and-collect delivery groups of mixed baskets)."""
    counts: dict[datetime, int] = defaultdict(int)
    for start, booked in (
        Order.objects.filter(
            pickup_location_id=location_id,
            delivery_mode=DeliveryMode.CLICK_AND_COLLECT,
            pickup_slot_start__gte=since,
            pickup_slot_start__lt=until,
        )
        .exclude(status__in=SLOT_RELEASED_STATUSES)
        .values("pickup_slot_start")
        .annotate(booked=Count("id"))
        .values_list("pickup_slot_start", "booked")
    ):
        if start is not None:  # filtered in SQL; for the type checker
            counts[start] += booked
    with connection.cursor() as cursor:
        cursor.execute(
            _GROUP_BOOKINGS_SQL,
            {
                "released": list(SLOT_RELEASED_STATUSES),
                "store": location_id,
                "mode": str(DeliveryMode.CLICK_AND_COLLECT),
                "since": since,
                "until": until,
            },
        )
        for start, booked in cursor.fetchall():
            counts[start] += booked
    return dict(counts)


def store_pickup_slots(
    *,
    location: Location,
    policy: StorePolicy | None,
    now: datetime | None = None,
    limit: int | None = None,
) -> tuple[PickupSlot, ...]:
    """The slots ``location`` offers from ``now`` with their remaining places (two queries for
    the bookings; none when the store offers no click-and-collect or has no valid hours)."""
    schedule = store_schedule(location)
    if not location.is_click_and_collect or schedule is None:
        return ()
    moment = now or timezone.now()
    core_policy = slot_policy_of(policy)
    offered = pickup_slots(schedule=schedule, policy=core_policy, now=moment, limit=limit)
    if not offered:
        return ()
    bookings = pickup_slot_bookings(
        location_id=location.pk,
        since=offered[0].start,
        until=offered[-1].start + timedelta(seconds=1),
    )
    return pickup_slots(
        schedule=schedule, policy=core_policy, now=moment, bookings=bookings, limit=limit
    )


def store_policy_lock(*, location_id: int) -> StorePolicy:
    """Lock the store's policy row, creating it (defaults) when missing.

    Precondition: inside a transaction; the lock holds until it ends. Two transactions creating
    the row at once: the second waits on the primary key, then finds and locks the first's."""
    policy, _ = StorePolicy.objects.select_for_update().get_or_create(location_id=location_id)
    return policy


def pickup_slot_book(store_id: int, start: datetime, end: datetime | None) -> PickupSlotAnswer:
    """The capture hook (``orders.hooks.order_pickup_slot_book``): whether ``start`` (and
    ``end``, when the client gave it) is a slot the store offers now with a place left; the
    slot's end when it is.

    Precondition: inside the capture transaction, before the order is written (its own booking
    is not counted yet), holding no stock lock. Locks the store's policy row
    (:func:`store_policy_lock`) until the capture ends, so that N concurrent captures for the
    last N places all succeed and the next one is refused."""
    location = Location.objects.filter(pk=store_id).first()
    if location is None:
        return PickupSlotAnswer(end=None, code="slot_not_offered", message="Unknown store.")
    policy = store_policy_lock(location_id=store_id)
    slots = store_pickup_slots(location=location, policy=policy)
    verdict = pickup_slot_find(slots, start=start, end=end)
    if verdict.slot is None:
        return PickupSlotAnswer(end=None, code=verdict.code, message=verdict.message)
    return PickupSlotAnswer(end=verdict.slot.end)
