"""The same demo data through every kind of source gives the same validated dataset."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import create_engine, text

from tsdash import metrics
from tsdash.config import Settings, SourceConfig
from tsdash.demo import generate
from tsdash.schema import TABLE_NAMES
from tsdash.sources import load_dataset
from tsdash.sources.write import write_tables

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
DEFAULT_TABLES = ("flow", "handle-time", "quality", "escalations", "sla", "backlog-now")


@pytest.fixture(scope="module")
def tables():
    return generate(days=14, agents=8, seed=3, now=NOW)


def _load(location: str, **kw):
    return load_dataset(Settings(source=SourceConfig(location=location, **kw)))


def _assert_same(a, b, label: str) -> None:
    for t in TABLE_NAMES:
        fa, fb = a.table(t), b.table(t)
        key = [c for c in ("case_id", "agent_id", "review_id", "ts", "criterion", "start") if c in fa.columns]
        try:
            assert_frame_equal(fa.sort(key), fb.sort(key), check_column_order=False)
        except AssertionError as exc:
            raise AssertionError(f"{label}: table {t} differs: {exc}") from None
    assert a.report.issues == [] and b.report.issues == []
    # and so the same metric tables (issue 7: PostgreSQL = SQLite = Parquet = CSV)
    f = metrics.Filter(dt.date(2026, 11, 10), dt.date(2026, 11, 23), tz="Europe/Berlin", as_of=NOW)
    for name in DEFAULT_TABLES:
        ta, tb = metrics.TABLES[name].compute(a, f), metrics.TABLES[name].compute(b, f)
        assert ta.height > 0, name
        try:
            assert_frame_equal(ta, tb, rel_tol=1e-12, abs_tol=0)  # counts exact; means to the last digits
        except AssertionError as exc:
            raise AssertionError(f"{label}: metric table {name} differs: {exc}") from None


@pytest.fixture(scope="module")
def from_sqlite(tables, tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "demo.sqlite"
    write_tables(tables, f"sqlite:///{path}")
    return _load(f"sqlite:///{path}")


def test_demo_validates_clean(from_sqlite, tables):
    assert from_sqlite.report.issues == []
    assert from_sqlite.cases.height == tables["cases"].height
    assert from_sqlite.present == frozenset(TABLE_NAMES)


def test_parquet_equals_sqlite(tables, from_sqlite, tmp_path):
    write_tables(tables, str(tmp_path / "pq"), fmt="parquet")
    _assert_same(from_sqlite, _load(str(tmp_path / "pq")), "parquet")


def test_csv_equals_sqlite(tables, from_sqlite, tmp_path):
    write_tables(tables, str(tmp_path / "csv"), fmt="csv")
    _assert_same(from_sqlite, _load(str(tmp_path / "csv")), "csv")


def test_postgres_equals_sqlite(tables, from_sqlite, pg_url):
    schema = f"tsdash_eq_{uuid.uuid4().hex[:8]}"
    eng = create_engine(pg_url)
    with eng.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        write_tables(tables, pg_url, schema=schema)
        _assert_same(from_sqlite, _load(pg_url, db_schema=schema), "postgres")
    finally:
        with eng.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        eng.dispose()


def test_source_matches_generator_exactly(tables, from_sqlite):
    """Round trip through SQLite loses nothing: every generated value comes back."""
    gen = tables["cases"].sort("case_id")
    got = from_sqlite.cases.select(gen.columns).sort("case_id")
    assert_frame_equal(gen, got, check_dtypes=False)
    assert got["created_at"].dtype == pl.Datetime("us", "UTC")


def test_sqlite_version_ignores_an_empty_wal_file(tables, tmp_path):
    from tsdash.sources import data_version

    db = tmp_path / "v.sqlite"
    write_tables(tables, f"sqlite:///{db}")
    s = Settings(source=SourceConfig(location=f"sqlite:///{db}"))
    (tmp_path / "v.sqlite-wal").unlink(missing_ok=True)
    v1 = data_version(s)
    (tmp_path / "v.sqlite-wal").write_bytes(b"")  # what a reader's first open leaves behind
    assert data_version(s) == v1
    (tmp_path / "v.sqlite-wal").write_bytes(b"x" * 100)  # a writer's pages
    assert data_version(s) != v1
