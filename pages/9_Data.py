"""Data: where the numbers come from (source, tables, freshness; validation report to come)."""

import polars as pl
import streamlit as st

from tsdash import ui
from tsdash.schema import TABLE_NAMES

ctx = ui.frame("Data", page="data", require_data=False)

st.markdown("**Source**")
ui.text(ctx.source_label)
if ctx.ds is not None:
    ds = ctx.ds
    rows = pl.DataFrame(
        {
            "table": list(TABLE_NAMES),
            "present": [ds.has(t) for t in TABLE_NAMES],
            "rows": [ds.table(t).height for t in TABLE_NAMES],
        }
    )
    st.markdown("**Tables**")
    st.dataframe(rows, hide_index=True)
    st.caption(
        f"Latest record: {ui.safe(ctx.fmt_time(ctx.latest))}; loaded {ui.safe(ctx.fmt_time(ds.loaded_at))}."
    )
