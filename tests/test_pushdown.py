"""Pushdown: a 7-day window on a long dataset fetches only the rows it needs, from SQLite,
Parquet and PostgreSQL, and the metrics over that window are the same as from a full load."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import uuid

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import create_engine, text

from tsdash import metrics
from tsdash.config import Settings, SourceConfig
from tsdash.dataset import normalize
from tsdash.demo import generate
from tsdash.sources import Scope, load_dataset
from tsdash.sources.read import read_source
from tsdash.sources.write import write_tables

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
FILTER = metrics.Filter(
    dt.date(2026, 10, 5), dt.date(2026, 10, 11), tz="UTC", as_of=dt.datetime(2026, 10, 12, tzinfo=UTC)
)
SINCE, UNTIL = FILTER.window_utc()
SCOPE = Scope(since=SINCE, until=UNTIL)


@pytest.fixture(scope="module")
def tables():
    return generate(days=150, agents=10, seed=5, now=NOW)


@pytest.fixture(scope="module")
def expected(tables):
    """Exact row counts of the scope, computed independently on the generated frames."""
    c = tables["cases"]
    kept = c.filter(
        (pl.col("created_at") < UNTIL) & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= SINCE))
    )
    q = tables["qa_reviews"].filter(pl.col("reviewed_at").is_between(SINCE, UNTIL, closed="left"))
    # cases reviewed in the window but resolved before it are kept too (quality by queue needs them)
    late = c.filter(
        pl.col("case_id").is_in(q["case_id"].implode()) & ~pl.col("case_id").is_in(kept["case_id"].implode())
    )
    kept = pl.concat([kept, late])
    s = tables["shifts"].filter((pl.col("end") >= SINCE) & (pl.col("start") < UNTIL))
    e = tables["events"].filter(pl.col("case_id").is_in(kept["case_id"].implode()))
    return {
        "late_reviewed": late.height,
        "cases": kept.height,
        "qa_reviews": q.height,
        "shifts": s.height,
        "events": e.height,
        "all_cases": c.height,
    }


def _heights(raw):
    return {t: r.frame.height for t, r in raw.items()}


@contextlib.contextmanager
def pg_schema(pg_url: str, tables: dict[str, pl.DataFrame]):
    """The tables written to a fresh PostgreSQL schema, yielded as (schema, source config);
    dropped afterwards."""
    schema = f"tsdash_pd_{uuid.uuid4().hex[:8]}"
    eng = create_engine(pg_url)
    try:
        write_tables(tables, pg_url, schema=schema)
        yield schema, SourceConfig(location=pg_url, db_schema=schema)
    finally:
        with eng.begin() as c:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        eng.dispose()


# a queue and a case type: the quality of a queue joins each review to its case
FILTER_DIMS = (
    FILTER,
    dataclasses.replace(FILTER, queues=("payments_fraud", "counterfeit")),
    dataclasses.replace(FILTER, case_types=("stolen_card", "item_not_received")),
)


def _same_metrics(full, scoped):
    for f in FILTER_DIMS:
        for name in ("flow", "handle_time", "quality", "escalations", "sla", "backlog_now", "first_response"):
            fn = getattr(metrics, name)
            assert_frame_equal(fn(full, f), fn(scoped, f))
    q = metrics.quality(full, FILTER_DIMS[1])
    assert q["reviews"].sum() > 0  # the queue filter keeps reviews to compare


def test_fixture_has_cases_reviewed_after_the_window_they_were_resolved_before(expected):
    assert expected["late_reviewed"] > 10


def test_scope_fetches_only_the_window_parquet(tables, expected, tmp_path):
    write_tables(tables, str(tmp_path / "pq"), fmt="parquet")
    cfg = SourceConfig(location=str(tmp_path / "pq"))
    got = _heights(read_source(cfg, SCOPE))
    assert got["cases"] == expected["cases"]
    assert got["qa_reviews"] == expected["qa_reviews"]
    assert got["shifts"] == expected["shifts"]
    assert got["events"] == expected["events"]
    assert got["cases"] < expected["all_cases"] / 5  # 7 of 150 days (plus cases open across the window)
    s = Settings(source=cfg)
    _same_metrics(load_dataset(s), load_dataset(s, SCOPE))


def test_scope_fetches_only_the_window_sqlite(tables, expected, tmp_path):
    db = tmp_path / "long.sqlite"
    write_tables(tables, f"sqlite:///{db}")
    cfg = SourceConfig(location=f"sqlite:///{db}")
    got = _heights(read_source(cfg, SCOPE))
    # SQLite keeps text: the date-prefix bounds take up to one extra day on each side
    c = tables["cases"]
    lo, hi = SINCE - dt.timedelta(days=2), UNTIL + dt.timedelta(days=2)
    upper = c.filter(
        (pl.col("created_at") < hi) & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= lo))
    ).height
    assert expected["cases"] <= got["cases"] <= upper
    assert got["cases"] < expected["all_cases"] / 4
    s = Settings(source=cfg)
    _same_metrics(load_dataset(s), load_dataset(s, SCOPE))


def test_scope_fetches_only_the_window_postgres(tables, expected, pg_url):
    with pg_schema(pg_url, tables) as (_, cfg):
        got = _heights(read_source(cfg, SCOPE))
        assert got["cases"] == expected["cases"]
        assert got["qa_reviews"] == expected["qa_reviews"]
        assert got["shifts"] == expected["shifts"]
        assert got["events"] == expected["events"]
        s = Settings(source=cfg)
        _same_metrics(load_dataset(s), load_dataset(s, SCOPE))


def test_dimension_pushdown_uses_bound_parameters(tables, tmp_path):
    db = tmp_path / "d.sqlite"
    write_tables(tables, f"sqlite:///{db}")
    hostile = "payments_fraud' OR '1'='1"
    cfg = SourceConfig(location=f"sqlite:///{db}")
    got = read_source(cfg, Scope(queues=("payments_fraud",), priorities=("urgent", "high")))["cases"].frame
    want = tables["cases"].filter(
        pl.col("queue").eq("payments_fraud") & pl.col("priority").is_in(["urgent", "high"])
    )
    assert got.height == want.height > 0
    assert read_source(cfg, Scope(queues=(hostile,)))["cases"].frame.height == 0


def test_scoped_dataset_equals_full_dataset_restricted(tables):
    """The in-memory reference: metrics on frames cut by the scope equal metrics on all frames."""
    full = normalize(tables)
    c = tables["cases"]
    kept = c.filter(
        (pl.col("created_at") < UNTIL) & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= SINCE))
    )
    qa = tables["qa_reviews"].filter(pl.col("reviewed_at").is_between(SINCE, UNTIL, closed="left"))
    cut = dict(tables, cases=kept, qa_reviews=qa)
    # the time rule alone loses the reviews of cases resolved before the window under a queue filter
    with pytest.raises(AssertionError):
        _same_metrics(full, normalize(cut))
    reviewed = c.filter(
        pl.col("case_id").is_in(qa["case_id"].implode()) & ~pl.col("case_id").is_in(kept["case_id"].implode())
    )
    _same_metrics(full, normalize(dict(cut, cases=pl.concat([kept, reviewed]))))


def _one_case_expected(tables):
    """An early case with a QA review (resolved long before SCOPE), and its rows in each table."""
    q = tables["qa_reviews"].sort("reviewed_at")
    cid = q["case_id"][0]
    reviews = q.filter(pl.col("case_id") == cid)
    return cid, {
        "cases": 1,
        "events": tables["events"].filter(pl.col("case_id") == cid).height,
        "qa_reviews": reviews.height,
        "qa_criteria": tables["qa_criteria"]
        .filter(pl.col("review_id").is_in(reviews["review_id"].implode()))
        .height,
        "shifts": 0,
    }


def _check_one_case(cfg, tables):
    cid, want = _one_case_expected(tables)
    assert want["events"] > 0 and want["qa_reviews"] > 0 and want["qa_criteria"] > 0
    got = read_source(cfg, Scope(case_ids=(cid,)))
    assert {t: got[t].frame.height for t in want} == want
    assert got["cases"].frame[cfg.source_column("cases", "case_id")].to_list() == [cid]
    assert got["agents"].frame.height == tables["agents"].height  # dimension table kept whole
    # the same case, as the full load sees it
    s = Settings(source=cfg)
    full, one = load_dataset(s), load_dataset(s, Scope(case_ids=(cid,)))
    assert_frame_equal(full.cases.filter(pl.col("case_id") == cid), one.cases)
    assert_frame_equal(full.events.filter(pl.col("case_id") == cid), one.events)


def test_scope_of_one_case_parquet(tables, tmp_path):
    write_tables(tables, str(tmp_path / "pq"), fmt="parquet")
    _check_one_case(SourceConfig(location=str(tmp_path / "pq")), tables)


def test_scope_of_one_case_csv(tables, tmp_path):
    """CSV files are read whole (no pushdown): the load is cut to the case all the same."""
    write_tables(tables, str(tmp_path / "csv"), fmt="csv")
    _check_one_case(SourceConfig(location=str(tmp_path / "csv")), tables)


def test_scope_of_one_case_sqlite(tables, tmp_path):
    db = tmp_path / "one.sqlite"
    write_tables(tables, f"sqlite:///{db}")
    _check_one_case(SourceConfig(location=f"sqlite:///{db}"), tables)


def test_scope_of_one_case_postgres(tables, pg_url):
    with pg_schema(pg_url, tables) as (_, cfg):
        _check_one_case(cfg, tables)


def test_postgres_reads_through_copy_with_values_bound_by_psycopg(tables, pg_url, monkeypatch):
    """PostgreSQL through ADBC: the parameters are bound on the client by psycopg (ADBC reads with
    binary COPY only without server-side parameters), and hostile values still match only
    themselves: a queue holding quotes, a backslash and SQL finds exactly its one case, and
    every table is still there afterwards."""
    import tsdash.sources.read as R

    hostile = "x'); DROP TABLE cases; -- O'Brien \\ %s %(q)s"
    cases = tables["cases"].with_columns(
        pl.when(pl.col("case_id") == tables["cases"]["case_id"][3])
        .then(pl.lit(hostile))
        .otherwise(pl.col("queue"))
        .alias("queue")
    )
    seen: list[tuple[str, tuple]] = []
    real = R._fetch_adbc

    def spy(conn, sql, params=()):
        seen.append((sql, params))
        return real(conn, sql, params)

    monkeypatch.setattr(R, "_fetch_adbc", spy)
    with pg_schema(pg_url, {**tables, "cases": cases}) as (schema, cfg):
        got = read_source(cfg, Scope(queues=(hostile,)), tables=("cases",))["cases"].frame
        assert got["case_id"].to_list() == [cases["case_id"][3]] and got["queue"][0] == hostile
        sql, params = seen[-1]
        assert params == () and "$1" not in sql and "O''Brien" in sql  # quoted by psycopg, no parameters
        # the window and the dimension lists, bound the same way, give the exact rows
        scope = Scope(since=SINCE, until=UNTIL, queues=("payments_fraud", "counterfeit"))
        got = read_source(cfg, scope, tables=("cases",))["cases"].frame
        q = tables["qa_reviews"].filter(pl.col("reviewed_at").is_between(SINCE, UNTIL, closed="left"))
        c = cases.filter(
            (
                (
                    (pl.col("created_at") < UNTIL)
                    & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= SINCE))
                )
                | pl.col("case_id").is_in(q["case_id"].implode())  # reviewed in the window
            )
            & pl.col("queue").is_in(["payments_fraud", "counterfeit"])
        )
        assert sorted(got["case_id"].to_list()) == sorted(c["case_id"].to_list()) and c.height > 0
        eng = create_engine(pg_url)
        with eng.connect() as conn:
            n = conn.execute(text(f'SELECT count(*) FROM "{schema}".cases')).scalar_one()
        eng.dispose()
        assert n == cases.height


def _cases_as_a_view(url: str, schema: str | None = None) -> None:
    """Rename the cases table and put a view named cases over it, as a team exposing its case
    system through views would."""
    eng = create_engine(url.replace("mode=ro", "mode=rw"))
    q = f'"{schema}".' if schema else ""
    with eng.begin() as c:
        c.execute(text(f"ALTER TABLE {q}cases RENAME TO cases_raw"))
        c.execute(text(f"CREATE VIEW {q}cases AS SELECT * FROM {q}cases_raw"))
    eng.dispose()


def test_a_view_reads_like_a_table_sqlite(tables, expected, tmp_path):
    """The same rows through a view as through the table (SQLite's text bounds are inexact by
    design, see above: compared with the plain table's read of the same data)."""
    plain, view = tmp_path / "plain.sqlite", tmp_path / "view.sqlite"
    write_tables(tables, f"sqlite:///{plain}")
    write_tables(tables, f"sqlite:///{view}")
    _cases_as_a_view(f"sqlite:///{view}")
    a, b = SourceConfig(location=f"sqlite:///{plain}"), SourceConfig(location=f"sqlite:///{view}")
    assert _heights(read_source(b))["cases"] == expected["all_cases"]
    got, want = _heights(read_source(b, SCOPE)), _heights(read_source(a, SCOPE))
    assert got == want and expected["cases"] <= got["cases"] < expected["all_cases"] / 4


def test_a_view_reads_like_a_table_postgres(tables, expected, pg_url):
    with pg_schema(pg_url, tables) as (schema, cfg):
        _cases_as_a_view(pg_url, schema)
        got = _heights(read_source(cfg, SCOPE))
        assert got["cases"] == expected["cases"] and got["events"] == expected["events"]
        s = Settings(source=cfg)
        _same_metrics(load_dataset(s), load_dataset(s, SCOPE))
