"""Hand-computed fixtures: every definition of docs/METRICS.md on small data, expected numbers
written out (derivations in the comments and in the worked examples of docs/METRICS.md).

The main fixture is ``tsdash.metrics.example`` (13 cases, 5 reviews, 3 agents; UTC; window
Mon 2026-03-02 .. Wed 2026-03-04; as-of Thu 2026-03-05 12:00):

    case queue    prio   agent created     1st resp    resolved    handle esc_at      esc_res
    c01  fraud    urgent a1    Sun 10:00   Sun 11:00   Mon 09:00   600
    c02  fraud    high   a1    Mon 08:00   Mon 08:30   Mon 12:00   900                            same day
    c03  fraud    normal a2    Mon 09:00   Mon 10:00   Tue 09:00   1200   Mon 11:00   Mon 15:00
    c04  policy   normal -     Mon 10:00   -           -           -                              unassigned
    c05  policy   low    a3    Fri 12:00   Fri 13:00   -           -                              open across
    c06  policy   high   a2    Tue 07:00   Tue 07:30   Tue 20:00   -  (no handle time), reopened 1
    c07  fraud    urgent a3    Tue 12:00   Tue 12:10   Tue 18:00   3000   Tue 13:00   Wed 13:00
    c08  disputes normal a1    Wed 09:00   Wed 09:20   Wed 23:30   1500
    c09  disputes high   a1    Wed 22:00   -           -           -      Thu 10:00   -
    c10  fraud    urgent a2    Thu 09:00   -           -           -
    c11  fraud    normal a1    Wed 10:00   Thu 13:00*  Thu 14:00*  800    (* after as-of: masked)
    c12  disputes low    a3    Fri 08:00*  ...                            (* created after as-of)
    c13  policy   normal a3    Mon 23:00   Tue 08:00   Wed 01:00   2000   Tue 10:00   -
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tsdash.dataset import normalize
from tsdash.metrics import (
    DEFINITIONS,
    TABLES,
    Filter,
    MetricError,
    backlog_now,
    escalation_turnaround,
    escalations,
    first_response,
    flow,
    handle_time,
    qa_coverage,
    qa_criteria,
    quality,
    reopens,
    resolution_time,
    sla,
    throughput,
    weeks,
    workload,
)
from tsdash.metrics.example import EXAMPLE_AS_OF, EXAMPLE_FILTER, example_dataset, example_tables

UTC = dt.UTC
D = dt.date
MON = D(2026, 3, 2)


@pytest.fixture(scope="module")
def ds():
    return example_dataset()


F = EXAMPLE_FILTER


def rows(df: pl.DataFrame) -> list[tuple]:
    return df.rows()


# ---------------------------------------------------------------------------------------------
# flow
# ---------------------------------------------------------------------------------------------


def test_flow_by_day(ds):
    # opening backlog at Mon 00:00: c01 (resolved Mon 09:00) and c05 -> 2
    # Mon: in c02 c03 c04 c13 (4), out c01 c02 (2) -> 2 + 4 - 2 = 4  (c03 c04 c05 c13)
    # Tue: in c06 c07 (2), out c03 c06 c07 (3) -> 3                  (c04 c05 c13)
    # Wed: in c08 c09 c11 (3), out c13 c08 (2) -> 4                   (c04 c05 c09 c11; c11 resolves after as-of)
    assert rows(flow(ds, F)) == [(MON, 4, 2, 4), (D(2026, 3, 3), 2, 3, 3), (D(2026, 3, 4), 3, 2, 4)]


def test_flow_by_week_and_total(ds):
    assert rows(flow(ds, F, ("week",))) == [(MON, 9, 7, 4)]
    assert rows(flow(ds, F, ())) == [(9, 7, 4)]


def test_flow_by_queue(ds):
    # fraud:    opening c01; Mon in c02 c03 out c01 c02 -> 1; Tue in c07 out c03 c07 -> 0; Wed in c11 -> 1
    # policy:   opening c05; Mon in c04 c13 -> 3; Tue in c06 out c06 -> 3; Wed out c13 -> 2
    # disputes: Wed in c08 c09 out c08 -> 1 (no case before Wed: zeros)
    got = flow(ds, F, ("queue", "date"))
    assert got.columns == ["queue", "date", "inflow", "outflow", "backlog"]
    assert rows(got) == [
        ("disputes", MON, 0, 0, 0),
        ("disputes", D(2026, 3, 3), 0, 0, 0),
        ("disputes", D(2026, 3, 4), 2, 1, 1),
        ("fraud", MON, 2, 2, 1),
        ("fraud", D(2026, 3, 3), 1, 2, 0),
        ("fraud", D(2026, 3, 4), 1, 0, 1),
        ("policy", MON, 2, 0, 3),
        ("policy", D(2026, 3, 3), 1, 1, 3),
        ("policy", D(2026, 3, 4), 0, 1, 2),
    ]


def test_flow_days_after_as_of_are_not_shown(ds):
    f = Filter(MON, D(2026, 3, 10), as_of=EXAMPLE_AS_OF)
    got = flow(ds, f)
    assert got["date"].to_list() == [MON + dt.timedelta(days=i) for i in range(4)]
    # Thu up to 12:00: in c10, nothing resolved -> backlog 5 = open at as-of
    assert got.row(3) == (D(2026, 3, 5), 1, 0, 5)


def test_flow_boundaries_at_exact_midnight():
    # x1 created Sun 12:00, resolved exactly Mon 00:00: open at Sun's end (resolved_at >= t), Monday's outflow
    # x2 created exactly Mon 00:00: Monday's inflow, not open at Sun's end (created_at < t fails)
    cases = pl.DataFrame(
        {
            "case_id": ["x1", "x2"],
            "queue": ["q", "q"],
            "created_at": [dt.datetime(2026, 3, 1, 12, tzinfo=UTC), dt.datetime(2026, 3, 2, tzinfo=UTC)],
            "resolved_at": [dt.datetime(2026, 3, 2, tzinfo=UTC), None],
        }
    )
    ds = normalize(
        {"agents": pl.DataFrame({"agent_id": ["a"], "name": ["A"], "team": ["T"]}), "cases": cases}
    )
    f = Filter(D(2026, 3, 1), D(2026, 3, 2), as_of=EXAMPLE_AS_OF)
    assert rows(flow(ds, f)) == [(D(2026, 3, 1), 1, 0, 1), (MON, 1, 1, 1)]
    # the same with the window starting Monday: the opening backlog holds x1
    assert rows(flow(ds, f.with_(start=MON))) == [(MON, 1, 1, 1)]
    # and as-of exactly at Mon 00:00: x1's resolution and x2 do not exist yet
    f0 = f.with_(as_of=dt.datetime(2026, 3, 2, tzinfo=UTC))
    assert rows(flow(ds, f0)) == [(D(2026, 3, 1), 1, 0, 1)]
    assert backlog_now(ds, f0, ())["open"].to_list() == [1]


def test_flow_starts_at_first_case(ds):
    # window from Wed 02-25; the first case (c05) is Fri 02-27
    f = Filter(D(2026, 2, 25), D(2026, 2, 28), as_of=EXAMPLE_AS_OF)
    assert rows(flow(ds, f)) == [(D(2026, 2, 27), 1, 0, 1), (D(2026, 2, 28), 0, 0, 1)]


# ---------------------------------------------------------------------------------------------
# handle time, first response, resolution, escalation turnaround
# ---------------------------------------------------------------------------------------------


def test_handle_time(ds):
    # a1: 600 900 1500 -> mean 1000, median 900, p90 at 1 + 0.9*2 = 2.8: 900 + 0.8*600 = 1380
    # a2: 1200 (c06 has no handle time: left out, not zero)
    # a3: 2000 3000 -> 2500, p90 2000 + 0.9*1000 = 2900
    got = handle_time(ds, F)
    assert got.columns == ["agent_id", "week", "cases", "aht_s", "median_s", "p90_s"]
    assert rows(got) == [
        ("a1", MON, 3, 1000.0, 900.0, 1380.0),
        ("a2", MON, 1, 1200.0, 1200.0, 1200.0),
        ("a3", MON, 2, 2500.0, 2500.0, 2900.0),
    ]


def test_handle_time_detail_interval(ds):
    got = handle_time(ds, F, ("agent_id",), detail=True).row(0, named=True)
    # a1: mean 1000, s = sqrt(((400)^2 + 100^2 + 500^2) / 2) = sqrt(210000) = 458.2576, n = 3, t(0.975, 2) = 4.302653
    half = 4.302652730 * (210000**0.5) / 3**0.5
    # 1000 - half = -138.3: a handle time cannot be negative, so the interval is clipped at 0
    assert 1000 - half < 0 and got["aht_ci_low"] == 0.0
    assert got["aht_ci_high"] == pytest.approx(1000 + half)
    one = handle_time(ds, F, ("agent_id",), detail=True).row(1, named=True)
    assert one["agent_id"] == "a2" and one["aht_ci_low"] is None  # n = 1: no interval


def test_first_response(ds):
    # in window: c02 1800, c03 3600, c06 1800, c07 600, c08 1200, c13 32400
    # (c01's first response is Sunday, c11's is after as-of)
    # mean 41400/6 = 6900; median 1800; p90 at 1 + 0.9*5 = 5.5: 3600 + 0.5*28800 = 18000
    assert rows(first_response(ds, F)) == [(MON, 6, 6900.0, 1800.0, 18000.0)]


def test_resolution_time(ds):
    # c01 82800 c02 14400 c03 86400 c06 46800 c07 21600 c13 93600 c08 52200; sum 397800
    got = resolution_time(ds, F).row(0)
    assert got[:2] == (MON, 7)
    assert got[2] == pytest.approx(397800 / 7)
    assert got[3:] == (52200.0, 89280.0)  # p90 at 6.4: 86400 + 0.4*7200


def test_escalation_turnaround(ds):
    # c03 Mon 11:00 -> 15:00 = 14400; c07 Tue 13:00 -> Wed 13:00 = 86400; c13 not resolved
    assert rows(escalation_turnaround(ds, F)) == [(MON, 2, 50400.0, 50400.0, 79200.0)]


# ---------------------------------------------------------------------------------------------
# rates
# ---------------------------------------------------------------------------------------------


def test_escalations(ds):
    # created in window: c02 c03 c04 c06 c07 c08 c09 c11 c13 = 9;
    # escalated: c03 c07 c13 and c09 (Thu 10:00 < as-of) = 4
    got = escalations(ds, F)
    assert got.columns == ["week", "created", "escalated", "escalation_rate"]
    assert rows(got) == [(MON, 9, 4, 4 / 9)]


def test_escalation_after_as_of_is_not_an_escalation(ds):
    f = F.with_(as_of=dt.datetime(2026, 3, 5, 9, 30, tzinfo=UTC))  # before c09's escalation at 10:00
    assert rows(escalations(ds, f)) == [(MON, 9, 3, 3 / 9)]


def test_sla(ds):
    # resolved in window 7; late: c01 (due Sun 14:00, resolved Mon 09:00), c07 (due Tue 16:00, resolved 18:00)
    got = sla(ds, F, detail=True)
    assert got.select("week", "resolved", "within_sla", "sla_attainment").rows() == [(MON, 7, 5, 5 / 7)]
    assert got["sla_attainment_ci_low"][0] == pytest.approx(0.3589, abs=1e-4)
    assert got["sla_attainment_ci_high"][0] == pytest.approx(0.9178, abs=1e-4)


def test_sla_explicit_due_and_exactly_on_time():
    tables = example_tables()
    # c07 (urgent, resolved Tue 18:00) gets an explicit due time of exactly 18:00: on time
    tables["cases"] = tables["cases"].with_columns(
        pl.when(pl.col("case_id") == "c07")
        .then(pl.lit(dt.datetime(2026, 3, 3, 18, tzinfo=UTC)))
        .otherwise(None)
        .alias("sla_due_at")
    )
    assert rows(sla(normalize(tables), F)) == [(MON, 7, 6, 6 / 7)]


def test_reopens(ds):
    assert rows(reopens(ds, F)) == [(MON, 7, 1, 1 / 7)]  # c06


# ---------------------------------------------------------------------------------------------
# QA
# ---------------------------------------------------------------------------------------------


def test_quality(ds):
    # r1 a1 95 + critical error -> fail; r2 a1 85 pass; r3 a2 70 fail; r4 a3 80 pass (at the mark);
    # r5 after as-of: excluded
    got = quality(ds, F)
    assert got.columns == ["agent_id", "week", "reviews", "mean_score", "pass_rate", "critical_errors"]
    assert rows(got) == [
        ("a1", MON, 2, 90.0, 0.5, 1),
        ("a2", MON, 1, 70.0, 0.0, 0),
        ("a3", MON, 1, 80.0, 1.0, 0),
    ]


def test_quality_pass_mark(ds):
    # pass mark 90: r1 critical, r2 85, r3 70, r4 80 -> nobody passes
    assert quality(ds, F, ("agent_id",), pass_mark=90.0)["pass_rate"].to_list() == [0.0, 0.0, 0.0]
    # pass mark 70: r2, r3, r4 pass; r1 still fails (critical error)
    assert quality(ds, F, (), pass_mark=70.0)["pass_rate"].to_list() == [0.75]


def test_qa_coverage(ds):
    # a1 resolved c01 c02 c08, reviewed c01 c02; a2 c03 c06, reviewed c03 (r5 is after as-of); a3 c07 c13 -> c07
    assert rows(qa_coverage(ds, F)) == [
        ("a1", MON, 3, 2, 2 / 3),
        ("a2", MON, 2, 1, 0.5),
        ("a3", MON, 2, 1, 0.5),
    ]


def test_qa_criteria(ds):
    # documentation 90 90 80 60 -> 80; policy_accuracy 100 80 60 90 -> 82.5
    assert rows(qa_criteria(ds, F)) == [("documentation", MON, 4, 80.0), ("policy_accuracy", MON, 4, 82.5)]


# ---------------------------------------------------------------------------------------------
# snapshots at as-of
# ---------------------------------------------------------------------------------------------


def test_backlog_now(ds):
    # open at Thu 12:00: c04 (unassigned, due Wed 10:00: breached), c05 (due Wed 12:00: breached),
    # c09 (due Thu 22:00), c10 (due Thu 13:00), c11 (resolution after as-of; due Fri 10:00)
    got = backlog_now(ds, F)
    assert got.columns == ["queue", "priority", "open", "unassigned", "breached", "oldest_age_s"]
    assert rows(got) == [
        ("disputes", "high", 1, 0, 0, 14 * 3600.0),
        ("fraud", "normal", 1, 0, 0, 26 * 3600.0),
        ("fraud", "urgent", 1, 0, 0, 3 * 3600.0),
        ("policy", "low", 1, 0, 1, 6 * 86400.0),
        ("policy", "normal", 1, 1, 1, (3 * 24 + 2) * 3600.0),
    ]


def test_backlog_now_ignores_the_window(ds):
    f = Filter(D(2025, 1, 1), D(2025, 1, 1), as_of=EXAMPLE_AS_OF)
    assert backlog_now(ds, f, ()).rows() == [(5, 1, 2, 518400.0)]


def test_backlog_now_detail(ds):
    got = backlog_now(ds, F, ("queue",), detail=True).select(
        "queue", "due_within_1h", "due_within_4h", "open_escalations"
    )
    # c10 due Thu 13:00 = as-of + 1 h: within 4 h, not within 1 h; c09 escalated Thu 10:00, open
    assert rows(got) == [("disputes", 0, 0, 1), ("fraud", 0, 1, 0), ("policy", 0, 0, 0)]


def test_workload(ds):
    got = workload(ds, F)
    assert got.columns == ["agent_id", "open", "breached", "due_within_1h", "due_within_4h", "oldest_age_s"]
    assert rows(got) == [
        ("a1", 2, 0, 0, 0, 26 * 3600.0),  # c09, c11
        ("a2", 1, 0, 0, 1, 3 * 3600.0),  # c10
        ("a3", 1, 1, 0, 0, 6 * 86400.0),  # c05
    ]


def test_workload_lists_idle_agents_and_by_team(ds):
    f = F.with_(as_of=dt.datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    # Mon 09:30: open c02 (a1), c03 (a2), c05 (a3, breached? due Wed 12:00: no); c01 resolved 09:00
    assert rows(workload(ds, f).select("agent_id", "open")) == [("a1", 1), ("a2", 1), ("a3", 1)]
    f = F.with_(as_of=dt.datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # only c01 (a1) and c05 (a3) open
    assert rows(workload(ds, f).select("agent_id", "open")) == [("a1", 1), ("a2", 0), ("a3", 1)]
    assert rows(workload(ds, F, ("team",)).select("team", "open", "breached")) == [("T1", 3, 0), ("T2", 1, 1)]


# ---------------------------------------------------------------------------------------------
# throughput and utilization
# ---------------------------------------------------------------------------------------------


def test_throughput(ds):
    # a1 resolved c01 c02 c08; shifts 3 x 8 h = 86400 s; handle 600+900+1500 = 3000
    # a2 resolved c03 c06; shifts 2 x 8 h = 57600; handle 1200 (c06 none)
    # a3 resolved c07 c13; shifts Tue 20:00-Wed 04:00 (8 h) + Wed 20:00-24:00 in window (4 h) = 43200; handle 5000
    got = throughput(ds, F)
    assert got.columns == [
        "agent_id",
        "week",
        "resolved",
        "shift_s",
        "resolved_per_shift_hour",
        "handle_s",
        "utilization",
    ]
    assert rows(got) == [
        ("a1", MON, 3, 86400.0, 3 / 24, 3000.0, 3000 / 86400),
        ("a2", MON, 2, 57600.0, 2 / 16, 1200.0, 1200 / 57600),
        ("a3", MON, 2, 43200.0, 2 / 12, 5000.0, 5000 / 43200),
    ]


def test_throughput_by_day_cuts_shifts_at_midnight(ds):
    got = throughput(ds, F, ("agent_id", "date")).filter(pl.col("agent_id") == "a3")
    # Tue: shift 20:00-24:00 (4 h), resolved c07; Wed: 00:00-04:00 + 20:00-24:00 (8 h), resolved c13
    assert got.select("date", "resolved", "shift_s").rows() == [
        (D(2026, 3, 3), 1, 14400.0),
        (D(2026, 3, 4), 1, 28800.0),
    ]


def test_throughput_shifts_cut_at_as_of(ds):
    f = F.with_(as_of=dt.datetime(2026, 3, 4, 22, tzinfo=UTC))  # a3's Wed shift began 20:00: 2 h so far
    got = throughput(ds, f, ("agent_id",)).filter(pl.col("agent_id") == "a3")
    assert got["shift_s"].to_list() == [(8 + 2) * 3600.0]


# ---------------------------------------------------------------------------------------------
# filters and unassigned cases
# ---------------------------------------------------------------------------------------------


def test_team_filter_excludes_unassigned(ds):
    # T1 = a1, a2: opening c01; Mon in c02 c03 out c01 c02 -> 1; Tue in c06 out c03 c06 -> 0;
    # Wed in c08 c09 c11 out c08 -> 2
    t1 = flow(ds, F.with_(teams=("T1",)))
    assert rows(t1) == [(MON, 2, 2, 1), (D(2026, 3, 3), 1, 2, 0), (D(2026, 3, 4), 3, 1, 2)]
    # T2 = a3: opening c05; Mon in c13 -> 2; Tue in/out c07 -> 2; Wed out c13 -> 1
    t2 = flow(ds, F.with_(teams=("T2",)))
    assert rows(t2) == [(MON, 1, 0, 2), (D(2026, 3, 3), 1, 1, 2), (D(2026, 3, 4), 0, 1, 1)]
    # T1 + T2 miss exactly the unassigned c04 (created Mon, open)
    both = flow(ds, F.with_(teams=("T1", "T2")))
    assert both["backlog"].to_list() == [3, 2, 3]
    assert (flow(ds, F)["backlog"] - both["backlog"]).to_list() == [1, 1, 1]


def test_agent_queue_priority_filters(ds):
    assert rows(handle_time(ds, F.with_(agents=("a1",)))) == [("a1", MON, 3, 1000.0, 900.0, 1380.0)]
    # fraud & urgent: c01 (a1, 600) and c07 (a3, 3000)
    got = handle_time(ds, F.with_(queues=("fraud",), priorities=("urgent",)), ())
    assert rows(got) == [(2, 1800.0, 1800.0, 2760.0)]


def test_unassigned_grouping(ds):
    got = escalations(ds, F, ("agent_id",))
    # c04 (unassigned) is a created case with agent_id null, listed last
    assert got["agent_id"].to_list() == ["a1", "a2", "a3", None]
    assert got.row(3) == (None, 1, 0, 0.0)


def test_quality_filters_on_reviewed_agent_team_and_case_queue(ds):
    assert quality(ds, F.with_(teams=("T1",)), ("agent_id",))["agent_id"].to_list() == ["a1", "a2"]
    assert quality(ds, F.with_(queues=("policy",))).height == 0  # only r5 (c06, policy) is about policy
    assert quality(ds, F.with_(priorities=("urgent",)), ())["reviews"].to_list() == [2]  # r2 (c01), r4 (c07)


# ---------------------------------------------------------------------------------------------
# as-of
# ---------------------------------------------------------------------------------------------


def _drop_future(tables: dict[str, pl.DataFrame], as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    """What the source held at as_of: no later cases, resolutions, responses, escalations, reviews."""
    c = tables["cases"].filter(pl.col("created_at") < as_of)
    c = c.with_columns(
        pl.when(pl.col(x) < as_of).then(pl.col(x)).alias(x)
        for x in ("resolved_at", "first_response_at", "escalated_at", "escalation_resolved_at")
    )
    r = tables["qa_reviews"].filter(pl.col("reviewed_at") < as_of)
    s = (
        tables["shifts"]
        .filter(pl.col("start") < as_of)
        .with_columns(pl.min_horizontal("end", pl.lit(as_of)).alias("end"))
    )
    return {**tables, "cases": c, "qa_reviews": r, "shifts": s}


@pytest.mark.parametrize("name", list(TABLES))
def test_as_of_hides_later_facts(name):
    # a share link frozen at Tue 15:00 shows the same numbers as the data as it was at Tue 15:00
    as_of = dt.datetime(2026, 3, 3, 15, tzinfo=UTC)
    f = F.with_(as_of=as_of, end=D(2026, 3, 8))
    full = TABLES[name].compute(example_dataset(), f)
    then = TABLES[name].compute(normalize(_drop_future(example_tables(), as_of)), f)
    assert full.equals(then), name


def test_as_of_masking_example(ds):
    # at Tue 15:00: c06 and c07 (resolved 20:00, 18:00) are still open; c08..c11 do not exist yet
    f = F.with_(as_of=dt.datetime(2026, 3, 3, 15, tzinfo=UTC))
    assert rows(flow(ds, f)) == [(MON, 4, 2, 4), (D(2026, 3, 3), 2, 1, 5)]
    # Tue until 15:00: in c06 c07, out c03 -> open c04 c05 c06 c07 c13
    assert backlog_now(ds, f, ())["open"].to_list() == [5]


# ---------------------------------------------------------------------------------------------
# DST days in Europe/Berlin
# ---------------------------------------------------------------------------------------------


def _u(y, m, d, hh, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=UTC)


@pytest.fixture(scope="module")
def dst_ds():
    cases = pl.DataFrame(
        {
            "case_id": ["d1", "d2", "d3", "d4", "e1", "e2"],
            "queue": ["q"] * 6,
            "assigned_agent_id": ["a1"] * 6,
            "created_at": [
                _u(2026, 3, 28, 22, 30),  # 23:30 CET Sat 03-28
                _u(2026, 3, 28, 23, 30),  # 00:30 CET Sun 03-29
                _u(2026, 3, 29, 21, 30),  # 23:30 CEST Sun 03-29
                _u(2026, 3, 29, 22, 30),  # 00:30 CEST Mon 03-30
                _u(2026, 10, 24, 22, 30),  # 00:30 CEST Sun 10-25
                _u(2026, 10, 25, 22, 30),  # 23:30 CET Sun 10-25
            ],
            "resolved_at": [
                _u(2026, 3, 28, 23, 30),  # 00:30 Sun 03-29
                None,
                _u(2026, 3, 29, 22, 30),  # 00:30 Mon 03-30
                None,
                None,
                None,
            ],
        }
    )
    shifts = pl.DataFrame(
        {
            "agent_id": ["a1", "a1"],
            "start": [_u(2026, 3, 28, 23), _u(2026, 10, 24, 22)],  # local midnight of Sun 03-29 / Sun 10-25
            "end": [_u(2026, 3, 29, 22), _u(2026, 10, 25, 23)],  # the next local midnight
        }
    )
    agents = pl.DataFrame({"agent_id": ["a1"], "name": ["Ann"], "team": ["T"]})
    return normalize({"agents": agents, "cases": cases, "shifts": shifts})


AS_OF_LATE = dt.datetime(2026, 12, 1, tzinfo=UTC)


def test_dst_spring_day_in_berlin(dst_ds):
    f = Filter(D(2026, 3, 28), D(2026, 3, 30), tz="Europe/Berlin", as_of=AS_OF_LATE)
    # Sat: in d1 -> 1; Sun (23 h): in d2 d3, out d1 -> 2; Mon: in d4, out d3 -> 2
    assert rows(flow(dst_ds, f)) == [
        (D(2026, 3, 28), 1, 0, 1),
        (D(2026, 3, 29), 2, 1, 2),
        (D(2026, 3, 30), 1, 1, 2),
    ]
    # the shift covers exactly the local Sunday: 23 hours; d3 is resolved on Monday (no shift that day)
    assert throughput(dst_ds, f, ("date",)).select("date", "resolved", "shift_s").rows() == [
        (D(2026, 3, 29), 1, 23 * 3600.0),
        (D(2026, 3, 30), 1, 0.0),
    ]


def test_dst_spring_day_in_utc(dst_ds):
    f = Filter(D(2026, 3, 28), D(2026, 3, 30), tz="UTC", as_of=AS_OF_LATE)
    # 03-28: in d1 d2, out d1 (23:30) -> 1; 03-29: in d3 d4, out d3 (22:30) -> 2; 03-30: nothing -> 2
    assert rows(flow(dst_ds, f)) == [
        (D(2026, 3, 28), 2, 1, 1),
        (D(2026, 3, 29), 2, 1, 2),
        (D(2026, 3, 30), 0, 0, 2),
    ]
    assert throughput(dst_ds, f, ("date",)).select("date", "shift_s").rows() == [
        (D(2026, 3, 28), 3600.0),
        (D(2026, 3, 29), 22 * 3600.0),
    ]


def test_dst_autumn_day_in_berlin(dst_ds):
    f = Filter(D(2026, 10, 25), D(2026, 10, 25), tz="Europe/Berlin", as_of=AS_OF_LATE)
    assert f.window_utc()[1] - f.window_utc()[0] == dt.timedelta(hours=25)
    # e1 (00:30 CEST) and e2 (23:30 CET) are both on the 25-hour Sunday
    assert flow(dst_ds, f).row(0)[1] == 2
    assert throughput(dst_ds, f, ()).select("shift_s").item() == 25 * 3600.0
    # the same instants in UTC fall on two days
    fu = Filter(D(2026, 10, 24), D(2026, 10, 25), tz="UTC", as_of=AS_OF_LATE)
    assert flow(dst_ds, fu).select("date", "inflow").rows() == [(D(2026, 10, 24), 1), (D(2026, 10, 25), 1)]


# ---------------------------------------------------------------------------------------------
# empty windows and bad groupings
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(TABLES))
@pytest.mark.parametrize(
    "f",
    [
        Filter(D(2025, 1, 1), D(2025, 1, 31), as_of=EXAMPLE_AS_OF),  # before any data
        Filter(D(2026, 4, 1), D(2026, 4, 30), as_of=EXAMPLE_AS_OF),  # after as-of
        F.with_(queues=("no_such_queue",)),  # nothing matches
    ],
    ids=["before-data", "after-as-of", "no-match"],
)
def test_empty_window_gives_empty_table_with_columns(ds, name, f):
    td = TABLES[name]
    got = td.compute(ds, f)
    if not td.windowed and not f.queues:
        return  # snapshots ignore the window
    if name in ("workload", "throughput") and f.queues:
        # agents are still listed (shifts and rosters know no queues), with nothing counted
        assert got[td.values[0]].to_list() == [0] * got.height
    else:
        assert got.height == 0, name
    assert got.columns == list(td.columns)
    expected = {"date": pl.Date, "week": pl.Date}
    for c in td.default_by:
        assert got.schema[c] == expected.get(c, pl.String)


def test_empty_dataset(ds):
    empty = normalize(
        {
            "agents": pl.DataFrame(schema={"agent_id": pl.String, "name": pl.String, "team": pl.String}),
            "cases": pl.DataFrame(
                schema={"case_id": pl.String, "created_at": pl.Datetime("us", "UTC"), "queue": pl.String}
            ),
        }
    )
    for name, td in TABLES.items():
        got = td.compute(empty, F)
        assert got.height == 0 and got.columns == list(td.columns), name


def test_bad_grouping_is_a_clear_error(ds):
    with pytest.raises(MetricError, match="cannot group by 'colour'"):
        flow(ds, F, ("colour",))
    with pytest.raises(MetricError, match="date or by week"):
        sla(ds, F, ("date", "week"))


def test_partial_weeks():
    # Wed 03-04 .. Sun 03-15: the week of 03-02 has 5 window days (partial), the week of 03-09 is whole
    f = Filter(D(2026, 3, 4), D(2026, 3, 15), as_of=dt.datetime(2026, 4, 1, tzinfo=UTC))
    assert weeks(f).select("week", "days", "partial").rows() == [(MON, 5, True), (D(2026, 3, 9), 7, False)]
    # the week in progress at as-of is partial even when all its days have begun
    f = Filter(D(2026, 3, 9), D(2026, 3, 15), as_of=dt.datetime(2026, 3, 15, 12, tzinfo=UTC))
    assert weeks(f).select("days", "partial").rows() == [(7, True)]


def test_partial_week_counts_only_window_days(ds):
    # window Tue..Wed: the week of Mon 03-02 holds only Tue and Wed
    f = F.with_(start=D(2026, 3, 3))
    assert rows(escalations(ds, f)) == [(MON, 5, 2, 2 / 5)]  # c06 c07 c08 c09 c11; escalated c07 c09


def test_every_definition_points_at_a_real_column(ds):
    for m in DEFINITIONS.values():
        td = TABLES[m.table]
        got = td.compute(ds, F, detail=m.detail_only)
        assert m.column in got.columns, m.key
        assert m.direction in ("higher_better", "lower_better", "neutral")
        assert m.description and m.label and m.attribution
