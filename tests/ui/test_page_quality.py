"""The Quality page in AppTest over real SQLite files: demo data (the numbers shown equal the
metrics engine's), the demo's stories (A06 slipping on documentation, A04 fast but error-prone),
drill-down from a chart, the daily view, no QA data, a single agent, a one-day window, a
hostile link and hostile text in the data."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.ui.conftest import (
    ANCHOR,
    HOSTILE_NAME,
    chart_spec,
    demo_sqlite,
    fixture_tables,
    plain,
    run_page,
    tiles,
    write_sqlite,
)
from tsdash import metrics as m
from tsdash.config import load_settings
from tsdash.metrics import quality_extra as qx
from tsdash.sources import load_dataset
from tsdash.ui.fmt import fmt_number, fmt_pct

PAGE = str(ROOT / "pages" / "4_Quality.py")
START, END = (ANCHOR - dt.timedelta(days=27)).date(), ANCHOR.date()
ASOF = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
WINDOW = {"from": START.isoformat(), "to": END.isoformat(), "asof": ASOF}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    return demo_sqlite(tmp_path_factory, "quality", days=70, agents=12, seed=5)


@pytest.fixture
def demo(source_env, demo_file):
    source_env(demo_file)
    return load_dataset(load_settings())


def run(query: dict | None = None) -> AppTest:
    return run_page(PAGE, query)


def engine_filter(ds, **dims) -> m.Filter:
    return m.Filter(START, END, tz="UTC", as_of=ANCHOR, **dims)


def agents_table(at: AppTest):
    """The per-agent numbers table (the one with a 'Shrunk mean' column)."""
    found = [d.value for d in at.dataframe if "Shrunk mean" in d.value.columns]
    assert len(found) == 1
    return found[0]


def test_demo_numbers_equal_the_engine(demo):
    at = run(WINDOW)
    assert not at.exception and not at.error
    f = engine_filter(demo)
    team = m.quality(demo, f, ()).row(0, named=True)
    cov = m.qa_coverage(demo, f, ())["coverage"][0]
    t = tiles(at)
    assert t["QA mean score"] == f"{team['mean_score']:.1f}"
    assert t["Pass rate"] == fmt_pct(team["pass_rate"])
    assert t["Critical errors"] == fmt_number(team["critical_errors"])
    assert t["QA reviews"] == fmt_number(team["reviews"])
    assert t["Review coverage"] == fmt_pct(cov)
    # the change against the previous 28 days, with its sign (Streamlit reads a leading "-")
    prev = m.quality(demo, f.previous(), ()).row(0, named=True)
    d = team["mean_score"] - prev["mean_score"]
    mean_tile = next(x for x in at.metric if x.label == "QA mean score")
    assert mean_tile.delta == ("+" if d >= 0 else "-") + f"{abs(d):.1f}"
    # the weekly team charts draw the engine's trend() values
    for metric in ("qa_mean", "qa_pass_rate", "qa_critical_errors"):
        tr = m.trend(demo, f, metric)
        got = chart_spec(at, f"tb_q_team_{metric}")["data"][0]
        assert [c[0] for c in got["customdata"]] == [str(w) for w in tr["week"]]
        assert got["y"] == pytest.approx(tr["value"].to_list(), abs=1e-6)
    # the per-agent chart draws the engine's means and shrunk means
    qa = qx.qa_agents(demo, f, detail=True)
    spec = chart_spec(at, "tb_q_agents")
    raw = dict(zip([c[0] for c in spec["data"][0]["customdata"]], spec["data"][0]["x"], strict=True))
    shrunk = dict(zip([c[0] for c in spec["data"][1]["customdata"]], spec["data"][1]["x"], strict=True))
    for r in qa.iter_rows(named=True):
        assert raw[r["agent_id"]] == pytest.approx(r["mean_score"], abs=1e-6)
        assert shrunk[r["agent_id"]] == pytest.approx(r["mean_score_shrunk"], abs=1e-6)
    # ordered by the shrunk estimate, lowest on top (the y axis lists bottom to top)
    order = spec["layout"]["yaxis"]["categoryarray"]
    lowest = qa.sort("mean_score_shrunk")["agent_id"][0]
    assert f"({lowest})" in order[-1]
    # the per-agent table shows the same numbers
    table = agents_table(at)
    a04 = table[table["Agent"].str.contains("(A04)", regex=False)].iloc[0]
    r04 = qa.filter(pl.col("agent_id") == "A04").row(0, named=True)
    assert a04["Reviews"] == r04["reviews"]
    assert a04["Mean score"] == pytest.approx(r04["mean_score"])


def test_demo_stories_are_visible(demo):
    """Without being told: A06's quality slips (documentation, last weeks); A04 is fast but error-prone."""
    at = run({**WINDOW, "from": (ANCHOR - dt.timedelta(days=55)).date().isoformat()})
    assert not at.exception
    flags = [plain(w.value) for w in at.warning]
    assert any("(A06)" in s and " fell " in s and "beyond normal variation" in s for s in flags), flags
    # the criteria-over-time chart starts with the first drop in that list (biggest change against
    # its limit first): A06's, unless another agent's chance drop was bigger (the demo follows the
    # clock: A08's, anchored on 2026-12-04)
    first_drop = next(s for s in flags if " fell " in s)
    assert f"({at.selectbox(key='tb_q_focus').value})" in first_drop
    f = m.Filter((ANCHOR - dt.timedelta(days=55)).date(), END, tz="UTC", as_of=ANCHOR)
    tr = m.trend(demo, f, "qa_mean", keys=("agent_id",), pass_mark=load_settings().qa_pass_mark)
    drops = tr.filter(pl.col("flag") & ~pl.col("partial") & (pl.col("change") < 0))
    size = (drops["change"].abs() / drops["change_limit"]).to_list()
    assert at.selectbox(key="tb_q_focus").value == drops["agent_id"][size.index(max(size))]
    # documentation is A06's worst criterion, well below the team and the next criterion (anchored
    # on each of 120 consecutive days: 10.3-17.3 points below the team, 8.1-13.0 below the next one)
    gaps = qx.criterion_gaps(demo, f).filter(pl.col("agent_id") == "A06").sort("gap")
    assert gaps["criterion"][0] == "documentation" and gaps["gap"][0] < -8
    spec = chart_spec(at, "tb_q_criteria")
    cells = dict(
        zip(
            [tuple(c) for c in spec["data"][0]["customdata"]], spec["data"][0]["marker"]["color"], strict=True
        )
    )
    row = sorted((v, c) for (a, c), v in cells.items() if a == "A06")
    assert row[0][1] == "documentation" and row[0][0] < row[1][0] - 6  # stands out in A06's row
    assert row[0][0] == pytest.approx(gaps["gap"][0])
    # A04: below the median QA and below the median AHT (bottom left: "fast, error-prone")
    spec = chart_spec(at, "tb_q_speed")
    tr = spec["data"][0]
    pts = {c[0]: (x, y) for c, x, y in zip(tr["customdata"], tr["x"], tr["y"], strict=True)}
    xs, ys = sorted(p[0] for p in pts.values()), sorted(p[1] for p in pts.values())
    assert pts["A04"][0] < xs[len(xs) // 2] and pts["A04"][1] == ys[0]


def test_selecting_an_agent_lists_their_reviews(demo):
    at = run(WINDOW)
    at.session_state["tb_q_agents"] = {
        "selection": {"points": [{"customdata": ["A04"]}], "point_indices": [0], "box": [], "lasso": []}
    }
    at.run()
    assert not at.exception
    f = engine_filter(demo)
    n = m.cases_behind(demo, f, "quality", agent_id="A04").height
    titles = [plain(x.value) for x in at.markdown if "QA reviews of" in x.value]
    assert titles and titles[0].endswith(f"· {n} reviews")
    listed = at.dataframe(key="tb_q_agents__cases").value
    assert len(listed) == min(n, 500) and listed["Agent"].nunique() == 1  # all A04's
    # a criterion cell lists the reviews behind it
    at.session_state["tb_q_criteria"] = {
        "selection": {
            "points": [{"customdata": ["A06", "documentation"]}],
            "point_indices": [0],
            "box": [],
            "lasso": [],
        }
    }
    at.run()
    cell = qx.criterion_reviews(demo, f, agent_id="A06", criterion="documentation")
    listed = at.dataframe(key="tb_q_criteria__cases").value
    assert len(listed) == cell.height
    assert sorted(listed["Criterion score"]) == sorted(cell["criterion_score"].to_list())


def test_selecting_a_week_lists_its_failed_reviews(demo):
    at = run(WINDOW)
    f = engine_filter(demo)
    week = m.trend(demo, f, "qa_pass_rate")["week"][1]
    at.session_state["tb_q_team_qa_pass_rate"] = {
        "selection": {"points": [{"customdata": [str(week)]}], "point_indices": [1], "box": [], "lasso": []}
    }
    at.run()
    assert not at.exception
    fails = m.cases_behind(demo, f, "quality", "fails", week=week)
    listed = at.dataframe(key="tb_q_team_qa_pass_rate__cases").value
    assert len(listed) == fails.height > 0
    assert (listed["QA score"] < 80).sum() + fails["critical_error"].sum() >= fails.height


def test_daily_view_from_the_link(demo):
    at = run({**WINDOW, "grain": "day"})
    assert not at.exception
    assert at.session_state["tb_grain_quality"] == "day"
    assert at.query_params["grain"] == "day"
    spec = chart_spec(at, "tb_q_focus_chart")
    assert len(spec["data"][0]["x"]) > 7  # days, not weeks
    daily = m.quality(demo, engine_filter(demo), ("date",))
    got = chart_spec(at, "tb_q_team_qa_mean")["data"][0]
    assert got["y"] == pytest.approx(daily["mean_score"].to_list(), abs=1e-6)


def test_no_qa_data(source_env, tmp_path):
    source_env(write_sqlite(tmp_path / "required_only.sqlite", fixture_tables()))
    at = run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Quality"
    assert any("No QA reviews in this source yet" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_single_agent_dataset(source_env, tmp_path):
    from tsdash.demo import generate_to

    path = tmp_path / "one.sqlite"
    generate_to(f"sqlite:///{path}", days=21, agents=1, seed=2, now=ANCHOR)
    source_env(f"sqlite:///{path}")
    at = run(WINDOW)
    assert not at.exception and not at.error
    table = agents_table(at)
    assert len(table) == 1
    # one agent: nothing to pool, the shrunk mean is the agent's own mean
    assert table["Shrunk mean"][0] == pytest.approx(table["Mean score"][0])
    ds = load_dataset(load_settings())
    assert tiles(at)["QA mean score"] == f"{m.quality(ds, engine_filter(ds), ())['mean_score'][0]:.1f}"


def test_agent_filter_and_one_day_window(demo):
    day = (ANCHOR - dt.timedelta(days=2)).date()
    at = run({"from": day.isoformat(), "to": day.isoformat(), "asof": ASOF, "agent": "A04"})
    assert not at.exception and not at.error
    f = m.Filter(day, day, tz="UTC", as_of=ANCHOR, agents=("A04",))
    q = m.quality(demo, f, ())
    if q.height:
        assert tiles(at)["QA reviews"] == fmt_number(q["reviews"][0])
    else:
        assert any("No QA reviews" in plain(i.value) for i in at.info)


def test_window_without_reviews(demo):
    at = run({"from": "2020-01-01", "to": "2020-01-02"})
    assert not at.exception and not at.error
    assert any("No QA reviews in this period" in plain(i.value) for i in at.info)


def test_hostile_link(demo):
    at = run({"grain": "<script>alert(1)</script>", "agent": "NOPE", "from": "2026-13-45", "case": "x"})
    assert not at.exception and not at.error
    text = plain(" ".join(w.value for w in at.warning))
    assert "Unknown view" in text and "NOPE" in text
    assert at.query_params["grain"] == "week"
    assert at.session_state["tb_grain_quality"] == "week"


def test_hostile_text_in_the_data(source_env, tmp_path):
    tables = fixture_tables()
    t = lambda d: ANCHOR - dt.timedelta(days=d)  # noqa: E731
    comment = "<b>bold</b> *stars* $x$ [link](javascript:alert(1))"
    tables["qa_reviews"] = pl.DataFrame(
        {
            "review_id": ["R1", "R2", "R3"],
            "case_id": ["C1", "C2", "C3"],
            "agent_id": ["A1", "A2", "A3"],
            "reviewed_at": [t(5), t(3), t(1)],
            "score": [90.0, 60.0, 75.0],
            "critical_error": [False, True, False],
            "comment": [comment, None, "fine"],
        }
    )
    source_env(write_sqlite(tmp_path / "hostile.sqlite", tables))
    at = run({"preset": "last_28"})
    assert not at.exception and not at.error
    reviews = at.dataframe(key="tb_q_reviews").value
    assert comment in set(reviews["Comment"])  # shown as written
    assert any(HOSTILE_NAME in a for a in reviews["Agent"])
    # no Markdown element carries the raw name or comment
    for el in [*at.markdown, *at.caption, *at.warning, *at.info]:
        assert not re.search(r"(?<!\\)<(img|b>)", el.value)  # only escaped forms
    # selecting the review shows its full comment as plain text and a link to the case
    row = list(reviews["Comment"]).index(comment)
    at.session_state["tb_q_reviews"] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    assert not at.exception
    assert comment in [x.value for x in at.text]


# ---------------------------------------------------------------------------------------------
# pure helpers of tsdash.ui.trends_b
# ---------------------------------------------------------------------------------------------


def test_agent_flag_sentences_biggest_first_whole_weeks_only():
    from tsdash.ui.trends_b import agent_flag_sentences

    w1, w2 = dt.date(2026, 11, 2), dt.date(2026, 11, 9)
    tr = pl.DataFrame(
        {
            "agent_id": ["A03", "A06", "A01", "A02"],
            "week": [w1, w1, w2, w2],
            "value": [91.2, 70.3, 60.0, 0.9],
            "previous": [96.0, 86.6, 80.0, 0.7],
            "change": [-4.8, -16.3, -20.0, 0.2],
            "change_limit": [2.9, 4.7, 3.0, 0.1],
            "lower": [93.1, 81.9, 75.0, 0.6],
            "upper": [99.0, 91.3, 85.0, 0.8],
            "flag": [True, True, True, None],
            "partial": [False, False, True, False],  # A01's week is partial: left out
        }
    )
    names = {"A06": "Oskar", "A03": "Yusuf <b>"}
    # biggest change relative to its limit first: A06 16.3 / 4.7 = 3.5, A03 4.8 / 2.9 = 1.7
    assert agent_flag_sentences(tr, names) == [
        "Oskar (A06): QA mean score fell 19% — beyond normal variation (week of 2 Nov: 86.6 → 70.3; "
        "normal range 81.9 to 91.3).",
        "Yusuf <b> (A03): QA mean score fell 5.0% — beyond normal variation (week of 2 Nov: 96.0 → 91.2; "
        "normal range 93.1 to 99.0).",
    ]
    shares = tr.filter(pl.col("agent_id") == "A02").with_columns(pl.lit(True).alias("flag"))
    assert agent_flag_sentences(shares, {}, metric="qa_pass_rate") == [
        "A02: QA pass rate rose 20.0 percentage points — beyond normal variation (week of 9 Nov: 70.0% → "
        "90.0%; normal range 60.0% to 80.0%)."
    ]


def test_partial_periods_and_plot_text():
    from tsdash.ui.trends_b import partial_periods, plot_text, stable

    as_of = dt.datetime(2026, 3, 11, 15, tzinfo=dt.UTC)  # a Wednesday afternoon
    f = m.Filter(dt.date(2026, 2, 26), dt.date(2026, 3, 11), tz="UTC", as_of=as_of)
    # the week of 23 Feb is cut by the window (Thu..Sun), the week of 9 Mar is still running
    assert partial_periods(f, "week") == {dt.date(2026, 2, 23), dt.date(2026, 3, 9)}
    assert partial_periods(f, "day") == {dt.date(2026, 3, 11)}
    assert partial_periods(f.with_(as_of=dt.datetime(2026, 3, 12, tzinfo=dt.UTC)), "day") == set()
    assert plot_text("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"
    assert stable(pl.DataFrame({"a": [0.1 + 0.2], "n": [3]})).rows() == [(0.3, 3)]


def test_reviews_without_rubric_scores(source_env, tmp_path):
    from tsdash.demo import generate

    tables = generate(days=14, agents=4, seed=3, now=ANCHOR)
    keep = {k: v for k, v in tables.items() if k in ("agents", "cases", "qa_reviews")}
    source_env(write_sqlite(tmp_path / "no_rubric.sqlite", keep))
    at = run({"preset": "last_28"})
    assert not at.exception and not at.error
    assert any("no “qa_criteria” table" in plain(i.value) for i in at.info)
    assert agents_table(at).shape[0] == 4
