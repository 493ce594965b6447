"""Shared building blocks for pages: charts with a title, help and CSV download; downloads;
empty states; text that is always shown as text.

Text from the data or the URL (agent names, comments, reasons, ids) must never reach Markdown
unescaped: use :func:`text` (``st.text``), ``st.dataframe``, or :func:`safe` inside Markdown.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from tsdash.ui.charts import MAX_CHART_POINTS, count_points, style
from tsdash.ui.export import csv_bytes
from tsdash.ui.fmt import fmt_number, md_escape
from tsdash.ui.state import DIMENSION_LABELS

if TYPE_CHECKING:
    from collections.abc import Callable

    from tsdash.ui.frame import Context

PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "autoScale2d"]}

TABLE_HINTS = {
    "qa_reviews": "Quality numbers appear once QA reviews are loaded",
    "qa_criteria": "Per-criterion QA scores appear once rubric scores are loaded",
    "events": "Case timelines use the cases' own timestamps until events are loaded",
    "shifts": "Throughput per hour on shift and utilization appear once shifts are loaded",
}


def safe(value: object) -> str:
    """Data or URL text escaped for use inside Markdown (see :func:`tsdash.ui.fmt.md_escape`)."""
    return md_escape(value)


def text(value: object) -> None:
    """Show data or URL text literally (no Markdown, no HTML)."""
    st.text("" if value is None else str(value))


def metric_help(metric: str | None) -> str | None:
    """The metric's definition (``tsdash.metrics.DEFINITIONS[metric].description``), if known."""
    if not metric:
        return None
    try:
        from tsdash.metrics import DEFINITIONS  # type: ignore[attr-defined]
    except ImportError:
        return None
    d = DEFINITIONS.get(metric)
    return getattr(d, "description", None) if d is not None else None


def slug(title: str) -> str:
    """A file-name-safe form of a title: ``slug("Open cases by queue")`` -> 'open_cases_by_queue'."""
    s = re.sub(r"[^0-9A-Za-z]+", "_", title).strip("_").lower()
    return s[:80] or "data"


def heading(title: str, *, help: str | None = None) -> None:  # noqa: A002 - Streamlit's name
    st.markdown(f"**{md_escape(title)}**", help=help)


def download_csv(
    df: pl.DataFrame | Callable[[], pl.DataFrame],
    filename: str,
    *,
    key: str,
    label: str = "CSV",
    help: str | None = None,  # noqa: A002
) -> None:
    """A download button with ``df`` as CSV, formula cells neutralised. ``df`` may be a function
    returning the frame, called on the click (then pass ``help``, which otherwise counts its rows).

    The CSV is written when the button is clicked (Streamlit runs the callable on its own
    thread), from the frame this run showed: not on every run. Written eagerly, the Cases
    page's list (314k cases at 1M) cost 179 ms and 26 MB per run, held for the session and
    fetched by the browser while it drew the page."""
    name = filename if filename.endswith(".csv") else f"{slug(filename)}.csv"
    st.download_button(
        label,
        data=lambda: csv_bytes(df() if callable(df) else df),
        file_name=name,
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
        help=help
        or (
            f"Download the data of this chart ({fmt_number(df.height)} rows) as CSV."
            if not callable(df)
            else None
        ),
    )


def chart(
    fig: go.Figure,
    *,
    title: str,
    key: str,
    data: pl.DataFrame | None = None,
    metric: str | None = None,
    help: str | None = None,  # noqa: A002
    filename: str | None = None,
    on_select: bool = False,
    height: int | None = None,
) -> Any:
    """Render a Plotly figure under a title that says what it counts.

    ``help`` (or the definition of ``metric``) shows as the title's tooltip; ``data`` (the
    aggregated frame the chart was drawn from) is offered as a CSV download. With ``on_select``
    the chart is selectable and the selection state is returned (points carry ``customdata``).
    A figure with more than :data:`MAX_CHART_POINTS` points is not sent: aggregate first.
    """
    help_text = help or metric_help(metric)
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    with left:
        heading(title, help=help_text)
    if data is not None:
        with right:
            download_csv(data, filename or title, key=f"{key}__csv")
    n = count_points(fig)
    if n > MAX_CHART_POINTS:
        st.warning(
            f"This chart would draw {n:,} points (more than {MAX_CHART_POINTS:,}); narrow the period or "
            "the filters, or download the data."
        )
        return None
    style(fig, selectable=on_select, height=height)
    if on_select:
        return st.plotly_chart(
            fig, key=key, on_select="rerun", selection_mode=("points", "box"), config=PLOTLY_CONFIG
        )
    st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG)
    return None


# --------------------------------------------------------------------------- empty states


def empty_kind(*, has_table: bool, rows_in_window: int, rows_after_filters: int) -> str | None:
    """Which empty state applies, or None when there is something to show.

    >>> empty_kind(has_table=True, rows_in_window=10, rows_after_filters=0)
    'no_match'
    """
    if not has_table:
        return "missing_table"
    if rows_in_window == 0:
        return "no_data"
    if rows_after_filters == 0:
        return "no_match"
    return None


def describe_filters(ctx: Context) -> str:
    """'team T1, agent Ann Lee' (plain text) for the selected dimension values."""
    parts = []
    for key, values in ctx.state.dimensions().items():
        if values:
            shown = [ctx.options.label(key, v) for v in values]
            if len(shown) > 3:
                shown = [*shown[:3], f"+{len(shown) - 3} more"]
            parts.append(f"{DIMENSION_LABELS[key]} {', '.join(shown)}")
    return "; ".join(parts)


def empty_message(ctx: Context, kind: str, *, what: str = "cases", table: str | None = None) -> str:
    """The plain-text explanation for an empty state (escape before rendering as Markdown)."""
    start, end = ctx.window
    period = f"{start:%d %b %Y}" if start == end else f"{start:%d %b %Y} to {end:%d %b %Y}"
    if kind == "missing_table":
        t = table or "?"
        hint = TABLE_HINTS.get(t, f"This view needs the {t} table")
        return f"No {t.replace('_', ' ')} data yet: the source has no “{t}” table. {hint}; the Data page shows what tsdash reads."
    if kind == "no_data":
        return f"No {what} in this period ({period}). Pick a longer period in the sidebar."
    if kind == "no_match":
        desc = describe_filters(ctx)
        return (
            f"No {what} match the filters ({desc}) in {period}. Remove a filter in the sidebar to see more."
        )
    raise ValueError(f"unknown empty state {kind!r}")


def empty_state(ctx: Context, kind: str, *, what: str = "cases", table: str | None = None) -> None:
    """Show the explanation for an empty view instead of an empty chart."""
    icon = ":material/database_off:" if kind == "missing_table" else ":material/filter_alt_off:"
    if kind == "no_data":
        icon = ":material/event_busy:"
    st.info(md_escape(empty_message(ctx, kind, what=what, table=table)), icon=icon)


def explain_empty(
    ctx: Context, *, rows_in_window: int, rows_after_filters: int, table: str = "cases", what: str = "cases"
) -> bool:
    """Show the right empty state and return True when there is nothing to draw."""
    has = ctx.ds is not None and ctx.ds.has(table)
    kind = empty_kind(has_table=has, rows_in_window=rows_in_window, rows_after_filters=rows_after_filters)
    if kind is None:
        return False
    empty_state(ctx, kind, what=what, table=table)
    return True


def as_of_caption(ctx: Context) -> str:
    """'As of Mon 2 Mar 2026 14:05 (Europe/Berlin), frozen' in Markdown-safe form."""
    state = "frozen" if ctx.frozen else "live"
    return md_escape(f"As of {ctx.fmt_time(ctx.as_of)} ({ctx.filter.tz}), {state}")
