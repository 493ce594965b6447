"""The Cases page (``pages/7_Cases.py``): one case's detail (``?case=ID``) and the searchable
list of cases in the current period and filters.

The detail shows every recorded field, a timeline (from ``events``, or from the case's own
timestamps when there are none), its QA reviews with rubric scores and comments, and its
escalation. Everything from the data is shown as text (``st.dataframe``/``st.text``), never as
Markdown. Facts at or after the view's as-of time are left out, as everywhere in tsdash.

The table builders (:func:`find_case`, :func:`case_fields`, :func:`case_timeline`,
:func:`case_reviews`, :func:`case_criteria`, :func:`search_cases`) are pure and unit-tested.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from tsdash import metrics as m
from tsdash.dataset import Dataset
from tsdash.schema import CONTRACT
from tsdash.ui.components import chart, empty_state, heading, text
from tsdash.ui.drill import CASE_KEY, COLUMNS, case_list, case_rows
from tsdash.ui.fmt import fmt_duration, fmt_number, md_escape

if TYPE_CHECKING:
    from tsdash.ui.frame import Context

MAX_ID_CHARS = 200  # longer ?case= values are not ids
# which cases the list shows: label, cases_behind arguments
LIST_MODES: dict[str, tuple[str, tuple[str, str | None]]] = {
    "created": ("Created in the period", ("flow", "inflow")),
    "resolved": ("Resolved in the period", ("flow", "outflow")),
    "open": ("Open now", ("backlog-now", None)),
}
CASE_EVENT_COLUMNS = (
    ("created_at", "created"),
    ("first_response_at", "first_response"),
    ("escalated_at", "escalated"),
    ("escalation_resolved_at", "escalation_resolved"),
    ("resolved_at", "resolved"),
)
DERIVED_FIELDS = {"due_at": "SLA due (derived)", "team": "team (of the assigned agent)"}


def clean_case_id(raw: str | None) -> str | None:
    """The ``?case=`` value stripped, or None when absent, empty or too long to be an id."""
    if raw is None:
        return None
    value = raw.strip()
    if not value or len(value) > MAX_ID_CHARS:
        return None
    return value


def find_case(ds: Dataset, case_id: str) -> dict | None:
    """The case's row (all columns, as loaded) or None when the data has no such case."""
    hit = ds.cases.filter(pl.col("case_id") == case_id)
    return hit.row(0, named=True) if hit.height else None


def _fmt_cell(value: object, tz: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        local = value.astimezone(ZoneInfo(tz))
        return f"{local:%Y-%m-%d %H:%M:%S} ({tz})"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def case_fields(row: dict, tz: str) -> pl.DataFrame:
    """Every field of a case as text, in contract order then the derived and extra columns:
    columns Field, Value. Times in the display zone; handle_seconds also as a duration."""
    order = [c.name for c in CONTRACT["cases"].columns]
    names = [c for c in order if c in row] + [c for c in row if c not in order]
    fields, values = [], []
    for name in names:
        value = row[name]
        shown = _fmt_cell(value, tz)
        if name == "handle_seconds" and value is not None:
            shown = f"{shown} s ({fmt_duration(value)})"
        fields.append(DERIVED_FIELDS.get(name, name))
        values.append(shown)
    return pl.DataFrame({"Field": fields, "Value": values}, schema={"Field": pl.String, "Value": pl.String})


def case_timeline(ds: Dataset, row: dict, as_of: dt.datetime) -> tuple[pl.DataFrame, str, int]:
    """The case's timeline before ``as_of``: (frame with ts, event, agent_id; source "events" or
    "case"; number of later entries left out). Uses the events table when it has rows for the
    case, else the case's own timestamps (created, first response, escalated, escalation
    resolved, resolved)."""
    cid = row["case_id"]
    schema = {"ts": pl.Datetime("us", "UTC"), "event": pl.String, "agent_id": pl.String}
    ev = pl.DataFrame(schema=schema)
    source = "case"
    if ds.has("events") and ds.events.height:
        ev = ds.events.filter(pl.col("case_id") == cid).select(
            pl.col("ts").cast(pl.Datetime("us", "UTC")),
            pl.col("event_type").cast(pl.String).alias("event"),
            pl.col("agent_id").cast(pl.String),
        )
        source = "events"
    if ev.height == 0:
        source = "case"
        agent = row.get("assigned_agent_id")
        rows = [
            (row.get(col), label, agent if col in ("first_response_at", "resolved_at") else None)
            for col, label in CASE_EVENT_COLUMNS
            if row.get(col) is not None
        ]
        ev = pl.DataFrame(rows, schema=schema, orient="row")
    later = ev.filter(pl.col("ts") >= as_of).height
    ev = ev.filter(pl.col("ts") < as_of).sort("ts", maintain_order=True)
    return ev, source, later


def case_reviews(ds: Dataset, case_id: str, as_of: dt.datetime) -> pl.DataFrame:
    """QA reviews of the case done before ``as_of``, oldest first (all review columns)."""
    if not ds.has("qa_reviews"):
        return ds.qa_reviews.clear()
    return ds.qa_reviews.filter((pl.col("case_id") == case_id) & (pl.col("reviewed_at") < as_of)).sort(
        "reviewed_at", "review_id"
    )


def case_criteria(ds: Dataset, review_ids: list[str]) -> pl.DataFrame:
    """Rubric scores of the given reviews: review_id, criterion, score."""
    if not review_ids or not ds.has("qa_criteria"):
        return pl.DataFrame(schema={"review_id": pl.String, "criterion": pl.String, "score": pl.Float64})
    return (
        ds.qa_criteria.filter(pl.col("review_id").is_in(review_ids))
        .select("review_id", "criterion", "score")
        .sort("review_id", "criterion")
    )


def search_cases(cases: pl.DataFrame, query: str) -> pl.DataFrame:
    """Rows whose case_id contains ``query`` (literal text, case-insensitive)."""
    q = query.strip().casefold()
    if not q:
        return cases
    return cases.filter(pl.col("case_id").str.to_lowercase().str.contains(q, literal=True))


# --------------------------------------------------------------------------- rendering


def _local(col: str, tz: str) -> pl.Expr:
    return pl.col(col).dt.convert_time_zone(tz).dt.strftime("%Y-%m-%d %H:%M")


def _timeline_chart(ctx: Context, ev: pl.DataFrame, row: dict) -> None:
    tz = ctx.filter.tz
    names = ctx.options.agents
    local = ev.with_columns(pl.col("ts").dt.convert_time_zone(tz).alias("local"))
    agents = [names.get(a, a) if a else "–" for a in local["agent_id"].to_list()]
    fig = go.Figure(
        go.Scatter(
            x=local["local"].to_list(),
            y=local["event"].to_list(),
            mode="markers+lines",
            marker={"size": 11},
            line={"width": 1, "color": "#94a3b8"},
            customdata=agents,
            hovertemplate="%{y}<br>%{x|%a %d %b %Y %H:%M}<br>agent: %{customdata}<extra></extra>",
            name="events",
        )
    )
    due = row.get("due_at")
    if due is not None:
        fig.add_trace(
            go.Scatter(
                x=[due.astimezone(ctx.zone)],
                y=["SLA due"],
                mode="markers",
                marker={"size": 12, "symbol": "x", "color": "#ef4444"},
                hovertemplate="SLA due<br>%{x|%a %d %b %Y %H:%M}<extra></extra>",
                name="SLA due",
            )
        )
    fig.update_layout(height=260, showlegend=False, xaxis_title=f"time ({tz})", yaxis_title=None)
    fig.update_yaxes(
        categoryorder="array", categoryarray=list(dict.fromkeys([*local["event"].to_list(), "SLA due"]))
    )
    data = ev.select(_local("ts", tz).alias("time"), "event", pl.col("agent_id").alias("agent_id"))
    chart(
        fig,
        title="Timeline of the case (events in time order)",
        key="case_timeline",
        data=data,
        help="From the events table when it has rows for this case, else from the case's own timestamps. "
        "The red cross marks the SLA due time.",
        filename=f"case_{row['case_id']}_timeline",
    )


def render_detail(ctx: Context, case_id: str) -> bool:
    """Draw one case; False (after a notice) when the data has no such case."""
    ds = ctx.ds
    row = find_case(ds, case_id)
    if row is None or "events" not in ds.read_tables:
        # the pages read no timelines, and only the period's cases: read this case, its events
        # and its QA reviews from the source by id
        from tsdash.ui.frame import case_dataset

        one = case_dataset(ctx, case_id)
        if one is not None and (hit := find_case(one, case_id)) is not None:
            row, ds = hit, one
            ctx = replace(ctx, ds=one)
    if row is None:
        st.warning(
            md_escape(f"No case “{case_id[:80]}” in the data. Check the link, or search for the case below."),
            icon=":material/search_off:",
        )
        return False
    tz = ctx.filter.tz
    as_of = ctx.as_of
    st.subheader(md_escape(f"Case {case_id}"), anchor=False)
    ctx.link("cases", "Back to the list of cases", icon=":material/arrow_back:")
    if row["created_at"] >= as_of:
        st.info(
            md_escape(
                f"This case was created after the view's as-of time ({ctx.fmt_time(as_of)}): at that time it did "
                "not exist yet. Unfreeze the view to see it as it is now."
            ),
            icon=":material/schedule:",
        )
    summary = case_rows(ds, ctx.filter, pl.DataFrame({"case_id": [case_id]}), ctx.options.agents)
    st.dataframe(
        summary,
        hide_index=True,
        key="case_summary",
        column_config={
            "Hours": st.column_config.NumberColumn("Hours", help=COLUMNS["Hours"], format="%.1f"),
            "SLA": st.column_config.Column("SLA", help=COLUMNS["SLA"]),
            "Status": st.column_config.Column("Status", help=COLUMNS["Status"]),
        },
    )
    st.caption(md_escape(f"Status and SLA state as of {ctx.fmt_time(as_of)} ({tz})."))

    left, right = st.columns([3, 2], gap="large")
    with left:
        ev, source, later = case_timeline(ds, row, as_of)
        if ev.height == 0:
            st.caption("No timeline entries before the as-of time.")
        else:
            _timeline_chart(ctx, ev, row)
            if source == "case":
                st.caption(
                    "The timeline is built from the case's own timestamps"
                    + (
                        " (the events table has no rows for this case)."
                        if ds.has("events")
                        else " (no events table)."
                    )
                )
            table = ev.select(
                _local("ts", tz).alias("Time"),
                pl.col("event").alias("Event"),
                pl.col("agent_id")
                .replace_strict(dict(ctx.options.agents), default=pl.col("agent_id"), return_dtype=pl.String)
                .fill_null("–")
                .alias("Agent"),
            )
            st.dataframe(table, hide_index=True, key="case_events")
        if later:
            st.caption(f"{later} later timeline entries (at or after the as-of time) are not shown.")

        heading("QA reviews")
        reviews = case_reviews(ds, case_id, as_of)
        if not ds.has("qa_reviews"):
            empty_state(ctx, "missing_table", table="qa_reviews")
        elif reviews.height == 0:
            st.caption("This case has no QA review.")
        else:
            st.dataframe(
                reviews.select(
                    pl.col("review_id").alias("Review"),
                    _local("reviewed_at", tz).alias("Reviewed"),
                    pl.col("agent_id")
                    .replace_strict(
                        dict(ctx.options.agents), default=pl.col("agent_id"), return_dtype=pl.String
                    )
                    .alias("Agent"),
                    pl.col("reviewer_id").alias("Reviewer"),
                    pl.col("score").alias("Score"),
                    pl.col("critical_error").alias("Critical error"),
                    pl.col("comment").alias("Comment"),
                ),
                hide_index=True,
                key="case_reviews",
            )
            crit = case_criteria(ds, reviews["review_id"].to_list())
            if crit.height:
                st.caption("Rubric scores per criterion")
                st.dataframe(
                    crit.rename({"review_id": "Review", "criterion": "Criterion", "score": "Score"}),
                    hide_index=True,
                    key="case_criteria",
                )
            for r in reviews.filter(pl.col("comment").is_not_null()).iter_rows(named=True):
                st.caption(md_escape(f"Comment of review {r['review_id']}:"))
                text(r["comment"])

        heading("Escalation")
        esc_at = row.get("escalated_at")
        if esc_at is not None and esc_at < as_of:
            res = row.get("escalation_resolved_at")
            res = res if res is not None and res < as_of else None
            turnaround = (res - esc_at).total_seconds() if res is not None else None
            age = (as_of - esc_at).total_seconds() if res is None else None
            esc = pl.DataFrame(
                {
                    "Field": [
                        "Escalated",
                        "Reason",
                        "Escalation resolved",
                        "Turnaround" if res else "Open for",
                    ],
                    "Value": [
                        _fmt_cell(esc_at, tz),
                        row.get("escalation_reason") or "–",
                        _fmt_cell(res, tz) if res else "not yet",
                        fmt_duration(turnaround if res else age),
                    ],
                }
            )
            st.dataframe(esc, hide_index=True, key="case_escalation")
        elif row.get("escalated") and esc_at is None:
            st.caption("Marked as escalated (no escalation time recorded).")
            if row.get("escalation_reason"):
                text(f"Reason: {row['escalation_reason']}")
        else:
            st.caption("Not escalated.")
    with right:
        heading("All fields (as recorded in the source)")
        st.dataframe(case_fields(row, tz), hide_index=True, key="case_fields", height=720)
    return True


def render_list(ctx: Context) -> None:
    """The searchable list of cases in the period and filters."""
    ds, f = ctx.ds, ctx.filter
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    with c1:
        mode = st.segmented_control(
            "Cases",
            list(LIST_MODES),
            format_func=lambda k: LIST_MODES[k][0],
            key="cases_mode",
            default="created",
        )
    mode = mode if mode in LIST_MODES else "created"
    with c2:
        query = st.text_input(
            "Search by case id",
            key="cases_search",
            placeholder="e.g. C0001234 (part of an id is enough)",
            max_chars=MAX_ID_CHARS,
        )
    query = (query or "").strip()
    if query and find_case(ds, query) is not None:
        ctx.link("cases", md_escape(f"Open case {query}"), icon=":material/open_in_new:", **{CASE_KEY: query})
    label, (metric, measure) = LIST_MODES[mode]
    cases = m.cases_behind(ds, f, metric, measure)
    if mode != "open":
        cases = cases.reverse()  # newest first
    if cases.height == 0:
        kind = "no_data"
        if ctx.state.has_dimension_filters():
            all_dims = f.with_(**{d: () for d in m.DIMENSIONS})
            if m.cases_behind(ds, all_dims, metric, measure).height:
                kind = "no_match"
        if mode == "open":
            st.info("No cases are open at the as-of time.", icon=":material/inbox:")
        else:
            empty_state(ctx, kind, what=f"cases {'created' if mode == 'created' else 'resolved'}")
        return
    found = search_cases(cases.select("case_id"), query) if query else cases.select("case_id")
    caption = None
    if query:
        caption = f"{fmt_number(found.height)} of {fmt_number(cases.height)} match “{query[:80]}”."
    newest = " (newest first)" if mode != "open" else " (oldest first)"
    case_list(
        ctx,
        found,
        key="cases_list",
        title=label + newest,
        caption=caption,
        empty="No case id in this list contains the search text.",
    )


def render_cases(ctx: Context) -> None:
    """The Cases page body (after :func:`tsdash.ui.frame` with ``url_keys=("case",)``)."""
    ds = ctx.ds
    if ds is None:
        return
    if ds.cases.height == 0:
        st.info(
            "The source has no cases yet. The Data page shows what tsdash reads and the data contract.",
            icon=":material/inbox:",
        )
        return
    raw = ctx.param(CASE_KEY)
    case_id = clean_case_id(raw)
    if raw is not None and case_id is None:
        st.warning(
            "Ignored the case in the link: it is empty or too long to be a case id.",
            icon=":material/link_off:",
        )
        ctx.set_param(CASE_KEY, None)
    if case_id is not None:
        if render_detail(ctx, case_id):
            return
        ctx.set_param(CASE_KEY, None)
    render_list(ctx)
