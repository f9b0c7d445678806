"""Opening hours as working time: intervals per day, forward and backward in working minutes.

Intervals are half-open, ``[open, close)``: work may end exactly at closing, a customer may
not arrive then. All arithmetic is done on UTC instants, so DST nights count their real
length (a 24-hour warehouse works 23 hours on the spring-forward night, 25 on the fall-back
one). A wall time that does not exist (02:30 on the spring-forward night in Paris) is read
with the offset before the change, i.e. it lands after the gap (03:30); an ambiguous one
(02:30 on the fall-back night) is its first occurrence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ONE_DAY = timedelta(days=1)

Interval = tuple[datetime, datetime]


def _parse_time(text: str) -> time | None:
    """``"09:30"`` -> 09:30; ``"24:00"`` -> None (the end of the day)."""
    hours, minutes = (int(part) for part in text.strip().split(":"))
    if (hours, minutes) == (24, 0):
        return None
    return time(hours, minutes)


@dataclass(frozen=True)
class WeeklySchedule:
    """When a place works: ``hours`` per weekday (0 = Monday) as (open, close) wall times in
    ``timezone`` (close None: midnight at the end of the day), minus ``closed_days``.
    ``is_always_open`` is a place open around the clock (except on closed days)."""

    timezone: str = "Europe/Paris"
    hours: Mapping[int, tuple[tuple[time, time | None], ...]] = field(default_factory=dict)
    closed_days: frozenset[date] = frozenset()
    is_always_open: bool = False

    @classmethod
    def from_json(
        cls,
        opening_hours: Mapping[str, Sequence[Sequence[str]]],
        closed_days: Sequence[str] = (),
        timezone: str = "Europe/Paris",
    ) -> WeeklySchedule:
        """From ``Location.opening_hours`` / ``closed_days``. An empty ``opening_hours`` means
        hours were never configured: open around the clock (a warehouse); a weekday missing
        from a non-empty one is closed. Raises ``ValueError`` for a malformed entry."""
        ZoneInfo(timezone)  # an unknown zone fails here, not at the first promise
        closed = frozenset(date.fromisoformat(day) for day in closed_days)
        if not opening_hours:
            return cls(timezone=timezone, closed_days=closed, is_always_open=True)
        hours: dict[int, tuple[tuple[time, time | None], ...]] = {}
        for key, intervals in opening_hours.items():
            if key not in WEEKDAY_KEYS:
                raise ValueError(f"unknown weekday {key!r}; use {', '.join(WEEKDAY_KEYS)}")
            parsed: list[tuple[time, time | None]] = []
            for interval in intervals:
                opening, closing = _parse_time(interval[0]), _parse_time(interval[1])
                if opening is None or (closing is not None and closing <= opening):
                    raise ValueError(f"{key}: interval {list(interval)} must open before it closes")
                parsed.append((opening, closing))
            parsed.sort(key=lambda pair: pair[0])
            hours[WEEKDAY_KEYS.index(key)] = tuple(parsed)
        return cls(timezone=timezone, hours=hours, closed_days=closed)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def at(self, day: date, wall: time | None) -> datetime:
        """The UTC instant of wall time ``wall`` (None: 24:00) on ``day`` here."""
        if wall is None:
            return self.at(day + ONE_DAY, time(0, 0))
        return datetime.combine(day, wall, tzinfo=self.zone).astimezone(UTC)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def intervals_on(self, day: date) -> list[Interval]:
        """The working intervals of ``day`` as UTC instants, in order (empty when closed)."""
        if day in self.closed_days:
            return []
        if self.is_always_open:
            return [(self.at(day, time(0, 0)), self.at(day, None))]
        return [
            (self.at(day, opening), self.at(day, closing))
            for opening, closing in self.hours.get(day.weekday(), ())
            if self.at(day, opening) < self.at(day, closing)
        ]

    def is_open_day(self, day: date) -> bool:
        return bool(self.intervals_on(day))

    def add_working_minutes(
        self, start: datetime, minutes: int, *, horizon_days: int = 60
    ) -> datetime | None:
        """When ``minutes`` of work started at ``start`` (or at the next opening) end; with 0
        minutes, the first open instant at or after ``start``. None past the horizon."""
        remaining = timedelta(minutes=minutes)
        day = self.local_date(start)
        for _ in range(horizon_days + 1):
            for opening, closing in self.intervals_on(day):
                if closing <= start:
                    continue
                begin = max(opening, start)
                if closing - begin >= remaining:
                    return begin + remaining
                remaining -= closing - begin
            day += ONE_DAY
        return None

    def next_open_at(self, instant: datetime, *, horizon_days: int = 60) -> datetime | None:
        """The first instant at or after ``instant`` inside an interval (``[open, close)``)."""
        day = self.local_date(instant)
        for _ in range(horizon_days + 1):
            for opening, closing in self.intervals_on(day):
                if closing > instant:
                    return max(opening, instant)
            day += ONE_DAY
        return None

    def latest_start(self, end: datetime, minutes: int, *, horizon_days: int = 60) -> datetime:
        """The latest start from which ``minutes`` of work end by ``end`` (``end`` itself for
        0 minutes). Past the horizon backwards, the earliest instant reached."""
        if minutes <= 0:
            return end
        remaining = timedelta(minutes=minutes)
        day = self.local_date(end)
        earliest = end
        for _ in range(horizon_days + 1):
            for opening, closing in reversed(self.intervals_on(day)):
                if opening >= end:
                    continue
                finish = min(closing, end)
                if finish - opening >= remaining:
                    return finish - remaining
                remaining -= finish - opening
                earliest = opening
            day -= ONE_DAY
        return earliest

    def last_close_on(self, day: date) -> datetime | None:
        intervals = self.intervals_on(day)
        return intervals[-1][1] if intervals else None
