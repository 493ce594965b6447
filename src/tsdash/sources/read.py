"""Reading raw tables from a source: a folder of CSV/Parquet files, or any SQLAlchemy URL.

Readers return :class:`RawTable` objects: the frame exactly as the source holds it (CSV cells
as text), plus where it came from, so that validation can name the file or table in its
messages. Typing, renaming and the rules live in :mod:`tsdash.validate`.
"""

from __future__ import annotations

import glob
import os
import sys
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
        out[table] = RawTable(table, label, frame, text_cells=text, first_row_line=2 if text else 1)
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
    only_dims = Scope(**scope.dimensions())
    extra = []
    for source, hive in sources:
        lf = pl.scan_parquet(source, hive_partitioning=hive) if hive else pl.scan_parquet(source)
        pred = frame_filter("cases", lf.collect_schema(), cfg, only_dims, cfg.timezone)
        lf = lf.filter(pl.col(key_c).is_in(missing.implode()))
        extra.append((lf.filter(pred) if pred is not None else lf).collect())
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
            "options": f"-c default_transaction_read_only=on -c statement_timeout={ms} -c TimeZone=UTC",
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


def adbc_connect(cfg: SourceConfig):
    """An ADBC (Arrow-native, 3-8x faster than row-wise drivers) read-only connection for SQLite
    and PostgreSQL sources, or None for other dialects or when the driver is not installed."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(cfg.location)
    except Exception:
        return None
    backend = url.get_backend_name()
    try:
        if backend == "sqlite" and url.database and url.database != ":memory:":
            import adbc_driver_sqlite.dbapi as adbc_sqlite

            return adbc_sqlite.connect(f"file:{url.database}?mode=ro")
        if backend == "postgresql":
            from urllib.parse import quote

            import adbc_driver_postgresql.dbapi as adbc_pg

            ms = int(cfg.statement_timeout_s * 1000)
            options = f"-c default_transaction_read_only=on -c statement_timeout={ms} -c TimeZone=UTC"
            base = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
            extra = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in url.query.items())
            uri = f"{base}?options={quote(options, safe='')}&connect_timeout=5" + (
                f"&{extra}" if extra else ""
            )
            return adbc_pg.connect(uri)
    except Exception:  # no driver, or it cannot connect: the SQLAlchemy path reads (and reports errors)
        return None
    return None


def _fetch_adbc(conn, sql: str, params: tuple = ()) -> pl.DataFrame:
    cur = conn.cursor()
    try:
        cur.execute(sql, params or None)
        return pl.from_arrow(cur.fetch_arrow_table())
    finally:
        cur.close()


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


def read_sql(
    cfg: SourceConfig, engine=None, scope: Scope | None = None, tables: Iterable[str] | None = None
) -> dict[str, RawTable]:
    """Read every contract table present in the database (of ``tables``, when given).

    Table discovery and SQL text come from SQLAlchemy (any dialect); rows come through ADBC
    where available (SQLite, PostgreSQL), else through SQLAlchemy. SQLite text that ADBC cannot
    type (a column mixing numbers and text) falls back to SQLAlchemy, so validation still sees
    and reports every cell.
    """
    from sqlalchemy import MetaData, Table, inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    engine = engine or make_engine(cfg)
    out: dict[str, RawTable] = {}
    adbc = None
    try:
        with engine.connect() as conn:
            insp = inspect(conn)
            names = set(insp.get_table_names(schema=cfg.db_schema)) | set(
                insp.get_view_names(schema=cfg.db_schema)
            )
            is_sqlite = conn.dialect.name == "sqlite"
            adbc = adbc_connect(cfg)
            backend = conn.dialect.name
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
            for table in _wanted(tables):
                name = cfg.table_name(table)
                if name not in names:
                    continue
                label = f"table {cfg.db_schema + '.' if cfg.db_schema else ''}{name}"
                t = reflected(name)
                if table == "cases":
                    cases_t = t
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
                    try:
                        bound = _bound_client_side(conn, query) if backend == "postgresql" else None
                        sql, params = (bound, ()) if bound else compile_for_adbc(query, backend)
                        frame = _fetch_adbc(adbc, sql, params)
                    except Exception:  # e.g. SQLite column mixing types: read it row-wise below
                        frame = None
                if frame is None:
                    frame = pl.read_database(query, conn, infer_schema_length=None)
                if is_sqlite:
                    # SQLite keeps timestamps as text: parse them like CSV cells
                    frame = _sqlite_text(frame, table)
                out[table] = RawTable(table, label, frame)
    except SourceError:
        raise
    except SQLAlchemyError as exc:
        raise SourceError(_friendly_db_error(cfg, exc)) from None
    finally:
        if adbc is not None:
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
