"""Data page (pages/9_Data.py) in AppTest: row counts, date coverage and the validation report
of a source with bad rows (counts written by hand), fatal problems when the data cannot be
loaded, a masked password, empty data, the demo, the data contract."""

from __future__ import annotations

import datetime as dt

import polars as pl
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import ANCHOR, APP, TIMEOUT, fixture_tables, write_parquet, write_sqlite
from tsdash.dataset import Issue, ValidationReport, normalize
from tsdash.ui.data_health import issue_rows, rule_counts, table_summary

DATA = "pages/9_Data.py"
HOSTILE_ID = "<b>C7</b>"


def _t(days_before: float, hours: float = 0) -> dt.datetime:
    return ANCHOR - dt.timedelta(days=days_before) + dt.timedelta(hours=hours)


def bad_tables() -> dict[str, pl.DataFrame]:
    """The UI fixture plus rows that break rules:

    cases row 7  C1 again                 -> quarantine duplicate_id
    cases row 8  <b>C7</b>, handle -5 s    -> quarantine negative_handle_time
    cases row 9  C8 resolved before created -> quarantine resolved_before_created
    cases row 10 C9 agent ZZ, priority "whenever" -> kept; warnings unknown_agent, unknown_priority
    qa_reviews row 2 R2 score 120           -> quarantine score_out_of_range
    qa_reviews row 3 R3 case C404           -> kept; warning unknown_case
    """
    t = fixture_tables()
    cases = t["cases"]
    bad = pl.DataFrame(
        {
            "case_id": ["C1", HOSTILE_ID, "C8", "C9"],
            "created_at": [_t(1)] * 4,
            "queue": ["q"] * 4,
            "priority": ["high", "urgent", "normal", "whenever"],
            "case_type": [None] * 4,
            "channel": [None] * 4,
            "assigned_agent_id": ["A1", "A1", "A1", "ZZ"],
            "first_response_at": [None] * 4,
            "resolved_at": [None, None, _t(2), None],
            "handle_seconds": [None, -5.0, None, None],
        },
        schema=cases.schema,
    )
    t["cases"] = pl.concat([cases, bad])
    t["qa_reviews"] = pl.DataFrame(
        {
            "review_id": ["R1", "R2", "R3"],
            "case_id": ["C1", "C2", "C404"],
            "agent_id": ["A1", "A2", "A1"],
            "reviewed_at": [_t(7)] * 3,
            "score": [80.0, 120.0, 70.0],
        },
        schema_overrides={"reviewed_at": pl.Datetime("us", "UTC")},
    )
    return t


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(DATA)
    return at.run()


def frames(at: AppTest, *columns: str) -> list:
    return [d.value for d in at.dataframe if all(c in d.value.columns for c in columns)]


def tables_table(at: AppTest):
    (df,) = frames(at, "Table", "Rows", "Set aside")
    return df.set_index("Table")


def everything(at: AppTest) -> str:
    parts = [e.value for e in [*at.markdown, *at.caption, *at.text, *at.info, *at.error, *at.warning]]
    parts += [e.value for e in at.sidebar.caption]
    return "\n".join(str(p) for p in parts)


def test_bad_rows_are_counted_and_listed(source_env, tmp_path):
    source_env(write_sqlite(tmp_path / "bad.sqlite", bad_tables()))
    at = open_page()
    assert not at.exception and not at.error
    t = tables_table(at)
    assert (t.loc["cases", "Rows"], t.loc["cases", "Set aside"]) == (7, 3)  # 6 + C9 kept; 3 set aside
    assert (t.loc["qa_reviews", "Rows"], t.loc["qa_reviews", "Set aside"]) == (2, 1)
    assert (t.loc["agents", "Rows"], t.loc["agents", "Set aside"]) == (4, 0)
    assert not t.loc["events", "Present"] and t.loc["events", "Rows"] == 0
    # coverage of cases.created_at: C1 (9 days before the anchor) to C6 (anchor - 2 h), display zone UTC
    assert t.loc["cases", "First"] == _t(9).strftime("%Y-%m-%d %H:%M")
    assert t.loc["cases", "Last"] == _t(0, -2).strftime("%Y-%m-%d %H:%M")
    shown = {m.label: m.value for m in at.metric}
    assert shown == {"Problems that stop tsdash": "0", "Rows set aside": "4", "Warnings": "3"}
    (rules,) = frames(at, "Severity", "Rule", "Count")
    assert rules[["Severity", "Table", "Rule", "Count"]].values.tolist() == [
        ["quarantine", "cases", "duplicate_id", 1],
        ["quarantine", "cases", "negative_handle_time", 1],
        ["quarantine", "cases", "resolved_before_created", 1],
        ["quarantine", "qa_reviews", "score_out_of_range", 1],
        ["warning", "cases", "unknown_agent", 1],
        ["warning", "cases", "unknown_priority", 1],
        ["warning", "qa_reviews", "unknown_case", 1],
    ]
    quarantine, warnings = frames(at, "table", "row", "id", "rule", "message")
    assert quarantine[["table", "row", "id", "rule"]].values.tolist() == [
        ["cases", 7, "C1", "duplicate_id"],
        ["cases", 8, HOSTILE_ID, "negative_handle_time"],
        ["cases", 9, "C8", "resolved_before_created"],
        ["qa_reviews", 2, "R2", "score_out_of_range"],
    ]
    assert warnings["rule"].tolist() == ["unknown_agent", "unknown_priority", "unknown_case"]
    assert any(b.proto.label == "CSV" for b in at.get("download_button"))
    assert "<b>C7" not in everything(at).replace("\\<", "")
    # the Overview points here
    at.switch_page(APP).run()
    assert any(
        "4 rows were set aside by validation; 3 data warnings" in c.value.replace("\\", "")
        for c in at.caption
    )


def test_fatal_problems_are_listed(source_env, tmp_path):
    tables = fixture_tables()
    tables["cases"] = tables["cases"].drop("queue")
    source_env(write_sqlite(tmp_path / "fatal.sqlite", tables))
    at = open_page()
    assert not at.exception
    assert len(at.error) == 1 and "queue" in at.error[0].value  # the frame's banner
    assert {m.label: m.value for m in at.metric}["Problems that stop tsdash"] == "1"
    (fatal,) = frames(at, "table", "rule", "column", "message")
    assert fatal[["table", "rule", "column"]].values.tolist() == [["cases", "missing_column", "queue"]]
    assert "cannot use this data" in at.info[0].value


def test_unreachable_database_password_masked(source_env):
    source_env("postgresql+psycopg://lead:s3cret-pw@127.0.0.1:1/cases")
    at = open_page()
    assert not at.exception
    text = everything(at)
    assert "s3cret" not in text and "lead:***@127.0.0.1:1/cases" in text
    assert "could not be opened" in at.info[0].value


def test_demo_data(source_env, tmp_path):
    from tsdash.demo import generate

    tables = generate(days=10, agents=6, seed=2, now=ANCHOR)
    source_env(write_parquet(tmp_path / "demo", tables))
    at = open_page({"tz": "Asia/Tokyo"})
    assert not at.exception and not at.error and not at.warning
    t = tables_table(at)
    for name, df in tables.items():
        assert t.loc[name, "Rows"] == df.height and t.loc[name, "Present"], name
    first = tables["cases"]["created_at"].min().astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert t.loc["cases", "First"] == first.strftime("%Y-%m-%d %H:%M")
    assert at.success and "Every row passed validation" in at.success[0].value
    assert any("folder" in x.value for x in at.text)


def test_header_only_tables(source_env, tmp_path):
    source_env(write_parquet(tmp_path / "empty", {k: v.clear() for k, v in fixture_tables().items()}))
    at = open_page()
    assert not at.exception and not at.error
    t = tables_table(at)
    assert t.loc["cases", "Rows"] == 0 and t.loc["cases", "First"] == "–"
    (rules,) = frames(at, "Severity", "Rule", "Count")
    assert set(rules["Rule"]) == {"empty_table"} and set(rules["Severity"]) == {"warning"}
    assert set(rules["Table"]) == {"agents", "cases"}


def test_data_contract_is_shown(fixture_source):
    at = open_page()
    assert not at.exception
    contract = [m.value for m in at.expander[0].markdown]
    assert any("### `cases` (required table" in c for c in contract)


# --------------------------------------------------------------------------- pure helpers


def test_rule_counts_are_exact_when_the_list_is_capped():
    rep = ValidationReport(
        "x",
        issues=[
            Issue("cases", "null_required", "quarantine", "m1", "queue", 3, "C3"),
            Issue("cases", "null_required", "quarantine", "m2", "queue", 1, "C1"),
            Issue("agents", "missing_column", "fatal", "m3", "team"),
        ],
        unlisted={("quarantine", "cases", "null_required"): 1500},
        quarantined_rows={"cases": 1502},
    )
    counts = rule_counts(rep)
    assert counts[["Severity", "Table", "Rule", "Count", "Listed"]].rows() == [
        ("fatal", "agents", "missing_column", 1, 1),
        ("quarantine", "cases", "null_required", 1502, 2),
    ]
    assert issue_rows(rep, "quarantine")["row"].to_list() == [1, 3]


def test_table_summary():
    ds = normalize(fixture_tables())
    now = ANCHOR + dt.timedelta(hours=5)
    s = table_summary(ds, "UTC", now)
    cases = s.filter(pl.col("Table") == "cases").row(0, named=True)
    assert (cases["Rows"], cases["Kind"], cases["Time column"], cases["Latest"]) == (
        6,
        "required",
        "created_at",
        "7 h ago",
    )
    assert s.filter(pl.col("Table") == "shifts").row(0, named=True)["Present"] is False


def test_only_required_tables_and_a_hostile_link(fixture_source):
    at = open_page({"agent": ["<img src=x onerror=alert(1)>", "A1"], "from": "2026-99-01", "tz": "<b>"})
    assert not at.exception and not at.error
    text = "\n".join(w.value for w in at.warning).replace("\\", "")
    assert "<img src=x onerror=alert(1)>" in text and "2026-99-01" in text
    assert "<img" not in everything(at).replace("\\<", "")
    t = tables_table(at)
    assert [t.loc[n, "Present"] for n in ("agents", "cases", "qa_reviews", "events")] == [
        True,
        True,
        False,
        False,
    ]
    assert (t.loc["cases", "Rows"], t.loc["agents", "Rows"]) == (6, 4)
    assert any("Optional tables not in the source: qa_reviews, qa_criteria, events, shifts" in c.value.replace("\\", "")
               for c in at.caption)  # fmt: skip
