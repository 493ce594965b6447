"""Numbers for the Live workload page that the core tables do not give directly.

Pure functions over a :class:`~tsdash.dataset.Dataset` and a :class:`~tsdash.metrics.Filter`
(no Streamlit), built from the engine's own populations and tables so that every count adds up
to the engine's:

- :func:`open_age` -- the ``open-age`` report: cases open at as-of by age bucket (definition
  ``open_by_age``; buckets :data:`AGE_BUCKETS`) and priority.
- :func:`agent_load` -- the ``agent-load`` report: per agent the open assigned cases (the
  ``workload`` table), at risk (definition ``at_risk``), resolved today and AHT today (the
  ``throughput`` and ``handle-time`` tables over the as-of day) and the flag above the team's
  normal load (definition ``above_normal_load``, limit :func:`normal_load_limit`).
- Lists over the engine's drill-down rows (``cases_behind(ds, f, "backlog-now", ...)``):
  :func:`oldest_first`, :func:`due_soonest`, :func:`in_age_bucket`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from tsdash.dataset import Dataset
from tsdash.metrics import tables as t
from tsdash.metrics.core import CASE_KEYS, MetricError, check_by, empty_table, finish, pin, view
from tsdash.metrics.filters import Filter

F64 = pl.Float64()
I64 = pl.Int64()
HOUR = 3600.0
DAY = 86400.0

# (label, lower bound in seconds (inclusive), upper bound (exclusive) or None)
AGE_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("< 4 h", 0.0, 4 * HOUR),
    ("4-24 h", 4 * HOUR, DAY),
    ("1-3 d", DAY, 3 * DAY),
    ("3-7 d", 3 * DAY, 7 * DAY),
    (">= 7 d", 7 * DAY, None),
)
AGE_BUCKET_LABELS: tuple[str, ...] = tuple(b[0] for b in AGE_BUCKETS)
OPEN_AGE_BY: tuple[str, ...] = ("age_bucket", *CASE_KEYS)
OPEN_AGE_DEFAULT_BY: tuple[str, ...] = ("age_bucket", "priority")
OPEN_AGE_VALUES: tuple[str, ...] = ("open",)

LOAD_BY: tuple[str, ...] = ("agent_id",)
LOAD_VALUES: tuple[str, ...] = (
    "open",
    "at_risk",
    "resolved_today",
    "aht_today_s",
    "normal_load_limit",
    "above_normal_load",
)
LOAD_DETAIL: tuple[str, ...] = (
    "team",
    "active",
    "breached",
    "due_within_4h",
    "oldest_age_s",
    "team_agents",
    "team_median",
    "team_iqr",
)
MIN_TEAM_AGENTS = 4  # fewer active agents give no meaningful quartiles: no limit, no flag
IQR_FACTOR = 1.5


# --------------------------------------------------------------------------------------------
# open cases by age
# --------------------------------------------------------------------------------------------


def age_bucket(age_s: pl.Expr | str = "age_s") -> pl.Expr:
    """The :data:`AGE_BUCKETS` label of an age in seconds (a bound belongs to the older bucket).

    >>> pl.DataFrame({"age_s": [0.0, 14_399.0, 14_400.0, 86_400.0, 604_800.0]}).select(
    ...     age_bucket()).to_series().to_list()
    ['< 4 h', '< 4 h', '4-24 h', '1-3 d', '>= 7 d']
    """
    e = pl.col(age_s) if isinstance(age_s, str) else age_s
    out = pl.lit(None, dtype=pl.String)
    for label, lo, _hi in AGE_BUCKETS:  # later (older) buckets win
        out = pl.when(e >= lo).then(pl.lit(label)).otherwise(out)
    return out.alias("age_bucket")


def _bucket_order(col: str = "age_bucket") -> pl.Expr:
    return pl.col(col).replace_strict(
        {b: i for i, b in enumerate(AGE_BUCKET_LABELS)}, default=len(AGE_BUCKET_LABELS), return_dtype=I64
    )


def open_age(
    ds: Dataset, f: Filter, by: Sequence[str] | None = None, *, detail: bool = False
) -> pl.DataFrame:
    """Cases open at as-of by age bucket and priority (default): ``open``. Rows only for groups
    with an open case; buckets in age order (youngest first), then the other keys. The date
    window does not apply (a snapshot)."""
    by = check_by("open-age", OPEN_AGE_DEFAULT_BY if by is None else by, OPEN_AGE_BY)
    v = view(ds, f)
    pop = t.pop_open(v).with_columns(age_bucket())
    values: dict[str, pl.DataType] = {"open": I64}
    aggs = [pl.len().cast(pl.Int64).alias("open")]
    if detail:
        aggs.append(pl.col("age_s").max().alias("oldest_age_s"))
        values["oldest_age_s"] = F64
    g = pop.group_by(list(by)).agg(aggs) if by else pop.select(aggs)
    out = finish(g.filter(pl.col("open") > 0), by, values)
    if "age_bucket" in by and out.height:
        rest = [k for k in by if k != "age_bucket"]
        out = out.with_columns(_bucket_order().alias("_o")).sort(["_o", *rest], nulls_last=True).drop("_o")
    return out


def in_age_bucket(cases: pl.DataFrame, bucket: str) -> pl.DataFrame:
    """The rows of ``cases`` (with ``age_s``, e.g. from ``cases_behind(..., "backlog-now")``)
    whose age falls in ``bucket`` (a label of :data:`AGE_BUCKETS`)."""
    if bucket not in AGE_BUCKET_LABELS:
        raise MetricError(f"unknown age bucket {bucket!r}; use one of: {', '.join(AGE_BUCKET_LABELS)}")
    return cases.filter(age_bucket() == bucket)


# --------------------------------------------------------------------------------------------
# per-agent load
# --------------------------------------------------------------------------------------------


def today(f: Filter) -> dt.date:
    """The local date (display zone) of the as-of instant: "today" on the Live page."""
    return pin(f).resolved_as_of().astimezone(f.zone).date()


def normal_load_limit(open_counts: Sequence[float]) -> float | None:
    """median + 1.5 x IQR of the open counts of a team's active agents (quartiles by linear
    interpolation, position 1 + q (n - 1)); None with fewer than :data:`MIN_TEAM_AGENTS` agents.

    >>> normal_load_limit([0, 2, 3, 5, 12])  # median 3, quartiles 2 and 5
    7.5
    >>> normal_load_limit([4, 9, 30]) is None
    True
    """
    s = pl.Series([float(x) for x in open_counts], dtype=pl.Float64)
    if s.len() < MIN_TEAM_AGENTS:
        return None
    q1 = s.quantile(0.25, interpolation="linear")
    q3 = s.quantile(0.75, interpolation="linear")
    return float(s.median()) + IQR_FACTOR * (q3 - q1)  # type: ignore[operator]


def agent_load(
    ds: Dataset,
    f: Filter,
    by: Sequence[str] | None = None,
    *,
    detail: bool = False,
    all_agents: bool = False,
) -> pl.DataFrame:
    """Live load per agent at as-of: agent_id | open, at_risk, resolved_today, aht_today_s,
    normal_load_limit, above_normal_load.

    ``open`` is the ``workload`` table's open assigned cases; ``at_risk`` its breached plus due
    within 4 h (they do not overlap); ``resolved_today`` and ``aht_today_s`` are the
    ``throughput`` and ``handle-time`` tables over today (local midnight of the as-of day to
    as-of). The normal-load limit of a team is :func:`normal_load_limit` over the open counts of
    the team's active agents, with the same case filters but whatever the agent filter (so an
    agent is compared with the whole team); ``above_normal_load`` is open > limit, null without
    a limit (no team, or fewer than :data:`MIN_TEAM_AGENTS` active agents).

    Rows: agents with something open or resolved today (``all_agents=True``: also the active
    agents with neither, as the workload table lists them), by agent id. ``detail=True`` adds
    team, active, breached, due_within_4h, oldest_age_s, team_agents, team_median, team_iqr.
    """
    by = check_by("agent-load", LOAD_BY if by is None else by, LOAD_BY)
    f = pin(f)
    values: dict[str, pl.DataType] = {
        "open": I64,
        "at_risk": I64,
        "resolved_today": I64,
        "aht_today_s": F64,
        "normal_load_limit": F64,
        "above_normal_load": pl.Boolean(),
    }
    detail_values: dict[str, pl.DataType] = {
        "team": pl.String(),
        "active": pl.Boolean(),
        "breached": I64,
        "due_within_4h": I64,
        "oldest_age_s": F64,
        "team_agents": I64,
        "team_median": F64,
        "team_iqr": F64,
    }
    schema = {**values, **detail_values} if detail else values
    if not by:
        return empty_table((), schema)

    agents = ds.agents.select("agent_id", "team", pl.col("active").fill_null(True)).unique(
        "agent_id", keep="first"
    )
    w = t.workload(ds, f, ("agent_id",))
    day = today(f)
    fd = f.with_(start=day, end=day)
    done = t.throughput(ds, fd, ("agent_id",)).select("agent_id", pl.col("resolved").alias("resolved_today"))
    aht = t.handle_time(ds, fd, ("agent_id",)).select("agent_id", pl.col("aht_s").alias("aht_today_s"))

    # the team's normal load: all active agents of the team, whatever the agent filter
    team_open = (
        (t.workload(ds, f.with_(agents=()), ("agent_id",)) if f.agents else w)
        .join(agents, on="agent_id", how="inner")
        .filter(pl.col("active") & pl.col("team").is_not_null())
    )
    norms = []
    for (team,), grp in team_open.group_by(["team"]):
        counts = grp["open"].to_list()
        s = pl.Series(counts, dtype=pl.Float64)
        norms.append(
            {
                "team": team,
                "team_agents": len(counts),
                "team_median": float(s.median()) if counts else None,  # type: ignore[arg-type]
                "team_iqr": (
                    float(s.quantile(0.75, interpolation="linear") - s.quantile(0.25, interpolation="linear"))  # type: ignore[operator]
                    if counts
                    else None
                ),
                "normal_load_limit": normal_load_limit(counts),
            }
        )
    norm = pl.DataFrame(
        norms,
        schema={
            "team": pl.String,
            "team_agents": pl.Int64,
            "team_median": pl.Float64,
            "team_iqr": pl.Float64,
            "normal_load_limit": pl.Float64,
        },
    )

    out = (
        w.join(done, on="agent_id", how="full", coalesce=True)
        .join(aht, on="agent_id", how="left")
        .join(agents, on="agent_id", how="left")
        .join(norm, on="team", how="left")
        .with_columns(
            pl.col("open", "breached", "due_within_4h", "resolved_today").fill_null(0),
        )
        .with_columns(
            (pl.col("breached") + pl.col("due_within_4h")).alias("at_risk"),
            (pl.col("open") > pl.col("normal_load_limit")).alias("above_normal_load"),
        )
    )
    if not all_agents:
        out = out.filter((pl.col("open") > 0) | (pl.col("resolved_today") > 0))
    return finish(out, by, schema)


# --------------------------------------------------------------------------------------------
# case lists over cases_behind(...) rows
# --------------------------------------------------------------------------------------------


def oldest_first(cases: pl.DataFrame, *, limit: int | None = None) -> pl.DataFrame:
    """Cases by created_at ascending (oldest first), ties by case_id."""
    out = cases.sort(["created_at", "case_id"], nulls_last=True)
    return out.head(limit) if limit is not None else out


def due_soonest(cases: pl.DataFrame, as_of: dt.datetime, *, limit: int | None = None) -> pl.DataFrame:
    """Open cases not yet breached (due_at >= as-of), soonest due first, with ``due_in_s`` =
    due_at - as-of. ``cases`` are open cases at ``as_of`` (``cases_behind(..., "backlog-now")``)."""
    out = (
        cases.filter(pl.col("due_at") >= as_of)
        .with_columns(t.seconds("due_at", pl.lit(as_of)).alias("due_in_s"))
        .sort(["due_at", "case_id"], nulls_last=True)
    )
    return out.head(limit) if limit is not None else out


__all__ = [
    "AGE_BUCKETS",
    "AGE_BUCKET_LABELS",
    "IQR_FACTOR",
    "LOAD_BY",
    "LOAD_VALUES",
    "MIN_TEAM_AGENTS",
    "OPEN_AGE_BY",
    "OPEN_AGE_VALUES",
    "age_bucket",
    "agent_load",
    "due_soonest",
    "in_age_bucket",
    "normal_load_limit",
    "oldest_first",
    "open_age",
    "today",
]
