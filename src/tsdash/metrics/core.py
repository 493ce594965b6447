"""The one place where a :class:`Filter` is applied to a :class:`Dataset`.

:func:`view` returns lazy frames that every metric reads:

*As of* (so that a frozen share link shows the same numbers tomorrow): facts at or after
``as_of`` do not exist yet.

- cases created at/after as_of are dropped;
- ``resolved_at``, ``first_response_at``, ``escalated_at`` and ``escalation_resolved_at`` at/after
  as_of are read as null (the case was still open, not yet answered, not yet escalated...);
  ``escalated`` becomes false when ``escalated_at`` is at/after as_of;
- QA reviews with ``reviewed_at`` at/after as_of are dropped (and their criteria);
- shifts are cut at as_of.

``reopened_count`` and ``handle_seconds`` carry no time stamp and are used as recorded.

*Dimensions*: cases are kept when their queue, priority, case type and channel are in the
selected lists (an empty list selects everything), their ``team`` (the assigned agent's team)
is in the selected teams and their ``assigned_agent_id`` in the selected agents. An
**unassigned case has no team and no agent, so any team or agent filter excludes it.** A case
with a null queue/priority/... is excluded by a filter on that dimension.

QA reviews are filtered on the *reviewed* agent and that agent's team, and on the reviewed
case's queue, priority, case type and channel (a review of a case unknown to ``cases`` is
dropped when one of these case filters is set). Shifts are filtered by agent and team only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from tsdash.dataset import Dataset
from tsdash.metrics.filters import Filter
from tsdash.schema import CONTRACT

UTC = dt.UTC
MASKED_CASE_TIMES: tuple[str, ...] = (
    "first_response_at",
    "resolved_at",
    "escalated_at",
    "escalation_resolved_at",
)
TIME_KEYS: tuple[str, ...] = ("date", "week")
CASE_KEYS: tuple[str, ...] = ("queue", "priority", "case_type", "channel", "team", "agent_id")
AGENT_KEYS: tuple[str, ...] = ("team", "agent_id")

_CASE_COLS = (*CONTRACT["cases"].names, "due_at", "team")


class MetricError(ValueError):
    """A metric was asked for something it cannot do (unknown key, bad grouping...).

    The message is one line meant for the user."""


@dataclass(frozen=True)
class View:
    """A dataset seen through a filter. All frames are lazy and already masked/filtered."""

    cases: pl.LazyFrame  # contract + due_at, team, agent_id (= assigned_agent_id)
    reviews: pl.LazyFrame  # contract + team (reviewed agent's) + queue, priority, case_type, channel
    criteria: pl.LazyFrame  # qa_criteria of the kept reviews + agent_id, team, reviewed_at
    shifts: pl.LazyFrame  # agent_id, team, start, end (end cut at as_of)
    agents: pl.DataFrame
    f: Filter  # with as_of pinned
    as_of: dt.datetime  # UTC
    start: dt.datetime  # window start, UTC
    end: dt.datetime  # window end (exclusive), UTC

    @property
    def tz(self) -> str:
        return self.f.tz

    def in_window(self, col: str) -> pl.Expr:
        """``col`` lies in [window start, window end). Null times are outside."""
        return (pl.col(col) >= self.start) & (pl.col(col) < self.end)

    def last_day(self) -> dt.date:
        """The last local date that has begun before as_of."""
        return (self.as_of - dt.timedelta(microseconds=1)).astimezone(self.f.zone).date()

    def calendar(self, first: dt.date | None = None) -> pl.DataFrame:
        """Window days (local dates) that have begun before as_of, from ``first`` if later than the
        window start: columns date, week, start_utc, end_utc (a DST day is 23 or 25 hours)."""
        lo = max(self.f.start, first) if first else self.f.start
        hi = min(self.f.end, self.last_day())
        days = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)] if hi >= lo else []
        return (
            pl.DataFrame(
                {
                    "date": days,
                    "start_utc": [self.f.midnight_utc(d) for d in days],
                    "end_utc": [self.f.midnight_utc(d + dt.timedelta(days=1)) for d in days],
                },
                schema={
                    "date": pl.Date,
                    "start_utc": pl.Datetime("us", "UTC"),
                    "end_utc": pl.Datetime("us", "UTC"),
                },
            )
            .with_columns(pl.col("date").dt.truncate("1w").alias("week"))
            .select("date", "week", "start_utc", "end_utc")
        )


def pin(f: Filter, now: dt.datetime | None = None) -> Filter:
    """The filter with its as-of time fixed (the clock is read here, once, when it is not set)."""
    return f if f.as_of is not None else f.with_(as_of=f.resolved_as_of(now))


def _isin(col: str, values: Sequence[str]) -> pl.Expr | None:
    return pl.col(col).is_in(list(values)) if values else None


def _all(conds: Iterable[pl.Expr | None]) -> pl.Expr:
    out = pl.lit(True)
    for c in conds:
        if c is not None:
            out = out & c
    return out


def view(ds: Dataset, f: Filter) -> View:
    """Apply as-of masking and dimension filters (see the module docstring)."""
    f = pin(f)
    as_of = f.resolved_as_of()
    start, end = f.window_utc()

    cases = (
        ds.cases.lazy()
        .select([c for c in _CASE_COLS if c in ds.cases.columns])
        .filter(pl.col("created_at") < as_of)
        .with_columns(
            (
                pl.col("escalated").fill_null(False) & ~(pl.col("escalated_at") >= as_of).fill_null(False)
            ).alias("escalated")
        )
        .with_columns(pl.when(pl.col(c) < as_of).then(pl.col(c)).alias(c) for c in MASKED_CASE_TIMES)
        .with_columns(pl.col("assigned_agent_id").alias("agent_id"))
        .filter(
            _all(
                [
                    _isin("queue", f.queues),
                    _isin("priority", f.priorities),
                    _isin("case_type", f.case_types),
                    _isin("channel", f.channels),
                    _isin("team", f.teams),
                    _isin("assigned_agent_id", f.agents),
                ]
            )
        )
    )

    agent_team = ds.agents.lazy().select("agent_id", "team").unique("agent_id", keep="first")
    case_dims = (
        ds.cases.lazy()
        .select("case_id", "queue", "priority", "case_type", "channel")
        .unique("case_id", keep="first")
    )
    reviews = (
        ds.qa_reviews.lazy()
        .select(CONTRACT["qa_reviews"].names)
        .filter(pl.col("reviewed_at") < as_of)
        .join(agent_team, on="agent_id", how="left")
        .join(case_dims, on="case_id", how="left")
        .filter(
            _all(
                [
                    _isin("queue", f.queues),
                    _isin("priority", f.priorities),
                    _isin("case_type", f.case_types),
                    _isin("channel", f.channels),
                    _isin("team", f.teams),
                    _isin("agent_id", f.agents),
                ]
            )
        )
    )
    criteria = (
        ds.qa_criteria.lazy()
        .select(CONTRACT["qa_criteria"].names)
        .join(reviews.select("review_id", "agent_id", "team", "reviewed_at"), on="review_id", how="inner")
    )
    shifts = (
        ds.shifts.lazy()
        .select(CONTRACT["shifts"].names)
        .filter(pl.col("start") < as_of)
        .with_columns(pl.min_horizontal(pl.col("end"), pl.lit(as_of)).alias("end"))
        .join(agent_team, on="agent_id", how="left")
        .filter(_all([_isin("team", f.teams), _isin("agent_id", f.agents)]))
    )
    return View(cases, reviews, criteria, shifts, ds.agents, f, as_of, start, end)


def local_date(col: str | pl.Expr, tz: str) -> pl.Expr:
    """The local calendar date, in ``tz``, of a UTC timestamp column."""
    e = pl.col(col) if isinstance(col, str) else col
    return e.dt.convert_time_zone(tz).dt.date()


def week_of(date: pl.Expr) -> pl.Expr:
    """The Monday of a date's week."""
    return date.dt.truncate("1w")


def with_time_keys(lf: pl.LazyFrame, ts: str, by: Sequence[str], tz: str) -> pl.LazyFrame:
    """Add ``date``/``week`` (local, from timestamp column ``ts``) when ``by`` asks for them."""
    exprs = []
    if "date" in by or "week" in by:
        d = local_date(ts, tz)
        if "date" in by:
            exprs.append(d.alias("date"))
        if "week" in by:
            exprs.append(week_of(d).alias("week"))
    return lf.with_columns(exprs) if exprs else lf


def key_dtype(key: str) -> pl.DataType:
    return pl.Date() if key in TIME_KEYS else pl.String()


def check_by(table: str, by: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    """Validate a grouping: known keys, no repeats, at most one of date/week."""
    by = tuple(by)
    for k in by:
        if k not in allowed:
            raise MetricError(f"{table}: cannot group by {k!r}; use any of: {', '.join(allowed)}")
    if len(set(by)) != len(by):
        raise MetricError(f"{table}: a grouping key is repeated in {','.join(by)}")
    if "date" in by and "week" in by:
        raise MetricError(f"{table}: group by date or by week, not both")
    return by


def empty_table(by: Sequence[str], values: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema={**{k: key_dtype(k) for k in by}, **values})


def finish(
    lf: pl.LazyFrame | pl.DataFrame, by: Sequence[str], values: dict[str, pl.DataType]
) -> pl.DataFrame:
    """Collect, cast to the declared dtypes, order columns (keys first) and sort by the keys."""
    df = lf.collect() if isinstance(lf, pl.LazyFrame) else lf
    schema = {**{k: key_dtype(k) for k in by}, **values}
    df = df.select([pl.col(c).cast(t) for c, t in schema.items()])
    if by and df.height:
        df = df.sort(list(by), nulls_last=True)
    return df
