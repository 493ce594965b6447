"""The Agent scorecard page in AppTest, over a generated demo database (SQLite file) and the small
hand-built fixture: a normal agent, the new hire with little data, an agent without QA reviews,
no QA table at all, unknown and multiple agents in the link, picking an agent, empty data.

Every asserted tile value is recomputed here with the metrics engine's tables (not through
tsdash.scorecard) on the same data, filter and as-of.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.ui.conftest import HOSTILE_NAME, TIMEOUT, write_sqlite
from tsdash import metrics as m
from tsdash.ui.fmt import fmt_duration, fmt_number, fmt_pct

PAGE = str(ROOT / "pages" / "6_Agent_scorecard.py")
DEMO_NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
ASOF = "2026-11-23T17:00:00Z"
WEEK = {"from": "2026-11-17", "to": "2026-11-23", "asof": ASOF, "tz": "UTC"}
FILTER = m.Filter(dt.date(2026, 11, 17), dt.date(2026, 11, 23), tz="UTC", as_of=DEMO_NOW)
PICK = "scorecard_w_agent"


@pytest.fixture(scope="module")
def demo_tables():
    from tsdash.demo import generate

    return generate(days=60, agents=18, seed=11, now=DEMO_NOW)


@pytest.fixture(scope="module")
def demo_file(demo_tables, tmp_path_factory):
    from tsdash.sources.write import write_tables

    path = tmp_path_factory.mktemp("sc") / "demo.sqlite"
    write_tables(demo_tables, f"sqlite:///{path}")
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def no_a02_qa_file(demo_tables, tmp_path_factory):
    """The demo without any QA review of A02 (the rest of the team keeps theirs)."""
    from tsdash.sources.write import write_tables

    t = dict(demo_tables)
    gone = t["qa_reviews"].filter(pl.col("agent_id") == "A02")["review_id"]
    t["qa_reviews"] = t["qa_reviews"].filter(pl.col("agent_id") != "A02")
    t["qa_criteria"] = t["qa_criteria"].filter(~pl.col("review_id").is_in(gone.implode()))
    path = tmp_path_factory.mktemp("sc") / "no_a02_qa.sqlite"
    write_tables(t, f"sqlite:///{path}")
    return f"sqlite:///{path}"


def loaded(location: str):
    from tsdash.config import load_settings
    from tsdash.sources import load_dataset

    return load_dataset(load_settings())


def run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def tiles(at: AppTest) -> dict[str, str]:
    return {x.label: x.value for x in at.metric}


def text(at: AppTest) -> str:
    parts = [*(x.value for x in at.markdown), *(x.value for x in at.caption), *(x.value for x in at.info)]
    parts += [x.value for x in at.warning]
    return "\n".join(parts).replace("\\", "")


def engine_tiles(ds, f: m.Filter, agent: str, pass_mark: float = 80.0) -> dict[str, str]:
    """The tile texts from the engine's tables directly (period, one agent, no grouping)."""
    a = f.with_(agents=(agent,), teams=())

    def one(df: pl.DataFrame, col: str):
        return df[col][0] if df.height else None

    out = {
        "Resolved": fmt_number(one(m.throughput(ds, a, by=()), "resolved") or 0),
        "AHT": fmt_duration(one(m.handle_time(ds, a, by=()), "aht_s")),
        "First response (median)": fmt_duration(one(m.first_response(ds, a, by=()), "median_s")),
        "SLA attainment": fmt_pct(one(m.sla(ds, a, by=()), "sla_attainment")),
        "Escalation rate": fmt_pct(one(m.escalations(ds, a, by=()), "escalation_rate")),
        "Reopen rate": fmt_pct(one(m.reopens(ds, a, by=()), "reopen_rate")),
    }
    if ds.has("qa_reviews"):
        q = m.quality(ds, a, by=(), pass_mark=pass_mark)
        mean = one(q, "mean_score")
        out["QA mean score"] = "–" if mean is None else f"{mean:.1f}"
        out["QA pass rate"] = fmt_pct(one(q, "pass_rate"))
    if ds.has("shifts") and ds.shifts.height:
        out["Utilization"] = fmt_pct(one(m.throughput(ds, a, by=()), "utilization"))
    return out


def team_median_aht(ds, f: m.Filter, team: str) -> float:
    ht = m.handle_time(ds, f.with_(teams=(team,), agents=()), by=("agent_id",))
    active = ds.agents.filter((pl.col("team") == team) & pl.col("active").fill_null(True))["agent_id"]
    return ht.filter(pl.col("agent_id").is_in(active.implode()))["aht_s"].median()


def test_normal_agent_tiles_equal_the_engine(source_env, demo_file):
    source_env(demo_file)
    ds = loaded(demo_file)
    at = run({**WEEK, "agent": "A06"})
    assert not at.exception, at.exception
    assert tiles(at) == engine_tiles(ds, FILTER, "A06")
    name = ds.agents.filter(pl.col("agent_id") == "A06")["name"][0]
    assert f"### {name}" in text(at)
    # the team median caption under the AHT tile is the engine's
    team = ds.agents.filter(pl.col("agent_id") == "A06")["team"][0]
    assert f"Team median {fmt_duration(team_median_aht(ds, FILTER, team))}" in text(at)
    # talking points: the documentation slip over the last weeks
    assert "QA documentation score" in text(at) and "over the last 4 weeks" in text(at)
    # the share link reproduces the view
    url = at.code[0].value
    assert "agent=A06" in url and "asof=2026-11-23T17%3A00%3A00Z" in url and "from=2026-11-17" in url
    assert url.startswith("http://") and "/Agent_scorecard?" in url
    # downloads offered; charts drawn
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download report (HTML)" in labels and "Download tables (CSV zip)" in labels
    assert len(at.get("plotly_chart")) >= 9


def test_new_hire_with_little_data(source_env, demo_file):
    source_env(demo_file)
    ds = loaded(demo_file)
    day = {"from": "2026-11-23", "to": "2026-11-23", "asof": ASOF, "tz": "UTC"}
    at = run({**day, "agent": "A05"})
    assert not at.exception, at.exception
    f = m.Filter(dt.date(2026, 11, 23), dt.date(2026, 11, 23), tz="UTC", as_of=DEMO_NOW)
    assert tiles(at) == engine_tiles(ds, f, "A05")
    t = text(at)
    assert "New hire (started" in t and "in their first 2 weeks" in t
    reviews = m.quality(ds, f.with_(agents=("A05",)), by=())
    n = int(reviews["reviews"][0]) if reviews.height else 0
    assert n < 5  # one day: few reviews; the QA tile says how few
    assert f"{n} review" in t


def test_agent_without_qa_reviews(source_env, no_a02_qa_file):
    source_env(no_a02_qa_file)
    ds = loaded(no_a02_qa_file)
    at = run({**WEEK, "agent": "A02"})
    assert not at.exception, at.exception
    shown = tiles(at)
    assert shown == engine_tiles(ds, FILTER, "A02")
    assert shown["QA mean score"] == "–" and shown["QA pass rate"] == "–"
    t = text(at)
    assert "No QA reviews of this agent in the period." in t
    evidence = [x.value for x in at.caption if x.value.startswith("Evidence")]
    assert evidence and not any("QA" in e for e in evidence)  # no QA talking point without reviews


def test_source_without_qa_tables(source_env, tmp_path):
    from tests.ui.conftest import fixture_tables

    source_env(write_sqlite(tmp_path / "f.sqlite", fixture_tables()))
    at = run({"agent": "A1"})
    assert not at.exception, at.exception
    assert "QA mean score" not in tiles(at) and "Utilization" not in tiles(at)
    assert "Resolved" in tiles(at)
    assert "No qa reviews data yet" in text(at)


def test_unknown_agent_in_the_link(source_env, demo_file):
    source_env(demo_file)
    at = run({**WEEK, "agent": "NOPE<script>"})
    assert not at.exception
    warn = "\n".join(w.value for w in at.warning).replace("\\", "")
    assert "Ignored agent “NOPE<script>”: there is no such agent in the data." in warn
    assert "Pick an agent to see their scorecard" in text(at)
    assert not at.metric


def test_no_agent_asks_for_one(source_env, demo_file):
    source_env(demo_file)
    at = run(WEEK)
    assert not at.exception
    assert at.selectbox(key=PICK).value is None
    assert "Pick an agent" in text(at) and not at.metric


def test_several_agents_show_the_first_and_say_so(source_env, demo_file):
    source_env(demo_file)
    at = run({**WEEK, "agent": ["A03", "A01"]})
    assert not at.exception
    assert "The agent filter selects 2 agents" in text(at)
    assert at.selectbox(key=PICK).value == "A01"


def test_picking_an_agent_sets_the_filter(source_env, demo_file):
    source_env(demo_file)
    ds = loaded(demo_file)
    at = run(WEEK)
    at.selectbox(key=PICK).select("A04").run()
    assert not at.exception
    assert at.session_state["tsdash_view"].agents == ("A04",)
    assert tiles(at) == engine_tiles(ds, FILTER, "A04")
    assert at.query_params["agent"] in ("A04", ["A04"])


def test_inactive_agent(source_env, demo_file):
    source_env(demo_file)
    at = run({"preset": "last_90", "asof": ASOF, "tz": "UTC", "agent": "A07"})
    assert not at.exception
    assert "is no longer active" in text(at)


def test_hostile_name_and_empty_period(source_env, tmp_path):
    from tests.ui.conftest import fixture_tables

    source_env(write_sqlite(tmp_path / "f.sqlite", fixture_tables()))
    at = run({"agent": "A3", "from": "2020-01-01", "to": "2020-01-07"})
    assert not at.exception, at.exception
    assert f"### {HOSTILE_NAME}" in text(at)  # escaped in Markdown, shown literally
    assert tiles(at)["Resolved"] == "0" and tiles(at)["AHT"] == "–"
    assert "No resolved cases in this period." in text(at)


def test_empty_cases_table(source_env, tmp_path):
    from tests.ui.conftest import fixture_tables

    t = fixture_tables()
    t["cases"] = t["cases"].head(0)
    source_env(write_sqlite(tmp_path / "e.sqlite", t))
    at = run({"agent": "A1"})
    assert not at.exception, at.exception
    assert tiles(at)["Resolved"] == "0"


def test_selecting_a_trend_point_lists_the_cases_behind_it(source_env, demo_file):
    source_env(demo_file)
    ds = loaded(demo_file)
    at = run({**WEEK, "agent": "A06"})
    at.session_state["scorecard_trend_sla_attainment"] = {
        "selection": {
            "points": [{"customdata": ["2026-11-09", 40]}],
            "point_indices": [0],
            "box": [],
            "lasso": [],
        }
    }
    at.run()
    assert not at.exception, at.exception
    # the engine's cases behind A06's SLA attainment in the week of 9 Nov: the resolved cases
    f = m.Filter(dt.date(2026, 9, 1), dt.date(2026, 11, 23), tz="UTC", as_of=DEMO_NOW, agents=("A06",))
    behind = m.cases_behind(ds, f, "sla", week=dt.date(2026, 11, 9))
    listed = at.dataframe(key="scorecard_trend_cases").value
    assert sorted(listed["Case"]) == sorted(behind["case_id"].to_list()) and len(listed) > 0
    title = [x.value for x in at.markdown if "week of 09 Nov 2026" in x.value.replace("\\", "")]
    assert title and f"{len(listed)} cases" in title[0]


def test_case_lists_are_the_engines(source_env, demo_file):
    source_env(demo_file)
    ds = loaded(demo_file)
    at = run({**WEEK, "agent": "A06"})
    a = FILTER.with_(agents=("A06",))
    slow = m.cases_behind(ds, a, "handle-time").sort("handle_seconds", descending=True).head(10)
    assert list(at.dataframe(key="scorecard_slowest").value["Case"]) == slow["case_id"].to_list()
    esc = m.cases_behind(ds, a, "escalations", "escalated")
    assert sorted(at.dataframe(key="scorecard_escalations").value["Case"]) == sorted(
        esc.sort("escalated_at", descending=True).head(10)["case_id"].to_list()
    )
    crit = m.cases_behind(ds, a, "quality", "critical_errors")
    assert crit.height > 0  # A06 slips: some critical errors in the week
    shown = at.dataframe(key="scorecard_critical").value
    assert (
        len(shown) == crit.height
        and list(shown["Comment"]) == crit.sort("reviewed_at", descending=True)["comment"].to_list()
    )


def test_freeze_pins_the_link(source_env, demo_file):
    source_env(demo_file)
    at = run({"preset": "last_7", "tz": "UTC", "agent": "A01"})
    assert "asof=" not in at.code[0].value
    assert "Live: the link shows the numbers at the time it is opened." in text(at)
    at.button(key="scorecard_freeze").click().run()
    assert not at.exception
    state = at.session_state["tsdash_view"]
    assert state.frozen and state.agents == ("A01",)
    assert "asof=" in at.code[0].value and "agent=A01" in at.code[0].value
    assert "the link shows these numbers whenever it is opened" in text(at)
