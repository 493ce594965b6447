"""Backlog & flow: inflow, outflow and backlog by week (or day), by queue, by age and SLA state;
arrivals by hour of the week; time to clear and agents needed per queue."""

from tsdash import ui
from tsdash.ui import trends_a

ctx = ui.frame("Backlog & flow", page="backlog", url_keys=trends_a.URL_KEYS)
trends_a.render_backlog(ctx)
