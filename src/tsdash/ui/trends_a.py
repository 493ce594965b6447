"""Backlog & flow and Handle time pages (issue 5, "trends-a"), and the shared weekly chart.

**The weekly chart (for every trend page).** :func:`weekly_chart` takes the output of
:func:`tsdash.metrics.trend` and draws it the same way on every page::

    from tsdash.ui.trends_a import weekly_chart

    tr = tsdash.metrics.trend(ctx.ds, f, "aht")                 # or keys=("queue",)
    sel = weekly_chart(ctx, tr, metric="aht", title="Average handle time per week", key="aht_w")
    points = selected_points(sel, keys=("week",))               # customdata = [week, *keys]

- bars (``kind="bar"``) or a line (``kind="line"``; one line per group when ``keys`` are given);
- each week's *normal range* (the previous week ± the XmR change limit over the previous
  8 weeks, ``lower``/``upper`` of trend()) as a grey whisker (single series only);
- weeks whose change is beyond normal variation (``flag``) marked in colour (red when the
  change is for the worse, green for the better, amber for neutral metrics -- from the
  metric's ``direction``) *and* with a text label (▲ +14% / ▼ −9%), so that it does not rely
  on colour alone; partial weeks are drawn faded and never flagged;
- under the chart, one sentence per flagged week in words, e.g.
  "Average handle time rose 14% — beyond normal variation (week of 26 Oct: 9.3 min → 10.6 min;
  normal range 8.8 to 10.2 min)." (:func:`flag_sentences`, pure), or a caption saying that no
  week moved beyond normal variation.

The pure parts (:func:`flag_sentences`, :func:`fig_weekly`, :func:`value_format`) take plain
frames and are unit-tested; :func:`weekly_chart` adds the title, help, CSV and selection through
:func:`tsdash.ui.chart`. Values are formatted by the metric's unit (durations in min/h, shares as
%, counts with separators).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl
import polars.selectors as cs

from tsdash.metrics import DEFINITIONS
from tsdash.ui.charts import PALETTE
from tsdash.ui.fmt import axis_unit, fmt_duration, fmt_number, fmt_pct

WORSE, BETTER, NEUTRAL_FLAG = "#dc2626", "#059669", "#d97706"
BASE, MUTED, BAND = "#2563eb", "#94a3b8", "#64748b"
GRAIN_KEY = "grain"
GRAINS = {"week": "Weekly", "day": "Daily"}


# --------------------------------------------------------------------------- small pure helpers


def plot_text(value: object) -> str:
    """Data text for a Plotly label: ``<``, ``>`` and ``&`` escaped (Plotly renders a few tags)."""
    return html.escape("" if value is None else str(value), quote=False)


def stable(df: pl.DataFrame) -> pl.DataFrame:
    """Floats rounded to 6 decimals before drawing: Streamlit identifies a selectable chart by
    its figure, and float noise in the last bits would drop a selection on its own rerun."""
    return df.with_columns(cs.float().round(6))


def week_label(d: dt.date) -> str:
    """'week of 26 Oct'."""
    return f"week of {d.day} {d:%b}"


def value_format(
    metric: str, values: Sequence[float | None] = ()
) -> tuple[Callable[[float], str], float, str]:
    """How to show a metric: (format one value, axis divisor, axis title) from its unit.

    >>> fmt, div, title = value_format("aht", [600, 660])
    >>> fmt(630), div, title
    ('10.5 min', 60.0, 'Average handle time (min)')
    >>> value_format("sla_attainment")[0](0.9134)
    '91.3%'
    """
    d = DEFINITIONS[metric]
    if d.unit == "seconds":
        div, unit = axis_unit(values)
        return fmt_duration, div, f"{d.label} ({unit})"
    if d.unit == "share":
        return fmt_pct, 1.0, d.label
    if d.unit in ("score", "ratio", "cases/hour"):
        return (lambda v: fmt_number(v, 1)), 1.0, d.label
    return fmt_number, 1.0, f"{d.label} ({d.unit})"


def _pct_text(pct: float) -> str:
    a = abs(pct)
    return f"{a:.1f}%" if a < 10 else f"{a:.0f}%"


def change_words(value: float, previous: float | None, *, share: bool, fmt: Callable[[float], str]) -> str:
    """'rose 14%' / 'fell 6.2 percentage points' / 'rose by 12' (from zero).

    >>> change_words(114.0, 100.0, share=False, fmt=str)
    'rose 14%'
    >>> change_words(0.85, 0.912, share=True, fmt=str)
    'fell 6.2 percentage points'
    """
    if previous is None:
        return "has no previous week"
    change = value - previous
    verb = "rose" if change > 0 else "fell" if change < 0 else "stayed at"
    if change == 0:
        return f"stayed at {fmt(value)}"
    if share:
        return f"{verb} {abs(change) * 100:.1f} percentage points"
    if previous > 0:
        return f"{verb} {_pct_text(100 * change / previous)}"
    return f"{verb} by {fmt(abs(change))}"


def _flag_color(change: float, direction: str) -> str:
    if direction == "lower_better":
        return WORSE if change > 0 else BETTER
    if direction == "higher_better":
        return WORSE if change < 0 else BETTER
    return NEUTRAL_FLAG


def _group_label(row: dict, keys: Sequence[str], key_label: Callable[[str, Any], str] | None) -> str:
    parts = []
    for k in keys:
        v = row[k]
        parts.append(key_label(k, v) if key_label else ("(none)" if v is None else str(v)))
    return ", ".join(parts)


def flagged(tr: pl.DataFrame, *, include_partial: bool = False) -> pl.DataFrame:
    """The rows of a trend() frame whose change is beyond normal variation (whole weeks only,
    unless ``include_partial``), biggest relative change first."""
    if tr.height == 0:
        return tr
    keep = pl.col("flag").fill_null(False)
    if not include_partial:
        keep = keep & ~pl.col("partial").fill_null(True)
    size = (pl.col("change").abs() / pl.col("change_limit")).alias("_size")
    return tr.filter(keep).with_columns(size).sort("_size", descending=True).drop("_size")


def flag_sentences(
    tr: pl.DataFrame,
    metric: str,
    *,
    keys: Sequence[str] = (),
    key_label: Callable[[str, Any], str] | None = None,
    label: str | None = None,
    include_partial: bool = False,
    limit: int = 8,
) -> list[str]:
    """One plain-text sentence per week of ``tr`` (:func:`tsdash.metrics.trend` output for
    ``metric``) whose change is beyond normal variation: the ``limit`` biggest (relative to the
    change limit), in week order per group.

    "Average handle time rose 14% — beyond normal variation (week of 26 Oct: 9.3 min → 10.6 min;
    normal range 8.8 to 10.2 min)." With ``keys`` (e.g. ``("queue",)``) each sentence starts
    with the group ("payments_fraud: Created rose 230% — ..."), ``key_label(key, value)`` naming
    it. Partial weeks are left out (a week cut by the window or still running compares badly
    with whole weeks) unless ``include_partial``. The text is plain: escape it for Markdown.
    """
    d = DEFINITIONS[metric]
    label = label or d.label
    share = d.unit == "share"
    fmt, _, _ = value_format(metric, tr["value"].to_list() if tr.height else [])
    out = []
    top = flagged(tr, include_partial=include_partial).head(limit).sort([*keys, "week"], nulls_last=True)
    for r in top.iter_rows(named=True):
        who = f"{_group_label(r, keys, key_label)}: " if keys else ""
        words = change_words(r["value"], r["previous"], share=share, fmt=fmt)
        lo, hi = r["lower"], r["upper"]
        if lo is not None:
            lo = max(lo, 0.0)  # counts, durations and shares cannot go below zero
        band = f"normal range {fmt(lo)} to {fmt(hi)}"
        part = ", partial week" if r["partial"] else ""
        out.append(
            f"{who}{label} {words} — beyond normal variation ({week_label(r['week'])}{part}: "
            f"{fmt(r['previous'])} → {fmt(r['value'])}; {band})."
        )
    return out


# --------------------------------------------------------------------------- the figure


def _hover(r: dict, label: str, fmt: Callable[[float], str], share: bool, who: str) -> str:
    lines = [f"<b>{plot_text(who) + ' · ' if who else ''}{week_label(r['week'])}</b>"]
    if r["partial"]:
        lines[0] += " (partial week)"
    lines.append(f"{plot_text(label)}: {fmt(r['value'])}")
    if r["previous"] is not None:
        sign = "+" if r["change"] >= 0 else "−"
        ch = f"{sign}{abs(r['change']) * 100:.1f} pp" if share else f"{sign}{fmt(abs(r['change']))}"
        rel = ""
        if not share and r["previous"] > 0:
            rel = f" ({sign}{_pct_text(100 * r['change'] / r['previous'])})"
        lines.append(f"vs previous week {fmt(r['previous'])}: {ch}{rel}")
    if r["lower"] is not None:
        lo = max(r["lower"], 0.0)
        lines.append(f"normal range {fmt(lo)} to {fmt(r['upper'])}")
        if r["flag"] and not r["partial"]:
            lines.append("<b>beyond normal variation</b>")
        elif r["flag"]:
            lines.append("partial week: not judged")
    else:
        lines.append("too little history to judge (needs 4 earlier weeks)")
    return "<br>".join(lines) + "<extra></extra>"


def _mark_text(r: dict, share: bool) -> str:
    if not r["flag"] or r["partial"] or r["previous"] is None:
        return ""
    arrow = "▲" if r["change"] > 0 else "▼"
    if share:
        return f"{arrow} {r['change'] * 100:+.1f} pp"
    if r["previous"] > 0:
        pct = 100 * r["change"] / r["previous"]
        return f"{arrow} {'+' if pct > 0 else '−'}{_pct_text(pct)}"
    return arrow


def fig_weekly(
    tr: pl.DataFrame,
    metric: str,
    *,
    kind: str = "bar",
    keys: Sequence[str] = (),
    key_label: Callable[[str, Any], str] | None = None,
    label: str | None = None,
    band: bool | None = None,
    height: int | None = None,
) -> go.Figure:
    """The weekly chart of a :func:`tsdash.metrics.trend` frame (see the module docstring).

    ``customdata`` of every bar/point is ``[week (YYYY-MM-DD), *key values]``. ``band`` (the
    normal-range whiskers) defaults to on for a single series. Pure: Plotly only.
    """
    d = DEFINITIONS[metric]
    label = label or d.label
    share = d.unit == "share"
    tr = stable(tr)
    fmt, div, y_title = value_format(metric, tr["value"].to_list() if tr.height else [])
    if band is None:
        band = not keys
    fig = go.Figure()

    def scale(v: float | None) -> float | None:
        return None if v is None else v / div

    groups = tr.partition_by(list(keys), maintain_order=True, as_dict=False) if keys else [tr]
    for gi, g in enumerate(groups):
        g = g.sort("week")
        rows = list(g.iter_rows(named=True))
        who = _group_label(rows[0], keys, key_label) if keys and rows else ""
        base = PALETTE[gi % len(PALETTE)] if keys else BASE
        colors = [
            _flag_color(r["change"], d.direction) if r["flag"] and not r["partial"] else base for r in rows
        ]
        custom = [[str(r["week"]), *[r[k] for k in keys]] for r in rows]
        hover = [_hover(r, label, fmt, share, who) for r in rows]
        x = [r["week"] for r in rows]
        y = [scale(r["value"]) for r in rows]
        marks = [_mark_text(r, share) for r in rows]
        name = plot_text(who) if keys else label
        if kind == "bar":
            fig.add_trace(
                go.Bar(
                    x=x,
                    y=y,
                    name=name,
                    marker={
                        "color": colors,
                        "opacity": [0.45 if r["partial"] else 1.0 for r in rows],
                        "pattern": {"shape": ["/" if r["partial"] else "" for r in rows]},
                    },
                    text=marks,
                    textposition="outside",
                    textfont={"color": colors},
                    cliponaxis=False,
                    customdata=custom,
                    hovertemplate=hover,
                )
            )
        else:
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    name=name,
                    mode="lines+markers+text",
                    line={"color": base, "width": 2},
                    marker={
                        "color": colors,
                        "size": [13 if r["flag"] and not r["partial"] else 7 for r in rows],
                        "symbol": [
                            "circle-open" if r["partial"] else "diamond" if r["flag"] else "circle"
                            for r in rows
                        ],
                        "line": {"width": 2, "color": colors},
                    },
                    text=marks,
                    textposition="top center",
                    textfont={"color": colors},
                    customdata=custom,
                    hovertemplate=hover,
                )
            )
    if band and tr.height:
        b = tr.filter(pl.col("lower").is_not_null()).sort("week")
        if b.height:
            lo = b["lower"].clip(lower_bound=0)
            mid = (lo + b["upper"]) / 2
            fig.add_trace(
                go.Scatter(
                    x=b["week"].to_list(),
                    y=(mid / div).to_list(),
                    mode="markers",
                    name="Normal range (from the previous 8 weeks)",
                    marker={"size": 1, "color": BAND, "opacity": 0},
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": ((b["upper"] - mid) / div).to_list(),
                        "arrayminus": ((mid - lo) / div).to_list(),
                        "color": BAND,
                        "thickness": 1.5,
                        "width": 10,
                    },
                    hoverinfo="skip",
                )
            )
    fig.update_xaxes(tickformat="%d %b", title=None, dtick=7 * 86_400_000 if tr.height <= 16 else None)
    fig.update_yaxes(title=y_title, rangemode="tozero", tickformat=".0%" if share else None)
    fig.update_layout(barmode="group", showlegend=bool(keys) or band, height=height or 340)
    if kind == "bar":
        fig.update_layout(bargap=0.25)
    return fig


# --------------------------------------------------------------------------- Streamlit parts


def weekly_chart(
    ctx,
    tr: pl.DataFrame,
    *,
    metric: str,
    title: str,
    key: str,
    kind: str = "bar",
    keys: Sequence[str] = (),
    key_label: Callable[[str, Any], str] | None = None,
    label: str | None = None,
    help: str | None = None,  # noqa: A002 - Streamlit's name
    data: pl.DataFrame | None = None,
    on_select: bool = True,
    height: int | None = None,
    sentences: bool = True,
) -> Any:
    """Draw a :func:`tsdash.metrics.trend` frame as the shared weekly chart, then say in words
    which weeks moved beyond normal variation. Returns the chart's selection (``customdata`` =
    ``[week, *keys]``) when ``on_select``. ``data`` (default: ``tr``) is the CSV download.
    """
    import streamlit as st

    from tsdash.ui.components import chart
    from tsdash.ui.fmt import md_escape

    how = (
        " Weeks whose change from the previous week is beyond the normal week-to-week variation of the "
        "previous 8 weeks (XmR limits, docs/METRICS.md: week over week) are marked ▲/▼ in colour; grey "
        "whiskers show each week's normal range. Partial weeks are faded and not judged."
    )
    from tsdash.ui.components import metric_help

    help_text = (help or metric_help(metric) or "") + how
    fig = fig_weekly(tr, metric, kind=kind, keys=keys, key_label=key_label, label=label, height=height)
    sel = chart(
        fig,
        title=title,
        key=key,
        data=data if data is not None else tr,
        help=help_text,
        on_select=on_select,
    )
    if sentences:
        lines = flag_sentences(tr, metric, keys=keys, key_label=key_label, label=label)
        if lines:
            st.markdown("  \n".join(f"⚠️ {md_escape(s)}" for s in lines))
        elif tr.height:
            st.caption(
                "No whole week moved beyond the normal week-to-week variation of the 8 weeks before it."
            )
    return sel


def grain_control(ctx, *, key: str | None = None) -> str:
    """The Weekly/Daily switch (segmented control), seeded from and written back to the URL
    (``?grain=week|day``; declare ``url_keys=("grain", ...)`` in the frame). An unknown value in
    the link is reported and the weekly view shown."""
    import streamlit as st

    from tsdash.ui.fmt import md_escape

    raw = ctx.param(GRAIN_KEY)
    key = key or f"ta_grain_{ctx.page}"
    if key not in st.session_state:
        if raw is not None and raw not in GRAINS:
            st.warning(
                f"Unknown view “{md_escape(raw[:40])}” in the link (use week or day); showing the weekly view.",
                icon=":material/link_off:",
            )
        st.session_state[key] = raw if raw in GRAINS else "week"
    choice = st.segmented_control(
        "View", list(GRAINS), format_func=GRAINS.__getitem__, key=key, label_visibility="collapsed"
    )
    grain = choice if choice in GRAINS else "week"
    ctx.set_param(GRAIN_KEY, grain)
    return grain
