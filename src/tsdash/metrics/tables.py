"""Metric tables: one function per report, all ``fn(ds, f, by=None, *, detail=False) -> pl.DataFrame``.

Common rules (also in docs/METRICS.md):

- Every table reads the data through :func:`tsdash.metrics.core.view` (as-of masking and
  dimension filters).
- ``by`` is a sequence of grouping keys: at most one time key (``date`` or ``week``: the local
  date / Monday of the metric's attribution time in ``f.tz``) and any dimension keys the table
  allows. ``None`` means the table's default grouping. Key columns come first, in ``by`` order.
- Only events inside the window count. A week that the window cuts (or that as-of cuts) is
  still labelled by its Monday and holds only the window's days; see :func:`weeks`.
- Rows exist only for groups with at least one counted event (so every rate is defined);
  an empty window gives an empty frame with the same columns and dtypes, never an error.
- Numbers are unrounded; durations are float seconds; counts are Int64.
- ``detail=True`` adds the count behind each rate and 95 % intervals (the CLI tables never do).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from tsdash.dataset import Dataset
from tsdash.metrics import stats
from tsdash.metrics.core import (
    AGENT_KEYS,
    CASE_KEYS,
    TIME_KEYS,
    MetricError,
    View,
    check_by,
    empty_table,
    finish,
    local_date,
    memo_table,
    settled_parts,
    ts_lit,
    view,
)
from tsdash.metrics.filters import Filter

F64 = pl.Float64()
I64 = pl.Int64()
DEFAULT_PASS_MARK = 80.0

CASE_BY = (*TIME_KEYS, *CASE_KEYS)
CASE_DIMS = ("queue", "priority", "case_type", "channel")  # the case's own dimensions
QA_BY = (*TIME_KEYS, *CASE_KEYS)


def seconds(a: str | pl.Expr, b: str | pl.Expr) -> pl.Expr:
    """``a - b`` in float seconds."""
    a = pl.col(a) if isinstance(a, str) else a
    b = pl.col(b) if isinstance(b, str) else b
    us = (a - b).dt.total_microseconds()
    # whole seconds + fraction: correctly rounded (a plain float division by 1e6 is not, in Polars)
    return (us // 1_000_000).cast(pl.Float64) + (us % 1_000_000).cast(pl.Float64) / 1e6


def _n() -> pl.Expr:
    return pl.len().cast(pl.Int64)


def _count(cond: pl.Expr) -> pl.Expr:
    return cond.fill_null(False).sum().cast(pl.Int64)


def _grouped(lf: pl.LazyFrame, by: Sequence[str], aggs: list[pl.Expr], n_col: str) -> pl.LazyFrame:
    g = lf.group_by(list(by)).agg(aggs) if by else lf.select(aggs)
    return g.filter(pl.col(n_col) > 0)


def _sd_if(detail: bool, col: str) -> list[pl.Expr]:
    """The standard deviation behind a t interval, only computed when the interval is asked for."""
    return [pl.col(col).std(ddof=1).alias("_sd")] if detail else []


def _rate_detail(x: str, n: str, prefix: str) -> list[pl.Expr]:
    return [
        stats.wilson_low(pl.col(x), pl.col(n)).alias(f"{prefix}_ci_low"),
        stats.wilson_high(pl.col(x), pl.col(n)).alias(f"{prefix}_ci_high"),
    ]


def _mean_detail(
    mean: str, sd: str, n: str, prefix: str, lo: float = 0.0, hi: float | None = None
) -> list[pl.Expr]:
    """t interval, clipped to the range the quantity can take (durations >= 0, scores 0-100)."""
    low = stats.t_low(pl.col(mean), pl.col(sd), pl.col(n)).clip(lower_bound=lo)
    high = stats.t_high(pl.col(mean), pl.col(sd), pl.col(n))
    if hi is not None:
        high = high.clip(upper_bound=hi)
    return [low.alias(f"{prefix}_ci_low"), high.alias(f"{prefix}_ci_high")]


# --------------------------------------------------------------------------------------------
# Populations: the unit rows each table counts, with ``ts`` = attribution time. cases_behind()
# filters these by a chart element's keys to list the cases behind it.
# --------------------------------------------------------------------------------------------


def pop_created(v: View) -> pl.LazyFrame:
    """Cases created in the window (inflow, escalation rate)."""
    return v.cases.filter(v.in_window("created_at")).with_columns(pl.col("created_at").alias("ts"))


def pop_resolved(v: View) -> pl.LazyFrame:
    """Cases resolved in the window (outflow, SLA, reopens, resolution time, throughput)."""
    return v.cases.filter(v.in_window("resolved_at")).with_columns(pl.col("resolved_at").alias("ts"))


def pop_handled(v: View) -> pl.LazyFrame:
    """Cases resolved in the window that have a handle time."""
    return pop_resolved(v).filter(pl.col("handle_seconds").is_not_null())


def pop_first_response(v: View) -> pl.LazyFrame:
    return (
        v.cases.filter(v.in_window("first_response_at"))
        .with_columns(pl.col("first_response_at").alias("ts"))
        .with_columns(seconds("first_response_at", "created_at").alias("value_s"))
    )


def pop_resolution(v: View) -> pl.LazyFrame:
    return pop_resolved(v).with_columns(seconds("resolved_at", "created_at").alias("value_s"))


def pop_escalation_resolved(v: View) -> pl.LazyFrame:
    return (
        v.cases.filter(v.in_window("escalation_resolved_at") & pl.col("escalated_at").is_not_null())
        .with_columns(pl.col("escalation_resolved_at").alias("ts"))
        .with_columns(seconds("escalation_resolved_at", "escalated_at").alias("value_s"))
    )


def pop_open(v: View) -> pl.LazyFrame:
    """Cases open at as_of, with age and due status."""
    as_of = ts_lit(v.as_of)
    in_1h, in_4h = ts_lit(v.as_of + dt.timedelta(hours=1)), ts_lit(v.as_of + dt.timedelta(hours=4))
    return (
        v.cases.filter(pl.col("resolved_at").is_null())
        .with_columns(as_of.alias("ts"))
        .with_columns(
            seconds(as_of, "created_at").alias("age_s"),
            (pl.col("due_at") < as_of).alias("breached"),
            ((pl.col("due_at") >= as_of) & (pl.col("due_at") < in_1h)).alias("due_1h"),
            ((pl.col("due_at") >= as_of) & (pl.col("due_at") < in_4h)).alias("due_4h"),
            (pl.col("escalated") & pl.col("escalation_resolved_at").is_null()).alias("open_escalation"),
        )
    )


def pop_reviews(v: View, *, case_dims: bool = True) -> pl.LazyFrame:
    """QA reviews in the window; ``case_dims=False`` when nothing reads the reviewed case's
    queue, priority, case type or channel (cheaper: no lookup of the reviewed cases)."""
    reviews = v.reviews if case_dims else v.reviews_core
    return reviews.filter(v.in_window("reviewed_at")).with_columns(pl.col("reviewed_at").alias("ts"))


def pop_open_at(v: View, t: dt.datetime) -> pl.LazyFrame:
    """Cases open at time t: created before t and not resolved before t."""
    tl = ts_lit(t)
    return v.cases.filter(
        (pl.col("created_at") < tl) & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= tl))
    )


# --------------------------------------------------------------------------------------------
# flow
# --------------------------------------------------------------------------------------------

FLOW_BY = CASE_BY


@memo_table
def flow(ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False) -> pl.DataFrame:
    """Inflow, outflow and backlog per local day (default ``by=("date",)``).

    Days run from the window start (or the day of the first case, if later) to the window end
    (or the as-of day, if earlier). ``backlog`` is the number of cases open at the end of the day
    (the next local midnight; for the as-of day: at as_of). It is the opening backlog plus the
    cumulative sum of inflow − outflow, so backlog(d) − backlog(d−1) = inflow(d) − outflow(d).
    By week: inflow and outflow are summed over the window's days of the week and backlog is that
    of the week's last window day. Without a time key: totals over the window and the final backlog.

    Settled by date or week without a dimension (see :func:`handle_time`): a past day's inflow,
    outflow and end-of-day backlog are set by times before its end, so the same at any later
    as-of. With a dimension it is not: a group first seen after that day adds rows to it.
    """
    by = check_by("flow", ("date",) if by is None else by, FLOW_BY)
    if all(k in TIME_KEYS for k in by):
        return _settled(flow, _flow, ds, f, by, detail=detail)
    return _flow(ds, f, by, detail=detail)


def _flow(ds: Dataset, f: Filter, by: Sequence[str], *, detail: bool) -> pl.DataFrame:
    values = {"inflow": I64, "outflow": I64, "backlog": I64}
    v = view(ds, f)
    dims = [k for k in by if k not in TIME_KEYS]
    c = v.cases.select(*dims, "created_at", "resolved_at").with_columns(pl.lit(0).alias("_g"))
    first_created = c.select(pl.col("created_at").min()).collect().item()
    if first_created is None:
        return empty_table(by, values)
    cal = v.calendar(first=first_created.astimezone(v.f.zone).date())
    if cal.is_empty():
        return empty_table(by, values)
    m0, m1 = ts_lit(cal["start_utc"][0]), ts_lit(cal["end_utc"][-1])
    gk = ["_g", *dims]

    opening = (
        c.filter(
            (pl.col("created_at") < m0) & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= m0))
        )
        .group_by(gk)
        .agg(pl.len().cast(pl.Int64).alias("opening"))
    )
    inflow = (
        c.filter((pl.col("created_at") >= m0) & (pl.col("created_at") < m1))
        .group_by([*gk, v.local_date("created_at").alias("date")])
        .agg(pl.len().cast(pl.Int64).alias("inflow"))
    )
    outflow = (
        c.filter((pl.col("resolved_at") >= m0) & (pl.col("resolved_at") < m1))
        .group_by([*gk, v.local_date("resolved_at").alias("date")])
        .agg(pl.len().cast(pl.Int64).alias("outflow"))
    )
    if dims:  # groups with at least one case open at some time in the shown days
        groups = (
            c.filter(
                (pl.col("created_at") < m1)
                & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= m0))
            )
            .select(gk)
            .unique()
        )
    else:
        groups = pl.LazyFrame({"_g": [0]}, schema={"_g": pl.Int32})
    grid = (
        groups.join(cal.lazy().select("date", "week"), how="cross")
        .join(opening, on=gk, how="left", nulls_equal=True)
        .join(inflow, on=[*gk, "date"], how="left", nulls_equal=True)
        .join(outflow, on=[*gk, "date"], how="left", nulls_equal=True)
        .with_columns(pl.col("opening", "inflow", "outflow").fill_null(0))
        .sort([*gk, "date"], nulls_last=True)
        .with_columns(
            (
                pl.col("opening") + (pl.col("inflow") - pl.col("outflow")).cum_sum().over(gk, order_by="date")
            ).alias("backlog")
        )
    )
    if "date" in by:
        return finish(grid, by, values)
    agg_keys = [k for k in by if k in ("week",)] + dims
    out = grid.group_by(["_g", *agg_keys]).agg(
        pl.col("inflow").sum(), pl.col("outflow").sum(), pl.col("backlog").sort_by("date").last()
    )
    return finish(out, by, values)


# --------------------------------------------------------------------------------------------
# duration tables (handle time, first response, resolution time, escalation turnaround)
# --------------------------------------------------------------------------------------------


def _duration_table(
    name: str,
    v: View,
    pop: pl.LazyFrame,
    col: str,
    by: Sequence[str],
    names: tuple[str, str, str, str],
    detail: bool,
    values: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Count, mean, median and p90 of ``col`` per group; ``values`` (a subset of the last three
    of ``names``; default all) leaves out the others -- the quantiles are most of the cost of a
    table grouped by several keys. The count is always there (a group needs one to exist)."""
    n, mean, med, p90 = names
    unknown = set(values or ()) - set(names)
    if unknown:
        raise MetricError(f"{name} has no column {sorted(unknown)[0]!r}; columns: {', '.join(names)}")
    want = set(names) if values is None else {n, *values, *([mean] if detail else [])}
    exprs = {
        n: (_n(), I64),
        mean: (pl.col(col).mean(), F64),
        med: (pl.col(col).median(), F64),
        p90: (pl.col(col).quantile(0.9, interpolation="linear"), F64),
    }
    aggs = [e.alias(c) for c, (e, _) in exprs.items() if c in want]
    out_values: dict[str, pl.DataType] = {c: dtype for c, (_, dtype) in exprs.items() if c in want}
    g = _grouped(v.time_keys(pop, "ts", by), by, [*aggs, *_sd_if(detail, col)], n)
    if detail:
        prefix = mean.removesuffix("_s")
        g = g.with_columns(_mean_detail(mean, "_sd", n, prefix))
        out_values |= {f"{prefix}_ci_low": F64, f"{prefix}_ci_high": F64}
    return finish(g, by, out_values)


@memo_table
def handle_time(
    ds: Dataset,
    f: Filter,
    by: Sequence[str] | None = None,
    *,
    detail: bool = False,
    values: Sequence[str] | None = None,
) -> pl.DataFrame:
    """AHT, median and p90 (linear interpolation) of handle_seconds of cases resolved in the window
    that have one; by the assigned agent and the week of resolved_at (default).

    Settled (see :func:`tsdash.metrics.core.settled_parts`): a case resolved before as-of keeps
    its row at every later as-of. A window that has ended is computed as of its end; a table by
    week (or date) leaves its rows before as-of's week for every later as-of in that week, which
    then computes the current week's rows only."""
    by = check_by("handle-time", ("agent_id", "week") if by is None else by, CASE_BY)
    return _settled(handle_time, _handle_time, ds, f, by, detail=detail, values=values)


def _settled(
    table: Callable[..., pl.DataFrame],
    compute: Callable[..., pl.DataFrame],
    ds: Dataset,
    f: Filter,
    by: Sequence[str],
    **kw: Any,
) -> pl.DataFrame:
    """A settled table (see :func:`tsdash.metrics.core.settled_parts`) from its parts: ``table``
    is the memoised table function (its ``recall`` and ``remember``), ``compute(ds, f, by,
    **kw)`` the computation over one filter. A table whose past part is remembered computes the
    recent part only; one computed whole leaves its past part for the later as-ofs."""
    parts = settled_parts(f, by)
    if parts is not None and len(parts) == 1:
        return table(ds, parts[0], by, **kw)
    if parts is not None:
        past_f, recent_f = parts
        past = table.recall(ds, past_f, by, **kw)
        if past is not None:
            recent = table(ds, recent_f, by, **kw)
            return pl.concat([past, recent]).sort(list(by), nulls_last=True)
    whole = compute(ds, f, by, **kw)
    if parts is not None:
        time_key, cut = ("week" if "week" in by else "date"), parts[1].start
        past = whole.filter(pl.col(time_key) < cut)
        table.remember(ds, parts[0], by, past, **kw)
    return whole


def _handle_time(
    ds: Dataset, f: Filter, by: Sequence[str], *, detail: bool, values: Sequence[str] | None
) -> pl.DataFrame:
    v = view(ds, f)
    return _duration_table(
        "handle-time",
        v,
        pop_handled(v),
        "handle_seconds",
        by,
        ("cases", "aht_s", "median_s", "p90_s"),
        detail,
        values,
    )


@memo_table
def first_response(
    ds: Dataset,
    f: Filter,
    by: Sequence[str] | None = None,
    *,
    detail: bool = False,
    values: Sequence[str] | None = None,
) -> pl.DataFrame:
    """first_response_at − created_at, attributed to the week of first_response_at (default).

    Settled, as :func:`handle_time`: a case first answered before as-of keeps its row at every
    later as-of (its creation came before, its dimensions do not depend on as-of)."""
    by = check_by("first-response", ("week",) if by is None else by, CASE_BY)
    return _settled(first_response, _first_response, ds, f, by, detail=detail, values=values)


def _first_response(
    ds: Dataset, f: Filter, by: Sequence[str], *, detail: bool, values: Sequence[str] | None
) -> pl.DataFrame:
    v = view(ds, f)
    return _duration_table(
        "first-response",
        v,
        pop_first_response(v),
        "value_s",
        by,
        ("cases", "mean_s", "median_s", "p90_s"),
        detail,
        values,
    )


@memo_table
def resolution_time(
    ds: Dataset,
    f: Filter,
    by: Sequence[str] | None = None,
    *,
    detail: bool = False,
    values: Sequence[str] | None = None,
) -> pl.DataFrame:
    """resolved_at − created_at, attributed to the week of resolved_at (default).

    Settled, as :func:`handle_time`: a case resolved before as-of keeps its row at every later
    as-of."""
    by = check_by("resolution-time", ("week",) if by is None else by, CASE_BY)
    return _settled(resolution_time, _resolution_time, ds, f, by, detail=detail, values=values)


def _resolution_time(
    ds: Dataset, f: Filter, by: Sequence[str], *, detail: bool, values: Sequence[str] | None
) -> pl.DataFrame:
    v = view(ds, f)
    return _duration_table(
        "resolution-time",
        v,
        pop_resolution(v),
        "value_s",
        by,
        ("cases", "mean_s", "median_s", "p90_s"),
        detail,
        values,
    )


@memo_table
def escalation_turnaround(
    ds: Dataset,
    f: Filter,
    by: Sequence[str] | None = None,
    *,
    detail: bool = False,
    values: Sequence[str] | None = None,
) -> pl.DataFrame:
    """escalation_resolved_at − escalated_at, attributed to the week of escalation_resolved_at."""
    by = check_by("escalation-turnaround", ("week",) if by is None else by, CASE_BY)
    v = view(ds, f)
    return _duration_table(
        "escalation-turnaround",
        v,
        pop_escalation_resolved(v),
        "value_s",
        by,
        ("escalations", "mean_s", "median_s", "p90_s"),
        detail,
        values,
    )


# --------------------------------------------------------------------------------------------
# rate tables
# --------------------------------------------------------------------------------------------


def _rate_table(
    v: View,
    pop: pl.LazyFrame,
    cond: pl.Expr,
    by: Sequence[str],
    names: tuple[str, str, str],
    detail: bool,
) -> pl.DataFrame:
    n, x, rate = names
    values: dict[str, pl.DataType] = {n: I64, x: I64, rate: F64}
    aggs = [_n().alias(n), _count(cond).alias(x)]
    g = _grouped(v.time_keys(pop, "ts", by), by, aggs, n).with_columns((pl.col(x) / pl.col(n)).alias(rate))
    if detail:
        g = g.with_columns(_rate_detail(x, n, rate))
        values |= {f"{rate}_ci_low": F64, f"{rate}_ci_high": F64}
    return finish(g, by, values)


@memo_table
def escalations(
    ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False
) -> pl.DataFrame:
    """Of cases created in the window, how many were escalated (before as_of); by week of created_at."""
    by = check_by("escalations", ("week",) if by is None else by, CASE_BY)
    v = view(ds, f)
    return _rate_table(
        v, pop_created(v), pl.col("escalated"), by, ("created", "escalated", "escalation_rate"), detail
    )


@memo_table
def sla(ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False) -> pl.DataFrame:
    """Of cases resolved in the window, how many at or before due_at; by week of resolved_at.

    Settled, as :func:`resolution_time`: a case resolved before as-of keeps its row at every
    later as-of (its due time is not an event: it is never masked)."""
    by = check_by("sla", ("week",) if by is None else by, CASE_BY)
    return _settled(sla, _sla, ds, f, by, detail=detail)


def _sla(ds: Dataset, f: Filter, by: Sequence[str], *, detail: bool) -> pl.DataFrame:
    v = view(ds, f)
    return _rate_table(
        v,
        pop_resolved(v),
        pl.col("resolved_at") <= pl.col("due_at"),
        by,
        ("resolved", "within_sla", "sla_attainment"),
        detail,
    )


@memo_table
def reopens(ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False) -> pl.DataFrame:
    """Of cases resolved in the window, how many have reopened_count > 0; by week of resolved_at."""
    by = check_by("reopens", ("week",) if by is None else by, CASE_BY)
    v = view(ds, f)
    return _rate_table(
        v, pop_resolved(v), pl.col("reopened_count") > 0, by, ("resolved", "reopened", "reopen_rate"), detail
    )


@memo_table
def qa_coverage(
    ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False
) -> pl.DataFrame:
    """Of cases resolved in the window, how many have at least one QA review (reviewed before
    as_of, whenever); by the assigned agent and the week of resolved_at."""
    by = check_by("qa-coverage", ("agent_id", "week") if by is None else by, CASE_BY)
    v = view(ds, f)
    reviewed = (
        ds.qa_reviews.lazy()
        .filter(pl.col("reviewed_at") < ts_lit(v.as_of))
        .select("case_id")
        .unique()
        .with_columns(pl.lit(True).alias("_reviewed"))
    )
    pop = pop_resolved(v).join(reviewed, on="case_id", how="left")
    return _rate_table(v, pop, pl.col("_reviewed"), by, ("resolved", "reviewed", "coverage"), detail)


# --------------------------------------------------------------------------------------------
# quality
# --------------------------------------------------------------------------------------------


def _passed(pass_mark: float) -> pl.Expr:
    return (pl.col("score") >= pass_mark).fill_null(False) & ~pl.col("critical_error").fill_null(False)


@memo_table
def quality(
    ds: Dataset,
    f: Filter,
    by: Sequence[str] | None = None,
    *,
    detail: bool = False,
    pass_mark: float = DEFAULT_PASS_MARK,
) -> pl.DataFrame:
    """QA reviews with reviewed_at in the window, by the reviewed agent and week of reviewed_at:
    count, mean score, pass rate (score ≥ pass mark and no critical error), critical errors."""
    by = check_by("quality", ("agent_id", "week") if by is None else by, QA_BY)
    v = view(ds, f)
    values: dict[str, pl.DataType] = {
        "reviews": I64,
        "mean_score": F64,
        "pass_rate": F64,
        "critical_errors": I64,
    }
    aggs = [
        _n().alias("reviews"),
        pl.col("score").mean().alias("mean_score"),
        _count(_passed(pass_mark)).alias("passes"),
        _count(pl.col("critical_error")).alias("critical_errors"),
        *_sd_if(detail, "score"),
    ]
    case_dims = any(k in CASE_DIMS for k in by)
    g = _grouped(
        v.time_keys(pop_reviews(v, case_dims=case_dims), "ts", by), by, aggs, "reviews"
    ).with_columns((pl.col("passes") / pl.col("reviews")).alias("pass_rate"))
    if detail:
        g = g.with_columns(
            *_mean_detail("mean_score", "_sd", "reviews", "mean_score", hi=100.0),
            *_rate_detail("passes", "reviews", "pass_rate"),
        )
        values |= {
            "passes": I64,
            "mean_score_ci_low": F64,
            "mean_score_ci_high": F64,
            "pass_rate_ci_low": F64,
            "pass_rate_ci_high": F64,
        }
    return finish(g, by, values)


QA_CRITERIA_BY = (*TIME_KEYS, "criterion", *AGENT_KEYS)


@memo_table
def qa_criteria(
    ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False
) -> pl.DataFrame:
    """Per-criterion mean score of reviews with reviewed_at in the window (needs ``qa_criteria``)."""
    by = check_by("qa-criteria", ("criterion", "week") if by is None else by, QA_CRITERIA_BY)
    v = view(ds, f)
    values: dict[str, pl.DataType] = {"scores": I64, "mean_score": F64}
    pop = v.criteria.filter(v.in_window("reviewed_at")).with_columns(pl.col("reviewed_at").alias("ts"))
    aggs = [
        _n().alias("scores"),
        pl.col("score").mean().alias("mean_score"),
        *_sd_if(detail, "score"),
    ]
    g = _grouped(v.time_keys(pop, "ts", by), by, aggs, "scores")
    if detail:
        g = g.with_columns(_mean_detail("mean_score", "_sd", "scores", "mean_score", hi=100.0))
        values |= {"mean_score_ci_low": F64, "mean_score_ci_high": F64}
    return finish(g, by, values)


# --------------------------------------------------------------------------------------------
# snapshots at as_of: backlog-now and workload
# --------------------------------------------------------------------------------------------


@memo_table
def backlog_now(
    ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False
) -> pl.DataFrame:
    """Cases open at as_of by queue and priority (default): open, unassigned, breached (due_at
    before as_of), oldest age in seconds. The date window does not apply (a snapshot)."""
    by = check_by("backlog-now", ("queue", "priority") if by is None else by, CASE_KEYS)
    v = view(ds, f)
    values: dict[str, pl.DataType] = {"open": I64, "unassigned": I64, "breached": I64, "oldest_age_s": F64}
    aggs = [
        _n().alias("open"),
        _count(pl.col("assigned_agent_id").is_null()).alias("unassigned"),
        _count(pl.col("breached")).alias("breached"),
        pl.col("age_s").max().alias("oldest_age_s"),
        _count(pl.col("due_1h")).alias("due_within_1h"),
        _count(pl.col("due_4h")).alias("due_within_4h"),
        _count(pl.col("open_escalation")).alias("open_escalations"),
    ]
    g = _grouped(pop_open(v), by, aggs, "open")
    if detail:
        values |= {"due_within_1h": I64, "due_within_4h": I64, "open_escalations": I64}
    return finish(g, by, values)


WORKLOAD_BY = ("agent_id", "team")


@memo_table
def workload(
    ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False
) -> pl.DataFrame:
    """Open assigned cases at as_of per agent (default) or team: open, breached, due within 1 h and
    4 h (not yet breached), oldest age. Active agents (and agents with open cases) that pass the
    team/agent filters are listed even with nothing open (oldest_age_s null). Unassigned cases are
    not anyone's workload (see backlog-now). The date window does not apply."""
    by = check_by("workload", ("agent_id",) if by is None else by, WORKLOAD_BY)
    v = view(ds, f)
    values: dict[str, pl.DataType] = {
        "open": I64,
        "breached": I64,
        "due_within_1h": I64,
        "due_within_4h": I64,
        "oldest_age_s": F64,
    }
    keys = list(by)
    open_ = pop_open(v).filter(pl.col("agent_id").is_not_null())
    aggs = [
        _n().alias("open"),
        _count(pl.col("breached")).alias("breached"),
        _count(pl.col("due_1h")).alias("due_within_1h"),
        _count(pl.col("due_4h")).alias("due_within_4h"),
        pl.col("age_s").max().alias("oldest_age_s"),
    ]
    if not keys:
        return finish(_grouped(open_, (), aggs, "open"), by, values)
    counts = open_.group_by(keys).agg(aggs)
    roster = v.agents.lazy().filter(pl.col("active").fill_null(True)).select("agent_id", "team")
    if v.f.teams:
        roster = roster.filter(pl.col("team").is_in(list(v.f.teams)))
    if v.f.agents:
        roster = roster.filter(pl.col("agent_id").is_in(list(v.f.agents)))
    groups = pl.concat([roster.select(keys), counts.select(keys)]).unique()
    out = groups.join(counts, on=keys, how="left", nulls_equal=True).with_columns(
        pl.col("open", "breached", "due_within_1h", "due_within_4h").fill_null(0)
    )
    return finish(out, by, values)


# --------------------------------------------------------------------------------------------
# throughput and utilization
# --------------------------------------------------------------------------------------------

THROUGHPUT_BY = (*TIME_KEYS, *AGENT_KEYS)


def shift_seconds(v: View, by: Sequence[str]) -> pl.LazyFrame:
    """Scheduled seconds per group: shifts cut into local days, clipped to the window and as_of."""
    cal = v.calendar().lazy()
    one_us = dt.timedelta(microseconds=1)
    segs = (
        v.shifts.filter(pl.col("end") > pl.col("start"))
        .with_columns(
            pl.date_ranges(local_date("start", v.tz), local_date(pl.col("end") - one_us, v.tz)).alias("date")
        )
        .explode("date")
        .join(cal, on="date", how="inner")
        .with_columns(
            seconds(
                pl.min_horizontal("end", "end_utc"),
                pl.max_horizontal("start", "start_utc"),
            )
            .clip(lower_bound=0.0)
            .alias("shift_s")
        )
    )
    keys = list(by)
    return segs.group_by(keys).agg(pl.col("shift_s").sum()) if keys else segs.select(pl.col("shift_s").sum())


@memo_table
def throughput(
    ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False
) -> pl.DataFrame:
    """Cases resolved in the window per assigned agent and week of resolved_at (default), with the
    scheduled shift seconds in the same days, resolved per shift hour, handle seconds of those
    resolved cases, and utilization = handle_s / shift_s (null without shifts). Case filters
    (queue, priority...) narrow the resolved cases, not the shifts."""
    by = check_by("throughput", ("agent_id", "week") if by is None else by, THROUGHPUT_BY)
    v = view(ds, f)
    values: dict[str, pl.DataType] = {
        "resolved": I64,
        "shift_s": F64,
        "resolved_per_shift_hour": F64,
        "handle_s": F64,
        "utilization": F64,
    }
    keys = list(by)
    res = v.time_keys(pop_resolved(v), "ts", by)
    aggs = [_n().alias("resolved"), pl.col("handle_seconds").sum().cast(pl.Float64).alias("handle_s")]
    res = res.group_by(keys).agg(aggs) if keys else res.select(aggs)
    sh = shift_seconds(v, by)
    if keys:
        out = res.join(sh, on=keys, how="full", coalesce=True, nulls_equal=True)
    else:
        out = pl.concat([res, sh], how="horizontal")
    out = (
        out.with_columns(
            pl.col("resolved").fill_null(0),
            pl.col("handle_s").fill_null(0.0),
            pl.col("shift_s").fill_null(0.0),
        )
        .filter((pl.col("resolved") > 0) | (pl.col("shift_s") > 0))
        .with_columns(
            pl.when(pl.col("shift_s") > 0)
            .then(pl.col("resolved") / (pl.col("shift_s") / 3600.0))
            .alias("resolved_per_shift_hour"),
            pl.when(pl.col("shift_s") > 0).then(pl.col("handle_s") / pl.col("shift_s")).alias("utilization"),
        )
    )
    return finish(out, by, values)


# --------------------------------------------------------------------------------------------
# weeks of a window
# --------------------------------------------------------------------------------------------


def weeks(f: Filter) -> pl.DataFrame:
    """The weeks a window touches: week (Monday), first_day, last_day (inside the window and begun
    before as_of), days, and ``partial`` -- true when the week has fewer than 7 such days or is
    still running at as_of. Week-bucketed tables count only the window's days of a partial week.

    >>> import datetime as dt
    >>> f = Filter(dt.date(2026, 3, 4), dt.date(2026, 3, 15), as_of=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    >>> weeks(f).select("week", "days", "partial").rows()
    [(datetime.date(2026, 3, 2), 5, True), (datetime.date(2026, 3, 9), 7, False)]
    """
    fp = f if f.as_of is not None else f.with_(as_of=f.resolved_as_of())
    as_of = fp.resolved_as_of()
    last = min(fp.end, (as_of - dt.timedelta(microseconds=1)).astimezone(fp.zone).date())
    days = (
        [fp.start + dt.timedelta(days=i) for i in range((last - fp.start).days + 1)]
        if last >= fp.start
        else []
    )
    cal = pl.DataFrame({"date": days}, schema={"date": pl.Date})
    out = (
        cal.with_columns(pl.col("date").dt.truncate("1w").alias("week"))
        .group_by("week")
        .agg(
            pl.col("date").min().alias("first_day"),
            pl.col("date").max().alias("last_day"),
            pl.len().cast(pl.Int64).alias("days"),
        )
        .sort("week")
    )
    running = [fp.midnight_utc(w + dt.timedelta(days=7)) > as_of for w in out["week"]]
    return out.with_columns(((pl.col("days") < 7) | pl.Series(running, dtype=pl.Boolean)).alias("partial"))
