"""The pandas baseline: the six default tables written the way most Streamlit dashboards are,
in idiomatic pandas -- Parquet reads of the needed columns through pyarrow (pandas 3 defaults:
pyarrow-backed ``str`` columns, ``datetime64[us, UTC]`` timestamps), vectorised column
operations and ``groupby``, no Python loops over rows.

(``dtype_backend="pyarrow"`` would make the timestamps ``ArrowDtype`` too; with pandas 3.1 every
conversion of those to datetime64 for ``.dt`` work costs about 2 s per million rows, a trap a
baseline should not fall into, so the defaults are used.)

It implements the definitions of docs/METRICS.md for the default groupings, a window of local
dates in a display time zone, an as-of instant and the SLA targets (with per-queue overrides),
without any tsdash code, and reads the Parquet files of a ``tsdash demo --out FOLDER`` export.
``benchmarks/run.py`` checks that it gives the same numbers as tsdash on the benchmark data;
``tests/test_bench_refs.py`` checks it on a small generated dataset.

    from benchmarks.pandas_ref import Params, TABLES
    df = TABLES["flow"](Params(folder, start, end, tz, as_of))   # a pandas DataFrame
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_TARGETS = {"urgent": 4.0, "high": 24.0, "normal": 48.0, "low": 120.0}


@dataclass(frozen=True)
class Params:
    folder: Path | None  # the Parquet folder; None: read from ``frames``
    start: dt.date  # first local day (inclusive)
    end: dt.date  # last local day (inclusive)
    tz: str
    as_of: dt.datetime  # aware
    targets: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    other_hours: float = 48.0
    queue_overrides: dict[str, dict[str, float]] = field(default_factory=dict)
    pass_mark: float = 80.0
    frames: dict[str, pd.DataFrame] | None = None  # in memory (the "warm" measurements)

    def read(self, table: str, columns: list[str]) -> pd.DataFrame:
        """The columns of a table: from its Parquet file, or from the frames in memory."""
        if self.frames is not None:
            return self.frames[table][columns]
        return pd.read_parquet(self.folder / f"{table}.parquet", columns=columns)

    @property
    def asof(self) -> pd.Timestamp:
        return pd.Timestamp(self.as_of).tz_convert("UTC")

    def midnight(self, day: dt.date) -> pd.Timestamp:
        return pd.Timestamp(day).tz_localize(self.tz).tz_convert("UTC")

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.midnight(self.start), self.midnight(self.end + dt.timedelta(days=1))


# ------------------------------------------------------------------------------ reading


def read_cases(p: Params, columns: list[str]) -> pd.DataFrame:
    """Cases that exist at as-of, with the as-of masking of docs/METRICS.md applied."""
    cols = list(dict.fromkeys(["created_at", *columns]))
    df = p.read("cases", cols)
    asof = p.asof
    df = df[df["created_at"] < asof]
    if "escalated" in df.columns:  # escalated before as-of (from the unmasked escalated_at)
        later = (df["escalated_at"] >= asof) if "escalated_at" in df.columns else False
        df["escalated"] = df["escalated"].fillna(False).astype(bool) & ~later
    for c in ("first_response_at", "resolved_at", "escalated_at", "escalation_resolved_at"):
        if c in df.columns:
            df[c] = df[c].where(df[c] < asof)
    return df


def due_at(df: pd.DataFrame, p: Params) -> pd.Series:
    """sla_due_at, else created_at + the target of (queue, priority) (vectorised: one comparison
    per known priority and override, no per-row lookups)."""
    prio, queue = df["priority"], df["queue"]
    conds = [
        ((queue == q) & (prio == pr)).fillna(False).to_numpy(bool)
        for q, per in p.queue_overrides.items()
        for pr in per
    ]
    values = [h for per in p.queue_overrides.values() for h in per.values()]
    conds += [(prio == pr).fillna(False).to_numpy(bool) for pr in p.targets]
    values += list(p.targets.values())
    hours = np.select(conds, values, default=p.other_hours)
    computed = df["created_at"] + pd.to_timedelta(np.round(hours * 3600e6).astype("int64"), unit="us")
    return df["sla_due_at"].fillna(computed)


def local_day(ts: pd.Series, tz: str) -> pd.Series:
    """Local calendar date (as midnight, naive) of UTC timestamps."""
    return ts.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()


def local_week(ts: pd.Series, tz: str) -> pd.Series:
    d = local_day(ts, tz)
    return d - pd.to_timedelta(d.dt.day_of_week, unit="D")


def in_window(ts: pd.Series, p: Params) -> pd.Series:
    lo, hi = p.window
    return (ts >= lo) & (ts < hi)


def _dates(s: pd.Series) -> pd.Series:
    return s.dt.date


def _sort(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return df.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------ tables


def flow(p: Params) -> pd.DataFrame:
    c = read_cases(p, ["resolved_at"])
    if c.empty:
        return pd.DataFrame(columns=["date", "inflow", "outflow", "backlog"])
    last_day = (p.asof - pd.Timedelta(microseconds=1)).tz_convert(p.tz).date()
    first_day = c["created_at"].min().tz_convert(p.tz).date()
    lo, hi = max(p.start, first_day), min(p.end, last_day)
    if lo > hi:
        return pd.DataFrame(columns=["date", "inflow", "outflow", "backlog"])
    m0, m1 = p.midnight(lo), p.midnight(hi + dt.timedelta(days=1))
    days = pd.date_range(lo, hi, freq="D")
    created, resolved = c["created_at"], c["resolved_at"]
    opening = int(((created < m0) & (resolved.isna() | (resolved >= m0))).sum())
    inflow = local_day(created[(created >= m0) & (created < m1)], p.tz).value_counts()
    outflow = local_day(resolved[(resolved >= m0) & (resolved < m1)], p.tz).value_counts()
    out = pd.DataFrame(
        {
            "inflow": inflow.reindex(days, fill_value=0).to_numpy(np.int64),
            "outflow": outflow.reindex(days, fill_value=0).to_numpy(np.int64),
        },
    )
    out["backlog"] = opening + (out["inflow"] - out["outflow"]).cumsum()
    out.insert(0, "date", days.date)
    return out


def _q90(s: pd.Series) -> float:
    return s.quantile(0.9)


def handle_time(p: Params) -> pd.DataFrame:
    c = read_cases(p, ["resolved_at", "assigned_agent_id", "handle_seconds"])
    c = c[in_window(c["resolved_at"], p) & c["handle_seconds"].notna()]
    g = c.assign(
        agent_id=c["assigned_agent_id"],
        week=local_week(c["resolved_at"], p.tz),
        h=c["handle_seconds"].astype("float64"),
    ).groupby(["agent_id", "week"], dropna=False, sort=False)["h"]
    out = pd.DataFrame(
        {
            "cases": g.size(),
            "aht_s": g.mean(),
            "median_s": g.median(),
            "p90_s": g.quantile(0.9),
        }
    ).reset_index()
    out["week"] = _dates(out["week"])
    return _sort(out, ["agent_id", "week"])


def quality(p: Params) -> pd.DataFrame:
    r = p.read("qa_reviews", ["agent_id", "reviewed_at", "score", "critical_error"])
    r = r[(r["reviewed_at"] < p.asof) & in_window(r["reviewed_at"], p)]
    crit = r["critical_error"].fillna(False).astype(bool)
    score = r["score"].astype("float64")
    g = r.assign(
        week=local_week(r["reviewed_at"], p.tz),
        score=score,
        passed=((score >= p.pass_mark).fillna(False) & ~crit).astype("int64"),
        crit=crit.astype("int64"),
    ).groupby(["agent_id", "week"], dropna=False, sort=False)
    out = pd.DataFrame(
        {
            "reviews": g.size(),
            "mean_score": g["score"].mean(),
            "pass_rate": g["passed"].mean(),
            "critical_errors": g["crit"].sum(),
        }
    ).reset_index()
    out["week"] = _dates(out["week"])
    return _sort(out, ["agent_id", "week"])


def escalations(p: Params) -> pd.DataFrame:
    c = read_cases(p, ["escalated", "escalated_at"])
    c = c[in_window(c["created_at"], p)]
    g = pd.DataFrame(
        {"week": local_week(c["created_at"], p.tz), "esc": c["escalated"].astype("int64")}
    ).groupby("week", sort=True)["esc"]
    out = pd.DataFrame({"created": g.size(), "escalated": g.sum()}).reset_index()
    out["escalation_rate"] = out["escalated"] / out["created"]
    out["week"] = _dates(out["week"])
    return out


def sla(p: Params) -> pd.DataFrame:
    c = read_cases(p, ["resolved_at", "queue", "priority", "sla_due_at"])
    c = c[in_window(c["resolved_at"], p)]
    within = (c["resolved_at"] <= due_at(c, p)).astype("int64")
    g = pd.DataFrame({"week": local_week(c["resolved_at"], p.tz), "ok": within}).groupby("week", sort=True)[
        "ok"
    ]
    out = pd.DataFrame({"resolved": g.size(), "within_sla": g.sum()}).reset_index()
    out["sla_attainment"] = out["within_sla"] / out["resolved"]
    out["week"] = _dates(out["week"])
    return out


def backlog_now(p: Params) -> pd.DataFrame:
    c = read_cases(p, ["resolved_at", "queue", "priority", "assigned_agent_id", "sla_due_at"])
    c = c[c["resolved_at"].isna()]
    asof = p.asof
    g = c.assign(
        unassigned=c["assigned_agent_id"].isna().astype("int64"),
        breached=(due_at(c, p) < asof).astype("int64"),
        age_s=(asof - c["created_at"]).dt.total_seconds(),
    ).groupby(["queue", "priority"], dropna=False, sort=False)
    out = pd.DataFrame(
        {
            "open": g.size(),
            "unassigned": g["unassigned"].sum(),
            "breached": g["breached"].sum(),
            "oldest_age_s": g["age_s"].max(),
        }
    ).reset_index()
    return _sort(out, ["queue", "priority"])


def read_all(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables the six reports need, in memory (pass as ``Params(frames=...)``)."""
    return {t: pd.read_parquet(folder / f"{t}.parquet") for t in ("cases", "qa_reviews")}


TABLES = {
    "flow": flow,
    "handle-time": handle_time,
    "quality": quality,
    "escalations": escalations,
    "sla": sla,
    "backlog-now": backlog_now,
}
