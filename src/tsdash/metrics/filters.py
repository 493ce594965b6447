"""The :class:`Filter` every metric takes: a date window in a display time zone, an as-of time
and dimension filters.

The window is inclusive of both dates, as a lead reads "from Mon 3 to Sun 9": it starts at
midnight of ``start`` and ends at midnight after ``end``, both in ``tz`` (so a DST day is 23 or
25 hours long).

>>> import datetime as dt
>>> f = Filter(dt.date(2026, 3, 29), dt.date(2026, 3, 29), tz="Europe/Berlin")
>>> f.window_utc()
(datetime.datetime(2026, 3, 28, 23, 0, tzinfo=datetime.timezone.utc), datetime.datetime(2026, 3, 29, 22, 0, tzinfo=datetime.timezone.utc))
>>> f.days
1
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from zoneinfo import ZoneInfo

UTC = dt.UTC

DIMENSIONS: tuple[str, ...] = ("teams", "queues", "priorities", "case_types", "channels", "agents")


@dataclass(frozen=True)
class Filter:
    start: dt.date
    end: dt.date  # inclusive
    tz: str = "UTC"
    as_of: dt.datetime | None = None  # aware; None = now when evaluated
    teams: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    case_types: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before its start {self.start}")
        ZoneInfo(self.tz)  # raises for an unknown zone
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise ValueError("as_of must be time-zone aware")
        for name in DIMENSIONS:
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def midnight_utc(self, day: dt.date) -> dt.datetime:
        """Midnight at the start of ``day`` in the display zone, as UTC."""
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.zone).astimezone(UTC)

    def window_utc(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) of the window in UTC."""
        return self.midnight_utc(self.start), self.midnight_utc(self.end + dt.timedelta(days=1))

    def resolved_as_of(self, now: dt.datetime | None = None) -> dt.datetime:
        """The as-of time in UTC: the frozen one, else ``now`` (default: the clock)."""
        if self.as_of is not None:
            return self.as_of.astimezone(UTC)
        return (now or dt.datetime.now(UTC)).astimezone(UTC)

    def previous(self) -> Filter:
        """The period of equal length just before this one (for KPI deltas)."""
        n = dt.timedelta(days=self.days)
        return replace(self, start=self.start - n, end=self.end - n)

    def with_(self, **changes: object) -> Filter:
        return replace(self, **changes)

    def dimension_items(self) -> dict[str, tuple[str, ...]]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in DIMENSIONS}

    def cache_key(self) -> tuple:
        """A small hashable value that identifies the filter (for caches)."""
        return (
            self.start.isoformat(),
            self.end.isoformat(),
            self.tz,
            self.as_of.isoformat() if self.as_of else None,
            *(getattr(self, d) for d in DIMENSIONS),
        )
