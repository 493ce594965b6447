"""Write contract tables to SQLite, PostgreSQL, or a folder of Parquet / CSV files.

Used by ``tsdash demo`` (and benchmarks) to put generated data where tsdash reads it.

Storage conventions (what the readers expect):

* **SQLite** (``sqlite:///path.sqlite`` or a path ending in ``.sqlite``, ``.sqlite3`` or ``.db``):
  timestamps are ISO-8601 **text in UTC without an offset** (``'YYYY-MM-DD HH:MM:SS.ffffff'``,
  i.e. naive UTC; SQLAlchemy's own SQLite DATETIME format), declared ``TIMESTAMP``; dates are
  ``'YYYY-MM-DD'`` text declared ``DATE``; booleans are integers 0/1 declared ``BOOLEAN``.
  The whole file is written to a temporary file next to the target and atomically renamed over
  it, so a half-written database never exists; the result is in WAL journal mode.
* **PostgreSQL** (``postgresql+psycopg://...`` or any ``postgresql`` URL): timestamps are
  ``timestamptz``, dates ``date``, booleans ``boolean``. All tables are replaced in one
  transaction: readers see the old tables or the new ones, never a mix.
* **Folder**: one file per table, ``<table>.parquet`` (default) or ``<table>.csv``
  (``fmt="csv"``: UTF-8 with a header, timestamps ISO-8601 with a ``Z`` suffix, e.g.
  ``2026-03-01T14:03:27.123456Z``, booleans ``true``/``false``, empty cell = null). Each file is
  written to a temporary name and renamed; a file of the other format for the same table is
  removed so the folder is never ambiguous.

Indexes for the time-filtered read path: ``cases(created_at)``, ``cases(resolved_at)``,
``qa_reviews(reviewed_at)``, ``events(case_id)`` (SQL targets only). No primary keys or unique
constraints are created, so deliberately bad data (repeated ids) can be written for tests.

Rows are written in bulk through ADBC (``adbc_driver_sqlite`` / ``adbc_driver_postgresql``,
Arrow in, no per-row Python); for SQLite the standard library ``sqlite3`` is a fallback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import polars as pl

from tsdash.schema import CONTRACT

SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
SQLITE_TS_FORMAT = "%Y-%m-%d %H:%M:%S%.6f"
CSV_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"
INDEXES: dict[str, tuple[str, ...]] = {
    "cases": ("created_at", "resolved_at"),
    "qa_reviews": ("reviewed_at",),
    "events": ("case_id",),
}
_IF_EXISTS = ("replace", "fail")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class WriteError(ValueError):
    """The target cannot be written; the message says which target and what to do."""


def write_tables(
    tables: dict[str, pl.DataFrame],
    out: str,
    *,
    if_exists: str = "replace",
    fmt: str | None = None,
    schema: str | None = None,
) -> None:
    """Write ``tables`` (name -> frame) to ``out``.

    ``out`` is a SQLAlchemy URL (``sqlite:///path.sqlite``, ``postgresql+psycopg://...``), a path
    ending in ``.sqlite`` / ``.sqlite3`` / ``.db`` (a SQLite file), or a folder (created if absent)
    that gets one file per table: Parquet unless ``fmt="csv"``.

    ``if_exists``: ``"replace"`` (default) replaces the SQLite file, the PostgreSQL tables or the
    table files; ``"fail"`` raises :class:`WriteError` if any of them exists.
    ``schema``: PostgreSQL schema to write into (created if absent); default ``public``.
    """
    if if_exists not in _IF_EXISTS:
        raise WriteError(f"if_exists must be one of {', '.join(_IF_EXISTS)}; got {if_exists!r}.")
    if fmt not in (None, "parquet", "csv"):
        raise WriteError(f"fmt must be 'parquet' or 'csv'; got {fmt!r}.")
    for name in tables:
        if not _NAME.match(name):
            raise WriteError(f"table name {name!r} is not a plain SQL identifier (letters, digits, _).")
    out = str(out)
    if "://" in out:
        scheme = out.split("://", 1)[0].lower()
        if scheme.startswith("sqlite"):
            path = _sqlite_path(out)
            _write_sqlite(tables, path, if_exists)
        elif scheme.startswith("postgresql") or scheme.startswith("postgres"):
            _write_postgres(tables, out, if_exists, schema)
        else:
            raise WriteError(
                f"cannot write to {_masked(out)}: only sqlite:/// and postgresql:// URLs are supported "
                "(or give a folder path for Parquet/CSV files)."
            )
        return
    if out.lower().endswith(SQLITE_SUFFIXES):
        _write_sqlite(tables, Path(out), if_exists)
        return
    _write_folder(tables, Path(out), fmt or "parquet", if_exists)


# --------------------------------------------------------------------------- helpers


def _masked(url: str) -> str:
    from tsdash.config import mask_url

    return mask_url(url)


def _sqlite_path(url: str) -> Path:
    rest = url.split("://", 1)[1]
    if not rest.startswith("/"):
        raise WriteError(f"{url}: expected sqlite:///relative/path or sqlite:////absolute/path.")
    path = rest[1:].split("?", 1)[0]
    if path.startswith("file:"):
        path = path[len("file:") :]
    if not path or path == ":memory:":
        raise WriteError(
            f"{url}: an in-memory database cannot be written for later reading; give a file path."
        )
    return Path(path)


def _kind(table: str, column: str, dtype: pl.DataType) -> str:
    """Contract kind of a column (extra columns: derived from the dtype)."""
    spec = CONTRACT.get(table)
    if spec is not None and column in spec.names:
        return spec.column(column).kind
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Date:
        return "date"
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    return "str"


def _canonical(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """Cast contract columns to their canonical dtype; timestamps to UTC (naive read as UTC)."""
    exprs = []
    for col, dtype in df.schema.items():
        kind = _kind(table, col, dtype)
        e = pl.col(col)
        if kind == "datetime":
            if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
                e = e.dt.replace_time_zone("UTC")
            elif isinstance(dtype, pl.Datetime):
                e = e.dt.convert_time_zone("UTC")
            e = e.cast(pl.Datetime("us", "UTC"))
        elif kind == "date":
            e = e.cast(pl.Date)
        elif kind == "bool":
            e = e.cast(pl.Boolean)
        elif kind == "int":
            e = e.cast(pl.Int64)
        elif kind == "float":
            e = e.cast(pl.Float64)
        else:
            e = e.cast(pl.String)
        exprs.append(e.alias(col))
    return df.select(exprs)


def _arrow(df: pl.DataFrame, views: bool = True):
    """Arrow table for ADBC. ``views``: strings as zero-copy ``string_view`` (ADBC drivers >= 1.x
    recent); else ``large_string`` (a copy; for older drivers)."""
    return df.to_arrow(compat_level=pl.CompatLevel.newest() if views else pl.CompatLevel.oldest())


def _with_view_fallback(fill) -> None:
    """Run ``fill(views)`` with string views; if the driver rejects them, once more without."""
    try:
        fill(True)
    except WriteError:
        raise
    except Exception as first:
        if "view" not in str(first).lower() and "not implemented" not in str(first).lower():
            raise
        fill(False)


# --------------------------------------------------------------------------- SQLite

_SQLITE_TYPES = {
    "str": "TEXT",
    "datetime": "TIMESTAMP",
    "date": "DATE",
    "float": "REAL",
    "int": "INTEGER",
    "bool": "BOOLEAN",
}


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_frame(table: str, df: pl.DataFrame) -> pl.DataFrame:
    df = _canonical(table, df)
    exprs = []
    for col, dtype in df.schema.items():
        kind = _kind(table, col, dtype)
        e = pl.col(col)
        if kind == "datetime":
            e = e.dt.strftime(SQLITE_TS_FORMAT)
        elif kind == "date":
            e = e.dt.strftime("%Y-%m-%d")
        elif kind == "bool":
            e = e.cast(pl.Int64)
        exprs.append(e.alias(col))
    return df.select(exprs)


def _sqlite_ddl(table: str, df: pl.DataFrame) -> str:
    cols = ", ".join(f"{_qi(c)} {_SQLITE_TYPES[_kind(table, c, t)]}" for c, t in df.schema.items())
    return f"CREATE TABLE {_qi(table)} ({cols})"


def _index_ddl(table: str, df: pl.DataFrame, qualified: str) -> list[str]:
    return [
        f"CREATE INDEX {_qi(f'ix_{table}_{col}')} ON {qualified} ({_qi(col)})"
        for col in INDEXES.get(table, ())
        if col in df.columns
    ]


def _write_sqlite(tables: dict[str, pl.DataFrame], path: Path, if_exists: str) -> None:
    path = path.expanduser()
    if if_exists == "fail" and path.exists():
        raise WriteError(f"{path} already exists; remove it or write with if_exists='replace'.")
    if path.exists() and path.is_dir():
        raise WriteError(
            f"{path} is a folder, not a SQLite file; give a file path such as {path / 'tsdash.sqlite'}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    for p in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    try:
        try:
            import adbc_driver_sqlite.dbapi as adbc  # noqa: F401
        except ImportError:  # pragma: no cover - adbc is a dependency; stdlib fallback
            _sqlite_fill_stdlib(tables, tmp)
        else:

            def fill(views: bool) -> None:
                tmp.unlink(missing_ok=True)
                _sqlite_fill_adbc(tables, tmp, views)

            _with_view_fallback(fill)
        _sqlite_finish(tables, tmp)
        # stale WAL/SHM files of the file being replaced must not be applied to the new one
        for p in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        for p in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)


def _sqlite_fill_adbc(tables: dict[str, pl.DataFrame], tmp: Path, views: bool = True) -> None:
    import adbc_driver_sqlite.dbapi as adbc

    conn = adbc.connect(str(tmp))
    try:
        cur = conn.cursor()
        for name, df in tables.items():
            frame = _sqlite_frame(name, df)
            cur.execute(_sqlite_ddl(name, frame))
            if frame.height:
                cur.adbc_ingest(name, _arrow(frame, views), mode="append")
        conn.commit()
        cur.close()
    finally:
        conn.close()


def _sqlite_fill_stdlib(tables: dict[str, pl.DataFrame], tmp: Path) -> None:  # pragma: no cover
    import sqlite3

    con = sqlite3.connect(tmp)
    try:
        with con:
            for name, df in tables.items():
                frame = _sqlite_frame(name, df)
                con.execute(_sqlite_ddl(name, frame))
                marks = ", ".join("?" for _ in frame.columns)
                for chunk in frame.iter_slices(100_000):
                    con.executemany(f"INSERT INTO {_qi(name)} VALUES ({marks})", chunk.iter_rows())
    finally:
        con.close()


def _sqlite_finish(tables: dict[str, pl.DataFrame], tmp: Path) -> None:
    """Indexes (after the bulk insert: faster), WAL mode, statistics, fsync."""
    import sqlite3

    con = sqlite3.connect(tmp, isolation_level=None)
    try:
        con.execute("BEGIN")
        for name, df in tables.items():
            for ddl in _index_ddl(name, df, _qi(name)):
                con.execute(ddl)
        con.execute("COMMIT")
        con.execute("ANALYZE")
        mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # pragma: no cover - e.g. a file system without shared memory
            raise WriteError(f"{tmp}: could not switch to WAL journal mode (got {mode}).")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- PostgreSQL

_PG_TYPES = {
    "str": "text",
    "datetime": "timestamptz",
    "date": "date",
    "float": "double precision",
    "int": "bigint",
    "bool": "boolean",
}


def _libpq_uri(url: str) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://``) -> libpq URI for ADBC."""
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except Exception as exc:
        raise WriteError(f"{_masked(url)}: not a valid database URL ({exc}).") from None
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def _write_postgres(tables: dict[str, pl.DataFrame], url: str, if_exists: str, schema: str | None) -> None:
    import adbc_driver_postgresql.dbapi as adbc

    if schema is not None and not _NAME.match(schema):
        raise WriteError(f"schema {schema!r} is not a plain SQL identifier (letters, digits, _).")

    def fill(views: bool) -> None:
        _postgres_fill(tables, url, if_exists, schema, views)

    _with_view_fallback(fill)
    # statistics for the planner (outside the transaction; harmless if it fails)
    prefix = f"{_qi(schema)}." if schema else ""
    try:
        conn = adbc.connect(_libpq_uri(url), autocommit=True)
        try:
            cur = conn.cursor()
            for name in tables:
                cur.execute(f"ANALYZE {prefix}{_qi(name)}")
            cur.close()
        finally:
            conn.close()
    except Exception:  # pragma: no cover
        pass


def _postgres_fill(
    tables: dict[str, pl.DataFrame], url: str, if_exists: str, schema: str | None, views: bool
) -> None:
    """All tables in one transaction (rolled back on any error)."""
    import adbc_driver_postgresql.dbapi as adbc

    prefix = f"{_qi(schema)}." if schema else ""
    try:
        conn = adbc.connect(_libpq_uri(url))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WriteError(
            f"{_masked(url)}: cannot connect ({first}). Check host, port, database and credentials."
        ) from None
    try:
        cur = conn.cursor()
        cur.execute("SET TIME ZONE 'UTC'")
        if schema:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {_qi(schema)}")
        if if_exists == "fail":
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                + ("current_schema()" if not schema else f"'{schema}'")
            )
            existing = {r[0] for r in cur.fetchall()} & set(tables)
            if existing:
                raise WriteError(
                    f"{_masked(url)}: table(s) {', '.join(sorted(existing))} already exist; "
                    "drop them or write with if_exists='replace'."
                )
        for name, df in tables.items():
            frame = _canonical(name, df)
            qualified = prefix + _qi(name)
            cols = ", ".join(f"{_qi(c)} {_PG_TYPES[_kind(name, c, t)]}" for c, t in frame.schema.items())
            cur.execute(f"DROP TABLE IF EXISTS {qualified}")
            cur.execute(f"CREATE TABLE {qualified} ({cols})")
            if frame.height:
                cur.adbc_ingest(name, _arrow(frame, views), mode="append", db_schema_name=schema)
            for ddl in _index_ddl(name, frame, qualified):
                cur.execute(ddl)
        conn.commit()
        cur.close()
    except Exception:
        conn.rollback()
        raise
    finally:
        conn.close()


# --------------------------------------------------------------------------- folders


def _csv_frame(table: str, df: pl.DataFrame) -> pl.DataFrame:
    df = _canonical(table, df)
    exprs = []
    for col, dtype in df.schema.items():
        e = pl.col(col)
        if _kind(table, col, dtype) == "datetime":
            e = e.dt.strftime(CSV_TS_FORMAT)
        exprs.append(e.alias(col))
    return df.select(exprs)


def _write_folder(tables: dict[str, pl.DataFrame], folder: Path, fmt: str, if_exists: str) -> None:
    folder = folder.expanduser()
    if folder.exists() and not folder.is_dir():
        raise WriteError(f"{folder} exists and is not a folder; give a folder path (or a .sqlite file name).")
    ext, other = (".parquet", ".csv") if fmt == "parquet" else (".csv", ".parquet")
    if if_exists == "fail":
        existing = [f"{n}{ext}" for n in tables if (folder / f"{n}{ext}").exists()]
        if existing:
            raise WriteError(
                f"{folder}: {', '.join(existing)} already exist; write with if_exists='replace'."
            )
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        target = folder / f"{name}{ext}"
        tmp = folder / f".{name}{ext}.tmp-{os.getpid()}"
        try:
            if fmt == "parquet":
                _canonical(name, df).write_parquet(tmp, compression="zstd", statistics=True)
            else:
                _csv_frame(name, df).write_csv(tmp, null_value="")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        (folder / f"{name}{other}").unlink(missing_ok=True)
    _fsync_dir(folder)


__all__ = ["write_tables", "WriteError", "SQLITE_TS_FORMAT", "CSV_TS_FORMAT"]
