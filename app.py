"""tsdash home page: Overview (KPI tiles come with the metrics engine; for now the data at a glance)."""

import streamlit as st

from tsdash import ui

ctx = ui.frame("Overview", page="overview")

start, end = ctx.window
st.caption(ui.safe(f"{start:%a %d %b %Y} to {end:%a %d %b %Y} ({ctx.filter.days} days, {ctx.filter.tz})"))
ds = ctx.ds
cols = st.columns(4)
cols[0].metric("Cases in the data", ui.fmt_number(ds.cases.height))
cols[1].metric("Agents", ui.fmt_number(ds.agents.height))
cols[2].metric("QA reviews", ui.fmt_number(ds.qa_reviews.height) if ds.has("qa_reviews") else "–")
cols[3].metric("Timeline events", ui.fmt_number(ds.events.height) if ds.has("events") else "–")
if ds.cases.height == 0:
    st.info("The source has no cases yet. The Data page shows what tsdash reads and how to load data.")
