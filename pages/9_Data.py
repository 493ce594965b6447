"""Data: where the numbers come from. Source (password masked), tables with row counts, date
coverage and freshness, the validation report with the rows set aside, and the data contract.
The body is in :mod:`tsdash.ui.data_health`."""

from tsdash import ui
from tsdash.ui.data_health import render_data

ctx = ui.frame("Data", page="data", require_data=False, all_tables=True, plotly=False)
render_data(ctx)
