"""Cases: the detail of one case (``?case=ID``: fields, timeline, QA reviews, escalation) or the
searchable list of cases in the period and filters. The body is in :mod:`tsdash.ui.case_detail`."""

from tsdash import ui
from tsdash.ui.case_detail import render_cases

ctx = ui.frame("Cases", page="cases", url_keys=("case",), plotly=False)
render_cases(ctx)
