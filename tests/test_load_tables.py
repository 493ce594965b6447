"""Loading only some tables (docs/PERFORMANCE.md remedy A): ``load_dataset(settings,
tables=...)`` reads those tables and the ones they need; the others are empty frames with the
contract's schema, never opened, never reported."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tsdash import metrics as m
from tsdash.config import Settings, SourceConfig
from tsdash.demo import generate
from tsdash.metrics.filters import Filter
from tsdash.schema import TABLE_NAMES, empty_frame
from tsdash.sources import load_dataset, needed_tables, validate_source
from tsdash.sources.write import write_tables

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def tables():
    return generate(days=21, agents=8, seed=5, now=NOW)


@pytest.fixture(scope="module")
def parquet(tables, tmp_path_factory):
    d = tmp_path_factory.mktemp("pq") / "demo"
    write_tables(tables, str(d), fmt="parquet")
    return d


def _settings(location) -> Settings:
    return Settings(source=SourceConfig(location=str(location)))


def test_needed_tables():
    assert needed_tables(None) is None
    assert needed_tables(["cases"]) == ("agents", "cases")  # contract order
    assert needed_tables(("cases", "agents")) == ("agents", "cases")
    assert needed_tables(["shifts"]) == ("agents", "cases", "shifts")
    assert needed_tables(["qa_criteria"]) == ("agents", "cases", "qa_reviews", "qa_criteria")
    with pytest.raises(ValueError, match="unknown table.*event"):
        needed_tables(["event"])


def test_a_broken_events_file_does_not_matter_to_cases_and_agents(parquet, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(parquet, broken)
    (broken / "events.parquet").write_bytes(b"PAR1 this is not a parquet file")
    # everything: the events file is unreadable (fatal)
    full = validate_source(_settings(broken))
    assert [(i.table, i.rule) for i in full.report.fatal] == [("events", "unreadable_file")]
    # cases and agents only: not opened, not reported
    ds = load_dataset(_settings(broken), tables=("cases", "agents"))
    assert ds.report.issues == []
    assert ds.read_tables == frozenset({"cases", "agents"})
    good = load_dataset(_settings(parquet))
    assert_frame_equal(ds.cases, good.cases)
    assert_frame_equal(ds.agents, good.agents)
    for t in ("events", "qa_reviews", "qa_criteria", "shifts"):
        assert not ds.has(t)
        assert ds.table(t).height == 0
        assert ds.table(t).schema == empty_frame(t).schema
    assert good.has("events") and good.events.height > 0


def test_a_required_table_is_still_reported_missing(parquet, tmp_path):
    d = tmp_path / "noagents"
    shutil.copytree(parquet, d)
    (d / "agents.parquet").unlink()
    ds = validate_source(_settings(d), tables=("cases",))
    assert [(i.table, i.rule) for i in ds.report.fatal] == [("agents", "missing_table")]


def test_sqlite_only_the_asked_tables_are_read(tables, tmp_path):
    path = tmp_path / "demo.sqlite"
    write_tables(tables, f"sqlite:///{path}")
    con = sqlite3.connect(path)
    con.execute("UPDATE events SET ts = 'garbage' WHERE rowid = 1")
    con.commit()
    con.close()
    url = f"sqlite:///{path}"
    full = validate_source(_settings(url))
    assert [(i.table, i.rule, i.row) for i in full.report.issues] == [("events", "unreadable_value", 1)]
    ds = validate_source(_settings(url), tables=("cases", "agents", "qa_reviews"))
    assert ds.report.issues == []
    assert ds.read_tables == frozenset({"cases", "agents", "qa_reviews"})
    assert_frame_equal(ds.qa_reviews, full.qa_reviews)
    assert_frame_equal(ds.cases, full.cases)


def test_metric_tables_equal_with_and_without_the_table_list(parquet):
    full = load_dataset(_settings(parquet))
    cases_only = load_dataset(_settings(parquet), tables=("cases", "agents"))
    qa = load_dataset(_settings(parquet), tables=("qa_reviews",))
    assert qa.read_tables == frozenset({"cases", "agents", "qa_reviews"})
    f = Filter(dt.date(2026, 11, 2), dt.date(2026, 11, 22), tz="Europe/Berlin", as_of=NOW)
    for name in ("flow", "handle-time", "escalations", "sla", "backlog-now", "first-response", "workload"):
        a, b = m.TABLES[name].compute(full, f), m.TABLES[name].compute(cases_only, f)
        assert a.height > 0, name
        assert_frame_equal(a, b, rel_tol=1e-12, abs_tol=0)  # sums in any order
    a, b = m.TABLES["quality"].compute(full, f), m.TABLES["quality"].compute(qa, f)
    assert a.height > 0
    assert_frame_equal(a, b, rel_tol=1e-12, abs_tol=0)  # sums in any order


def test_all_tables_by_default(parquet):
    ds = load_dataset(_settings(parquet))
    assert ds.read_tables == frozenset(TABLE_NAMES)
    assert ds.present == frozenset(TABLE_NAMES)
    assert isinstance(ds.events, pl.DataFrame) and ds.events.height > 0
