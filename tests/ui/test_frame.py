"""The frame in Streamlit's AppTest: real sources (SQLite file, Parquet folder) named by
TSDASH_SOURCE, deep links, hostile links, page switches, freeze, reset, source errors, empty data.

AppTest does not rewrite a browser URL; it exposes what the script wrote to st.query_params,
which is what these tests check (the browser round trip is in tests/browser).
"""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import ANCHOR, APP, HOSTILE_NAME, TIMEOUT, fixture_tables, write_parquet, write_sqlite

DATA_PAGE = "pages/9_Data.py"
W = "tsdash_w_"


def run(query: dict | None = None, script: str = APP) -> AppTest:
    at = AppTest.from_file(script, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def view(at: AppTest):
    return at.session_state["tsdash_view"]


def warnings(at: AppTest) -> str:
    """All warning text, Markdown escapes removed."""
    return "\n".join(w.value for w in at.warning).replace("\\", "")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_over_sqlite_fixture(fixture_source):
    at = run()
    assert not at.exception
    assert not at.error and not at.warning
    assert at.title[0].value == "Overview"
    # the Overview's tiles: C3, C4 and C6 are open now; C3 (normal, 48 h target) is breached
    shown = metrics(at)
    assert (shown["Open backlog now"], shown["Breached (open)"], shown["QA mean score"]) == ("3", "1", "–")
    # navigation: own links with labels, only to pages that exist; the filters ride along
    links = {link.label for link in at.sidebar.get("page_link")}
    assert {"Overview", "Data"} <= links
    # options come from the data; agents by name (duplicate names get the id), keyed by id
    agent = at.multiselect(key=W + "agent")
    assert agent.options == [HOSTILE_NAME, "Ann Lee (A1)", "Ann Lee (A4)", "Bo Chen"]  # by name
    assert at.multiselect(key=W + "team").options == ["Moderation", "Payments"]
    assert at.multiselect(key=W + "priority").options == ["urgent", "high", "normal", "low"]
    # the URL now states the view explicitly
    assert dict(at.query_params) == {"preset": "last_7", "tz": "UTC"}
    state = view(at)
    assert state.preset == "last_7" and not state.frozen
    today = dt.datetime.now(dt.UTC).date()
    assert at.date_input(key=W + "dates").value == (today - dt.timedelta(days=6), today)


def test_deep_link_seeds_the_view(fixture_source):
    asof = (ANCHOR - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    start = (ANCHOR - dt.timedelta(days=9)).date()
    end = ANCHOR.date()
    at = run(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "tz": "Asia/Tokyo",
            "asof": asof,
            "agent": ["A2", "A1"],
            "team": "Payments",
            "queue": "payments_fraud",
        }
    )
    assert not at.exception and not at.warning
    s = view(at)
    assert (s.preset, s.start, s.end, s.tz) == ("custom", start, end, "Asia/Tokyo")
    assert s.agents == ("A1", "A2") and s.teams == ("Payments",) and s.queues == ("payments_fraud",)
    assert s.as_of == ANCHOR - dt.timedelta(hours=1)
    # widgets show the view
    assert at.multiselect(key=W + "agent").value == ["A1", "A2"]
    assert at.selectbox(key=W + "tz").value == "Asia/Tokyo"
    assert at.selectbox(key=W + "preset").value == "custom"
    assert at.date_input(key=W + "dates").value == (start, end)
    assert at.button(key=W + "unfreeze")  # frozen: the button offers to unfreeze
    # and the URL keeps it (lists for repeated keys)
    assert at.query_params["asof"] == asof
    assert at.query_params["agent"] == ["A1", "A2"]
    # and so do the navigation links (opening one in a new tab keeps the view)
    link = at.sidebar.get("page_link")[0].proto.query_string
    assert "agent=A1&agent=A2" in link and f"from={start}" in link and "tz=Asia%2FTokyo" in link


def test_hostile_link_is_cleaned_with_notices(fixture_source):
    at = run(
        {
            "agent": ["A1", "NOBODY<script>"],
            "team": ["Ghosts"],
            "from": "2026-13-45",
            "to": "2026-01-01",
            "tz": "Mars/Olympus",
            "asof": "not-a-time",
            "preset": "forever",
            "junk": "x",
        }
    )
    assert not at.exception and not at.error
    text = warnings(at)
    for fragment in ("NOBODY<script>", "Ghosts", "2026-13-45", "Mars/Olympus", "not-a-time", "forever"):
        assert fragment in text, fragment
    s = view(at)
    assert s.agents == ("A1",) and s.teams == () and s.preset == "last_7" and s.tz == "UTC" and not s.frozen
    # the hostile value reaches Markdown only escaped
    raw = "\n".join(w.value for w in at.warning)
    assert "NOBODY<script>" not in raw and "NOBODY\\<script\\>" in raw
    # the page still renders and the URL is clean (unknown keys gone)
    assert metrics(at)["Open backlog now"] == "1"  # A1's open case C6
    assert dict(at.query_params) == {"preset": "last_7", "tz": "UTC", "agent": "A1"}
    # notices are shown once, not on every rerun
    at.run()
    assert not at.warning


def test_inverted_range_and_future_asof(fixture_source):
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    at = run({"from": "2026-03-09", "to": "2026-03-01", "asof": future})
    assert not at.exception
    text = warnings(at)
    assert "ends before it starts" in text and "future" in text
    assert view(at).preset == "last_7" and not view(at).frozen


def test_filters_kept_across_pages(fixture_source):
    at = run()
    at.multiselect(key=W + "agent").set_value(["A2"]).run()
    at.selectbox(key=W + "tz").set_value("Europe/Berlin").run()
    at.selectbox(key=W + "preset").set_value("last_28").run()
    assert view(at).agents == ("A2",)
    at.switch_page(DATA_PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Data"
    s = view(at)
    assert (s.agents, s.tz, s.preset) == (("A2",), "Europe/Berlin", "last_28")
    assert at.multiselect(key=W + "agent").value == ["A2"]
    assert at.selectbox(key=W + "tz").value == "Europe/Berlin"
    assert at.selectbox(key=W + "preset").value == "last_28"
    assert set(at.query_params) == {"preset", "tz", "agent"}
    at.switch_page(APP).run()
    assert view(at).agents == ("A2",) and at.multiselect(key=W + "agent").value == ["A2"]


def test_dates_widget_switches_to_custom(fixture_source):
    at = run()
    start, end = dt.date(2026, 1, 5), dt.date(2026, 1, 11)
    at.date_input(key=W + "dates").set_value((start, end)).run()
    s = view(at)
    assert (s.preset, s.start, s.end) == ("custom", start, end)
    assert at.selectbox(key=W + "preset").value == "custom"
    assert (at.query_params["from"], at.query_params["to"]) == ("2026-01-05", "2026-01-11")
    # going back to a rolling preset drops the dates from the link
    at.selectbox(key=W + "preset").set_value("today").run()
    assert view(at).preset == "today" and "from" not in at.query_params


def test_freeze_unfreeze_and_reset(fixture_source):
    at = run({"agent": "A1"})
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    at.button(key=W + "freeze").click().run()
    s = view(at)
    assert s.frozen and before <= s.as_of <= dt.datetime.now(dt.UTC)
    assert "asof" in at.query_params
    at.button(key=W + "unfreeze").click().run()
    assert not view(at).frozen and "asof" not in at.query_params
    at.button(key=W + "reset").click().run()
    assert view(at).agents == () and at.multiselect(key=W + "agent").value == []
    assert not at.exception


def test_parquet_folder_source(source_env, tmp_path):
    source_env(write_parquet(tmp_path / "pq", fixture_tables()))
    at = run({"agent": "A3"})
    assert not at.exception and not at.error
    assert metrics(at)["Open backlog now"] == "1"  # A3's open case C3
    assert view(at).agents == ("A3",)


def test_source_error_shows_a_banner_and_the_frame(source_env, tmp_path):
    source_env(str(tmp_path / "no_such_folder"))
    at = run({"agent": "A1"})
    assert not at.exception
    assert len(at.error) == 1 and "Could not load the data" in at.error[0].value
    assert "no_such_folder" in at.error[0].value.replace("\\", "")
    assert not at.metric  # Overview stops after the frame
    assert at.sidebar.get("page_link") and at.multiselect(key=W + "agent")
    # without data the dimension values cannot be checked: kept, not dropped
    assert view(at).agents == ("A1",)
    # the Data page still draws what it can
    at.switch_page(DATA_PAGE).run()
    assert not at.exception and len(at.error) == 1
    assert any("no_such_folder" in t.value for t in at.text)


def test_missing_required_column_is_a_clear_error(source_env, tmp_path):
    tables = fixture_tables()
    tables["cases"] = tables["cases"].drop("queue")
    source_env(write_sqlite(tmp_path / "bad.sqlite", tables))
    at = run()
    assert not at.exception
    assert len(at.error) == 1 and "queue" in at.error[0].value


def test_tables_without_rows_load_as_empty_data(source_env, tmp_path):
    # a table with a header and no rows is usable but empty (validation warning empty_table):
    # no error banner; the Overview explains that there are no cases instead of showing tiles
    tables = {k: v.clear() for k, v in fixture_tables().items()}
    source_env(write_parquet(tmp_path / "empty", tables))
    at = run({"agent": "A1"})
    assert not at.exception and not at.error
    assert len(at.info) == 1 and "no cases yet" in at.info[0].value
    assert not at.metric
    assert any("data warnings" in c.value for c in at.caption)
    # the data has no agents: the link's agent is dropped with a notice
    assert at.multiselect(key=W + "agent").options == []
    assert view(at).agents == () and "A1" in warnings(at)
    assert at.sidebar.get("page_link")


def test_window_without_data_still_renders(fixture_source):
    at = run({"from": "2020-01-01", "to": "2020-01-31"})
    assert not at.exception and not at.error and not at.warning
    assert view(at).window(dt.datetime.now(dt.UTC)) == (dt.date(2020, 1, 1), dt.date(2020, 1, 31))
    # an explanation instead of empty numbers; the snapshot tiles (open now) still show
    assert "No cases created or resolved in this period" in at.info[0].value.replace("\\", "")
    assert metrics(at)["Open backlog now"] == "3"


def test_data_text_is_never_markdown(fixture_source):
    at = run({"agent": ["A3", "<b>x</b>"]})
    assert not at.exception
    # data and URL text reaches Markdown elements only escaped
    for el in [*at.markdown, *at.caption, *at.warning, *at.info, *at.error]:
        assert (
            "<b>" not in el.value
            and "**Mallory**" not in el.value
            and "<img" not in el.value.replace("\\<", "")
        )
    assert "\\<b\\>x\\<\\/b\\>" in at.warning[0].value
    assert HOSTILE_NAME in at.multiselect(key=W + "agent").options  # option labels are plain text


@pytest.mark.parametrize("script", [APP, DATA_PAGE])
def test_every_page_runs_directly_from_a_deep_link(fixture_source, script):
    # a deep link on a fresh server runs the page script alone
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["agent"] = "A2"
    at.switch_page(script)
    at.run()
    assert not at.exception
    assert view(at).agents == ("A2",)


def test_configuration_error_is_a_banner(fixture_source, monkeypatch):
    monkeypatch.setenv("TSDASH_DISPLAY_TZ", "Mars/Olympus")
    at = run()
    assert not at.exception
    assert len(at.error) == 1 and "Mars/Olympus" in at.error[0].value
    assert at.sidebar.get("page_link")


def test_demo_data(source_env, tmp_path):
    from tsdash.dataset import normalize
    from tsdash.demo import generate
    from tsdash.metrics import kpis

    tables = generate(days=14, agents=8, seed=3, now=ANCHOR)
    source_env(write_parquet(tmp_path / "demo", tables))
    asof = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
    at = run({"preset": "last_28", "asof": asof})
    assert not at.exception and not at.error and not at.warning
    ds = normalize(tables)
    open_now = kpis(ds, view(at).to_filter(ANCHOR))["open_backlog"].value
    assert open_now > 0 and metrics(at)["Open backlog now"] == f"{open_now:,}"
    assert len(at.multiselect(key=W + "agent").options) == tables["agents"].height
    assert at.multiselect(key=W + "queue").options == sorted(tables["cases"]["queue"].unique().to_list())
    # freshness: the demo's latest record is at most its anchor
    assert any("Data updated" in c.value for c in at.sidebar.caption)


def test_ui_frame_is_the_function_even_when_the_submodule_is_imported_first():
    """``from tsdash.ui.frame import X`` before any page ran used to leave ``ui.frame`` bound to
    the module ("'module' object is not callable" on every page of that process)."""
    import subprocess
    import sys

    code = (
        "from tsdash.ui.frame import source_id\n"
        "from tsdash import ui\n"
        "assert callable(ui.frame) and ui.frame.__module__ == 'tsdash.ui.frame', ui.frame\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
