"""Metrics engine: pure functions over a validated :class:`tsdash.dataset.Dataset` and a :class:`Filter`.

No Streamlit, no clock reads except through :meth:`Filter.resolved_as_of` (pin a filter with
:func:`pin` to evaluate several metrics at the same instant). Every definition is in
``DEFINITIONS`` and docs/METRICS.md (generated from it).

Tables (``fn(ds, f, by=None, *, detail=False) -> pl.DataFrame``; ``by`` = grouping keys, None =
default; ``detail=True`` adds counts and 95 % intervals)::

    flow                  date | inflow, outflow, backlog
    handle_time           agent_id, week | cases, aht_s, median_s, p90_s
    quality (pass_mark=)  agent_id, week | reviews, mean_score, pass_rate, critical_errors
    escalations           week | created, escalated, escalation_rate
    sla                   week | resolved, within_sla, sla_attainment
    backlog_now           queue, priority | open, unassigned, breached, oldest_age_s
    first_response        week | cases, mean_s, median_s, p90_s
    resolution_time       week | cases, mean_s, median_s, p90_s
    reopens               week | resolved, reopened, reopen_rate
    workload              agent_id | open, breached, due_within_1h, due_within_4h, oldest_age_s
    escalation_turnaround week | escalations, mean_s, median_s, p90_s
    throughput            agent_id, week | resolved, shift_s, resolved_per_shift_hour, handle_s, utilization
    qa_coverage           agent_id, week | resolved, reviewed, coverage
    qa_criteria           criterion, week | scores, mean_score

``TABLES[name].compute(ds, f, by, detail=..., pass_mark=...)`` runs a table by its CLI name
(``"handle-time"``...). For the app: :func:`kpis`, :func:`workload_agents`,
:func:`workload_queues`, :func:`cases_behind`, :func:`trend` (week over week with control
limits), :func:`week_over_week`, :func:`weeks`.

>>> import datetime as dt
>>> from tsdash.metrics.example import example_dataset, EXAMPLE_FILTER
>>> flow(example_dataset(), EXAMPLE_FILTER).rows()[0]
(datetime.date(2026, 3, 2), 4, 2, 4)
"""

from tsdash.metrics.core import MetricError, View, cases_as_of, pin, view
from tsdash.metrics.filters import DIMENSIONS, Filter
from tsdash.metrics.overview import (
    KPI,
    KPI_KEYS,
    cases_behind,
    cases_behind_each,
    elapsed_days,
    kpis,
    trend,
    workload_agents,
    workload_queues,
)
from tsdash.metrics.registry import DEFINITIONS, TABLES, MetricDef, TableDef
from tsdash.metrics.stats import median_interval, week_over_week, wilson
from tsdash.metrics.tables import (
    DEFAULT_PASS_MARK,
    backlog_now,
    escalation_turnaround,
    escalations,
    first_response,
    flow,
    handle_time,
    qa_coverage,
    qa_criteria,
    quality,
    reopens,
    resolution_time,
    sla,
    throughput,
    weeks,
    workload,
)

__all__ = [
    "DEFAULT_PASS_MARK",
    "DEFINITIONS",
    "DIMENSIONS",
    "KPI",
    "KPI_KEYS",
    "TABLES",
    "Filter",
    "MetricDef",
    "MetricError",
    "TableDef",
    "View",
    "backlog_now",
    "cases_as_of",
    "cases_behind",
    "cases_behind_each",
    "elapsed_days",
    "escalation_turnaround",
    "escalations",
    "first_response",
    "flow",
    "handle_time",
    "kpis",
    "median_interval",
    "pin",
    "qa_coverage",
    "qa_criteria",
    "quality",
    "reopens",
    "resolution_time",
    "sla",
    "throughput",
    "trend",
    "view",
    "week_over_week",
    "weeks",
    "wilson",
    "workload",
    "workload_agents",
    "workload_queues",
]
