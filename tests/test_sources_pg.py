"""PostgreSQL as a source, for real (skipped without a server, failing under TSDASH_REQUIRE_ALL=1)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import create_engine, text

from tsdash.config import Settings, SourceConfig
from tsdash.sources import SourceError, data_version, load_dataset
from tsdash.sources.read import adbc_connect, make_engine

UTC = dt.UTC


@pytest.fixture
def pg_schema(pg_url):
    schema = f"tsdash_t_{uuid.uuid4().hex[:8]}"
    eng = create_engine(pg_url)
    with eng.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
        c.execute(text(f'CREATE TABLE "{schema}".agents (agent_id text, name text, team text)'))
        c.execute(text(f"""INSERT INTO "{schema}".agents VALUES ('A1', 'Zoë O''Brien', 'T1')"""))
        c.execute(
            text(
                f'CREATE TABLE "{schema}".cases (case_id text, created_at timestamptz, queue text, '
                "priority text, assigned_agent_id text, resolved_at timestamptz, handle_seconds double precision, "
                "escalated boolean, opened_local timestamp)"
            )
        )
        c.execute(
            text(
                f"""INSERT INTO "{schema}".cases VALUES
                ('C1', '2026-03-29 01:30:00+00', 'q', 'urgent', 'A1', '2026-03-29 05:00:00+02', 120.5, true, '2026-03-29 01:30:00'),
                ('C2', '2026-03-29 02:30:00+00', 'q', 'low', NULL, NULL, NULL, false, NULL),
                ('C2', '2026-03-29 02:40:00+00', 'q', 'low', NULL, NULL, -3, false, NULL)"""
            )
        )
    yield pg_url, schema
    with eng.begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


def test_postgres_source_reads_typed_utc_and_validates(pg_schema):
    url, schema = pg_schema
    s = Settings(source=SourceConfig(location=url, db_schema=schema))
    ds = load_dataset(s)
    assert ds.cases["case_id"].to_list() == ["C1", "C2"]
    assert ds.cases["created_at"].to_list() == [
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        dt.datetime(2026, 3, 29, 2, 30, tzinfo=UTC),
    ]
    assert ds.cases["resolved_at"][0] == dt.datetime(2026, 3, 29, 3, 0, tzinfo=UTC)
    assert ds.cases["handle_seconds"].to_list() == [120.5, None]
    assert ds.cases["escalated"].to_list() == [True, False]
    assert ds.agents["name"].to_list() == ["Zoë O'Brien"]
    # the repeated id is quarantined, the first kept
    [dup] = [i for i in ds.report.issues if i.rule == "duplicate_id"]
    assert dup.row == 3 and dup.record_id == "C2" and dup.message.startswith(f"table {schema}.cases, row 3")
    assert "opened_local" in ds.cases.columns  # extra columns are kept


def test_postgres_connections_are_read_only(pg_schema):
    url, schema = pg_schema
    cfg = SourceConfig(location=url, db_schema=schema)
    from sqlalchemy.exc import InternalError, OperationalError, ProgrammingError

    with pytest.raises((InternalError, OperationalError, ProgrammingError), match="read-only transaction"):
        with make_engine(cfg).begin() as c:
            c.execute(text(f'DELETE FROM "{schema}".cases'))
    conn = adbc_connect(cfg)
    assert conn is not None
    cur = conn.cursor()
    with pytest.raises(Exception, match="read-only transaction"):
        cur.execute(f'DELETE FROM "{schema}".cases')
    conn.close()
    with create_engine(url).connect() as c:
        assert c.execute(text(f'SELECT count(*) FROM "{schema}".cases')).scalar() == 3


def test_postgres_sessions_read_in_physical_order(pg_schema):
    """Every connection tsdash opens turns synchronized scans off (a scan of a big table would
    otherwise start mid-table and change which row of a repeated id is kept first), and keeps
    its read-only, UTC and timeout settings."""
    url, schema = pg_schema
    cfg = SourceConfig(location=url, db_schema=schema, statement_timeout_s=7)
    with make_engine(cfg).connect() as c:
        got = [
            c.execute(text(f"SHOW {k}")).scalar()
            for k in ("synchronize_seqscans", "TimeZone", "statement_timeout")
        ]
        assert got == ["off", "UTC", "7s"]
    conn = adbc_connect(cfg)
    assert conn is not None
    cur = conn.cursor()
    try:
        cur.execute(
            "SELECT current_setting('synchronize_seqscans'), current_setting('default_transaction_read_only')"
        )
        assert cur.fetchall() == [("off", "on")]
    finally:
        cur.close()
        conn.close()


def test_postgres_data_version_changes_with_data(pg_schema):
    url, schema = pg_schema
    s = Settings(source=SourceConfig(location=url, db_schema=schema))
    v1 = data_version(s)
    assert v1 == data_version(s)
    with create_engine(url).begin() as c:
        c.execute(
            text(
                f"""INSERT INTO "{schema}".cases VALUES ('C3', now(), 'q', 'low', NULL, NULL, NULL, false, NULL)"""
            )
        )
    assert data_version(s) != v1


def test_wrong_password_and_unreachable_host_are_clear(pg_url):
    with pytest.raises(SourceError, match="cannot be reached"):
        load_dataset(Settings(source=SourceConfig(location="postgresql+psycopg://u:secret@127.0.0.1:1/db")))
    try:
        load_dataset(Settings(source=SourceConfig(location="postgresql+psycopg://u:secret@127.0.0.1:1/db")))
    except SourceError as exc:
        assert "secret" not in str(exc) and "***" in str(exc)


def test_missing_table_in_database_is_fatal(pg_url):
    schema = f"tsdash_e_{uuid.uuid4().hex[:8]}"
    eng = create_engine(pg_url)
    with eng.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        with pytest.raises(SourceError, match="required table 'cases' is missing"):
            load_dataset(Settings(source=SourceConfig(location=pg_url, db_schema=schema)))
    finally:
        with eng.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_postgres_data_version_sees_an_assignment(pg_schema):
    """Assigning an open case changes no timestamp maximum, but the Live page must move."""
    url, schema = pg_schema
    s = Settings(source=SourceConfig(location=url, db_schema=schema))
    v1 = data_version(s)
    with create_engine(url).begin() as c:
        c.execute(text(f"""UPDATE "{schema}".cases SET assigned_agent_id = 'A1' WHERE case_id = 'C2'"""))
    assert data_version(s) != v1
