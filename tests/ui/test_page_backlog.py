"""The Backlog & flow page in AppTest over real SQLite files: demo data (the numbers shown equal the
metrics engine's), the fraud wave and its recovery, drill-downs, the daily view, only the required
tables, a single agent, a one-day window, a hostile link and empty data."""

from __future__ import annotations

import datetime as dt

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
from tsdash.demo import describe
from tsdash.metrics import flow_extra as fx
from tsdash.sources import load_dataset
from tsdash.ui.fmt import fmt_number

PAGE = str(ROOT / "pages" / "2_Backlog_and_flow.py")
START, END = (ANCHOR - dt.timedelta(days=62)).date(), ANCHOR.date()
ASOF = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
WINDOW = {"from": START.isoformat(), "to": END.isoformat(), "asof": ASOF}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    return demo_sqlite(tmp_path_factory, "backlog", days=70, agents=12, seed=5)


@pytest.fixture
def demo(source_env, demo_file):
    source_env(demo_file)
    return load_dataset(load_settings())


def run(query: dict | None = None) -> AppTest:
    return run_page(PAGE, query)


def engine_filter(**dims) -> m.Filter:
    return m.Filter(START, END, tz="UTC", as_of=ANCHOR, **dims)


def texts(at: AppTest) -> list[str]:
    return [plain(x.value) for x in at.markdown]


def test_demo_numbers_equal_the_engine(demo):
    at = run(WINDOW)
    assert not at.exception and not at.error
    f = engine_filter()
    k = m.kpis(demo, f)
    t = tiles(at)
    assert t["Open now"] == fmt_number(k["open_backlog"].value)
    assert t["Created per day"] == fmt_number(k["created_per_day"].value, 1)
    assert t["Resolved per day"] == fmt_number(k["resolved_per_day"].value, 1)
    # the flow chart draws the engine's weekly inflow, outflow and backlog
    fl = m.flow(demo, f, ("week",))
    spec = chart_spec(at, "ta_b_flow")
    bars = {tr["name"]: tr for tr in spec["data"]}
    assert bars["Created"]["y"] == fl["inflow"].to_list()
    assert bars["Resolved"]["y"] == fl["outflow"].to_list()
    assert bars["Backlog at the end of the week"]["y"] == fl["backlog"].to_list()
    assert t["Created − resolved"] == f"{int(fl['inflow'].sum() - fl['outflow'].sum()):+,}"
    # backlog by age adds up to the same weekly backlog
    age = chart_spec(at, "ta_b_age")
    per_week: dict[str, int] = {}
    for tr in age["data"]:
        for x, y in zip(tr["x"], tr["y"], strict=True):
            per_week[x[:10]] = per_week.get(x[:10], 0) + y
    assert per_week == {str(w): b for w, b in zip(fl["week"], fl["backlog"], strict=True) if b}
    # time to clear: the table shows the engine's snapshot
    clear = fx.time_to_clear(demo, f)
    table = at.dataframe(key="ta_b_clear").value
    shown = dict(zip(table["Queue"], table["Open now"], strict=True))
    assert shown == dict(zip(clear["queue"], clear["backlog"], strict=True))
    needed = dict(zip(table["Queue"], table["Agents needed"], strict=True))
    assert needed == dict(zip(clear["queue"], clear["agents_needed"], strict=True))


def test_fraud_wave_and_recovery_are_visible(demo):
    """Without being told: payments_fraud inflow jumps in the wave's week, the backlog flags a rise
    beyond normal variation, and a week later it is back down."""
    story = describe(days=70, now=ANCHOR)
    wave_start = story["fraud_wave"][0].date()
    wave_week = wave_start - dt.timedelta(days=wave_start.weekday())
    at = run(WINDOW)
    rises = [
        s for s in texts(at) if "backlog at the end of the week rose" in s and "beyond normal variation" in s
    ]
    assert rises, texts(at)
    # the sentence names the week in words; the engine's trend flags a rise in or next to the wave's week
    tr = m.trend(demo, engine_filter(), "backlog")
    up = tr.filter(pl.col("flag") & (pl.col("change") > 0))["week"].to_list()
    assert any(abs((w - wave_week).days) <= 7 for w in up)
    # the by-queue chart: payments_fraud is the biggest queue in the wave's weeks
    spec = chart_spec(at, "ta_b_queue_inflow")
    fraud = next(tr for tr in spec["data"] if tr["name"] == "payments_fraud")
    by_week = dict(zip([x[:10] for x in fraud["x"]], fraud["y"], strict=True))
    before = by_week[str(wave_week - dt.timedelta(days=14))]
    assert max(by_week[str(wave_week)], by_week[str(wave_week + dt.timedelta(days=7))]) > 1.5 * before
    # recovery: within two to four weeks after the wave's week, the backlog drains at least two
    # thirds of the wave's excess. The demo follows the clock; for an anchor on each of 120
    # consecutive days the peak was 2.16-5.44x the level two weeks before the wave, and the lowest
    # backlog two to four weeks after it kept -15 % to 26 % of the excess (a fixed "half the peak
    # two weeks after" failed on 9 of those days: a later bump of the demo)
    fl = m.flow(demo, engine_filter(), ("week",))
    b = dict(zip(fl["week"], fl["backlog"], strict=True))
    before = b[wave_week - dt.timedelta(days=14)]
    peak = max(b[wave_week], b[wave_week + dt.timedelta(days=7)])
    after = min(b[w] for k in (14, 21, 28) if (w := wave_week + dt.timedelta(days=k)) in b)
    assert peak > 2 * before and after < before + (peak - before) / 3, (before, peak, after)


def test_busiest_hours_in_words(demo):
    at = run(WINDOW)
    top = fx.arrivals(demo, engine_filter()).sort("per_hour", descending=True).row(0, named=True)
    line = next(s for s in texts(at) if s.startswith("Busiest hours:"))
    h = int(top["hour"])
    assert f"{top['weekday']} {h:02d}:00–{(h + 1) % 24:02d}:00 ({top['per_hour']:.1f} per hour)" in line
    heat = chart_spec(at, "ta_b_heat")["data"][0]
    assert heat["y"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] and len(heat["x"]) == 24


def test_selecting_a_bar_lists_the_cases_behind_it(demo):
    at = run(WINDOW)
    week = m.flow(demo, engine_filter(), ("week",))["week"][3]
    at.session_state["ta_b_flow"] = {
        "selection": {
            "points": [{"customdata": [str(week), "backlog"]}],
            "point_indices": [0],
            "box": [],
            "lasso": [],
        }
    }
    at.run()
    assert not at.exception
    n = m.cases_behind(demo, engine_filter(), "flow", "backlog", week=week).height
    listed = at.dataframe(key="ta_b_flow__cases").value
    assert len(listed) == min(n, 500) and set(listed["Status"]) <= {"open", "resolved"}
    # an age bucket of a week: the cases open at the end of its last day in that bucket
    at.session_state["ta_b_age"] = {
        "selection": {
            "points": [{"customdata": [str(week), "1-3 d"]}],
            "point_indices": [0],
            "box": [],
            "lasso": [],
        }
    }
    at.run()
    cases = fx.backlog_cases(demo, engine_filter(), week + dt.timedelta(days=6), age_bucket_label="1-3 d")
    assert len(at.dataframe(key="ta_b_age__cases").value) == min(cases.height, 500)
    # a queue in the time-to-clear table: its open cases now
    at.session_state["ta_b_clear"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    q = at.dataframe(key="ta_b_clear").value["Queue"].iloc[0]
    listed = at.dataframe(key="ta_b_clear__cases").value
    assert len(listed) == m.cases_behind(demo, engine_filter(), "backlog-now", queue=q).height
    assert set(listed["Queue"]) == {q}


def test_daily_view_from_the_link(demo):
    at = run({**WINDOW, "grain": "day", "measure": "backlog"})
    assert not at.exception
    assert at.session_state["ta_grain_backlog"] == "day"
    spec = chart_spec(at, "ta_b_flow")
    fl = m.flow(demo, engine_filter())
    assert spec["data"][0]["y"] == fl["inflow"].to_list() and len(fl) > 50
    # the by-queue split opened on the backlog, from the link
    spec = chart_spec(at, "ta_b_queue_backlog")
    assert sum(sum(tr["y"]) for tr in spec["data"]) == fl["backlog"].sum()


def test_single_agent_equals_the_engine(demo):
    at = run({**WINDOW, "agent": "A05"})
    assert not at.exception
    k = m.kpis(demo, engine_filter(agents=("A05",)))
    assert tiles(at)["Open now"] == fmt_number(k["open_backlog"].value)


def test_one_day_window(demo):
    at = run({"from": END.isoformat(), "to": END.isoformat(), "asof": ASOF})
    assert not at.exception and not at.error
    f = m.Filter(END, END, tz="UTC", as_of=ANCHOR)
    assert tiles(at)["Created per day"] == fmt_number(m.kpis(demo, f)["created_per_day"].value, 1)


def test_only_required_tables_and_hostile_link(fixture_source):
    at = run(
        {"grain": "<script>alert(1)</script>", "measure": "**x**", "agent": "nobody", "from": "2026-13-45"}
    )
    assert not at.exception and not at.error
    warnings = " ".join(plain(w.value) for w in at.warning)
    assert "Unknown view" in warnings and "<script>" in warnings  # shown literally (escaped)
    assert at.session_state["ta_grain_backlog"] == "week"
    # the fixture (agents and cases only) still draws the flow
    assert chart_spec(at, "ta_b_flow")["data"]


def test_empty_cases_table(source_env, tmp_path):
    tables = fixture_tables()
    tables["cases"] = tables["cases"].head(0)
    source_env(write_sqlite(tmp_path / "empty.sqlite", tables))
    at = run()
    assert not at.exception
    assert any("No cases" in plain(i.value) for i in at.info)
