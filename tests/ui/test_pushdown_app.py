"""The app reads only what a view needs (issue 7, pushdown): on a source with 400 days of
history the pages load the view's period and its history (plus every case still open), a filter
change is served by the same load, a link to an old case reads that case by id, and a frozen view
of the past loads that past."""

from __future__ import annotations

import datetime as dt
import sys

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.ui.conftest import ANCHOR, APP, TIMEOUT, fixture_tables, tiles, write_sqlite
from tsdash.config import load_settings
from tsdash.ui.frame import source_id

CASES = str(ROOT / "pages" / "7_Cases.py")
LIVE = str(ROOT / "pages" / "1_Live_workload.py")


def _t(days_before: float, hours: float = 0) -> dt.datetime:
    return ANCHOR - dt.timedelta(days=days_before) + dt.timedelta(hours=hours)


def tables() -> dict[str, pl.DataFrame]:
    """The UI fixture (10 recent days) plus three old cases: OLD1 resolved 399 days ago (outside
    any recent view), OLD2 open for 400 days (in every live view), OLD3 resolved 200 days ago."""
    t = fixture_tables()
    old = pl.DataFrame(
        {
            "case_id": ["OLD1", "OLD2", "OLD3"],
            "created_at": [_t(400), _t(400, 1), _t(201)],
            "queue": ["payments_fraud", "buyer_disputes", "payments_fraud"],
            "priority": ["high", "low", "normal"],
            "case_type": ["card_testing", "not_received", "chargeback"],
            "channel": ["api", "report", "api"],
            "assigned_agent_id": ["A1", "A2", "A1"],
            "first_response_at": [_t(400, 1), None, _t(201, 2)],
            "resolved_at": [_t(399), None, _t(200)],
            "handle_seconds": [1500.0, None, 700.0],
        },
        schema_overrides={"created_at": pl.Datetime("us", "UTC")},
    )
    t["cases"] = pl.concat([t["cases"], old], how="vertical_relaxed")
    t["events"] = pl.DataFrame(
        {
            "case_id": ["OLD1", "OLD1", "OLD1", "C1"],
            "ts": [_t(400), _t(400, 1), _t(399), _t(9)],
            "event_type": ["created", "first_response", "resolved", "created"],
            "agent_id": [None, "A1", "A1", None],
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )
    return t


@pytest.fixture
def long_source(source_env, tmp_path) -> str:
    return source_env(write_sqlite(tmp_path / "long.sqlite", tables()))


def _loads() -> list:
    """The loads the frame remembers for this test's source, newest first."""
    module = sys.modules["tsdash.ui.frame"]  # (the package's ``frame`` is the function)
    return module._RECENT.get(source_id(load_settings()), [])


def _loaded_ids() -> set[str]:
    [newest, *_] = _loads()
    return set(newest.ds.cases["case_id"].to_list())


def test_a_recent_view_loads_its_period_its_history_and_every_open_case(long_source):
    at = AppTest.from_file(LIVE, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    # C1..C6 are recent, OLD2 is still open; OLD1 (resolved 399 days ago) and OLD3 (200 days
    # ago, before the 130-day history) stay in the database
    assert _loaded_ids() == {"C1", "C2", "C3", "C4", "C5", "C6", "OLD2"}
    # and the open count includes the 400-day-old open case: C3, C4, C6 and OLD2
    assert tiles(at)["Open"] == "4"


def test_a_filter_change_is_served_by_the_same_load(long_source):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    first = _loads()
    assert len(first) == 1
    at.multiselect(key="tsdash_w_queue").set_value(["payments_fraud"]).run()
    assert not at.exception and not at.error
    assert _loads() == first and _loads()[0] is first[0]  # no second read of the source


def test_a_link_to_an_old_case_reads_that_case(long_source):
    at = AppTest.from_file(CASES, default_timeout=TIMEOUT)
    at.query_params["case"] = "OLD1"
    at.run()
    assert not at.exception and not at.error
    assert not [w.value for w in at.warning]
    assert at.subheader[0].value == "Case OLD1"
    assert "OLD1" not in _loaded_ids()  # read by id, not by loading all history
    [fields] = [
        d.value for d in at.dataframe if "Field" in d.value.columns and "case_id" in set(d.value["Field"])
    ]
    assert dict(zip(fields["Field"], fields["Value"], strict=True))["handle_seconds"] == "1500 s (25.0 min)"
    [events] = [d.value for d in at.dataframe if list(d.value.columns) == ["Time", "Event", "Agent"]]
    assert events["Event"].tolist() == ["created", "first_response", "resolved"]


def test_an_unknown_case_is_still_a_notice(long_source):
    at = AppTest.from_file(CASES, default_timeout=TIMEOUT)
    at.query_params["case"] = "NOPE"
    at.run()
    assert not at.exception and not at.error
    assert any("No case “NOPE”" in w.value for w in at.warning)


def test_a_frozen_view_of_the_past_loads_that_past(long_source):
    start, end = _t(401).date(), _t(398).date()
    asof = _t(390).strftime("%Y-%m-%dT%H:%M:%SZ")
    at = AppTest.from_file(CASES, default_timeout=TIMEOUT)
    at.query_params.update({"preset": "custom", "from": str(start), "to": str(end), "asof": asof})
    at.run()
    assert not at.exception and not at.error
    assert {"OLD1", "OLD2"} <= _loaded_ids()
    assert "C1" not in _loaded_ids()  # created after the frozen view's end (and its margin)
    [listed] = [d.value for d in at.dataframe if "Case" in d.value.columns]
    assert sorted(listed["Case"].tolist()) == ["OLD1", "OLD2"]


def test_the_data_page_says_which_rows_were_read(long_source):
    at = AppTest.from_file(str(ROOT / "pages" / "9_Data.py"), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    [note] = [c.value for c in at.caption if c.value.startswith("Read for this view")]
    assert "every case still open" in note and "tsdash validate" in note
    [summary] = [d.value for d in at.dataframe if "Rows" in d.value.columns]
    rows = dict(zip(summary.iloc[:, 0], summary["Rows"], strict=True))
    assert rows["cases"] == 7  # C1..C6 and the open OLD2 of the 9 in the database


def test_an_outage_shows_the_last_load_only_for_views_it_holds(long_source, tmp_path):
    db = tmp_path / "long.sqlite"
    at = AppTest.from_file(LIVE, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error and tiles(at)["Open"] == "4"
    db.rename(tmp_path / "away.sqlite")  # the source is gone
    # the same live view: the last good load under a banner
    at = AppTest.from_file(LIVE, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert any("cannot be read right now" in w.value for w in at.warning)
    assert tiles(at)["Open"] == "4"
    # a frozen view of the past: that load does not hold its rows, so no numbers, the error
    at = AppTest.from_file(CASES, default_timeout=TIMEOUT)
    at.query_params.update(
        {
            "preset": "custom",
            "from": str(_t(401).date()),
            "to": str(_t(398).date()),
            "asof": _t(390).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    at.run()
    assert not at.exception
    assert any("Could not load the data" in e.value for e in at.error)
    assert not [d for d in at.dataframe if "Case" in d.value.columns]


def test_pages_read_no_timelines_and_a_case_reads_its_own(long_source):
    at = AppTest.from_file(LIVE, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    [load] = _loads()
    assert "events" not in load.ds.read_tables and load.ds.events.height == 0
    # a recent case (in the loaded period): its timeline comes from its events, read by id
    at = AppTest.from_file(CASES, default_timeout=TIMEOUT)
    at.query_params["case"] = "C1"
    at.run()
    assert not at.exception and not at.error
    [events] = [d.value for d in at.dataframe if list(d.value.columns) == ["Time", "Event", "Agent"]]
    assert events["Event"].tolist() == ["created"]
    # the Data page reads every table (its report covers the events too)
    at = AppTest.from_file(str(ROOT / "pages" / "9_Data.py"), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    [summary] = [d.value for d in at.dataframe if "Rows" in d.value.columns]
    rows = dict(zip(summary.iloc[:, 0], summary["Rows"], strict=True))
    assert rows["events"] == 1  # C1's event (OLD1's three are outside the period)
