"""Hand-computed fixtures for tsdash.metrics.quality_extra (the qa-agents report and the helpers
of the Quality and Escalations pages). Every expected number is derived in the comments."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tsdash.dataset import normalize
from tsdash.metrics import DEFINITIONS, TABLES, Filter, escalations, qa_criteria, quality
from tsdash.metrics import quality_extra as qx
from tsdash.metrics.example import EXAMPLE_AS_OF, EXAMPLE_FILTER, example_dataset, example_tables

UTC = dt.UTC
F = EXAMPLE_FILTER


def approx(x, rel=1e-9):
    return pytest.approx(x, rel=rel, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# the registry's worked examples (docs/METRICS.md)
# ---------------------------------------------------------------------------------------------


def test_qa_agents_on_the_worked_example():
    got = qx.qa_agents(example_dataset(), F, detail=True)
    assert got.columns[:6] == list(TABLES["qa-agents"].columns)
    rows = {r["agent_id"]: r for r in got.iter_rows(named=True)}
    # a1: r1 95, r2 85 (mean 90, variance 50); a2: r3 70; a3: r4 80; r5 is after as-of
    assert [rows[a]["reviews"] for a in ("a1", "a2", "a3")] == [2, 1, 1]
    # mu = 330 / 4 = 82.5; sigma^2 = 50; w = 2/50, 1/50, 1/50 = 0.04, 0.02, 0.02
    # Q = 0.04 * 7.5^2 + 0.02 * 12.5^2 + 0.02 * 2.5^2 = 2.25 + 3.125 + 0.125 = 5.5
    # sum w = 0.08, sum w^2 = 0.0016 + 0.0004 + 0.0004 = 0.0024; tau^2 = (5.5 - 2) / (0.08 - 0.03) = 70
    # a1: B = 70 / (70 + 50 / 2) = 70 / 95; a2, a3: B = 70 / 120
    assert rows["a1"]["mean_score_weight"] == approx(70 / 95)
    assert rows["a2"]["mean_score_weight"] == approx(70 / 120)
    assert rows["a1"]["mean_score_shrunk"] == approx(82.5 + 70 / 95 * 7.5)  # 88.026
    assert rows["a2"]["mean_score_shrunk"] == approx(82.5 - 70 / 120 * 12.5)  # 75.208
    assert rows["a3"]["mean_score_shrunk"] == approx(82.5 - 70 / 120 * 2.5)  # 81.042
    assert round(rows["a1"]["mean_score_shrunk"], 2) == 88.03
    assert round(rows["a2"]["mean_score_shrunk"], 2) == 75.21
    assert round(rows["a3"]["mean_score_shrunk"], 2) == 81.04
    # pass rates 1/2, 0/1, 1/1: p = 0.5; w = n / 0.25 = 8, 4, 4; Q = 0 + 4 * 0.25 + 4 * 0.25 = 2 = k - 1
    # -> tau^2 = 0, every agent gets 0.5 (weight 0)
    assert [rows[a]["pass_rate"] for a in ("a1", "a2", "a3")] == [0.5, 0.0, 1.0]
    assert [rows[a]["pass_rate_shrunk"] for a in ("a1", "a2", "a3")] == [0.5, 0.5, 0.5]
    assert [rows[a]["pass_rate_weight"] for a in ("a1", "a2", "a3")] == [0.0, 0.0, 0.0]
    assert rows["a1"]["team_mean_score"] == 82.5 and rows["a1"]["team_pass_rate"] == 0.5
    # the raw columns are the engine's quality table
    q = quality(example_dataset(), F, ("agent_id",), detail=True)
    assert got["mean_score"].to_list() == q["mean_score"].to_list()
    assert got["mean_score_ci_low"].to_list() == q["mean_score_ci_low"].to_list()
    assert got["pass_rate_ci_high"].to_list() == q["pass_rate_ci_high"].to_list()
    assert got["critical_errors"].to_list() == [1, 0, 0]
    # the examples quote these numbers
    assert "88.03" in DEFINITIONS["qa_mean_shrunk"].example
    assert "75.21" in DEFINITIONS["qa_mean_shrunk"].example
    assert "81.04" in DEFINITIONS["qa_mean_shrunk"].example
    assert "0.5" in DEFINITIONS["qa_pass_rate_shrunk"].example


# ---------------------------------------------------------------------------------------------
# a fixture where agents really differ: 20 reviews each, passes 15, 10, 5
# ---------------------------------------------------------------------------------------------

START = dt.datetime(2026, 3, 2, 8, tzinfo=UTC)
SPREAD_F = Filter(
    dt.date(2026, 3, 2), dt.date(2026, 3, 8), tz="UTC", as_of=dt.datetime(2026, 3, 10, tzinfo=UTC)
)


def spread_tables() -> dict[str, pl.DataFrame]:
    """Agents a, b, c with 20 reviews each: a pass review scores 90, a failing one 60 (< 80)."""
    passes = {"a": 15, "b": 10, "c": 5}
    cases, reviews, criteria = [], [], []
    i = 0
    for agent, p in passes.items():
        for j in range(20):
            i += 1
            cid, rid = f"c{i:03d}", f"r{i:03d}"
            t = START + dt.timedelta(hours=i)
            cases.append((cid, "fraud", agent, t, t + dt.timedelta(minutes=30)))
            score = 90.0 if j < p else 60.0
            reviews.append(
                (rid, cid, agent, t + dt.timedelta(hours=1), score, False, f"<b>{agent}</b> *{j}* $x$")
            )
            # documentation pulls agent c down: 40 instead of the review score
            criteria.append((rid, "documentation", 40.0 if agent == "c" else score))
            criteria.append((rid, "communication", score))
    ts = pl.Datetime("us", "UTC")
    return {
        "agents": pl.DataFrame(
            {"agent_id": ["a", "b", "c"], "name": ["A", "B", "C"], "team": ["T", "T", "T"]}
        ),
        "cases": pl.DataFrame(
            cases,
            schema={
                "case_id": pl.String,
                "queue": pl.String,
                "assigned_agent_id": pl.String,
                "created_at": ts,
                "resolved_at": ts,
            },
            orient="row",
        ),  # fmt: skip
        "qa_reviews": pl.DataFrame(
            reviews,
            schema={
                "review_id": pl.String,
                "case_id": pl.String,
                "agent_id": pl.String,
                "reviewed_at": ts,
                "score": pl.Float64,
                "critical_error": pl.Boolean,
                "comment": pl.String,
            },
            orient="row",
        ),  # fmt: skip
        "qa_criteria": pl.DataFrame(
            criteria,
            schema={"review_id": pl.String, "criterion": pl.String, "score": pl.Float64},
            orient="row",
        ),
    }


@pytest.fixture(scope="module")
def spread():
    return normalize(spread_tables())


def test_shrinkage_when_agents_differ(spread):
    got = qx.qa_agents(spread, SPREAD_F, detail=True)
    r = {x["agent_id"]: x for x in got.iter_rows(named=True)}
    # means: a (15 x 90 + 5 x 60) / 20 = 82.5, b 75, c 67.5; mu = 75
    assert [r[a]["mean_score"] for a in "abc"] == [82.5, 75.0, 67.5]
    # within SS: a 15 x 7.5^2 + 5 x 22.5^2 = 3375, b 20 x 15^2 = 4500, c 3375 -> sigma^2 = 11250 / 57
    # w = 20 / sigma^2 = 1140 / 11250 for each; Q = w (56.25 + 0 + 56.25) = 11.4
    # sum w - sum w^2 / sum w = 3w - w = 2w = 2280 / 11250; tau^2 = 9.4 / (2280 / 11250) = 105750 / 2280
    # B = tau^2 / (tau^2 + sigma^2 / 20) = (105750 / 2280) / (128250 / 2280) = 47 / 57
    assert r["a"]["mean_score_weight"] == approx(47 / 57)
    assert r["a"]["mean_score_shrunk"] == approx(75 + 47 / 57 * 7.5)  # 81.184
    assert r["b"]["mean_score_shrunk"] == approx(75.0)
    assert r["c"]["mean_score_shrunk"] == approx(75 - 47 / 57 * 7.5)  # 68.816
    # pass rates 0.75, 0.5, 0.25: p = 0.5, v = 0.25, w = 80 each; Q = 80 x (0.0625 + 0 + 0.0625) = 10
    # denominator 3 x 80 - 80 = 160; tau^2 = (10 - 2) / 160 = 0.05; M = 0.25 / 0.05 - 1 = 4
    # shrunk a = (15 + 4 x 0.5) / (20 + 4) = 17 / 24, b 12 / 24, c 7 / 24; weight 20 / 24
    assert [r[a]["pass_rate_shrunk"] for a in "abc"] == [approx(17 / 24), approx(0.5), approx(7 / 24)]
    assert r["a"]["pass_rate_weight"] == approx(20 / 24)
    mp, pp = qx.qa_pooling(spread, SPREAD_F)
    assert mp.center == 75.0 and mp.within == approx(11250 / 57) and mp.between == approx(105750 / 2280)
    assert pp.center == 0.5 and pp.between == approx(0.05) and pp.prior_n == approx(4.0)


def test_single_agent_is_not_pooled(spread):
    got = qx.qa_agents(spread, SPREAD_F.with_(agents=("c",)), detail=True)
    assert got.rows()[0][:6] == ("c", 20, 67.5, 67.5, 0.25, 0.25)
    assert got["mean_score_weight"].to_list() == [1.0]


def test_one_review_each_is_not_pooled():
    # a1 r2 85 (Mon), a2 r3 70, a3 r4 80: nobody has two reviews -> sigma^2 unknown -> raw means
    f = F.with_(start=dt.date(2026, 3, 4))  # Wed only: r3 (a2, 70) and r4 (a3, 80)
    got = qx.qa_agents(example_dataset(), f)
    assert got.select("agent_id", "mean_score", "mean_score_shrunk").rows() == [
        ("a2", 70.0, 70.0),
        ("a3", 80.0, 80.0),
    ]
    # pass rates 0/1 and 1/1: p = 0.5, w = 4, 4, Q = 4 x 0.25 x 2 = 2 > k - 1 = 1
    # tau^2 = (2 - 1) / (8 - 32 / 8) = 0.25 = p (1 - p) -> M = 0: no shrinkage
    assert got["pass_rate_shrunk"].to_list() == [0.0, 1.0]


def test_empty_window_and_bad_grouping(spread):
    f = SPREAD_F.with_(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))
    got = qx.qa_agents(spread, f, detail=True)
    assert got.height == 0 and got.columns[:6] == list(TABLES["qa-agents"].columns)
    with pytest.raises(qx.MetricError, match="cannot group by 'week'"):
        qx.qa_agents(spread, SPREAD_F, ("week",))


def test_normal_shrinkage_with_a_vanishing_within_variance():
    """Hypothesis found it: sigma^2 = 5e-324 / 1 (one agent with two reviews) makes sigma^2 / 2
    underflow to 0 while tau^2 = 0 (both agents score 40): every weight is 0, nothing divides."""
    shrunk, weights, pool = qx.normal_shrinkage([1, 2], [40.0, 40.0], [None, 5e-324])
    assert weights == [0.0, 0.0]
    assert shrunk == [40.0, 40.0]
    assert pool.between == 0.0


@settings(max_examples=60, deadline=None)
@example(groups=[(1, 0.0, 40.0, 0.0), (2, 0.0, 40.0, 5e-324)])
@given(
    groups=st.lists(
        st.tuples(st.integers(1, 40), st.floats(0, 1), st.floats(40, 100), st.floats(0, 400)),
        min_size=1,
        max_size=8,
    )
)
def test_shrunk_values_lie_between_raw_and_team(groups):
    n = [g[0] for g in groups]
    x = [round(g[1] * g[0]) for g in groups]
    mean = [g[2] for g in groups]
    var = [g[3] if g[0] >= 2 else None for g in groups]
    for shrunk, weights, pool, raw in (
        (*qx.normal_shrinkage(n, mean, var), mean),
        (*qx.beta_binomial_shrinkage(x, n), [xi / ni for xi, ni in zip(x, n, strict=True)]),
    ):
        c = pool.center
        for s, b, r in zip(shrunk, weights, raw, strict=True):
            assert 0.0 <= b <= 1.0
            lo, hi = min(r, c), max(r, c)
            assert lo - 1e-9 <= s <= hi + 1e-9


# ---------------------------------------------------------------------------------------------
# per-agent comparisons
# ---------------------------------------------------------------------------------------------


def test_criterion_gaps(spread):
    got = qx.criterion_gaps(spread, SPREAD_F)
    doc = {r["agent_id"]: r for r in got.filter(pl.col("criterion") == "documentation").iter_rows(named=True)}
    # documentation: a 82.5, b 75, c 40 (always 40) -> team (1650 + 1500 + 800) / 60 = 65.833
    assert doc["c"]["mean_score"] == 40.0 and doc["c"]["scores"] == 20
    assert doc["c"]["team_mean"] == approx(3950 / 60)
    assert doc["c"]["gap"] == approx(40 - 3950 / 60)  # -25.83
    assert doc["a"]["gap"] == approx(82.5 - 3950 / 60)
    # the team mean is the engine's qa-criteria by criterion
    team = qa_criteria(spread, SPREAD_F, ("criterion",))
    assert team.filter(pl.col("criterion") == "documentation")["mean_score"][0] == doc["c"]["team_mean"]


def test_criterion_reviews_show_comments_and_cases(spread):
    got = qx.criterion_reviews(spread, SPREAD_F, agent_id="c", criterion="documentation")
    assert got.height == 20
    assert got["case_id"][0] == "c041" and got["criterion_score"].unique().to_list() == [40.0]
    assert got["comment"][0] == "<b>c</b> *0* $x$"  # kept literally


def test_speed_vs_quality():
    got = qx.speed_vs_quality(example_dataset(), F)
    # AHT a1 (600 + 900 + 1500) / 3 = 1000, a2 1200, a3 (3000 + 2000) / 2 = 2500; QA a1 90, a2 70, a3 80
    assert got.select("agent_id", "aht_s", "mean_score", "reviews").rows() == [
        ("a1", 1000.0, 90.0, 2),
        ("a2", 1200.0, 70.0, 1),
        ("a3", 2500.0, 80.0, 1),
    ]


def test_escalation_vs_quality():
    got = qx.escalation_vs_quality(example_dataset(), F, min_cases=3, min_reviews=2)
    r = {x["agent_id"]: x for x in got.iter_rows(named=True)}
    # created in the window: a1 c02 c08 c09 c11 (4; escalated c09), a2 c03 c06 (2; c03), a3 c07 c13 (2; both)
    # c04 is unassigned: left out
    assert set(r) == {"a1", "a2", "a3"}
    assert (r["a1"]["created"], r["a1"]["escalated"], r["a1"]["escalation_rate"]) == (4, 1, 0.25)
    assert (r["a3"]["created"], r["a3"]["escalated"], r["a3"]["escalation_rate"]) == (2, 2, 1.0)
    # few: created < 3 or reviews < 2 -> a1 (4 cases, 2 reviews) is enough; a2 and a3 are not
    assert [r[a]["few"] for a in ("a1", "a2", "a3")] == [False, True, True]
    assert r["a1"]["mean_score"] == 90.0
    m = qx.medians(got, "escalation_rate", "mean_score")
    assert m == {"escalation_rate": 0.5, "mean_score": 80.0}  # rates 0.25, 0.5, 1; scores 90, 70, 80


# ---------------------------------------------------------------------------------------------
# escalations
# ---------------------------------------------------------------------------------------------


def reasons_dataset():
    tables = example_tables()
    reason = {"c03": "legal", "c07": "payments_team", "c09": "legal"}  # c13 has none
    tables["cases"] = tables["cases"].with_columns(
        pl.col("case_id")
        .replace_strict(reason, default=None, return_dtype=pl.String)
        .alias("escalation_reason")
    )
    return normalize(tables)


def test_escalations_by_reason():
    ds = reasons_dataset()
    got = qx.escalations_by_reason(ds, F, ("week",))
    # week of Mon 03-02: created 9; escalated c03 (legal), c07 (payments_team), c09 (legal), c13 (none)
    assert got.select("escalation_reason", "escalated", "created").rows() == [
        (qx.NO_REASON, 1, 9),
        ("legal", 2, 9),
        ("payments_team", 1, 9),
    ]
    assert got["share"].to_list() == [1 / 9, 2 / 9, 1 / 9]
    # the reasons add up to the engine's escalated count
    assert got["escalated"].sum() == escalations(ds, F)["escalated"].sum() == 4
    by_day = qx.escalations_by_reason(ds, F, ("date",))
    # Mon: c03 and c13 created (created Mon: c02 c03 c04 c13 = 4); Tue: c07 (created c06 c07 = 2); Wed: c09
    assert by_day.select("date", "escalation_reason", "escalated", "created").rows() == [
        (dt.date(2026, 3, 2), qx.NO_REASON, 1, 4),
        (dt.date(2026, 3, 2), "legal", 1, 4),
        (dt.date(2026, 3, 3), "payments_team", 1, 2),
        (dt.date(2026, 3, 4), "legal", 1, 3),
    ]
    totals = qx.reason_totals(ds, F)
    assert totals.select("escalation_reason", "escalated").rows()[0] == ("legal", 2)
    # drill: the legal cases of the week
    cases = qx.escalated_cases_by_reason(ds, F, "legal", week="2026-03-02")
    assert cases["case_id"].to_list() == ["c03", "c09"]
    assert qx.escalated_cases_by_reason(ds, F, qx.NO_REASON)["case_id"].to_list() == ["c13"]
    # empty window
    empty = qx.escalations_by_reason(ds, F.with_(start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 2)))
    assert empty.height == 0 and empty.columns == [
        "week",
        "escalation_reason",
        "escalated",
        "created",
        "share",
    ]


def test_open_escalations_oldest_first():
    ds = reasons_dataset()
    got = qx.open_escalations(ds, F)
    # at Thu 12:00 only c09 is open with an unresolved escalation (escalated Thu 10:00): 2 h
    assert got["case_id"].to_list() == ["c09"]
    assert got["escalation_age_s"].to_list() == [7200.0]
    assert got["escalation_reason"].to_list() == ["legal"]
    # a day later (Fri 12:00) nothing changes for c09: 26 h
    later = qx.open_escalations(ds, F.with_(as_of=EXAMPLE_AS_OF + dt.timedelta(days=1)))
    assert later["escalation_age_s"].to_list() == [26 * 3600.0]
