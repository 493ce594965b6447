"""tsdash home page: Overview. KPI tiles for the period against the previous period, and what
needs attention now (breached and soon-due cases, open escalations, agents whose QA or handle
time moved beyond normal variation). The body is in :mod:`tsdash.ui.overview`."""

from tsdash import ui
from tsdash.ui.overview import render_overview

ctx = ui.frame("Overview", page="overview", plotly=False)
render_overview(ctx)
