"""An independent implementation of the six default tables in DuckDB SQL, written from the
definitions in docs/METRICS.md. It is both the near-limit reference of the benchmarks and the
oracle of ``tests/metrics/test_metrics_duckdb.py`` (one copy, here).

The SQL shares no code with tsdash: it reads the raw tables (Polars frames, or the Parquet files
of a ``tsdash demo --out FOLDER`` export), derives team and due time itself, applies as-of
masking and the window by local dates (ICU time zones), and counts the backlog of each day
directly from its definition (not by cumulative sums).

    con = connect(source, f)             # views c (cases) and r (QA reviews) for filter f
    table(con, "flow", f)                # one table as a Polars frame
    sql_tables(source, f)                # all six
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

UTC = dt.UTC
SIX = ("flow", "handle-time", "quality", "escalations", "sla", "backlog-now")
DEFAULT_TARGETS = {"urgent": 4.0, "high": 24.0, "normal": 48.0, "low": 120.0}

_EMPTY_REVIEWS = {
    "review_id": pl.String,
    "case_id": pl.String,
    "agent_id": pl.String,
    "reviewed_at": pl.Datetime("us", "UTC"),
    "score": pl.Float64,
    "critical_error": pl.Boolean,
}


def _lit(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _num(x: float) -> str:
    return repr(float(x))


def _sla_hours(sla: Any | None) -> str:
    """SQL for the SLA target in hours of k.queue / k.priority; ``sla`` is anything with
    targets_hours, other_hours and queue_overrides (default: the documented defaults)."""
    targets = dict(getattr(sla, "targets_hours", DEFAULT_TARGETS))
    other = float(getattr(sla, "other_hours", 48.0))
    overrides = dict(getattr(sla, "queue_overrides", {}))
    whens = [
        f"WHEN k.queue = '{q.replace(chr(39), chr(39) * 2)}' AND k.priority = '{p.replace(chr(39), chr(39) * 2)}' "
        f"THEN {_num(h)}"
        for q, per in overrides.items()
        for p, h in per.items()
    ]
    whens += [
        f"WHEN k.priority = '{p.replace(chr(39), chr(39) * 2)}' THEN {_num(h)}" for p, h in targets.items()
    ]
    return f"CASE {' '.join(whens)} ELSE {_num(other)} END"


def load_tables(folder: str | Path) -> duckdb.DuckDBPyConnection:
    """A connection holding agents, cases and QA reviews of a Parquet folder as DuckDB tables
    (the "data in memory" state; pass it to :func:`connect`)."""
    con = duckdb.connect()
    folder = Path(folder)
    for name, table in (("raw_cases", "cases"), ("agents", "agents"), ("raw_reviews", "qa_reviews")):
        path = str(folder / f"{table}.parquet").replace("'", "''")
        con.sql(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{path}')")
    return con


def connect(
    source: dict[str, pl.DataFrame] | str | Path | duckdb.DuckDBPyConnection, f, sla: Any | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection with views ``c`` (cases seen through filter ``f``: as-of masking, dimension
    filters, team and due_at) and ``r`` (QA reviews before as-of, filtered).

    ``source`` is a dict of raw Polars frames (agents, cases, optional qa_reviews), a folder of
    Parquet files (agents.parquet, cases.parquet, qa_reviews.parquet) read where they lie, or a
    connection from :func:`load_tables`."""
    if isinstance(source, duckdb.DuckDBPyConnection):
        con = source
    else:
        con = duckdb.connect()
    con.sql("SET TimeZone = 'UTC'")
    if isinstance(source, duckdb.DuckDBPyConnection):
        pass
    elif isinstance(source, dict):
        cases, agents = source["cases"], source["agents"]
        reviews = source.get("qa_reviews")
        if reviews is None:
            reviews = pl.DataFrame(schema=_EMPTY_REVIEWS)
        con.register("raw_cases", cases.to_arrow())
        con.register("agents", agents.to_arrow())
        con.register("raw_reviews", reviews.to_arrow())
    else:
        folder = Path(source)

        def pq(name: str) -> str:
            return "'" + str(folder / f"{name}.parquet").replace("'", "''") + "'"

        con.sql(f"CREATE VIEW raw_cases AS SELECT * FROM read_parquet({pq('cases')})")
        con.sql(f"CREATE VIEW agents AS SELECT * FROM read_parquet({pq('agents')})")
        if (folder / "qa_reviews.parquet").exists():
            con.sql(f"CREATE VIEW raw_reviews AS SELECT * FROM read_parquet({pq('qa_reviews')})")
        else:
            con.register("raw_reviews", pl.DataFrame(schema=_EMPTY_REVIEWS).to_arrow())
    case_cols = {r[0] for r in con.sql("DESCRIBE raw_cases").fetchall()}

    A = _asof(f)
    if "escalated" in case_cols:
        esc = f"(COALESCE(k.escalated, k.escalated_at IS NOT NULL) AND NOT COALESCE(k.escalated_at >= {A}, false))"
    else:
        esc = f"(k.escalated_at IS NOT NULL AND k.escalated_at < {A})"
    due_col = "k.sla_due_at" if "sla_due_at" in case_cols else "NULL"
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
        CREATE OR REPLACE TEMP VIEW c AS
        SELECT k.case_id, k.queue, k.priority, k.assigned_agent_id AS agent_id, a.team, k.created_at,
               {mask("resolved_at")}, {mask("first_response_at")}, k.handle_seconds, {esc} AS escalated,
               COALESCE({due_col}, k.created_at + to_microseconds(CAST(round(({_sla_hours(sla)}) * 3600000000) AS BIGINT)))
                   AS due_at
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
    case_join = (
        "LEFT JOIN raw_cases k ON k.case_id = r.case_id" if (f.queues or f.priorities) else ""
    )  # only the case filters need the reviewed case
    con.sql(f"""
        CREATE OR REPLACE TEMP VIEW r AS
        SELECT r.*, a.team FROM raw_reviews r
        LEFT JOIN agents a ON a.agent_id = r.agent_id
        {case_join}
        WHERE {" AND ".join(rwhere)}
    """)
    return con


def _asof(f) -> str:
    return f"TIMESTAMPTZ '{f.as_of.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S.%f+00')}'"


def table(
    con: duckdb.DuckDBPyConnection, name: str, f, pass_mark: float = 80.0, *, flow: str = "direct"
) -> pl.DataFrame:
    """One of the six tables (default grouping) on a connection made by :func:`connect`.

    ``flow="direct"`` counts each day's backlog from its definition (open at the end of the day:
    a correlated count per day, the oracle of the tests); ``flow="cumsum"`` is the way a
    performance-minded SQL author writes it, the opening backlog plus a running sum of inflow -
    outflow (the benchmarks' reference; tests check it too)."""
    tz = f.tz
    A = _asof(f)
    start, end = f.start.isoformat(), f.end.isoformat()

    def local(col: str) -> str:
        return f"CAST(timezone('{tz}', {col}) AS DATE)"

    def week(col: str) -> str:
        return f"CAST(date_trunc('week', {local(col)}) AS DATE)"

    def inwin(col: str) -> str:
        return f"({col} IS NOT NULL AND {local(col)} BETWEEN DATE '{start}' AND DATE '{end}')"

    if name == "flow":
        # days from max(start, first created day) to min(end, as-of day); backlog counted directly
        lo, hi = con.sql(f"""
            SELECT greatest(DATE '{start}', min({local("created_at")})),
                   least(DATE '{end}', CAST(timezone('{tz}', {A} - INTERVAL 1 MICROSECOND) AS DATE))
            FROM c
        """).fetchall()[0]
        if lo is None or lo > hi:
            return pl.DataFrame(
                schema={"date": pl.Date, "inflow": pl.Int64, "outflow": pl.Int64, "backlog": pl.Int64}
            )
        if flow == "cumsum":
            m0 = f"timezone('{tz}', TIMESTAMP '{lo}')"
            m1 = f"timezone('{tz}', TIMESTAMP '{hi}' + INTERVAL 1 DAY)"
            return con.sql(f"""
                WITH days AS (
                    SELECT CAST(d AS DATE) AS date FROM generate_series(TIMESTAMP '{lo}', TIMESTAMP '{hi}', INTERVAL 1 DAY) g(d)
                ), i AS (
                    SELECT {local("created_at")} AS date, count(*) AS n FROM c
                    WHERE created_at >= {m0} AND created_at < {m1} GROUP BY 1
                ), o AS (
                    SELECT {local("resolved_at")} AS date, count(*) AS n FROM c
                    WHERE resolved_at >= {m0} AND resolved_at < {m1} GROUP BY 1
                ), opening AS (
                    SELECT count(*) AS n FROM c WHERE created_at < {m0} AND (resolved_at IS NULL OR resolved_at >= {m0})
                )
                SELECT d.date, CAST(coalesce(i.n, 0) AS BIGINT) AS inflow, CAST(coalesce(o.n, 0) AS BIGINT) AS outflow,
                       CAST(opening.n + sum(coalesce(i.n, 0) - coalesce(o.n, 0)) OVER (ORDER BY d.date) AS BIGINT)
                           AS backlog
                FROM days d LEFT JOIN i ON i.date = d.date LEFT JOIN o ON o.date = d.date CROSS JOIN opening
                ORDER BY d.date
            """).pl()
        return con.sql(f"""
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
    if name == "handle-time":
        return con.sql(f"""
            SELECT agent_id, {week("resolved_at")} AS week, count(*) AS cases, avg(handle_seconds) AS aht_s,
                   quantile_cont(handle_seconds, 0.5) AS median_s, quantile_cont(handle_seconds, 0.9) AS p90_s
            FROM c WHERE {inwin("resolved_at")} AND handle_seconds IS NOT NULL
            GROUP BY ALL ORDER BY agent_id NULLS LAST, week
        """).pl()
    if name == "quality":
        return con.sql(f"""
            SELECT agent_id, {week("reviewed_at")} AS week, count(*) AS reviews, avg(score) AS mean_score,
                   avg(CASE WHEN score >= {pass_mark} AND NOT COALESCE(critical_error, false) THEN 1.0 ELSE 0.0 END)
                       AS pass_rate,
                   count(*) FILTER (WHERE critical_error) AS critical_errors
            FROM r WHERE {inwin("reviewed_at")}
            GROUP BY ALL ORDER BY agent_id NULLS LAST, week
        """).pl()
    if name == "escalations":
        return con.sql(f"""
            SELECT {week("created_at")} AS week, count(*) AS created, count(*) FILTER (WHERE escalated) AS escalated,
                   count(*) FILTER (WHERE escalated) / count(*) AS escalation_rate
            FROM c WHERE {inwin("created_at")} GROUP BY ALL ORDER BY week
        """).pl()
    if name == "sla":
        return con.sql(f"""
            SELECT {week("resolved_at")} AS week, count(*) AS resolved,
                   count(*) FILTER (WHERE resolved_at <= due_at) AS within_sla,
                   count(*) FILTER (WHERE resolved_at <= due_at) / count(*) AS sla_attainment
            FROM c WHERE {inwin("resolved_at")} GROUP BY ALL ORDER BY week
        """).pl()
    if name == "backlog-now":
        return con.sql(f"""
            SELECT queue, priority, count(*) AS open, count(*) FILTER (WHERE agent_id IS NULL) AS unassigned,
                   count(*) FILTER (WHERE due_at < {A}) AS breached, max(epoch({A} - created_at)) AS oldest_age_s
            FROM c WHERE resolved_at IS NULL
            GROUP BY ALL ORDER BY queue NULLS LAST, priority NULLS LAST
        """).pl()
    raise ValueError(f"unknown table {name!r}; one of {', '.join(SIX)}")


def sql_tables(
    source: dict[str, pl.DataFrame] | str | Path,
    f,
    pass_mark: float = 80.0,
    *,
    sla: Any | None = None,
    names: tuple[str, ...] = SIX,
    flow: str = "direct",
) -> dict[str, pl.DataFrame]:
    """The tables ``names`` (default: all six) for filter ``f``."""
    con = connect(source, f, sla)
    try:
        return {name: table(con, name, f, pass_mark, flow=flow) for name in names}
    finally:
        if con is not source:
            con.close()


def assert_same(name: str, ours: pl.DataFrame, theirs: pl.DataFrame) -> None:
    """Same columns, rows and values (floats to 1e-9 relative)."""
    assert ours.columns == theirs.columns, (name, ours.columns, theirs.columns)
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
