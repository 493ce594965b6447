"""Cases page (pages/7_Cases.py) in AppTest: the detail of a known case (fields, timeline from
events or from the case's timestamps, QA reviews, escalation), unknown and hostile ?case=
links, and the searchable list whose counts equal the engine's drill-down."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import ANCHOR, APP, HOSTILE_NAME, TIMEOUT, fixture_tables, write_parquet, write_sqlite
from tsdash import metrics as m
from tsdash.ui.case_detail import case_fields, case_timeline, clean_case_id, search_cases

CASES = "pages/7_Cases.py"
ASOF = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
REASON = "<b>legal</b> =HYPERLINK(1)"
COMMENT = "**Bold** <script>alert(1)</script> [link](javascript:x)"


def _t(days_before: float, hours: float = 0) -> dt.datetime:
    return ANCHOR - dt.timedelta(days=days_before) + dt.timedelta(hours=hours)


def tables() -> dict[str, pl.DataFrame]:
    t = fixture_tables()
    t["cases"] = t["cases"].with_columns(
        pl.Series("escalated_at", [_t(9, 2), None, None, None, None, None], dtype=pl.Datetime("us", "UTC")),
        pl.Series("escalation_reason", [REASON, None, None, None, None, None]),
        pl.Series(
            "escalation_resolved_at", [_t(9, 5), None, None, None, None, None], dtype=pl.Datetime("us", "UTC")
        ),
    )
    t["events"] = pl.DataFrame(
        {
            "case_id": ["C1", "C1", "C1", "C1", "C1", "C2"],
            "ts": [_t(9), _t(9, 0.5), _t(9, 1), _t(8), _t(0, 1), _t(6)],
            "event_type": ["created", "assigned", "first_response", "resolved", "reopened", "created"],
            "agent_id": [None, "A1", "A1", "A1", None, None],
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )
    t["qa_reviews"] = pl.DataFrame(
        {
            "review_id": ["R1"],
            "case_id": ["C1"],
            "agent_id": ["A1"],
            "reviewed_at": [_t(7)],
            "score": [72.5],
            "reviewer_id": ["QA9"],
            "critical_error": [True],
            "comment": [COMMENT],
        },
        schema_overrides={"reviewed_at": pl.Datetime("us", "UTC")},
    )
    t["qa_criteria"] = pl.DataFrame(
        {"review_id": ["R1", "R1"], "criterion": ["documentation", "policy_accuracy"], "score": [60.0, 85.0]}
    )
    return t


@pytest.fixture
def full_source(source_env, tmp_path):
    return source_env(write_sqlite(tmp_path / "cases.sqlite", tables()))


def open_page(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page(CASES)
    return at.run()


# the page's read-only tables (st.dataframe without selection has no widget key in AppTest),
# told apart by their columns / first field
TABLES = {
    "case_summary": lambda df: "SLA" in df.columns and "Case" in df.columns,
    "case_events": lambda df: list(df.columns) == ["Time", "Event", "Agent"],
    "case_reviews": lambda df: "Comment" in df.columns,
    "case_criteria": lambda df: "Criterion" in df.columns,
    "case_fields": lambda df: "Field" in df.columns and "case_id" in set(df["Field"]),
    "case_escalation": lambda df: "Field" in df.columns and "Reason" in set(df["Field"]),
}


def table(at: AppTest, name: str):
    found = [d.value for d in at.dataframe if TABLES[name](d.value)]
    assert len(found) == 1, f"{name}: {len(found)} tables"
    return found[0]


def frame_of(at: AppTest, key: str) -> dict[str, str]:
    df = table(at, key)
    return dict(zip(df["Field"], df["Value"], strict=True))


def no_markdown_injection(at: AppTest) -> None:
    for el in [*at.markdown, *at.caption, *at.warning, *at.info, *at.error, *at.subheader]:
        v = el.value.replace("\\<", "")
        assert "<b>" not in v and "<script" not in v and "**Bold**" not in el.value and "<img" not in v


def test_detail_of_a_known_case(full_source):
    at = open_page({"case": "C1", "asof": ASOF, "tz": "Asia/Tokyo"})
    assert not at.exception and not at.error and not at.warning
    assert at.subheader[0].value == "Case C1"
    fields = frame_of(at, "case_fields")
    assert fields["queue"] == "payments_fraud" and fields["priority"] == "high"
    assert fields["assigned_agent_id"] == "A1" and fields["case_type"] == "card_testing"
    assert fields["handle_seconds"] == "1200 s (20.0 min)"
    assert (
        fields["created_at"]
        == (_t(9) + dt.timedelta(hours=9)).strftime("%Y-%m-%d %H:%M:%S") + " (Asia/Tokyo)"
    )
    assert fields["escalation_reason"] == REASON
    assert fields["team (of the assigned agent)"] == "Payments"
    # status as of the frozen as-of: resolved after exactly 24 h, high priority (24 h): met
    summary = table(at, "case_summary")
    assert summary[["Status", "Hours", "SLA", "Escalated"]].values.tolist() == [
        ["resolved", 24.0, "met", True]
    ]
    # timeline from the events table; the reopen after the as-of is not shown
    events = table(at, "case_events")
    assert events["Event"].tolist() == ["created", "assigned", "first_response", "resolved"]
    assert events["Agent"].tolist()[1] == "Ann Lee (A1)"
    assert any("1 later timeline entries" in c.value for c in at.caption)
    assert at.get("plotly_chart")
    # QA review with its criteria and the comment as literal text
    reviews = table(at, "case_reviews")
    assert reviews[["Review", "Score", "Critical error", "Comment"]].values.tolist() == [
        ["R1", 72.5, True, COMMENT]
    ]
    crit = table(at, "case_criteria")
    assert crit[["Criterion", "Score"]].values.tolist() == [
        ["documentation", 60.0],
        ["policy_accuracy", 85.0],
    ]
    assert COMMENT in [t.value for t in at.text]
    # escalation: 3 h turnaround, reason as text
    esc = frame_of(at, "case_escalation")
    assert esc["Reason"] == REASON and esc["Turnaround"] == "3.0 h"
    no_markdown_injection(at)


def test_timeline_from_the_case_timestamps_with_only_required_tables(source_env, tmp_path):
    source_env(write_parquet(tmp_path / "req", fixture_tables()))
    at = open_page({"case": "C5", "asof": ASOF})
    assert not at.exception and not at.error
    events = table(at, "case_events")
    assert events["Event"].tolist() == ["created", "first_response", "resolved"]
    assert events["Time"].tolist() == [_t(1).strftime("%Y-%m-%d %H:%M"), _t(1, 0.5).strftime("%Y-%m-%d %H:%M"),
                                       _t(0.5).strftime("%Y-%m-%d %H:%M")]  # fmt: skip
    assert any("own timestamps (no events table)" in c.value for c in at.caption)
    assert any("no qa reviews data yet" in i.value.replace("\\", "").lower() for i in at.info)
    assert any(c.value == "Not escalated." for c in at.caption)
    summary = table(at, "case_summary")
    assert summary[["Agent", "Status", "SLA"]].values.tolist() == [["Ann Lee (A4)", "resolved", "missed"]]


def test_unknown_case_is_a_notice_and_the_list_follows(full_source):
    at = open_page({"case": "NOPE<script>x</script>", "asof": ASOF})
    assert not at.exception and not at.error
    assert len(at.warning) == 1 and "NOPE\\<script\\>" in at.warning[0].value
    assert "case" not in at.query_params
    assert at.dataframe(key="cases_list")
    no_markdown_injection(at)


def test_too_long_or_empty_case_id(full_source):
    at = open_page({"case": "x" * 500})
    assert not at.exception and "too long" in at.warning[0].value
    at = open_page({"case": "  "})
    assert not at.exception and at.dataframe(key="cases_list")


def test_case_created_after_a_frozen_as_of(full_source):
    at = open_page({"case": "C6", "asof": _t(1).strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert not at.exception
    assert "created after the view" in at.info[0].value.replace("\\", "")
    assert table(at, "case_summary")["Status"].isna().all()
    assert any("No timeline entries" in c.value for c in at.caption)


def test_list_counts_equal_the_engine(full_source):
    from tsdash.config import load_settings
    from tsdash.sources import load_dataset

    ds = load_dataset(load_settings())
    at = open_page({"preset": "last_7", "asof": ASOF})
    assert not at.exception
    f = at.session_state["tsdash_view"].to_filter(ANCHOR)

    def heading(at):
        return next(x.value for x in at.markdown if "in the period" in x.value or "Open now" in x.value)

    # created in the 7 days ending on the anchor day: C2..C6 (C2 on the first day), newest first
    created = m.cases_behind(ds, f, "flow", "inflow")
    assert created.height == 5 and "· 5 cases" in heading(at)
    assert at.dataframe(key="cases_list").value["Case"].tolist() == ["C6", "C5", "C4", "C3", "C2"]
    at.segmented_control(key="cases_mode").set_value("resolved").run()
    assert m.cases_behind(ds, f, "flow", "outflow").height == 2 and "· 2 cases" in heading(at)  # C2, C5
    at.segmented_control(key="cases_mode").set_value("open").run()
    assert m.kpis(ds, f)["open_backlog"].value == 3 and "· 3 cases" in heading(at)  # C3, C4, C6
    assert at.dataframe(key="cases_list").value["Case"].tolist() == ["C3", "C4", "C6"]
    # search by id: part of an id filters; a whole id offers a link to the case
    at.segmented_control(key="cases_mode").set_value("created").run()
    at.text_input(key="cases_search").set_value("c3").run()
    assert at.dataframe(key="cases_list").value["Case"].tolist() == ["C3"]
    assert any("1 of 5 match" in c.value for c in at.caption)
    at.text_input(key="cases_search").set_value("C1").run()  # outside the period, still openable
    links = [p for p in at.get("page_link") if "Open case C1" in p.proto.label]
    assert links and "case=C1" in links[0].proto.query_string
    assert not at.exception


def test_list_empty_states(full_source):
    at = open_page({"from": "2020-01-01", "to": "2020-01-31"})
    assert not at.exception
    assert "No cases created in this period" in at.info[0].value.replace("\\", "")
    at = open_page({"preset": "last_7", "asof": ASOF, "queue": "payments_fraud"})  # C1, C2: C2 in the window
    assert at.dataframe(key="cases_list").value["Case"].tolist() == ["C2"]
    at = open_page({"preset": "today", "asof": ASOF, "queue": "payments_fraud"})
    assert "No cases created match the filters (queue payments_fraud)" in at.info[0].value.replace("\\", "")


def test_empty_data(source_env, tmp_path):
    source_env(write_parquet(tmp_path / "empty", {k: v.clear() for k, v in fixture_tables().items()}))
    at = open_page({"case": "C1"})
    assert not at.exception and not at.error
    assert "no cases yet" in at.info[0].value


def test_hostile_agent_name_in_detail(full_source):
    at = open_page({"case": "C3", "asof": ASOF})
    assert not at.exception
    assert table(at, "case_summary")["Agent"].tolist() == [HOSTILE_NAME]
    no_markdown_injection(at)


# --------------------------------------------------------------------------- pure helpers


def test_pure_helpers():
    from tsdash.dataset import normalize

    ds = normalize(tables())
    row = ds.cases.filter(pl.col("case_id") == "C2").row(0, named=True)
    fields = dict(case_fields(row, "UTC").iter_rows())
    assert fields["resolved_at"] == _t(5).strftime("%Y-%m-%d %H:%M:%S") + " (UTC)"
    assert fields["escalated"] == "no" and fields["escalated_at"] == "–" and fields["reopened_count"] == "0"
    assert (
        fields["SLA due (derived)"]
        == (_t(6) + dt.timedelta(hours=4)).strftime("%Y-%m-%d %H:%M:%S") + " (UTC)"
    )
    # C2 has a 'created' event only: the events table is used as it is
    ev, source, later = case_timeline(ds, row, ANCHOR)
    assert (source, ev["event"].to_list(), later) == ("events", ["created"], 0)
    # C3 has no events: the case's own timestamps
    c3 = ds.cases.filter(pl.col("case_id") == "C3").row(0, named=True)
    ev, source, _ = case_timeline(ds, c3, ANCHOR)
    assert source == "case" and ev["event"].to_list() == ["created", "first_response"]
    assert clean_case_id(" C1 ") == "C1" and clean_case_id("") is None and clean_case_id("x" * 201) is None
    ids = pl.DataFrame({"case_id": ["C0001", "C0010", "X1"]})
    assert search_cases(ids, "c00")["case_id"].to_list() == ["C0001", "C0010"]
    assert search_cases(ids, ".*")["case_id"].to_list() == []  # literal, not a pattern
