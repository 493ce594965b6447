"""Reading raw tables from a source: a folder of CSV/Parquet files, or any SQLAlchemy URL.

Readers return :class:`RawTable` objects: the frame exactly as the source holds it (CSV cells
as text), plus where it came from, so that validation can name the file or table in its
messages. Typing, renaming and the rules live in :mod:`tsdash.validate`.
"""

from __future__ import annotations

import glob
import os
import re
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tsdash.config import SourceConfig, mask_url
from tsdash.schema import CONTRACT, TABLE_NAMES
from tsdash.sources.scope import Scope, case_conditions, compile_for_adbc, frame_filter, table_conditions


class SourceError(Exception):
    """The source cannot be read at all (bad URL, unreachable database, unreadable file)."""


@dataclass
class RawTable:
    name: str  # contract table name
    origin: str  # "cases.csv", "table cases in sqlite:///...", shown in messages
    frame: pl.DataFrame | None  # None when the file could not be read (see error)
    error: str | None = None
    text_cells: bool = False  # True for CSV: every cell is text
    first_row_line: int = 1  # line number of data row 1 in the file (2 for CSV with a header)
    rows_read: bool = True  # False: a scope of no rows (Scope.no_case_rows), the columns only
    unread: tuple[str, ...] = ()  # contract columns left out on purpose (Scope.unread)


def is_url(location: str) -> bool:
    return "://" in location


def describe(cfg: SourceConfig) -> str:
    """Human label of the source, password masked."""
    if is_url(cfg.location):
        return mask_url(cfg.location)
    return f"folder {cfg.location}"


# ---------------------------------------------------------------- folders


def _candidates(folder: Path, name: str) -> list[Path]:
    out: list[Path] = []
    for ext in (".parquet", ".pq", ".csv", ".tsv", ".csv.gz"):
        p = folder / f"{name}{ext}"
        if p.exists():
            out.append(p)
    d = folder / name
    if d.is_dir():
        out.append(d)
    return out


def _read_errors() -> tuple[type[BaseException], ...]:
    """What an unreadable file raises. PyArrow's errors count only when PyArrow was imported (by a
    read that used it): the Parquet and CSV readers are Polars' own, and importing PyArrow for an
    ``except`` clause cost every ``tsdash metrics`` run ~80 ms (PyArrow and NumPy)."""
    errors: tuple[type[BaseException], ...] = (pl.exceptions.PolarsError, OSError, ValueError)
    pa = sys.modules.get("pyarrow")
    return (*errors, pa.ArrowException) if pa is not None else errors


def _read_csv(path: Path, cfg: SourceConfig) -> pl.DataFrame:
    sep = "\t" if path.suffix == ".tsv" else ","
    return pl.read_csv(
        path,
        separator=sep,
        infer_schema=False,  # every cell as text: validation parses and reports per row
        null_values=list(cfg.null_values) or None,
        truncate_ragged_lines=False,
    )


def _scan_parquet(
    source, table: str, cfg: SourceConfig, scope: Scope | None, hive: bool = False
) -> pl.DataFrame:
    """Scan lazily; with a scope, only the rows it needs are materialised (predicate pushdown
    into the Parquet reader: row groups and hive partitions outside the window are skipped)."""
    lf = pl.scan_parquet(source, hive_partitioning=hive) if hive else pl.scan_parquet(source)
    if scope is not None and not scope.is_all:
        pred = frame_filter(table, lf.collect_schema(), cfg, scope, cfg.timezone)
        if pred is not None:
            lf = lf.filter(pred)
    if scope is not None and table == "cases":
        drop = scope.unread_sources(cfg, lf.collect_schema().names())
        if drop:
            lf = lf.drop(drop)
    return lf.collect()


def _read_parquet_dir(path: Path, table: str, cfg: SourceConfig, scope: Scope | None) -> pl.DataFrame:
    files = sorted(glob.glob(str(path / "**" / "*.parquet"), recursive=True))
    if not files:
        files = sorted(glob.glob(str(path / "**" / "*.csv"), recursive=True))
        if not files:
            raise SourceError(f"folder {path} holds no .parquet or .csv files")
        return pl.concat([pl.read_csv(f, infer_schema=False) for f in files], how="diagonal")
    return _scan_parquet(str(path / "**" / "*.parquet"), table, cfg, scope, hive=True)


def read_folder(
    cfg: SourceConfig, scope: Scope | None = None, tables: Iterable[str] | None = None
) -> dict[str, RawTable]:
    folder = Path(cfg.location)
    if not folder.exists():
        raise SourceError(
            f"Source folder {folder} does not exist. Set TSDASH_SOURCE or [source] path in tsdash.toml "
            "to a folder holding cases.csv/agents.csv (or .parquet), or run `tsdash demo --out FOLDER`."
        )
    if not folder.is_dir():
        raise SourceError(f"Source {folder} is a file, not a folder of table files or a database URL.")
    out: dict[str, RawTable] = {}
    scanned: dict[str, list[tuple[str, bool]]] = {}  # Parquet tables: (source, hive) to scan again
    for table in _wanted(tables):
        name = cfg.table_name(table)
        found = _candidates(folder, name)
        if not found:
            matches = sorted(
                glob.glob(str(folder / f"{name}*.parquet")) + glob.glob(str(folder / f"{name}*.csv"))
            )
            if matches:
                found = [Path(m) for m in matches]
        if not found:
            continue
        path = found[0]
        label = str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)
        if path.is_dir():
            if glob.glob(str(path / "**" / "*.parquet"), recursive=True):
                scanned[table] = [(str(path / "**" / "*.parquet"), True)]
        elif len(found) > 1 and all(p.suffix in (".parquet", ".pq") for p in found):
            scanned[table] = [(str(p), False) for p in found]
        elif path.suffix in (".parquet", ".pq"):
            scanned[table] = [(str(path), False)]
        try:
            if path.is_dir():
                frame, text = _read_parquet_dir(path, table, cfg, scope), False
            elif len(found) > 1 and all(p.suffix in (".parquet", ".pq") for p in found):
                frame = pl.concat(
                    [_scan_parquet(p, table, cfg, scope) for p in found], how="diagonal_relaxed"
                )
                text = False
            elif path.suffix in (".parquet", ".pq"):
                frame, text = _scan_parquet(path, table, cfg, scope), False
            else:
                frame, text = _read_csv(path, cfg), True
        except SourceError as exc:
            out[table] = RawTable(table, label, None, str(exc))
            continue
        except _read_errors() as exc:  # unreadable file
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            out[table] = RawTable(table, label, None, f"cannot be read ({reason})")
            continue
        unread: tuple[str, ...] = ()
        if table == "cases" and scope is not None and scope.unread:
            unread = scope.unread
            drop = scope.unread_sources(cfg, frame.columns)  # CSV: read whole (Parquet: none left)
            if drop:  # (a drop of nothing still copies a frame read in chunks into one)
                frame = frame.drop(drop)
        out[table] = RawTable(
            table, label, frame, text_cells=text, first_row_line=2 if text else 1, unread=unread
        )
    if scope is not None and scope.no_case_rows:
        _no_case_rows(out)
    else:
        _reviewed_cases(out, scanned.get("cases", []), cfg, scope)
    if scope is not None and scope.case_ids:
        _only_cases(out, cfg, scope.case_ids)
    elif scope is not None and not scope.is_all:
        _keep_children(out, cfg, "events", "case_id", "cases", "case_id")  # events of the cases read
    return out


def _only_cases(out: dict[str, RawTable], cfg: SourceConfig, case_ids: tuple[str, ...]) -> None:
    """A scope of given cases on a folder: CSV tables are read whole (no pushdown), so cut every
    table to those cases here too; nobody reads such a load's row numbers (it shows one case)."""
    ids = pl.Series(list(case_ids), dtype=pl.String).implode()
    for table in ("cases", "events", "qa_reviews"):
        raw = out.get(table)
        key = cfg.source_column(table, "case_id")
        if raw is not None and raw.frame is not None and key in raw.frame.columns:
            raw.frame = raw.frame.filter(pl.col(key).cast(pl.String).is_in(ids))
    shifts = out.get("shifts")
    if shifts is not None and shifts.frame is not None:
        shifts.frame = shifts.frame.clear()
    _keep_children(out, cfg, "qa_criteria", "review_id", "qa_reviews", "review_id", text_too=True)


def _no_case_rows(out: dict[str, RawTable]) -> None:
    """A scope of no case rows: the cases table's columns only (Parquet read none; a CSV file is
    read whole and cut here), marked so that validation does not take it for an empty table."""
    cs = out.get("cases")
    if cs is not None and cs.frame is not None:
        cs.frame = cs.frame.clear()
        cs.rows_read = False


def _reviewed_cases(
    out: dict[str, RawTable], sources: list[tuple[str, bool]], cfg: SourceConfig, scope: Scope | None
) -> None:
    """With a time scope, add the cases reviewed in the window but resolved before it (the
    quality of a queue needs them; SQL sources do this in the query, see ``case_conditions``)."""
    if scope is None or (scope.since is None and scope.until is None) or not sources:
        return
    cs, qa = out.get("cases"), out.get("qa_reviews")
    if cs is None or qa is None or cs.frame is None or qa.frame is None or cs.text_cells:
        return
    key_c, key_q = cfg.source_column("cases", "case_id"), cfg.source_column("qa_reviews", "case_id")
    if key_c not in cs.frame.columns or key_q not in qa.frame.columns:
        return
    reviewed = qa.frame.lazy().select(pl.col(key_q)).drop_nulls().unique()
    if qa.frame.schema[key_q] == cs.frame.schema[key_c]:
        # an anti-join hashes the smaller side (the reviewed ids), not every case id read
        read = cs.frame.lazy().select(pl.col(key_c).alias(key_q))
        missing = reviewed.join(read, on=key_q, how="anti").collect().get_column(key_q)
    else:
        missing = reviewed.filter(~pl.col(key_q).is_in(cs.frame[key_c].implode())).collect().get_column(key_q)
    if missing.len() == 0:
        return
    only_dims = Scope(**scope.dimensions(), unread=scope.unread)
    extra = []
    for source, hive in sources:
        lf = pl.scan_parquet(source, hive_partitioning=hive) if hive else pl.scan_parquet(source)
        pred = frame_filter("cases", lf.collect_schema(), cfg, only_dims, cfg.timezone)
        lf = lf.filter(pl.col(key_c).is_in(missing.implode()))
        drop = scope.unread_sources(cfg, lf.collect_schema().names())
        extra.append((lf.filter(pred) if pred is not None else lf).drop(drop).collect())
    if any(e.height for e in extra):
        cs.frame = pl.concat([cs.frame, *extra], how="diagonal_relaxed")


def _keep_children(
    out: dict[str, RawTable],
    cfg: SourceConfig,
    child: str,
    key: str,
    parent: str,
    parent_key: str,
    *,
    text_too: bool = False,
) -> None:
    """Keep only the rows of ``child`` whose ``key`` is a ``parent_key`` of a ``parent`` row that
    was read (Parquet sources; SQL sources do this in the query, see ``table_conditions``)."""
    ch, pa = out.get(child), out.get(parent)
    if ch is None or pa is None or ch.frame is None or pa.frame is None or (ch.text_cells and not text_too):
        return
    k, pk = cfg.source_column(child, key), cfg.source_column(parent, parent_key)
    if k in ch.frame.columns and pk in pa.frame.columns:
        ch.frame = ch.frame.filter(pl.col(k).is_in(pa.frame[pk].implode()))


# ---------------------------------------------------------------- SQL


def sqlalchemy_url(cfg: SourceConfig) -> str:
    """The URL to open: SQLite files read-only (``mode=ro``)."""
    url = cfg.location
    if url.startswith("sqlite:///") and "mode=ro" not in url:
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            return f"sqlite:///file:{path}?mode=ro&uri=true"
    return url


def _pg_options(statement_timeout_ms: int) -> str:
    """PostgreSQL session settings of every connection tsdash opens: read-only, the statement
    timeout, UTC, and no synchronized sequential scans. With them on (the default), a scan of a
    table bigger than a quarter of shared_buffers starts where another session's scan is, mid-table,
    so rows come back in a rotated order; validation keeps the FIRST row of a repeated id, so the
    row kept would depend on what else the server was doing. Off, a plain scan reads in physical
    order, as the two-halves read of big cases tables does."""
    return (
        f"-c default_transaction_read_only=on -c statement_timeout={statement_timeout_ms} "
        "-c TimeZone=UTC -c synchronize_seqscans=off"
    )


def make_engine(cfg: SourceConfig):
    """A read-only SQLAlchemy engine for the source."""
    from sqlalchemy import create_engine, event

    url = sqlalchemy_url(cfg)
    kwargs: dict = {}
    if url.startswith("sqlite:") and "mode=ro" in url:
        path = url.split("file:", 1)[1].split("?", 1)[0]
        if not os.path.exists(path):
            raise SourceError(
                f"SQLite file {path} does not exist. Run `make demo` (or `tsdash demo --out {path}`) "
                "to create the demo database, or point TSDASH_SOURCE at your data."
            )
    if url.startswith("postgresql"):
        ms = int(cfg.statement_timeout_s * 1000)
        kwargs["connect_args"] = {
            "options": _pg_options(ms),
            "connect_timeout": 5,
        }
    try:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    except Exception as exc:
        raise SourceError(f"{mask_url(cfg.location)}: not a usable database URL ({exc}).") from None
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _ro(dbapi_conn, _):  # belt and braces besides mode=ro
            dbapi_conn.execute("PRAGMA query_only = ON")

    return engine


def _friendly_db_error(cfg: SourceConfig, exc: Exception) -> str:
    text = (
        str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if str(exc).strip()
        else type(exc).__name__
    )
    low = text.lower()
    where = mask_url(cfg.location)
    if "password authentication failed" in low or "access denied" in low:
        return f"{where}: the database refused the user name or password. Check the credentials in .streamlit/secrets.toml [connections.tsdash] or TSDASH_DATABASE_URL."
    if (
        "could not translate host" in low
        or "connection refused" in low
        or "timeout expired" in low
        or "could not connect" in low
    ):
        return f"{where}: the database server cannot be reached ({text}). Check host and port, and that the server is running."
    if "does not exist" in low and "database" in low:
        return f"{where}: {text}. Check the database name in the URL."
    if "canceling statement due to statement timeout" in low:
        return f"{where}: a query took longer than the statement timeout ({cfg.statement_timeout_s:g} s). Narrow the date window or raise [source] statement_timeout_s."
    return f"{where}: {text}"


def adbc_connect(cfg: SourceConfig, *, autocommit: bool = False):
    """An ADBC (Arrow-native, 3-8x faster than row-wise drivers) read-only connection for SQLite
    and PostgreSQL sources, or None for other dialects or when the driver is not installed.

    ``autocommit=True``: the driver opens no transaction of its own (PostgreSQL: so that the
    caller can open one with ``BEGIN ...``, see :class:`_PgSplit`; SQLite: each statement is its
    own read transaction, see :class:`_SqliteSplit`). By default, as DB-API wants, the driver
    begins a transaction (PostgreSQL: READ COMMITTED; SQLite: deferred, whose first read fixes
    its snapshot) that lasts until the connection is closed."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(cfg.location)
    except Exception:
        return None
    backend = url.get_backend_name()
    try:
        if backend == "sqlite" and url.database and url.database != ":memory:":
            import adbc_driver_sqlite.dbapi as adbc_sqlite

            return adbc_sqlite.connect(f"file:{url.database}?mode=ro", autocommit=autocommit)
        if backend == "postgresql":
            from urllib.parse import quote

            import adbc_driver_postgresql.dbapi as adbc_pg

            ms = int(cfg.statement_timeout_s * 1000)
            options = _pg_options(ms)
            base = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
            extra = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in url.query.items())
            uri = f"{base}?options={quote(options, safe='')}&connect_timeout=5" + (
                f"&{extra}" if extra else ""
            )
            return adbc_pg.connect(uri, autocommit=autocommit)
    except Exception:  # no driver, or it cannot connect: the SQLAlchemy path reads (and reports errors)
        return None
    return None


# A result of more record batches than this is made contiguous after the fetch.
_MAX_CHUNKS = 64


def _fetch_adbc(conn, sql: str, params: tuple = ()) -> pl.DataFrame:
    """The result of ``sql`` as a frame. SQLite's driver returns batches of 1,024 rows, and
    ``pl.from_arrow`` keeps a table's batches as chunks: 1M cases in ~980 chunks, on which every
    later step (validation, each page view) is slower than on contiguous columns (the 1M
    Overview warm: 195 ms vs 104 ms from Parquet's 8 row groups). Such a frame is rechunked here,
    in the fetching thread (500k cases: ~45 ms); PostgreSQL's few large batches are kept."""
    cur = conn.cursor()
    try:
        cur.execute(sql, params or None)
        frame = pl.from_arrow(cur.fetch_arrow_table())
    finally:
        cur.close()
    if frame.width and frame.n_chunks() > _MAX_CHUNKS:
        frame = frame.rechunk()
    return frame


def _bound_client_side(conn, query) -> str | None:
    """PostgreSQL: the SQL of ``query`` with its parameters bound on the client by psycopg (each
    value quoted by psycopg's own adapters, as its ``ClientCursor`` does), or None when the
    connection is not psycopg 3.

    Why: ADBC reads a result set with binary ``COPY``, which takes no parameters; given bind
    parameters the driver falls back to a row-wise fetch, 2.2x slower (1M cases: 2.28 s against
    1.05 s, benchmarks/profile_load.py; docs/PERFORMANCE.md). The query is still built with
    SQLAlchemy Core and bound parameters; only the binding moves from the server to the driver.
    """
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return None
    raw = getattr(conn.connection, "driver_connection", None)
    if not isinstance(raw, psycopg.Connection):
        return None
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    if not compiled.params:
        return compiled.string.replace("%%", "%")
    return psycopg.ClientCursor(raw).mogrify(compiled.string, compiled.params)


# ---------------------------------------------------------------- PostgreSQL: cases in two halves
#
# A big PostgreSQL `cases` table is read as two halves by physical position (TID ranges), each
# on its own ADBC connection in its own thread, both connections in ONE snapshot (exported by
# the first, imported by the second: the way `pg_dump -j` reads in parallel). Reading one
# binary COPY keeps about one core busy in the driver (decoding COPY into Arrow: 1.5 s of CPU
# for 1M cases) and most of another in the server (0.8 s); the driver releases the GIL, so two
# halves use two cores: 1M cases 1.58 -> 1.35 s on 2 cores (2.3 s of CPU on 2 cores: 1.15 s is
# the floor there; with more cores each half could have a client and a server core, not measured).
#
# The result is the rows one query returns, in physical order: the low half (pages [0, B))
# first, then the high half (pages [B, end), open-ended so that no page is missed when the table
# grew after B was measured). The order matters: validation keeps the FIRST row of a repeated
# case_id. (One plain query on a table bigger than a quarter of shared_buffers may start its
# sequential scan mid-table, where an earlier scan left off: synchronize_seqscans. Every
# connection tsdash opens turns that off (_pg_options), so that every table, and the one query
# the halves fall back to, come in physical order too.) Anything that goes wrong falls back to
# the one query.

PG_SPLIT_MIN_BYTES = 32 * 1024 * 1024
"""Smallest `cases` heap read in two halves: pg_relation_size, the main fork (exact and current,
unlike `reltuples`: -1 before the first VACUUM/ANALYZE, an estimate after). read_sql of `cases`
alone on an idle 2-core machine, local server, medians of 9 alternating runs, one query -> two
halves: 4.7 MB (25k cases) 93 -> 97 ms, 9 MB 131 -> 127, 18 MB 214 -> 196, 37 MB (200k) 364 ->
324, 73 MB 667 -> 577, 191 MB (1M) 1583 -> 1353 ms. From 32 MB the gain is 10% or more and
tens of ms, worth a second server connection; below, a few ms. (With both cores busy the halves
gain nothing.) Tests lower it."""

PG_SPLIT_MIN_SERVER = 140000  # TID Range Scan (`ctid >= ... AND ctid < ...`) exists since PostgreSQL 14

_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")


def _pg_split_blocks(conn, cfg: SourceConfig, scope: Scope | None) -> int | None:
    """The page count of the `cases` table when it is worth reading in two halves (a plain
    table, relkind 'r', of at least PG_SPLIT_MIN_BYTES on PostgreSQL >= 14), else None. A scope
    of given cases reads a few rows by id: one query."""
    from sqlalchemy import text

    if scope is not None and scope.case_ids:
        return None
    name = cfg.table_name("cases")
    sql = text(
        "SELECT c.relkind::text, pg_relation_size(c.oid), current_setting('block_size')::int, "
        "current_setting('server_version_num')::int FROM pg_class c WHERE c.oid = to_regclass("
        + ("quote_ident(:schema) || '.' || " if cfg.db_schema else "")
        + "quote_ident(:name))"
    )
    params = {"name": name, **({"schema": cfg.db_schema} if cfg.db_schema else {})}
    try:
        row = conn.execute(sql, params).one_or_none()
    except Exception:  # a server that speaks the protocol but lacks these functions: one query
        conn.rollback()  # nothing read yet; the next statement begins a fresh transaction
        return None
    if row is None:
        return None
    relkind, size, block, version = row
    if relkind != "r" or version < PG_SPLIT_MIN_SERVER or size < PG_SPLIT_MIN_BYTES or not block:
        return None
    blocks = size // block
    return blocks if blocks >= 2 else None


def _pg_exec(conn, sql: str) -> list[tuple]:
    """Run a statement on an ADBC connection; its rows (a control statement: not ``_fetch_adbc``,
    which benchmarks/profile_load.py times as a table read)."""
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return cur.fetchall() if cur.description else []
    finally:
        cur.close()


def _pg_end(conn) -> None:
    """Roll back a connection's explicit transaction and close it (closing alone would roll back
    too; the explicit ROLLBACK ends the transaction even if closing fails)."""
    try:
        _pg_exec(conn, "ROLLBACK")
    except Exception:
        pass
    finally:
        conn.close()


class _PgSplit:
    """What reading `cases` in two halves needs: the first ADBC connection, in a REPEATABLE READ
    READ ONLY transaction whose snapshot is exported and which stays open for the whole read
    (every table comes from that snapshot), and a second connection, opened in the background
    meanwhile (an ADBC connection takes ~40 ms to open: the driver loads the type catalogue)."""

    def __init__(self, cfg: SourceConfig, blocks: int):
        from concurrent.futures import ThreadPoolExecutor

        self.blocks = blocks
        self.first = self.snapshot = None
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tsdash-pg-connect")
        self._pending = pool.submit(adbc_connect, cfg, autocommit=True)
        pool.shutdown(wait=False)
        conn = adbc_connect(cfg, autocommit=True)
        if conn is None:
            return
        try:
            # autocommit: the driver sends no BEGIN of its own, so this one is the transaction's
            # first statement and sets its isolation level
            _pg_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = str(_pg_exec(conn, "SELECT pg_export_snapshot()")[0][0])
            if not _SNAPSHOT_ID.fullmatch(snapshot):
                raise ValueError(f"unexpected snapshot id {snapshot!r}")
        except Exception:
            _pg_end(conn)
            return
        self.first, self.snapshot = conn, snapshot

    def second(self):
        """The second connection, in a REPEATABLE READ READ ONLY transaction that sees exactly
        the first one's snapshot; None when it cannot be had (asked for once)."""
        pending, self._pending = self._pending, None
        conn = _connection_of(pending)
        if conn is None or self.snapshot is None:
            return None
        try:
            _pg_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            _pg_exec(conn, f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
            return conn
        except Exception:
            _pg_end(conn)
            return None

    def close(self) -> None:
        conn = _connection_of(self._pending)
        if conn is not None:
            conn.close()
        if self.first is not None:
            _pg_end(self.first)


def _connection_of(pending):
    """The connection a background ``adbc_connect`` opened (waiting for it), or None."""
    if pending is None:
        return None
    try:
        return pending.result()
    except Exception:
        return None


def _pg_read_halves(split: _PgSplit, query, bind) -> pl.DataFrame | None:
    """``query`` read as two TID-range halves on the split's two connections, in two threads
    (ADBC releases the GIL while it reads), concatenated low half first; None when anything
    fails (the caller then runs the one query on the first connection).

    ``bind(query) -> (sql, params)``. The first connection's half runs under a savepoint, so
    that a failure leaves its transaction (and snapshot) usable for the one query and the
    tables after it."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import text

    half = split.blocks // 2
    try:
        low = bind(query.where(text(f"ctid >= '(0,0)'::tid AND ctid < '({half},0)'::tid")))
        high = bind(query.where(text(f"ctid >= '({half},0)'::tid")))
    except Exception:
        return None
    first, second = split.first, split.second()
    if second is None:
        return None
    try:
        try:
            _pg_exec(first, "SAVEPOINT tsdash_halves")
        except Exception:
            return None
        try:
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="tsdash-pg-half") as pool:
                parts = [pool.submit(_fetch_adbc, c, *sp) for c, sp in ((first, low), (second, high))]
                # leaving the block waits for both halves, even when one raised: after it,
                # neither connection is in use by a thread
            a, b = (p.result() for p in parts)
            if a.schema != b.schema:
                # one query has one schema; a relaxed concat would cast to a supertype that
                # the one query would not have given
                raise TypeError("the halves' schemas differ")
            frame = pl.concat([a, b], how="vertical")  # low half first: physical order
            _pg_exec(first, "RELEASE SAVEPOINT tsdash_halves")
            return frame
        except Exception:
            try:
                _pg_exec(first, "ROLLBACK TO SAVEPOINT tsdash_halves")
            except Exception:
                pass  # a broken connection: the one query fails too and falls back to SQLAlchemy
            return None
    finally:
        _pg_end(second)


# ---------------------------------------------------------------- SQLite: cases in two halves
#
# A big SQLite `cases` table is read as two rowid halves, each on its own ADBC connection in
# its own thread (the driver releases the GIL while SQLite steps: the 1M cases of the pages'
# load 1.8 -> 1.2-1.3 s, load average ~1). Two SQLite connections cannot share a snapshot, so
# the read proves that theirs are the same one:
#
# * WAL databases only. A reader's snapshot is fixed by the first read of its transaction (the
#   ADBC connection runs in a deferred transaction: BEGIN, then its first read opens the read
#   transaction, which lasts until ROLLBACK) and stays fixed whatever others commit.
# * A third connection (autocommit: each statement its own read transaction) reads
#   `PRAGMA data_version` before either half's transaction has read anything, and again after
#   both have. "The integer values returned by two invocations of PRAGMA data_version from the
#   same connection will be different if changes were committed to the database by any other
#   connection in the interim" -- in any process (sqlite.org/pragma.html#pragma_data_version).
#   The same value twice: nothing was committed between, so both snapshots are the database as
#   of the first invocation. A different value: no second half; every table comes from the
#   first connection's snapshot through the one query, as without a split.
# * All three connections are ADBC's, the one copy of SQLite in this process that holds locks
#   on the file (two copies in one process drop each other's POSIX locks; docs/DEPLOYMENT.md).
# * The first connection reads every other table too, in the snapshot of the halves.
#
# The result must be what the one query returns: the same rows in the same order, with the same
# types. The order: the one query's plan must be a full scan of the table (rowid order; an index
# or a multi-index OR would give another order) and each half's a rowid range search or scan
# (EXPLAIN QUERY PLAN, checked before reading). The types: the ADBC driver infers each column's
# type from its first batch (1024 rows), converting values read during that inference itself
# (a REAL in a text column becomes "%e" text, e.g. "1.500000e+00") and later values through
# SQLite ("1.5"). The low half's first batch is the one query's when the low half holds at least
# a batch; the high half's first batch is inferred anew, so the halves are kept only when both
# have the same schema, no binary column, and no text value in the high half's first batch has
# the shape of "%e" (where the driver could have converted a REAL differently from the one
# query). Anything else, or any error, falls back to the one query.

SQLITE_SPLIT_MIN_ROWS = 200_000
"""Smallest `cases` table (rowid range, max - min + 1) read in two halves. The first rowids of
the 1M benchmark file read by ADBC as one query vs two halves, medians of 7 alternating runs
(load average ~4, so both cores were partly taken): 50k rows 100 -> 186 ms, 100k 160 -> 175 ms,
200k 307 -> 188 ms. Tests lower it."""

_SQLITE_ROWID_NAMES = ("rowid", "_rowid_", "oid")  # a column of one of these names shadows it

# what C's printf("%e") writes for a double, as the ADBC driver's type inference converts REAL
# values to text: [-]d.dddddde[+-]dd, inf, nan
_PRINTF_E = r"^-?(?:\d\.\d{6}e[+-]\d{2,}|inf|nan)$"


def _sqlite_rowid_name(t) -> str | None:
    """A name for the rowid that no column of ``t`` shadows, or None."""
    taken = {c.name.lower() for c in t.columns}
    return next((n for n in _SQLITE_ROWID_NAMES if n not in taken), None)


def _sqlite_data_version(conn) -> int:
    return int(_pg_exec(conn, "PRAGMA data_version")[0][0])


class _SqliteSplit:
    """What reading SQLite `cases` in two halves needs: the first connection (the read's own,
    reading every table), a second one in the same snapshot (proved by ``PRAGMA data_version``
    on a third, see above), and the rowid range [lo, hi] seen in that snapshot. ``second`` is
    None when the split is not to be done (the table is small, not WAL, or someone committed
    while the snapshots were taken)."""

    def __init__(self, cfg: SourceConfig, first, table: str, rowid: str):
        self.first, self.second = first, None
        self.table, self.rowid = table, rowid
        self.lo = self.hi = 0
        probe = second = None
        try:
            probe = adbc_connect(cfg, autocommit=True)
            if probe is None:
                return
            before = _sqlite_data_version(probe)
            # the first connection's first reads (after `before`): its snapshot from here on
            if str(_pg_exec(first, "PRAGMA journal_mode")[0][0]).lower() != "wal":
                return
            span = f"SELECT min({rowid}), max({rowid}) FROM {table}"
            lo, hi = _pg_exec(first, span)[0]
            if lo is None or hi - lo + 1 < max(SQLITE_SPLIT_MIN_ROWS, 2):
                return
            second = adbc_connect(cfg)
            if second is None or tuple(_pg_exec(second, span)[0]) != (lo, hi):
                return
            if _sqlite_data_version(probe) != before:
                return  # a commit between the two snapshots: one query, on the first
            self.second, second = second, None
            self.lo, self.hi = int(lo), int(hi)
        except Exception:
            return
        finally:
            for c in (probe, second):
                if c is not None:
                    c.close()

    def close(self) -> None:
        if self.second is not None:
            self.second.close()
            self.second = None


def _sqlite_plan(conn, sql: str, params: tuple) -> list[tuple[int, str]]:
    """EXPLAIN QUERY PLAN of a statement: (parent, detail) per line."""
    cur = conn.cursor()
    try:
        cur.execute("EXPLAIN QUERY PLAN " + sql, params or None)
        return [(int(r[1]), str(r[3])) for r in cur.fetchall()]
    finally:
        cur.close()


_SQLITE_SUBQUERY_LINES = (
    "LIST SUBQUERY",
    "CORRELATED LIST SUBQUERY",
    "SCALAR SUBQUERY",
    "CORRELATED SCALAR SUBQUERY",
)


def _sqlite_rowid_order(plan: list[tuple[int, str]], name: str, *, range_ok: bool) -> bool:
    """True when the outer loop of ``plan`` reads table ``name`` in rowid order: a plain
    ``SCAN name`` (or, with ``range_ok``, a rowid range search), besides only subqueries."""
    loops = [d for p, d in plan if p == 0 and not d.startswith(_SQLITE_SUBQUERY_LINES)]
    if len(loops) != 1:
        return False
    (d,) = loops
    return d == f"SCAN {name}" or (
        range_ok and d.startswith(f"SEARCH {name} USING INTEGER PRIMARY KEY (rowid")
    )


def _sqlite_read_halves(split: _SqliteSplit, query, name: str) -> pl.DataFrame | None:
    """``query`` (on table ``name``) read as two rowid halves on the split's two connections
    in two threads, low half first; None when the result could differ from the one query's or
    anything fails (the caller then runs the one query on the first connection)."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import text

    first, second = split.first, split.second
    if second is None:
        return None
    try:
        mid = (split.lo + split.hi) // 2 + 1
        rid = f"{split.table}.{split.rowid}"
        one = compile_for_adbc(query, "sqlite")
        low = compile_for_adbc(query.where(text(f"{rid} < {mid}")), "sqlite")
        high = compile_for_adbc(query.where(text(f"{rid} >= {mid}")), "sqlite")
        if not (
            _sqlite_rowid_order(_sqlite_plan(first, *one), name, range_ok=False)
            and all(_sqlite_rowid_order(_sqlite_plan(first, *h), name, range_ok=True) for h in (low, high))
        ):
            return None
        batch = _sqlite_batch_rows(first)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="tsdash-sqlite-half") as pool:
            parts = [pool.submit(_fetch_adbc, c, *sp) for c, sp in ((first, low), (second, high))]
        a, b = (p.result() for p in parts)
        if a.schema != b.schema or a.height < batch or any(dt == pl.Binary for dt in a.schema.dtypes()):
            return None  # the one query's types could differ (see above)
        texts = [c for c, dt in b.schema.items() if dt == pl.String]
        if (
            texts
            and b.head(batch).select(pl.any_horizontal(pl.col(texts).str.contains(_PRINTF_E)).any()).item()
        ):
            return None  # a REAL converted to text by the driver's inference, perhaps
        return pl.concat([a, b], how="vertical")
    except Exception:
        return None
    finally:
        split.close()


def _sqlite_batch_rows(conn) -> int:
    """Rows of the ADBC SQLite driver's first batch (its type inference): 1024 by default."""
    cur = conn.cursor()
    try:
        return int(cur.adbc_statement.get_option_int("adbc.sqlite.query.batch_rows"))
    finally:
        cur.close()


def read_sql(
    cfg: SourceConfig, engine=None, scope: Scope | None = None, tables: Iterable[str] | None = None
) -> dict[str, RawTable]:
    """Read every contract table present in the database (of ``tables``, when given).

    Table discovery and SQL text come from SQLAlchemy (any dialect); rows come through ADBC
    where available (SQLite, PostgreSQL), else through SQLAlchemy. SQLite text that ADBC cannot
    type (a column mixing numbers and text) falls back to SQLAlchemy, so validation still sees
    and reports every cell.

    SQLite: one read at a time in the process, and the SQLAlchemy connections closed before it
    ends (see ``_SQLITE_READS``).
    """
    if not sqlalchemy_url(cfg).startswith("sqlite"):
        return _read_sql(cfg, engine or make_engine(cfg), scope, tables)
    with _SQLITE_READS:
        own = engine is None
        engine = engine or make_engine(cfg)
        try:
            return _read_sql(cfg, engine, scope, tables)
        finally:
            if own:
                engine.dispose()  # close Python's SQLite connections now, inside the lock


# Two copies of SQLite live in this process: Python's (SQLAlchemy's catalogue queries and the
# row-wise fallback) and the ADBC driver's (the rows). POSIX advisory locks belong to the process,
# so when one copy closes its descriptor of the database or its -shm file, the locks the other
# copy holds on that file are gone ("How To Corrupt An SQLite Database File", 2.2.1): a WAL
# reader's read mark among them, which keeps a writer's checkpoint from overwriting the pages it
# is reading. A read therefore must not overlap a close by the other copy. Closes came from two
# places: another session's read ending, and -- more often -- a garbage collection, in whatever
# thread, of an earlier read's engine, whose pooled sqlite3 connection was closed whenever the
# collector got to it. So SQLite reads take this lock (one at a time: each already uses both
# cores for the cases' two halves), and a read disposes of its engine, closing the sqlite3
# connections, before it lets go; the ADBC connections are closed inside it too.
_SQLITE_READS = threading.Lock()


def _read_sql(
    cfg: SourceConfig, engine, scope: Scope | None, tables: Iterable[str] | None
) -> dict[str, RawTable]:
    from sqlalchemy import MetaData, Table, inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    out: dict[str, RawTable] = {}
    adbc = None
    split: _PgSplit | None = None
    sqlite_split: _SqliteSplit | None = None
    try:
        with engine.connect() as conn:
            insp = inspect(conn)
            names = set(insp.get_table_names(schema=cfg.db_schema)) | set(
                insp.get_view_names(schema=cfg.db_schema)
            )
            is_sqlite = conn.dialect.name == "sqlite"
            backend = conn.dialect.name
            # a big PostgreSQL cases table: read in two halves, every table from one snapshot
            # held by the first connection for the whole read (see _pg_read_halves)
            no_rows = scope is not None and scope.no_case_rows
            if (
                backend == "postgresql"
                and "cases" in _wanted(tables)
                and cfg.table_name("cases") in names
                and not no_rows
            ):
                blocks = _pg_split_blocks(conn, cfg, scope)
                if blocks is not None:
                    split = _PgSplit(cfg, blocks)
                    adbc = split.first
                    if adbc is None:  # no snapshot to be had: the one query, as for a small table
                        split.close()
                        split = None
            if adbc is None:
                adbc = adbc_connect(cfg)
            cases_t = None
            qa_name = cfg.table_name("qa_reviews")
            need_qa = qa_name in names and scope is not None and not scope.is_all
            # every table this read needs reflected at once: a few catalogue queries in all,
            # not a few per table (round trips count on a remote warehouse)
            only = {cfg.table_name(tb) for tb in _wanted(tables)} & names | ({qa_name} if need_qa else set())
            md = MetaData()
            md.reflect(conn, schema=cfg.db_schema, only=sorted(only), views=True, resolve_fks=False)

            def reflected(name: str) -> Table:
                return md.tables[f"{cfg.db_schema}.{name}" if cfg.db_schema else name]

            qa_t = reflected(qa_name) if need_qa else None
            cases_name = cfg.table_name("cases")
            if (
                is_sqlite
                and adbc is not None
                and "cases" in _wanted(tables)
                and cases_name in names
                and not (scope is not None and scope.case_ids)
                and not no_rows
            ):
                # a big cases table: two rowid halves in one proved snapshot (see _SqliteSplit);
                # set up before the first connection reads anything
                ct = reflected(cases_name)
                rowid = _sqlite_rowid_name(ct)
                if rowid is not None:
                    qualified = conn.dialect.identifier_preparer.format_table(ct)
                    sqlite_split = _SqliteSplit(cfg, adbc, qualified, rowid)
            for table in _wanted(tables):
                name = cfg.table_name(table)
                if name not in names:
                    continue
                label = f"table {cfg.db_schema + '.' if cfg.db_schema else ''}{name}"
                t = reflected(name)
                if table == "cases":
                    cases_t = t
                unread: tuple[str, ...] = ()
                if table == "cases" and scope is not None and scope.unread:
                    unread = scope.unread
                    drop = set(scope.unread_sources(cfg, [c.name for c in t.c]))
                    query = select(*(c for c in t.c if c.name not in drop))
                else:
                    query = select(t)
                if scope is not None and not scope.is_all:
                    conds = (
                        case_conditions(t, cfg, scope, is_sqlite, qa_t)
                        if table == "cases"
                        else table_conditions(table, t, cases_t, cfg, scope, is_sqlite, qa_t)
                    )
                    if conds:
                        query = query.where(*conds)
                frame = None
                if adbc is not None:

                    def bind(q):
                        bound = _bound_client_side(conn, q) if backend == "postgresql" else None
                        return (bound, ()) if bound else compile_for_adbc(q, backend)

                    if table == "cases" and split is not None:
                        frame = _pg_read_halves(split, query, bind)
                    if table == "cases" and sqlite_split is not None:
                        frame = _sqlite_read_halves(sqlite_split, query, t.name)
                    if frame is None:
                        try:
                            frame = _fetch_adbc(adbc, *bind(query))
                        except Exception:  # e.g. SQLite column mixing types: read it row-wise below
                            frame = None
                if frame is None:
                    frame = pl.read_database(query, conn, infer_schema_length=None)
                if is_sqlite:
                    # SQLite keeps timestamps as text: parse them like CSV cells
                    frame = _sqlite_text(frame, table)
                out[table] = RawTable(
                    table, label, frame, rows_read=not (table == "cases" and no_rows), unread=unread
                )
    except SourceError:
        raise
    except SQLAlchemyError as exc:
        raise SourceError(_friendly_db_error(cfg, exc)) from None
    finally:
        if sqlite_split is not None:
            sqlite_split.close()  # the second connection (the first is adbc, closed below)
        if split is not None:
            split.close()  # ends the snapshot's transaction and closes its connection (adbc)
        elif adbc is not None:
            adbc.close()
    return out


def _sqlite_text(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    spec = CONTRACT[table]
    casts = [
        pl.col(c).cast(pl.String)
        for c in frame.columns
        if c in spec.names and spec.column(c).kind in ("datetime", "date") and frame.schema[c] != pl.String
    ]
    return frame.with_columns(casts) if casts else frame


def read_source(
    cfg: SourceConfig, scope: Scope | None = None, tables: Iterable[str] | None = None
) -> dict[str, RawTable]:
    """Read every contract table the source has (absent optional tables are simply missing);
    with a :class:`~tsdash.sources.scope.Scope`, only the rows it needs (pushdown); with
    ``tables``, only those contract tables (the others are not opened)."""
    if is_url(cfg.location):
        return read_sql(cfg, scope=scope, tables=tables)
    return read_folder(cfg, scope, tables)


def _wanted(tables: Iterable[str] | None) -> tuple[str, ...]:
    """The contract tables to read, in contract order."""
    if tables is None:
        return TABLE_NAMES
    keep = set(tables)
    return tuple(t for t in TABLE_NAMES if t in keep)
