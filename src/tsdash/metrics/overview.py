"""What the app needs in one call each: KPI tiles, live workload, drill-down to cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from tsdash.dataset import Dataset
from tsdash.metrics import stats
from tsdash.metrics import tables as t
from tsdash.metrics.core import MetricError, View, pin, view, with_time_keys
from tsdash.metrics.filters import Filter
from tsdash.metrics.registry import DEFINITIONS, TABLES

KPI_KEYS: tuple[str, ...] = (
    "open_backlog",
    "created_per_day",
    "resolved_per_day",
    "aht",
    "first_response",
    "sla_attainment",
    "qa_mean",
    "escalation_rate",
)


@dataclass(frozen=True)
class KPI:
    """One Overview tile. ``previous`` is the same KPI over the previous period of equal length
    (same as-of; for open_backlog: the backlog one period length before as-of)."""

    key: str
    label: str
    unit: str
    direction: str  # higher_better / lower_better / neutral
    value: float | None
    n: int | None  # the count behind the value (None for plain counts)
    ci_low: float | None
    ci_high: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def description(self) -> str:
        return DEFINITIONS[self.key].description


def elapsed_days(f: Filter) -> float:
    """Days of the window that have begun before as-of; the day in progress counts by its elapsed
    fraction of its (23, 24 or 25 hour) length.

    >>> f = Filter(dt.date(2026, 3, 1), dt.date(2026, 3, 7), as_of=dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC))
    >>> elapsed_days(f)
    2.5
    """
    f = pin(f)
    as_of = f.resolved_as_of()
    total = 0.0
    day = f.start
    while day <= f.end:
        s, e = f.midnight_utc(day), f.midnight_utc(day + dt.timedelta(days=1))
        if as_of <= s:
            break
        total += 1.0 if as_of >= e else (as_of - s) / (e - s)
        day += dt.timedelta(days=1)
    return total


def _mean_parts(values: pl.LazyFrame, col: str) -> pl.LazyFrame:
    return values.select(
        pl.col(col).mean().alias("m"), pl.col(col).std(ddof=1).alias("sd"), pl.col(col).count().alias("n")
    )


def _mean_row(
    row: dict[str, Any], hi: float | None = None
) -> tuple[float | None, int, float | None, float | None]:
    """Mean with its t interval from the collected parts, clipped to [0, hi] (durations and
    scores cannot be negative)."""
    part = pl.DataFrame([row], schema={"m": pl.Float64, "sd": pl.Float64, "n": pl.UInt32}).select(
        stats.t_low(pl.col("m"), pl.col("sd"), pl.col("n")).clip(lower_bound=0.0).alias("lo"),
        stats.t_high(pl.col("m"), pl.col("sd"), pl.col("n")).clip(upper_bound=hi).alias("hi"),
    )
    lo, hi_ = part.row(0)
    return row["m"], int(row["n"]), lo, hi_


def _rate_row(n: int, x: int) -> tuple[float | None, int, float | None, float | None]:
    if not n:
        return None, 0, None, None
    lo, hi = stats.wilson(int(x), int(n))
    return x / n, int(n), lo, hi


# The tile queries of one period, and the KPIs each one serves.
_QUERY_KPIS: dict[str, tuple[str, ...]] = {
    "created": ("created_per_day", "escalation_rate"),
    "resolved": ("resolved_per_day", "sla_attainment"),
    "first_response": ("first_response",),
    "aht": ("aht",),
    "qa": ("qa_mean",),
}


def _queries(v: View, names: Sequence[str]) -> list[pl.LazyFrame]:
    """The period's tile queries ``names`` (keys of ``_QUERY_KPIS``), in that order."""
    q = {
        "created": lambda: t.pop_created(v).select(
            pl.len().alias("n"), pl.col("escalated").fill_null(False).sum().alias("x")
        ),
        "resolved": lambda: t.pop_resolved(v).select(
            pl.len().alias("n"),
            (pl.col("resolved_at") <= pl.col("due_at")).fill_null(False).sum().alias("x"),
        ),
        "first_response": lambda: t.pop_first_response(v).select("value_s"),
        "aht": lambda: _mean_parts(t.pop_handled(v), "handle_seconds"),
        "qa": lambda: _mean_parts(t.pop_reviews(v), "score"),
    }
    return [q[name]() for name in names]


def _values(v: View, results: dict[str, pl.DataFrame]) -> dict[str, tuple[Any, Any, Any, Any]]:
    """The period's tile values from the collected :func:`_queries` (by query name)."""
    out: dict[str, tuple[Any, Any, Any, Any]] = {}
    days = elapsed_days(v.f)
    if "created" in results:
        n_created, n_esc = results["created"].row(0)
        out["created_per_day"] = (n_created / days if days else None, n_created, None, None)
        out["escalation_rate"] = _rate_row(n_created, n_esc)
    if "resolved" in results:
        n_resolved, n_within = results["resolved"].row(0)
        out["resolved_per_day"] = (n_resolved / days if days else None, n_resolved, None, None)
        out["sla_attainment"] = _rate_row(n_resolved, n_within)
    if "first_response" in results:
        frt = results["first_response"]
        frt_median, frt_lo, frt_hi = stats.median_with_interval(frt["value_s"])
        out["first_response"] = (frt_median, frt.height, frt_lo, frt_hi)
    if "aht" in results:
        out["aht"] = _mean_row(results["aht"].row(0, named=True))
    if "qa" in results:
        out["qa_mean"] = _mean_row(results["qa"].row(0, named=True), hi=100.0)
    return out


def kpis(
    ds: Dataset,
    f: Filter,
    *,
    pass_mark: float = t.DEFAULT_PASS_MARK,
    keys: Sequence[str] | None = None,
) -> dict[str, KPI]:
    """The Overview tiles, keyed by :data:`KPI_KEYS` (also keys of ``DEFINITIONS``).

    ``n`` is the count behind each value (cases created/resolved for the per-day rates, cases with a
    handle time for AHT, ...); ``ci_low``/``ci_high`` a 95 % interval where one is defined (t for
    means, Wilson for shares, order statistics for the median first response).

    ``keys`` (a subset of :data:`KPI_KEYS`, default all) computes only those tiles, each exactly
    as in the full set: a page that shows one tile does not pay for the eight.
    """
    wanted = KPI_KEYS if keys is None else tuple(k for k in KPI_KEYS if k in set(keys))
    unknown = set(keys or ()) - set(KPI_KEYS)
    if unknown:
        raise MetricError(f"unknown KPI {sorted(unknown)[0]!r}; KPIs: {', '.join(KPI_KEYS)}")
    f = pin(f)
    v, vp = view(ds, f), view(ds, f.previous())
    names = [q for q, served in _QUERY_KPIS.items() if set(served) & set(wanted)]
    queries = [*_queries(v, names), *_queries(vp, names)]
    if "open_backlog" in wanted:
        queries += [
            t.pop_open(v).select(pl.len()),
            t.pop_open_at(v, v.as_of - dt.timedelta(days=f.days)).select(pl.len()),
        ]
    # both periods' tiles and the two backlog counts in one collect_all: one pass over the data
    # where the plans share it, in parallel otherwise
    results = pl.collect_all(queries)
    k = len(names)
    cur = _values(v, dict(zip(names, results[:k], strict=True)))
    prev = _values(vp, dict(zip(names, results[k : 2 * k], strict=True)))
    if "open_backlog" in wanted:
        open_now, open_before = int(results[2 * k].item()), int(results[2 * k + 1].item())
        cur["open_backlog"] = (open_now, None, None, None)
        prev["open_backlog"] = (open_before, None, None, None)
    out = {}
    for key in wanted:
        d = DEFINITIONS[key]
        value, n, lo, hi = cur[key]
        out[key] = KPI(key, d.label, d.unit, d.direction, value, n, lo, hi, prev[key][0])
    return out


def workload_agents(ds: Dataset, f: Filter) -> pl.DataFrame:
    """Live workload per agent at as-of: agent_id, name, team, open, breached, due_within_1h,
    due_within_4h, oldest_age_s (null when nothing is open). See the ``workload`` table."""
    w = t.workload(ds, f, ("agent_id",))
    names = ds.agents.select("agent_id", "name", "team").unique("agent_id", keep="first")
    return (
        w.join(names, on="agent_id", how="left")
        .select(
            "agent_id", "name", "team", "open", "breached", "due_within_1h", "due_within_4h", "oldest_age_s"
        )
        .sort("agent_id", nulls_last=True)
    )


def workload_queues(ds: Dataset, f: Filter) -> pl.DataFrame:
    """Live workload per queue and priority at as-of: queue, priority, open, unassigned, breached,
    oldest_age_s, due_within_1h, due_within_4h, open_escalations."""
    return t.backlog_now(ds, f, ("queue", "priority"), detail=True)


# --------------------------------------------------------------------------------------------
# drill-down
# --------------------------------------------------------------------------------------------

_RESOLVED_WITHIN = pl.col("resolved_at") <= pl.col("due_at")
_OPEN_MEASURES = {
    "open": None,
    "unassigned": pl.col("assigned_agent_id").is_null(),
    "breached": pl.col("breached"),
    "due_within_1h": pl.col("due_1h"),
    "due_within_4h": pl.col("due_4h"),
    "open_escalations": pl.col("open_escalation"),
}


def _rate_measures(pass_mark: float) -> dict[str, tuple[Any, dict[str, pl.Expr | None]]]:
    """Per rate table: its population and each measure's condition on it (None: all of it)."""
    P = t
    return {
        "escalations": (P.pop_created, {"created": None, "escalated": pl.col("escalated")}),
        "sla": (
            P.pop_resolved,
            {"resolved": None, "within_sla": _RESOLVED_WITHIN, "breached": ~_RESOLVED_WITHIN},
        ),
        "reopens": (P.pop_resolved, {"resolved": None, "reopened": pl.col("reopened_count") > 0}),
        "backlog-now": (P.pop_open, _OPEN_MEASURES),
        "workload": (lambda vv: P.pop_open(vv).filter(pl.col("agent_id").is_not_null()), _OPEN_MEASURES),
        "quality": (
            P.pop_reviews,
            {
                "reviews": None,
                "critical_errors": pl.col("critical_error").fill_null(False),
                "passes": P._passed(pass_mark),
                "fails": ~P._passed(pass_mark),
            },
        ),
    }


def _population(ds: Dataset, v: View, metric: str, measure: str | None, pass_mark: float) -> pl.LazyFrame:
    P = t
    simple = {
        "handle-time": P.pop_handled,
        "first-response": P.pop_first_response,
        "resolution-time": P.pop_resolution,
        "escalation-turnaround": P.pop_escalation_resolved,
        "throughput": P.pop_resolved,
    }
    rates = _rate_measures(pass_mark)
    if metric in simple:
        if measure is not None:
            raise MetricError(f"{metric}: no measure to choose (got {measure!r})")
        return simple[metric](v)
    if metric in rates:
        fn, measures = rates[metric]
        if measure is not None and measure not in measures:
            raise MetricError(f"{metric}: unknown measure {measure!r}; use one of: {', '.join(measures)}")
        pop = fn(v)
        cond = measures.get(measure) if measure else None
        return pop.filter(cond) if cond is not None else pop
    if metric == "qa-coverage":
        reviewed = ds.qa_reviews.lazy().filter(pl.col("reviewed_at") < v.as_of).select("case_id").unique()
        pop = P.pop_resolved(v)
        if measure == "reviewed":
            return pop.join(reviewed, on="case_id", how="semi")
        if measure == "not_reviewed":
            return pop.join(reviewed, on="case_id", how="anti")
        if measure not in (None, "resolved"):
            raise MetricError(
                f"qa-coverage: unknown measure {measure!r}; use resolved, reviewed or not_reviewed"
            )
        return pop
    if metric == "qa-criteria":
        return v.criteria.filter(v.in_window("reviewed_at")).with_columns(pl.col("reviewed_at").alias("ts"))
    raise MetricError(f"no drill-down for {metric!r}")


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def cases_behind(
    ds: Dataset,
    f: Filter,
    metric: str,
    measure: str | None = None,
    *,
    pass_mark: float = t.DEFAULT_PASS_MARK,
    largest: tuple[str, int] | None = None,
    **selection: Any,
) -> pl.DataFrame:
    """The rows behind one chart element of table ``metric`` (a name in ``TABLES``).

    ``selection`` holds the element's key values, e.g. ``date=dt.date(2026, 3, 2)``,
    ``week="2026-03-02"``, ``queue="payments_fraud"``, ``agent_id="a07"`` (None selects nulls,
    e.g. unassigned). ``measure`` picks the part of the element: for ``flow`` one of inflow,
    outflow, backlog (required); for rate tables the numerator (``escalated``, ``within_sla``,
    ``breached``, ``reopened``, ``reviewed``, ``critical_errors``, ``passes``, ``fails``), default
    the denominator; for backlog-now/workload one of unassigned, breached, due_within_1h,
    due_within_4h, open_escalations. Returns cases (``case_id`` first) or, for quality and
    qa-criteria, reviews (``review_id``, ``case_id``), sorted by time and id.

    ``largest=(column, n)`` keeps only the ``n`` rows with the largest ``column`` (ties: the
    smaller id first; nulls last), e.g. ``largest=("handle_seconds", 25)`` for the slowest cases,
    without collecting and sorting the whole population.
    """
    if metric not in TABLES:
        raise MetricError(f"unknown metric {metric!r}; known: {', '.join(TABLES)}")
    td = TABLES[metric]
    for k in selection:
        if k not in td.allowed_by:
            raise MetricError(f"{metric}: cannot select on {k!r}; use any of: {', '.join(td.allowed_by)}")
    v = view(ds, f)
    if metric == "flow":
        pop = _flow_population(v, measure, selection)
    else:
        pop = _population(ds, v, metric, measure, pass_mark)
    by = tuple(selection)
    pop = with_time_keys(pop, "ts", by, v.tz) if "ts" in pop.collect_schema().names() else pop
    for k, val in selection.items():
        if val is None:
            pop = pop.filter(pl.col(k).is_null())
        elif k in ("date", "week"):
            pop = pop.filter(pl.col(k) == _as_date(val))
        else:
            pop = pop.filter(pl.col(k) == str(val))
    if largest is not None:
        col, n = largest
        ids = [c for c in ("review_id", "case_id") if c in pop.collect_schema().names()][:1]
        pop = pop.sort([col, *ids], descending=[True, *[False] * len(ids)], nulls_last=True).head(n)
    df = pop.collect()
    first = ["review_id", "case_id"] if "review_id" in df.columns else ["case_id"]
    if metric == "qa-criteria":
        first = ["review_id", "criterion"]
    order = [c for c in ("ts", *first) if c in df.columns]
    keep = [c for c in df.columns if not c.startswith("_")]
    return df.sort(order).select(*first, *[c for c in keep if c not in first])


def cases_behind_each(
    ds: Dataset,
    f: Filter,
    metric: str,
    measures: Sequence[str | None],
    *,
    pass_mark: float = t.DEFAULT_PASS_MARK,
    **selection: Any,
) -> dict[str | None, pl.DataFrame]:
    """:func:`cases_behind` for several measures of one rate table (``backlog-now``,
    ``workload``, ``sla``, ``escalations``, ``reopens``, ``quality``), the population found once:
    each frame equals the one ``cases_behind(ds, f, metric, measure, ...)`` returns.

    >>> lists = cases_behind_each(ds, f, "backlog-now", ("breached", "due_within_4h"))  # doctest: +SKIP
    """
    rates = _rate_measures(pass_mark)
    if metric not in rates:
        raise MetricError(f"{metric}: not a rate table; use one of: {', '.join(rates)}")
    conds = rates[metric][1]
    for ms in measures:
        if ms is not None and ms not in conds:
            raise MetricError(f"{metric}: unknown measure {ms!r}; use one of: {', '.join(conds)}")
    whole = cases_behind(ds, f, metric, None, pass_mark=pass_mark, **selection)
    out: dict[str | None, pl.DataFrame] = {}
    for ms in measures:
        cond = conds.get(ms) if ms is not None else None
        out[ms] = whole if cond is None else whole.filter(cond)
    return out


def _flow_population(v: View, measure: str | None, selection: dict[str, Any]) -> pl.LazyFrame:
    if measure == "inflow":
        return t.pop_created(v)
    if measure == "outflow":
        return t.pop_resolved(v)
    if measure != "backlog":
        raise MetricError("flow: choose measure='inflow', 'outflow' or 'backlog'")
    # backlog at the end of the selected day (or of the week's last window day)
    last = v.last_day()
    if "date" in selection:
        day = _as_date(selection.pop("date"))
    elif "week" in selection:
        day = min(_as_date(selection.pop("week")) + dt.timedelta(days=6), v.f.end, last)
    else:
        day = min(v.f.end, last)
    end = min(v.f.midnight_utc(day + dt.timedelta(days=1)), v.as_of)
    return t.pop_open_at(v, end)


# --------------------------------------------------------------------------------------------
# week over week
# --------------------------------------------------------------------------------------------


def trend(
    ds: Dataset,
    f: Filter,
    key: str,
    keys: tuple[str, ...] = (),
    *,
    pass_mark: float = t.DEFAULT_PASS_MARK,
    whole_table: bool = True,
) -> pl.DataFrame:
    """Metric ``key`` (a ``DEFINITIONS`` key) by week over the window, with the change against the
    previous week and XmR control limits over the previous 8 weeks (see
    :func:`tsdash.metrics.stats.week_over_week`). The history is computed from whole weeks before
    the window (it starts 8 weeks before the Monday of the window start), so the first weeks of the
    window have limits too; each window week's ``value`` (and so its change and flag) counts only
    the window's days, like every other table. Columns: ``keys``, week, value, previous, change, mr_bar, change_limit,
    lower, upper, flag, partial (the week is cut by the window or still running at as-of).

    ``whole_table`` (default) computes the metric's whole table, which the other metrics of that
    table share (one table serves the AHT, median and p90 trends); False computes the metric's
    column alone where its table can (the AHT by queue without the quantiles by queue): the
    values are the same either way.
    """
    from tsdash.metrics.stats import LOOKBACK_WEEKS, week_over_week

    m = DEFINITIONS[key]
    td = TABLES[m.table]
    if "week" not in td.allowed_by:
        raise MetricError(f"{key} is a snapshot at as-of; it has no weekly trend")
    monday = f.start - dt.timedelta(days=f.start.weekday())
    f = pin(f)
    ext = f.with_(start=monday - dt.timedelta(weeks=LOOKBACK_WEEKS))
    values = None if whole_table else (m.column,)
    table = td.compute(ds, ext, (*keys, "week"), detail=m.detail_only, pass_mark=pass_mark, values=values)
    wow = week_over_week(table.rename({m.column: "value"}), "value", keys=keys)
    # The history is whole weeks, but the window's own weeks hold only the window's days (a first
    # week the window cuts must not show days before the window): take each window week's value
    # from the window's table and recompute its change and flag against the same limits.
    on = [*keys, "week"]
    win = td.compute(ds, f, on, detail=m.detail_only, pass_mark=pass_mark, values=values).select(
        *on, pl.col(m.column).alias("_v")
    )
    part = t.weeks(f).select("week", "partial")
    change = pl.col("value") - pl.col("previous")
    return (
        wow.filter(pl.col("week") >= monday)
        .join(win, on=on, how="inner", nulls_equal=True)
        .with_columns(pl.col("_v").cast(wow.schema["value"]).alias("value"))
        .drop("_v")
        .with_columns(change.cast(wow.schema["change"]).alias("change"))
        .with_columns(
            pl.when(pl.col("change_limit").is_not_null() & pl.col("change").is_not_null())
            .then(pl.col("change").abs() > pl.col("change_limit"))
            .alias("flag")
        )
        .join(part, on="week", how="left")
        .with_columns(pl.col("partial").fill_null(True))
        .with_columns(_possible("lower", m.unit), _possible("upper", m.unit))
        .sort(on, nulls_last=True)
    )


# The values a metric of each unit can take: a band drawn or read as "normal range -3 to 12
# cases" or "80% to 104%" would be nonsense. (The flag uses the unclipped change limit.)
_RANGE = {"share": (0.0, 1.0), "score": (0.0, 100.0)}


def _possible(col: str, unit: str) -> pl.Expr:
    lo, hi = _RANGE.get(unit, (0.0, None))
    return pl.col(col).clip(lower_bound=lo, upper_bound=hi)
