"""The validated dataset every part of tsdash reads.

A :class:`Dataset` holds one canonical Polars frame per contract table (see
:mod:`tsdash.schema`): every contract column present with its canonical dtype, timestamps in
UTC, plus two derived case columns (``due_at`` and ``team``). Rows that broke a validation rule
are *not* in these frames; they are listed in :attr:`Dataset.report`.

Build one from raw frames with :func:`tsdash.validate.validate_tables`, or, when the frames are
already clean (tests, the demo generator), with :func:`normalize`:

>>> import polars as pl, datetime as dt
>>> utc = dt.timezone.utc
>>> ds = normalize({
...     "agents": pl.DataFrame({"agent_id": ["a1"], "name": ["Ann"], "team": ["T1"]}),
...     "cases": pl.DataFrame({"case_id": ["c1"], "queue": ["q"], "priority": ["urgent"],
...                            "created_at": [dt.datetime(2026, 1, 1, 8, tzinfo=utc)],
...                            "assigned_agent_id": ["a1"]}),
... })
>>> ds.cases.select("due_at", "team", "escalated").row(0)
(datetime.datetime(2026, 1, 1, 12, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 'T1', False)
>>> ds.has("qa_reviews")
False
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from tsdash.config import SLAConfig
from tsdash.schema import CONTRACT, TABLE_NAMES, empty_frame


@dataclass(frozen=True)
class Issue:
    """One validation finding. ``row`` is the 1-based data row in the source (header excluded)."""

    table: str
    rule: str
    severity: str  # "fatal", "quarantine" or "warning"
    message: str
    column: str | None = None
    row: int | None = None
    record_id: str | None = None
    value: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "table": self.table,
            "rule": self.rule,
            "row": self.row,
            "id": self.record_id,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class ValidationReport:
    source: str
    issues: list[Issue] = field(default_factory=list)
    # (severity, table, rule) -> findings beyond those listed in `issues` (long lists are capped)
    unlisted: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # table -> distinct rows excluded (a row may break several rules)
    quarantined_rows: dict[str, int] = field(default_factory=dict)

    @property
    def fatal(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "fatal"]

    @property
    def quarantined(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "quarantine"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def usable(self) -> bool:
        return not self.fatal

    def counts(self) -> dict[tuple[str, str, str], int]:
        """(severity, table, rule) -> count, sorted."""
        out: dict[tuple[str, str, str], int] = dict(self.unlisted)
        for i in self.issues:
            key = (i.severity, i.table, i.rule)
            out[key] = out.get(key, 0) + 1
        return dict(sorted(out.items()))

    def frame(self) -> pl.DataFrame:
        cols = ["severity", "table", "rule", "row", "id", "column", "value", "message"]
        if not self.issues:
            return pl.DataFrame(schema={c: (pl.Int64 if c == "row" else pl.String) for c in cols})
        return pl.DataFrame([i.as_dict() for i in self.issues], schema_overrides={"row": pl.Int64}).select(
            cols
        )


@dataclass
class Dataset:
    cases: pl.DataFrame
    agents: pl.DataFrame
    qa_reviews: pl.DataFrame
    qa_criteria: pl.DataFrame
    events: pl.DataFrame
    shifts: pl.DataFrame
    present: frozenset[str]
    report: ValidationReport
    sla: SLAConfig = field(default_factory=SLAConfig)
    loaded_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    # the tables that were read (a load may ask for some only; the others are empty frames)
    read_tables: frozenset[str] = frozenset(TABLE_NAMES)
    # case columns the load left out on purpose (``Scope.unread``): they hold nulls, and so does
    # what derives from them (``due_at`` without ``priority``, ``team`` without the assignee or
    # left underived)
    unread: frozenset[str] = frozenset()

    def has(self, table: str) -> bool:
        """True when the source had this table and it was read (it may still have zero rows)."""
        return table in self.present

    def table(self, name: str) -> pl.DataFrame:
        return getattr(self, name)


def _conform(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """Add absent contract columns as nulls, cast to canonical dtypes, contract columns first."""
    spec = CONTRACT[table]
    exprs = []
    for col in spec.columns:
        if col.name in df.columns:
            e = pl.col(col.name)
            src = df.schema[col.name]
            if col.kind == "datetime" and isinstance(src, pl.Datetime) and src.time_zone is None:
                e = e.dt.replace_time_zone("UTC")
            exprs.append(e.cast(col.dtype).alias(col.name))
        else:
            exprs.append(pl.lit(None, dtype=col.dtype).alias(col.name))
    extras = [c for c in df.columns if c not in spec.names]
    return df.select(*exprs, *extras)


def due_at_expr(sla: SLAConfig) -> pl.Expr:
    """SLA due: sla_due_at, else created_at + target(queue, priority) (docs/METRICS.md)."""
    hours = pl.lit(sla.other_hours)
    # most specific last so it wins: priority defaults, then per-queue overrides
    for prio, h in sla.targets_hours.items():
        hours = pl.when(pl.col("priority") == prio).then(pl.lit(float(h))).otherwise(hours)
    for queue, per in sla.queue_overrides.items():
        for prio, h in per.items():
            hours = (
                pl.when((pl.col("queue") == queue) & (pl.col("priority") == prio))
                .then(pl.lit(float(h)))
                .otherwise(hours)
            )
    computed = pl.col("created_at") + pl.duration(microseconds=(hours * 3_600_000_000).cast(pl.Int64))
    return pl.coalesce(pl.col("sla_due_at"), computed).alias("due_at")


def finish_cases(
    cases: pl.DataFrame,
    agents: pl.DataFrame,
    sla: SLAConfig,
    had_escalated: bool,
    unread: frozenset[str] = frozenset(),
) -> pl.DataFrame:
    """Derive ``escalated`` (when absent), ``due_at`` and ``team`` on conformed cases.

    ``unread``: case columns the load left out (``Scope.unread``). Without ``priority`` the due
    time is not known and ``due_at`` is null; without ``assigned_agent_id`` or ``team`` (left
    underived: 10M cases, ~0.1 s) ``team`` is null."""
    esc = pl.col("escalated") if had_escalated else pl.lit(None, dtype=pl.Boolean)
    due = (
        pl.lit(None, dtype=cases.schema["created_at"]).alias("due_at")
        if "priority" in unread
        else due_at_expr(sla)
    )
    cases = cases.with_columns(
        pl.coalesce(esc, pl.col("escalated_at").is_not_null()).alias("escalated"),
        pl.col("reopened_count").fill_null(0),
    ).with_columns(due)
    if "assigned_agent_id" in unread or "team" in unread:
        return cases.drop("team", strict=False).with_columns(
            pl.lit(None, dtype=agents.schema["team"]).alias("team")
        )
    # the team of the assigned agent (the agent's first row): a lookup adds the one column, where
    # a join copied every column of the cases (10M cases: 1.6 GB more at the peak)
    teams = (
        agents.select("agent_id", "team")
        .filter(pl.col("agent_id").is_not_null())
        .unique("agent_id", keep="first", maintain_order=True)
    )
    team = pl.col("assigned_agent_id").replace_strict(
        teams["agent_id"], teams["team"], default=None, return_dtype=agents.schema["team"]
    )
    return cases.drop("team", strict=False).with_columns(team.alias("team"))


def normalize(
    tables: dict[str, pl.DataFrame],
    sla: SLAConfig | None = None,
    report: ValidationReport | None = None,
    read_tables: frozenset[str] | None = None,
    unread: frozenset[str] = frozenset(),
) -> Dataset:
    """Build a :class:`Dataset` from frames that already satisfy the contract's rules.

    Missing optional tables become empty frames (``Dataset.has`` tells them apart).
    ``read_tables``: the tables the load asked for (default: all). ``unread``: the case columns
    the load left out on purpose (``Scope.unread``; see :func:`finish_cases`).
    """
    sla = sla or SLAConfig()
    present = frozenset(t for t in TABLE_NAMES if t in tables and tables[t] is not None)
    frames = {}
    for t in TABLE_NAMES:
        frames[t] = _conform(t, tables[t]) if t in present else empty_frame(t)
    had_escalated = "cases" in present and "escalated" in tables["cases"].columns
    frames["cases"] = finish_cases(frames["cases"], frames["agents"], sla, had_escalated, unread)
    agents = frames["agents"]
    if "agents" in present and "active" not in tables["agents"].columns:
        agents = agents.with_columns(pl.col("active").fill_null(True))
    frames["agents"] = agents
    return Dataset(
        **frames,
        present=present,
        report=report or ValidationReport("frames"),
        sla=sla,
        read_tables=frozenset(TABLE_NAMES) if read_tables is None else read_tables,
        unread=frozenset(unread),
    )
