"""How much history a view needs: the :class:`~tsdash.sources.Scope` the app loads for a filter.

A page over the window [start, end] also shows the previous period of the same length (KPI
deltas), weekly trends with :data:`~tsdash.metrics.stats.LOOKBACK_WEEKS` weeks of history
before the window's first Monday, the agent scorecard's last 28 days against the 56 before and
its 12-week trend, and new hires' first weeks (hired within 120 days). :data:`HISTORY_DAYS`
before the window's start covers all of them; the scope reads every case that exists at some
time from then on (``created_at < until AND (resolved_at IS NULL OR resolved_at >= since)``,
plus the cases QA-reviewed from then on), so every open-case count, every flow and every trend
from ``since`` on is exact.

``since`` is rounded down to the first day of a month (UTC, minus a day for any display zone),
so that a view's load serves it for weeks as the days pass, and a load that :func:`covers`
another (say "Last 28 days" and then "Last 7 days") can serve it too. A live view (no frozen
as-of) has no upper bound; a frozen one ends with the day after its as-of or its window,
whichever is later.

>>> import datetime as dt
>>> from tsdash.metrics.filters import Filter
>>> f = Filter(dt.date(2026, 11, 18), dt.date(2026, 11, 24), tz="Europe/Berlin")
>>> s = history_scope(f)
>>> s.since.isoformat(), s.until
('2026-06-30T00:00:00+00:00', None)
>>> frozen = f.with_(as_of=dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC))
>>> history_scope(frozen).until.isoformat()
'2026-11-26T00:00:00+00:00'
"""

from __future__ import annotations

import datetime as dt

from tsdash.metrics.filters import Filter
from tsdash.metrics.stats import LOOKBACK_WEEKS
from tsdash.sources.scope import Scope

UTC = dt.UTC

# Scorecard: 28 recent + 56 baseline days, 12 trend weeks; tenure: hires within 120 days (their
# first Monday up to 6 days earlier). 130 days covers each with a margin.
HISTORY_DAYS = 130


def history_start(f: Filter) -> dt.date:
    """The first day (display zone) any page over ``f`` reads."""
    monday = f.start - dt.timedelta(days=f.start.weekday())
    return min(
        f.previous().start,
        monday - dt.timedelta(weeks=LOOKBACK_WEEKS + 1),
        f.start - dt.timedelta(days=HISTORY_DAYS),
    )


def history_scope(f: Filter) -> Scope:
    """The rows the app loads for pages over ``f`` (time only: the dimension filters are applied
    in memory, so that changing a filter does not query the source again)."""
    first = history_start(f)
    since = dt.datetime(first.year, first.month, 1, tzinfo=UTC) - dt.timedelta(days=1)
    until = None
    if f.as_of is not None:
        last = max(f.window_utc()[1], f.as_of.astimezone(UTC))
        until = dt.datetime.combine(last.date(), dt.time(0), tzinfo=UTC) + dt.timedelta(days=2)
    return Scope(since=since, until=until)


def covers(outer: Scope, inner: Scope) -> bool:
    """True when every row ``inner`` reads is also read by ``outer`` (a time-only ``outer``;
    dimension filters on ``inner`` only narrow it)."""
    if outer.case_ids or inner.case_ids or any(outer.dimensions().values()):
        return outer == inner
    since_ok = outer.since is None or (inner.since is not None and outer.since <= inner.since)
    until_ok = outer.until is None or (inner.until is not None and outer.until >= inner.until)
    return since_ok and until_ok
