"""An independent implementation: the six default tables written in DuckDB SQL from the definitions
in docs/METRICS.md, on data tsdash has never seen (the demo generator with an unusual seed and anchor,
and a separate random generator with nulls, unassigned cases, explicit due times and odd priorities),
must equal tsdash's tables.

The SQL shares no code with tsdash: it reads the raw frames, derives team and due time itself, applies
as-of masking and the window by local dates (ICU time zones), and counts the backlog of each day
directly from its definition (not by cumulative sums).
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsdash.dataset import normalize
from tsdash.metrics import TABLES, Filter

UTC = dt.UTC
NOW = dt.datetime(2026, 5, 17, 15, 37, 11, tzinfo=UTC)


def random_tables(seed: int, n: int = 4000) -> dict[str, pl.DataFrame]:
    """Random but plausible data, independent of tsdash.demo."""
    rng = np.random.default_rng(seed)
    start = NOW - dt.timedelta(days=50)
    us = 1_000_000
    created = np.sort(rng.integers(0, 50 * 86400 * us, n))
    agents = [f"ag{i}" for i in range(9)]
    assigned = np.where(rng.random(n) < 0.15, None, rng.choice(agents, n)).astype(object)
    resolve_delay = rng.lognormal(np.log(20 * 3600), 1.2, n).astype(np.int64) * us // 1000 * 1000
    resolved = np.where(rng.random(n) < 0.85, created + resolve_delay, -1)
    fr = np.where(rng.random(n) < 0.9, created + (resolve_delay * rng.random(n)).astype(np.int64), -1)
    esc_mask = rng.random(n) < 0.1
    esc = np.where(esc_mask, created + (rng.random(n) * 3 * 86400 * us).astype(np.int64), -1)
    esc_res = np.where(
        esc_mask & (rng.random(n) < 0.7), esc + (rng.random(n) * 2 * 86400 * us).astype(np.int64), -1
    )
    explicit_due = np.where(
        rng.random(n) < 0.1, created + (rng.random(n) * 10 * 3600 * us).astype(np.int64), -1
    )
    handle = np.where(rng.random(n) < 0.8, np.round(rng.lognormal(np.log(600), 0.8, n), 3), np.nan)

    def ts(a):
        return pl.Series(
            [None if v < 0 else start + dt.timedelta(microseconds=int(v)) for v in a],
            dtype=pl.Datetime("us", "UTC"),
        )

    cases = pl.DataFrame(
        {
            "case_id": [f"k{i:05d}" for i in range(n)],
            "created_at": ts(created),
            "queue": rng.choice(["alpha", "beta", "gamma", "delta"], n),
            "priority": pl.Series(rng.choice(["urgent", "high", "normal", "low", "p9", ""], n)).replace(
                "", None
            ),
            "assigned_agent_id": pl.Series(assigned, dtype=pl.String),
            "first_response_at": ts(fr),
            "resolved_at": ts(resolved),
            "handle_seconds": pl.Series(handle).fill_nan(None),
            "escalated_at": ts(esc),
            "escalation_resolved_at": ts(esc_res),
            "sla_due_at": ts(explicit_due),
            "reopened_count": rng.poisson(0.05, n),
        }
    )
    res = cases.filter(
        pl.col("resolved_at").is_not_null() & pl.col("assigned_agent_id").is_not_null()
    ).sample(fraction=0.12, seed=seed)
    reviews = res.select(
        pl.format("rv{}", pl.col("case_id")).alias("review_id"),
        "case_id",
        pl.col("assigned_agent_id").alias("agent_id"),
        (pl.col("resolved_at") + pl.duration(hours=pl.lit(rng.integers(1, 96)))).alias("reviewed_at"),
        pl.Series(np.round(rng.uniform(40, 100, res.height), 1)).alias("score"),
        pl.Series(rng.random(res.height) < 0.06).alias("critical_error"),
    )
    agent_df = pl.DataFrame(
        {"agent_id": agents, "name": agents, "team": ["red"] * 3 + ["green"] * 3 + ["blue"] * 3}
    )
    return {"agents": agent_df, "cases": cases, "qa_reviews": reviews}


def demo_tables() -> dict[str, pl.DataFrame]:
    from tsdash.demo import generate

    return generate(days=40, agents=10, seed=424242, now=NOW)


@pytest.fixture(scope="module", params=["demo", "random"])
def data(request):
    raw = demo_tables() if request.param == "demo" else random_tables(99)
    return raw, normalize(raw)


# ---------------------------------------------------------------------------------------------
# the SQL implementation
# ---------------------------------------------------------------------------------------------


def _lit(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def sql_tables(raw: dict[str, pl.DataFrame], f: Filter, pass_mark: float = 80.0) -> dict[str, pl.DataFrame]:
    con = duckdb.connect()
    con.sql("SET TimeZone = 'UTC'")
    cases, agents = raw["cases"], raw["agents"]
    reviews = raw.get("qa_reviews")
    con.register("raw_cases", cases.to_arrow())
    con.register("agents", agents.to_arrow())
    if reviews is None:
        reviews = pl.DataFrame(
            schema={
                "review_id": pl.String,
                "case_id": pl.String,
                "agent_id": pl.String,
                "reviewed_at": pl.Datetime("us", "UTC"),
                "score": pl.Float64,
                "critical_error": pl.Boolean,
            }
        )
    con.register("raw_reviews", reviews.to_arrow())
    tz = f.tz
    asof = f.as_of.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    A = f"TIMESTAMPTZ '{asof}'"
    start, end = f.start.isoformat(), f.end.isoformat()

    def local(col: str) -> str:
        return f"CAST(timezone('{tz}', {col}) AS DATE)"

    def week(col: str) -> str:
        return f"CAST(date_trunc('week', {local(col)}) AS DATE)"

    def inwin(col: str) -> str:
        return f"({col} IS NOT NULL AND {local(col)} BETWEEN DATE '{start}' AND DATE '{end}')"

    if "escalated" in cases.columns:
        esc = f"(COALESCE(k.escalated, k.escalated_at IS NOT NULL) AND NOT COALESCE(k.escalated_at >= {A}, false))"
    else:
        esc = f"(k.escalated_at IS NOT NULL AND k.escalated_at < {A})"
    due_col = "k.sla_due_at" if "sla_due_at" in cases.columns else "NULL"
    where = [f"k.created_at < {A}"]
    if f.teams:
        where.append(f"a.team IN ({_lit(f.teams)})")
    if f.agents:
        where.append(f"k.assigned_agent_id IN ({_lit(f.agents)})")
    if f.queues:
        where.append(f"k.queue IN ({_lit(f.queues)})")
    if f.priorities:
        where.append(f"k.priority IN ({_lit(f.priorities)})")

    def mask(col: str) -> str:
        return f"CASE WHEN k.{col} < {A} THEN k.{col} END AS {col}"

    con.sql(f"""
        CREATE TEMP VIEW c AS
        SELECT k.case_id, k.queue, k.priority, k.assigned_agent_id AS agent_id, a.team, k.created_at,
               {mask("resolved_at")}, {mask("first_response_at")}, k.handle_seconds, {esc} AS escalated,
               COALESCE({due_col}, k.created_at + to_hours(CAST(CASE k.priority
                   WHEN 'urgent' THEN 4 WHEN 'high' THEN 24 WHEN 'normal' THEN 48 WHEN 'low' THEN 120
                   ELSE 48 END AS BIGINT))) AS due_at
        FROM raw_cases k LEFT JOIN agents a ON a.agent_id = k.assigned_agent_id
        WHERE {" AND ".join(where)}
    """)
    rwhere = [f"r.reviewed_at < {A}"]
    if f.teams:
        rwhere.append(f"a.team IN ({_lit(f.teams)})")
    if f.agents:
        rwhere.append(f"r.agent_id IN ({_lit(f.agents)})")
    if f.queues:
        rwhere.append(f"k.queue IN ({_lit(f.queues)})")
    if f.priorities:
        rwhere.append(f"k.priority IN ({_lit(f.priorities)})")
    con.sql(f"""
        CREATE TEMP VIEW r AS
        SELECT r.*, a.team FROM raw_reviews r
        LEFT JOIN agents a ON a.agent_id = r.agent_id
        LEFT JOIN raw_cases k ON k.case_id = r.case_id
        WHERE {" AND ".join(rwhere)}
    """)

    out: dict[str, pl.DataFrame] = {}
    # flow: days from max(start, first created day) to min(end, as-of day); backlog counted directly
    lo, hi = con.sql(f"""
        SELECT greatest(DATE '{start}', min({local("created_at")})),
               least(DATE '{end}', CAST(timezone('{tz}', {A} - INTERVAL 1 MICROSECOND) AS DATE))
        FROM c
    """).fetchall()[0]
    if lo is None or lo > hi:
        out["flow"] = pl.DataFrame(
            schema={"date": pl.Date, "inflow": pl.Int64, "outflow": pl.Int64, "backlog": pl.Int64}
        )
    else:
        out["flow"] = con.sql(f"""
            WITH days AS (
                SELECT CAST(d AS DATE) AS date FROM generate_series(TIMESTAMP '{lo}', TIMESTAMP '{hi}', INTERVAL 1 DAY) g(d)
            ), ends AS (
                SELECT date, least(timezone('{tz}', CAST(date + 1 AS TIMESTAMP)), {A}) AS t FROM days
            )
            SELECT e.date,
                   (SELECT count(*) FROM c WHERE {local("c.created_at")} = e.date) AS inflow,
                   (SELECT count(*) FROM c WHERE {local("c.resolved_at")} = e.date) AS outflow,
                   (SELECT count(*) FROM c WHERE c.created_at < e.t AND (c.resolved_at IS NULL OR c.resolved_at >= e.t))
                       AS backlog
            FROM ends e ORDER BY e.date
        """).pl()
    out["handle-time"] = con.sql(f"""
        SELECT agent_id, {week("resolved_at")} AS week, count(*) AS cases, avg(handle_seconds) AS aht_s,
               quantile_cont(handle_seconds, 0.5) AS median_s, quantile_cont(handle_seconds, 0.9) AS p90_s
        FROM c WHERE {inwin("resolved_at")} AND handle_seconds IS NOT NULL
        GROUP BY ALL ORDER BY agent_id NULLS LAST, week
    """).pl()
    out["quality"] = con.sql(f"""
        SELECT agent_id, {week("reviewed_at")} AS week, count(*) AS reviews, avg(score) AS mean_score,
               avg(CASE WHEN score >= {pass_mark} AND NOT COALESCE(critical_error, false) THEN 1.0 ELSE 0.0 END)
                   AS pass_rate,
               count(*) FILTER (WHERE critical_error) AS critical_errors
        FROM r WHERE {inwin("reviewed_at")}
        GROUP BY ALL ORDER BY agent_id NULLS LAST, week
    """).pl()
    out["escalations"] = con.sql(f"""
        SELECT {week("created_at")} AS week, count(*) AS created, count(*) FILTER (WHERE escalated) AS escalated,
               count(*) FILTER (WHERE escalated) / count(*) AS escalation_rate
        FROM c WHERE {inwin("created_at")} GROUP BY ALL ORDER BY week
    """).pl()
    out["sla"] = con.sql(f"""
        SELECT {week("resolved_at")} AS week, count(*) AS resolved,
               count(*) FILTER (WHERE resolved_at <= due_at) AS within_sla,
               count(*) FILTER (WHERE resolved_at <= due_at) / count(*) AS sla_attainment
        FROM c WHERE {inwin("resolved_at")} GROUP BY ALL ORDER BY week
    """).pl()
    out["backlog-now"] = con.sql(f"""
        SELECT queue, priority, count(*) AS open, count(*) FILTER (WHERE agent_id IS NULL) AS unassigned,
               count(*) FILTER (WHERE due_at < {A}) AS breached, max(epoch({A} - created_at)) AS oldest_age_s
        FROM c WHERE resolved_at IS NULL
        GROUP BY ALL ORDER BY queue NULLS LAST, priority NULLS LAST
    """).pl()
    con.close()
    return out


def assert_same(name: str, ours: pl.DataFrame, theirs: pl.DataFrame) -> None:
    assert ours.columns == theirs.columns, name
    assert ours.height == theirs.height, (name, ours.height, theirs.height)
    for col in ours.columns:
        a, b = ours[col].to_list(), theirs[col].to_list()
        if ours.schema[col] == pl.Float64:
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                assert (x is None) == (y is None), (name, col, i, x, y)
                if x is not None:
                    assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6), (name, col, i, x, y)
        else:
            assert a == [
                (int(v) if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else v) for v in b
            ], (
                name,
                col,
            )


SIX = ("flow", "handle-time", "quality", "escalations", "sla", "backlog-now")

SCENARIOS = {
    # a window that starts mid-week, in a DST-observing zone, as-of inside the last day
    "berlin-midweek": dict(start=dt.date(2026, 4, 15), end=dt.date(2026, 5, 17), tz="Europe/Berlin",
                           as_of=dt.datetime(2026, 5, 17, 9, 30, tzinfo=UTC)),
    # all data, US zone with the March DST change, as-of after the data
    "newyork-all": dict(start=dt.date(2026, 3, 1), end=dt.date(2026, 6, 1), tz="America/New_York",
                        as_of=dt.datetime(2026, 6, 1, tzinfo=UTC)),
    # a short window, frozen in the past, odd offset zone
    "kathmandu-frozen": dict(start=dt.date(2026, 4, 20), end=dt.date(2026, 4, 26), tz="Asia/Kathmandu",
                             as_of=dt.datetime(2026, 4, 24, 17, 3, 59, tzinfo=UTC)),
}  # fmt: skip


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_six_tables_equal_sql(data, scenario):
    raw, ds = data
    f = Filter(**SCENARIOS[scenario])
    expected = sql_tables(raw, f)
    for name in SIX:
        ours = TABLES[name].compute(ds, f)
        assert ours.height > 0, name  # the scenario exercises the table
        assert_same(name, ours, expected[name])


def test_six_tables_equal_sql_with_filters(data):
    raw, ds = data
    teams = sorted(set(ds.agents["team"].to_list()))[:2]
    queues = sorted(set(ds.cases["queue"].to_list()))[:3]
    f = Filter(dt.date(2026, 4, 1), dt.date(2026, 5, 10), tz="Europe/Lisbon",
               as_of=dt.datetime(2026, 5, 12, tzinfo=UTC), teams=tuple(teams), queues=tuple(queues),
               priorities=("urgent", "high", "normal"))  # fmt: skip
    expected = sql_tables(raw, f)
    for name in SIX:
        assert_same(name, TABLES[name].compute(ds, f), expected[name])


@pytest.fixture(scope="module")
def demo_data():
    raw = demo_tables()
    return raw, normalize(raw)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.dates(min_value=dt.date(2026, 3, 25), max_value=dt.date(2026, 5, 25)),
    days=st.integers(min_value=0, max_value=30),
    tz=st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles", "Australia/Lord_Howe"]),
    as_of_h=st.integers(min_value=-24 * 30, max_value=24 * 5),
)
def test_any_window_equals_sql(demo_data, start, days, tz, as_of_h):
    raw, ds = demo_data
    f = Filter(start, start + dt.timedelta(days=days), tz=tz, as_of=NOW + dt.timedelta(hours=as_of_h))
    expected = sql_tables(raw, f)
    for name in SIX:
        assert_same(name, TABLES[name].compute(ds, f), expected[name])
