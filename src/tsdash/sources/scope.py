"""Pushdown: only the rows a view needs leave the source.

A :class:`Scope` is a time window plus dimension filters. For a window [since, until) the cases
that can matter are those that exist in it::

    created_at < until AND (resolved_at IS NULL OR resolved_at >= since)

plus ``queue IN (...)`` etc. for the dimension filters. QA reviews are kept by ``reviewed_at`` in
the window, shifts when they overlap it, and events when their case is kept. Every value is a
bound parameter built with SQLAlchemy Core, never string formatting.

SQLite stores timestamps as text, so there the time bounds compare the ISO date prefix with a
one-day margin on each side (correct for any ISO 8601 spelling and UTC offset): a few extra rows
may come back, never too few. The metrics apply the exact window afterwards.

>>> import datetime as dt
>>> s = Scope(since=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), until=dt.datetime(2026, 11, 8, tzinfo=dt.UTC))
>>> s.text_bounds()
('2026-10-31', '2026-11-09')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from tsdash.config import SourceConfig
from tsdash.schema import CONTRACT

# Optional case columns that no row rule, SLA target, as-of mask or derived column reads
# (docs/DATA_CONTRACT.md): a load may leave them out (``Scope.unread``) and the dataset then
# holds them as nulls. ``case_type`` and ``channel`` are dimensions: a load that filters or
# groups by one must read it.
UNREADABLE_CASE_COLUMNS = ("case_type", "channel", "escalation_reason", "outcome", "status")

# Optional text case columns that a derived column reads but no row rule does: ``priority`` (the
# SLA target of ``due_at``) and ``assigned_agent_id`` (``agent_id``, and ``team`` through the
# agents table); and ``team`` itself, which is not read but derived, and is left underived. A
# report that needs none of them (:meth:`tsdash.metrics.registry.TableDef.case_inputs_for`) may
# leave them out; the dataset then holds nulls in them and in ``due_at``, never a made-up
# value, and records them in ``Dataset.unread``: a table that needs one refuses such a dataset.
# Text has no unreadable value, so leaving them out excludes no case the full load keeps
# (``sla_due_at`` and ``reopened_count`` can hold one and are always read).
INPUT_CASE_COLUMNS = ("priority", "assigned_agent_id", "team")

#: every case column a load may leave out
LEAVABLE_CASE_COLUMNS = (*UNREADABLE_CASE_COLUMNS, *INPUT_CASE_COLUMNS)

DIMENSION_COLUMNS = {
    "queues": "queue",
    "priorities": "priority",
    "case_types": "case_type",
    "channels": "channel",
    "agents": "assigned_agent_id",
}


@dataclass(frozen=True)
class Scope:
    since: dt.datetime | None = None  # aware
    until: dt.datetime | None = None  # aware, exclusive
    queues: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    case_types: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    # Given, the scope is these cases (whatever their time): their events and QA reviews, no shifts.
    case_ids: tuple[str, ...] = ()
    # True: no case rows, only the cases table's columns (checked against the contract): for a
    # QA report whose numbers come from the reviews and the agents alone (tsdash metrics quality
    # without a case dimension). Reviews are not checked against the cases then.
    no_case_rows: bool = False
    # Columns of ``cases`` not read (of LEAVABLE_CASE_COLUMNS): a report that looks at none of
    # them (tsdash metrics, see tsdash.metrics.cli.load_plan). They hold nulls in the dataset.
    unread: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for b in (self.since, self.until):
            if b is not None and b.tzinfo is None:
                raise ValueError("Scope bounds must be time-zone aware")
        wrong = [c for c in self.unread if c not in LEAVABLE_CASE_COLUMNS]
        if wrong:
            raise ValueError(
                f"Scope.unread: {wrong} must be read (only {LEAVABLE_CASE_COLUMNS} may be left out)"
            )
        for key, name in DIMENSION_COLUMNS.items():
            if name in self.unread and getattr(self, key):
                raise ValueError(f"Scope filters on {name} and leaves it unread")

    @property
    def is_all(self) -> bool:
        """Every row (``unread`` aside: it leaves out columns, not rows)."""
        return (
            self.since is None
            and self.until is None
            and not self.case_ids
            and not self.no_case_rows
            and not any(self.dimensions().values())
        )

    def dimensions(self) -> dict[str, tuple[str, ...]]:
        return {k: getattr(self, k) for k in DIMENSION_COLUMNS}

    def text_bounds(self) -> tuple[str | None, str | None]:
        """Date-prefix bounds with a one-day margin, for sources that keep timestamps as text."""
        lo = (self.since.astimezone(dt.UTC) - dt.timedelta(days=1)).date().isoformat() if self.since else None
        hi = (self.until.astimezone(dt.UTC) + dt.timedelta(days=1)).date().isoformat() if self.until else None
        return lo, hi

    def cache_key(self) -> tuple:
        return (
            self.since.isoformat() if self.since else None,
            self.until.isoformat() if self.until else None,
            *self.dimensions().values(),
            self.case_ids,
            self.no_case_rows,
            self.unread,
        )

    def unread_sources(self, cfg: SourceConfig, present) -> list[str]:
        """The columns of the source's cases table (of ``present``) a load leaves out: those of
        the unread contract columns, unless a column that is read comes from it too ([columns]
        mapping); a column named like an unread contract column but mapped from another one is
        left out as well (validation would drop it)."""
        if not self.unread:
            return []
        read = {cfg.source_column("cases", c) for c in CONTRACT["cases"].names if c not in self.unread}
        drop = ({cfg.source_column("cases", c) for c in self.unread} | set(self.unread)) - read
        return [c for c in present if c in drop]


# ------------------------------------------------------------------ SQL


def _bounds(scope: Scope, text: bool):
    if text:
        return scope.text_bounds()
    return scope.since, scope.until


def _param(name: str, value, text: bool):
    from sqlalchemy import DateTime, String, bindparam

    return bindparam(name, value, type_=String() if text else DateTime(timezone=True))


def case_conditions(t, cfg: SourceConfig, scope: Scope, text: bool, qa_t=None) -> list:
    """SQLAlchemy conditions on the cases table ``t`` (a reflected Table).

    With the QA reviews table ``qa_t``, a case reviewed in the window is kept too, though it was
    resolved before the window: the quality of a queue or case type needs the reviewed case.
    """
    from sqlalchemy import and_, or_, select

    cols = t.c

    def col(name: str):
        src = cfg.source_column("cases", name)
        return cols[src] if src in cols else None

    if scope.case_ids:
        key = col("case_id")
        return [key.in_(list(scope.case_ids))] if key is not None else []
    if scope.no_case_rows:
        from sqlalchemy import false

        return [false()]
    since, until = _bounds(scope, text)
    conds = []
    time_conds = []
    created, resolved = col("created_at"), col("resolved_at")
    if until is not None and created is not None:
        time_conds.append(created < _param("until", until, text))
    if since is not None and resolved is not None:
        alts = [resolved.is_(None), resolved >= _param("since", since, text)]
        if text:
            alts.append(resolved == "")
        time_conds.append(or_(*alts))
    if time_conds:
        key = col("case_id")
        qa_conds = table_conditions("qa_reviews", qa_t, None, cfg, scope, text) if qa_t is not None else []
        qa_key = cfg.source_column("qa_reviews", "case_id")
        if key is not None and qa_conds and qa_key in qa_t.c:
            reviewed = key.in_(select(qa_t.c[qa_key]).where(*qa_conds))
            conds.append(or_(and_(*time_conds), reviewed))
        else:
            conds.extend(time_conds)
    for key, name in DIMENSION_COLUMNS.items():
        values = getattr(scope, key)
        c = col(name)
        if values and c is not None:
            conds.append(c.in_(list(values)))
    return conds


def table_conditions(table: str, t, cases_t, cfg: SourceConfig, scope: Scope, text: bool, qa_t=None) -> list:
    """Conditions for the optional tables (``qa_t``: see :func:`case_conditions`)."""
    from sqlalchemy import select

    since, until = _bounds(scope, text)

    def bindparam(name, value):
        return _param(name, value, text)

    def col(tab, name):
        src = cfg.source_column(tab, name)
        return t.c[src] if src in t.c else None

    conds = []
    if scope.case_ids:
        from sqlalchemy import false

        if table in ("qa_reviews", "events") and (cid := col(table, "case_id")) is not None:
            return [cid.in_(list(scope.case_ids))]
        if table == "qa_criteria" and qa_t is not None and (rid := col(table, "review_id")) is not None:
            q_rid = cfg.source_column("qa_reviews", "review_id")
            q_cid = cfg.source_column("qa_reviews", "case_id")
            if q_rid in qa_t.c and q_cid in qa_t.c:
                return [rid.in_(select(qa_t.c[q_rid]).where(qa_t.c[q_cid].in_(list(scope.case_ids))))]
        return [false()] if table == "shifts" else []
    if table == "qa_reviews":
        r = col("qa_reviews", "reviewed_at")
        if r is not None:
            if since is not None:
                conds.append(r >= bindparam("q_since", since))
            if until is not None:
                conds.append(r < bindparam("q_until", until))
    elif table == "shifts":
        start, end = col("shifts", "start"), col("shifts", "end")
        if since is not None and end is not None:
            conds.append(end >= bindparam("s_since", since))
        if until is not None and start is not None:
            conds.append(start < bindparam("s_until", until))
    elif table == "events" and cases_t is not None:
        cid = col("events", "case_id")
        case_conds = case_conditions(cases_t, cfg, scope, text, qa_t)
        if cid is not None and case_conds:
            key = cases_t.c[cfg.source_column("cases", "case_id")]
            conds.append(cid.in_(select(key).where(*case_conds)))
    elif table == "qa_criteria":
        pass  # small; kept whole (criteria of reviews outside the window are dropped by the metrics' join)
    return conds


def compile_for_adbc(stmt, backend: str) -> tuple[str, tuple]:
    """SQL text and positional parameters for an ADBC cursor (qmark for SQLite, $n for PostgreSQL)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = (
        sqlite.dialect(paramstyle="qmark")
        if backend == "sqlite"
        else postgresql.dialect(paramstyle="numeric_dollar")
    )
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = tuple(compiled.params[k] for k in (compiled.positiontup or ()))
    return compiled.string, params


# ------------------------------------------------------------------ Parquet / CSV frames


def frame_filter(
    table: str, schema: pl.Schema, cfg: SourceConfig, scope: Scope, source_tz: str
) -> pl.Expr | None:
    """A Polars predicate for a lazily scanned file (typed timestamp columns only)."""

    def name(c: str) -> str | None:
        src = cfg.source_column(table, c)
        return src if src in schema.names() else None

    def bound(value: dt.datetime, col: str, margin: int) -> pl.Expr | None:
        dtype = schema[col]
        if not isinstance(dtype, pl.Datetime):
            return None
        if dtype.time_zone is None:  # naive: in the source zone; a day's margin keeps it safe
            naive = value.astimezone(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=margin)
            return pl.lit(naive, dtype=pl.Datetime(dtype.time_unit))
        return pl.lit(value).cast(pl.Datetime(dtype.time_unit, "UTC")).dt.convert_time_zone(dtype.time_zone)

    conds: list[pl.Expr] = []
    if scope.case_ids:
        ids = pl.lit(pl.Series(list(scope.case_ids), dtype=pl.String)).implode()
        if table in ("cases", "qa_reviews", "events") and (c := name("case_id")):
            return pl.col(c).cast(pl.String).is_in(ids)
        return pl.lit(False) if table == "shifts" else None  # qa_criteria: cut by review after reading
    if table == "cases" and scope.no_case_rows:
        return pl.lit(False)
    if table == "cases":
        created, resolved = name("created_at"), name("resolved_at")
        if scope.until is not None and created:
            b = bound(scope.until, created, +1)
            if b is not None:
                conds.append(pl.col(created) < b)
        if scope.since is not None and resolved:
            b = bound(scope.since, resolved, -1)
            if b is not None:
                conds.append(pl.col(resolved).is_null() | (pl.col(resolved) >= b))
        for key, col in DIMENSION_COLUMNS.items():
            values = getattr(scope, key)
            c = name(col)
            if values and c:
                conds.append(pl.col(c).is_in(list(values)))
    elif table == "qa_reviews":
        r = name("reviewed_at")
        if r:
            if scope.since is not None and (b := bound(scope.since, r, -1)) is not None:
                conds.append(pl.col(r) >= b)
            if scope.until is not None and (b := bound(scope.until, r, +1)) is not None:
                conds.append(pl.col(r) < b)
    elif table == "shifts":
        s, e = name("start"), name("end")
        if scope.since is not None and e and (b := bound(scope.since, e, -1)) is not None:
            conds.append(pl.col(e) >= b)
        if scope.until is not None and s and (b := bound(scope.until, s, +1)) is not None:
            conds.append(pl.col(s) < b)
    if not conds:
        return None
    out = conds[0]
    for c in conds[1:]:
        out = out & c
    return out
