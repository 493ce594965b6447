"""Sources: where tsdash reads cases from.

>>> from tsdash.config import Settings
>>> describe_source(Settings().with_source("postgresql+psycopg://lead:pw@db/cases"))
'postgresql+psycopg://lead:***@db/cases'
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from tsdash.config import Settings
from tsdash.dataset import Dataset
from tsdash.schema import REQUIRED_TABLES, TABLE_NAMES
from tsdash.sources.read import SourceError, describe, is_url, make_engine, read_source
from tsdash.sources.scope import Scope

__all__ = [
    "Scope",
    "SourceError",
    "load_dataset",
    "describe_source",
    "data_version",
    "needed_tables",
    "validate_source",
]

# What validating and deriving a table needs besides itself: the required tables (cases and
# agents: every table's ids are checked against them, cases take their team from agents) and,
# for the QA criteria, the reviews their review ids refer to.
_NEEDS: dict[str, tuple[str, ...]] = {"qa_criteria": ("qa_reviews",)}


def needed_tables(tables: Iterable[str] | None) -> tuple[str, ...] | None:
    """The contract tables a load of ``tables`` reads (None: all of them).

    >>> needed_tables(["qa_criteria"])
    ('agents', 'cases', 'qa_reviews', 'qa_criteria')
    """
    if tables is None:
        return None
    want = set(tables)
    unknown = want - set(TABLE_NAMES)
    if unknown:
        raise ValueError(f"unknown table(s) {', '.join(sorted(unknown))}; tables: {', '.join(TABLE_NAMES)}")
    want |= set(REQUIRED_TABLES)
    for t in list(want):
        want |= set(_NEEDS.get(t, ()))
    return tuple(t for t in TABLE_NAMES if t in want)


def describe_source(settings: Settings) -> str:
    """Human label of the configured source (password masked)."""
    return describe(settings.source)


def validate_source(
    settings: Settings, scope: Scope | None = None, tables: Iterable[str] | None = None
) -> Dataset:
    """Read and validate; never raises for data problems (they are in ``ds.report``).

    With ``tables``, only those tables and the ones they need (:func:`needed_tables`) are read
    and validated; the others are empty frames (``ds.read_tables`` lists what was read) and are
    neither reported nor opened, so a broken file of a table not asked for does not matter.

    Raises :class:`SourceError` only when the source itself cannot be opened.
    """
    from tsdash.validate import validate_tables  # tsdash.validate imports tsdash.sources.read

    wanted = needed_tables(tables)
    raw = read_source(settings.source, scope, wanted)
    return validate_tables(raw, settings.source, settings.sla, describe_source(settings), tables=wanted)


def load_dataset(
    settings: Settings, scope: Scope | None = None, tables: Iterable[str] | None = None
) -> Dataset:
    """The validated dataset; raises :class:`SourceError` when the data is not usable
    (the message lists the fatal problems and their fixes).

    With a :class:`Scope`, only the rows the scope needs are read (pushdown); validation then
    reports on those rows only. With ``tables`` (e.g. ``("cases", "agents")``), only those
    tables and the ones they need are read (see :func:`validate_source`)."""
    ds = validate_source(settings, scope, tables)
    if ds.report.fatal:
        raise SourceError("\n".join(i.message for i in ds.report.fatal))
    return ds


@functools.lru_cache(maxsize=8)
def _version_engine(location: str, timeout_s: float):
    """One pooled engine per database for the version probe (it runs on every page run)."""
    from tsdash.config import SourceConfig

    return make_engine(SourceConfig(location=location, statement_timeout_s=timeout_s))


def data_version(settings: Settings) -> str:
    """A cheap fingerprint that changes when the source's data changes.

    Files: sizes and modification times. Databases: row count and latest timestamps of cases.
    """
    loc = settings.source.location
    h = hashlib.sha1()
    if loc.startswith("sqlite:///") or not is_url(loc):
        path = Path(loc[len("sqlite:///") :] if is_url(loc) else loc)
        files = [path, Path(str(path) + "-wal")] if path.is_file() or is_url(loc) else sorted(path.rglob("*"))
        for f in files:
            try:
                st = os.stat(f)
            except OSError:
                continue
            if st.st_size == 0 and str(f).endswith("-wal"):
                continue  # a reader's first open creates an empty WAL file: no data changed
            h.update(f"{f}:{st.st_size}:{st.st_mtime_ns};".encode())
        return h.hexdigest()[:16]
    from sqlalchemy import func, select

    engine = _version_engine(settings.source.location, settings.source.statement_timeout_s)
    cfg = settings.source
    try:
        with engine.connect() as conn:
            parts = []
            for table, probes in _VERSION_PROBES.items():
                t = _reflect(conn, cfg.db_schema, cfg.table_name(table))
                if t is None:
                    continue
                exprs = [func.count()]
                for agg, col in probes:
                    src = cfg.source_column(table, col)
                    if src in t.c:
                        exprs.append(func.max(t.c[src]) if agg == "max" else func.count(t.c[src]))
                parts.append(tuple(conn.execute(select(*exprs).select_from(t)).one()))
    except Exception as exc:
        from tsdash.sources.read import _friendly_db_error

        raise SourceError(_friendly_db_error(settings.source, exc)) from None
    h.update(repr(parts).encode())
    return h.hexdigest()[:16]


# What changes when a case moves: created, assigned, answered, escalated, resolved, reviewed.
_VERSION_PROBES: dict[str, tuple[tuple[str, str], ...]] = {
    "cases": (
        ("max", "created_at"),
        ("max", "resolved_at"),
        ("count", "resolved_at"),
        ("count", "assigned_agent_id"),
        ("count", "first_response_at"),
        ("count", "escalated_at"),
        ("count", "escalation_resolved_at"),
    ),
    "qa_reviews": (("max", "reviewed_at"),),
    "agents": (),
}


def _reflect(conn, schema: str | None, name: str):
    """The reflected table (cached per database), or None when it does not exist."""
    from sqlalchemy import MetaData, Table
    from sqlalchemy.exc import NoSuchTableError

    key = (str(conn.engine.url), schema, name)
    if key not in _TABLES:
        try:
            _TABLES[key] = Table(name, MetaData(), schema=schema, autoload_with=conn)
        except NoSuchTableError:
            return None
    return _TABLES[key]


_TABLES: dict[tuple, object] = {}
