"""Validation rules: each one is fed a bad file and its message is asserted."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from tsdash.cli import main
from tsdash.config import Settings, SourceConfig, load_settings
from tsdash.sources import SourceError, load_dataset, validate_source

UTC = dt.UTC

AGENTS = "agent_id,name,team\nA1,Ann,T1\nA2,Bob,T2\n"
CASES_HEADER = "case_id,created_at,queue,priority,assigned_agent_id,resolved_at,handle_seconds\n"
GOOD_CASES = CASES_HEADER + (
    "C1,2026-01-01 10:00:00,payments_fraud,urgent,A1,2026-01-01 12:00:00,300\n"
    "C2,2026-01-02 10:00:00,payments_fraud,high,A2,,\n"
)


def folder(tmp_path: Path, **files: str) -> Path:
    d = tmp_path / "src"
    d.mkdir(exist_ok=True)
    files.setdefault("agents", AGENTS)
    for name, text in files.items():
        (d / f"{name}.csv").write_text(text, encoding="utf-8")
    return d


def settings_for(path: Path | str, **source_kw) -> Settings:
    return Settings(source=SourceConfig(location=str(path), **source_kw))


def issues(ds, rule: str):
    return [i for i in ds.report.issues if i.rule == rule]


# ---------------------------------------------------------------- fatal


def test_missing_required_table_is_fatal(tmp_path):
    d = folder(tmp_path)  # agents only
    ds = validate_source(settings_for(d))
    [fatal] = ds.report.fatal
    assert fatal.rule == "missing_table"
    assert "'cases'" in fatal.message and "cases.csv" in fatal.message and "[tables]" in fatal.message
    with pytest.raises(SourceError, match="required table 'cases' is missing"):
        load_dataset(settings_for(d))


def test_missing_required_column_names_file_and_fix(tmp_path):
    d = folder(tmp_path, cases="case_id,opened,queue\nC1,2026-01-01 10:00,q\n")
    ds = validate_source(settings_for(d))
    [fatal] = ds.report.fatal
    assert fatal.rule == "missing_column" and fatal.column == "created_at"
    assert fatal.message.startswith("cases.csv: required column 'created_at' is missing")
    assert "Columns found: case_id, opened, queue" in fatal.message
    assert '[columns.cases] created_at = "<your column>"' in fatal.message


def test_column_mapping_loads_raw_export(tmp_path):
    d = folder(tmp_path, cases="ticket,opened_at,queue\nC1,2026-01-01 10:00,q\n")
    s = settings_for(d, columns={"cases": {"case_id": "ticket", "created_at": "opened_at"}})
    ds = load_dataset(s)
    assert ds.cases["case_id"].to_list() == ["C1"]
    assert ds.cases["created_at"][0] == dt.datetime(2026, 1, 1, 10, tzinfo=UTC)


def test_mapping_to_absent_column_is_fatal(tmp_path):
    d = folder(tmp_path, cases=GOOD_CASES)
    s = settings_for(d, columns={"cases": {"created_at": "opened_at"}})
    [fatal] = validate_source(s).report.fatal
    assert "'opened_at', mapped to 'created_at'" in fatal.message


def test_semicolon_file_gets_delimiter_hint(tmp_path):
    d = folder(tmp_path, cases="case_id;created_at;queue\nC1;2026-01-01 10:00;q\n")
    fatal = validate_source(settings_for(d)).report.fatal
    assert fatal and all("semicolon" in f.message for f in fatal)
    assert {f.column for f in fatal} == {"case_id", "created_at", "queue"}


def test_empty_file_is_fatal(tmp_path):
    d = folder(tmp_path, cases="")
    [fatal] = validate_source(settings_for(d)).report.fatal
    assert fatal.table == "cases"
    assert "cases.csv" in fatal.message and ("empty" in fatal.message or "cannot be read" in fatal.message)


def test_header_only_required_table_is_usable_but_warned(tmp_path):
    d = folder(tmp_path, cases=CASES_HEADER)
    ds = load_dataset(settings_for(d))  # a new deployment with no cases yet is not an error
    [warn] = ds.report.issues
    assert (warn.severity, warn.rule) == ("warning", "empty_table")
    assert warn.message.startswith("cases.csv has a header but no rows: the dashboard will be empty.")
    assert ds.cases.height == 0 and ds.agents.height == 2 and ds.has("cases")


def test_unconfigured_date_format_is_fatal_with_first_value(tmp_path):
    d = folder(tmp_path, cases="case_id,created_at,queue\nC1,31/01/2026 10:00,q\nC2,01/02/2026 11:00,q\n")
    [fatal] = validate_source(settings_for(d)).report.fatal
    assert fatal.rule == "unreadable_column" and fatal.row == 1 and fatal.value == "31/01/2026 10:00"
    assert (
        "cases.csv, row 1 (line 2): column 'created_at': no value can be read as a timestamp" in fatal.message
    )
    assert "timestamp_format" in fatal.message


def test_configured_timestamp_format_and_null_values(tmp_path):
    d = folder(
        tmp_path,
        cases="case_id,created_at,queue,handle_seconds\nC1,31/01/2026 10:00,q,n/a\nC2,01/02/2026 11:00,q,60\n",
    )
    s = settings_for(d, timestamp_format="%d/%m/%Y %H:%M", null_values=("n/a",))
    ds = load_dataset(s)
    assert ds.cases["created_at"].to_list() == [
        dt.datetime(2026, 1, 31, 10, tzinfo=UTC),
        dt.datetime(2026, 2, 1, 11, tzinfo=UTC),
    ]
    assert ds.cases["handle_seconds"].to_list() == [None, 60.0]
    assert ds.report.issues == []


# ---------------------------------------------------------------- quarantine


@pytest.mark.parametrize(
    ("row", "rule", "expected"),
    [
        (
            "C9,,q,normal,A1,,",
            "null_required",
            "cases.csv, row 3 (line 4) (id C9): required column 'created_at' is empty",
        ),
        (
            ",2026-01-03 10:00:00,q,normal,A1,,",
            "null_required",
            "cases.csv, row 3 (line 4): required column 'case_id' is empty",
        ),
        (
            "C9,yesterday,q,normal,A1,,",
            "unreadable_value",
            "cases.csv, row 3 (line 4): created_at 'yesterday' cannot be read as a timestamp",
        ),
        (
            "C9,2026-01-03 10:00:00,q,normal,A1,,n/a",
            "unreadable_value",
            "handle_seconds 'n/a' cannot be read as a number",
        ),
        (
            "C1,2026-01-03 10:00:00,q,normal,A1,,",
            "duplicate_id",
            "cases.csv, row 3 (line 4) (id C1): repeated id (first occurrence kept)",
        ),
        (
            "C9,2026-01-03 10:00:00,q,normal,A1,2026-01-03 09:00:00,",
            "resolved_before_created",
            "(id C9): resolved_at before created_at (resolved_at = '2026-01-03 09:00:00')",
        ),
        (
            "C9,2026-01-03 10:00:00,q,normal,A1,,-5",
            "negative_handle_time",
            "(id C9): negative handle_seconds (handle_seconds = '-5')",
        ),
    ],
)
def test_quarantine_rules(tmp_path, row, rule, expected):
    d = folder(tmp_path, cases=GOOD_CASES + row + "\n")
    ds = load_dataset(settings_for(d))  # usable: does not raise
    found = issues(ds, rule)
    assert len(found) == 1, ds.report.issues
    assert found[0].severity == "quarantine"
    assert expected in found[0].message
    assert ds.report.quarantined_rows["cases"] == 1
    # the two good rows survive and the bad one is excluded
    assert sorted(ds.cases["case_id"].to_list()) == ["C1", "C2"]
    assert ds.cases.filter(pl.col("case_id") == "C1")["created_at"][0] == dt.datetime(
        2026, 1, 1, 10, tzinfo=UTC
    )


def test_first_response_and_escalation_before_created(tmp_path):
    d = folder(
        tmp_path,
        cases="case_id,created_at,queue,first_response_at,escalated_at\n"
        "C1,2026-01-01 10:00,q,2026-01-01 09:00,\n"
        "C2,2026-01-01 10:00,q,,2026-01-01 08:00\n"
        "C3,2026-01-01 10:00,q,2026-01-01 10:05,2026-01-01 11:00\n",
    )
    ds = load_dataset(settings_for(d))
    assert [i.record_id for i in issues(ds, "first_response_before_created")] == ["C1"]
    assert [i.record_id for i in issues(ds, "escalated_before_created")] == ["C2"]
    assert ds.cases["case_id"].to_list() == ["C3"]
    assert ds.cases["escalated"].to_list() == [True]  # absent `escalated` column: escalated_at is set


def test_escalation_resolved_before_escalated(tmp_path):
    d = folder(
        tmp_path,
        cases="case_id,created_at,queue,escalated_at,escalation_resolved_at\n"
        "C1,2026-01-01 10:00,q,2026-01-01 11:00,2026-01-01 10:30\n"
        "C2,2026-01-01 10:00,q,2026-01-01 11:00,2026-01-01 12:00\n",
    )
    ds = load_dataset(settings_for(d))
    [bad] = issues(ds, "escalation_resolved_before_escalated")
    assert bad.record_id == "C1" and bad.value == "2026-01-01 10:30"
    assert "escalation_resolved_at before escalated_at" in bad.message
    assert ds.cases["case_id"].to_list() == ["C2"]


def test_qa_score_out_of_range(tmp_path):
    d = folder(
        tmp_path,
        cases=GOOD_CASES,
        qa_reviews="review_id,case_id,agent_id,reviewed_at,score,critical_error\n"
        "R1,C1,A1,2026-01-02 10:00,95,true\nR2,C1,A1,2026-01-02 11:00,101,false\nR3,C2,A2,2026-01-03 10:00,-1,no\n",
        qa_criteria="review_id,criterion,score\nR1,documentation,150\nR1,communication,90\n",
    )
    ds = load_dataset(settings_for(d))
    assert [i.record_id for i in issues(ds, "score_out_of_range") if i.table == "qa_reviews"] == ["R2", "R3"]
    assert [i.row for i in issues(ds, "score_out_of_range") if i.table == "qa_criteria"] == [1]
    assert ds.qa_reviews["review_id"].to_list() == ["R1"]
    assert ds.qa_reviews["critical_error"].to_list() == [True]
    assert ds.qa_criteria["criterion"].to_list() == ["communication"]


def test_shift_end_before_start(tmp_path):
    d = folder(
        tmp_path,
        cases=GOOD_CASES,
        shifts="agent_id,start,end\nA1,2026-01-01 08:00,2026-01-01 16:00\nA2,2026-01-01 16:00,2026-01-01 08:00\n",
    )
    ds = load_dataset(settings_for(d))
    assert [i.row for i in issues(ds, "shift_end_before_start")] == [2]
    assert ds.shifts.height == 1


# ---------------------------------------------------------------- warnings


def test_unknown_agent_and_priority_are_warnings_and_kept(tmp_path):
    d = folder(
        tmp_path,
        cases=GOOD_CASES + "C3,2026-01-03 10:00:00,q,mystery,A9,,\nC4,2026-01-03 11:00:00,q,normal,A9,,\n",
    )
    ds = load_dataset(settings_for(d))
    [agent] = issues(ds, "unknown_agent")
    assert agent.severity == "warning" and agent.value == "A9" and agent.row == 3
    assert "'A9' is not in agents (2 rows); kept" in agent.message
    [prio] = issues(ds, "unknown_priority")
    assert prio.value == "mystery"
    assert ds.cases.height == 4
    # unknown priority gets the default 48 h target
    c3 = ds.cases.filter(pl.col("case_id") == "C3")
    assert c3["due_at"][0] - c3["created_at"][0] == dt.timedelta(hours=48)


def test_report_lists_are_capped_but_counts_exact(tmp_path):
    rows = "".join(f"C{i},bad,q\n" for i in range(1500))
    d = folder(tmp_path, cases="case_id,created_at,queue\nC_ok,2026-01-01 10:00,q\n" + rows)
    ds = load_dataset(settings_for(d))
    listed = issues(ds, "unreadable_value")
    assert len(listed) == 1000
    assert ds.report.counts()[("quarantine", "cases", "unreadable_value")] == 1500
    assert ds.report.quarantined_rows["cases"] == 1500


# ---------------------------------------------------------------- time zones


def test_naive_timestamps_read_in_source_zone(tmp_path):
    d = folder(
        tmp_path, cases="case_id,created_at,queue\nC1,2026-07-01 10:00:00,q\nC2,2026-07-01 10:00:00+00:00,q\n"
    )
    ds = load_dataset(settings_for(d, timezone="Europe/Berlin"))
    assert ds.cases["created_at"].to_list() == [
        dt.datetime(2026, 7, 1, 8, tzinfo=UTC),  # naive: Berlin summer time, UTC+2
        dt.datetime(2026, 7, 1, 10, tzinfo=UTC),  # aware: kept
    ]


def _write_sqlite(path: Path, created: list[str]) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE agents (agent_id TEXT, name TEXT, team TEXT)")
    con.execute("INSERT INTO agents VALUES ('A1', 'Ann', 'T1')")
    con.execute("CREATE TABLE cases (case_id TEXT, created_at TEXT, queue TEXT, escalated INTEGER)")
    con.executemany(
        "INSERT INTO cases VALUES (?, ?, 'q', ?)", [(f"C{i}", c, i % 2) for i, c in enumerate(created)]
    )
    con.commit()
    con.close()


def test_naive_and_aware_round_trip_sqlite(tmp_path):
    db = tmp_path / "t.sqlite"
    _write_sqlite(
        db, ["2026-03-29 01:30:00", "2026-03-29 01:30:00.250000+00:00", "2026-03-29T03:30:00+02:00"]
    )
    ds = load_dataset(settings_for(f"sqlite:///{db}"))
    assert ds.cases["created_at"].to_list() == [
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        dt.datetime(2026, 3, 29, 1, 30, 0, 250000, tzinfo=UTC),
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    ]
    assert ds.cases["escalated"].to_list() == [False, True, False]


def test_naive_and_aware_round_trip_parquet(tmp_path):
    d = tmp_path / "pq"
    d.mkdir()
    pl.DataFrame({"agent_id": ["A1"], "name": ["Ann"], "team": ["T1"]}).write_parquet(d / "agents.parquet")
    aware = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    pl.DataFrame({"case_id": ["C1"], "created_at": [aware], "queue": ["q"]}).write_parquet(
        d / "cases.parquet"
    )
    pl.DataFrame(
        {"case_id": ["C1"], "ts": [dt.datetime(2026, 10, 25, 2, 30)], "event_type": ["created"]}
    ).write_parquet(d / "events.parquet")
    ds = load_dataset(settings_for(d, timezone="Europe/Berlin"))
    assert ds.cases["created_at"][0] == aware
    # naive 02:30 on the night clocks go back is ambiguous in Berlin: read as the earlier (CEST, UTC+2)
    assert ds.events["ts"][0] == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_sqlite_source_is_read_only(tmp_path):
    from tsdash.sources.read import make_engine

    db = tmp_path / "t.sqlite"
    _write_sqlite(db, ["2026-01-01 10:00:00"])
    engine = make_engine(SourceConfig(location=f"sqlite:///{db}"))
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    with pytest.raises(OperationalError, match="readonly|read-only|query_only|attempt to write"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM cases"))
    assert sqlite3.connect(db).execute("SELECT count(*) FROM cases").fetchone() == (1,)


def test_missing_sqlite_file_is_clear(tmp_path):
    with pytest.raises(SourceError, match=r"does not exist\. Run `make demo`"):
        load_dataset(settings_for(f"sqlite:///{tmp_path / 'nope.sqlite'}"))


# ---------------------------------------------------------------- the CLI


def test_cli_validate_names_every_problem_and_exits_0(tmp_path, capsys):
    d = folder(
        tmp_path,
        cases=CASES_HEADER
        + "C1,2026-01-01 10:00:00,payments_fraud,urgent,A1,2026-01-01 12:00:00,300\n"
        + "C1,2026-01-01 11:00:00,payments_fraud,high,A1,,\n"  # repeated id
        + "C2,2026-01-02 10:00:00,payments_fraud,high,A2,2026-01-01 09:00:00,100\n"  # resolved before created
        + "C3,2026-01-02 10:00:00,payments_fraud,high,A2,,-5\n"  # negative handle time
        + "C4,,payments_fraud,high,A2,,\n"  # null created_at
        + "C5,2026-01-03 10:00:00,payments_fraud,high,A77,,\n",  # unknown agent
    )
    code = main(["validate", "--source", str(d)])
    out = capsys.readouterr().out
    assert code == 0
    for needle in (
        "(id C1): repeated id",
        "(id C2): resolved_at before created_at",
        "(id C3): negative handle_seconds",
        "(id C4): required column 'created_at' is empty",
        "assigned_agent_id 'A77' is not in agents",
        "Result: usable",
    ):
        assert needle in out, needle
    assert "quarantine cases        duplicate_id                   1" in out
    assert "rows excluded from cases: 4" in out

    code = main(["validate", "--source", str(d), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["usable"] is True
    assert doc["rows"]["cases"] == 2 and doc["excluded_rows"] == {"agents": 0, "cases": 4}
    assert {c["rule"] for c in doc["counts"]} == {
        "duplicate_id",
        "resolved_before_created",
        "negative_handle_time",
        "null_required",
        "unknown_agent",
    }


def test_cli_validate_fatal_exits_1(tmp_path, capsys):
    d = folder(tmp_path, cases="case_id;created_at;queue\n")
    assert main(["validate", "--source", str(d)]) == 1
    assert "NOT usable" in capsys.readouterr().out


def test_config_file_and_env(tmp_path):
    (tmp_path / "tsdash.toml").write_text(
        '[source]\npath = "exports"\ntimezone = "Europe/Berlin"\n'
        "[sla.targets_hours]\nurgent = 2\n[sla.queues.livestream_moderation]\nurgent = 0.25\n"
        '[display]\ntimezone = "America/New_York"\n[qa]\npass_mark = 85\n'
    )
    s = load_settings(root=tmp_path, env={})
    assert s.source.location == str(tmp_path / "exports")
    assert (
        s.source.timezone == "Europe/Berlin" and s.display_tz == "America/New_York" and s.qa_pass_mark == 85
    )
    assert s.sla.target_hours("livestream_moderation", "urgent") == 0.25
    assert s.sla.target_hours("payments_fraud", "urgent") == 2
    assert s.sla.target_hours("payments_fraud", "low") == 120
    s2 = load_settings(
        root=tmp_path,
        env={"TSDASH_DATABASE_URL": "postgresql+psycopg://u:pw@h/db", "TSDASH_QA_PASS_MARK": "70"},
    )
    assert s2.source.location == "postgresql+psycopg://u:pw@h/db" and s2.qa_pass_mark == 70
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        '[connections.tsdash]\ndialect = "postgresql"\ndriver = "psycopg"\nhost = "db"\nport = 5432\n'
        'username = "lead"\npassword = "p@ss"\ndatabase = "cases"\n'
    )
    s3 = load_settings(root=tmp_path, env={})
    assert s3.source.location == "postgresql+psycopg://lead:p%40ss@db:5432/cases"
