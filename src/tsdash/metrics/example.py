"""The worked example of docs/METRICS.md: 13 cases, 5 QA reviews, 3 agents, in UTC.

The same data is the hand-computed fixture of ``tests/metrics/test_definitions.py``; every number
the documentation quotes is asserted there.

Window Mon 2026-03-02 .. Wed 2026-03-04 (display zone UTC), as-of Thu 2026-03-05 12:00 UTC.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from tsdash.dataset import Dataset, normalize
from tsdash.metrics.filters import Filter

UTC = dt.UTC
EXAMPLE_AS_OF = dt.datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
EXAMPLE_FILTER = Filter(dt.date(2026, 3, 2), dt.date(2026, 3, 4), tz="UTC", as_of=EXAMPLE_AS_OF)


def _t(day: int, hh: int, mm: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hh, mm, tzinfo=UTC)


# case_id, queue, priority, agent, created, first_response, resolved, handle_s, escalated_at,
# escalation_resolved_at, reopened_count
_CASES = [
    ("c01", "fraud", "urgent", "a1", _t(1, 10), _t(1, 11), _t(2, 9), 600.0, None, None, 0),
    ("c02", "fraud", "high", "a1", _t(2, 8), _t(2, 8, 30), _t(2, 12), 900.0, None, None, 0),
    ("c03", "fraud", "normal", "a2", _t(2, 9), _t(2, 10), _t(3, 9), 1200.0, _t(2, 11), _t(2, 15), 0),
    ("c04", "policy", "normal", None, _t(2, 10), None, None, None, None, None, 0),
    ("c05", "policy", "low", "a3", _t(27, 12, month=2), _t(27, 13, month=2), None, None, None, None, 0),
    ("c06", "policy", "high", "a2", _t(3, 7), _t(3, 7, 30), _t(3, 20), None, None, None, 1),
    ("c07", "fraud", "urgent", "a3", _t(3, 12), _t(3, 12, 10), _t(3, 18), 3000.0, _t(3, 13), _t(4, 13), 0),
    ("c08", "disputes", "normal", "a1", _t(4, 9), _t(4, 9, 20), _t(4, 23, 30), 1500.0, None, None, 0),
    ("c09", "disputes", "high", "a1", _t(4, 22), None, None, None, _t(5, 10), None, 0),
    ("c10", "fraud", "urgent", "a2", _t(5, 9), None, None, None, None, None, 0),
    ("c11", "fraud", "normal", "a1", _t(4, 10), _t(5, 13), _t(5, 14), 800.0, None, None, 0),
    ("c12", "disputes", "low", "a3", _t(6, 8), _t(6, 9), _t(6, 10), 300.0, None, None, 0),
    ("c13", "policy", "normal", "a3", _t(2, 23), _t(3, 8), _t(4, 1), 2000.0, _t(3, 10), None, 0),
]

# review_id, case_id, agent_id, reviewed_at, score, critical_error
_REVIEWS = [
    ("r1", "c02", "a1", _t(3, 10), 95.0, True),
    ("r2", "c01", "a1", _t(2, 15), 85.0, False),
    ("r3", "c03", "a2", _t(4, 9), 70.0, False),
    ("r4", "c07", "a3", _t(4, 10), 80.0, False),
    ("r5", "c06", "a2", _t(5, 13), 60.0, False),
]

_CRITERIA = [
    ("r1", "policy_accuracy", 100.0), ("r1", "documentation", 90.0),
    ("r2", "policy_accuracy", 80.0), ("r2", "documentation", 90.0),
    ("r3", "policy_accuracy", 60.0), ("r3", "documentation", 80.0),
    ("r4", "policy_accuracy", 90.0), ("r4", "documentation", 60.0),
    ("r5", "policy_accuracy", 50.0), ("r5", "documentation", 50.0),
]  # fmt: skip

_SHIFTS = [
    ("a1", _t(2, 8), _t(2, 16)),
    ("a1", _t(3, 8), _t(3, 16)),
    ("a1", _t(4, 8), _t(4, 16)),
    ("a2", _t(2, 6), _t(2, 14)),
    ("a2", _t(3, 6), _t(3, 14)),
    ("a3", _t(3, 20), _t(4, 4)),
    ("a3", _t(4, 20), _t(5, 4)),
]


def example_tables() -> dict[str, pl.DataFrame]:
    ts = pl.Datetime("us", "UTC")
    cases = pl.DataFrame(
        _CASES,
        schema={
            "case_id": pl.String,
            "queue": pl.String,
            "priority": pl.String,
            "assigned_agent_id": pl.String,
            "created_at": ts,
            "first_response_at": ts,
            "resolved_at": ts,
            "handle_seconds": pl.Float64,
            "escalated_at": ts,
            "escalation_resolved_at": ts,
            "reopened_count": pl.Int64,
        },
        orient="row",
    )
    return {
        "agents": pl.DataFrame(
            {"agent_id": ["a1", "a2", "a3"], "name": ["Ann", "Bob", "Cy"], "team": ["T1", "T1", "T2"]}
        ),
        "cases": cases,
        "qa_reviews": pl.DataFrame(
            _REVIEWS,
            schema={
                "review_id": pl.String,
                "case_id": pl.String,
                "agent_id": pl.String,
                "reviewed_at": ts,
                "score": pl.Float64,
                "critical_error": pl.Boolean,
            },
            orient="row",
        ),
        "qa_criteria": pl.DataFrame(
            _CRITERIA,
            schema={"review_id": pl.String, "criterion": pl.String, "score": pl.Float64},
            orient="row",
        ),
        "shifts": pl.DataFrame(_SHIFTS, schema={"agent_id": pl.String, "start": ts, "end": ts}, orient="row"),
    }


def example_dataset() -> Dataset:
    """The example as a :class:`Dataset` (default SLA targets: urgent 4 h, high 24 h, normal 48 h, low 120 h)."""
    return normalize(example_tables())


def example_markdown() -> str:
    """The example's cases and reviews as Markdown tables (for docs/METRICS.md)."""

    def fmt(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, dt.datetime):
            return v.strftime("%a %m-%d %H:%M")
        if isinstance(v, float):
            return f"{v:g}"
        return str(v)

    head = "| case | queue | priority | agent | created | first response | resolved | handle s | escalated | escalation resolved | reopened |"
    lines = [head, "|" + "---|" * 11]
    for row in _CASES:
        lines.append("| " + " | ".join(fmt(v) for v in row) + " |")
    lines += [
        "",
        "| review | case | agent | reviewed | score | critical error | criteria |",
        "|---|---|---|---|---|---|---|",
    ]
    for rid, cid, aid, at, score, crit in _REVIEWS:
        crits = ", ".join(f"{c} {s:g}" for r, c, s in _CRITERIA if r == rid)
        lines.append(
            f"| {rid} | {cid} | {aid} | {fmt(at)} | {score:g} | {'yes' if crit else 'no'} | {crits} |"
        )
    lines += ["", "| agent | shifts |", "|---|---|"]
    for aid in ("a1", "a2", "a3"):
        s = "; ".join(f"{fmt(a)} - {fmt(b)}" for x, a, b in _SHIFTS if x == aid)
        lines.append(f"| {aid} | {s} |")
    return "\n".join(lines)
