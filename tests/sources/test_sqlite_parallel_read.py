"""SQLite: a big `cases` table is read as two rowid halves on two ADBC connections in two threads,
and the result is exactly what the one query returns (same rows, order and types; every other
table from the same snapshot), or the one query runs.

Two SQLite connections cannot share a snapshot, so the read proves theirs are one: a third
connection's ``PRAGMA data_version`` is the same before the first connection's first read and
after the second's (no commit in between). The writes here come from ANOTHER PROCESS, as the
simulator's do (a writer in the reading process would share it with the ADBC driver's own copy of
SQLite: docs/DEPLOYMENT.md), started at the exact moment under test by a spy. Real files, no
mocks of the database; the size threshold is lowered so that a ~21k-case table takes the
two-halves path.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from tests.sources.adbc_spy import Spy as AdbcSpy
from tests.sources.adbc_spy import assert_the_writes_are_seen
from tests.test_pushdown import SCOPE

import tsdash.sources.read as R
from tsdash.config import Settings, SourceConfig
from tsdash.demo import generate
from tsdash.sources import Scope, load_dataset
from tsdash.sources.read import read_source
from tsdash.sources.write import write_tables

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
TABLES = ("agents", "cases", "qa_reviews", "qa_criteria", "shifts")  # no events: faster to write
LOW = re.compile(r"cases\.rowid < (\d+)")
HIGH = re.compile(r"cases\.rowid >= (\d+)")


@pytest.fixture(scope="module")
def tables():
    t = generate(days=75, agents=10, seed=5, now=NOW)
    return {k: t[k] for k in TABLES}


@pytest.fixture
def db(tables, tmp_path):
    path = tmp_path / "cases.sqlite"
    write_tables(tables, f"sqlite:///{path}")
    return path


def _cfg(path) -> SourceConfig:
    return SourceConfig(location=f"sqlite:///{path}")


def _commit(path, *statements: str) -> None:
    """Run ``statements`` in one transaction in another process, and commit."""
    code = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "for s in sys.argv[2:]:\n"
        "    c.execute(s)\n"
        "c.execute('COMMIT')\n"
        "c.close()\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path), *statements], check=True, timeout=60)


def _query(path, sql: str) -> list[tuple]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; print(repr(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()))",
            str(path),
            sql,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return eval(out.stdout)  # noqa: S307 - our own repr of a list of tuples


class Spy(AdbcSpy):
    def split(self) -> bool:
        return any(LOW.search(c[0]) or HIGH.search(c[0]) for c in self.calls)

    def halves(self):
        """(mid, low call, high call) of the one two-halves read."""
        (low,) = [c for c in self.cases() if LOW.search(c[0])]
        (high,) = [c for c in self.cases() if HIGH.search(c[0])]
        mid = int(LOW.search(low[0]).group(1))
        assert mid == int(HIGH.search(high[0]).group(1)) > 1
        return mid, low, high


def _split(monkeypatch):
    monkeypatch.setattr(R, "SQLITE_SPLIT_MIN_ROWS", 0)


def _one_query(monkeypatch):
    monkeypatch.setattr(R, "SQLITE_SPLIT_MIN_ROWS", 1 << 62)


def _read(cfg, monkeypatch, split: bool, scope=None, before=None):
    (_split if split else _one_query)(monkeypatch)
    spy = Spy(monkeypatch, before)
    return read_source(cfg, scope), spy


def _assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for t in want:
        assert_frame_equal(got[t].frame, want[t].frame, check_dtypes=True, check_row_order=True)


def _assert_same_dataset(a, b) -> None:
    for t in ("cases", "agents", "qa_reviews", "qa_criteria", "shifts", "events"):
        assert_frame_equal(getattr(a, t), getattr(b, t), check_dtypes=True, check_row_order=True)
    assert [(i.rule, i.row, i.record_id, i.message) for i in a.report.issues] == [
        (i.rule, i.row, i.record_id, i.message) for i in b.report.issues
    ]


def test_two_halves_equal_the_one_query(db, monkeypatch):
    cfg = _cfg(db)
    assert _query(db, "PRAGMA journal_mode") == [("wal",)]
    want, one = _read(cfg, monkeypatch, split=False)
    assert not one.split()
    got, spy = _read(cfg, monkeypatch, split=True)
    _assert_same(got, want)
    mid, low, high = spy.halves()
    assert low[1] != high[1] and low[2] != high[2]  # two connections, two threads
    assert low[2].startswith("tsdash-sqlite-half") and high[2].startswith("tsdash-sqlite-half")
    assert spy.all_closed()
    n = want["cases"].frame.height
    n_low = _query(db, f"SELECT count(*) FROM cases WHERE rowid < {mid}")[0][0]
    assert n > 20_000 and 0.45 < n_low / n < 0.55
    # every other table is read once, on the first half's connection (its snapshot)
    others = [c for c in spy.calls if c not in spy.cases()]
    assert len(others) == len(TABLES) - 1 and {c[1] for c in others} == {low[1]}
    # and the validated datasets are the same
    _one_query(monkeypatch)
    a = load_dataset(Settings(source=cfg))
    _split(monkeypatch)
    _assert_same_dataset(load_dataset(Settings(source=cfg)), a)


def test_scope_conditions_still_filter(db, monkeypatch):
    cfg = _cfg(db)
    want, _ = _read(cfg, monkeypatch, split=False, scope=SCOPE)
    got, spy = _read(cfg, monkeypatch, split=True, scope=SCOPE)
    _assert_same(got, want)
    _, low, high = spy.halves()
    assert "created_at <" in low[0] and "created_at <" in high[0]  # the window is in both halves
    all_cases = _read(cfg, monkeypatch, split=False)[0]["cases"].frame.height
    assert 2048 < got["cases"].frame.height < all_cases
    _one_query(monkeypatch)
    a = load_dataset(Settings(source=cfg), SCOPE)
    _split(monkeypatch)
    _assert_same_dataset(load_dataset(Settings(source=cfg), SCOPE), a)
    # a scope of given cases is a read by id: one query
    cid = want["cases"].frame["case_id"][7]
    one, spy = _read(cfg, monkeypatch, split=True, scope=Scope(case_ids=(cid,)))
    assert one["cases"].frame["case_id"].to_list() == [cid] and not spy.split()


def _after_first_read(monkeypatch, action):
    """Run ``action`` once, right after the first connection's first read and before the second
    connection is opened (the moment between the two snapshots)."""
    real = R.adbc_connect
    done: list[bool] = []

    def connect(cfg, *, autocommit=False):
        if not autocommit and not done and sys._getframe(1).f_code.co_name == "__init__":
            action()
            done.append(True)
        return real(cfg, autocommit=autocommit)

    monkeypatch.setattr(R, "adbc_connect", connect)
    return done


def test_a_commit_between_the_snapshots_is_caught(db, monkeypatch):
    """Another process commits after the first connection's snapshot and before the second's:
    data_version changes, no halves are read, and every table is the first snapshot's (the one
    query's before the commit). The commit changes no rowid (an update in place), so the rowid
    range the two connections see is the same: only data_version tells the snapshots apart."""
    cfg = _cfg(db)
    want, _ = _read(cfg, monkeypatch, split=False)
    last = want["cases"].frame["case_id"][-1]
    write = (
        f"UPDATE cases SET queue = 'updated' WHERE case_id = '{last}'",
        "DELETE FROM qa_criteria",
    )
    done = _after_first_read(monkeypatch, lambda: _commit(db, *write))
    got, spy = _read(cfg, monkeypatch, split=True)
    assert done and not spy.split()
    _assert_same(got, want)
    # the commit happened: a read now sees it
    monkeypatch.undo()
    after, spy = _read(cfg, monkeypatch, split=True)
    assert spy.split()
    assert after["cases"].frame.filter(pl.col("case_id") == last)["queue"].to_list() == ["updated"]
    assert after["qa_criteria"].frame.height == 0


def test_without_the_check_the_halves_would_mix_two_moments(db, monkeypatch):
    """The check has teeth: with data_version ignored, the same commit between the snapshots
    gives a high half of the later moment beside a low half of the earlier one."""
    cfg = _cfg(db)
    want, _ = _read(cfg, monkeypatch, split=False)
    last = want["cases"].frame["case_id"][-1]
    monkeypatch.setattr(R, "_sqlite_data_version", lambda conn: 0)
    _after_first_read(
        monkeypatch, lambda: _commit(db, f"UPDATE cases SET queue = 'updated' WHERE case_id = '{last}'")
    )
    got, spy = _read(cfg, monkeypatch, split=True)
    assert spy.split()
    assert got["cases"].frame.filter(pl.col("case_id") == last)["queue"].to_list() == ["updated"]
    assert not got["cases"].frame.equals(want["cases"].frame)


def test_commits_during_the_read_are_seen_by_no_table(db, monkeypatch):
    """Another process inserts, updates and deletes rows (in both halves and in tables read
    after `cases`) while the halves are being read: no table sees any of it."""
    cfg = _cfg(db)
    want, _ = _read(cfg, monkeypatch, split=False)
    ids = want["cases"].frame["case_id"]
    low_id, high_id, gone_id = ids[1], ids[-3], ids[-2]
    done: list[bool] = []

    def write_first(conn, sql):
        if HIGH.search(sql) and not done:
            _commit(
                db,
                f"UPDATE cases SET queue = 'updated' WHERE case_id = '{low_id}'",
                f"INSERT INTO cases SELECT * FROM cases WHERE case_id = '{high_id}'",
                f"DELETE FROM cases WHERE case_id = '{gone_id}'",
                "INSERT INTO qa_reviews SELECT * FROM qa_reviews LIMIT 1",
                "DELETE FROM qa_criteria",
            )
            done.append(True)

    got, spy = _read(cfg, monkeypatch, split=True, before=write_first)
    assert done and spy.halves()
    _assert_same(got, want)
    after, _ = _read(cfg, monkeypatch, split=True)
    assert_the_writes_are_seen(after, want, low_id, high_id, gone_id)


def test_a_writer_process_committing_all_along(db, monkeypatch):
    """A writer process commits a tick every few milliseconds (the simulator's pattern, faster)
    while the tables are read again and again: every read is the database of one moment -- the
    cases' updated rows all carry one tick number, as each tick updates them all at once."""
    cfg = _cfg(db)
    code = (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
        "n = 0\n"
        "while True:\n"
        "    n += 1\n"
        "    c.execute('BEGIN IMMEDIATE')\n"
        "    c.execute(\"UPDATE cases SET queue = 'tick' || ? WHERE rowid % 1000 = 7\", (n,))\n"
        "    c.execute('COMMIT')\n"
        "    time.sleep(0.002)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code, str(db)])
    try:
        _split(monkeypatch)
        splits = 0
        for _ in range(12):
            spy = Spy(monkeypatch)
            raw = read_source(cfg)
            splits += spy.split()
            ticks = raw["cases"].frame.filter(pl.col("queue").str.starts_with("tick"))["queue"].unique()
            assert ticks.len() <= 1, ticks.to_list()
            monkeypatch.undo()
            _split(monkeypatch)
    finally:
        writer.kill()
        writer.wait()
    print(f"{splits} of 12 reads in two halves")
    assert _query(db, "SELECT count(*) FROM cases WHERE queue LIKE 'tick%'")[0][0] > 0


def test_a_real_in_a_text_column_at_the_start_of_the_high_half(db, monkeypatch):
    """The driver infers each column's type from its first 1024 rows and converts a REAL it meets
    there to text itself ("1.500000e+00"), later ones through SQLite ("1.5"). A REAL among the
    first rows of the high half (here: a text timestamp column, NUMERIC affinity, so the value
    stays REAL) would read differently in a half than in the one query: the halves are dropped."""
    cfg = _cfg(db)
    _split(monkeypatch)
    spy = Spy(monkeypatch)
    read_source(cfg)
    mid, _, _ = spy.halves()
    monkeypatch.undo()
    _commit(db, f"UPDATE cases SET escalated_at = 1.5 WHERE rowid = {mid}")
    assert _query(db, f"SELECT typeof(escalated_at) FROM cases WHERE rowid = {mid}") == [("real",)]
    want, _ = _read(cfg, monkeypatch, split=False)
    assert "1.5" in want["cases"].frame["escalated_at"].to_list()
    got, spy = _read(cfg, monkeypatch, split=True)
    _assert_same(got, want)
    assert spy.halves() and [c for c in spy.cases() if "rowid" not in c[0]], "halves read, dropped: one query"
    # without the guard, the high half would hold the driver's text of the REAL
    monkeypatch.setattr(R, "_PRINTF_E", r"^\b$")
    got, _ = _read(cfg, monkeypatch, split=True)
    assert "1.500000e+00" in got["cases"].frame["escalated_at"].to_list()
    # and the validated datasets are the same (the value is reported the same way)
    monkeypatch.undo()
    _one_query(monkeypatch)
    a = load_dataset(Settings(source=cfg))
    _split(monkeypatch)
    b = load_dataset(Settings(source=cfg))
    _assert_same_dataset(b, a)
    assert any("1.5" in i.message for i in b.report.issues)


def test_a_case_id_in_both_halves_keeps_the_first_half_row(tables, tmp_path, monkeypatch):
    cases = tables["cases"]
    dup_id = cases["case_id"][0]
    copy = cases.head(1).with_columns(pl.lit("copy_in_second_half").alias("queue"))
    path = tmp_path / "dup.sqlite"
    write_tables({**tables, "cases": pl.concat([cases, copy])}, f"sqlite:///{path}")
    cfg = _cfg(path)
    _split(monkeypatch)
    spy = Spy(monkeypatch)
    ds = load_dataset(Settings(source=cfg))
    assert spy.halves()
    kept = ds.cases.filter(pl.col("case_id") == dup_id)
    assert kept.height == 1 and kept["queue"][0] == cases["queue"][0] != "copy_in_second_half"
    [dup] = [i for i in ds.report.issues if i.rule == "duplicate_id"]
    assert dup.record_id == dup_id and dup.row == cases.height + 1
    _one_query(monkeypatch)
    _assert_same_dataset(ds, load_dataset(Settings(source=cfg)))


def test_not_wal_small_view_or_index_order_take_the_one_query(db, tables, tmp_path, monkeypatch):
    cfg = _cfg(db)
    want, _ = _read(cfg, monkeypatch, split=False)
    # below the (default) size threshold
    monkeypatch.undo()
    spy = Spy(monkeypatch)
    _assert_same(read_source(cfg), want)
    assert spy.cases() and not spy.split()
    monkeypatch.undo()
    # a rollback-journal database
    _commit_outside(db, "PRAGMA journal_mode=DELETE")
    assert _query(db, "PRAGMA journal_mode") == [("delete",)]
    got, spy = _read(cfg, monkeypatch, split=True)
    _assert_same(got, want)
    assert not spy.split()
    _commit_outside(db, "PRAGMA journal_mode=WAL")
    # an index that orders the one query otherwise (a scope of two queues on an indexed queue:
    # one queue's cases, then the other's)
    qscope = Scope(queues=("account_security", "buyer_disputes"))
    by_rowid, _ = _read(cfg, monkeypatch, split=False, scope=qscope)
    _commit(db, "CREATE INDEX ix_cases_queue ON cases (queue)")
    want_q, _ = _read(cfg, monkeypatch, split=False, scope=qscope)
    ids, rowid_ids = want_q["cases"].frame["case_id"], by_rowid["cases"].frame["case_id"]
    assert sorted(ids) == sorted(rowid_ids) and ids.to_list() != rowid_ids.to_list()
    got, spy = _read(cfg, monkeypatch, split=True, scope=qscope)
    assert not spy.split()
    _assert_same(got, want_q)
    # a view named cases
    view = tmp_path / "view.sqlite"
    write_tables(tables, f"sqlite:///{view}")
    _commit(view, "ALTER TABLE cases RENAME TO cases_raw", "CREATE VIEW cases AS SELECT * FROM cases_raw")
    got, spy = _read(_cfg(view), monkeypatch, split=True)
    assert not spy.split()
    _assert_same(got, want)


def _commit_outside(path, statement: str) -> None:
    """A statement that cannot run inside a transaction (journal mode), in another process."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; sqlite3.connect(sys.argv[1], isolation_level=None).execute(sys.argv[2]).fetchall()",
            str(path),
            statement,
        ],
        check=True,
        timeout=60,
    )


def test_a_failing_half_falls_back_to_the_one_query(db, monkeypatch):
    cfg = _cfg(db)
    want, _ = _read(cfg, monkeypatch, split=False)

    def fail_high(conn, sql):
        if HIGH.search(sql):
            raise RuntimeError("second half lost")

    def fail_low(conn, sql):
        if LOW.search(sql):
            raise RuntimeError("first half lost")

    for before in (fail_high, fail_low):
        monkeypatch.setattr(pl, "read_database", _no_sqlalchemy_read)
        got, spy = _read(cfg, monkeypatch, split=True, before=before)
        _assert_same(got, want)
        assert [c for c in spy.cases() if "rowid" not in c[0]], "the one query ran"
        assert spy.all_closed()
        monkeypatch.undo()


def _no_sqlalchemy_read(*args, **kwargs):
    raise AssertionError("a table fell back to pl.read_database: the ADBC connection was left unusable")
