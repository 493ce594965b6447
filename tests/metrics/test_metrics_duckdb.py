"""An independent implementation: the six default tables written in DuckDB SQL from the definitions
in docs/METRICS.md, on data tsdash has never seen (the demo generator with an unusual seed and anchor,
and a separate random generator with nulls, unassigned cases, explicit due times and odd priorities),
must equal tsdash's tables.

The SQL (benchmarks/duckdb_ref.py, also the DuckDB reference of the benchmarks) shares no code with
tsdash: it reads the raw frames, derives team and due time itself, applies as-of masking and the
window by local dates (ICU time zones), and counts the backlog of each day directly from its
definition (not by cumulative sums).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from benchmarks.duckdb_ref import SIX, assert_same, sql_tables
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
