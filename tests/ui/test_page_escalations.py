"""The Escalations page in AppTest over real SQLite files: demo data (the numbers shown equal the
metrics engine's), drill-down from the reasons chart and the open escalations, the daily view,
no QA data, a single agent, a one-day window and a hostile link."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.ui.conftest import (
    ANCHOR,
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
from tsdash.ui.fmt import fmt_duration, fmt_number, fmt_pct

PAGE = str(ROOT / "pages" / "5_Escalations.py")
START, END = (ANCHOR - dt.timedelta(days=27)).date(), ANCHOR.date()
ASOF = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
WINDOW = {"from": START.isoformat(), "to": END.isoformat(), "asof": ASOF}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    return demo_sqlite(tmp_path_factory, "escalations", days=42, agents=12, seed=8)


@pytest.fixture
def demo(source_env, demo_file):
    source_env(demo_file)
    return load_dataset(load_settings())


def run(query: dict | None = None) -> AppTest:
    return run_page(PAGE, query)


def select(at: AppTest, key: str, *customdata) -> AppTest:
    at.session_state[key] = {
        "selection": {
            "points": [{"customdata": list(customdata)}],
            "point_indices": [0],
            "box": [],
            "lasso": [],
        }
    }
    return at.run()


def test_demo_numbers_equal_the_engine(demo):
    at = run(WINDOW)
    assert not at.exception and not at.error
    f = m.Filter(START, END, tz="UTC", as_of=ANCHOR)
    e = m.escalations(demo, f, ()).row(0, named=True)
    ta = m.escalation_turnaround(demo, f, ())
    open_now = m.backlog_now(demo, f, (), detail=True)["open_escalations"][0]
    t = tiles(at)
    assert t["Escalation rate"] == fmt_pct(e["escalation_rate"])
    assert t["Escalated cases"] == fmt_number(e["escalated"])
    assert t["Open escalations now"] == fmt_number(open_now)
    assert t["Median turnaround"] == fmt_duration(ta["median_s"][0])
    # the weekly rate is the engine's trend(), with the counts behind each week on hover
    tr = m.trend(demo, f, "escalation_rate")
    got = chart_spec(at, "tb_e_team")["data"][0]
    assert got["y"] == pytest.approx(tr["value"].to_list(), abs=1e-6)
    weekly_counts = m.escalations(demo, f, ("week",))
    first = weekly_counts.row(0, named=True)
    assert (
        f"{fmt_number(first['escalated'])} escalated of {fmt_number(first['created'])} created"
        in got["hovertemplate"][0]
    )
    # per-agent rates and their Wilson intervals are the engine's
    per = m.escalations(demo, f, ("agent_id",), detail=True).filter(pl.col("agent_id").is_not_null())
    tr = chart_spec(at, "tb_e_agent")["data"][0]
    shown = {c[0]: x for c, x in zip(tr["customdata"], tr["x"], strict=True)}
    assert set(shown) == set(per["agent_id"])
    for r in per.iter_rows(named=True):
        assert shown[r["agent_id"]] == pytest.approx(r["escalation_rate"], abs=1e-6)
    # the reasons stack adds up to the engine's escalated count per week
    weekly = m.escalations(demo, f, ("week",))
    spec = chart_spec(at, "tb_e_reasons")
    total: dict[str, int] = {}
    for trace in spec["data"]:
        for x, y in zip(trace["x"], trace["y"], strict=True):
            total[x[:10]] = total.get(x[:10], 0) + y
    assert total == {str(w): n for w, n in zip(weekly["week"], weekly["escalated"], strict=True) if n}
    # the open escalations table, oldest first
    oe = qx.open_escalations(demo, f)
    table = at.dataframe(key="tb_e_open").value
    assert len(table) == oe.height == open_now
    assert list(table["Case"][:3]) == oe["case_id"].head(3).to_list()


def test_escalation_against_quality_marks_small_samples(demo):
    at = run(WINDOW)
    spec = chart_spec(at, "tb_e_vs_qa")
    names = [t["name"] for t in spec["data"]]
    assert names[0] == "Agent"
    eq = qx.escalation_vs_quality(demo, m.Filter(START, END, tz="UTC", as_of=ANCHOR))
    plotted = {c[0] for t in spec["data"] for c in t["customdata"]}
    assert plotted == set(eq.filter(pl.col("mean_score").is_not_null())["agent_id"])
    few = set(eq.filter(pl.col("few") & pl.col("mean_score").is_not_null())["agent_id"])
    if few:
        assert {c[0] for c in spec["data"][1]["customdata"]} == few


def test_drill_from_reasons_and_agents(demo):
    at = run(WINDOW)
    f = m.Filter(START, END, tz="UTC", as_of=ANCHOR)
    rs = qx.escalations_by_reason(demo, f, ("week",)).sort("escalated", descending=True).row(0, named=True)
    week = rs["week"].isoformat()
    select(at, "tb_e_reasons", rs["escalation_reason"], week)
    assert not at.exception
    listed = at.dataframe(key="tb_e_reasons__cases").value
    assert len(listed) == rs["escalated"]
    assert listed["Escalated"].all() and set(listed["Reason"]) == {rs["escalation_reason"]}
    select(at, "tb_e_agent", "A04")
    n = m.cases_behind(demo, f, "escalations", "escalated", agent_id="A04").height
    assert len(at.dataframe(key="tb_e_agent__cases").value) == n
    assert any(plain(x.value).endswith(f"· {n} cases") for x in at.markdown if "escalated by" in x.value)


def test_daily_view(demo):
    at = run({**WINDOW, "grain": "day"})
    assert not at.exception
    assert at.query_params["grain"] == "day"
    spec = chart_spec(at, "tb_e_turnaround")
    assert len(spec["data"][0]["x"]) > 20


def test_no_qa_data(source_env, tmp_path):
    source_env(write_sqlite(tmp_path / "required_only.sqlite", fixture_tables()))
    at = run({"preset": "last_28"})
    assert not at.exception and not at.error
    assert tiles(at)["Escalated cases"] == "0"
    assert any("No QA reviews in this source yet" in i.value for i in at.info)


def test_single_agent_and_one_day(source_env, tmp_path):
    from tsdash.demo import generate_to

    path = tmp_path / "one.sqlite"
    generate_to(f"sqlite:///{path}", days=14, agents=1, seed=4, now=ANCHOR)
    source_env(f"sqlite:///{path}")
    ds = load_dataset(load_settings())
    at = run(WINDOW)
    assert not at.exception and not at.error
    f = m.Filter(START, END, tz="UTC", as_of=ANCHOR)
    assert tiles(at)["Escalation rate"] == fmt_pct(m.escalations(ds, f, ())["escalation_rate"][0])
    day = (ANCHOR - dt.timedelta(days=1)).date()
    at = run({"from": day.isoformat(), "to": day.isoformat(), "asof": ASOF})
    assert not at.exception and not at.error
    e = m.escalations(ds, m.Filter(day, day, tz="UTC", as_of=ANCHOR), ())
    assert tiles(at)["Escalated cases"] == fmt_number(e["escalated"][0])


def test_window_without_cases(demo):
    at = run({"from": "2020-01-01", "to": "2020-01-02"})
    assert not at.exception and not at.error
    assert any("No cases in this period" in plain(i.value) for i in at.info)


def test_hostile_link(demo):
    at = run({"grain": "<img src=x onerror=alert(1)>", "team": "**Nope**", "to": "yesterday"})
    assert not at.exception and not at.error
    text = plain(" ".join(w.value for w in at.warning))
    assert "Unknown view" in text and "Nope" in text
    assert not re.search(r"(?<!\\)<img", " ".join(w.value for w in at.warning))  # escaped for Markdown
    assert at.query_params["grain"] == "week"
