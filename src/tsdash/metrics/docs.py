"""Render docs/METRICS.md from the registry: ``python -m tsdash.metrics.docs [PATH]``.

A test compares the committed file with :func:`render`, so the documentation cannot drift from
the definitions the app and the CLI use.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tsdash.metrics.example import example_markdown
from tsdash.metrics.registry import DEFINITIONS, TABLES

DIRECTIONS = {"higher_better": "higher is better", "lower_better": "lower is better", "neutral": "neutral"}

CONVENTIONS = """\
## Conventions (apply to every metric)

**Time zone, days and weeks.** Timestamps are stored in UTC. Days and weeks are those of the
display time zone (`--tz`, default the configured `display.timezone`): a day runs from local
midnight to the next local midnight, so a daylight-saving day is 23 or 25 hours long. Weeks start
on Monday and are labelled by the date of their Monday (`week` columns, CSV `YYYY-MM-DD`).

**Window.** `--from`/`--to` (the app's date range) are inclusive local dates: the window is
[midnight starting `from`, midnight ending `to`). A metric counts the events whose
*attribution time* (given per metric below) falls inside the window.

**Partial weeks.** A week the window cuts (for example a window starting on a Wednesday) is
still labelled by its Monday and contains only the window's days of that week, never days
outside the window; the week containing as-of holds only what happened before as-of.
`tsdash.metrics.weeks(filter)` lists the weeks of a window with `days` and `partial` so that the
app can mark them; compare partial weeks with care.

**As-of.** Every number is computed as of one instant (`--as-of`, default now; frozen in a
share link so that it shows the same numbers tomorrow). Facts at or after as-of do not exist
yet: cases created at/after as-of are left out; resolved_at, first_response_at, escalated_at
and escalation_resolved_at at/after as-of are read as empty (the case was still open, not yet
answered, not yet escalated); QA reviews at/after as-of are left out; shifts are cut at as-of.
reopened_count and handle_seconds have no time stamp and are used as recorded. Days after the
as-of day are not shown.

**Filters.** Queue, priority, case type and channel filters keep the cases with one of the
selected values. The team filter keeps cases whose assigned agent is in a selected team (the
agent's team in `agents`); the agent filter keeps cases assigned to a selected agent. **An
unassigned case has no team and no agent: any team or agent filter excludes it** (it still
counts when no team/agent filter is set). QA reviews are filtered on the reviewed agent and
their team, and on the reviewed case's queue, priority, case type and channel. Shifts are
filtered on agent and team only.

**Attribution.** Case metrics are attributed to the case's current assigned agent and that
agent's team (tsdash has no assignment history), and to the case's queue, priority, case type
and channel. An unassigned case appears under an empty `agent_id`/`team` when grouping by them.

**Open.** A case is open at time t when created_at < t and (resolved_at is empty or
resolved_at >= t).

**SLA due.** sla_due_at when set, else created_at + the SLA target of the case's queue and
priority (defaults: urgent 4 h, high 24 h, normal 48 h, low 120 h, any other or missing priority
48 h; per-queue overrides in `tsdash.toml`).

**Rows and empty windows.** A grouped table has a row only for groups with at least one counted
event, so every rate in it is defined. The flow table has a row for every day from the window start
(or the day of the first case, if later) to the window end (or the as-of day, if earlier).
A window without data gives a table with the same columns and no rows, never an error.

**Numbers.** Unrounded; durations in seconds; shares between 0 and 1. Percentiles use linear
interpolation: with n sorted values x1..xn, the q-quantile is at position 1 + q (n - 1),
interpolated between its neighbours.

**Uncertainty.** Every rate comes with its count n and a 95 % interval (`detail=True` in the
engine, the app's hover texts): the Wilson score interval for shares; the Student-t interval
mean ± t(0.975, n - 1) · s / sqrt(n) for means (none for n < 2), clipped to the values the
quantity can take (a duration's interval never goes below 0, a QA score's stays within 0-100);
for the median first response
KPI the distribution-free order-statistic interval (values at ranks floor(n/2 - 0.98 sqrt(n)) and
ceil(1 + n/2 + 0.98 sqrt(n)); none for n < 6).

**Week over week and control limits.** For a metric by week, the change is this week's value
minus the previous calendar week's (empty when that week has no value). Normal variation is
judged with an individuals/moving-range (XmR) chart over the **previous 8 weeks** (the current
week never counts): the moving ranges |x(w) - x(w-1)| whose both weeks lie in those 8 weeks are
averaged (MR-bar, at least 3 needed); the change limit is 3.267 x MR-bar (the D4 upper control
limit of a moving-range chart), so the value was expected within previous ± 3.267 x MR-bar
(`lower`, `upper`). `flag` is true when |change| exceeds the limit, i.e. the change is outside
the normal week-to-week variation; it is empty when there is not enough history. `trend` clips the band
to the values the metric can take (0 to 100 % for shares, 0 to 100 for scores, not
below 0 otherwise); the flag uses the unclipped limit.
(`tsdash.metrics.week_over_week(table, value, keys=...)`.)
"""

API = """\
## Using the engine (Python)

```python
from tsdash.metrics import Filter, TABLES, DEFINITIONS, kpis, trend, cases_behind

f = Filter(start, end, tz="Europe/Berlin", as_of=None, teams=(), queues=(), priorities=(),
           case_types=(), channels=(), agents=())
TABLES["sla"].compute(ds, f, by=("queue", "week"), detail=True)  # + counts and 95 % intervals
kpis(ds, f)                      # Overview tiles: value, n, interval, previous period, direction
trend(ds, f, "sla_attainment")   # by week, change, control limits, flag, partial
cases_behind(ds, f, "flow", "backlog", date="2026-03-02")  # the cases behind a chart element
workload_agents(ds, f); workload_queues(ds, f)             # live workload at as-of
DEFINITIONS["aht"].description   # the help text
```

Every function reads the clock at most once (`as_of=None` means now); `pin(f)` fixes it for a
series of calls. Bad groupings or selections raise `MetricError` with a one-line message.
"""


def _reports() -> str:
    lines = [
        "## Reports (`tsdash metrics NAME`)",
        "",
        "`tsdash metrics NAME --from DATE --to DATE [--tz TZ] [--as-of ISO] [--by KEYS] [--team/--queue/"
        "--priority/--agent/--case-type/--channel VALUE ...] [--format csv|json|table]` prints one of these "
        "tables, rows sorted by the key columns. `--by` replaces the default keys (e.g. `--by queue,week`); "
        "key columns come first, in `--by` order. Snapshot reports (backlog-now, workload, open-age, agent-load) ignore the date "
        "window and need no `--from`/`--to`. Numbers are unrounded, durations in seconds, dates `YYYY-MM-DD`, "
        "weeks the date of their Monday. Usage errors (unknown metric, bad date, `--from` after `--to`, "
        "unknown agent/team/queue/priority/case type/channel, impossible `--by`) print one line and exit 2. "
        "A report reads only the rows, tables and case columns it needs (never the escalation reason, "
        "outcome or status, which no report shows; the case type and channel only to filter or group by "
        "them); `quality` without a queue, priority, case type "
        "or channel reads no case rows (its numbers come from the reviews and the agents), so it does not "
        "check the reviews against the cases: `tsdash validate` and the Data page do; backlog-now, workload "
        "and open-age without such a filter read only the cases open at as-of.",
        "",
        "| report | default columns | may group by | |",
        "|---|---|---|---|",
    ]
    for td in TABLES.values():
        kind = " Snapshot at as-of." if not td.windowed else ""
        lines.append(
            f"| `{td.name}` | {', '.join(td.columns)} | {', '.join(td.allowed_by)} | {td.description}{kind} |"
        )
    return "\n".join(lines)


def _metrics() -> str:
    out = ["## Metrics", ""]
    for m in DEFINITIONS.values():
        col = f"`{m.table}` column `{m.column}`" + (" (detail)" if m.detail_only else "")
        out += [
            f"### {m.label} (`{m.key}`)",
            "",
            f"- Unit: {m.unit}; {DIRECTIONS[m.direction]}.",
            f"- Attribution: {m.attribution}",
            f"- Computed in: {col}.",
            "",
            m.description,
            "",
        ]
        if m.example:
            out += [f"*Example.* {m.example}", ""]
    return "\n".join(out)


def render() -> str:
    """The full text of docs/METRICS.md."""
    parts = [
        "# Metrics",
        "",
        "<!-- Generated from src/tsdash/metrics/registry.py by `python -m tsdash.metrics.docs`. "
        "Do not edit by hand: change the registry and regenerate. -->",
        "",
        "Every number tsdash shows has exactly one definition, below. The app's help texts, the "
        "`tsdash metrics` CLI and the tests use these same definitions (`tsdash.metrics.DEFINITIONS`).",
        "",
        CONVENTIONS,
        API,
        _reports(),
        "",
        "## The worked example",
        "",
        "Each metric below has a worked example on this data (`tsdash.metrics.example`; every number is "
        "asserted in `tests/metrics/test_definitions.py`). Display zone UTC, window Mon 2026-03-02 to "
        "Wed 2026-03-04, as-of Thu 2026-03-05 12:00. Agents a1 (team T1), a2 (T1), a3 (T2). Default SLA "
        "targets; QA pass mark 80.",
        "",
        example_markdown(),
        "",
        _metrics(),
    ]
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else Path(__file__).resolve().parents[3] / "docs" / "METRICS.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
