"""Hand-computed fixtures for tsdash.metrics.flow_extra (backlog by age and SLA state, arrivals per
hour of the week, time to clear and agents needed (Erlang C), AHT against the queue's agents,
handle-time histogram, agents against the team median, new hires by week since hire).

Every expected number is derived in the comments. The example dataset is the one of docs/METRICS.md
(window Mon 03-02 .. Wed 03-04 2026, UTC, as-of Thu 03-05 12:00).
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsdash.dataset import normalize
from tsdash.metrics import Filter, MetricError, flow, handle_time
from tsdash.metrics import flow_extra as fx
from tsdash.metrics.example import EXAMPLE_FILTER, example_dataset
from tsdash.metrics.live_extra import AGE_BUCKETS

UTC = dt.UTC
D = dt.date
MON, TUE, WED = D(2026, 3, 2), D(2026, 3, 3), D(2026, 3, 4)


@pytest.fixture(scope="module")
def ds():
    return example_dataset()


# --------------------------------------------------------------------------- backlog by age


def test_backlog_by_age_example(ds):
    # End of Mon (Tue 00:00): c13 created Mon 23:00 -> 1 h (< 4 h); c03 Mon 09:00 -> 15 h and c04
    # Mon 10:00 -> 14 h (4-24 h); c05 Fri 02-27 12:00 -> 3.5 d (3-7 d).
    # End of Tue (Wed 00:00): c04 38 h and c13 25 h (1-3 d), c05 4.5 d (3-7 d).
    # End of Wed (Thu 00:00): c09 Wed 22:00 -> 2 h, c11 Wed 10:00 -> 14 h, c04 62 h, c05 5.5 d.
    got = fx.backlog_age(ds, EXAMPLE_FILTER)
    assert got.columns == ["date", "age_bucket", "open"]
    assert got.rows() == [
        (MON, "< 4 h", 1),
        (MON, "4-24 h", 2),
        (MON, "3-7 d", 1),
        (TUE, "1-3 d", 2),
        (TUE, "3-7 d", 1),
        (WED, "< 4 h", 1),
        (WED, "4-24 h", 1),
        (WED, "1-3 d", 1),
        (WED, "3-7 d", 1),
    ]


def test_backlog_by_sla_state_example(ds):
    # Due: c04 normal Mon 10:00 + 48 h = Wed 10:00; c05 low Fri 12:00 + 120 h = Wed 12:00; c03 Wed
    # 09:00; c13 Wed 23:00; c09 high Thu 22:00; c11 normal Fri 10:00. Before Thu 00:00: c04, c05.
    got = fx.backlog_age(ds, EXAMPLE_FILTER, ("date", "sla_state"))
    assert got.rows() == [
        (MON, "within SLA", 4),
        (TUE, "within SLA", 3),
        (WED, "within SLA", 2),
        (WED, "breached", 2),
    ]
    # by week: the snapshot of the week's last window day (Wed)
    assert fx.backlog_age(ds, EXAMPLE_FILTER, ("week", "sla_state")).rows() == [
        (MON, "within SLA", 2),
        (MON, "breached", 2),
    ]
    # by queue on Wed: policy c04, c05 (both breached); disputes c09; fraud c11
    wed = fx.backlog_age(ds, EXAMPLE_FILTER.with_(start=WED), ("queue", "sla_state"))
    assert wed.rows() == [
        ("disputes", "within SLA", 1),
        ("fraud", "within SLA", 1),
        ("policy", "breached", 2),
    ]


def test_backlog_snapshot_of_the_as_of_day_is_at_as_of(ds):
    # window Thu only, as-of Thu 12:00: open c04, c05, c09, c10 (Thu 09:00 -> 3 h), c11;
    # c11 is resolved Thu 14:00, after as-of, so it is still open.
    f = EXAMPLE_FILTER.with_(start=D(2026, 3, 5), end=D(2026, 3, 5))
    got = fx.backlog_age(ds, f, ("age_bucket",))
    # ages at 12:00: c10 3 h (< 4 h), c09 14 h (4-24 h), c11 26 h (1-3 d), c04 74 h (3 d 2 h) and
    # c05 6 d (3-7 d)
    assert got.rows() == [("< 4 h", 1), ("4-24 h", 1), ("1-3 d", 1), ("3-7 d", 2)]
    assert fx.snapshot_end(f, D(2026, 3, 5)) == dt.datetime(2026, 3, 5, 12, tzinfo=UTC)


def test_backlog_cases_behind_one_bar(ds):
    got = fx.backlog_cases(ds, EXAMPLE_FILTER, WED, age_bucket_label="1-3 d")
    assert got["case_id"].to_list() == ["c04"]
    assert got["age_s"].to_list() == [62 * 3600.0]
    breached = fx.backlog_cases(ds, EXAMPLE_FILTER, "2026-03-04", sla_state="breached")
    assert breached["case_id"].to_list() == ["c05", "c04"]  # oldest first
    assert fx.backlog_cases(ds, EXAMPLE_FILTER, WED, queue="disputes")["case_id"].to_list() == ["c09"]
    with pytest.raises(MetricError, match="unknown age bucket"):
        fx.backlog_cases(ds, EXAMPLE_FILTER, WED, age_bucket_label="old")


T0 = dt.datetime(2026, 3, 1, tzinfo=UTC)


@st.composite
def case_sets(draw):
    n = draw(st.integers(0, 25))
    rows = []
    for i in range(n):
        c = draw(st.integers(0, 14 * 24))  # hours after T0
        r = draw(st.one_of(st.none(), st.integers(0, 10 * 24)))
        prio = draw(st.sampled_from(["urgent", "high", "normal", "low"]))
        q = draw(st.sampled_from(["a", "b"]))
        rows.append(
            (
                f"c{i}",
                T0 + dt.timedelta(hours=c, minutes=7),
                None if r is None else T0 + dt.timedelta(hours=c + r, minutes=9),
                prio,
                q,
            )
        )
    return rows


@settings(max_examples=40, deadline=None)
@given(rows=case_sets(), tz=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]))
def test_buckets_add_up_to_the_flow_backlog_and_match_a_brute_force_count(rows, tz):
    ts = pl.Datetime("us", "UTC")
    cases = pl.DataFrame(
        rows,
        schema={
            "case_id": pl.String,
            "created_at": ts,
            "resolved_at": ts,
            "priority": pl.String,
            "queue": pl.String,
        },
        orient="row",
    )
    data = normalize(
        {"agents": pl.DataFrame({"agent_id": ["x"], "name": ["X"], "team": ["T"]}), "cases": cases}
    )
    as_of = T0 + dt.timedelta(days=12, hours=5)
    f = Filter(D(2026, 3, 3), D(2026, 3, 15), tz=tz, as_of=as_of)
    got = fx.backlog_age(data, f, ("date", "age_bucket", "sla_state"))
    fl = flow(data, f)
    per_day = got.group_by("date").agg(pl.col("open").sum())
    want = fl.filter(pl.col("backlog") > 0).select("date", pl.col("backlog").alias("open")).sort("date")
    assert per_day.sort("date").equals(want)
    # brute force: for each day end, each case's age bucket and SLA state
    due = dict(zip(data.cases["case_id"], data.cases["due_at"], strict=True))
    expected: dict[tuple, int] = {}
    for d in fl["date"]:
        end = fx.snapshot_end(f, d)
        for cid, c, r, _p, _q in rows:
            r_seen = r if r is not None and r < as_of else None
            if c < end and (r_seen is None or r_seen >= end):
                age = (end - c).total_seconds()
                bucket = [lab for lab, lo, _hi in AGE_BUCKETS if age >= lo][-1]
                state = "breached" if due[cid] < end else "within SLA"
                expected[(d, bucket, state)] = expected.get((d, bucket, state), 0) + 1
    assert {(a, b, c): n for a, b, c, n in got.rows()} == expected


# --------------------------------------------------------------------------- arrivals


def test_arrivals_example(ds):
    # The window Mon..Wed (UTC) lies before as-of: each hour of the day is observed 3 times.
    # Hour 09: c03 (Mon) and c08 (Wed): 2 / 3. Hour 10: c04 (Mon), c11 (Wed). Hours 07 (c06),
    # 08 (c02), 12 (c07), 22 (c09), 23 (c13): 1 / 3 each.
    got = fx.arrivals(ds, EXAMPLE_FILTER, ("hour",))
    assert got.select("hour", "arrivals", "hours").rows() == [
        ("07", 1, 3.0),
        ("08", 1, 3.0),
        ("09", 2, 3.0),
        ("10", 2, 3.0),
        ("12", 1, 3.0),
        ("22", 1, 3.0),
        ("23", 1, 3.0),
    ]
    assert got.filter(pl.col("hour") == "09")["per_hour"].item() == pytest.approx(2 / 3)
    week = fx.arrivals(ds, EXAMPLE_FILTER)
    assert week.columns == ["weekday", "hour", "arrivals", "hours", "per_hour"]
    assert week.rows()[0] == ("Mon", "08", 1, 1.0, 1.0)  # Mon first, then the hours
    assert week["arrivals"].sum() == 9  # the window's inflow
    assert [w for w in week["weekday"].unique(maintain_order=True)] == ["Mon", "Tue", "Wed"]


def test_hours_observed_dst_and_as_of():
    # Berlin springs forward on Sun 29 March 2026: 02:00-03:00 does not exist (23 hours)
    spring = fx.hours_observed(
        Filter(D(2026, 3, 29), D(2026, 3, 29), tz="Europe/Berlin", as_of=T0 + dt.timedelta(days=60))
    )
    assert spring["hours"].sum() == 23.0 and "02" not in spring["hour"].to_list()
    # ... and falls back on Sun 25 October: 02:00-03:00 happens twice (25 hours)
    autumn = fx.hours_observed(
        Filter(D(2026, 10, 25), D(2026, 10, 25), tz="Europe/Berlin", as_of=T0 + dt.timedelta(days=300))
    )
    assert autumn["hours"].sum() == 25.0
    assert autumn.filter(pl.col("hour") == "02")["hours"].item() == 2.0
    # as-of Thu 05 10:40 UTC in a window Thu..Fri: hours 00..09 once, 10 by 40/60
    f = Filter(D(2026, 3, 5), D(2026, 3, 6), as_of=dt.datetime(2026, 3, 5, 10, 40, tzinfo=UTC))
    h = fx.hours_observed(f)
    assert h.height == 11 and h["weekday"].unique().to_list() == ["Thu"]
    assert h.filter(pl.col("hour") == "10")["hours"].item() == pytest.approx(40 / 60)


# --------------------------------------------------------------------------- Erlang C


def _erlang_c_direct(n: int, a: float) -> float:
    """The textbook formula: (A^N / N!) (N / (N - A)) / (sum_{k<N} A^k / k! + (A^N / N!) (N / (N - A)))."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def test_erlang_hand_values():
    # A = 2, N = 3: B = (8/6) / (1 + 2 + 2 + 8/6) = 4/19; C = 4/9 (also (8/6)(3) / (5 + 4) = 4/9)
    assert fx.erlang_b(3, 2.0) == pytest.approx(4 / 19, abs=1e-12)
    assert fx.erlang_c(3, 2.0) == pytest.approx(4 / 9, abs=1e-12)
    # N = 4: B = 2 (4/19) / (4 + 8/19) = 2/21; C = (2/21) / (1 - (1/2)(19/21)) = 4/23
    assert fx.erlang_c(4, 2.0) == pytest.approx(4 / 23, abs=1e-12)
    # share started within 60 s at AHT 600 s: 1 - (4/9) e^-0.1 = 0.59785; 1 - (4/23) e^-0.2 = 0.85761
    assert fx.service_level(3, 2.0, 600, 60) == pytest.approx(1 - 4 / 9 * math.exp(-0.1), abs=1e-12)
    assert fx.service_level(4, 2.0, 600, 60) == pytest.approx(0.857612, abs=1e-6)
    # 12 arrivals per hour x 600 s = 2 Erlangs: 3 agents give 59.8 %, 4 give 85.8 % >= 80 %
    assert fx.agents_needed(12.0, 600.0, 60.0) == 4
    assert fx.agents_needed(12.0, 600.0, 60.0, level=0.5) == 3
    # textbook: 10 Erlangs, 11 agents -> P(wait) 0.6821; 12 -> 0.4494; 13 -> 0.2853; 14 -> 0.1741
    for n, c in ((11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)):
        assert fx.erlang_c(n, 10.0) == pytest.approx(c, abs=5e-5)
    # edge cases: no load, unstable queue, no handle time
    assert (
        fx.erlang_c(1, 0.0) == 0.0 and fx.erlang_c(2, 2.0) == 1.0 and fx.service_level(2, 3.0, 600, 60) == 0.0
    )
    assert fx.agents_needed(0.0, 600.0, 60.0) == 0
    assert fx.agents_needed(5.0, None, 60.0) is None  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), a=st.floats(0.01, 59.0))
def test_erlang_c_equals_the_direct_formula_and_falls_with_agents(n, a):
    if n <= a:
        assert fx.erlang_c(n, a) == 1.0
        return
    assert fx.erlang_c(n, a) == pytest.approx(_erlang_c_direct(n, a), rel=1e-9, abs=1e-12)
    assert fx.erlang_c(n + 1, a) <= fx.erlang_c(n, a)
    assert 0.0 <= fx.service_level(n, a, 300.0, 120.0) <= 1.0


def test_erlang_c_is_stable_for_large_queues():
    # the direct formula overflows here (1150^1200 / 1200!); the recursion stays in [0, 1]
    c = fx.erlang_c(1200, 1150.0)
    assert 0.0 < c < 1.0
    n = fx.agents_needed(1150.0 * 3600 / 600, 600.0, 20.0)
    assert n is not None and 1151 <= n < 1300


# --------------------------------------------------------------------------- time to clear


def test_time_to_clear_example(ds):
    # as-of Thu 03-05 12:00 UTC; last 7 days = Fri 02-27 00:00 .. as-of: E = 6.5 days = 156 h.
    # fraud: created c01 c02 c03 c07 c10 c11 (6), resolved c01 c02 c03 c07 (4; c11 after as-of),
    # open c10 c11 (2): net +2 / 6.5 per day -> growing.
    got = fx.time_to_clear(ds, EXAMPLE_FILTER)
    assert got["queue"].to_list() == ["disputes", "fraud", "policy"]
    fraud = got.filter(pl.col("queue") == "fraud").row(0, named=True)
    assert (fraud["backlog"], fraud["inflow"], fraud["outflow"]) == (2, 6, 4)
    assert fraud["net_per_day"] == pytest.approx(2 / 6.5)
    assert fraud["status"] == "growing" and fraud["days_to_clear"] is None and fraud["clear_date"] is None
    # 6 / 156 per hour; AHT of c01 600, c02 900, c03 1200, c07 3000 = 1425 s
    assert fraud["arrivals_per_hour"] == pytest.approx(6 / 156)
    assert fraud["aht_s"] == 1425.0
    # SLA targets of the 6 created: urgent 4 h (c01, c07, c10), high 24 h (c02), normal 48 h (c03,
    # c11): median (4 + 24) / 2 = 14 h
    assert fraud["sla_target_s"] == 14 * 3600.0
    assert fraud["erlangs"] == pytest.approx(6 / 156 * 1425 / 3600)
    assert fraud["agents_needed"] == 1
    # peak: hour 09 holds c03 (Mon) and c10 (Thu), hour 10 c01 (Sun) and c11 (Wed); each hour of
    # the day was observed 7 times (Fri..Thu, Thu 09:00 and 10:00 before as-of): 2 / 7
    assert fraud["peak_per_hour"] == pytest.approx(2 / 7)
    # policy: created c04 c05 c06 c13, resolved c06 c13, open c04 c05
    policy = got.filter(pl.col("queue") == "policy").row(0, named=True)
    assert (policy["backlog"], policy["inflow"], policy["outflow"], policy["status"]) == (2, 4, 2, "growing")
    # the window does not matter (a snapshot at as-of)
    assert fx.time_to_clear(ds, EXAMPLE_FILTER.with_(start=D(2025, 1, 1), end=D(2025, 1, 2))).equals(got)


def test_time_to_clear_shrinking_and_clear():
    # as-of Thu 12 March 12:00 UTC: the last 7 days are Fri 6 .. Thu 12 up to 12:00, 6.5 days.
    # Queue q: 13 cases created 1 March, resolved in those days; 4 created 1 March still open ->
    # net -13 / 6.5 = -2 per day, 4 open: clears in 2 days, on Sat 14 March.
    # Queue z: 2 cases created and resolved in those days: nothing open -> clear.
    as_of = dt.datetime(2026, 3, 12, 12, tzinfo=UTC)
    old = dt.datetime(2026, 3, 1, 8, tzinfo=UTC)
    rows = [(f"r{i}", old, dt.datetime(2026, 3, 7, 9, tzinfo=UTC), "q", 300.0) for i in range(13)]
    rows += [(f"o{i}", old, None, "q", None) for i in range(4)]
    rows += [
        (
            f"z{i}",
            dt.datetime(2026, 3, 10, 9, tzinfo=UTC),
            dt.datetime(2026, 3, 10, 10, tzinfo=UTC),
            "z",
            600.0,
        )
        for i in range(2)
    ]
    ts = pl.Datetime("us", "UTC")
    cases = pl.DataFrame(
        rows,
        schema={
            "case_id": pl.String,
            "created_at": ts,
            "resolved_at": ts,
            "queue": pl.String,
            "handle_seconds": pl.Float64,
        },
        orient="row",
    )
    data = normalize(
        {"agents": pl.DataFrame({"agent_id": ["x"], "name": ["X"], "team": ["T"]}), "cases": cases}
    )
    got = fx.time_to_clear(data, Filter(D(2026, 3, 1), D(2026, 3, 12), as_of=as_of))
    q = got.filter(pl.col("queue") == "q").row(0, named=True)
    assert (q["backlog"], q["inflow"], q["outflow"]) == (4, 0, 13)
    assert q["net_per_day"] == pytest.approx(-2.0)
    assert q["status"] == "shrinking" and q["days_to_clear"] == pytest.approx(2.0)
    assert q["clear_date"] == D(2026, 3, 14)
    assert q["agents_needed"] == 0  # no arrivals
    z = got.filter(pl.col("queue") == "z").row(0, named=True)
    assert (z["status"], z["days_to_clear"], z["clear_date"]) == ("clear", 0.0, D(2026, 3, 12))
    # z: 2 arrivals / 156 h x 600 s; SLA target 48 h (no priority) - 600 s of wait: 1 agent
    assert z["agents_needed"] == 1


# --------------------------------------------------------------------------- handle time helpers


def test_agent_queue_aht_example(ds):
    # handle times resolved Mon..Wed: a1 fraud c01 600, c02 900 (750); a1 disputes c08 1500;
    # a2 fraud c03 1200; a3 fraud c07 3000; a3 policy c13 2000. Nobody has 5 cases in a queue.
    got = fx.agent_queue_aht(ds, EXAMPLE_FILTER)
    assert got.select("agent_id", "queue", "cases", "aht_s").rows() == [
        ("a1", "disputes", 1, 1500.0),
        ("a1", "fraud", 2, 750.0),
        ("a2", "fraud", 1, 1200.0),
        ("a3", "fraud", 1, 3000.0),
        ("a3", "policy", 1, 2000.0),
    ]
    assert got["relative"].null_count() == 5
    # with a minimum of 1 case: fraud median of 750, 1200, 3000 = 1200
    one = fx.agent_queue_aht(ds, EXAMPLE_FILTER, min_cases=1)
    assert one.filter(pl.col("queue") == "fraud")["relative"].to_list() == [0.625, 1.0, 2.5]
    assert one.filter(pl.col("queue") == "policy")["relative"].to_list() == [1.0]


def test_handle_histogram_example(ds):
    # 4 bins per decade: [562, 1000): 600, 900; [1000, 1778): 1200, 1500; [1778, 3162): 2000, 3000
    got = fx.handle_histogram(ds, EXAMPLE_FILTER, bins_per_decade=4)
    assert got["cases"].to_list() == [2, 2, 2]
    assert got["lower_s"].to_list() == pytest.approx([10**2.75, 1000.0, 10**3.25])
    assert got["upper_s"].to_list() == pytest.approx([1000.0, 10**3.25, 10**3.5])
    # the counts add up to AHT's n
    assert got["cases"].sum() == handle_time(ds, EXAMPLE_FILTER, ())["cases"].item() == 6


def test_agent_aht_team_median(ds):
    # a1 (600 + 900 + 1500) / 3 = 1000, a2 1200, a3 (3000 + 2000) / 2 = 2500: median 1200
    table, med = fx.agent_aht(ds, EXAMPLE_FILTER, min_cases=1)
    assert med == 1200.0
    assert table.select("agent_id", "cases", "aht_s", "vs_median").rows() == [
        ("a1", 3, 1000.0, 1000 / 1200),
        ("a2", 1, 1200.0, 1.0),
        ("a3", 2, 2500.0, 2500 / 1200),
    ]
    # default minimum 5 cases: nobody sets a team median
    _, none = fx.agent_aht(ds, EXAMPLE_FILTER)
    assert none is None


def test_tenure_aht_weeks_since_hire():
    # as-of Fri 27 March 2026 12:00 UTC. n1 hired Wed 4 March (week of Mon 2 March = week 0);
    # old was hired in 2024 (not a new hire). n1 resolves: Thu 5 March 1200 s and 1000 s
    # (week 0, AHT 1100), Tue 10 March 800 s (week 1), Mon 23 March 600 s (week 3, still running).
    as_of = dt.datetime(2026, 3, 27, 12, tzinfo=UTC)
    ts = pl.Datetime("us", "UTC")

    def c(cid, agent, day, handle):
        t = dt.datetime(2026, 3, day, 10, tzinfo=UTC)
        return (cid, agent, t - dt.timedelta(hours=1), t, handle)

    cases = pl.DataFrame(
        [
            c("a", "n1", 5, 1200.0),
            c("b", "n1", 5, 1000.0),
            c("c", "n1", 10, 800.0),
            c("d", "n1", 23, 600.0),
            c("e", "old", 10, 500.0),
        ],
        schema={
            "case_id": pl.String,
            "assigned_agent_id": pl.String,
            "created_at": ts,
            "resolved_at": ts,
            "handle_seconds": pl.Float64,
        },
        orient="row",
    )
    agents = pl.DataFrame(
        {
            "agent_id": ["n1", "old"],
            "name": ["N", "O"],
            "team": ["T", "T"],
            "hired_on": [D(2026, 3, 4), D(2024, 1, 1)],
        }
    )
    data = normalize({"agents": agents, "cases": cases})
    got = fx.tenure_aht(data, Filter(D(2026, 3, 21), D(2026, 3, 27), as_of=as_of))
    assert got.select("agent_id", "weeks_since_hire", "cases", "aht_s", "partial").rows() == [
        ("n1", 0, 2, 1100.0, False),
        ("n1", 1, 1, 800.0, False),
        ("n1", 3, 1, 600.0, True),
    ]
    # hired more than 120 days before as-of: not a new hire
    later = Filter(D(2026, 8, 1), D(2026, 8, 2), as_of=dt.datetime(2026, 8, 2, tzinfo=UTC))
    assert fx.tenure_aht(data, later).height == 0
