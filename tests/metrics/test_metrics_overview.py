"""KPI tiles, live workload and drill-down on the worked example (numbers by hand)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tsdash.metrics import (
    DEFINITIONS,
    KPI_KEYS,
    Filter,
    MetricError,
    cases_behind,
    elapsed_days,
    kpis,
    pin,
    workload_agents,
    workload_queues,
)
from tsdash.metrics.example import EXAMPLE_FILTER as F
from tsdash.metrics.example import example_dataset

UTC = dt.UTC
MON = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def ds():
    return example_dataset()


def test_kpis(ds):
    k = kpis(ds, F)
    assert tuple(k) == KPI_KEYS
    # open at Thu 12:00: c04 c05 c09 c10 c11; 3 days earlier (Mon 12:00): c02 (resolved at exactly 12:00) c03 c04 c05
    assert (k["open_backlog"].value, k["open_backlog"].previous) == (5, 4)
    # 9 created, 7 resolved over 3 whole days; previous period Fri..Sun: c05, c01 created, nothing resolved
    assert (k["created_per_day"].value, k["created_per_day"].n) == (3.0, 9)
    assert k["created_per_day"].previous == pytest.approx(2 / 3)
    assert k["resolved_per_day"].value == pytest.approx(7 / 3) and k["resolved_per_day"].previous == 0
    # AHT over 600 900 1500 1200 3000 2000 = 9200 / 6
    assert k["aht"].value == pytest.approx(9200 / 6) and k["aht"].n == 6
    assert k["aht"].ci_low < k["aht"].value < k["aht"].ci_high
    assert k["aht"].previous is None  # nothing resolved in the previous period
    # first responses 600 1200 1800 1800 3600 32400 -> median 1800; previous: c05 and c01 3600 each
    assert (k["first_response"].value, k["first_response"].n, k["first_response"].previous) == (
        1800.0,
        6,
        3600.0,
    )
    # n = 6: ranks j = floor(3 - 2.4) = 1, k = ceil(4 + 2.4) = 7 -> clipped to 6: (600, 32400)
    assert (k["first_response"].ci_low, k["first_response"].ci_high) == (600.0, 32400.0)
    assert k["sla_attainment"].value == pytest.approx(5 / 7) and k["sla_attainment"].n == 7
    assert k["qa_mean"].value == 82.5 and k["qa_mean"].n == 4
    assert k["escalation_rate"].value == pytest.approx(4 / 9) and k["escalation_rate"].previous == 0.0
    assert k["escalation_rate"].delta == pytest.approx(4 / 9)
    assert k["sla_attainment"].direction == "higher_better"
    assert k["aht"].description == DEFINITIONS["aht"].description


def test_kpis_subset_is_the_full_sets_tiles(ds):
    # a page asking for some tiles gets exactly those, each as in the full set (values by hand
    # in test_kpis); the queries of the others are not run
    full = kpis(ds, F)
    k = kpis(ds, F, keys=("aht",))
    assert list(k) == ["aht"] and k["aht"] == full["aht"]
    assert k["aht"].value == pytest.approx(9200 / 6) and k["aht"].n == 6
    k = kpis(ds, F, keys=("resolved_per_day", "open_backlog", "created_per_day"))
    assert list(k) == ["open_backlog", "created_per_day", "resolved_per_day"]  # KPI_KEYS' order
    assert (k["open_backlog"].value, k["open_backlog"].previous) == (5, 4)
    assert all(k[key] == full[key] for key in k)
    for key in KPI_KEYS:
        assert kpis(ds, F, keys=(key,)) == {key: full[key]}
    assert kpis(ds, F, keys=()) == {}
    with pytest.raises(MetricError, match="unknown KPI 'nope'"):
        kpis(ds, F, keys=("aht", "nope"))


def test_elapsed_days_counts_the_running_day_by_its_fraction():
    f = Filter(
        dt.date(2026, 3, 28),
        dt.date(2026, 3, 29),
        tz="Europe/Berlin",
        as_of=dt.datetime(2026, 3, 29, 10, 30, tzinfo=UTC),
    )
    # Sat whole; Sun (23 h, began Sat 23:00 UTC) 11.5 h elapsed -> 1 + 11.5/23
    assert elapsed_days(f) == pytest.approx(1.5)


def test_pin_reads_the_clock_once():
    f = Filter(MON, MON)
    p = pin(f, now=dt.datetime(2026, 3, 2, 8, tzinfo=UTC))
    assert p.as_of == dt.datetime(2026, 3, 2, 8, tzinfo=UTC) and pin(p) is p


def test_kpis_without_frozen_as_of(ds):
    # as_of = now (well after the data): everything resolved or open as recorded; nothing raises
    k = kpis(ds, Filter(MON, dt.date(2026, 3, 4)))
    assert k["created_per_day"].value == 3.0  # the same 9 cases; c10 (Thu) and c12 (Fri) are outside
    assert k["open_backlog"].value == 4  # c04 c05 c09 c10 (c11 is resolved by now)


def test_workload_agents(ds):
    got = workload_agents(ds, F)
    assert got.columns == [
        "agent_id",
        "name",
        "team",
        "open",
        "breached",
        "due_within_1h",
        "due_within_4h",
        "oldest_age_s",
    ]
    assert got.select("agent_id", "name", "team", "open").rows() == [
        ("a1", "Ann", "T1", 2),
        ("a2", "Bob", "T1", 1),
        ("a3", "Cy", "T2", 1),
    ]


def test_workload_queues(ds):
    got = workload_queues(ds, F)
    assert got.select("queue", "priority", "open", "due_within_4h", "open_escalations").rows() == [
        ("disputes", "high", 1, 0, 1),
        ("fraud", "normal", 1, 0, 0),
        ("fraud", "urgent", 1, 1, 0),
        ("policy", "low", 1, 0, 0),
        ("policy", "normal", 1, 0, 0),
    ]


def ids(df):
    return df["case_id"].to_list()


def test_cases_behind_flow(ds):
    assert ids(cases_behind(ds, F, "flow", "inflow", date=MON)) == ["c02", "c03", "c04", "c13"]
    assert ids(cases_behind(ds, F, "flow", "outflow", date="2026-03-03")) == ["c03", "c07", "c06"]
    assert sorted(ids(cases_behind(ds, F, "flow", "backlog", date="2026-03-04"))) == [
        "c04",
        "c05",
        "c09",
        "c11",
    ]
    assert sorted(ids(cases_behind(ds, F, "flow", "backlog", week=MON))) == ["c04", "c05", "c09", "c11"]
    assert ids(cases_behind(ds, F, "flow", "inflow", date=MON, queue="policy")) == ["c04", "c13"]


def test_cases_behind_rates_and_snapshots(ds):
    assert ids(cases_behind(ds, F, "sla", "breached", week=MON)) == ["c01", "c07"]
    assert ids(cases_behind(ds, F, "escalations", "escalated")) == ["c03", "c13", "c07", "c09"]
    assert ids(cases_behind(ds, F, "handle-time", agent_id="a1", week=MON)) == ["c01", "c02", "c08"]
    assert ids(cases_behind(ds, F, "backlog-now", "unassigned")) == ["c04"]
    assert sorted(ids(cases_behind(ds, F, "backlog-now", "breached", queue="policy"))) == ["c04", "c05"]
    assert ids(cases_behind(ds, F, "escalations", agent_id=None)) == ["c04"]  # the unassigned case
    q = cases_behind(ds, F, "quality", "fails", agent_id="a1")
    assert q["review_id"].to_list() == ["r1"] and q["case_id"].to_list() == ["c02"]
    assert ids(cases_behind(ds, F, "qa-coverage", "not_reviewed", agent_id="a1")) == ["c08"]


def test_cases_behind_errors(ds):
    with pytest.raises(MetricError, match="unknown metric"):
        cases_behind(ds, F, "nope")
    with pytest.raises(MetricError, match="choose measure"):
        cases_behind(ds, F, "flow")
    with pytest.raises(MetricError, match="cannot select on 'colour'"):
        cases_behind(ds, F, "sla", colour="red")
    with pytest.raises(MetricError, match="unknown measure"):
        cases_behind(ds, F, "sla", "nope")


def test_trend_flags_a_change_outside_normal_variation():
    import polars as pl

    from tsdash.dataset import normalize
    from tsdash.metrics import trend

    # weekly inflow 10 12 11 13 12 14 13 15 14 30 (weeks from Mon 2026-01-05), cases created Mondays 12:00
    counts = [10, 12, 11, 13, 12, 14, 13, 15, 14, 30]
    created = [
        dt.datetime(2026, 1, 5, 12, tzinfo=UTC) + dt.timedelta(weeks=w)
        for w, n in enumerate(counts)
        for _ in range(n)
    ]
    cases = pl.DataFrame(
        {"case_id": [f"c{i}" for i in range(len(created))], "queue": "q", "created_at": created}
    )
    ds = normalize(
        {"agents": pl.DataFrame({"agent_id": ["a"], "name": ["A"], "team": ["T"]}), "cases": cases}
    )
    last = dt.date(2026, 3, 9)  # week 9
    f = Filter(
        last - dt.timedelta(weeks=1), last + dt.timedelta(days=6), as_of=dt.datetime(2026, 4, 1, tzinfo=UTC)
    )
    got = trend(ds, f, "inflow")
    assert got["week"].to_list() == [dt.date(2026, 3, 2), last]
    w8, w9 = got.row(0, named=True), got.row(1, named=True)
    # week 9: change 16 against 3.267 x 10/7 (mean moving range of weeks 1..8); week 8: -1 against 3.267 x 11/7
    assert (w9["value"], w9["previous"], w9["change"]) == (30, 14, 16)
    assert w9["change_limit"] == pytest.approx(3.267 * 10 / 7) and w9["flag"] is True
    assert w8["change_limit"] == pytest.approx(3.267 * 11 / 7) and w8["flag"] is False
    assert w9["partial"] is False
    with pytest.raises(MetricError, match="snapshot"):
        trend(ds, f, "open_backlog")


def test_trend_first_week_cut_by_the_window_counts_only_window_days():
    import polars as pl

    from tsdash.dataset import normalize
    from tsdash.metrics import trend

    # 2 cases every day from Mon 2026-01-05 to Sun 2026-03-15, at 12:00 UTC: 14 a week
    days = [dt.date(2026, 1, 5) + dt.timedelta(days=i) for i in range(70)]
    created = [dt.datetime.combine(d, dt.time(12), tzinfo=UTC) for d in days for _ in range(2)]
    cases = pl.DataFrame(
        {"case_id": [f"c{i}" for i in range(len(created))], "queue": "q", "created_at": created}
    )
    ds = normalize(
        {"agents": pl.DataFrame({"agent_id": ["a"], "name": ["A"], "team": ["T"]}), "cases": cases}
    )
    # window from Wed 2026-03-04 to Sun 2026-03-15: the week of Mon 2 Mar holds Wed..Sun only
    f = Filter(dt.date(2026, 3, 4), dt.date(2026, 3, 15), as_of=dt.datetime(2026, 4, 1, tzinfo=UTC))
    got = trend(ds, f, "inflow")
    assert got["week"].to_list() == [dt.date(2026, 3, 2), dt.date(2026, 3, 9)]
    first, second = got.row(0, named=True), got.row(1, named=True)
    assert (first["value"], first["previous"], first["change"], first["partial"]) == (10, 14, -4, True)
    # the history is whole weeks: the second week compares with the whole first week (14)
    assert (second["value"], second["previous"], second["change"], second["partial"]) == (14, 14, 0, False)
    # every history week is 14, so the moving ranges are 0 and the limit is 0: any change is a flag
    assert first["change_limit"] == 0 and first["flag"] is True and second["flag"] is False


def test_mean_intervals_are_clipped_to_possible_values():
    import polars as pl

    from tsdash.dataset import normalize
    from tsdash.metrics import handle_time, kpis

    # two resolved cases with handle times 10 s and 1000 s: mean 505, s = 990 / sqrt(2) = 700.04,
    # t(0.975, 1) = 12.706: 505 - 12.706 * 700.04 / sqrt(2) = -5784 -> clipped to 0
    created = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    cases = pl.DataFrame(
        {
            "case_id": ["c1", "c2"],
            "queue": "q",
            "created_at": [created, created],
            "resolved_at": [created + dt.timedelta(hours=1)] * 2,
            "assigned_agent_id": ["a", "a"],
            "handle_seconds": [10.0, 1000.0],
        }
    )
    ds = normalize(
        {"agents": pl.DataFrame({"agent_id": ["a"], "name": ["A"], "team": ["T"]}), "cases": cases}
    )
    f = Filter(dt.date(2026, 3, 2), dt.date(2026, 3, 8), as_of=dt.datetime(2026, 3, 9, tzinfo=UTC))
    row = handle_time(ds, f, by=(), detail=True).row(0, named=True)
    assert row["aht_s"] == 505.0
    assert row["aht_ci_low"] == 0.0
    assert row["aht_ci_high"] == pytest.approx(505 + 12.7062 * 700.0357 / 2**0.5, rel=1e-4)
    k = kpis(ds, f)["aht"]
    assert (k.value, k.ci_low) == (505.0, 0.0)


def test_trend_band_is_clipped_to_possible_values_and_the_flag_is_not():
    import polars as pl

    from tsdash.dataset import normalize
    from tsdash.metrics import trend

    # 10 weeks from Mon 2026-01-05, 4 cases created each Monday 12:00; weeks alternate all escalated
    # (rate 1) and none escalated (rate 0), and the inflow alternates with them: 4 cases, then 1.
    rows = []
    for w in range(10):
        n = 4 if w % 2 == 0 else 1
        for i in range(n):
            rows.append(
                (f"c{w}_{i}", dt.datetime(2026, 1, 5, 12, tzinfo=UTC) + dt.timedelta(weeks=w), w % 2 == 0)
            )
    cases = pl.DataFrame(
        {
            "case_id": [r[0] for r in rows],
            "queue": "q",
            "created_at": [r[1] for r in rows],
            "escalated_at": [r[1] + dt.timedelta(hours=1) if r[2] else None for r in rows],
        }
    )
    ds = normalize(
        {"agents": pl.DataFrame({"agent_id": ["a"], "name": ["A"], "team": ["T"]}), "cases": cases}
    )
    f = Filter(dt.date(2026, 3, 9), dt.date(2026, 3, 15), as_of=dt.datetime(2026, 4, 1, tzinfo=UTC))
    # week 9 (Mon 9 Mar): rate 0 after week 8's 1; moving ranges of weeks 1..8 are all 1: limit 3.267
    [esc] = trend(ds, f, "escalation_rate").iter_rows(named=True)
    assert (esc["value"], esc["previous"], esc["change"]) == (0.0, 1.0, -1.0)
    assert esc["change_limit"] == pytest.approx(3.267)
    assert (esc["lower"], esc["upper"]) == (0.0, 1.0)  # 1 -/+ 3.267, clipped to 0%..100%
    assert esc["flag"] is False  # |-1| < 3.267: the unclipped limit decides
    # inflow: 1 after 4, moving ranges all 3: limit 9.801; 4 - 9.801 < 0 -> 0, upper unclipped
    [inf] = trend(ds, f, "inflow").iter_rows(named=True)
    assert (inf["value"], inf["previous"]) == (1, 4)
    assert inf["lower"] == 0.0 and inf["upper"] == pytest.approx(4 + 3 * 3.267)


# ------------------------------------------------------------------ several measures at once


@pytest.fixture(scope="module")
def demo_ds():
    from tsdash.dataset import normalize
    from tsdash.demo import generate

    now = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
    return normalize(generate(days=30, agents=8, seed=3, now=now)), now


def test_cases_behind_each_equals_one_call_per_measure(demo_ds):
    """Every rate table and every measure, with and without a selection: the frames of
    cases_behind_each are exactly cases_behind's (the population is found once)."""
    from polars.testing import assert_frame_equal

    from tsdash.metrics import Filter, backlog_now, cases_behind, cases_behind_each
    from tsdash.metrics.overview import _rate_measures

    ds, now = demo_ds
    f = Filter(now.date() - dt.timedelta(days=13), now.date(), tz="Europe/Berlin", as_of=now)
    nonempty = 0
    for metric, (_, conds) in _rate_measures(80).items():
        measures = (None, *conds)
        for sel in ({}, {"queue": "payments_fraud"}):
            if metric in ("quality", "workload") and sel:
                sel = {"agent_id": "A02"}
            got = cases_behind_each(ds, f, metric, measures, **sel)
            assert list(got) == list(measures)
            for ms in measures:
                want = cases_behind(ds, f, metric, ms, **sel)
                assert_frame_equal(got[ms], want)
                nonempty += want.height > 0
    assert nonempty >= 30  # the demo has cases behind most of them
    # and they are the numbers of the table: the open backlog's breached / due / escalated counts
    each = cases_behind_each(ds, f, "backlog-now", ("breached", "due_within_4h", "open_escalations"))
    row = backlog_now(ds, f, (), detail=True).row(0, named=True)
    assert [each[k].height for k in ("breached", "due_within_4h", "open_escalations")] == [
        row["breached"],
        row["due_within_4h"],
        row["open_escalations"],
    ]
    with pytest.raises(Exception, match="not a rate table"):
        cases_behind_each(ds, f, "handle-time", (None,))
    with pytest.raises(Exception, match="unknown measure"):
        cases_behind_each(ds, f, "sla", ("nope",))


def test_cases_behind_largest_is_the_head_of_the_sorted_population(demo_ds):
    """largest=(col, n): the n rows of the whole population with the largest values (ties by the
    smaller id), the same rows as sorting everything; here the 25 slowest cases."""
    from tsdash.metrics import Filter, cases_behind

    ds, now = demo_ds
    f = Filter(now.date() - dt.timedelta(days=13), now.date(), tz="Europe/Berlin", as_of=now)
    for sel in ({}, {"queue": "payments_fraud"}, {"agent_id": "A03"}):
        whole = cases_behind(ds, f, "handle-time", **sel)
        want = whole.sort(["handle_seconds", "case_id"], descending=[True, False]).head(25)
        got = cases_behind(ds, f, "handle-time", largest=("handle_seconds", 25), **sel)
        assert whole.height > 25 and got.height == 25
        assert sorted(got["case_id"].to_list()) == sorted(want["case_id"].to_list())
        assert got["handle_seconds"].min() == want["handle_seconds"][-1]
        assert got.columns == whole.columns and got.equals(
            whole.filter(pl.col("case_id").is_in(want["case_id"].implode()))
        )
    # reviews: by score, ties by review id
    got = cases_behind(ds, f, "quality", largest=("score", 3))
    whole = cases_behind(ds, f, "quality").sort(["score", "review_id"], descending=[True, False])
    assert got["review_id"].sort().to_list() == whole["review_id"].head(3).sort().to_list()
