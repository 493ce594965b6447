"""The ADBC fetch: SQLite's driver returns 1,024-row batches, which ``pl.from_arrow`` keeps as
chunks; a result of many batches is made contiguous (every later step and page view is slower on
~1,000 chunks), with the same rows, order and types. Real SQLite files."""

from __future__ import annotations

import sqlite3

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tsdash.sources.read as R

adbc_sqlite = pytest.importorskip("adbc_driver_sqlite.dbapi")


def _db(path, n: int):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER, name TEXT, score REAL)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", ((i, f"n{i % 97}", i / 4) for i in range(n)))
    con.commit()
    con.close()


@pytest.mark.parametrize(("n", "chunks"), [(70_000, 1), (5_000, 5)])
def test_many_batches_are_made_contiguous_few_are_kept(tmp_path, n, chunks):
    """70,000 rows come in 69 batches (more than _MAX_CHUNKS = 64): one chunk; 5,000 rows in
    5 batches: kept as they are. Either way the values are the rows in order."""
    db = tmp_path / "t.sqlite"
    _db(db, n)
    conn = adbc_sqlite.connect(str(db))
    try:
        cur = conn.cursor()
        cur.execute("SELECT * FROM t ORDER BY rowid")
        batches = len(cur.fetch_arrow_table().to_batches())
        cur.close()
        assert batches == -(-n // 1024)  # the driver's batch size, which the rule is about
        got = R._fetch_adbc(conn, "SELECT * FROM t ORDER BY rowid")
    finally:
        conn.close()
    assert got.n_chunks() == chunks
    want = pl.DataFrame(
        {"id": range(n), "name": [f"n{i % 97}" for i in range(n)], "score": [i / 4 for i in range(n)]},
        schema={"id": pl.Int64, "name": pl.String, "score": pl.Float64},
    )
    assert_frame_equal(got, want)
    assert got["score"].sum() == sum(i / 4 for i in range(n))
