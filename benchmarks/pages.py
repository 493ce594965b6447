"""What each page needs from the engine, called as the pages call it.

The page scripts are thin: each one calls the engine for its charts and tiles. These functions
make the same calls, so that their time is the page's data time (everything except drawing):

* Overview: the KPI tiles (current and previous period) and the "needs attention" flags -- the
  week-over-week trend with control limits of every KPI that has a weekly trend.
* Live workload: workload per agent, per queue and priority, and the backlog-now table.
* Handle time: handle time (with counts and intervals) by week, by queue and by agent, and the
  AHT trend.

``scope_for(window)`` is the pushdown a page load over that window needs (the trend's 8 weeks of
history before the window and the KPI's previous period included).
"""

from __future__ import annotations

import datetime as dt

from tsdash.metrics import (
    DEFINITIONS,
    KPI_KEYS,
    TABLES,
    backlog_now,
    handle_time,
    kpis,
    pin,
    trend,
    workload_agents,
    workload_queues,
)
from tsdash.metrics.stats import LOOKBACK_WEEKS

# KPIs with a weekly trend (open_backlog is a snapshot at as-of)
TREND_KEYS = tuple(k for k in KPI_KEYS if "week" in TABLES[DEFINITIONS[k].table].allowed_by)


def overview(ds, f, pass_mark: float = 80.0) -> dict:
    f = pin(f)
    tiles = kpis(ds, f, pass_mark=pass_mark)
    flags = {}
    for key in TREND_KEYS:
        tr = trend(ds, f, key, pass_mark=pass_mark)
        flags[key] = tr["flag"][-1] if tr.height else None
    return {"tiles": tiles, "flags": flags}


def live_workload(ds, f, pass_mark: float = 80.0) -> dict:
    f = pin(f)
    return {
        "agents": workload_agents(ds, f),
        "queues": workload_queues(ds, f),
        "backlog": backlog_now(ds, f, detail=True),
    }


def handle_time_page(ds, f, pass_mark: float = 80.0) -> dict:
    f = pin(f)
    return {
        "by_week": handle_time(ds, f, ("week",), detail=True),
        "by_queue": handle_time(ds, f, ("queue",), detail=True),
        "by_agent": handle_time(ds, f, ("agent_id",), detail=True),
        "trend": trend(ds, f, "aht", pass_mark=pass_mark),
    }


PAGES = {"overview": overview, "live": live_workload, "handle-time": handle_time_page}


def scope_for(f):
    """The Scope a load for these pages over ``f``'s window needs."""
    from tsdash.sources import Scope

    monday = f.start - dt.timedelta(days=f.start.weekday())
    first = min(monday - dt.timedelta(weeks=LOOKBACK_WEEKS), f.previous().start)
    return Scope(since=f.midnight_utc(first), until=f.window_utc()[1])
