"""Cases: case list and case detail (?case=ID)."""

from tsdash import ui
from tsdash.ui.drill import case_list

ctx = ui.frame("Cases", page="cases", url_keys=("case",))
cid = ctx.param("case")
if cid:
    ui.text(f"case={cid}")
else:
    case_list(ctx, ctx.ds.cases.select("case_id"), key="cases_list", title="Cases")
