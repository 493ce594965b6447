"""The data contract: one description of every table and column, used by every source,
the validator, the demo generator and the docs (``docs/DATA_CONTRACT.md``).

After loading and validation every table has *all* of its contract columns, in contract
order, with the canonical dtype below (absent optional columns are filled with nulls), plus
any extra columns the source had (kept, ignored by tsdash).

Timestamps are ``pl.Datetime("us", "UTC")``. Naive timestamps in a source are read in the
source's configured time zone and converted to UTC.

>>> CONTRACT["cases"].required
('case_id', 'created_at', 'queue')
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

UTC_DT = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    required: bool
    description: str
    # kind drives parsing: "str", "datetime", "date", "float", "int", "bool"
    kind: str


@dataclass(frozen=True)
class Table:
    name: str
    required_table: bool
    key: str | None
    columns: tuple[Column, ...]
    description: str

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def dtypes(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}

    def time_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == "datetime")


_KIND_DTYPE: dict[str, pl.DataType] = {
    "str": pl.String(),
    "datetime": UTC_DT,
    "date": pl.Date(),
    "float": pl.Float64(),
    "int": pl.Int64(),
    "bool": pl.Boolean(),
}


def _c(name: str, kind: str, required: bool, description: str) -> Column:
    return Column(name, _KIND_DTYPE[kind], required, description, kind)


AGENTS = Table(
    "agents",
    True,
    "agent_id",
    (
        _c("agent_id", "str", True, "Unique agent identifier."),
        _c("name", "str", True, "Display name."),
        _c("team", "str", True, "Team the agent belongs to."),
        _c("lead", "str", False, "Name of the agent's team lead."),
        _c("site", "str", False, "Site or location."),
        _c("hired_on", "date", False, "Hire date (new-hire curves count weeks from it)."),
        _c("active", "bool", False, "False for agents who left; absent means active."),
    ),
    "One row per agent.",
)

CASES = Table(
    "cases",
    True,
    "case_id",
    (
        _c("case_id", "str", True, "Unique case identifier."),
        _c("created_at", "datetime", True, "When the case was created (UTC)."),
        _c("queue", "str", True, "Work queue, e.g. payments_fraud."),
        _c("case_type", "str", False, "Case type within the queue."),
        _c("priority", "str", False, "urgent, high, normal or low; drives the SLA target."),
        _c("channel", "str", False, "Where the case came from (report, api, livestream...)."),
        _c("assigned_agent_id", "str", False, "Agent working the case; null = unassigned."),
        _c("first_response_at", "datetime", False, "First agent response (UTC)."),
        _c("resolved_at", "datetime", False, "Resolution time (UTC); null = open."),
        _c("handle_seconds", "float", False, "Agent working time on the case, in seconds."),
        _c("escalated", "bool", False, "Whether the case was escalated; absent = escalated_at is set."),
        _c("escalated_at", "datetime", False, "When it was escalated (UTC)."),
        _c("escalation_reason", "str", False, "Why it was escalated."),
        _c("escalation_resolved_at", "datetime", False, "When the escalation was resolved (UTC)."),
        _c(
            "sla_due_at",
            "datetime",
            False,
            "Explicit SLA due time; else created_at + target(queue, priority).",
        ),
        _c("reopened_count", "int", False, "How often the case was reopened."),
        _c("outcome", "str", False, "Resolution outcome (action taken, no violation...)."),
        _c("status", "str", False, "Status in the source system (informational)."),
    ),
    "One row per case.",
)

QA_REVIEWS = Table(
    "qa_reviews",
    False,
    "review_id",
    (
        _c("review_id", "str", True, "Unique review identifier."),
        _c("case_id", "str", True, "Reviewed case."),
        _c("agent_id", "str", True, "Reviewed agent."),
        _c("reviewed_at", "datetime", True, "When the review was done (UTC)."),
        _c("score", "float", True, "Score 0-100."),
        _c("reviewer_id", "str", False, "Who reviewed."),
        _c("critical_error", "bool", False, "A critical error fails the review whatever the score."),
        _c("comment", "str", False, "Reviewer's comment."),
    ),
    "QA audits of resolved cases.",
)

QA_CRITERIA = Table(
    "qa_criteria",
    False,
    None,
    (
        _c("review_id", "str", True, "Review the score belongs to."),
        _c("criterion", "str", True, "Rubric criterion, e.g. documentation."),
        _c("score", "float", True, "Criterion score 0-100."),
    ),
    "Per-criterion rubric scores of QA reviews.",
)

EVENTS = Table(
    "events",
    False,
    None,
    (
        _c("case_id", "str", True, "Case the event belongs to."),
        _c("ts", "datetime", True, "When it happened (UTC)."),
        _c("event_type", "str", True, "created, assigned, responded, escalated, resolved, reopened..."),
        _c("agent_id", "str", False, "Agent who acted, if any."),
    ),
    "Case timeline events.",
)

SHIFTS = Table(
    "shifts",
    False,
    None,
    (
        _c("agent_id", "str", True, "Agent on shift."),
        _c("start", "datetime", True, "Shift start (UTC)."),
        _c("end", "datetime", True, "Shift end (UTC)."),
    ),
    "Scheduled shifts, for throughput per hour and utilization.",
)

CONTRACT: dict[str, Table] = {t.name: t for t in (AGENTS, CASES, QA_REVIEWS, QA_CRITERIA, EVENTS, SHIFTS)}
TABLE_NAMES: tuple[str, ...] = tuple(CONTRACT)
REQUIRED_TABLES: tuple[str, ...] = tuple(t.name for t in CONTRACT.values() if t.required_table)

# Derived columns the loader adds to `cases` (documented in docs/METRICS.md):
#   due_at: sla_due_at, else created_at + SLA target for (queue, priority).
#   team:   the assigned agent's team (null when unassigned or unknown agent).
DERIVED_CASE_COLUMNS: dict[str, pl.DataType] = {"due_at": UTC_DT, "team": pl.String()}


def empty_frame(table: str) -> pl.DataFrame:
    """An empty frame with the table's canonical schema.

    >>> empty_frame("shifts").columns
    ['agent_id', 'start', 'end']
    """
    return pl.DataFrame(schema=CONTRACT[table].dtypes)


_KIND_LABEL = {
    "str": "text",
    "datetime": "timestamp (UTC)",
    "date": "date",
    "float": "number",
    "int": "whole number",
    "bool": "true/false",
}


def contract_markdown() -> str:
    """The tables of docs/DATA_CONTRACT.md, generated from this module (a test keeps them equal)."""
    out: list[str] = []
    for t in CONTRACT.values():
        status = "required" if t.required_table else "optional"
        key = f"; key `{t.key}` (unique)" if t.key else ""
        out.append(f"### `{t.name}` ({status} table{key})\n\n{t.description}\n")
        out.append("| column | type | required | meaning |\n|---|---|---|---|")
        for c in t.columns:
            out.append(
                f"| `{c.name}` | {_KIND_LABEL[c.kind]} | {'yes' if c.required else 'no'} | {c.description} |"
            )
        out.append("")
    return "\n".join(out)
