"""Quality: weekly QA scores, agents with honest intervals, rubric criteria, coverage, reviews."""

from tsdash import ui
from tsdash.ui import trends_b

ctx = ui.frame("Quality", page="quality", url_keys=trends_b.URL_KEYS)
trends_b.render_quality(ctx)
