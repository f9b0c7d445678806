"""Pure pickup-slot computation (no framework): opening hours, preparation time, capacity.

A click-and-collect store offers pickup slots: consecutive windows of ``slot_minutes`` laid
from each opening interval's start (``Location.opening_hours``, read by
``fulfillment.promise.WeeklySchedule``: time zone, closed days, DST handled there). A slot lies
wholly inside one opening interval (a slot that would run past closing is not offered).

- The earliest slot starts at or after the moment the store can have the order ready:
  ``preparation_minutes`` of *working* time from now (the store prepares while it is open; an
  order placed after closing is prepared from the next opening).
- The last day offered is the store's local date of now plus ``days_ahead``.
- Each slot takes ``capacity`` orders; ``bookings`` (slot start -> open orders booked on it)
  leave ``remaining`` places. Full slots are listed with ``remaining == 0``.

Everything is in UTC instants; slots are ordered by start. Deterministic: the same inputs give
the same slots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fulfillment.promise.schedule import WeeklySchedule

__all__ = [
    "SLOT_FULL",
    "SLOT_NOT_OFFERED",
    "PickupSlot",
    "SlotPolicy",
    "SlotVerdict",
    "pickup_slot_find",
    "pickup_slots",
]

SLOT_NOT_OFFERED = "slot_not_offered"
SLOT_FULL = "slot_full"


@dataclass(frozen=True)
class SlotPolicy:
    """A store's slot settings (``StorePolicy``)."""

    slot_minutes: int = 60
    capacity: int = 8
    preparation_minutes: int = 120
    days_ahead: int = 3

    def __post_init__(self) -> None:
        if self.slot_minutes < 1:
            raise ValueError("slot_minutes must be positive")
        if self.capacity < 0 or self.preparation_minutes < 0 or self.days_ahead < 0:
            raise ValueError("capacity, preparation_minutes and days_ahead must be >= 0")


@dataclass(frozen=True)
class PickupSlot:
    start: datetime
    end: datetime
    capacity: int
    booked: int

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.booked)

    @property
    def is_full(self) -> bool:
        return self.remaining == 0


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("aware datetimes only")
    return moment.astimezone(UTC)


def pickup_slots(
    *,
    schedule: WeeklySchedule,
    policy: SlotPolicy,
    now: datetime,
    bookings: Mapping[datetime, int] | None = None,
    limit: int | None = None,
) -> tuple[PickupSlot, ...]:
    """Every slot offered from ``now`` (module docstring), at most ``limit`` (earliest first).

    ``bookings`` keys are slot starts (any time zone); a booking on an instant that is not an
    offered slot's start counts for nothing. No slot when the store never opens within the
    horizon."""
    now = _utc(now)
    booked = {_utc(start): count for start, count in (bookings or {}).items()}
    ready = schedule.add_working_minutes(
        now, policy.preparation_minutes, horizon_days=policy.days_ahead + 1
    )
    if ready is None:
        return ()
    length = timedelta(minutes=policy.slot_minutes)
    first_day = schedule.local_date(now)
    slots: list[PickupSlot] = []
    for offset in range(policy.days_ahead + 1):
        for opening, closing in schedule.intervals_on(first_day + timedelta(days=offset)):
            start = opening
            while start + length <= closing:
                if start >= ready:
                    slots.append(
                        PickupSlot(
                            start=start,
                            end=start + length,
                            capacity=policy.capacity,
                            booked=booked.get(start, 0),
                        )
                    )
                    if limit is not None and len(slots) >= limit:
                        return tuple(slots)
                start += length
    return tuple(slots)


@dataclass(frozen=True)
class SlotVerdict:
    """The answer for a requested slot: ``slot`` when it can be booked, else a ``code``
    (``SLOT_NOT_OFFERED``, ``SLOT_FULL``) and a human ``message``."""

    slot: PickupSlot | None
    code: str = ""
    message: str = ""


def pickup_slot_find(
    slots: tuple[PickupSlot, ...], *, start: datetime, end: datetime | None = None
) -> SlotVerdict:
    """Whether ``start`` (and ``end``, when given) names an offered slot with a place left."""
    start = _utc(start)
    slot = next((candidate for candidate in slots if candidate.start == start), None)
    if slot is None or (end is not None and _utc(end) != slot.end):
        return SlotVerdict(
            None, SLOT_NOT_OFFERED, "This pickup slot is not offered; ask for the current slots."
        )
    if slot.is_full:
        return SlotVerdict(None, SLOT_FULL, "This pickup slot is full; choose another one.")
    return SlotVerdict(slot)
