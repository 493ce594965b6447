"""The agent scorecard (tsdash.scorecard) on a hand-built team, every expected number worked out
by hand in the comments; the talking-point rules one by one; the demo's stories.

Fixture: window Mon 2026-03-02 .. Sun 2026-03-08 (UTC), as-of Mon 2026-03-09 12:00.
Team T1: a1, a2, a3 active, a4 left (active false); team T2: b1 alone. All cases priority normal
(SLA 48 h).

case agent queue  created       first resp  resolved        handle  notes
c1   a1    fraud  Mon 03-02 08  +600 s      Mon 03-02 12    600
c2   a1    fraud  Tue 03-03 08  +1200 s     Fri 03-06 09    900     escalated Tue 10:00; late (due Thu 08)
c3   a1    policy Wed 03-04 08  +1800 s     Wed 03-04 16    1500
c10  a1    fraud  Fri 03-06 08  -           open            -       due Sun 03-08 08: open past due
c9   a1    fraud  Tue 02-24 08  +600 s      Tue 02-24 10    1200    previous period
c4   a2    fraud  Mon 03-02 09  +300 s      Mon 03-02 10    400
c5   a2    policy Thu 03-05 09  +900 s      Thu 03-05 11    600     reopened once
c6   a3    policy Tue 03-03 09  +3000 s     Tue 03-03 12    800
c7   a4    fraud  Mon 03-02 09  +60 s       Mon 03-02 11    5000    a4 left: not in team medians
c8   b1    disp.  Mon 03-02 09  +60 s       Mon 03-02 10    100

QA (pass mark 80): r1 a1 90 (documentation 80, policy_accuracy 100), r2 a1 70 (50, 90),
r3 a2 85 (90, 80), r4 a3 95 (90, 100), r5 a3 75 (70, 80). Shifts Mon/Tue 08-16 (8 h).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsdash import scorecard as sc
from tsdash.dataset import normalize
from tsdash.metrics import Filter

UTC = dt.UTC
AS_OF = dt.datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
F = Filter(dt.date(2026, 3, 2), dt.date(2026, 3, 8), tz="UTC", as_of=AS_OF)


def _t(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _s(t: dt.datetime, seconds: float) -> dt.datetime:
    return t + dt.timedelta(seconds=seconds)


def tables() -> dict[str, pl.DataFrame]:
    agents = pl.DataFrame(
        {
            "agent_id": ["a1", "a2", "a3", "a4", "b1"],
            "name": ["Ann", "Bo", "Cy", "Di", "Ed"],
            "team": ["T1", "T1", "T1", "T1", "T2"],
            "active": [True, True, True, False, True],
            "hired_on": [None, None, None, None, None],
        },
        schema_overrides={"hired_on": pl.Date},
    )
    rows = [
        # id, agent, queue, created, fr offset, resolved, handle, escalated_at, reopened
        ("c1", "a1", "fraud", _t(3, 2, 8), 600, _t(3, 2, 12), 600.0, None, 0),
        ("c2", "a1", "fraud", _t(3, 3, 8), 1200, _t(3, 6, 9), 900.0, _t(3, 3, 10), 0),
        ("c3", "a1", "policy", _t(3, 4, 8), 1800, _t(3, 4, 16), 1500.0, None, 0),
        ("c10", "a1", "fraud", _t(3, 6, 8), None, None, None, None, 0),
        ("c9", "a1", "fraud", _t(2, 24, 8), 600, _t(2, 24, 10), 1200.0, None, 0),
        ("c4", "a2", "fraud", _t(3, 2, 9), 300, _t(3, 2, 10), 400.0, None, 0),
        ("c5", "a2", "policy", _t(3, 5, 9), 900, _t(3, 5, 11), 600.0, None, 1),
        ("c6", "a3", "policy", _t(3, 3, 9), 3000, _t(3, 3, 12), 800.0, None, 0),
        ("c7", "a4", "fraud", _t(3, 2, 9), 60, _t(3, 2, 11), 5000.0, None, 0),
        ("c8", "b1", "disputes", _t(3, 2, 9), 60, _t(3, 2, 10), 100.0, None, 0),
    ]
    cases = pl.DataFrame(
        {
            "case_id": [r[0] for r in rows],
            "assigned_agent_id": [r[1] for r in rows],
            "queue": [r[2] for r in rows],
            "priority": ["normal"] * len(rows),
            "created_at": [r[3] for r in rows],
            "first_response_at": [None if r[4] is None else _s(r[3], r[4]) for r in rows],
            "resolved_at": [r[5] for r in rows],
            "handle_seconds": [r[6] for r in rows],
            "escalated_at": [r[7] for r in rows],
            "escalation_reason": ["legal" if r[7] else None for r in rows],
            "reopened_count": [r[8] for r in rows],
        },
        schema_overrides={
            "created_at": pl.Datetime("us", "UTC"),
            "first_response_at": pl.Datetime("us", "UTC"),
            "resolved_at": pl.Datetime("us", "UTC"),
            "escalated_at": pl.Datetime("us", "UTC"),
        },
    )
    reviews = pl.DataFrame(
        {
            "review_id": ["r1", "r2", "r3", "r4", "r5"],
            "case_id": ["c1", "c2", "c4", "c6", "c6"],
            "agent_id": ["a1", "a1", "a2", "a3", "a3"],
            "reviewed_at": [_t(3, 3, 10), _t(3, 7, 10), _t(3, 3, 10), _t(3, 4, 10), _t(3, 5, 10)],
            "score": [90.0, 70.0, 85.0, 95.0, 75.0],
            "critical_error": [False] * 5,
            "comment": ["ok", "notes thin", None, "great", "=cmd()"],
        }
    )
    crit = {"r1": (80, 100), "r2": (50, 90), "r3": (90, 80), "r4": (90, 100), "r5": (70, 80)}
    criteria = pl.DataFrame(
        {
            "review_id": [r for r in crit for _ in (0, 1)],
            "criterion": ["documentation", "policy_accuracy"] * len(crit),
            "score": [float(v) for pair in crit.values() for v in pair],
        }
    )
    shifts = pl.DataFrame(
        {
            "agent_id": ["a1", "a2", "a3"],
            "start": [_t(3, 2, 8), _t(3, 2, 8), _t(3, 3, 8)],
            "end": [_t(3, 2, 16), _t(3, 2, 16), _t(3, 3, 16)],
        }
    )
    return {
        "agents": agents,
        "cases": cases,
        "qa_reviews": reviews,
        "qa_criteria": criteria,
        "shifts": shifts,
    }


@pytest.fixture(scope="module")
def ds():
    return normalize(tables())


@pytest.fixture(scope="module")
def card(ds):
    return sc.build(ds, F, "a1")


# ------------------------------------------------------------------------------ tiles


def test_tiles_agent_value_n_previous_and_team_median(card):
    t = card.tiles
    # Resolved: a1 c1, c2, c3 = 3; team median of a1 3, a2 2, a3 1 = 2 (a4 left); previous c9 = 1
    assert (t["throughput"].value, t["throughput"].n, t["throughput"].team_median) == (3, 3, 2)
    assert (t["throughput"].previous, t["throughput"].team_agents) == (1, 3)
    # AHT: (600 + 900 + 1500) / 3 = 1000; a2 500, a3 800 -> median 800 (a4's 5000 left out);
    # previous: c9 1200
    assert (t["aht"].value, t["aht"].n, t["aht"].team_median, t["aht"].previous) == (1000, 3, 800, 1200)
    # first response median: a1 600, 1200, 1800 -> 1200; a2 (300, 900) -> 600; a3 3000; median 1200
    assert (t["first_response"].value, t["first_response"].team_median) == (1200, 1200)
    assert t["first_response"].previous == 600
    # SLA: c2 due Thu 08:00, resolved Fri 09:00, late: 2/3; a2 1, a3 1 -> median 1
    assert t["sla_attainment"].value == pytest.approx(2 / 3)
    assert (t["sla_attainment"].team_median, t["sla_attainment"].previous) == (1.0, 1.0)
    # QA: a1 (90 + 70) / 2 = 80, pass 1/2; a2 85, 1; a3 (95 + 75) / 2 = 85, 1/2
    assert (t["qa_mean"].value, t["qa_mean"].n, t["qa_mean"].team_median) == (80, 2, 85)
    assert (t["qa_pass_rate"].value, t["qa_pass_rate"].team_median) == (0.5, 0.5)
    assert t["qa_mean"].previous is None and t["qa_mean"].previous_n == 0
    # escalation: created c1, c2, c3, c10 -> 1/4; a2 0/2, a3 0/1 -> median 0
    assert (t["escalation_rate"].value, t["escalation_rate"].n, t["escalation_rate"].team_median) == (
        0.25,
        4,
        0.0,
    )
    # reopens: a1 0/3, a2 1/2, a3 0/1 -> median 0
    assert (t["reopen_rate"].value, t["reopen_rate"].team_median) == (0.0, 0.0)
    # utilization: handle 3000 s over an 8 h shift; a2 1000 / 28800, a3 800 / 28800 -> median 1000/28800
    assert t["utilization"].value == pytest.approx(3000 / 28800)
    assert t["utilization"].team_median == pytest.approx(1000 / 28800)


def test_tile_texts(card):
    t = card.tiles
    assert [t[k].text for k in ("throughput", "aht", "first_response", "sla_attainment", "qa_mean")] == [
        "3",
        "16.7 min",
        "20.0 min",
        "66.7%",
        "80.0",
    ]
    assert t["aht"].vs_previous == "-3.3 min"  # 1000 - 1200 = -200 s
    assert t["aht"].vs_team == "+3.3 min"
    assert t["sla_attainment"].vs_team == "-33.3 pts"
    assert t["qa_mean"].n_text == "2 reviews"
    assert t["escalation_rate"].n_text == "4 created cases"


def test_agent_without_team_peers_has_no_team_median_and_no_points(ds):
    card = sc.build(ds, F, "b1")
    assert card.tiles["aht"].value == 100
    assert card.tiles["aht"].team_median is None  # one active agent in T2: fewer than 3
    assert card.talking_points == []  # nothing stands out
    assert any("needs" in n or "need" in n for n in card.notes)


def test_inactive_agent_is_shown_with_a_note_and_the_active_team(ds):
    card = sc.build(ds, F, "a4")
    assert card.tiles["aht"].value == 5000
    assert card.tiles["aht"].team_median == 800  # a1, a2, a3
    assert any("no longer active" in n for n in card.notes)


def test_unknown_agent_raises_one_line_error(ds):
    with pytest.raises(sc.UnknownAgent, match="unknown agent 'zz'"):
        sc.build(ds, F, "zz")


def test_agent_only_in_cases_has_no_team():
    t = tables()
    t["cases"] = pl.concat(
        [
            t["cases"],
            t["cases"]
            .filter(pl.col("case_id") == "c8")
            .with_columns(pl.lit("c99").alias("case_id"), pl.lit("ghost").alias("assigned_agent_id")),
        ]
    )
    card = sc.build(normalize(t), F, "ghost")
    assert card.agent.team is None and not card.agent.in_roster
    assert card.tiles["aht"].value == 100 and card.tiles["aht"].team_median is None
    assert card.queue_mix["team_share"].to_list() == [None]


# ------------------------------------------------------------------------------ weekly trends


def test_trend_window_is_twelve_weeks_ending_on_the_last_day():
    tf = sc.trend_window(F)
    assert (tf.start, tf.end) == (dt.date(2025, 12, 15), dt.date(2026, 3, 8))  # Monday 03-02 - 11 weeks


def test_weekly_band_is_the_team_quartiles(card):
    w = card.weekly
    assert w.height == 12 * len(sc.TILE_KEYS)
    row = w.filter((pl.col("metric") == "aht") & (pl.col("week") == dt.date(2026, 3, 2))).row(0, named=True)
    # agent 1000 (3 cases); team 500, 800, 1000: p25 at position 1.5 -> 650, median 800, p75 900
    assert (row["value"], row["n"]) == (1000, 3)
    assert (row["team_p25"], row["team_median"], row["team_p75"], row["team_agents"]) == (650, 800, 900, 3)
    assert row["partial"] is False
    before = w.filter((pl.col("metric") == "aht") & (pl.col("week") == dt.date(2026, 2, 23))).row(
        0, named=True
    )
    # only a1's c9 (1200) that week: one agent, no band
    assert (before["value"], before["team_median"], before["team_p25"], before["team_agents"]) == (
        1200,
        1200,
        None,
        1,
    )


def test_team_stats_linear_quartiles():
    values = pl.DataFrame(
        {"agent_id": ["x", "y", "z", "w", "out"], "metric": ["m"] * 5, "value": [1.0, 2.0, 4.0, 10.0, 99.0]}
    )
    row = sc.team_stats(values, ["x", "y", "z", "w"]).row(0, named=True)
    # 1, 2, 4, 10: p25 at 1.75 -> 1.75; median 3; p75 at 3.25 -> 4 + 0.25 * 6 = 5.5
    assert (row["team_p25"], row["team_median"], row["team_p75"], row["team_agents"]) == (1.75, 3.0, 5.5, 4)


# ------------------------------------------------------------------------------ detail tables


def test_quality_detail(card):
    crit = card.criteria
    # documentation: a1 (80 + 50) / 2 = 65; a2 90, a3 (90 + 70) / 2 = 80 -> median 80, gap -15
    # policy_accuracy: a1 (100 + 90) / 2 = 95; a2 80, a3 90 -> median 90, gap +5
    assert crit.select("criterion", "scores", "mean_score", "team_median", "gap", "below").rows() == [
        ("documentation", 2, 65.0, 80.0, -15.0, True),
        ("policy_accuracy", 2, 95.0, 90.0, 5.0, False),
    ]
    assert card.reviews["review_id"].to_list() == ["r2", "r1"]  # most recent first
    assert card.reviews["comment"].to_list() == ["notes thin", "ok"]
    assert card.critical.height == 0


def test_queue_mix(card):
    q = card.queue_mix
    # a1: fraud c1, c2; policy c3. Team T1 (all its cases, a4 included): fraud c1 c2 c4 c7, policy c3 c5 c6
    assert q["queue"].to_list() == ["fraud", "policy"]
    assert q["resolved"].to_list() == [2, 1]
    assert q["share"].to_list() == pytest.approx([2 / 3, 1 / 3])
    assert q["team_share"].to_list() == pytest.approx([4 / 7, 3 / 7])
    assert q["aht_s"].to_list() == [750.0, 1500.0]
    assert q["team_aht_s"].to_list() == pytest.approx([(600 + 900 + 400 + 5000) / 4, (1500 + 600 + 800) / 3])


def test_case_lists(card):
    assert card.escalations["case_id"].to_list() == ["c2"]
    assert card.slowest["case_id"].to_list() == ["c3", "c2", "c1"]
    assert card.slowest["handle_seconds"].to_list() == [1500, 900, 600]
    # c10 due Sun 08:00, open at as-of: past due; c2 resolved after its due time
    assert card.breached.select("case_id", "state").rows() == [
        ("c10", "open, past due"),
        ("c2", "resolved late"),
    ]


def test_csv_tables_are_named_and_complete(card):
    t = card.tables()
    assert list(t) == [
        "tiles",
        "weekly_trends",
        "qa_criteria",
        "qa_critical_errors",
        "qa_recent_reviews",
        "queue_mix",
        "recent_escalations",
        "slowest_cases",
        "breached_cases",
        "talking_points",
    ]
    assert t["tiles"].filter(pl.col("metric") == "aht")["value"].item() == 1000
    assert t["talking_points"].height == len(card.talking_points)


def test_queue_filter_narrows_agent_and_team_alike(ds):
    card = sc.build(ds, F.with_(queues=("policy",)), "a1")
    # a1 c3 1500; team policy: a2 c5 600, a3 c6 800 -> median 800
    assert (card.tiles["aht"].value, card.tiles["aht"].team_median) == (1500, 800)


def test_view_team_and_agent_filters_do_not_hide_the_agent(ds):
    card = sc.build(ds, F.with_(teams=("T2",), agents=("b1",)), "a1")
    assert card.tiles["aht"].value == 1000


# ------------------------------------------------------------------------------ talking points


def test_talking_points_of_the_fixture(card):
    texts = [p.text for p in card.talking_points]
    # strengths: SLA 33.3 / 10 x 0.25 (3 cases) = 0.83; escalation 25 / 10 x 0.25 = 0.625;
    # documentation 15 / 10 x 0.25 = 0.375; AHT 0.25 / 0.25 x 0.25 = 0.25; QA mean 5 / 5 x 0.25
    assert texts == [
        "SLA attainment 66.7% is 33.3 points below the team median (100.0%) over 3 resolved cases"
        " — only 3 resolved cases, too few to draw a conclusion.",
        "Escalation rate 25.0% is 25.0 points above the team median (0.0%) over 4 created cases"
        " — only 4 created cases, too few to draw a conclusion.",
        "QA documentation score 15.0 points below the team median (65.0 vs 80.0) over 2 reviews"
        " — only 2 reviews, too few to draw a conclusion.",
        "AHT 16.7 min is 25% above the team median (13.3 min) over 3 cases"
        " — only 3 cases, too few to draw a conclusion.",
        "QA mean score 80.0 is 5.0 points below the team median (85.0) over 2 reviews"
        " — only 2 reviews, too few to draw a conclusion.",
    ]
    assert [p.tone for p in card.talking_points] == ["concern", "info", "concern", "concern", "concern"]
    assert [p.strength for p in card.talking_points] == pytest.approx(
        [0.8333, 0.625, 0.375, 0.25, 0.25], abs=1e-3
    )
    assert all(p.n < sc.MIN_POINTS for p in card.talking_points)
    assert card.talking_points[0].evidence == (
        "SLA attainment in the period: agent 66.7% (n = 3); team median of 3 agents 100.0%"
    )


def test_gap_thresholds_edges():
    # durations: 25 % is the threshold (inclusive)
    assert sc.gap("aht", 1000.0, 800.0) is not None
    assert sc.gap("aht", 999.0, 800.0) is None
    assert sc.gap("aht", 600.0, 800.0) is not None  # -25 %
    # shares: 10 points, or 3 points and twice / half for rare events
    assert sc.gap("sla_attainment", 0.80, 0.90) is not None
    assert sc.gap("sla_attainment", 0.81, 0.90) is None
    assert sc.gap("reopen_rate", 0.07, 0.03) is not None  # 4 points, 2.33x
    assert sc.gap("reopen_rate", 0.05, 0.03) is None  # 2 points
    assert sc.gap("escalation_rate", 0.12, 0.08) is None  # 4 points but 1.5x
    assert sc.gap("escalation_rate", 0.03, 0.08) is not None  # 5 points, 0.375x
    # scores: 5 points
    assert sc.gap("qa_mean", 80.0, 85.0) is not None and sc.gap("qa_mean", 80.1, 85.0) is None
    # counts and ratios are not judged
    assert sc.gap("throughput", 1.0, 100.0) is None and sc.gap("utilization", 0.1, 0.9) is None


def test_team_gap_needs_three_agents_and_a_sample():
    assert sc.team_gap_point("aht", 1000.0, 40, 750.0, 2) is None
    assert sc.team_gap_point("aht", 1000.0, 0, 750.0, 5) is None
    p = sc.team_gap_point("aht", 1000.0, 40, 750.0, 5)
    assert p.tone == "concern" and p.strength == pytest.approx(250 / 750 / 0.25)
    p = sc.team_gap_point("aht", 1000.0, 12, 750.0, 5)  # small sample: x 0.6 and said
    assert p.text.endswith("over 12 cases — small sample.") and p.strength == pytest.approx(
        250 / 750 / 0.25 * 0.6
    )
    assert sc.team_gap_point("sla_attainment", 0.98, 50, 0.85, 4).tone == "strength"
    assert sc.team_gap_point("escalation_rate", 0.25, 50, 0.08, 4).tone == "info"


def test_criterion_gap_only_below_the_team():
    assert sc.criterion_gap_point("documentation", 95.0, 30, 80.0, 5) is None
    assert sc.criterion_gap_point("documentation", 71.0, 30, 80.0, 5) is None  # 9 points
    p = sc.criterion_gap_point("documentation", 70.0, 6, 82.0, 5)
    assert p.text == (
        "QA documentation score 12.0 points below the team median (70.0 vs 82.0) over 6 reviews — small sample."
    )
    assert p.topic == "criterion:documentation" and p.strength == pytest.approx(1.2 * 0.6)


def test_change_point_both_directions_and_thresholds():
    assert sc.change_point("qa_mean", "qa_mean", 86.0, 30, 90.0, 60) is None  # 4 points
    p = sc.change_point("qa_mean", "qa_mean", 84.0, 30, 90.0, 60)
    assert p.text == (
        "QA mean score fell from 90.0 to 84.0 over the last 4 weeks (30 reviews; 60 in the 8 weeks before)."
    )
    assert p.tone == "concern" and p.n == 30 and p.strength == pytest.approx(6 / 5)
    p = sc.change_point("aht", "aht", 600.0, 100, 900.0, 200)  # -33 %: better
    assert p.tone == "strength" and p.text.startswith("AHT fell from 15.0 min to 10.0 min")
    assert sc.change_point("aht", "aht", 700.0, 100, 900.0, 200) is None  # -22 %
    p = sc.change_point(
        "criterion:documentation", "qa_criterion_mean", 60.0, 3, 85.0, 20, label="QA documentation score"
    )
    assert p.text.endswith(
        "(3 reviews; 20 in the 8 weeks before) — only 3 reviews, too few to draw a conclusion."
    )


def test_new_hire_point():
    p = sc.new_hire_point(dt.date(2026, 10, 5), 1200.0, 100, 720.0, 180, 600.0, 5)
    assert p.rule == "new_hire" and p.tone == "strength" and p.strength == float("inf")
    assert "AHT down from 20.0 min in their first 2 weeks to 12.0 min in the last 2 weeks" in p.text
    p = sc.new_hire_point(dt.date(2026, 10, 5), 600.0, 4, 610.0, 30, None, 0)
    assert p.tone == "info" and "AHT about level" in p.text
    assert p.text.endswith("(4 and 30 cases) — only 4 cases, too few to draw a conclusion.")
    assert sc.new_hire_point(dt.date(2026, 10, 5), None, 0, 610.0, 30, None, 0) is None


def test_critical_errors_point():
    assert sc.critical_errors_point(1, 10, ["C1"]) is None
    p = sc.critical_errors_point(7, 23, [f"C{i}" for i in range(7)])
    assert p.text == (
        "7 QA reviews with a critical error out of 23 reviews in the period (cases C0, C1, C2, C3, C4 and 2 more)."
    )
    assert p.strength == pytest.approx(3.5)


def test_select_points_merges_topics_orders_and_caps():
    a = sc.TalkingPoint("team_gap", "x", "concern", "A.", "ea", 30, 2.0)
    b = sc.TalkingPoint("change", "x", "concern", "B.", "eb", 10, 3.0)
    c = sc.TalkingPoint("team_gap", "y", "info", "C.", "ec", 40, 1.0)
    h = sc.TalkingPoint("new_hire", "aht", "strength", "H.", "eh", 50, float("inf"))
    out = sc.select_points([a, None, b, c, h])
    assert [(p.topic, p.text, p.n, p.rule) for p in out] == [
        ("aht", "H.", 50, "new_hire"),
        ("x", "B. A.", 10, "change+team_gap"),
        ("y", "C.", 40, "team_gap"),
    ]
    # a new hire's progress absorbs the AHT change; a gap vs the team stays, tones differ -> info
    hc = sc.TalkingPoint("change", "aht", "strength", "C.", "ec", 300, 1.2)
    hg = sc.TalkingPoint("team_gap", "aht", "concern", "G.", "eg", 75, 1.3)
    (p,) = sc.select_points([hc, h, hg])
    assert (p.rule, p.text, p.tone, p.n) == ("new_hire+team_gap", "H. G.", "info", 50)
    many = [sc.TalkingPoint("r", f"t{i}", "info", f"{i}", "", 50, float(i)) for i in range(9)]
    assert [p.topic for p in sc.select_points(many)] == ["t8", "t7", "t6", "t5", "t4"]
    assert sc.select_points([None, None]) == []


def test_sample_notes():
    assert sc.sample_note(4, ("review", "reviews")) == " — only 4 reviews, too few to draw a conclusion"
    assert sc.sample_note(1, ("review", "reviews")) == " — only 1 review, too few to draw a conclusion"
    assert sc.sample_note(5) == " — small sample"
    assert sc.sample_note(19) == " — small sample"
    assert sc.sample_note(20) == ""


def test_every_point_under_five_data_points_says_so(card):
    for p in card.talking_points:
        if p.n < sc.MIN_POINTS:
            assert "too few to draw a conclusion" in p.text


# ------------------------------------------------------------------------------ demo stories


@pytest.fixture(scope="module")
def demo():
    from tsdash.demo import generate

    now = dt.datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    ds = normalize(generate(days=90, agents=18, seed=7, now=now))
    f = Filter(dt.date(2026, 11, 17), dt.date(2026, 11, 23), tz="Europe/Berlin", as_of=now)
    return ds, f


def test_demo_talking_points_name_the_slipping_agent_and_the_new_hire(demo):
    ds, f = demo
    points = {aid: sc.build(ds, f, aid).talking_points for aid in ds.agents["agent_id"].to_list()}
    # A06: documentation, falling over the last weeks
    a06 = [p for p in points["A06"] if p.topic == "criterion:documentation"]
    assert a06 and "fell from" in a06[0].text and "over the last 4 weeks" in a06[0].text
    assert points["A06"][0].topic in ("criterion:documentation", "qa_pass_rate", "qa_mean")
    # nobody else's documentation fell over the last weeks
    others = [
        aid
        for aid, ps in points.items()
        if aid != "A06" and any(p.topic == "criterion:documentation" and "fell" in p.text for p in ps)
    ]
    assert others == []
    # A05: the new hire's progress comes first and says AHT went down
    assert points["A05"][0].rule.startswith("new_hire")
    assert points["A05"][0].text.startswith("New hire (started 5 Oct 2026): AHT down from")
    assert not any(p.rule.startswith("new_hire") for aid, ps in points.items() if aid != "A05" for p in ps)
    # every agent: at most 5 points, each naming its sample
    for ps in points.values():
        assert len(ps) <= sc.MAX_POINTS
        for p in ps:
            assert p.n > 0 and p.evidence
            assert (p.n >= sc.MIN_POINTS) or "too few" in p.text


# ------------------------------------------------------------------------------ properties

finite = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=12))
def test_team_quartiles_are_ordered_and_within_the_values(values):
    df = pl.DataFrame({"agent_id": [f"x{i}" for i in range(len(values))], "metric": "m", "value": values})
    row = sc.team_stats(df, df["agent_id"].to_list()).row(0, named=True)
    assert min(values) - 1e-6 <= row["team_p25"] <= row["team_median"] + 1e-6
    assert row["team_median"] <= row["team_p75"] + 1e-6 <= max(values) + 2e-6
    assert row["team_agents"] == len(values)


@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.floats(0.01, 100, allow_nan=False)), max_size=20))
def test_selected_points_are_few_unique_topics_strongest_first(items):
    pts = [sc.TalkingPoint("r", topic, "info", f"{topic}.", "", 30, s) for topic, s in items]
    out = sc.select_points(pts)
    assert len(out) <= sc.MAX_POINTS
    assert len({p.topic for p in out}) == len(out)
    assert [p.strength for p in out] == sorted((p.strength for p in out), reverse=True)
    best = {}
    for topic, s in items:
        best[topic] = max(best.get(topic, 0), s)
    assert sorted(best.values(), reverse=True)[: len(out)] == [p.strength for p in out]


@given(
    st.sampled_from(sc.TALKING_KEYS),
    st.floats(0.001, 1000, allow_nan=False),
    st.floats(0.001, 1000, allow_nan=False),
)
def test_a_gap_and_its_mirror_agree(key, a, b):
    unit = sc.DEFINITIONS[key].unit
    if unit == "share":
        a, b = a / 1000, b / 1000
    g = sc.gap(key, a, b)
    if g is not None:
        assert g[0] >= 1 - 1e-6  # at least the threshold
    if unit != "seconds":  # absolute rules are symmetric
        assert (sc.gap(key, b, a) is None) == (g is None)
