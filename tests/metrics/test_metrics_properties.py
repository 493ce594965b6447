"""Hypothesis property tests: invariants that hold for any data, window and time zone."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsdash.dataset import normalize
from tsdash.metrics import (
    TABLES,
    Filter,
    backlog_now,
    escalations,
    flow,
    handle_time,
    qa_coverage,
    quality,
    reopens,
    sla,
)

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 1, tzinfo=UTC)  # data lies in [T0, T0 + ~26 days)
QUEUES = ("q1", "q2", "q3")
AGENTS = ("a1", "a2", "a3")
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Pacific/Auckland")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# whole hours often, so that times fall exactly on local midnights (boundaries are where bugs hide)
minutes = st.one_of(
    st.integers(min_value=0, max_value=20 * 24 * 60),
    st.integers(min_value=0, max_value=20 * 24).map(lambda h: 60 * h),
)
delay = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=5 * 24 * 60),
    st.integers(min_value=0, max_value=5 * 24).map(lambda h: 60 * h),
)

case_st = st.tuples(
    minutes,  # created offset (minutes after T0)
    delay,  # resolution delay
    delay,  # first response delay
    delay,  # escalation delay
    st.sampled_from(QUEUES),
    st.sampled_from(("urgent", "high", "normal", "low", None)),
    st.sampled_from((*AGENTS, None)),
    st.one_of(st.none(), st.floats(min_value=0, max_value=7200, allow_nan=False)),
    st.integers(min_value=0, max_value=2),  # reopened_count
    st.one_of(st.none(), st.tuples(st.floats(min_value=0, max_value=100), st.booleans(), delay)),  # review
)


def build(cases: list[tuple]) -> dict[str, pl.DataFrame]:
    m = dt.timedelta(minutes=1)
    rows, reviews = [], []
    for i, (c, r, fr, esc, q, prio, agent, handle, reop, review) in enumerate(cases):
        created = T0 + c * m
        resolved = created + r * m if r is not None else None
        rows.append(
            {
                "case_id": f"c{i:03d}",
                "created_at": created,
                "queue": q,
                "priority": prio,
                "assigned_agent_id": agent,
                "resolved_at": resolved,
                "first_response_at": created + fr * m if fr is not None else None,
                "escalated_at": created + esc * m if esc is not None else None,
                "handle_seconds": handle,
                "reopened_count": reop,
            }
        )
        if review is not None and resolved is not None and agent is not None:
            score, crit, later = review
            reviews.append(
                {
                    "review_id": f"r{i:03d}",
                    "case_id": f"c{i:03d}",
                    "agent_id": agent,
                    "reviewed_at": resolved + (later or 0) * m,
                    "score": score,
                    "critical_error": crit,
                }
            )
    ts = pl.Datetime("us", "UTC")
    case_schema = {
        "case_id": pl.String,
        "created_at": ts,
        "queue": pl.String,
        "priority": pl.String,
        "assigned_agent_id": pl.String,
        "resolved_at": ts,
        "first_response_at": ts,
        "escalated_at": ts,
        "handle_seconds": pl.Float64,
        "reopened_count": pl.Int64,
    }
    review_schema = {
        "review_id": pl.String,
        "case_id": pl.String,
        "agent_id": pl.String,
        "reviewed_at": ts,
        "score": pl.Float64,
        "critical_error": pl.Boolean,
    }
    return {
        "agents": pl.DataFrame(
            {"agent_id": list(AGENTS), "name": ["A", "B", "C"], "team": ["T1", "T1", "T2"]}
        ),
        "cases": pl.DataFrame(rows, schema=case_schema),
        "qa_reviews": pl.DataFrame(reviews, schema=review_schema),
    }


datasets = st.lists(case_st, min_size=0, max_size=40).map(lambda cs: normalize(build(cs)))
zones = st.sampled_from(ZONES)
as_ofs = st.one_of(
    st.integers(min_value=0, max_value=30 * 24 * 60),
    st.integers(min_value=0, max_value=30 * 24).map(lambda h: 60 * h),
).map(lambda x: T0 + dt.timedelta(minutes=x))


@st.composite
def windows(draw):
    start = dt.date(2026, 2, 27) + dt.timedelta(days=draw(st.integers(0, 25)))
    end = start + dt.timedelta(days=draw(st.integers(0, 20)))
    return start, end


def _open_at(ds, t: dt.datetime, as_of: dt.datetime) -> int:
    """Direct count from the definition (independent of the flow's cumulative sum)."""
    c = ds.cases.filter(pl.col("created_at") < min(t, as_of))
    res = pl.when(pl.col("resolved_at") < as_of).then(pl.col("resolved_at"))
    return c.filter(res.is_null() | (res >= t)).height


@SETTINGS
@given(ds=datasets, win=windows(), tz=zones, as_of=as_ofs)
def test_flow_invariant_and_backlog_definition(ds, win, tz, as_of):
    f = Filter(win[0], win[1], tz=tz, as_of=as_of)
    got = flow(ds, f)
    prev = None
    for d, inflow, outflow, backlog in got.iter_rows():
        eod = f.midnight_utc(d + dt.timedelta(days=1))
        assert backlog == _open_at(ds, eod, as_of)
        if prev is not None:
            assert prev[0] + dt.timedelta(days=1) == d  # consecutive days
            assert backlog - prev[1] == inflow - outflow
        prev = (d, backlog)


@SETTINGS
@given(ds=datasets, win=windows(), tz=zones, as_of=as_ofs)
def test_rates_within_unit_interval(ds, win, tz, as_of):
    f = Filter(win[0], win[1], tz=tz, as_of=as_of)
    for fn, rate in (
        (escalations, "escalation_rate"),
        (sla, "sla_attainment"),
        (reopens, "reopen_rate"),
        (quality, "pass_rate"),
        (qa_coverage, "coverage"),
    ):
        for by in (None, ("queue",), ("agent_id", "date")):
            if fn is quality and by == ("queue",):
                by = ("team",)
            df = fn(ds, f, by, detail=True)
            for r in df.iter_rows(named=True):
                assert 0.0 <= r[rate] <= 1.0
                assert 0.0 <= r[f"{rate}_ci_low"] <= r[rate] <= r[f"{rate}_ci_high"] <= 1.0


def _sum_by(df: pl.DataFrame, keys: list[str], cols: list[str]) -> pl.DataFrame:
    if not keys:
        return df.select(pl.col(cols).sum())
    return df.group_by(keys).agg(pl.col(cols).sum()).sort(keys)


@SETTINGS
@given(ds=datasets, win=windows(), tz=zones, as_of=as_ofs)
def test_sum_over_queues_equals_unfiltered(ds, win, tz, as_of):
    f = Filter(win[0], win[1], tz=tz, as_of=as_of)
    cols = ["inflow", "outflow", "backlog"]
    total = flow(ds, f)
    # grouping by queue
    by_queue = flow(ds, f, ("queue", "date"))
    if total.height:
        regrouped = _sum_by(by_queue, ["date"], cols)
        assert (
            total.select("date", *cols)
            .filter(pl.col("date").is_in(regrouped["date"].implode()))
            .equals(regrouped.select("date", *cols))
        )
        # days missing from the grouped table have nothing going on
        assert (
            total.filter(~pl.col("date").is_in(regrouped["date"].implode()))[cols].sum_horizontal().sum() == 0
        )
    # filtering on each queue
    parts = [flow(ds, f.with_(queues=(q,)), ()) for q in QUEUES]
    whole = flow(ds, f, ())
    for c in ("inflow", "outflow"):
        assert sum(p[c].sum() for p in parts) == (whole[c].sum() if whole.height else 0)
    # other per-queue counts
    assert backlog_now(ds, f, ("queue",))["open"].sum() == backlog_now(ds, f, ())["open"].sum()
    assert (
        escalations(ds, f, ("queue", "week"))["created"].sum()
        == escalations(ds, f, ("week",))["created"].sum()
    )
    assert sla(ds, f, ("queue",))["within_sla"].sum() == sla(ds, f, ())["within_sla"].sum()
    assert handle_time(ds, f, ("queue",))["cases"].sum() == handle_time(ds, f, ())["cases"].sum()
    assert (
        sum(backlog_now(ds, f.with_(queues=(q,)), ())["open"].sum() for q in QUEUES)
        == backlog_now(ds, f, ())["open"].sum()
    )


@SETTINGS
@given(ds=datasets, tz=zones)
def test_display_zone_moves_days_not_totals(ds, tz):
    # window covering all data in every zone; as-of after all data
    as_of = dt.datetime(2026, 4, 10, tzinfo=UTC)
    fu = Filter(dt.date(2026, 2, 27), dt.date(2026, 4, 8), tz="UTC", as_of=as_of)
    fz = fu.with_(tz=tz)
    a, b = flow(ds, fu), flow(ds, fz)
    assert a["inflow"].sum() == b["inflow"].sum()
    assert a["outflow"].sum() == b["outflow"].sum()
    if a.height:
        assert a["backlog"][-1] == b["backlog"][-1]
    for name, cols in (
        ("sla", ["resolved", "within_sla"]),
        ("escalations", ["created", "escalated"]),
        ("handle-time", ["cases"]),
        ("quality", ["reviews", "critical_errors"]),
        ("reopens", ["resolved", "reopened"]),
    ):
        x = TABLES[name].compute(ds, fu, ("week",))
        y = TABLES[name].compute(ds, fz, ("week",))
        for c in cols:
            assert x[c].sum() == y[c].sum(), (name, c)


def _drop_after(ds_tables: dict[str, pl.DataFrame], as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    c = ds_tables["cases"].filter(pl.col("created_at") < as_of)
    c = c.with_columns(
        pl.when(pl.col(x) < as_of).then(pl.col(x)).alias(x)
        for x in ("resolved_at", "first_response_at", "escalated_at")
    )
    r = ds_tables["qa_reviews"].filter(pl.col("reviewed_at") < as_of)
    return {**ds_tables, "cases": c, "qa_reviews": r}


@SETTINGS
@given(cases=st.lists(case_st, max_size=30), win=windows(), tz=zones, as_of=as_ofs)
def test_as_of_equals_data_as_it_was(cases, win, tz, as_of):
    tables = build(cases)
    f = Filter(win[0], win[1], tz=tz, as_of=as_of)
    full, then = normalize(tables), normalize(_drop_after(tables, as_of))
    for name in (
        "flow",
        "handle-time",
        "quality",
        "escalations",
        "sla",
        "backlog-now",
        "first-response",
        "workload",
    ):
        assert TABLES[name].compute(full, f).equals(TABLES[name].compute(then, f)), name


SUBSET_TABLES = [name for name, td in TABLES.items() if td.computes_subset]


def test_the_duration_tables_compute_subsets():
    # the four duration tables; the flag must not be on a table whose fn ignores ``values``
    assert SUBSET_TABLES == ["handle-time", "first-response", "resolution-time", "escalation-turnaround"]
    import pytest

    from tsdash.metrics import MetricError
    from tsdash.metrics.example import EXAMPLE_FILTER, example_dataset

    ds = example_dataset()
    # AHT over 600 900 1500 1200 3000 2000 = 9200 / 6 (tests/metrics/test_metrics_overview.py)
    got = handle_time(ds, EXAMPLE_FILTER, (), values=("aht_s",))
    assert got.columns == ["cases", "aht_s"] and got.row(0) == (6, 9200 / 6)
    with pytest.raises(MetricError, match="handle-time has no column 'mean_s'"):
        handle_time(ds, EXAMPLE_FILTER, (), values=("mean_s",))
    # a table without the subset computes all its columns
    assert TABLES["sla"].compute(ds, EXAMPLE_FILTER, values=("resolved",)).equals(sla(ds, EXAMPLE_FILTER))


@SETTINGS
@given(ds=datasets, win=windows(), tz=zones, as_of=as_ofs, detail=st.booleans(), pick=st.data())
def test_a_value_subset_equals_those_columns_of_the_whole_table(ds, win, tz, as_of, detail, pick):
    """``values=`` computes fewer columns, never other numbers: the count and the asked-for
    columns (with the mean and its interval under ``detail``) equal the whole table's."""
    from tsdash.metrics import trend

    f = Filter(win[0], win[1], tz=tz, as_of=as_of)
    name = pick.draw(st.sampled_from(SUBSET_TABLES))
    td = TABLES[name]
    count, *measures = td.values
    values = pick.draw(st.lists(st.sampled_from(measures), min_size=1, max_size=3, unique=True))
    by = pick.draw(st.sampled_from([(), ("week",), ("queue", "week"), ("agent_id",)]))
    whole = td.compute(ds, f, by, detail=detail)
    part = td.compute(ds, f, by, detail=detail, values=values)
    # under detail the mean and its interval come along (the interval is the mean's)
    extra = (
        {measures[0], *(c for c in whole.columns if c.endswith(("_ci_low", "_ci_high")))} if detail else set()
    )
    assert part.columns == [c for c in whole.columns if c in {*by, count, *values, *extra}]
    assert part.equals(whole.select(part.columns))
    # a trend of one column alone equals the trend from the whole table
    metric = {"handle-time": "aht", "first-response": "first_response"}.get(name)
    if metric is not None:
        keys = pick.draw(st.sampled_from([(), ("queue",), ("agent_id",)]))
        assert trend(ds, f, metric, keys, whole_table=False).equals(trend(ds, f, metric, keys))
