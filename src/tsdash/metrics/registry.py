"""The registry: one :class:`MetricDef` per metric and one :class:`TableDef` per report.

``DEFINITIONS[key].description`` is the one definition of a metric: docs/METRICS.md is generated
from it (``python -m tsdash.metrics.docs``; a test fails when the file is stale) and the app
uses it as help text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import polars as pl

from tsdash.dataset import Dataset
from tsdash.metrics import flow_extra as fx
from tsdash.metrics import live_extra as lx
from tsdash.metrics import quality_extra as qx
from tsdash.metrics import tables as t
from tsdash.metrics.core import MetricError
from tsdash.metrics.filters import Filter
from tsdash.sources.scope import INPUT_CASE_COLUMNS

Direction = Literal["higher_better", "lower_better", "neutral"]


@dataclass(frozen=True)
class TableDef:
    """A report: what ``tsdash metrics NAME`` prints and the app charts."""

    name: str
    fn: Callable[..., pl.DataFrame]
    default_by: tuple[str, ...]
    allowed_by: tuple[str, ...]
    values: tuple[str, ...]  # value columns of the plain (CLI) table, after the key columns
    description: str
    windowed: bool = True  # False: a snapshot at as_of, the date window does not apply
    uses_pass_mark: bool = False
    # True: fn takes ``values=`` and computes only those value columns (the duration tables,
    # whose quantiles are most of their cost)
    computes_subset: bool = False
    # Of the case columns a load may leave out for a derived column
    # (tsdash.sources.scope.INPUT_CASE_COLUMNS: priority for due_at, assigned_agent_id for the
    # agent, team), those the table reads whatever its grouping and filter; a grouping or filter
    # by priority, agent or team adds its own (case_inputs_for). Default: all, which leaves
    # nothing out. tests/test_load_cli.py checks each report's plan against a full load.
    case_inputs: frozenset[str] = frozenset(INPUT_CASE_COLUMNS)

    def case_inputs_for(self, by: Sequence[str] | None, f: Filter) -> frozenset[str]:
        """The input case columns this table needs for grouping ``by`` (None: the default) and
        filter ``f``: what it reads itself, ``priority`` for a priority grouping or filter,
        ``assigned_agent_id`` for an agent grouping or filter, and ``team`` with it for a team's.

        >>> import datetime as dt
        >>> week = Filter(dt.date(2026, 3, 2), dt.date(2026, 3, 8))
        >>> TABLES["escalations"].case_inputs_for(None, week)
        frozenset()
        >>> sorted(TABLES["escalations"].case_inputs_for(("team", "week"), week))
        ['assigned_agent_id', 'team']
        >>> sorted(TABLES["handle-time"].case_inputs_for(None, week))  # by agent and week
        ['assigned_agent_id']
        >>> sorted(TABLES["sla"].case_inputs_for(None, week))
        ['assigned_agent_id', 'priority', 'team']
        """
        keys = set(self.default_by if by is None else by)
        need = set(self.case_inputs)
        if "priority" in keys or f.priorities:
            need.add("priority")
        if "agent_id" in keys or f.agents:
            need.add("assigned_agent_id")
        if "team" in keys or f.teams:
            need |= {"assigned_agent_id", "team"}
        return frozenset(need)

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns of the default table."""
        return (*self.default_by, *self.values)

    def compute(
        self,
        ds: Dataset,
        f: Filter,
        by: Sequence[str] | None = None,
        *,
        detail: bool = False,
        pass_mark: float = t.DEFAULT_PASS_MARK,
        values: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """The table; ``values`` asks for these value columns only: a table that
        ``computes_subset`` computes just those (and its count), any other all of its columns.

        A dataset loaded without a case column the table needs here (``ds.unread``, see
        :meth:`case_inputs_for`) is refused with a :class:`MetricError`, never computed on its
        nulls."""
        missing = sorted(self.case_inputs_for(by, f) & ds.unread)
        if missing:
            raise MetricError(
                f"{self.name} needs the cases' {', '.join(missing)}, which this load left out; "
                "load the data with every column (tsdash.sources.load_dataset without Scope.unread)"
            )
        kw: dict = {"detail": detail}
        if self.uses_pass_mark:
            kw["pass_mark"] = pass_mark
        if values is not None and self.computes_subset:
            kw["values"] = tuple(values)
        return self.fn(ds, f, by, **kw)


@dataclass(frozen=True)
class MetricDef:
    """One metric: its single definition and where it is computed (``table``.``column``)."""

    key: str
    label: str
    unit: str  # "cases", "cases/day", "seconds", "share", "score", "cases/hour", "ratio"
    direction: Direction
    attribution: str  # which time and which agent/queue a unit is counted under
    description: str  # the definition, one paragraph
    table: str
    column: str
    example: str = ""  # worked example on the example dataset (docs/METRICS.md)
    detail_only: bool = False  # column only present with detail=True
    extras: dict[str, str] = field(default_factory=dict)

    def compute(
        self,
        ds: Dataset,
        f: Filter,
        by: Sequence[str] | None = None,
        *,
        pass_mark: float = t.DEFAULT_PASS_MARK,
    ) -> pl.DataFrame:
        """The metric's column with its grouping keys (a table that can computes that column
        alone: the AHT without the median and p90)."""
        td = TABLES[self.table]
        df = td.compute(ds, f, by, detail=self.detail_only, pass_mark=pass_mark, values=(self.column,))
        keys = td.default_by if by is None else tuple(by)
        return df.select(*keys, self.column)


_CASE_BY = t.CASE_BY

TABLES: dict[str, TableDef] = {
    td.name: td
    for td in (
        TableDef(
            "flow",
            t.flow,
            ("date",),
            t.FLOW_BY,
            ("inflow", "outflow", "backlog"),
            "Inflow, outflow and end-of-day backlog per local day.",
            case_inputs=frozenset(),
        ),
        TableDef(
            "handle-time",
            t.handle_time,
            ("agent_id", "week"),
            _CASE_BY,
            ("cases", "aht_s", "median_s", "p90_s"),
            "Handle time of resolved cases per assigned agent and week of resolution.",
            computes_subset=True,
            case_inputs=frozenset(),
        ),
        TableDef(
            "quality",
            t.quality,
            ("agent_id", "week"),
            t.QA_BY,
            ("reviews", "mean_score", "pass_rate", "critical_errors"),
            "QA reviews per reviewed agent and week of review.",
            uses_pass_mark=True,
        ),
        TableDef(
            "escalations",
            t.escalations,
            ("week",),
            _CASE_BY,
            ("created", "escalated", "escalation_rate"),
            "Escalation rate of cases per week of creation.",
            case_inputs=frozenset(),
        ),
        TableDef(
            "sla",
            t.sla,
            ("week",),
            _CASE_BY,
            ("resolved", "within_sla", "sla_attainment"),
            "SLA attainment of cases per week of resolution.",
        ),
        TableDef(
            "backlog-now",
            t.backlog_now,
            ("queue", "priority"),
            t.CASE_KEYS,
            ("open", "unassigned", "breached", "oldest_age_s"),
            "Open cases at as-of per queue and priority.",
            windowed=False,
        ),
        TableDef(
            "first-response",
            t.first_response,
            ("week",),
            _CASE_BY,
            ("cases", "mean_s", "median_s", "p90_s"),
            "First response time per week of the first response.",
            computes_subset=True,
            case_inputs=frozenset(),
        ),
        TableDef(
            "resolution-time",
            t.resolution_time,
            ("week",),
            _CASE_BY,
            ("cases", "mean_s", "median_s", "p90_s"),
            "Resolution time per week of resolution.",
            computes_subset=True,
            case_inputs=frozenset(),
        ),
        TableDef(
            "reopens",
            t.reopens,
            ("week",),
            _CASE_BY,
            ("resolved", "reopened", "reopen_rate"),
            "Reopen rate of cases per week of resolution.",
            case_inputs=frozenset(),
        ),
        TableDef(
            "workload",
            t.workload,
            ("agent_id",),
            t.WORKLOAD_BY,
            ("open", "breached", "due_within_1h", "due_within_4h", "oldest_age_s"),
            "Open assigned cases at as-of per agent.",
            windowed=False,
        ),
        TableDef(
            "escalation-turnaround",
            t.escalation_turnaround,
            ("week",),
            _CASE_BY,
            ("escalations", "mean_s", "median_s", "p90_s"),
            "Escalation turnaround per week of the escalation's resolution.",
            computes_subset=True,
            case_inputs=frozenset(),
        ),
        TableDef(
            "throughput",
            t.throughput,
            ("agent_id", "week"),
            t.THROUGHPUT_BY,
            ("resolved", "shift_s", "resolved_per_shift_hour", "handle_s", "utilization"),
            "Resolved cases, shift time and utilization per agent and week.",
        ),
        TableDef(
            "qa-coverage",
            t.qa_coverage,
            ("agent_id", "week"),
            _CASE_BY,
            ("resolved", "reviewed", "coverage"),
            "Share of resolved cases that were QA-reviewed, per agent and week of resolution.",
        ),
        TableDef(
            "qa-criteria",
            t.qa_criteria,
            ("criterion", "week"),
            t.QA_CRITERIA_BY,
            ("scores", "mean_score"),
            "Mean rubric score per criterion and week of review.",
        ),
        TableDef(
            "qa-agents",
            qx.qa_agents,
            qx.QA_AGENTS_BY,
            qx.QA_AGENTS_BY,
            qx.QA_AGENTS_VALUES,
            "QA mean score and pass rate per reviewed agent, raw and shrunk toward the team.",
            uses_pass_mark=True,
        ),
        TableDef(
            "open-age",
            lx.open_age,
            lx.OPEN_AGE_DEFAULT_BY,
            lx.OPEN_AGE_BY,
            lx.OPEN_AGE_VALUES,
            "Open cases at as-of per age bucket (< 4 h, 4-24 h, 1-3 d, 3-7 d, >= 7 d) and priority.",
            windowed=False,
        ),
        TableDef(
            "agent-load",
            lx.agent_load,
            lx.LOAD_BY,
            lx.LOAD_BY,
            lx.LOAD_VALUES,
            "Live load per agent at as-of: open assigned, at risk, resolved and AHT today (local "
            "midnight of the as-of day to as-of), the team's normal-load limit and the flag above it.",
            windowed=False,
        ),
        TableDef(
            "backlog-age",
            fx.backlog_age,
            fx.BACKLOG_AGE_DEFAULT_BY,
            fx.BACKLOG_AGE_BY,
            fx.BACKLOG_AGE_VALUES,
            "Cases open at the end of each day by age bucket and SLA state (adds up to the flow backlog).",
        ),
        TableDef(
            "arrivals",
            fx.arrivals,
            fx.ARRIVALS_DEFAULT_BY,
            fx.ARRIVALS_BY,
            fx.ARRIVALS_VALUES,
            "Cases created per weekday and hour of day (display zone) and mean arrivals per hour.",
            case_inputs=frozenset(),
        ),
        TableDef(
            "time-to-clear",
            fx.time_to_clear,
            fx.CLEAR_DEFAULT_BY,
            fx.CLEAR_BY,
            fx.CLEAR_VALUES,
            "Per queue at the last 7 days' pace: when the backlog clears (or that it grows) and the "
            "agents needed to hold the SLA (Erlang C).",
            windowed=False,
        ),
        TableDef(
            "agent-queue-aht",
            fx.agent_queue_aht,
            fx.AGENT_QUEUE_BY,
            fx.AGENT_QUEUE_BY,
            fx.AGENT_QUEUE_VALUES,
            "AHT per agent and queue against the median of the queue's agents.",
        ),
    )
}

# Attribution phrases reused below.
_AT_CREATED = "Day/week of created_at; the assigned agent, the case's queue/priority/..."
_AT_RESOLVED = "Day/week of resolved_at; the assigned agent, the case's queue/priority/..."
_AT_ASOF = "Snapshot at as-of; the assigned agent (none when unassigned), the case's queue/priority/..."
_AT_REVIEW = (
    "Day/week of reviewed_at; the reviewed agent and their team, the reviewed case's queue/priority/..."
)

_DEFS: tuple[MetricDef, ...] = (
    MetricDef(
        "inflow", "Created", "cases", "neutral", _AT_CREATED,
        "Inflow of a day: the number of cases created that day (created_at in the local day, in the "
        "display time zone). Of a week or a window: the sum over its days inside the window.",
        "flow", "inflow",
    ),
    MetricDef(
        "outflow", "Resolved", "cases", "higher_better", _AT_RESOLVED,
        "Outflow of a day: the number of cases resolved that day (resolved_at in the local day). A case "
        "resolved after as-of is not resolved yet.",
        "flow", "outflow",
    ),
    MetricDef(
        "backlog", "Backlog (end of day)", "cases", "lower_better",
        "End of the local day (the next local midnight; for the as-of day: as-of).",
        "Cases open at the end of the day. A case is open at time t when created_at < t and "
        "(resolved_at is null or resolved_at >= t). The end of a day is the next local midnight, so "
        "backlog(d) - backlog(d-1) = inflow(d) - outflow(d) for consecutive days. Of a week: the backlog "
        "at the end of its last day inside the window.",
        "flow", "backlog",
    ),
    MetricDef(
        "created_per_day", "Created / day", "cases/day", "neutral", _AT_CREATED,
        "Inflow of the window divided by the number of days of the window that have begun before as-of, "
        "the day in progress counted by its elapsed fraction (hours elapsed / hours of that local day).",
        "flow", "inflow",
    ),
    MetricDef(
        "resolved_per_day", "Resolved / day", "cases/day", "higher_better", _AT_RESOLVED,
        "Outflow of the window divided by the elapsed days of the window, counted as for Created / day.",
        "flow", "outflow",
    ),
    MetricDef(
        "open_backlog", "Open backlog now", "cases", "lower_better", _AT_ASOF,
        "Cases open at as-of: created before as-of and not resolved before as-of. The date window "
        "does not apply.",
        "backlog-now", "open",
    ),
    MetricDef(
        "unassigned", "Unassigned", "cases", "lower_better", _AT_ASOF,
        "Cases open at as-of with no assigned agent.",
        "backlog-now", "unassigned",
    ),
    MetricDef(
        "breached", "Breached (open)", "cases", "lower_better", _AT_ASOF,
        "Cases open at as-of whose SLA due time has passed (due_at < as-of). SLA due is sla_due_at when "
        "set, else created_at + the SLA target of the case's queue and priority (defaults urgent 4 h, "
        "high 24 h, normal 48 h, low 120 h, any other priority 48 h).",
        "backlog-now", "breached",
    ),
    MetricDef(
        "oldest_age", "Oldest open case age", "seconds", "lower_better", _AT_ASOF,
        "The largest age among cases open at as-of; the age of an open case is as-of - created_at, in "
        "seconds.",
        "backlog-now", "oldest_age_s",
    ),
    MetricDef(
        "due_within_4h", "Due within 4 h", "cases", "neutral", _AT_ASOF,
        "Cases open at as-of, not yet breached, whose SLA due time falls within the next 4 hours "
        "(as-of <= due_at < as-of + 4 h). Due within 1 h is defined the same way.",
        "workload", "due_within_4h",
    ),
    MetricDef(
        "workload_open", "Open assigned cases", "cases", "neutral",
        "Snapshot at as-of; the assigned agent.",
        "Per agent: the cases open at as-of assigned to the agent. Unassigned cases are nobody's workload. "
        "Active agents with nothing open are listed with 0.",
        "workload", "open",
    ),
    MetricDef(
        "open_escalations", "Open escalations", "cases", "lower_better", _AT_ASOF,
        "Cases open at as-of that are escalated (before as-of) and whose escalation is not resolved "
        "(escalation_resolved_at null or at/after as-of).",
        "backlog-now", "open_escalations", detail_only=True,
    ),
    MetricDef(
        "aht", "Average handle time", "seconds", "lower_better", _AT_RESOLVED,
        "Mean of handle_seconds over cases resolved in the period that have a handle time (cases "
        "without one are left out, not counted as zero), attributed to the assigned agent and to the "
        "day/week of resolved_at. Comes with a 95 % t interval.",
        "handle-time", "aht_s",
    ),
    MetricDef(
        "handle_median", "Median handle time", "seconds", "lower_better", _AT_RESOLVED,
        "Median of the same handle times as AHT, with linear interpolation between the two middle "
        "values when their number is even.",
        "handle-time", "median_s",
    ),
    MetricDef(
        "handle_p90", "90th percentile handle time", "seconds", "lower_better", _AT_RESOLVED,
        "90th percentile of the same handle times as AHT, with linear interpolation: with n sorted values "
        "x1..xn, the value at position 1 + 0.9 (n - 1), interpolated between its neighbours.",
        "handle-time", "p90_s",
    ),
    MetricDef(
        "first_response", "First response time (median)", "seconds", "lower_better",
        "Day/week of first_response_at; the assigned agent, the case's queue/priority/...",
        "first_response_at - created_at in seconds, for cases whose first response falls in the period "
        "(before as-of). The table gives its count, mean, median and 90th percentile (linear "
        "interpolation); the KPI tile shows the median.",
        "first-response", "median_s",
    ),
    MetricDef(
        "resolution_time", "Resolution time (median)", "seconds", "lower_better", _AT_RESOLVED,
        "resolved_at - created_at in seconds, for cases resolved in the period; count, mean, median and "
        "90th percentile (linear interpolation).",
        "resolution-time", "median_s",
    ),
    MetricDef(
        "sla_attainment", "SLA attainment", "share", "higher_better", _AT_RESOLVED,
        "Of the cases resolved in the period, the share resolved at or before their SLA due time "
        "(resolved_at <= due_at). A case resolved after due is breached. Comes with its count and a "
        "95 % Wilson interval.",
        "sla", "sla_attainment",
    ),
    MetricDef(
        "throughput", "Resolved per agent", "cases", "higher_better", _AT_RESOLVED,
        "Cases resolved in the period, per assigned agent.",
        "throughput", "resolved",
    ),
    MetricDef(
        "resolved_per_shift_hour", "Resolved per shift hour", "cases/hour", "higher_better", _AT_RESOLVED,
        "Cases resolved in the period divided by the agent's scheduled shift hours in the same days "
        "(shifts cut at local midnights, at the window edges and at as-of). Null without shifts.",
        "throughput", "resolved_per_shift_hour",
    ),
    MetricDef(
        "utilization", "Utilization", "ratio", "neutral", _AT_RESOLVED,
        "handle_seconds of the cases the agent resolved in the period divided by the agent's scheduled "
        "shift seconds in the period. Handle time is counted on the day of resolution, so a single day "
        "can exceed 1; over weeks it evens out. Null without shifts.",
        "throughput", "utilization",
    ),
    MetricDef(
        "escalation_rate", "Escalation rate", "share", "neutral", _AT_CREATED,
        "Of the cases created in the period, the share escalated (escalated is true, or escalated_at is "
        "set, and the escalation happened before as-of). Comes with its count and a 95 % Wilson interval.",
        "escalations", "escalation_rate",
    ),
    MetricDef(
        "escalation_turnaround", "Escalation turnaround (median)", "seconds", "lower_better",
        "Day/week of escalation_resolved_at; the assigned agent, the case's queue/priority/...",
        "escalation_resolved_at - escalated_at in seconds, for escalations resolved in the period; count, "
        "mean, median and 90th percentile (linear interpolation).",
        "escalation-turnaround", "median_s",
    ),
    MetricDef(
        "reopen_rate", "Reopen rate", "share", "lower_better", _AT_RESOLVED,
        "Of the cases resolved in the period, the share with reopened_count > 0 (reopened_count has no "
        "time stamp and is used as recorded).",
        "reopens", "reopen_rate",
    ),
    MetricDef(
        "qa_mean", "QA mean score", "score", "higher_better", _AT_REVIEW,
        "Mean score (0-100) of QA reviews with reviewed_at in the period, attributed to the reviewed "
        "agent. Comes with a 95 % t interval.",
        "quality", "mean_score",
    ),
    MetricDef(
        "qa_pass_rate", "QA pass rate", "share", "higher_better", _AT_REVIEW,
        "Of the QA reviews in the period, the share that pass: score >= the pass mark (default 80) and no "
        "critical error. A critical error fails a review whatever its score.",
        "quality", "pass_rate",
    ),
    MetricDef(
        "qa_critical_errors", "QA critical errors", "reviews", "lower_better", _AT_REVIEW,
        "The number of QA reviews in the period with a critical error.",
        "quality", "critical_errors",
    ),
    MetricDef(
        "qa_reviews", "QA reviews", "reviews", "neutral", _AT_REVIEW,
        "The number of QA reviews with reviewed_at in the period.",
        "quality", "reviews",
    ),
    MetricDef(
        "qa_coverage", "QA coverage", "share", "higher_better", _AT_RESOLVED,
        "Of the cases resolved in the period, the share with at least one QA review (reviewed before "
        "as-of, at any time), attributed to the assigned agent and the day/week of resolved_at.",
        "qa-coverage", "coverage",
    ),
    MetricDef(
        "qa_criterion_mean", "QA criterion mean", "score", "higher_better", _AT_REVIEW,
        "Mean criterion score (qa_criteria) of the QA reviews in the period, per criterion.",
        "qa-criteria", "mean_score",
    ),
    MetricDef(
        "qa_mean_shrunk", "QA mean score (shrunk toward the team)", "score", "higher_better",
        _AT_REVIEW + " Pooled over the agents shown (after filters).",
        "Each agent's QA mean score pulled toward the team mean by how little the agent's reviews tell "
        "(normal-normal empirical Bayes), so that an agent with few reviews is not mistaken for an "
        "outlier. Team mean mu: the mean of all reviews; sigma^2: the pooled within-agent variance of "
        "review scores, sum (n_i - 1) s_i^2 / sum (n_i - 1); tau^2: the variance of the agents' true "
        "means (DerSimonian-Laird: with w_i = n_i / sigma^2 and Q = sum w_i (m_i - mu)^2 over the k "
        "agents, tau^2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w))). Shrunk mean = mu + B_i "
        "(m_i - mu) with B_i = tau^2 / (tau^2 + sigma^2 / n_i): many reviews keep the agent's own mean, "
        "few pull it toward mu. With one agent, or no agent with two reviews, nothing is pooled (the "
        "agent's own mean).",
        "qa-agents", "mean_score_shrunk",
    ),
    MetricDef(
        "qa_pass_rate_shrunk", "QA pass rate (shrunk toward the team)", "share", "higher_better",
        _AT_REVIEW + " Pooled over the agents shown (after filters).",
        "Each agent's QA pass rate pulled toward the team's (beta-binomial empirical Bayes). Team rate "
        "p = passes / reviews over all agents; tau^2 by DerSimonian-Laird with w_i = n_i / (p (1 - p)) "
        "and Q = sum w_i (p_i - p)^2; the prior is Beta(M p, M (1 - p)) with M = p (1 - p) / tau^2 - 1 "
        "(at least 0), so shrunk rate = (passes_i + M p) / (n_i + M). When tau^2 = 0 the agents differ "
        "no more than chance alone would make them, and every agent gets p. With one agent, or p = 0 "
        "or 1, nothing is pooled.",
        "qa-agents", "pass_rate_shrunk",
    ),
    MetricDef(
        "open_by_age", "Open cases by age", "cases", "neutral", _AT_ASOF,
        "Cases open at as-of counted by their age (as-of - created_at) in five buckets: under 4 h, "
        "4 to 24 h, 1 to 3 days, 3 to 7 days, 7 days or more; a case whose age equals a bound counts in "
        "the older bucket. The buckets add up to Open backlog now. The date window does not apply.",
        "open-age", "open",
    ),
    MetricDef(
        "at_risk", "At risk", "cases", "lower_better", "Snapshot at as-of; the assigned agent.",
        "Per agent: open assigned cases that are breached or due within the next 4 hours, i.e. Breached "
        "(open) + Due within 4 h (they do not overlap: due within 4 h counts only cases not yet "
        "breached, as-of <= due_at < as-of + 4 h).",
        "agent-load", "at_risk",
    ),
    MetricDef(
        "above_normal_load", "Above the team's normal load", "flag", "neutral",
        "Snapshot at as-of; the assigned agent, compared with the agent's team (team in agents).",
        "Per agent: true when the agent's open assigned cases exceed the team's normal-load limit, "
        "median + 1.5 x IQR of the open assigned cases of the team's active agents (quartiles by "
        "linear interpolation, IQR = third quartile - first quartile; agents with nothing open count "
        "as 0). The team's agents are counted with the same queue, priority, case type, channel and team "
        "filters but whatever the agent filter, so an agent is always compared with the whole team. A "
        "team with fewer than 4 active agents has no limit and nobody in it is flagged (empty). Agents "
        "who left (active false) but still hold open cases are compared with the limit without setting it.",
        "agent-load", "above_normal_load",
    ),
    MetricDef(
        "backlog_by_age", "Backlog by age and SLA state (end of day)", "cases", "neutral",
        "End of the local day (the next local midnight; for the as-of day: as-of), as the backlog.",
        "The cases open at the end of a day (the same cases and instant as Backlog (end of day)), "
        "counted by their age at that instant (end - created_at) in the buckets under 4 h, 4 to 24 h, "
        "1 to 3 days, 3 to 7 days, 7 days or more (a bound counts in the older bucket), and by SLA "
        "state: breached when the case's SLA due time is before that instant, else within SLA. Per day "
        "the buckets, and the two states, add up to the backlog. Of a week: the snapshot of its last "
        "window day.",
        "backlog-age", "open",
    ),
    MetricDef(
        "arrivals_per_hour", "Arrivals per hour (weekday x hour)", "cases/hour", "neutral",
        "Weekday and hour of day of created_at, in the display time zone.",
        "For each weekday and hour of day: the cases created in that hour of the week inside the window, "
        "divided by how many such hours the window holds up to as-of (a window of 4 weeks holds each "
        "hour of the week 4 times; the hour in progress at as-of counts by its elapsed fraction; a "
        "daylight-saving day's missing or repeated hour counts 0 or 2 times). The mean arrivals in that "
        "hour of the week: where to staff.",
        "arrivals", "per_hour",
    ),
    MetricDef(
        "days_to_clear", "Days to clear the backlog", "days", "lower_better",
        "Snapshot at as-of over the last 7 days (the as-of day and the 6 before it); the case's queue/...",
        "At the last 7 days' pace, the days until the backlog is cleared: the last 7 days are the as-of "
        "day and the 6 days before it, E hours up to as-of; net flow per day = (cases created - cases "
        "resolved in those days) / (E / 24). When net < 0 the backlog open at as-of clears in "
        "backlog / -net days (the clear date is as-of plus that, in the display zone); when net >= 0 "
        "the backlog does not shrink (growing, or flat at 0) and there is no date. The date window "
        "does not apply; the dimension filters do.",
        "time-to-clear", "days_to_clear",
    ),
    MetricDef(
        "agents_needed", "Agents needed to hold the SLA (Erlang C)", "agents", "neutral",
        "Snapshot at as-of over the last 7 days (the as-of day and the 6 before it); the case's queue/...",
        "The fewest agents working a queue at the same time for which at least 80 % of cases start being "
        "worked within the queue's SLA target minus its AHT, by the Erlang C model: arrival rate "
        "lambda = cases created in the last 7 days / E hours (peak: the busiest hour of the day, mean "
        "over those days), handle time = the AHT of the cases resolved in those days, SLA target = the "
        "median (due - created) of the cases created in those days. Offered load A = lambda x AHT "
        "(Erlangs, agents busy on average); Erlang B by B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)); "
        "probability of waiting C(N) = B(N) / (1 - (A / N)(1 - B(N))) for N > A; share started within "
        "t: 1 - C(N) exp(-(N - A) t / AHT). The model assumes Poisson arrivals, exponential handle "
        "times, no abandonment and agents fully available to the queue: it is a lower bound (breaks, "
        "meetings, QA and other work -- shrinkage -- are not included).",
        "time-to-clear", "agents_needed",
    ),
    MetricDef(
        "aht_vs_queue", "AHT relative to the queue's agents", "ratio", "lower_better", _AT_RESOLVED,
        "An agent's AHT in a queue divided by the queue's median agent AHT: the median (linear "
        "interpolation) of the AHTs in that queue of the agents with at least 5 cases there. 1.3 means "
        "30 % slower than the queue's typical agent. Empty for an agent with fewer than 5 cases in the "
        "queue (too few to compare).",
        "agent-queue-aht", "relative",
    ),
)  # fmt: skip

DEFINITIONS: dict[str, MetricDef] = {m.key: m for m in _DEFS}


def table(name: str) -> TableDef:
    """The report called ``name`` (raises KeyError with the known names)."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(TABLES)}") from None


# Worked examples on tsdash.metrics.example (asserted in tests/metrics/test_definitions.py).
_EXAMPLES: dict[str, str] = {
    "inflow": "Mon 03-02: c02, c03, c04 and c13 were created, inflow 4. Tue: c06, c07, 2. Wed: c08, c09, "
    "c11, 3. c10 (Thu) is outside the window; c12 was created after as-of, so it does not exist yet.",
    "outflow": "Mon: c01 (09:00) and c02 (12:00), 2. Tue: c03, c07, c06, 3. Wed: c13 (01:00) and c08 "
    "(23:30), 2. c11 was resolved Thu 14:00, after as-of: at as-of it is still open.",
    "backlog": "Open at Mon 00:00: c01 and c05 (opening backlog 2). End of Mon: 2 + 4 - 2 = 4 (c03, c04, "
    "c05, c13); end of Tue: 4 + 2 - 3 = 3 (c04, c05, c13); end of Wed: 3 + 3 - 2 = 4 (c04, c05, c09, c11).",
    "created_per_day": "9 cases created over 3 elapsed days: 3.0 per day. The previous period (Fri 02-27 to "
    "Sun 03-01) had c05 and c01: 2 / 3 = 0.667.",
    "resolved_per_day": "7 resolved over 3 days: 2.333 per day.",
    "open_backlog": "At Thu 12:00: c04, c05, c09, c10, c11, so 5. One period (3 days) earlier, Mon 12:00: "
    "c02 (resolved exactly at 12:00, so still open at 12:00), c03, c04, c05, so 4.",
    "unassigned": "c04 (policy, normal): 1.",
    "breached": "c04 (normal, due Wed 10:00) and c05 (low, due Wed 12:00): 2. c10 (urgent, created Thu "
    "09:00, due 13:00) is not breached yet.",
    "oldest_age": "c05 was created Fri 02-27 12:00: 6 days = 518400 s.",
    "due_within_4h": "c10 is due Thu 13:00, one hour after as-of: due within 4 h (1), but not within 1 h "
    "(13:00 is not before as-of + 1 h).",
    "workload_open": "a1: c09, c11, so 2; a2: c10, 1; a3: c05, 1. c04 is unassigned, nobody's workload.",
    "open_escalations": "c09 was escalated Thu 10:00 (before as-of), is open and its escalation unresolved: 1. "
    "c13's escalation is unresolved but the case is resolved, so it does not count.",
    "aht": "Resolved in the window with a handle time: a1 c01 600, c02 900, c08 1500, AHT 1000 s; a2 c03 "
    "1200 s (c06 has no handle time and is left out); a3 c07 3000, c13 2000, 2500 s. All agents: "
    "9200 / 6 = 1533.33 s.",
    "handle_median": "a1: 600, 900, 1500, median 900 s; a3: 2000, 3000, median 2500 s.",
    "handle_p90": "a1: position 1 + 0.9 x 2 = 2.8, so 900 + 0.8 x (1500 - 900) = 1380 s; a3: position 1.9, "
    "2000 + 0.9 x 1000 = 2900 s.",
    "first_response": "First responses in the window: c02 1800, c03 3600, c06 1800, c07 600, c08 1200, "
    "c13 32400 s (c01's was Sunday; c11's came Thu 13:00, after as-of). Median (1800 + 1800) / 2 = 1800 s, "
    "mean 6900 s, p90 at position 5.5: 3600 + 0.5 x 28800 = 18000 s.",
    "resolution_time": "c01 82800, c02 14400, c03 86400, c06 46800, c07 21600, c13 93600, c08 52200 s: "
    "median 52200 s, mean 56828.57 s, p90 at position 6.4: 86400 + 0.4 x 7200 = 89280 s.",
    "sla_attainment": "7 resolved; c01 (urgent, due Sun 14:00, resolved Mon 09:00) and c07 (urgent, due Tue "
    "16:00, resolved 18:00) are late: 5 / 7 = 0.714 (Wilson 95 %: 0.359 to 0.918).",
    "throughput": "a1 3 (c01, c02, c08), a2 2 (c03, c06), a3 2 (c07, c13).",
    "resolved_per_shift_hour": "a3 works Tue 20:00 to Wed 04:00 (8 h) and Wed 20:00 to Thu 04:00, of which "
    "4 h fall in the window: 12 h, 2 / 12 = 0.167 per hour. a1: 3 / 24 = 0.125.",
    "utilization": "a3: (3000 + 2000) / 43200 s = 0.116; a2: 1200 / 57600 = 0.021 (c06 has no handle time).",
    "escalation_rate": "Created in the window: 9 (c02, c03, c04, c06, c07, c08, c09, c11, c13); escalated: "
    "c03, c07, c13 and c09 (escalated Thu 10:00, before as-of): 4 / 9 = 0.444.",
    "escalation_turnaround": "Escalations resolved in the window: c03 (Mon 11:00 to 15:00, 14400 s) and c07 "
    "(Tue 13:00 to Wed 13:00, 86400 s): median 50400 s, p90 14400 + 0.9 x 72000 = 79200 s.",
    "reopen_rate": "Of the 7 resolved, c06 was reopened: 1 / 7 = 0.143.",
    "qa_mean": "Reviews in the window: r1 95 and r2 85 (a1), r3 70 (a2), r4 80 (a3); r5 comes after as-of. "
    "a1: 90; all: 82.5.",
    "qa_pass_rate": "r1 scores 95 but has a critical error: fail; r2 85 pass; r3 70 fail; r4 80 pass (at "
    "the mark). a1 1 / 2 = 0.5, a2 0, a3 1; all 2 / 4 = 0.5.",
    "qa_critical_errors": "a1: 1 (r1); a2 and a3: 0.",
    "qa_reviews": "a1 2, a2 1, a3 1.",
    "qa_coverage": "a1 resolved c01, c02, c08, of which c01 and c02 were reviewed: 2 / 3. a2 resolved c03 "
    "and c06; c06's review r5 comes after as-of: 1 / 2.",
    "qa_criterion_mean": "documentation (90 + 90 + 80 + 60) / 4 = 80; policy_accuracy (100 + 80 + 60 + 90) / "
    "4 = 82.5 (r5 is after as-of).",
    "qa_mean_shrunk": "a1 90 (r1 95, r2 85: variance 50), a2 70, a3 80 (one review each): mu = 330 / 4 = "
    "82.5, sigma^2 = 50 (only a1 has two reviews); w = 0.04, 0.02, 0.02, Q = 0.04 x 7.5^2 + 0.02 x "
    "12.5^2 + 0.02 x 2.5^2 = 5.5, tau^2 = (5.5 - 2) / (0.08 - 0.0024 / 0.08) = 70. a1: B = 70 / (70 + "
    "25) = 0.737, 82.5 + 0.737 x 7.5 = 88.03; a2: B = 70 / (70 + 50) = 0.583, 82.5 - 0.583 x 12.5 = "
    "75.21; a3: 82.5 - 0.583 x 2.5 = 81.04.",
    "qa_pass_rate_shrunk": "a1 1 / 2, a2 0 / 1, a3 1 / 1: p = 2 / 4 = 0.5, w = 8, 4, 4, Q = 8 x 0 + 4 x "
    "0.25 + 4 x 0.25 = 2 = k - 1, so tau^2 = 0: the differences are what chance alone gives, and every "
    "agent's shrunk pass rate is 0.5.",
    "open_by_age": "At Thu 12:00: c10 3 h old (< 4 h, urgent), c09 14 h (4-24 h, high), c11 26 h (1-3 d, "
    "normal), c04 74 h and c05 144 h (3-7 d, normal and low): 1 + 1 + 1 + 2 = 5, the open backlog.",
    "at_risk": "a1: 0 (c09 is due Thu 22:00, c11 Fri 10:00); a2: 1 (c10, due Thu 13:00, within 4 h); a3: 1 "
    "(c05, breached since Wed 12:00).",
    "above_normal_load": "T1 has two active agents (a1, a2) and T2 one (a3): fewer than 4, so no limit and "
    "no flag. In a team whose five active agents have 1, 2, 3, 5 and 12 open: median 3, first quartile 2 "
    "(position 1 + 0.25 x 4 = 2), third quartile 5 (position 4), IQR 3, limit 3 + 1.5 x 3 = 7.5: the "
    "agent with 12 open is above the team's normal load.",
    "backlog_by_age": "End of Wed (Thu 00:00): c09 2 h old (< 4 h), c11 14 h (4-24 h), c04 62 h (1-3 d), c05 "
    "5.5 days (3-7 d): 1 in each, 4 in all = the backlog. By SLA state: c04 (due Wed 10:00) and c05 (due Wed "
    "12:00) are breached, c09 (due Thu 22:00) and c11 (due Fri 10:00) within SLA. End of Mon: c13 1 h "
    "(< 4 h), c03 15 h and c04 14 h (4-24 h), c05 3.5 days (3-7 d), all within SLA.",
    "arrivals_per_hour": "The window Mon..Wed holds each hour of the day 3 times. Hour 09: c03 (Mon 09:00) and "
    "c08 (Wed 09:00), 2 / 3 = 0.667 per hour; by weekday and hour, Mon 09: c03, 1 / 1 = 1.0.",
    "days_to_clear": "As-of Thu 03-05 12:00: the last 7 days are Fri 02-27 to Thu, E = 156 h = 6.5 days. fraud: "
    "6 created (c01, c02, c03, c07, c10, c11), 4 resolved (c01, c02, c03, c07): net +2 / 6.5 = +0.31 per "
    "day, growing (2 open, no date). A queue with 30 open and net -5 per day would clear in 6 days.",
    "agents_needed": "With A = 2 Erlangs and 3 agents: B = (8/6) / (1 + 2 + 2 + 8/6) = 4/19, C = (4/19) / "
    "(1 - (2/3)(15/19)) = 4/9 = 0.444; with AHT 600 s and t = 60 s the share started within t is 1 - 0.444 "
    "x e^-0.1 = 0.598, too low; 4 agents: C = 4/23, 1 - 0.174 x e^-0.2 = 0.858, so 4 agents are needed. "
    "fraud in the example: 6 / 156 h x AHT 1425 s (c01, c02, c03, c07) = 0.0152 Erlangs: 1 agent.",
    "aht_vs_queue": "The example's agents have fewer than 5 cases per queue, so nothing is compared. With a "
    "minimum of 1 case: fraud agents a1 750 s (c01, c02), a2 1200 s, a3 3000 s, median 1200 s: a1 0.625, a3 "
    "2.5.",
}

DEFINITIONS = {k: replace(m, example=_EXAMPLES.get(k, m.example)) for k, m in DEFINITIONS.items()}
