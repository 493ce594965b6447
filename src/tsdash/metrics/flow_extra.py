"""Numbers for the Backlog & flow and Handle time pages that the core tables do not give directly.

Pure functions over a :class:`~tsdash.dataset.Dataset` and a :class:`~tsdash.metrics.Filter`
(no Streamlit), built on the engine's view, populations and tables so that they add up to the
engine's numbers:

- :func:`backlog_age` -- the ``backlog-age`` report: cases open at each day's end by age bucket
  (the Live page's :data:`~tsdash.metrics.live_extra.AGE_BUCKETS`) and SLA state (:data:`SLA_STATES`); per day they add up to the ``flow``
  table's backlog.
- :func:`arrivals` -- the ``arrivals`` report: cases created per weekday and hour of day (display
  zone) and the mean arrivals per hour (:func:`hours_observed` is the exposure).
- :func:`time_to_clear` -- the ``time-to-clear`` report: per queue, the backlog at as-of, the
  last 7 days' net flow, the day the backlog reaches zero at that pace (or that it grows), and
  the agents needed to hold the SLA (Erlang C: :func:`erlang_c`, :func:`service_level`,
  :func:`agents_needed`).
- :func:`agent_queue_aht` -- the ``agent-queue-aht`` report: each agent's AHT per queue against
  the median of the queue's agents.
- Page helpers over engine tables: :func:`handle_histogram` (log-scale bins of the handle times
  behind AHT), :func:`agent_aht` (AHT per agent with interval and the team median),
  :func:`tenure_aht` (new hires' AHT by week since hire), :func:`backlog_cases` (the cases behind
  one age/SLA bar), :func:`snapshot_end`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import polars as pl

from tsdash.dataset import Dataset
from tsdash.metrics import tables as t
from tsdash.metrics.core import (
    CASE_KEYS,
    TIME_KEYS,
    MetricError,
    check_by,
    empty_table,
    finish,
    pin,
    view,
)
from tsdash.metrics.filters import Filter
from tsdash.metrics.live_extra import AGE_BUCKET_LABELS, age_bucket

F64 = pl.Float64()
I64 = pl.Int64()
HOUR = 3600.0
DAY = 86400.0

WITHIN, BREACHED = "within SLA", "breached"
SLA_STATES: tuple[str, ...] = (WITHIN, BREACHED)

BACKLOG_AGE_BY: tuple[str, ...] = (*TIME_KEYS, "age_bucket", "sla_state", *CASE_KEYS)
BACKLOG_AGE_DEFAULT_BY: tuple[str, ...] = ("date", "age_bucket")
BACKLOG_AGE_VALUES: tuple[str, ...] = ("open",)

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS: tuple[str, ...] = tuple(f"{h:02d}" for h in range(24))
ARRIVALS_BY: tuple[str, ...] = ("weekday", "hour", *CASE_KEYS)
ARRIVALS_DEFAULT_BY: tuple[str, ...] = ("weekday", "hour")
ARRIVALS_VALUES: tuple[str, ...] = ("arrivals", "hours", "per_hour")

CLEAR_BY: tuple[str, ...] = CASE_KEYS
CLEAR_DEFAULT_BY: tuple[str, ...] = ("queue",)
CLEAR_VALUES: tuple[str, ...] = (
    "backlog",
    "inflow",
    "outflow",
    "net_per_day",
    "status",
    "days_to_clear",
    "clear_date",
    "arrivals_per_hour",
    "peak_per_hour",
    "aht_s",
    "sla_target_s",
    "erlangs",
    "agents_needed",
    "agents_needed_peak",
)
CLEAR_DAYS = 7  # the pace is that of the last 7 days (the as-of day and the 6 before it)
SERVICE_LEVEL = 0.8  # the share of cases that must start being worked within the target wait

AGENT_QUEUE_BY: tuple[str, ...] = ("agent_id", "queue")
AGENT_QUEUE_VALUES: tuple[str, ...] = ("cases", "aht_s", "queue_median_s", "relative")
MIN_CASES = 5  # an agent's AHT on fewer cases is too noisy to compare (not in the medians, marked)


def _bucket_order(col: str, labels: Sequence[str]) -> pl.Expr:
    return pl.col(col).replace_strict(
        {b: i for i, b in enumerate(labels)}, default=len(labels), return_dtype=I64
    )


def _sorted(out: pl.DataFrame, by: Sequence[str], orders: dict[str, Sequence[str]]) -> pl.DataFrame:
    """Sort by ``by`` with the categorical keys in ``orders`` in their natural order."""
    if not out.height or not by:
        return out
    cols = []
    for k in by:
        if k in orders:
            out = out.with_columns(_bucket_order(k, orders[k]).alias(f"_o_{k}"))
            cols.append(f"_o_{k}")
        else:
            cols.append(k)
    return out.sort(cols, nulls_last=True).drop([c for c in cols if c.startswith("_o_")])


# --------------------------------------------------------------------------------------------
# backlog by age and SLA state at each day's end
# --------------------------------------------------------------------------------------------


def snapshot_end(f: Filter, day: dt.date) -> dt.datetime:
    """The instant of a day's end-of-day snapshot: the next local midnight, or as-of when earlier
    (the flow table's backlog is counted at the same instant)."""
    f = pin(f)
    return min(f.midnight_utc(day + dt.timedelta(days=1)), f.resolved_as_of())


def _snapshots(v, first: dt.date, weekly: bool) -> pl.DataFrame:
    """Snapshot instants: one per calendar day (or per week: its last window day), with date, week."""
    cal = v.calendar(first=first)
    if weekly and cal.height:
        cal = cal.group_by("week").agg(pl.all().sort_by("date").last())
    return (
        cal.sort("date")
        .with_columns(pl.min_horizontal(pl.col("end_utc"), pl.lit(v.as_of)).alias("end"))
        .with_row_index("_i")
        .select("_i", "date", "week", "end")
    )


def backlog_age(
    ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False
) -> pl.DataFrame:
    """Cases open at the end of each day (default ``by=("date", "age_bucket")``): ``open``.

    The snapshot of a day is taken at the next local midnight (for the as-of day: at as-of), the
    same instant as the ``flow`` table's backlog, over the same days (from the window start or the
    first case's day to the window end or the as-of day). By week: the snapshot of the week's last
    window day. A case's age is snapshot - created_at (bucket :data:`AGE_BUCKETS`); its SLA state
    is ``breached`` when its due time is before the snapshot, else ``within SLA``. Rows only for
    groups with an open case. Each case contributes one row per snapshot it is open at, so the
    cost is the sum of the backlogs (not days x cases).
    """
    by = check_by("backlog-age", BACKLOG_AGE_DEFAULT_BY if by is None else by, BACKLOG_AGE_BY)
    values = {"open": I64}
    v = view(ds, f)
    dims = [k for k in by if k in CASE_KEYS]
    c = v.cases.select(*dims, "created_at", "resolved_at", "due_at")
    first_created = c.select(pl.col("created_at").min()).collect().item()
    if first_created is None:
        return empty_table(by, values)
    snaps = _snapshots(v, first_created.astimezone(v.f.zone).date(), weekly="date" not in by)
    if snaps.is_empty():
        return empty_table(by, values)
    ends = snaps["end"]
    n = len(ends)
    lit_ends = pl.lit(ends)
    i0 = lit_ends.search_sorted(pl.col("created_at"), side="right").cast(pl.Int64)
    i1 = (
        pl.when(pl.col("resolved_at").is_null())
        .then(pl.lit(n, dtype=pl.Int64))
        .otherwise(lit_ends.search_sorted(pl.col("resolved_at"), side="right").cast(pl.Int64))
    )
    rows = (
        c.filter(pl.col("created_at") < ends[-1])
        .with_columns(i0.alias("_i0"), i1.alias("_i1"))
        .filter(pl.col("_i1") > pl.col("_i0"))
        .with_columns(pl.int_ranges("_i0", "_i1", dtype=pl.UInt32).alias("_i"))
        .explode("_i")
        .join(snaps.lazy(), on="_i", how="inner")
        .with_columns(
            age_bucket(t.seconds("end", "created_at")),
            pl.when(pl.col("due_at") < pl.col("end"))
            .then(pl.lit(BREACHED))
            .otherwise(pl.lit(WITHIN))
            .alias("sla_state"),
        )
    )
    g = (
        rows.group_by(list(by)).agg(pl.len().cast(pl.Int64).alias("open"))
        if by
        else rows.select(pl.len().cast(pl.Int64).alias("open"))
    )
    out = finish(g.filter(pl.col("open") > 0), by, values)
    return _sorted(out, by, {"age_bucket": AGE_BUCKET_LABELS, "sla_state": SLA_STATES})


def backlog_cases(
    ds: Dataset,
    f: Filter,
    day: dt.date | str,
    *,
    age_bucket_label: str | None = None,
    sla_state: str | None = None,
    **selection: str | None,
) -> pl.DataFrame:
    """The cases behind one bar of :func:`backlog_age`: open at the end of ``day`` (the engine's
    ``cases_behind(ds, f, "flow", "backlog", date=day)``), with ``age_s`` and ``sla_state`` at that
    snapshot, optionally only one age bucket / SLA state (and dimension values, e.g. queue=...)."""
    if age_bucket_label is not None and age_bucket_label not in AGE_BUCKET_LABELS:
        raise MetricError(
            f"unknown age bucket {age_bucket_label!r}; use one of: {', '.join(AGE_BUCKET_LABELS)}"
        )
    if sla_state is not None and sla_state not in SLA_STATES:
        raise MetricError(f"unknown SLA state {sla_state!r}; use one of: {', '.join(SLA_STATES)}")
    from tsdash.metrics.overview import cases_behind  # overview imports the registry, which imports us

    d = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
    f = pin(f)
    cases = cases_behind(ds, f, "flow", "backlog", date=d, **selection)
    end = snapshot_end(f, d)
    cases = cases.with_columns(
        t.seconds(pl.lit(end), "created_at").alias("age_s"),
        pl.when(pl.col("due_at") < end).then(pl.lit(BREACHED)).otherwise(pl.lit(WITHIN)).alias("sla_state"),
    ).with_columns(age_bucket())
    if age_bucket_label is not None:
        cases = cases.filter(pl.col("age_bucket") == age_bucket_label)
    if sla_state is not None:
        cases = cases.filter(pl.col("sla_state") == sla_state)
    return cases.sort(["age_s", "case_id"], descending=[True, False])


# --------------------------------------------------------------------------------------------
# arrivals by weekday and hour of day
# --------------------------------------------------------------------------------------------


def hours_observed(f: Filter) -> pl.DataFrame:
    """How many hours of each (weekday, hour of day) the window holds up to as-of, in the display
    zone: ``weekday`` (Mon..Sun), ``hour`` ("00".."23"), ``hours``. The window is walked in
    15-minute steps (every zone's offset is a multiple of 15 minutes), so a daylight-saving day's
    missing or doubled hour counts 0 or 2 times and the step in progress at as-of by its elapsed
    fraction."""
    f = pin(f)
    start, end = f.window_utc()
    stop = min(end, f.resolved_as_of())
    schema = {"weekday": pl.String, "hour": pl.String, "hours": pl.Float64}
    if stop <= start:
        return pl.DataFrame(schema=schema)
    step = dt.timedelta(minutes=15)
    grid = pl.datetime_range(start, stop, step, eager=True, time_unit="us", time_zone="UTC", closed="left")
    df = pl.DataFrame({"t": grid}).with_columns(
        pl.min_horizontal(pl.col("t") + step, pl.lit(stop)).alias("e")
    )
    local = pl.col("t").dt.convert_time_zone(f.tz)
    return (
        df.with_columns(
            _weekday_label(local),
            local.dt.hour().cast(pl.String).str.zfill(2).alias("hour"),
            ((pl.col("e") - pl.col("t")).dt.total_microseconds() / 3.6e9).alias("hours"),
        )
        .group_by("weekday", "hour")
        .agg(pl.col("hours").sum())
        .pipe(_sorted, ("weekday", "hour"), {"weekday": WEEKDAYS})
        .select(list(schema))
    )


def _weekday_label(local: pl.Expr) -> pl.Expr:
    return (
        local.dt.weekday()
        .replace_strict({i + 1: w for i, w in enumerate(WEEKDAYS)}, return_dtype=pl.String)
        .alias("weekday")
    )


def arrivals(
    ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False
) -> pl.DataFrame:
    """Cases created in the window per weekday and hour of day of created_at in the display zone
    (default ``by=("weekday", "hour")``): ``arrivals``; ``hours``, how many hours of that weekday
    and hour the window holds up to as-of (:func:`hours_observed`); ``per_hour`` = arrivals /
    hours, the mean arrivals in that hour of the week. Rows only for groups with an arrival;
    weekdays Mon..Sun, hours "00".."23"."""
    by = check_by("arrivals", ARRIVALS_DEFAULT_BY if by is None else by, ARRIVALS_BY)
    values = {"arrivals": I64, "hours": F64, "per_hour": F64}
    v = view(ds, f)
    local = pl.col("created_at").dt.convert_time_zone(v.tz)
    pop = t.pop_created(v).with_columns(
        _weekday_label(local), local.dt.hour().cast(pl.String).str.zfill(2).alias("hour")
    )
    g = (
        pop.group_by(list(by)).agg(pl.len().cast(pl.Int64).alias("arrivals"))
        if by
        else pop.select(pl.len().cast(pl.Int64).alias("arrivals"))
    )
    g = g.filter(pl.col("arrivals") > 0).collect()
    obs = hours_observed(v.f)
    time_keys = [k for k in ("weekday", "hour") if k in by]
    if time_keys:
        exposure = obs.group_by(time_keys).agg(pl.col("hours").sum())
        g = g.join(exposure, on=time_keys, how="left")
    else:
        g = g.with_columns(pl.lit(float(obs["hours"].sum())).alias("hours"))
    g = g.with_columns((pl.col("arrivals") / pl.col("hours")).alias("per_hour"))
    out = finish(g, by, values)
    return _sorted(out, by, {"weekday": WEEKDAYS})


# --------------------------------------------------------------------------------------------
# Erlang C
# --------------------------------------------------------------------------------------------


def erlang_b(n: int, a: float) -> float:
    """Erlang B blocking probability for ``n`` servers and offered load ``a`` Erlangs, by the
    stable recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)).

    >>> round(erlang_b(3, 2.0), 6)  # (8/6) / (1 + 2 + 2 + 8/6) = 4/19
    0.210526
    """
    if n < 0 or a < 0:
        raise ValueError("erlang_b needs n >= 0 and a >= 0")
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(n: int, a: float) -> float:
    """Erlang C: the probability that an arriving case waits (all ``n`` agents busy) at offered
    load ``a`` Erlangs (arrival rate x mean handle time). 1 when n <= a (the queue grows without
    bound). C = B / (1 - (a / n)(1 - B)) with B = :func:`erlang_b`.

    >>> round(erlang_c(3, 2.0), 6)  # 4/9
    0.444444
    """
    if a <= 0:
        return 0.0
    if n <= a:
        return 1.0
    b = erlang_b(n, a)
    return b / (1.0 - (a / n) * (1.0 - b))


def service_level(n: int, a: float, aht_s: float, target_s: float) -> float:
    """Share of cases that start being worked within ``target_s`` seconds:
    1 - C(n, a) exp(-(n - a) target / AHT). 0 when n <= a."""
    if a <= 0:
        return 1.0
    if n <= a:
        return 0.0
    return 1.0 - erlang_c(n, a) * math.exp(-(n - a) * max(target_s, 0.0) / aht_s)


def agents_needed(
    per_hour: float, aht_s: float, target_s: float, level: float = SERVICE_LEVEL, max_agents: int = 100_000
) -> int | None:
    """The fewest agents (on duty at the same time) for which at least ``level`` of cases start
    being worked within ``target_s`` seconds, at ``per_hour`` arrivals and mean handle time
    ``aht_s`` (Erlang C: Poisson arrivals, exponential handle times, no abandonment, agents fully
    available). 0 without arrivals; None without a handle time or beyond ``max_agents``."""
    if per_hour <= 0:
        return 0
    if aht_s is None or not aht_s > 0:
        return None
    a = per_hour * aht_s / HOUR
    n = max(1, math.floor(a) + 1)
    while n <= max_agents:
        if service_level(n, a, aht_s, target_s) >= level:
            return n
        n += 1
    return None


# --------------------------------------------------------------------------------------------
# time to clear and agents needed
# --------------------------------------------------------------------------------------------


def last_days_filter(f: Filter, days: int = CLEAR_DAYS) -> Filter:
    """The filter over the as-of day and the ``days - 1`` days before it (dimensions kept)."""
    f = pin(f)
    day = (f.resolved_as_of() - dt.timedelta(microseconds=1)).astimezone(f.zone).date()
    return f.with_(start=day - dt.timedelta(days=days - 1), end=day)


def time_to_clear(
    ds: Dataset,
    f: Filter,
    by: Sequence[str] | None = None,
    *,
    detail: bool = False,
    level: float = SERVICE_LEVEL,
) -> pl.DataFrame:
    """Per queue (default): how the backlog develops at the last 7 days' pace, and the agents it
    takes to hold the SLA. A snapshot at as-of: the date window does not apply, the dimension
    filters do. Over the as-of day and the 6 days before it (elapsed time E hours, the day in
    progress counted up to as-of):

    - ``backlog``: open at as-of; ``inflow``/``outflow``: created/resolved in those days (the
      ``flow`` table); ``net_per_day`` = (inflow - outflow) / (E / 24);
    - ``status``: ``clear`` (nothing open), ``shrinking`` (net < 0), ``flat`` (net = 0) or
      ``growing`` (net > 0); ``days_to_clear`` = backlog / -net (shrinking only) and
      ``clear_date`` the local date of as-of + that many days;
    - ``arrivals_per_hour`` = inflow / E; ``peak_per_hour``: the busiest hour of the day (display
      zone), mean arrivals per hour over those days (the ``arrivals`` table by hour);
      ``aht_s``: AHT of the cases resolved in those days (the ``handle-time`` table);
      ``sla_target_s``: the median SLA target (due - created) of the cases created in those days;
    - ``erlangs`` = arrivals_per_hour x AHT / 3600 (agents busy on average);
      ``agents_needed`` / ``agents_needed_peak``: Erlang C (:func:`agents_needed`) at the average /
      peak arrival rate, for ``level`` (80 %) of cases to start being worked within the SLA target
      minus the AHT (at least 0).

    Rows for groups with a case open at some time in those days.
    """
    by = check_by("time-to-clear", CLEAR_DEFAULT_BY if by is None else by, CLEAR_BY)
    values: dict[str, pl.DataType] = {
        "backlog": I64,
        "inflow": I64,
        "outflow": I64,
        "net_per_day": F64,
        "status": pl.String(),
        "days_to_clear": F64,
        "clear_date": pl.Date(),
        "arrivals_per_hour": F64,
        "peak_per_hour": F64,
        "aht_s": F64,
        "sla_target_s": F64,
        "erlangs": F64,
        "agents_needed": I64,
        "agents_needed_peak": I64,
    }
    f7 = last_days_filter(f)
    as_of = f7.resolved_as_of()
    hours = (as_of - f7.midnight_utc(f7.start)).total_seconds() / HOUR
    keys = list(by)
    fl = t.flow(ds, f7, keys)
    if fl.height == 0 or hours <= 0:
        return empty_table(by, values)
    ht = t.handle_time(ds, f7, keys).select(*keys, "aht_s")
    v = view(ds, f7)
    created = t.pop_created(v)
    targets = (
        (created.group_by(keys) if keys else created.group_by(pl.lit(0).alias("_g")))
        .agg(t.seconds("due_at", "created_at").median().alias("sla_target_s"))
        .collect()
    )
    arr = arrivals(ds, f7, (*keys, "hour"))
    peak = (arr.group_by(keys) if keys else arr.group_by(pl.lit(0).alias("_g"))).agg(
        pl.col("per_hour").max().alias("peak_per_hour")
    )
    if keys:
        out = (
            fl.join(ht, on=keys, how="left", nulls_equal=True)
            .join(targets, on=keys, how="left", nulls_equal=True)
            .join(peak, on=keys, how="left", nulls_equal=True)
        )
    else:
        out = pl.concat(
            [fl, ht, targets.drop("_g"), peak.drop("_g")] if targets.height else [fl, ht], how="horizontal"
        )
    days = hours / 24.0
    out = out.with_columns(
        ((pl.col("inflow") - pl.col("outflow")) / days).alias("net_per_day"),
        (pl.col("inflow") / hours).alias("arrivals_per_hour"),
        pl.col("peak_per_hour").fill_null(0.0),
    ).with_columns(
        pl.when(pl.col("backlog") == 0)
        .then(pl.lit("clear"))
        .when(pl.col("net_per_day") < 0)
        .then(pl.lit("shrinking"))
        .when(pl.col("net_per_day") == 0)
        .then(pl.lit("flat"))
        .otherwise(pl.lit("growing"))
        .alias("status"),
        (pl.col("arrivals_per_hour") * pl.col("aht_s") / HOUR).alias("erlangs"),
    )
    out = out.with_columns(
        pl.when(pl.col("status") == "clear")
        .then(pl.lit(0.0))
        .when(pl.col("status") == "shrinking")
        .then(pl.col("backlog") / -pl.col("net_per_day"))
        .alias("days_to_clear")
    )
    local_as_of = as_of.astimezone(f7.zone)
    clear_dates = [
        None if d is None else (local_as_of + dt.timedelta(days=d)).date() for d in out["days_to_clear"]
    ]
    need, need_peak = [], []
    for r in out.iter_rows(named=True):
        aht, target = r["aht_s"], r["sla_target_s"]
        wait = max(0.0, (target or 0.0) - (aht or 0.0))
        need.append(agents_needed(r["arrivals_per_hour"], aht, wait, level))
        need_peak.append(agents_needed(r["peak_per_hour"], aht, wait, level))
    out = out.with_columns(
        pl.Series("clear_date", clear_dates, dtype=pl.Date),
        pl.Series("agents_needed", need, dtype=pl.Int64),
        pl.Series("agents_needed_peak", need_peak, dtype=pl.Int64),
    )
    return finish(out, by, values)


# --------------------------------------------------------------------------------------------
# handle time: agents x queues, histogram, agents, new hires
# --------------------------------------------------------------------------------------------


def agent_queue_aht(
    ds: Dataset,
    f: Filter,
    by: Sequence[str] | None = None,
    *,
    detail: bool = False,
    min_cases: int = MIN_CASES,
) -> pl.DataFrame:
    """Each agent's AHT per queue (the ``handle-time`` table by agent and queue) against the
    queue's median: ``queue_median_s`` is the median of the AHTs of the queue's agents with at
    least ``min_cases`` (5) cases there (linear interpolation); ``relative`` = aht_s /
    queue_median_s (1.3 = 30 % slower than the queue's typical agent). ``relative`` is empty for
    an agent with fewer than ``min_cases`` cases in the queue or a queue without such agents.
    ``detail`` adds the 95 % t interval of the agent's AHT."""
    by = check_by("agent-queue-aht", AGENT_QUEUE_BY if by is None else by, AGENT_QUEUE_BY)
    if tuple(by) != AGENT_QUEUE_BY:
        raise MetricError("agent-queue-aht: group by agent_id,queue")
    values: dict[str, pl.DataType] = {"cases": I64, "aht_s": F64, "queue_median_s": F64, "relative": F64}
    # the count and AHT only: the quantiles by agent and queue would be most of the cost
    ht = t.handle_time(ds, f, AGENT_QUEUE_BY, detail=detail, values=("aht_s",))
    if detail:
        values |= {"aht_ci_low": F64, "aht_ci_high": F64}
    if ht.height == 0:
        return empty_table(by, values)
    med = (
        ht.filter(pl.col("cases") >= min_cases)
        .group_by("queue")
        .agg(pl.col("aht_s").quantile(0.5, interpolation="linear").alias("queue_median_s"))
    )
    out = ht.join(med, on="queue", how="left", nulls_equal=True).with_columns(
        pl.when(pl.col("cases") >= min_cases)
        .then(pl.col("aht_s") / pl.col("queue_median_s"))
        .alias("relative")
    )
    return finish(out, by, values)


def handle_histogram(ds: Dataset, f: Filter, *, bins_per_decade: int = 8) -> pl.DataFrame:
    """The handle times behind AHT (cases resolved in the window with a handle time) in bins of
    equal width on a log scale: ``lower_s`` (inclusive), ``upper_s`` (exclusive), ``cases``.
    Bin k holds [10^(k/b), 10^((k+1)/b)) seconds, b = ``bins_per_decade``; handle times below
    1 s count in the first bin from 1 s. Only bins with cases; the counts add up to AHT's n."""
    v = view(ds, f)
    s = pl.max_horizontal(pl.col("handle_seconds"), pl.lit(1.0))
    k = (s.log10() * bins_per_decade + 1e-9).floor().cast(pl.Int64)
    out = (
        t.pop_handled(v)
        .select(k.alias("_k"))
        .group_by("_k")
        .agg(pl.len().cast(pl.Int64).alias("cases"))
        .sort("_k")
        .collect()
    )
    return out.select(
        (10.0 ** (pl.col("_k") / bins_per_decade)).alias("lower_s"),
        (10.0 ** ((pl.col("_k") + 1) / bins_per_decade)).alias("upper_s"),
        "cases",
    )


def _median(values: Sequence[float]) -> float | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    return float(pl.Series(vals).quantile(0.5, interpolation="linear"))


def agent_aht(ds: Dataset, f: Filter, *, min_cases: int = MIN_CASES) -> tuple[pl.DataFrame, float | None]:
    """AHT per agent with its count and 95 % interval (the ``handle-time`` table by agent,
    detail), and the team median: the median of the AHTs of the active agents with at least
    ``min_cases`` cases (agents who left, or with fewer cases, are shown but do not set it).
    Adds ``active``, ``enough`` (cases >= min_cases) and ``vs_median`` (aht_s / team median)."""
    ht = t.handle_time(ds, f, ("agent_id",), detail=True)
    active = ds.agents.select("agent_id", pl.col("active").fill_null(True)).unique("agent_id", keep="first")
    ht = ht.join(active, on="agent_id", how="left", nulls_equal=True).with_columns(
        pl.col("active").fill_null(False), (pl.col("cases") >= min_cases).alias("enough")
    )
    med = _median(
        ht.filter(pl.col("active") & pl.col("enough") & pl.col("agent_id").is_not_null())["aht_s"].to_list()
    )
    ht = ht.with_columns(
        (pl.col("aht_s") / med).alias("vs_median")
        if med
        else pl.lit(None, dtype=pl.Float64).alias("vs_median")
    )
    return ht, med


def tenure_aht(ds: Dataset, f: Filter, *, within_days: int = 120) -> pl.DataFrame:
    """New hires' AHT by week since hire: agents hired within ``within_days`` days before as-of
    (``hired_on``); per agent and week of resolution from the week of hire to as-of (the date
    window does not apply; the dimension filters do), the ``handle-time`` table's AHT, median
    and count, with ``weeks_since_hire`` (0 = the week of the hire day, weeks start on Monday)
    and ``partial`` (the week is still running at as-of). Empty without hire dates."""
    f = pin(f)
    as_of = f.resolved_as_of()
    today = (as_of - dt.timedelta(microseconds=1)).astimezone(f.zone).date()
    schema = {
        "agent_id": pl.String,
        "hired_on": pl.Date,
        "week": pl.Date,
        "weeks_since_hire": pl.Int64,
        "cases": pl.Int64,
        "aht_s": pl.Float64,
        "median_s": pl.Float64,
        "partial": pl.Boolean,
    }
    if "hired_on" not in ds.agents.columns:
        return pl.DataFrame(schema=schema)
    hires = (
        ds.agents.select("agent_id", "hired_on")
        .filter(pl.col("hired_on").is_not_null())
        .filter((pl.col("hired_on") <= today) & (pl.col("hired_on") > today - dt.timedelta(days=within_days)))
        .unique("agent_id", keep="first")
    )
    if f.agents:
        hires = hires.filter(pl.col("agent_id").is_in(list(f.agents)))
    if hires.height == 0:
        return pl.DataFrame(schema=schema)
    first = hires["hired_on"].min()
    first_monday = first - dt.timedelta(days=first.weekday())
    fw = f.with_(start=first_monday, end=today, agents=tuple(hires["agent_id"].to_list()))
    ht = t.handle_time(ds, fw, ("agent_id", "week"))
    running = t.weeks(fw).select("week", "partial")
    out = (
        ht.join(hires, on="agent_id", how="inner")
        .with_columns(
            ((pl.col("week") - pl.col("hired_on").dt.truncate("1w")).dt.total_days() // 7)
            .cast(pl.Int64)
            .alias("weeks_since_hire")
        )
        .filter(pl.col("weeks_since_hire") >= 0)
        .join(running, on="week", how="left")
        .with_columns(pl.col("partial").fill_null(True))
    )
    return out.select(list(schema)).sort("agent_id", "week")
