"""The pure pickup-slot core: opening hours, preparation, horizon, capacity, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fulfillment.promise.schedule import WeeklySchedule
from fulfillment.slots import (
    SLOT_FULL,
    SLOT_NOT_OFFERED,
    SlotPolicy,
    pickup_slot_find,
    pickup_slots,
)

PARIS = ZoneInfo("Europe/Paris")
# Mon-Sat 10:00-12:00 and 14:00-17:30; Sunday closed.
HOURS = {
    day: [["10:00", "12:00"], ["14:00", "17:30"]] for day in ("mon", "tue", "wed", "thu", "fri")
} | {"sat": [["10:00", "12:00"]], "sun": []}
SCHEDULE = WeeklySchedule.from_json(HOURS, ["2026-11-26"], "Europe/Paris")


def paris(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def starts(slots) -> list[datetime]:  # type: ignore[no-untyped-def]
    return [slot.start.astimezone(PARIS) for slot in slots]


def test_slots_follow_opening_hours_preparation_and_horizon() -> None:
    # Tuesday 24 Nov 10:30; 60 minutes of preparation -> ready 11:30: the 10-11 and 11-12
    # morning slots are gone; the 17:00 slot would end after 17:30 and is not offered.
    slots = pickup_slots(
        schedule=SCHEDULE,
        policy=SlotPolicy(slot_minutes=60, capacity=3, preparation_minutes=60, days_ahead=2),
        now=paris(24, 10, 30),
    )
    assert starts(slots) == [
        paris(24, 14),
        paris(24, 15),
        paris(24, 16),
        # Wednesday
        paris(25, 10),
        paris(25, 11),
        paris(25, 14),
        paris(25, 15),
        paris(25, 16),
        # Thursday 26 is a closed day; the horizon ends there.
    ]
    assert all(slot.end - slot.start == timedelta(hours=1) for slot in slots)
    assert all(slot.start.tzinfo == UTC for slot in slots)
    assert {(slot.capacity, slot.remaining) for slot in slots} == {(3, 3)}


def test_preparation_counts_working_time_only() -> None:
    # Saturday 11:30, 120 minutes of preparation: 30 minutes today, 90 from Monday 10:00
    # (Sunday closed) -> ready Monday 11:30; the first slot is 14:00 (30-minute slots: 11:30).
    slots = pickup_slots(
        schedule=SCHEDULE,
        policy=SlotPolicy(slot_minutes=30, capacity=1, preparation_minutes=120, days_ahead=3),
        now=paris(28, 11, 30),
    )
    assert starts(slots)[:3] == [paris(30, 11, 30), paris(30, 14), paris(30, 14, 30)]


def test_bookings_reduce_remaining_and_limit_caps_the_list() -> None:
    policy = SlotPolicy(slot_minutes=60, capacity=2, preparation_minutes=0, days_ahead=0)
    bookings = {
        paris(24, 14): 2,
        paris(24, 15).astimezone(UTC): 1,
        paris(24, 15, 30): 5,  # not a slot start: ignored
    }
    slots = pickup_slots(
        schedule=SCHEDULE, policy=policy, now=paris(24, 13), bookings=bookings, limit=2
    )
    assert [(s.start.astimezone(PARIS), s.booked, s.remaining, s.is_full) for s in slots] == [
        (paris(24, 14), 2, 0, True),
        (paris(24, 15), 1, 1, False),
    ]


def test_slot_find_accepts_offered_slots_with_room_only() -> None:
    policy = SlotPolicy(slot_minutes=60, capacity=1, preparation_minutes=0, days_ahead=0)
    slots = pickup_slots(
        schedule=SCHEDULE, policy=policy, now=paris(24, 13), bookings={paris(24, 14): 1}
    )
    found = pickup_slot_find(slots, start=paris(24, 15))
    assert found.slot is not None
    assert found.slot.end.astimezone(PARIS) == paris(24, 16)
    assert pickup_slot_find(slots, start=paris(24, 15), end=paris(24, 16)).code == ""
    assert pickup_slot_find(slots, start=paris(24, 14)).code == SLOT_FULL
    assert pickup_slot_find(slots, start=paris(24, 15, 30)).code == SLOT_NOT_OFFERED
    assert pickup_slot_find(slots, start=paris(24, 15), end=paris(24, 17)).code == SLOT_NOT_OFFERED
    assert pickup_slot_find(slots, start=paris(25, 10)).code == SLOT_NOT_OFFERED  # past horizon


def test_an_always_open_store_slots_from_midnight_and_dst_nights_keep_real_length() -> None:
    always = WeeklySchedule.from_json({}, (), "Europe/Paris")
    policy = SlotPolicy(slot_minutes=60, capacity=1, preparation_minutes=0, days_ahead=0)
    # 29 March 2026: clocks go forward at 02:00 -> the day has 23 hourly slots.
    slots = pickup_slots(schedule=always, policy=policy, now=paris(29, 0, month=3))
    assert len(slots) == 23
    assert all(slot.end - slot.start == timedelta(hours=1) for slot in slots)


def test_never_open_and_bad_input() -> None:
    closed = WeeklySchedule.from_json({"mon": []}, (), "Europe/Paris")
    assert pickup_slots(schedule=closed, policy=SlotPolicy(), now=paris(24, 10)) == ()
    with pytest.raises(ValueError, match="aware"):
        pickup_slots(schedule=SCHEDULE, policy=SlotPolicy(), now=datetime(2026, 11, 24, 10))
    with pytest.raises(ValueError, match="positive"):
        SlotPolicy(slot_minutes=0)
