"""Escalations: weekly rate, reasons, queues, agents, turnaround, open escalations, escalations vs QA."""

from tsdash import ui
from tsdash.ui import trends_b

ctx = ui.frame("Escalations", page="escalations", url_keys=trends_b.URL_KEYS)
trends_b.render_escalations(ctx)
