"""Live workload (pages/1_Live_workload.py) in AppTest: the numbers against the metrics engine on
the same data and frozen as-of, drill-downs, the refresh logic on a real SQLite file that the test
writes to (reload only when the data version changed, shared version probe, hold while a
selection is open, pause, a failing source and its recovery, the live simulator), empty data, only
the required tables, one agent, hostile links and names; plus the page's pure helpers."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.ui.conftest import ANCHOR, HOSTILE_NAME, TIMEOUT, fixture_tables, write_sqlite
from tsdash import metrics as m
from tsdash.metrics import Filter
from tsdash.metrics import live_extra as lx
from tsdash.metrics import quality_extra as qx
from tsdash.ui import live

UTC = dt.UTC
PAGE = str(ROOT / "pages" / "1_Live_workload.py")
# the demo ends 30 minutes before the test run started (a frozen as-of must not be in the future)
DEMO_NOW = dt.datetime.now(UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=30)
ASOF = DEMO_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
FIXTURE_ASOF = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")

# What a fragment rerun does: the body alone, with the context of the last full run. AppTest
# always runs the whole script, so the tick is emulated with this script (the page's own
# functions, the real frame, real SQLite).
TICK_SCRIPT = """
import streamlit as st
from tsdash import ui
from tsdash.ui import live

if st.session_state.pop("tick_once", False) or st.session_state.get("tick"):
    live.body(st.session_state["ctx"], 15, st.session_state.get("paused", False))
else:
    ctx = ui.frame("Live workload", page="live", require_data=False)
    st.session_state["ctx"] = ctx
    live.render(ctx)
"""


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    from tsdash.demo import generate_to

    path = tmp_path_factory.mktemp("live") / "demo.sqlite"
    generate_to(f"sqlite:///{path}", days=21, agents=12, seed=5, now=DEMO_NOW)
    return path


@pytest.fixture
def demo(source_env, tmp_path, demo_file):
    """A fresh copy of the demo database (tests write to it); returns its path."""
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_file, path)
    # The first reader of a WAL database creates an empty -wal file, which changes
    # tsdash.sources.data_version once; read it once here so that the tests see only their writes.
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.execute("SELECT count(*) FROM cases").fetchone()
    con.close()
    source_env(f"sqlite:///{path}")
    return path


@pytest.fixture
def loads(monkeypatch):
    """Counts real reads of the source (tsdash.sources.read_source, still reading SQLite)."""
    import tsdash.sources as sources

    calls: list[int] = []
    real = sources.read_source

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sources, "read_source", counting)
    return calls


@pytest.fixture
def clock(monkeypatch):
    """The version probe's clock, moved by the test."""
    now = [1000.0]
    monkeypatch.setattr(live, "_clock", lambda: now[0])
    return now


def dataset():
    from tsdash.config import load_settings
    from tsdash.sources import load_dataset

    return load_dataset(load_settings())


def run(query: dict | None = None, script: str = PAGE) -> AppTest:
    at = AppTest.from_file(script, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def tiles(at: AppTest) -> dict[str, str]:
    return {t.label: t.value for t in at.metric}


def frozen_filter(at: AppTest) -> Filter:
    state = at.session_state["tsdash_view"]
    assert state.frozen
    return state.to_filter(state.as_of)


def texts(at: AppTest) -> str:
    return "\n".join(
        e.value for e in [*at.markdown, *at.caption, *at.info, *at.success, *at.warning, *at.error]
    ).replace("\\", "")


@pytest.fixture
def writer(demo):
    """A read-write connection of the test's own, kept open like a writing application's (the
    case system, the simulator): its commits go to the WAL file, which the data version sees.
    (A writer that closes its last connection checkpoints and deletes the WAL; the next reader
    then creates an empty one, which changes the file-based version once more.)"""
    con = sqlite3.connect(demo)
    yield con
    con.close()


def insert_case(
    con: sqlite3.Connection, case_id: str, created: dt.datetime, *, agent: str | None = None
) -> None:
    """A new open case, committed through the test's read-write connection."""
    con.execute(
        "INSERT INTO cases (case_id, created_at, queue, case_type, priority, channel, assigned_agent_id,"
        " escalated, reopened_count, status) VALUES (?, ?, 'payments_fraud', 'card_testing', 'high',"
        " 'user_report', ?, 0, 0, 'open')",
        (case_id, created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), agent),
    )
    con.commit()


def shown_open(at: AppTest) -> int:
    return int(tiles(at)["Open"].replace(",", ""))


def selection_key(at: AppTest, prefix: str) -> str:
    keys = [k for k in at.session_state["live_selection_keys"] if k.startswith(prefix)]
    assert len(keys) == 1, keys
    return keys[0]


# --------------------------------------------------------------------------- numbers = engine


def test_numbers_equal_the_engine(demo):
    at = run({"asof": ASOF, "tz": "Europe/Berlin"})
    assert not at.exception and not at.error
    f = frozen_filter(at)
    assert f.as_of == DEMO_NOW
    ds = dataset()
    total = m.backlog_now(ds, f, (), detail=True).row(0, named=True)
    shown = tiles(at)
    assert total["open"] > 50  # the demo has a real backlog
    assert shown["Open"] == f"{total['open']:,}"
    assert shown["Unassigned"] == f"{total['unassigned']:,}"
    assert shown["Breached"] == f"{total['breached']:,}"
    assert shown["Due < 1 h"] == str(total["due_within_1h"])
    assert shown["Due < 4 h"] == str(total["due_within_4h"])
    assert shown["Open escalations"] == str(total["open_escalations"])
    assert shown["Oldest open"] == live.fmt_age(total["oldest_age_s"])
    # queue x priority table: the engine's workload_queues, row for row
    wq = m.workload_queues(ds, f)
    table = at.dataframe[0].value
    assert len(table) == wq.height
    got = {(r.Queue, r.Priority): (r.Open, r.Unassigned, r.Breached, r.Escalated) for r in table.itertuples()}
    want = {
        (r["queue"], r["priority"]): (r["open"], r["unassigned"], r["breached"], r["open_escalations"])
        for r in wq.iter_rows(named=True)
    }
    assert got == want
    # per-agent load: the engine's agent_load (all active agents), flagged agents first
    load = lx.agent_load(ds, f, detail=True, all_agents=True)
    agents = at.dataframe[1].value
    assert len(agents) == load.height
    assert agents["Open"].sum() == load["open"].sum() == total["open"] - total["unassigned"]
    assert agents["At risk"].sum() == load["at_risk"].sum()
    assert agents["Resolved today"].sum() == load["resolved_today"].sum()
    flagged = load.filter(pl.col("above_normal_load").fill_null(False)).height
    assert (agents["Load"] == "above normal").sum() == flagged
    if flagged:
        assert list(agents["Load"][:flagged]) == ["above normal"] * flagged
    # the lists: unassigned (oldest first), due soonest, open escalations (oldest first)
    text = texts(at)
    assert f"**Unassigned queue, oldest first** · {total['unassigned']:,} cases" in text
    assert f"**Open escalations, oldest first** · {total['open_escalations']} cases" in text
    unassigned = at.dataframe[2].value
    oldest = lx.oldest_first(m.cases_behind(ds, f, "backlog-now", "unassigned"))
    assert list(unassigned["Case"]) == oldest["case_id"].head(live.LIST_ROWS).to_list()
    due = at.dataframe[3].value
    want_due = lx.due_soonest(m.cases_behind(ds, f, "backlog-now"), DEMO_NOW, limit=live.DUE_ROWS)
    assert list(due["Case"]) == want_due["case_id"].to_list()
    esc = at.dataframe[4].value
    want_esc = qx.open_escalations(ds, f)
    assert list(esc["Case"]) == want_esc["case_id"].head(live.LIST_ROWS).to_list()
    assert set(esc["Reason"]) <= {*want_esc["escalation_reason"].fill_null(qx.NO_REASON)}
    # a frozen link says so and does not offer the refresh controls
    assert "frozen link" in text
    assert not at.main.selectbox and not at.main.toggle


def test_drill_downs_list_the_engine_cases(demo):
    at = run({"asof": ASOF})
    f = frozen_filter(at)
    ds = dataset()
    # a queue x priority row: its open cases, oldest first
    key = selection_key(at, "live_queues_")
    at.session_state[key] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception
    first = at.dataframe[0].value.iloc[0]
    want = lx.oldest_first(m.cases_behind(ds, f, "backlog-now", queue=first.Queue, priority=first.Priority))
    title = f"**Open cases in {first.Queue}, {first.Priority} priority, oldest first** · {want.height:,}"
    assert title in texts(at)
    listed = [d.value for d in at.dataframe if "Case" in d.value.columns][0]
    assert list(listed["Case"]) == want["case_id"].head(500).to_list()
    at.session_state[key] = {"selection": {"rows": [], "columns": []}}
    # an agent row: the agent's open cases
    akey = selection_key(at, "live_agents_")
    at.session_state[akey] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception
    load = lx.agent_load(ds, f, detail=True, all_agents=True)
    top = live.agent_table(load, dict(at.session_state["live_snapshot"].options.agents))["agent_id"][0]
    mine = m.cases_behind(ds, f, "workload", agent_id=top)
    assert f"· {mine.height:,} case" in texts(at)
    assert "Open cases of " in texts(at)
    at.session_state[akey] = {"selection": {"rows": [], "columns": []}}
    # a bar of the age chart (customdata = [age bucket, priority]): the open cases of that age
    bucket, prio, n = lx.open_age(ds, f).sort("open", descending=True).row(0)
    at.session_state["live_chart_ages"] = {
        "selection": {"points": [{"customdata": [bucket, prio]}], "point_indices": [], "box": [], "lasso": []}
    }
    at.run()
    assert not at.exception
    aged = lx.in_age_bucket(m.cases_behind(ds, f, "backlog-now", priority=prio), bucket)
    assert aged.height == n > 0
    assert f"**Open {prio} cases {bucket} old, oldest first** · {n:,} case" in texts(at)
    listed = [d.value for d in at.dataframe if "Case" in d.value.columns]
    assert any(list(x["Case"]) == lx.oldest_first(aged)["case_id"].to_list() for x in listed)


# --------------------------------------------------------------------------- refresh


def test_rerun_reloads_only_when_the_data_changed(demo, writer, loads):
    at = run()  # live: as of now
    assert not at.exception and not at.error
    assert len(loads) == 1
    n0 = shown_open(at)
    unassigned0 = int(tiles(at)["Unassigned"].replace(",", ""))
    assert "refreshes every 1 min" in texts(at)  # the configured default (60 s)
    at.run()
    assert len(loads) == 1 and shown_open(at) == n0  # same version: no query
    insert_case(writer, "C9999901", dt.datetime.now(UTC) - dt.timedelta(minutes=1))
    at.run()
    assert len(loads) == 2
    assert shown_open(at) == n0 + 1
    assert int(tiles(at)["Unassigned"].replace(",", "")) == unassigned0 + 1
    # and the page's number is the engine's on the new data at the page's as-of
    snap = at.session_state["live_snapshot"]
    assert m.backlog_now(dataset(), snap.f, ())["open"][0] == n0 + 1


def test_ticks_probe_the_version_and_reload_only_on_change(demo, writer, loads, clock, tmp_path):
    script = tmp_path / "tick_page.py"
    script.write_text(TICK_SCRIPT)
    at = run(script=str(script))
    assert not at.exception and len(loads) == 1
    n0 = shown_open(at)
    as_of0 = at.session_state["live_snapshot"].as_of

    at.session_state["tick"] = True
    at.run()  # a tick with the version unchanged: no load, a new as-of
    assert not at.exception
    snap = at.session_state["live_snapshot"]
    assert len(loads) == 1 and shown_open(at) == n0
    assert snap.as_of >= as_of0 and snap.refreshed_at == snap.as_of
    assert "refreshes every 15 s" in texts(at)

    insert_case(writer, "C9999902", dt.datetime.now(UTC) - dt.timedelta(minutes=1), agent=None)
    at.run()  # within the shared probe's age (0.9 x 15 s): the version is not asked again yet
    assert len(loads) == 1 and shown_open(at) == n0
    clock[0] += 15
    at.run()  # the next interval: probe, new version, one load
    assert len(loads) == 2 and shown_open(at) == n0 + 1
    clock[0] += 15
    at.run()  # unchanged since: no load
    assert len(loads) == 2 and shown_open(at) == n0 + 1

    # a selected row holds the refresh: the list under it keeps matching what was clicked
    key = selection_key(at, "live_queues_")
    at.session_state[key] = {"selection": {"rows": [0], "columns": []}}
    insert_case(writer, "C9999903", dt.datetime.now(UTC) - dt.timedelta(minutes=1))
    clock[0] += 15
    held = at.session_state["live_snapshot"]
    at.run()
    assert not at.exception
    assert len(loads) == 2 and shown_open(at) == n0 + 1
    assert at.session_state["live_snapshot"] is held
    assert "on hold while a row or bar is selected" in texts(at)
    at.session_state[key] = {"selection": {"rows": [], "columns": []}}
    at.run()  # selection cleared: the tick refreshes
    assert len(loads) == 3 and shown_open(at) == n0 + 2

    # paused: no refresh on reruns of the body
    at.session_state["paused"] = True
    insert_case(writer, "C9999904", dt.datetime.now(UTC) - dt.timedelta(minutes=1))
    clock[0] += 15
    at.run()
    assert len(loads) == 3 and shown_open(at) == n0 + 2 and "auto-refresh paused" in texts(at)
    at.session_state["paused"] = False

    # the source goes away: the last numbers stay, with a warning; it comes back by itself
    moved = demo.with_suffix(".away")
    demo.rename(moved)
    for suffix in ("-wal", "-shm"):
        side = Path(str(demo) + suffix)
        if side.exists():
            side.rename(Path(str(moved) + suffix))
    clock[0] += 15
    at.run()
    assert not at.exception
    assert shown_open(at) == n0 + 2
    warning = "\n".join(w.value for w in at.warning).replace("\\", "")
    assert "Refresh failed at" in warning and "the next refresh tries again" in warning
    moved.rename(demo)
    for suffix in ("-wal", "-shm"):
        side = Path(str(moved) + suffix)
        if side.exists():
            side.rename(Path(str(demo) + suffix))
    clock[0] += 15
    at.run()
    assert not at.exception
    assert all("Refresh failed" not in w.value for w in at.warning)
    assert shown_open(at) == n0 + 3  # C9999904 arrived while paused


def test_the_simulator_moves_the_page(demo, clock, tmp_path):
    from tsdash.simulate import Simulator

    script = tmp_path / "tick_page.py"
    script.write_text(TICK_SCRIPT)
    at = run(script=str(script))
    n0 = shown_open(at)
    at.session_state["tick"] = True
    sim = Simulator(f"sqlite:///{demo}", rate=6, seed=3, now=DEMO_NOW)
    try:
        t = DEMO_NOW
        for _ in range(20):  # ten simulated minutes, all before the real clock
            t += dt.timedelta(seconds=30)
            assert sim.tick(t)
    finally:
        sim.close()
    assert sim.summary.created > 0
    clock[0] += 15
    at.run()
    assert not at.exception
    snap = at.session_state["live_snapshot"]
    want = m.backlog_now(dataset(), snap.f, ())["open"][0]
    assert shown_open(at) == want != n0


# --------------------------------------------------------------------------- controls


def test_interval_and_pause_controls(demo):
    at = run()
    box = at.selectbox(key="live_w_interval")
    assert box.value == 60 and box.options == ["15 s", "30 s", "1 min", "5 min"]
    box.set_value(15).run()
    assert not at.exception
    assert at.session_state["live_interval"] == 15 and "refreshes every 15 s" in texts(at)
    at.toggle(key="live_w_paused").set_value(True).run()
    assert at.session_state["live_paused"] is True and "auto-refresh paused" in texts(at)
    # kept when the page is opened again in the same session (a plain session key)
    at.run()
    assert at.selectbox(key="live_w_interval").value == 15 and at.toggle(key="live_w_paused").value is True


def test_configured_interval_is_offered(demo, monkeypatch):
    monkeypatch.setenv("TSDASH_REFRESH_SECONDS", "45")
    at = run()
    box = at.selectbox(key="live_w_interval")
    assert box.value == 45 and "45 s" in box.options


# --------------------------------------------------------------------------- edge data


def test_only_required_tables_and_hostile_names(fixture_source):
    at = run({"asof": FIXTURE_ASOF})
    assert not at.exception and not at.error
    f = frozen_filter(at)
    from tsdash.dataset import normalize

    ds = normalize(fixture_tables())
    total = m.backlog_now(ds, f, (), detail=True).row(0, named=True)
    # open at the anchor: C3 (A3), C4 (unassigned), C6 (A1)
    assert (total["open"], total["unassigned"]) == (3, 1)
    assert tiles(at)["Open"] == "3" and tiles(at)["Unassigned"] == "1"
    agents = at.dataframe[1].value
    assert HOSTILE_NAME in set(agents["Agent"])  # shown as text in a table cell
    assert set(agents["Load"]) == {"–"}  # teams of two: no normal-load limit
    for el in [*at.markdown, *at.caption, *at.warning, *at.info, *at.success]:
        v = el.value.replace("\\<", "")
        assert "<img" not in v and "**Mallory**" not in v
    assert "No open escalations. (This source records no escalations at all" in texts(at)


def test_hostile_link(fixture_source):
    at = run(
        {
            "agent": ["A1", "NOBODY<script>"],
            "from": "2026-13-45",
            "tz": "Mars/Olympus",
            "asof": "soon",
            "case": "<b>x",
        }
    )
    assert not at.exception and not at.error
    warning = "\n".join(w.value for w in at.warning).replace("\\", "")
    assert "NOBODY<script>" in warning and "Mars/Olympus" in warning
    # the agent filter kept A1: A1's open case C6 only
    assert tiles(at)["Open"] == "1" and tiles(at)["Unassigned"] == "0"


def test_filters_matching_nothing(fixture_source):
    at = run({"asof": FIXTURE_ASOF, "queue": "payments_fraud", "agent": "A3"})
    assert not at.exception
    info = "\n".join(i.value for i in at.info).replace("\\", "")
    assert "No open cases match the filters" in info and "3 are open without them" in info
    assert not at.metric


def test_nothing_open(source_env, tmp_path):
    tables = fixture_tables()
    tables["cases"] = tables["cases"].with_columns(
        pl.col("created_at").alias("resolved_at"), pl.col("created_at").alias("first_response_at")
    )
    source_env(write_sqlite(tmp_path / "closed.sqlite", tables))
    at = run({"asof": FIXTURE_ASOF})
    assert not at.exception and not at.error
    assert any(s.value.startswith("Nothing open — the queue is clear") for s in at.success)
    assert not at.metric
    assert len(at.dataframe) == 1  # the per-agent load (resolved today) still shows


def test_empty_data(source_env, tmp_path):
    tables = fixture_tables()
    tables["cases"] = tables["cases"].clear()
    source_env(write_sqlite(tmp_path / "empty.sqlite", tables))
    at = run()
    assert not at.exception and not at.error
    assert any("The source has no cases yet" in s.value for s in at.success)


def test_single_agent(source_env, tmp_path):
    tables = fixture_tables()
    tables["agents"] = tables["agents"].filter(pl.col("agent_id") == "A1")
    tables["cases"] = tables["cases"].filter(pl.col("assigned_agent_id") == "A1")
    source_env(write_sqlite(tmp_path / "one.sqlite", tables))
    at = run({"asof": FIXTURE_ASOF})
    assert not at.exception and not at.error
    assert tiles(at)["Open"] == "1"  # C6
    agents = at.dataframe[1].value
    assert (
        list(agents["Agent"]) == ["Ann Lee"] and list(agents["Open"]) == [1] and list(agents["Load"]) == ["–"]
    )


def test_a_source_that_comes_back_redraws_the_page(source_env, tmp_path, clock):
    path = tmp_path / "later.sqlite"
    source_env(f"sqlite:///{path}")
    script = tmp_path / "tick_page.py"
    script.write_text(TICK_SCRIPT)
    at = run(script=str(script))
    assert not at.exception and at.error  # the frame's banner: the file is not there
    assert any("Waiting for the data source" in i.value for i in at.info)
    write_sqlite(path, fixture_tables())
    clock[0] += 15
    at.session_state["tick_once"] = True
    at.run()  # the tick reads the data and reruns the whole page (frame and sidebar included)
    assert not at.exception and not at.error
    assert at.session_state["ctx"].ds is not None  # the full run's context has the data now
    assert tiles(at)["Open"] == "3"  # C3, C4, C6 (live: as of now)


def test_unreadable_source_waits_without_a_traceback(source_env, tmp_path):
    source_env(f"sqlite:///{tmp_path / 'missing.sqlite'}")
    at = run()
    assert not at.exception
    assert at.error  # the frame's banner
    assert any("Waiting for the data source" in i.value for i in at.info)


# --------------------------------------------------------------------------- pure helpers


def test_labels_and_ages():
    assert [live.interval_label(s) for s in (15, 30, 60, 300, 45)] == [
        "15 s",
        "30 s",
        "1 min",
        "5 min",
        "45 s",
    ]
    assert live.interval_options(60) == [15, 30, 60, 300]
    assert live.interval_options(45) == [15, 30, 45, 60, 300]
    assert [live.ago(s) for s in (0, 4.9, 20, 89, 90, 7199, 7200)] == [
        "just now",
        "just now",
        "20 s ago",
        "89 s ago",
        "1 min ago",
        "119 min ago",
        "2 h ago",
    ]
    assert [live.fmt_age(s) for s in (0, 59, 60, 750, 7200, 3 * 86400)] == [
        "< 1 min",
        "< 1 min",
        "1.0 min",
        "12.5 min",
        "2.0 h",
        "3.0 d",
    ]


def test_heat_css():
    assert live.heat_css([0, None, 2, 5], "blue") == [
        "",
        "",
        "background-color: rgba(37, 99, 235, 0.29)",  # 0.12 + 0.43 * 2 / 5 = 0.292
        "background-color: rgba(37, 99, 235, 0.55)",  # the largest: 0.12 + 0.43
    ]
    assert live.heat_css([0, 0]) == ["", ""]


def test_tables_and_figures_from_hand_data():
    wq = pl.DataFrame(
        {
            "queue": ["a", "a", "b", "c"],
            "priority": ["low", "urgent", "high", None],
            "open": [5, 2, 8, 1],
            "unassigned": [1, 0, 2, 1],
            "breached": [0, 2, 0, 0],
            "oldest_age_s": [100.0, 7200.0, 90_000.0, 30.0],
            "due_within_1h": [0, 0, 1, 0],
            "due_within_4h": [0, 0, 3, 0],
            "open_escalations": [0, 1, 0, 0],
        }
    )
    t = live.queue_table(wq)
    # most breached first, then most open
    assert t.select("Queue", "Priority", "Open", "Oldest").rows() == [
        ("a", "urgent", 2, "2.0 h"),
        ("b", "high", 8, "25.0 h"),
        ("a", "low", 5, "1.7 min"),
        ("c", live.NO_PRIORITY, 1, "< 1 min"),
    ]
    fig = live.fig_queues(wq)
    assert [tr.name for tr in fig.data] == ["urgent", "high", "low", live.NO_PRIORITY]
    assert list(fig.data[0].customdata[0]) == ["a", "urgent"] and list(fig.data[3].customdata[0]) == [
        "c",
        None,
    ]
    assert list(fig.layout.xaxis.categoryarray) == ["b", "a", "c"]  # most open first: 8, 7, 1

    load = pl.DataFrame(
        {
            "agent_id": ["x1", "x2", "x3"],
            "team": ["R & D", "R & D", "Ops"],
            "active": [True, False, True],
            "open": [3, 12, 0],
            "at_risk": [1, 4, 0],
            "oldest_age_s": [3600.0, 200_000.0, None],
            "resolved_today": [4, 0, 1],
            "aht_today_s": [600.0, None, 90.0],
            "normal_load_limit": [7.5, 7.5, None],
            "above_normal_load": [False, True, None],
        }
    )
    names = {"x1": "Zoë O'Brien", "x2": "<b>Bob</b> & co"}
    t = live.agent_table(load, names)
    assert t.select("Agent", "Open", "Load", "Status").rows() == [
        ("<b>Bob</b> & co", 12, "above normal", "left"),
        ("Zoë O'Brien", 3, "", ""),
        ("x3", 0, "–", ""),
    ]
    assert t["AHT today"].to_list() == ["–", "10.0 min", "1.5 min"]
    fig = live.fig_agents(t)
    # x3 has nothing open and is left out; names are escaped for Plotly; most loaded on top
    assert list(fig.data[0].y) == ["Zoë O'Brien", "&lt;b&gt;Bob&lt;/b&gt; &amp; co ⚠"]
    assert list(fig.data[0].x) == [1, 4] and list(fig.data[1].x) == [2, 8]
    assert [list(c) for c in fig.data[0].customdata] == [["x1"], ["x2"]]

    ages = pl.DataFrame(
        {"age_bucket": ["< 4 h", "1-3 d", "1-3 d"], "priority": ["low", "low", "urgent"], "open": [3, 1, 2]}
    )
    fig = live.fig_ages(ages)
    assert [tr.name for tr in fig.data] == ["urgent", "low"]
    assert list(fig.layout.xaxis.categoryarray) == list(lx.AGE_BUCKET_LABELS)
    assert [list(c) for c in fig.data[1].customdata] == [["< 4 h", "low"], ["1-3 d", "low"]]


def test_selection_helpers():
    assert live.has_selection({"selection": {"rows": [2], "columns": []}})
    assert not live.has_selection({"selection": {"rows": [], "columns": []}})
    assert live.has_selection({"selection": {"points": [{"customdata": ["a"]}]}})
    assert not live.has_selection({"selection": {"points": []}})
    assert not live.has_selection(None)
    assert live.ids_key("k", [1, 2]) != live.ids_key("k", [2, 1])
    assert live.priorities_in(["low", None, "urgent", "p9", "low"]) == ["urgent", "low", "p9", None]


def test_shared_version_probe_serves_every_session(tmp_path, monkeypatch, clock):
    """Ten sessions ticking within one interval cost one version probe and one load."""
    import tsdash.sources as sources
    from tsdash.config import Settings, SourceConfig

    path = tmp_path / "v.sqlite"
    write_sqlite(path, fixture_tables())
    settings = Settings(source=SourceConfig(location=f"sqlite:///{path}"))
    probes, reads = [], []
    real_version, real_read = sources.data_version, sources.read_source
    monkeypatch.setattr(sources, "data_version", lambda s: probes.append(1) or real_version(s))
    monkeypatch.setattr(sources, "read_source", lambda *a, **k: reads.append(1) or real_read(*a, **k))
    first = [live.load_current(settings, 27.0) for _ in range(10)]
    assert (len(probes), len(reads)) == (1, 1)
    assert all(x is first[0] for x in first)  # the same cached object for everyone
    clock[0] += 27
    again = live.load_current(settings, 27.0)
    assert (len(probes), len(reads)) == (2, 1) and again is first[0]  # probed, unchanged, not loaded
    insert = sqlite3.connect(path)
    insert.execute(
        "INSERT INTO cases (case_id, created_at, queue) VALUES ('C7', '2026-01-01T00:00:00Z', 'x')"
    )
    insert.commit()
    insert.close()
    clock[0] += 27
    new = live.load_current(settings, 27.0)
    assert (len(probes), len(reads)) == (3, 2) and new.ds.cases.height == 7
