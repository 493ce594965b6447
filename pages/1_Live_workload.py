"""Live workload: open cases by queue and priority, their ages, per-agent load, the unassigned
queue, open escalations and cases due soonest, refreshing on a timer. The body is in
:mod:`tsdash.ui.live`."""

from tsdash import ui
from tsdash.ui import live

ctx = ui.frame("Live workload", page="live", require_data=False)
live.render(ctx)
