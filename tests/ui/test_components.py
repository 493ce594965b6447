"""Shared page helpers in AppTest: chart wrapper (title, help, CSV download, point cap), empty
states, safe text, and page-specific URL keys kept by the frame."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import HOSTILE_NAME, TIMEOUT


def _script(mode: str) -> None:
    import plotly.graph_objects as go
    import polars as pl
    import streamlit as st

    from tsdash import ui

    ctx = ui.frame("Components", page="overview", url_keys=("case",))
    st.session_state["seen_case"] = ctx.param("case")
    if mode == "chart":
        data = pl.DataFrame({"queue": ["=cmd", "q2"], "open": [3, 5]})
        fig = go.Figure(go.Bar(x=data["queue"].to_list(), y=data["open"].to_list()))
        ui.chart(fig, title="Open cases by queue", key="open_q", data=data, metric="inflow")
    elif mode == "too_many":
        fig = go.Figure(go.Scatter(x=list(range(6000)), y=list(range(6000))))
        ui.chart(fig, title="Every case", key="all", help="One point per case.")
    elif mode == "empty":
        ui.explain_empty(ctx, rows_in_window=0, rows_after_filters=0)
        ui.explain_empty(ctx, rows_in_window=5, rows_after_filters=0)
        ui.explain_empty(ctx, rows_in_window=5, rows_after_filters=0, table="qa_reviews", what="reviews")
        st.session_state["drawn"] = not ui.explain_empty(ctx, rows_in_window=5, rows_after_filters=2)
    elif mode == "text":
        name = ctx.agent_name("A3")
        ui.text(name)
        st.markdown(f"Agent: {ui.safe(name)}")
    elif mode == "set_param":
        ctx.set_param("case", "C2")


def run(mode: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_function(_script, default_timeout=TIMEOUT, args=(mode,))
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def test_chart_has_title_help_and_csv(fixture_source):
    at = run("chart")
    assert not at.exception
    title = [m for m in at.markdown if "Open cases by queue" in m.value]
    assert len(title) == 1
    assert title[0].help.startswith("Inflow of a day")  # the metric's definition
    assert len(at.get("plotly_chart")) == 1
    dl = at.get("download_button")
    assert len(dl) == 1 and "2 rows" in dl[0].help


def test_chart_refuses_too_many_points(fixture_source):
    at = run("too_many")
    assert not at.exception
    assert len(at.get("plotly_chart")) == 0
    assert "6,000 points" in at.warning[0].value


def test_empty_states_explain_themselves(fixture_source):
    at = run("empty", {"team": "Payments", "agent": "A2"})
    assert not at.exception
    infos = [i.value.replace("\\", "") for i in at.info]
    assert len(infos) == 3
    assert infos[0].startswith("No cases in this period")
    assert infos[1].startswith("No cases match the filters (team Payments; agent Bo Chen)")
    assert infos[2].startswith("No qa reviews data yet: the source has no “qa_reviews” table")
    assert at.session_state["drawn"] is True


def test_data_text_is_shown_literally(fixture_source):
    at = run("text")
    assert not at.exception
    assert at.text[-1].value == HOSTILE_NAME
    md = [m.value for m in at.markdown if m.value.startswith("Agent:")][0]
    body = md.removeprefix("Agent: ")
    # every Markdown/HTML special character of the name is escaped, and only escapes were added
    assert re.search(r"(?<!\\)[<>*\[\]()!:=]", body) is None
    assert body.replace("\\", "") == HOSTILE_NAME


def test_page_keys_are_kept_and_unknown_keys_dropped(fixture_source):
    at = run("none", {"case": "C1", "utm_source": "mail", "agent": "A1"})
    assert not at.exception
    assert at.session_state["seen_case"] == "C1"
    assert dict(at.query_params) == {"preset": "last_7", "tz": "UTC", "agent": "A1", "case": "C1"}


def test_set_param(fixture_source):
    at = run("set_param")
    assert not at.exception
    assert at.query_params["case"] == "C2"
    at.run()
    assert at.session_state["seen_case"] == "C2"


def test_house_template_is_in_every_styled_figure_json():
    import json

    import plotly.graph_objects as go
    import plotly.io as pio

    from tsdash.ui.charts import style

    fig = style(go.Figure(go.Bar(x=["a"], y=[1])))
    spec = json.loads(pio.to_json(fig, validate=False))
    white = pio.templates["plotly_white"].to_plotly_json()
    assert spec["layout"]["template"]["layout"]["plot_bgcolor"] == white["layout"]["plot_bgcolor"] == "white"
    assert spec["layout"]["colorway"][0] == "#2563eb"
