"""PostgreSQL: a big `cases` table is read as two TID-range halves on two ADBC connections in
two threads, both in one exported snapshot (`pg_dump -j`'s technique), and the result is exactly
what the one query returns: same rows, same order, same types; every other table of the read
comes from the same snapshot; anything going wrong falls back to the one query.

Real PostgreSQL, no mocks of the database (skipped without a server, failing under
TSDASH_REQUIRE_ALL=1). The size threshold is lowered so that a ~21k-case table (about 500
pages) takes the two-halves path; spies around ``_fetch_adbc`` record the queries, add a write
by another connection, or make a half fail. (The one query's order is the physical order here
because the table is smaller than a quarter of shared_buffers: no synchronized scan.)
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import psycopg
import pytest
from polars.testing import assert_frame_equal
from tests.conftest import PG_URL, need, postgres_available
from tests.sources.adbc_spy import Spy as AdbcSpy
from tests.sources.adbc_spy import assert_the_writes_are_seen
from tests.test_pushdown import SCOPE, _cases_as_a_view, pg_schema

import tsdash.sources.read as R
from tsdash.config import Settings
from tsdash.demo import generate
from tsdash.sources import Scope, load_dataset
from tsdash.sources.read import read_source

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
TABLES = ("agents", "cases", "qa_reviews", "qa_criteria", "shifts")  # no events: faster to write
LOW = re.compile(r"ctid >= '\(0,0\)'::tid AND ctid < '\((\d+),0\)'::tid")
HIGH = re.compile(r"ctid >= '\((\d+),0\)'::tid(?! AND ctid <)")


@pytest.fixture(scope="module")
def tables():
    t = generate(days=75, agents=10, seed=5, now=NOW)
    return {k: t[k] for k in TABLES}


@pytest.fixture(scope="module")
def shared(tables):
    """One schema for the tests that only read."""
    need(postgres_available(), "PostgreSQL is not reachable at 127.0.0.1:5432")
    with pg_schema(PG_URL, tables) as (schema, cfg):
        yield schema, cfg


class Spy(AdbcSpy):
    def halves(self) -> tuple[int, tuple, tuple]:
        """(B, low call, high call) of the one two-halves read."""
        split = [c for c in self.cases() if "ctid" in c[0]]
        assert len(split) == 2, [c[0][-200:] for c in self.cases()]
        (low,) = [c for c in split if LOW.search(c[0])]
        (high,) = [c for c in split if HIGH.search(c[0])]
        b = int(LOW.search(low[0]).group(1))
        assert b == int(HIGH.search(high[0]).group(1)) > 0
        return b, low, high


def _split(monkeypatch):
    monkeypatch.setattr(R, "PG_SPLIT_MIN_BYTES", 0)


def _one_query(monkeypatch):
    monkeypatch.setattr(R, "PG_SPLIT_MIN_BYTES", 1 << 62)


def _writer():
    return psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _pages(schema: str, case_id: str) -> list[int]:
    with _writer() as c:
        rows = c.execute(
            f'SELECT (ctid::text::point)[0]::int FROM "{schema}".cases WHERE case_id = %s ORDER BY ctid',
            (case_id,),
        ).fetchall()
    return [r[0] for r in rows]


def _pages_all(schema: str) -> list[int]:
    with _writer() as c:
        return [r[0] for r in c.execute(f'SELECT (ctid::text::point)[0]::int FROM "{schema}".cases')]


def _read(cfg, monkeypatch, split: bool, scope=None):
    (_split if split else _one_query)(monkeypatch)
    spy = Spy(monkeypatch)
    return read_source(cfg, scope), spy


def _assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for t in want:
        assert_frame_equal(got[t].frame, want[t].frame, check_dtypes=True, check_row_order=True)


def test_two_halves_equal_the_one_query(shared, monkeypatch):
    schema, cfg = shared
    want, one = _read(cfg, monkeypatch, split=False)
    assert not any("ctid" in c[0] for c in one.calls)
    got, spy = _read(cfg, monkeypatch, split=True)
    _assert_same(got, want)
    b, low, high = spy.halves()
    assert low[1] != high[1] and low[2] != high[2]  # two connections, two threads
    assert spy.all_closed()
    with _writer() as c:
        pages = c.execute(
            f"SELECT pg_relation_size('\"{schema}\".cases') / current_setting('block_size')::int"
        ).fetchone()[0]
    assert b == pages // 2 > 100  # the table spans hundreds of pages: both halves hold many rows
    n_low = sum(p < b for p in _pages_all(schema))
    assert 0.4 < n_low / want["cases"].frame.height < 0.6
    # the other tables are read once each, on the snapshot's connection
    others = [c for c in spy.calls if c not in spy.cases()]
    assert len(others) == len(TABLES) - 1 and {c[1] for c in others} == {low[1]}


def test_scope_conditions_still_filter(shared, monkeypatch):
    _, cfg = shared
    want, _ = _read(cfg, monkeypatch, split=False, scope=SCOPE)
    got, spy = _read(cfg, monkeypatch, split=True, scope=SCOPE)
    _assert_same(got, want)
    _, low, high = spy.halves()
    assert "created_at <" in low[0] and "created_at <" in high[0]  # the window is in both halves
    all_cases = _read(cfg, monkeypatch, split=False)[0]["cases"].frame.height
    assert 0 < got["cases"].frame.height < all_cases / 3
    # a scope of given cases is a read by id: one query
    cid = want["cases"].frame["case_id"][7]
    one, spy = _read(cfg, monkeypatch, split=True, scope=Scope(case_ids=(cid,)))
    assert one["cases"].frame["case_id"].to_list() == [cid]
    assert not any("ctid" in c[0] for c in spy.calls)


def test_small_table_old_server_and_view_take_the_one_query(tables, pg_url, monkeypatch):
    with pg_schema(pg_url, tables) as (schema, cfg):
        # below the (default) size threshold
        spy = Spy(monkeypatch)
        want = read_source(cfg)
        assert spy.cases() and not any("ctid" in c[0] for c in spy.calls)
        # a server without TID Range Scan (PostgreSQL < 14)
        _split(monkeypatch)
        monkeypatch.setattr(R, "PG_SPLIT_MIN_SERVER", 10**9)
        spy = Spy(monkeypatch)
        _assert_same(read_source(cfg), want)
        assert not any("ctid" in c[0] for c in spy.calls)
        monkeypatch.setattr(R, "PG_SPLIT_MIN_SERVER", 140000)
        # a view named cases (relkind 'v'): one query, the same rows
        _cases_as_a_view(pg_url, schema)
        spy = Spy(monkeypatch)
        got = read_source(cfg)
        assert not any("ctid" in c[0] for c in spy.calls)
        _assert_same(got, want)


def test_a_case_id_in_both_halves_keeps_the_first_half_row(tables, pg_url, monkeypatch):
    """Validation keeps the first row of a repeated case_id: the halves are joined low half
    first, so the kept row is the one a sequential scan meets first."""
    cases = tables["cases"]
    dup_id = cases["case_id"][0]
    copy = cases.head(1).with_columns(pl.lit("copy_in_second_half").alias("queue"))
    with pg_schema(pg_url, {**tables, "cases": pl.concat([cases, copy])}) as (schema, cfg):
        _split(monkeypatch)
        spy = Spy(monkeypatch)
        ds = load_dataset(Settings(source=cfg))
        b, _, _ = spy.halves()
        first, second = _pages(schema, dup_id)
        assert first < b <= second  # one copy in each half
        kept = ds.cases.filter(pl.col("case_id") == dup_id)
        assert kept.height == 1 and kept["queue"][0] == cases["queue"][0] != "copy_in_second_half"
        [dup] = [i for i in ds.report.issues if i.rule == "duplicate_id"]
        assert dup.record_id == dup_id and dup.row == cases.height + 1  # the copy: the last row read
        # the same as the one query
        _one_query(monkeypatch)
        one = load_dataset(Settings(source=cfg))
        assert_frame_equal(ds.cases, one.cases)


def test_writes_during_the_read_are_seen_by_neither_half(tables, pg_url, monkeypatch):
    """Rows inserted, updated and deleted by another connection after the snapshot was exported
    (here: just before the second half's query starts) are seen by neither half, nor by the
    tables read after `cases` on the first connection: every table is read in one snapshot."""
    cases = tables["cases"]
    low_id, high_id, gone_id = cases["case_id"][1], cases["case_id"][-3], cases["case_id"][-2]
    with pg_schema(pg_url, tables) as (schema, cfg):
        want, _ = _read(cfg, monkeypatch, split=False)
        s = f'"{schema}"'
        done: list[bool] = []

        def write_first(conn, sql):
            if HIGH.search(sql) and not done:
                with _writer() as w:
                    # a new version of a low-half row (on its page if it has room, else at the end)
                    w.execute(f"UPDATE {s}.cases SET queue = 'updated' WHERE case_id = %s", (low_id,))
                    w.execute(f"INSERT INTO {s}.cases SELECT * FROM {s}.cases WHERE case_id = %s", (high_id,))
                    w.execute(f"DELETE FROM {s}.cases WHERE case_id = %s", (gone_id,))
                    w.execute(f"INSERT INTO {s}.qa_reviews SELECT * FROM {s}.qa_reviews LIMIT 1")
                    w.execute(f"DELETE FROM {s}.qa_criteria")
                done.append(True)

        _split(monkeypatch)
        spy = Spy(monkeypatch, before=write_first)
        got = read_source(cfg)
        assert done and spy.halves()
        _assert_same(got, want)
        # the writes were committed: a read now sees them
        after, _ = _read(cfg, monkeypatch, split=True)
        assert_the_writes_are_seen(after, want, low_id, high_id, gone_id)


def test_a_failing_half_falls_back_to_the_one_query(shared, monkeypatch):
    """A half that fails (on the second connection, or on the first: a server error inside the
    snapshot's transaction, undone by its savepoint) or halves whose schemas differ: the one
    query reads the table, on the snapshot's connection, and the tables after it still come
    through ADBC."""
    _, cfg = shared
    want, _ = _read(cfg, monkeypatch, split=False)
    _split(monkeypatch)

    def fail_high(conn, sql):
        if HIGH.search(sql):
            raise RuntimeError("second half lost")

    real = R._fetch_adbc

    def server_error_low(conn, sql, params=()):
        if LOW.search(sql):
            return real(conn, "SELECT 1 / 0", params)  # aborts the first connection's transaction
        return real(conn, sql, params)

    def other_schema_high(conn, sql, params=()):
        frame = real(conn, sql, params)
        return frame.with_columns(pl.col("handle_seconds").cast(pl.Float32)) if HIGH.search(sql) else frame

    for patch in ("fail_high", server_error_low, other_schema_high):
        if patch == "fail_high":
            spy = Spy(monkeypatch, before=fail_high)
        else:
            monkeypatch.setattr(R, "_fetch_adbc", patch)
            spy = Spy(monkeypatch)
        monkeypatch.setattr(pl, "read_database", _no_sqlalchemy_read)
        got = read_source(cfg)
        _assert_same(got, want)
        assert [c for c in spy.cases() if "ctid" not in c[0]], "the one query ran"
        assert spy.all_closed()
        monkeypatch.undo()
        _split(monkeypatch)


def _no_sqlalchemy_read(*args, **kwargs):
    raise AssertionError("a table fell back to pl.read_database: the ADBC connection was left unusable")
