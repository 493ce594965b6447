"""Drill-down: the list of cases behind a chart element or a table row, leading to a case's
detail on the Cases page (``pages/7_Cases.py?case=ID`` with the current filters).

A chart page does::

    from tsdash.ui.drill import case_list, selected_points

    sel = ui.chart(fig, title=..., key="sla_week", data=table, metric="sla_attainment", on_select=True)
    points = selected_points(sel, keys=("week",))     # customdata of the selected points
    if points:
        cases = tsdash.metrics.cases_behind(ctx.ds, ctx.filter, "sla", "breached", **points[0])
        case_list(ctx, cases, key="sla_week_cases", title=f"Breached cases, week of {points[0]['week']}")

:func:`case_list` takes any frame with a ``case_id`` column (or a ``review_id``, for rows of QA
reviews or criteria), e.g. what :func:`tsdash.metrics.cases_behind` returns; it looks the cases
up in the dataset as of the view's as-of time (a later resolution or escalation is not known
yet) and shows one row per input row. Selecting a row opens the case.

:func:`case_rows` (the table) and :func:`selected_points` are pure and unit-tested.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl
import streamlit as st

from tsdash.dataset import Dataset
from tsdash.metrics import cases_as_of, pin
from tsdash.metrics.filters import DIMENSIONS, Filter
from tsdash.ui.fmt import fmt_number, md_escape

if TYPE_CHECKING:
    from tsdash.ui.frame import Context

MAX_LIST_ROWS = 500  # rows shown in a case list; the CSV download has them all
CASES_PAGE = "pages/7_Cases.py"
CASE_KEY = "case"  # the Cases page's URL key

# display column -> help text
COLUMNS: dict[str, str] = {
    "Case": "Case id; select the row to open the case.",
    "Created": "When the case was created (display time zone).",
    "Queue": "Work queue.",
    "Priority": "Priority (drives the SLA target).",
    "Agent": "Assigned agent (as recorded now; tsdash has no assignment history).",
    "Status": "Open or resolved at the view's as-of time.",
    "Hours": "Open: age at as-of (hours since creation). Resolved: resolution time (created to resolved), hours.",
    "SLA": "Open: breached (due time passed), due < 1 h, due < 4 h or on track. Resolved: met or missed.",
    "Escalated": "Escalated before the as-of time.",
}
REVIEW_COLUMNS: dict[str, str] = {
    "Reviewed": "When the QA review was done (display time zone).",
    "QA score": "Score of the review, 0-100.",
}
UNASSIGNED = "(unassigned)"


def _undimensioned(f: Filter) -> Filter:
    """The filter without dimension filters: a case behind an element is shown whatever it is."""
    return f.with_(**{d: () for d in DIMENSIONS})


def _local_text(col: str, tz: str) -> pl.Expr:
    return pl.col(col).dt.convert_time_zone(tz).dt.strftime("%Y-%m-%d %H:%M")


# the columns of a case the table is built from (the view's, at as-of)
_ROW_COLUMNS = ("created_at", "queue", "priority", "assigned_agent_id", "resolved_at", "due_at", "escalated")


def case_rows(
    ds: Dataset,
    f: Filter,
    cases: pl.DataFrame,
    names: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
    *,
    as_of_rows: bool = False,
) -> pl.DataFrame:
    """The drill-down table of ``cases`` (one row per input row, input order kept).

    Columns: Case, Created (``YYYY-MM-DD HH:MM`` in ``f.tz``), Queue, Priority, Agent (display
    name from ``names``, else the id; ``(unassigned)``), Status (open/resolved at ``f.as_of``),
    Hours (open: age at as-of; resolved: created to resolved, 0.1 h), SLA (open: breached,
    due < 1 h, due < 4 h, on track; resolved: met/missed, met when resolved at or before due, as in
    ``sla_attainment``), Escalated; plus Reviewed and QA score when the input rows are QA reviews.
    ``extra`` names columns of ``cases`` appended as they are (e.g. an escalation reason).
    Times at or after as-of are not known yet (as everywhere in tsdash); a case created after
    as-of, or not in the data, keeps its id and has empty fields.

    ``as_of_rows=True`` says that ``cases`` are rows of ``view(ds, f)`` (what
    :func:`tsdash.metrics.cases_behind` and the Live helpers return): their own columns are
    used, and the cases are not looked up again (at 10M cases a look-up costs ~80 ms per list).
    """
    names = dict(names or {})
    if "case_id" not in cases.columns:
        if "review_id" not in cases.columns:
            raise ValueError("case_list needs a case_id (or review_id) column")
        lookup = ds.qa_reviews.select("review_id", "case_id").unique("review_id", keep="first")
        cases = cases.join(lookup, on="review_id", how="left", maintain_order="left")
    f = pin(_undimensioned(f))
    as_of = f.resolved_as_of()
    hours = (
        pl.when(pl.col("resolved_at").is_null())
        .then(pl.lit(as_of) - pl.col("created_at"))
        .otherwise(pl.col("resolved_at") - pl.col("created_at"))
        .dt.total_seconds(fractional=True)
        / 3600.0
    ).round(1)
    sla = (
        pl.when(pl.col("created_at").is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("resolved_at").is_not_null())
        .then(
            pl.when(pl.col("resolved_at") <= pl.col("due_at")).then(pl.lit("met")).otherwise(pl.lit("missed"))
        )
        .when(pl.col("due_at") < as_of)
        .then(pl.lit("breached"))
        .when(pl.col("due_at") < as_of + dt.timedelta(hours=1))
        .then(pl.lit("due < 1 h"))
        .when(pl.col("due_at") < as_of + dt.timedelta(hours=4))
        .then(pl.lit("due < 4 h"))
        .otherwise(pl.lit("on track"))
    )
    agent = pl.col("assigned_agent_id").replace_strict(
        names, default=pl.col("assigned_agent_id"), return_dtype=pl.String
    )
    if as_of_rows:
        missing = [c for c in ("case_id", *_ROW_COLUMNS) if c not in cases.columns]
        if missing:
            raise ValueError(f"as_of_rows: the cases lack {', '.join(missing)}")
        base = cases.select(pl.col("case_id").cast(pl.String), *_ROW_COLUMNS)
    else:
        ids = cases.select(pl.col("case_id").cast(pl.String))
        found = (
            cases_as_of(ds, f, ids.get_column("case_id"))
            .select("case_id", *_ROW_COLUMNS)
            .unique("case_id", keep="first")
            .collect()
        )
        base = ids.with_row_index("_i").join(found, on="case_id", how="left").sort("_i")
    out = base.select(
        pl.col("case_id").alias("Case"),
        _local_text("created_at", f.tz).alias("Created"),
        pl.col("queue").alias("Queue"),
        pl.col("priority").alias("Priority"),
        pl.when(pl.col("created_at").is_null())
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(agent.fill_null(UNASSIGNED))
        .alias("Agent"),
        pl.when(pl.col("created_at").is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("resolved_at").is_null())
        .then(pl.lit("open"))
        .otherwise(pl.lit("resolved"))
        .alias("Status"),
        hours.alias("Hours"),
        sla.alias("SLA"),
        pl.col("escalated").alias("Escalated"),
    )
    if "review_id" in cases.columns and "reviewed_at" in cases.columns:
        review_cols = [_local_text("reviewed_at", f.tz).alias("Reviewed")]
        if "score" in cases.columns:
            review_cols.append(pl.col("score").cast(pl.Float64).alias("QA score"))
        out = out.with_columns(cases.select(review_cols))
    if extra:
        out = out.with_columns(cases.select(list(extra)))
    return out


# --------------------------------------------------------------------------- chart selections


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def selected_points(selection: Any, keys: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The selected points of an ``st.plotly_chart(..., on_select="rerun")`` as dicts, in order,
    without duplicates (a box over stacked bars selects the same element several times).

    With ``keys`` each point's ``customdata`` (a list, as set with ``custom_data=[...]``) is read
    into ``{key: value}`` by position, ready for ``cases_behind(ds, f, metric, **point)``; points
    without enough customdata are skipped. Without ``keys`` each dict holds the raw point: x, y,
    curve_number, point_index, customdata. Accepts the chart's return value, its ``selection``,
    or None (nothing selected).

    >>> sel = {"selection": {"points": [{"x": 1, "customdata": ["2026-03-02", None]},
    ...                                 {"x": 2, "customdata": ["2026-03-02", None]}]}}
    >>> selected_points(sel, keys=("week", "agent_id"))
    [{'week': '2026-03-02', 'agent_id': None}]
    """
    inner = _get(selection, "selection")
    points = _get(inner if inner is not None else selection, "points") or []
    out: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    for p in points:
        custom = _get(p, "customdata")
        if isinstance(custom, str | int | float) or custom is None:
            custom = [] if custom is None else [custom]
        custom = list(custom)
        if keys:
            if len(custom) < len(keys):
                continue
            item = {k: custom[i] for i, k in enumerate(keys)}
        else:
            item = {
                "x": _get(p, "x"),
                "y": _get(p, "y"),
                "curve_number": _get(p, "curve_number"),
                "point_index": _get(p, "point_index"),
                "customdata": custom,
            }
        ident = tuple(repr(v) for v in item.values())
        if ident not in seen:
            seen.add(ident)
            out.append(item)
    return out


def selected_row(event: Any) -> int | None:
    """The position of the selected row of an ``st.dataframe(..., on_select="rerun")``, or None."""
    rows = _get(_get(event, "selection"), "rows") or []
    return int(rows[0]) if rows else None


# --------------------------------------------------------------------------- the component


def open_case(ctx: Context, case_id: str) -> None:
    """Go to the case's detail on the Cases page, keeping the current filters."""
    st.switch_page(CASES_PAGE, query_params=ctx.query(**{CASE_KEY: str(case_id)}))


def case_list(
    ctx: Context,
    cases: pl.DataFrame,
    *,
    key: str,
    title: str,
    caption: str | None = None,
    limit: int = MAX_LIST_ROWS,
    empty: str = "No cases behind this selection.",
    extra: Sequence[str] = (),
    column_config: Mapping[str, Any] | None = None,
    as_of_rows: bool = False,
) -> None:
    """Show the cases behind a chart element or table row: a compact table (see
    :func:`case_rows`) of at most ``limit`` rows with a CSV download of all of them; selecting a
    row opens the case's detail (``pages/7_Cases.py?case=ID`` with the current filters).

    ``title`` and ``caption`` are plain text (escaped here); ``key`` must be unique on the page.
    ``extra`` columns of ``cases`` are shown after the standard ones (``column_config`` may
    describe them); ``limit`` caps the rows shown (the CSV has all). ``as_of_rows``: ``cases``
    are rows of the view at the page's filter (see :func:`case_rows`).
    """
    if ctx.ds is None:
        return
    ds, f, names = ctx.ds, ctx.filter, ctx.options.agents
    # case_rows gives one row per input row, in order: the rows shown are those of the first
    # ``limit`` cases, and the whole table is built only for the CSV, when it is downloaded (the
    # Cases page's list of 314k cases at 1M: 288 ms per run for the whole table)
    n = cases.height
    shown = case_rows(ds, f, cases.head(limit), names, extra=extra, as_of_rows=as_of_rows)
    unit = "case" if n == 1 else "cases"
    if "Reviewed" in shown.columns:
        unit = "review" if n == 1 else "reviews"
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    with left:
        st.markdown(f"**{md_escape(title)}** · {fmt_number(n)} {unit}")
    if caption:
        st.caption(md_escape(caption))
    if n == 0:
        st.caption(md_escape(empty))
        return
    with right:
        from tsdash.ui.components import download_csv

        download_csv(
            shown
            if n <= limit
            else lambda: case_rows(ds, f, cases, names, extra=extra, as_of_rows=as_of_rows),
            title,
            key=f"{key}__csv",
            help=f"Download all {fmt_number(n)} rows as CSV.",
        )
    if n > limit:
        st.caption(
            f"Showing the first {fmt_number(limit)} of {fmt_number(n)}; {fmt_number(n - limit)} more in the CSV download."
        )
    help_all = {**COLUMNS, **REVIEW_COLUMNS}
    config: dict[str, Any] = {c: st.column_config.Column(c, help=help_all.get(c)) for c in shown.columns}
    config["Hours"] = st.column_config.NumberColumn("Hours", help=COLUMNS["Hours"], format="%.1f")
    config["Escalated"] = st.column_config.CheckboxColumn("Escalated", help=COLUMNS["Escalated"])
    config.update(column_config or {})
    event = st.dataframe(
        shown,
        key=key,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        column_config=config,
        height=min(36 + 35 * shown.height, 390),
    )
    row = selected_row(event)
    st.caption("Select a row to open the case.")
    if row is not None and 0 <= row < shown.height:
        cid = shown["Case"][row]
        if cid is not None:
            open_case(ctx, str(cid))
