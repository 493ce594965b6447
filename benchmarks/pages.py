"""What each page needs from the engine, called as the page modules call it.

The page scripts are thin; their data comes from the metrics engine. These functions make the
same engine calls as the page bodies (everything but drawing), without Streamlit's caches:

* ``overview`` (app.py, tsdash.ui.overview): the KPI tiles against the previous period, the
  sparkline under each tile, the agents whose QA or AHT moved beyond normal variation (trend
  flags per agent), and the "needs attention" lists (breached, due within 4 h / 1 h, open
  escalations).
* ``live`` (pages/1_Live_workload.py, tsdash.ui.live): the totals, queue x priority workload,
  open cases by age, per-agent load, the unassigned list and the cases due soonest.
* ``handle-time`` (pages/3_Handle_time.py, tsdash.ui.trends_a ``handle_data``): handle time in
  total, by week and by queue, the KPIs, the histogram, agents against the team median, agent x
  queue, new hires' tenure curve, and the AHT / median / p90 trends (overall and per queue).

The case lists a page always shows (Overview: breached and due within 4 h, open escalations;
Live workload: unassigned, due soonest, open escalations) are built as the page builds them
(tsdash.ui.drill ``case_rows`` of the rows shown).

The pages' own pure data helpers (tsdash.ui.overview ``spark_series`` and ``moved_agents``,
tsdash.ui.trends_a ``handle_data``) are imported when importable, so that the benchmark follows
the pages; without them the calls issue 8 names are made instead (KPIs and trends; handle time
by week, queue and agent and its trend).

``scope_for(f)`` is the pushdown a load for these pages over ``f``'s window needs (the trend's
8 weeks of history before the window and the KPIs' previous period included).
"""

from __future__ import annotations

import datetime as dt

from tsdash import metrics as m
from tsdash.metrics.stats import LOOKBACK_WEEKS

try:  # the pages' own data helpers (pure functions; the modules import Streamlit)
    from tsdash.ui.overview import moved_agents, spark_series
except ImportError:  # pragma: no cover - the page module is not there
    moved_agents = spark_series = None
try:
    from tsdash.ui.trends_a import handle_data
except ImportError:  # pragma: no cover
    handle_data = None
try:  # the lists the pages always show, as many rows as they show
    from tsdash.ui.drill import case_rows
    from tsdash.ui.live import DUE_ROWS, LIST_ROWS
    from tsdash.ui.overview import ATTENTION_ROWS
except ImportError:  # pragma: no cover - before the drill-down lists
    case_rows = None
    ATTENTION_ROWS, LIST_ROWS, DUE_ROWS = 10, 50, 25
# the pages build these lists from the view's own rows (no look-up), where case_rows can
_OWN_ROWS = (
    {"as_of_rows": True} if case_rows is not None and "as_of_rows" in case_rows.__code__.co_varnames else {}
)


def overview(ds, f, pass_mark: float = 80.0) -> dict:
    f = m.pin(f)
    out: dict = {"tiles": m.kpis(ds, f, pass_mark=pass_mark)}
    if spark_series is not None:
        out["sparks"] = {k: spark_series(ds, f, k, pass_mark=pass_mark) for k in m.KPI_KEYS}
        out["moved"] = moved_agents(ds, f, pass_mark=pass_mark)
    else:
        out["flags"] = {
            k: m.trend(ds, f, k, pass_mark=pass_mark)
            for k in m.KPI_KEYS
            if "week" in m.TABLES[m.DEFINITIONS[k].table].allowed_by
        }
    measures = ("breached", "due_within_4h", "due_within_1h", "open_escalations")
    if hasattr(m, "cases_behind_each"):  # as the page does (the open cases found once)
        out |= m.cases_behind_each(ds, f, "backlog-now", measures)
    else:  # pragma: no cover - before cases_behind_each
        for measure in measures:
            out[measure] = m.cases_behind(ds, f, "backlog-now", measure)
    if case_rows is not None:
        due = out["breached"].sort("due_at", "case_id")
        due = due.vstack(out["due_within_4h"].sort("due_at", "case_id"))
        esc = out["open_escalations"].sort("escalated_at", "case_id")
        out["lists"] = [
            case_rows(ds, f, due.head(ATTENTION_ROWS), **_OWN_ROWS),
            case_rows(ds, f, esc.head(ATTENTION_ROWS), **_OWN_ROWS),
        ]
    return out


def live_workload(ds, f, pass_mark: float = 80.0) -> dict:
    from tsdash.metrics import live_extra as lx

    f = m.pin(f)
    return {
        "totals": m.backlog_now(ds, f, (), detail=True),
        "queues": m.workload_queues(ds, f),
        "ages": lx.open_age(ds, f),
        "agents": lx.agent_load(ds, f, detail=True, all_agents=True),
        **_lists(ds, f, lx),
    }


def _lists(ds, f, lx) -> dict:
    if hasattr(m, "cases_behind_each"):  # as the page does
        each = m.cases_behind_each(ds, f, "backlog-now", ("unassigned", None))
        unassigned, open_ = each["unassigned"], each[None]
    else:  # pragma: no cover - before cases_behind_each
        unassigned, open_ = (
            m.cases_behind(ds, f, "backlog-now", "unassigned"),
            m.cases_behind(ds, f, "backlog-now"),
        )
    out = {
        "unassigned": lx.oldest_first(unassigned),
        "due": lx.due_soonest(open_, f.resolved_as_of(), limit=DUE_ROWS),
    }
    if case_rows is not None:
        from tsdash.metrics import quality_extra as qx

        esc = qx.open_escalations(ds, f)
        out["lists"] = [
            case_rows(ds, f, out["unassigned"].head(LIST_ROWS), **_OWN_ROWS),
            case_rows(ds, f, out["due"], **_OWN_ROWS),
            case_rows(ds, f, esc.head(LIST_ROWS), **_OWN_ROWS),
        ]
    return out


def handle_time_page(ds, f, pass_mark: float = 80.0) -> dict:
    f = m.pin(f)
    if handle_data is not None:
        return handle_data(ds, f, "week")
    return {
        "by_week": m.handle_time(ds, f, ("week",), detail=True),
        "by_queue": m.handle_time(ds, f, ("queue",), detail=True),
        "by_agent": m.handle_time(ds, f, ("agent_id",), detail=True),
        "trend": m.trend(ds, f, "aht", pass_mark=pass_mark),
    }


PAGES = {"overview": overview, "live": live_workload, "handle-time": handle_time_page}


def scope_for(f):
    """The Scope a load for these pages over ``f``'s window needs."""
    from tsdash.sources import Scope

    monday = f.start - dt.timedelta(days=f.start.weekday())
    first = min(monday - dt.timedelta(weeks=LOOKBACK_WEEKS + 1), f.previous().start)
    return Scope(since=f.midnight_utc(first), until=f.window_utc()[1])
