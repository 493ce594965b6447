"""Overview (app.py) in AppTest: KPI tiles against the metrics engine on the same data and the
same frozen as-of, delta colours, needs-attention counts and drill-down, empty data, only the
required tables, hostile links; plus the page's pure formatting helpers."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import ANCHOR, APP, HOSTILE_NAME, TIMEOUT, fixture_tables, write_parquet, write_sqlite
from tsdash import metrics as m
from tsdash.dataset import normalize
from tsdash.metrics import KPI, KPI_KEYS, Filter
from tsdash.ui.overview import (
    attention_week,
    delta_color,
    escalation_ages,
    fmt_delta,
    fmt_kpi_delta,
    fmt_kpi_value,
    fmt_value,
    kpi_help,
    moved_agents,
    spark_series,
)
from tsdash.ui.state import options_from_dataset

UTC = dt.UTC
# a fixed demo anchor (in the past) so that the flagged agents are the same on every run
DEMO_NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
ASOF = "2026-11-23T17:00:00Z"
W = "tsdash_w_"


@pytest.fixture(scope="module")
def demo_tables():
    from tsdash.demo import generate

    return generate(days=84, agents=10, seed=5, now=DEMO_NOW)


@pytest.fixture
def demo(source_env, tmp_path, demo_tables):
    """The demo in a real SQLite file; returns the dataset the app loads from it."""
    from tsdash.config import load_settings
    from tsdash.sources import load_dataset

    source_env(write_sqlite(tmp_path / "demo.sqlite", demo_tables))
    return load_dataset(load_settings())


def run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def tiles(at: AppTest) -> dict[str, object]:
    return {t.label: t for t in at.metric}


def engine_filter(at: AppTest) -> Filter:
    state = at.session_state["tsdash_view"]
    assert state.frozen
    return state.to_filter(state.as_of)


def no_markdown_injection(at: AppTest) -> None:
    for el in [*at.markdown, *at.caption, *at.warning, *at.info, *at.error, *at.subheader]:
        v = el.value
        assert (
            "<img" not in v.replace("\\<", "")
            and "**Mallory**" not in v
            and "<script" not in v.replace("\\<", "")
        )


# --------------------------------------------------------------------------- the page


def test_kpi_tiles_equal_the_engine(demo):
    at = run({"preset": "last_28", "asof": ASOF, "tz": "Europe/Berlin"})
    assert not at.exception and not at.error and not at.warning
    f = engine_filter(at)
    assert f.tz == "Europe/Berlin" and f.as_of == DEMO_NOW and f.days == 28
    values = m.kpis(demo, f, pass_mark=80.0)
    shown = tiles(at)
    for key in KPI_KEYS:
        k = values[key]
        tile = shown[k.label]
        assert tile.value == fmt_kpi_value(k), key
        assert (tile.proto.delta or None) == fmt_kpi_delta(k), key
        if k.n is not None:
            assert f"n = {k.n:,}" in tile.proto.help, key
    # the same numbers written out by hand from the engine's values
    assert shown["Open backlog now"].value == f"{values['open_backlog'].value:,}"
    assert shown["SLA attainment"].value == f"{100 * values['sla_attainment'].value:.1f}%"
    assert shown["Average handle time"].value == f"{values['aht'].value / 60:.1f} min"
    assert values["open_backlog"].value > 0 and values["qa_mean"].n > 0
    # sparklines: the daily series of each tile
    assert list(shown["Created / day"].proto.chart_data) == spark_series(demo, f, "created_per_day")
    assert len(shown["Created / day"].proto.chart_data) == 28


def test_delta_colours_follow_the_metric_direction(demo):
    at = run({"preset": "last_28", "asof": ASOF})
    values = m.kpis(demo, engine_filter(at))
    shown = tiles(at)
    green, red, gray = "GREEN", "RED", "GRAY"

    def colour(t):
        return t.proto.DESCRIPTOR.fields_by_name["color"].enum_type.values_by_number[t.proto.color].name

    for key, good_when_up in (("sla_attainment", True), ("aht", False), ("open_backlog", False)):
        k = values[key]
        assert k.delta and abs(k.delta) > 0
        want = green if (k.delta > 0) == good_when_up else red
        assert colour(shown[k.label]) == want, key
    assert colour(shown["Created / day"]) == gray  # neutral
    assert colour(shown["Escalation rate"]) == gray


def test_needs_attention_counts_equal_the_engine(demo):
    at = run({"preset": "last_7", "asof": ASOF})
    assert not at.exception
    f = engine_filter(at)
    shown = tiles(at)
    q = m.workload_queues(demo, f)
    breached = m.cases_behind(demo, f, "backlog-now", "breached")
    assert shown["Breached (open)"].value == f"{int(q['breached'].sum()):,}" == f"{breached.height:,}"
    assert shown["Due within 4 h"].value == f"{int(q['due_within_4h'].sum()):,}"
    assert shown["Due within 1 h"].value == f"{int(q['due_within_1h'].sum()):,}"
    assert shown["Open escalations"].value == f"{int(q['open_escalations'].sum()):,}"
    # the list: breached first, most overdue first, then due within 4 h; 10 shown, all in the CSV
    due = at.dataframe(key="ov_due").value
    expected = breached.sort("due_at", "case_id")["case_id"].to_list()[:10]
    assert due["Case"].tolist()[: len(expected)] == expected
    assert set(due["SLA"][: len(expected)]) == {"breached"}
    # open escalations, oldest first
    esc = at.dataframe(key="ov_esc").value
    want = m.cases_behind(demo, f, "backlog-now", "open_escalations").sort("escalated_at", "case_id")
    assert esc["Case"].tolist() == want["case_id"].to_list()[:10]
    assert esc["Reason"].tolist() == want["escalation_reason"].to_list()[:10]


def test_agents_beyond_normal_variation_and_their_cases(demo):
    at = run({"preset": "last_28", "asof": ASOF})
    f = engine_filter(at)
    moved = moved_agents(demo, f)
    # seed 5: A04's handle time rose beyond its normal variation (worse), A01's QA rose (better)
    assert moved.select("metric", "agent_id", "worse").rows() == [
        ("aht", "A04", True),
        ("qa_mean", "A01", False),
    ]
    start, end = attention_week(f)
    for r in moved.iter_rows(named=True):
        tr = m.trend(demo, f.with_(start=start, end=end), r["metric"], keys=("agent_id",))
        row = tr.filter((pl.col("agent_id") == r["agent_id"]) & (pl.col("week") == start)).row(0, named=True)
        assert row["flag"] and row["change"] == r["change"]
        assert abs(row["change"]) > row["change_limit"]
    table = at.dataframe(key="ov_moved").value
    assert table["Assessment"].tolist() == ["worse", "better"]
    labels = options_from_dataset(demo).agents
    assert table["Agent"].tolist() == [labels["A04"], labels["A01"]]
    # selecting a row lists the cases behind it: A04's handled cases of that week
    at.session_state["ov_moved"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception
    behind = m.cases_behind(demo, f.with_(start=start, end=end), "handle-time", agent_id="A04", week=start)
    cases = at.dataframe(key="ov_moved_cases").value
    assert behind.height > 0 and cases["Case"].tolist() == behind["case_id"].to_list()[:500]


def test_selecting_a_case_opens_it_with_the_filters(demo):
    at = run({"preset": "last_7", "asof": ASOF, "queue": "payments_fraud"})
    due = at.dataframe(key="ov_due").value
    assert len(due) > 0 and set(due["Queue"]) == {"payments_fraud"}
    at.session_state["ov_due"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Cases"
    assert at.query_params["case"] == due["Case"][0]
    assert at.query_params["queue"] == "payments_fraud" and at.query_params["asof"] == ASOF
    assert at.subheader[0].value == f"Case {due['Case'][0]}"


def test_only_required_tables(source_env, tmp_path, demo_tables):
    tables = {k: demo_tables[k] for k in ("agents", "cases")}
    source_env(write_parquet(tmp_path / "req", tables))
    at = run({"preset": "last_28", "asof": ASOF})
    assert not at.exception and not at.error and not at.warning
    shown = tiles(at)
    assert shown["QA mean score"].value == "–"
    assert "no qa_reviews table" in shown["QA mean score"].proto.help
    values = m.kpis(normalize(tables), engine_filter(at))
    assert shown["Average handle time"].value == fmt_kpi_value(values["aht"])
    assert any("QA is not checked" in c.value for c in at.caption)


def test_one_agent_one_day(demo):
    at = run({"preset": "today", "asof": ASOF, "agent": "A04"})
    assert not at.exception and not at.warning
    f = engine_filter(at)
    assert f.agents == ("A04",) and f.start == f.end == DEMO_NOW.date()
    values = m.kpis(demo, f)
    shown = tiles(at)
    assert shown["Open backlog now"].value == fmt_kpi_value(values["open_backlog"])
    assert shown["Resolved / day"].value == fmt_kpi_value(values["resolved_per_day"])
    assert not shown["Resolved / day"].proto.chart_data  # one day: no sparkline


def test_hostile_link(demo):
    at = run(
        {
            "agent": ["NOBODY<script>alert(1)</script>", "A02"],
            "from": "2026-02-30",
            "to": "yesterday",
            "asof": "<b>now</b>",
            "case": "<img src=x onerror=alert(1)>",
        }
    )
    assert not at.exception and not at.error
    text = "\n".join(w.value for w in at.warning).replace("\\", "")
    assert "NOBODY<script>" in text and "2026-02-30" in text and "<b>now</b>" in text
    no_markdown_injection(at)
    state = at.session_state["tsdash_view"]
    assert state.agents == ("A02",) and state.preset == "last_7" and not state.frozen
    shown = tiles(at)
    assert shown["Open backlog now"].value == fmt_kpi_value(
        m.kpis(demo, state.to_filter(DEMO_NOW))["open_backlog"]
    )


def test_html_in_data_is_text(fixture_source):
    # A3's name is HTML/Markdown; its breached case C3 is in the needs-attention list
    at = run()
    assert not at.exception
    due = at.dataframe(key="ov_due").value
    assert due["Case"].tolist() == ["C3"] and due["Agent"].tolist() == [HOSTILE_NAME]
    no_markdown_injection(at)


def test_filter_matching_nothing_is_explained(fixture_source):
    # the fixture's anchor day has C6 created and C5 resolved; agent A2 has neither
    asof = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
    at = run({"preset": "today", "asof": asof, "agent": "A2"})
    assert not at.exception
    info = at.info[0].value.replace("\\", "")
    assert "No cases created or resolved match the filters (agent Bo Chen)" in info
    assert tiles(at)["Created / day"].value == "0.0"
    at = run({"preset": "today", "asof": asof})
    assert not at.info and tiles(at)["Created / day"].value == "2.0"  # C6 over the half day elapsed at 12:00


def test_empty_data(source_env, tmp_path):
    source_env(write_parquet(tmp_path / "empty", {k: v.clear() for k, v in fixture_tables().items()}))
    at = run()
    assert not at.exception and not at.error
    assert "no cases yet" in at.info[0].value and not at.metric


# --------------------------------------------------------------------------- pure helpers


def _kpi(key: str, value, previous, n=None, lo=None, hi=None) -> KPI:
    d = m.DEFINITIONS[key]
    return KPI(key, d.label, d.unit, d.direction, value, n, lo, hi, previous)


def test_value_and_delta_formats():
    assert [fmt_value("cases", 1234), fmt_value("cases/day", 12.34), fmt_value("seconds", 750)] == [
        "1,234",
        "12.3",
        "12.5 min",
    ]
    assert [fmt_value("share", 0.91234), fmt_value("score", 83.44), fmt_value("share", None)] == [
        "91.2%",
        "83.4",
        "–",
    ]
    assert [
        fmt_delta("cases", -3),
        fmt_delta("seconds", 7200),
        fmt_delta("share", 0.005),
        fmt_delta("cases", None),
    ] == [
        "-3",
        "+2.0 h",
        "+0.5 pp",
        None,
    ]


def test_delta_color_rules():
    up_good = _kpi("sla_attainment", 0.9, 0.8)
    down_good = _kpi("aht", 500.0, 600.0)
    neutral = _kpi("created_per_day", 10.0, 8.0)
    assert delta_color(up_good, fmt_kpi_delta(up_good)) == "normal"
    assert delta_color(down_good, fmt_kpi_delta(down_good)) == "inverse"
    assert delta_color(neutral, fmt_kpi_delta(neutral)) == "off"
    tiny = _kpi("sla_attainment", 0.90001, 0.9)
    assert fmt_kpi_delta(tiny) == "+0.0 pp" and delta_color(tiny, "+0.0 pp") == "off"
    assert delta_color(_kpi("aht", 1.0, None), None) == "off"


def test_kpi_help_has_n_interval_and_previous_period():
    f = Filter(dt.date(2026, 3, 2), dt.date(2026, 3, 8), as_of=dt.datetime(2026, 3, 9, tzinfo=UTC))
    text = kpi_help(_kpi("sla_attainment", 0.8, 0.75, n=40, lo=0.65, hi=0.9), f)
    assert text.startswith(m.DEFINITIONS["sla_attainment"].description)
    assert (
        "n = 40 cases resolved; 95% interval 65.0% to 90.0%; previous period (23 Feb to 01 Mar 2026): 75.0%."
        in text
    )
    backlog = kpi_help(_kpi("open_backlog", 12, 9), f)
    assert "one period (7 days) earlier: 9." in backlog and "n =" not in backlog


def test_attention_week():
    def f(end, as_of):
        return Filter(dt.date(2026, 1, 1), end, tz="Europe/Berlin", as_of=as_of)

    # as-of Monday 23 Nov 17:00: the week before
    assert attention_week(f(dt.date(2026, 11, 23), DEMO_NOW)) == (
        dt.date(2026, 11, 16),
        dt.date(2026, 11, 22),
    )
    # as-of Monday 00:30 Berlin (Sunday 23:30 UTC): Sunday is over in Berlin
    monday_early = dt.datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert attention_week(f(dt.date(2026, 11, 23), monday_early)) == (
        dt.date(2026, 11, 16),
        dt.date(2026, 11, 22),
    )
    # as-of Sunday: that week is not complete yet
    sunday = dt.datetime(2026, 11, 22, 12, tzinfo=UTC)
    assert attention_week(f(dt.date(2026, 11, 22), sunday)) == (dt.date(2026, 11, 9), dt.date(2026, 11, 15))
    # a period that ended earlier: its last complete week
    assert attention_week(f(dt.date(2026, 10, 7), DEMO_NOW)) == (dt.date(2026, 9, 28), dt.date(2026, 10, 4))


def test_escalation_ages():
    as_of = dt.datetime(2026, 3, 5, 12, tzinfo=UTC)
    esc = pl.DataFrame(
        {"escalated_at": [as_of - dt.timedelta(hours=h) for h in (1, 3.99, 4, 23, 24, 71.9, 72, 200)]},
        schema={"escalated_at": pl.Datetime("us", "UTC")},
    )
    assert escalation_ages(esc, as_of) == [
        ("under 4 h", 2),
        ("4–24 h", 2),
        ("1–3 days", 2),
        ("over 3 days", 2),
    ]
    assert escalation_ages(esc.clear(), as_of)[0] == ("under 4 h", 0)


def test_a_single_agent_in_the_data(source_env, tmp_path):
    t = fixture_tables()
    t["agents"] = t["agents"].filter(pl.col("agent_id") == "A1")
    t["cases"] = t["cases"].filter(pl.col("assigned_agent_id") == "A1")  # C1 (resolved) and C6 (open)
    source_env(write_sqlite(tmp_path / "one.sqlite", t))
    asof = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
    at = run({"asof": asof, "preset": "last_28"})
    assert not at.exception and not at.error and not at.warning
    shown = tiles(at)
    assert shown["Open backlog now"].value == "1" and shown["Breached (open)"].value == "0"
    assert shown["Average handle time"].value == "20.0 min"  # C1: 1200 s
    assert shown["SLA attainment"].value == "100.0%"  # C1 resolved exactly at its 24 h due time
