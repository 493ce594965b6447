"""Backlog & flow and Handle time pages (issue 5, "trends-a"), and the shared weekly chart.

**The weekly chart (for every trend page).** :func:`weekly_chart` takes the output of
:func:`tsdash.metrics.trend` and draws it the same way on every page::

    from tsdash.ui.trends_a import weekly_chart

    tr = tsdash.metrics.trend(ctx.ds, f, "aht")                 # or keys=("queue",)
    tr = in_window(tr, tsdash.metrics.handle_time(ctx.ds, f, ("week",)), "aht_s")  # see in_window
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
import math
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


def period_axis(fig: go.Figure, grain: str, periods: int) -> go.Figure:
    """Date x axis of a weekly (ticks on Mondays, labelled '28 Sep') or daily chart."""
    if grain == "week":
        step = max(1, math.ceil(periods / 14))
        fig.update_xaxes(tick0="2000-01-03", dtick=7 * step * 86_400_000, tickformat="%d %b", title=None)
    else:
        fig.update_xaxes(tickformat="%d %b", title=None)
    return fig


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


def in_window(tr: pl.DataFrame, table: pl.DataFrame, column: str, keys: Sequence[str] = ()) -> pl.DataFrame:
    """``tr`` (trend() output) with ``value`` taken from the engine's table of the window itself
    (``table`` grouped by ``(*keys, "week")``, its column ``column``).

    trend() computes every week whole (its history starts 8 weeks before the window), so a first
    week that the window cuts would show days before the window; the window's table holds only
    the window's days of that week, as the page's other numbers do. Whole weeks are the same in
    both. ``previous``, ``change`` and the limits stay trend()'s (whole weeks), and partial weeks
    are never flagged in words. Weeks without a row in ``table`` are dropped."""
    if tr.height == 0:
        return tr
    on = [*keys, "week"]
    t = table.select(*on, pl.col(column).cast(pl.Float64).alias("_v"))
    out = tr.join(t, on=on, how="inner", nulls_equal=True)
    return (
        out.with_columns(pl.col("_v").cast(tr.schema["value"]).alias("value"))
        .drop("_v")
        .sort(on, nulls_last=True)
    )


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
                    marker={
                        "size": 10,
                        "color": BAND,
                        "symbol": "line-ew-open",
                        "line": {"width": 1.5, "color": BAND},
                    },
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
    period_axis(fig, "week", tr["week"].n_unique() if tr.height else 0)
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


# =========================================================================== the two pages
#
# Data prep is pure (engine + flow_extra), figures are pure (Plotly), render_* lay them out.

URL_KEYS: tuple[str, ...] = (GRAIN_KEY, "measure")
AGE_COLORS = ("#bfdbfe", "#60a5fa", "#f59e0b", "#ea580c", "#991b1b")  # young light -> old dark red
SLA_COLORS = {"within SLA": "#60a5fa", "breached": "#dc2626"}
INFLOW_C, OUTFLOW_C, BACKLOG_C = "#2563eb", "#10b981", "#0f172a"
MEASURES = {"inflow": "Created", "outflow": "Resolved", "backlog": "Backlog (end of period)"}


def agent_label(names: dict[str, str], agent_id: str | None) -> str:
    """'Name (A06)', or the id alone when there is no other name; 'Unassigned' for none."""
    if agent_id is None:
        return "Unassigned"
    name = names.get(agent_id, agent_id)
    return agent_id if name == agent_id else f"{name} ({agent_id})"


def period_label(grain: str, d: dt.date) -> str:
    return week_label(d) if grain == "week" else f"{d:%a} {d.day} {d:%b}"


def partial_periods(f, grain: str) -> set[dt.date]:
    """Weeks (Mondays) or days of the window that are incomplete: cut by the window or still
    running at as-of."""
    from tsdash import metrics as m

    f = m.pin(f)
    if grain == "week":
        w = m.weeks(f)
        return set(w.filter(pl.col("partial"))["week"].to_list())
    as_of = f.resolved_as_of()
    day = (as_of - dt.timedelta(microseconds=1)).astimezone(f.zone).date()
    if f.midnight_utc(day + dt.timedelta(days=1)) > as_of and f.start <= day <= f.end:
        return {day}
    return set()


def snapshot_day(f, grain: str, period: dt.date) -> dt.date:
    """The day whose end-of-day snapshot a period's backlog is: the day itself, or for a week its
    last window day begun before as-of (as the flow table's weekly backlog)."""
    if grain != "week":
        return period
    from tsdash import metrics as m

    f = m.pin(f)
    last = (f.resolved_as_of() - dt.timedelta(microseconds=1)).astimezone(f.zone).date()
    return min(period + dt.timedelta(days=6), f.end, last)


def _as_date(v: Any) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])


# --------------------------------------------------------------------------- backlog: data


def backlog_data(ds, f, grain: str) -> dict[str, Any]:
    """Everything the Backlog & flow page draws (pure; engine tables and flow_extra):
    flow (period | inflow, outflow, backlog), by_queue (period, queue | ...), age, sla (period,
    age_bucket/sla_state | open), heat (weekday, hour | arrivals, hours, per_hour), hours
    (hours observed), clear (time-to-clear per queue), trends (inflow/outflow/backlog; weekly only),
    kpis, partial (incomplete periods)."""
    from tsdash import metrics as m
    from tsdash.metrics import flow_extra as fx

    f = m.pin(f)
    x = "week" if grain == "week" else "date"
    out: dict[str, Any] = {
        "x": x,
        "flow": m.flow(ds, f, (x,)),
        "by_queue": m.flow(ds, f, (x, "queue")),
        "age": fx.backlog_age(ds, f, (x, "age_bucket")),
        "sla": fx.backlog_age(ds, f, (x, "sla_state")),
        "heat": fx.arrivals(ds, f),
        "hours": fx.hours_observed(f),
        "clear": fx.time_to_clear(ds, f),
        "kpis": m.kpis(ds, f, keys=("open_backlog", "created_per_day", "resolved_per_day")),
        "partial": partial_periods(f, grain),
        "trends": {},
    }
    if grain == "week":
        out["trends"] = {
            k: in_window(m.trend(ds, f, k), out["flow"], k) for k in ("inflow", "outflow", "backlog")
        }
    return out


def busiest_hours(heat: pl.DataFrame, n: int = 3) -> list[tuple[str, str, float]]:
    """The ``n`` (weekday, hour, mean arrivals per hour) with the most arrivals per hour."""
    if heat.height == 0:
        return []
    top = heat.sort(["per_hour", "weekday", "hour"], descending=[True, False, False]).head(n)
    return [(r["weekday"], r["hour"], r["per_hour"]) for r in top.iter_rows(named=True)]


def hour_span(hour: str) -> str:
    """'19' -> '19:00–20:00'."""
    h = int(hour)
    return f"{h:02d}:00–{(h + 1) % 24:02d}:00"


def clear_sentences(clear: pl.DataFrame, fmt_date: Callable[[dt.date], str]) -> list[str]:
    """'payments_fraud: growing by 3.4 cases a day (72 open).' per queue, growing first."""
    out = []
    order = {"growing": 0, "flat": 1, "shrinking": 2, "clear": 3}
    rows = sorted(
        clear.iter_rows(named=True), key=lambda r: (order.get(r["status"], 9), -(r["backlog"] or 0))
    )
    for r in rows:
        q = r["queue"] if r.get("queue") is not None else "(no queue)"
        if r["status"] == "growing":
            out.append(
                f"{q}: growing by {r['net_per_day']:.1f} cases a day ({fmt_number(r['backlog'])} open)."
            )
        elif r["status"] == "flat":
            out.append(f"{q}: not shrinking ({fmt_number(r['backlog'])} open, as many resolved as created).")
        elif r["status"] == "shrinking":
            out.append(
                f"{q}: {fmt_number(r['backlog'])} open, shrinking by {-r['net_per_day']:.1f} a day — clear in "
                f"{r['days_to_clear']:.1f} days ({fmt_date(r['clear_date'])})."
            )
        else:
            out.append(f"{q}: nothing open.")
    return out


# --------------------------------------------------------------------------- backlog: figures


def fig_flow(
    fl: pl.DataFrame,
    x: str,
    grain: str,
    *,
    partial: set[dt.date] | frozenset[dt.date] = frozenset(),
    trends: dict[str, pl.DataFrame] | None = None,
) -> go.Figure:
    """Inflow and outflow bars with the end-of-period backlog line (right axis). customdata =
    [period, measure]. Weekly: bars/points of weeks beyond normal variation carry ▲/▼ and the
    flag colour (as :func:`fig_weekly`); partial periods are faded."""
    trends = trends or {}
    fig = go.Figure()
    rows = list(fl.sort(x).iter_rows(named=True))
    note = " (partial week)" if grain == "week" else " (day in progress)"

    def marks(measure: str, base: str) -> tuple[list[str], list[str]]:
        tr = trends.get(measure)
        if tr is None or tr.height == 0:
            return [""] * len(rows), [base] * len(rows)
        by_week = {r["week"]: r for r in tr.iter_rows(named=True)}
        text, colors = [], []
        for r in rows:
            t = by_week.get(r[x])
            flagged_ = t is not None and t["flag"] and not t["partial"]
            text.append(_mark_text(t, False) if flagged_ else "")
            colors.append(_flag_color(t["change"], DEFINITIONS[measure].direction) if flagged_ else base)
        return text, colors

    for measure, color in (("inflow", INFLOW_C), ("outflow", OUTFLOW_C)):
        text, colors = marks(measure, color)
        fig.add_trace(
            go.Bar(
                x=[r[x] for r in rows],
                y=[r[measure] for r in rows],
                name=MEASURES[measure],
                marker={
                    "color": color,
                    "opacity": [0.45 if r[x] in partial else 1.0 for r in rows],
                    "line": {
                        "color": [c if c != color else color for c in colors],
                        "width": [3 if c != color else 0 for c in colors],
                    },
                },
                text=text,
                textposition="outside",
                textfont={"color": colors},
                cliponaxis=False,
                customdata=[[str(r[x]), measure] for r in rows],
                hovertemplate=[
                    f"<b>{period_label(grain, r[x])}</b>{note if r[x] in partial else ''}<br>"
                    f"{MEASURES[measure]}: {fmt_number(r[measure])}<extra></extra>"
                    for r in rows
                ],
            )
        )
    text, colors = marks("backlog", BACKLOG_C)
    fig.add_trace(
        go.Scatter(
            x=[r[x] for r in rows],
            y=[r["backlog"] for r in rows],
            name="Backlog at the end of the " + ("week" if grain == "week" else "day"),
            mode="lines+markers+text" if any(text) else "lines+markers",
            yaxis="y2",
            line={"color": BACKLOG_C, "width": 2.5},
            marker={
                "color": colors,
                "size": [13 if t else 7 for t in text],
                "symbol": [
                    "circle-open" if r[x] in partial else "diamond" if t else "circle"
                    for r, t in zip(rows, text, strict=True)
                ],
            },
            text=text,
            textposition="top center",
            textfont={"color": colors},
            customdata=[[str(r[x]), "backlog"] for r in rows],
            hovertemplate=[
                f"<b>{period_label(grain, r[x])}</b>{note if r[x] in partial else ''}<br>Open at the end: "
                f"{fmt_number(r['backlog'])}<extra></extra>"
                for r in rows
            ],
        )
    )
    top = max([r["backlog"] for r in rows] + [1]) * 1.15
    fig.update_layout(
        barmode="group",
        height=380,
        yaxis={"title": "Cases created / resolved", "rangemode": "tozero"},
        yaxis2={
            "title": "Open cases",
            "overlaying": "y",
            "side": "right",
            "range": [0, top],
            "showgrid": False,
        },
        bargap=0.2,
    )
    period_axis(fig, grain, len(rows))
    return fig


def fig_stacked(
    df: pl.DataFrame,
    x: str,
    group: str,
    value: str,
    order: Sequence[str],
    grain: str,
    *,
    colors: Sequence[str] | dict[str, str] | None = None,
    partial: set[dt.date] | frozenset[dt.date] = frozenset(),
    y_title: str = "Cases",
    what: str = "cases",
) -> go.Figure:
    """Stacked bars of ``value`` per period, one trace per ``group`` value in ``order`` (bottom
    first). customdata = [period, group value]."""
    fig = go.Figure()
    note = " (partial week)" if grain == "week" else " (day in progress)"
    totals = dict(df.group_by(x).agg(pl.col(value).sum()).iter_rows())
    for i, g in enumerate(order):
        d = df.filter(pl.col(group) == g).sort(x)
        if d.height == 0:
            continue
        if isinstance(colors, dict):
            color = colors.get(g, PALETTE[i % len(PALETTE)])
        elif colors:
            color = colors[i % len(colors)]
        else:
            color = PALETTE[i % len(PALETTE)]
        fig.add_trace(
            go.Bar(
                x=d[x].to_list(),
                y=d[value].to_list(),
                name=plot_text(g),
                marker={"color": color, "opacity": [0.45 if p in partial else 1.0 for p in d[x]]},
                customdata=[[str(p), g] for p in d[x]],
                hovertemplate=[
                    f"<b>{period_label(grain, p)}</b>{note if p in partial else ''}<br>{plot_text(g)}: "
                    f"{fmt_number(v)} {what} of {fmt_number(totals.get(p, 0))}<extra></extra>"
                    for p, v in zip(d[x], d[value], strict=True)
                ],
            )
        )
    fig.update_layout(barmode="stack", height=360, bargap=0.15)
    fig.update_yaxes(title=y_title, rangemode="tozero")
    period_axis(fig, grain, df[x].n_unique() if df.height else 0)
    return fig


def heat_grid(heat: pl.DataFrame, hours: pl.DataFrame) -> pl.DataFrame:
    """All 7 x 24 cells: weekday, hour, arrivals (0 when none), hours observed, per_hour (0 when
    observed without arrivals, null when the window never holds that hour)."""
    from tsdash.metrics.flow_extra import HOURS, WEEKDAYS

    cells = pl.DataFrame(
        {"weekday": [w for w in WEEKDAYS for _ in HOURS], "hour": [h for _ in WEEKDAYS for h in HOURS]}
    )
    g = cells.join(hours, on=["weekday", "hour"], how="left").join(
        heat.select("weekday", "hour", "arrivals"), on=["weekday", "hour"], how="left"
    )
    return g.with_columns(
        pl.col("arrivals").fill_null(0),
        pl.when(pl.col("hours") > 0)
        .then(pl.col("arrivals").fill_null(0) / pl.col("hours"))
        .alias("per_hour"),
    )


def fig_heatmap(grid: pl.DataFrame, tz: str) -> go.Figure:
    """Weekday (rows, Monday on top) x hour of day (columns): mean arrivals per hour."""
    from tsdash.metrics.flow_extra import HOURS, WEEKDAYS

    z, text, hover = [], [], []
    cell = {(r["weekday"], r["hour"]): r for r in grid.iter_rows(named=True)}
    for w in WEEKDAYS:
        zr, tr_, hr = [], [], []
        for h in HOURS:
            r = cell[(w, h)]
            v = r["per_hour"]
            zr.append(None if v is None else round(v, 6))
            tr_.append("" if v is None else f"{v:.0f}" if v >= 10 else f"{v:.1f}")
            hr.append(
                f"<b>{w} {hour_span(h)}</b> ({plot_text(tz)})<br>"
                + (
                    "not in the period"
                    if v is None
                    else f"{v:.1f} cases created per hour on average<br>{fmt_number(r['arrivals'])} over "
                    f"{r['hours']:.1f} hours observed"
                )
            )
        z.append(zr)
        text.append(tr_)
        hover.append(hr)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{h}" for h in HOURS],
            y=list(WEEKDAYS),
            text=text,
            texttemplate="%{text}",
            textfont={"size": 10},
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            colorscale="Blues",
            colorbar={"title": {"text": "per hour"}, "thickness": 12},
            xgap=1,
            ygap=1,
        )
    )
    fig.update_yaxes(autorange="reversed", title=None)
    fig.update_xaxes(title=f"Hour of day ({plot_text(tz)})", type="category")
    fig.update_layout(height=330)
    return fig


# --------------------------------------------------------------------------- Streamlit helpers


def _selected(sel: Any) -> list[list[Any]]:
    from tsdash.ui.drill import selected_points

    return [p["customdata"] for p in selected_points(sel) if p["customdata"]]


def _drill(
    ctx, sel: Any, fetch: Callable[[list[Any]], tuple | None], key: str, hint: str | None = None
) -> None:
    """List the cases behind the first selected element: ``fetch(customdata)`` returns
    (cases, title) or (cases, title, caption) or None."""
    import streamlit as st

    from tsdash import metrics as m
    from tsdash.ui.drill import case_list
    from tsdash.ui.fmt import md_escape

    points = _selected(sel)
    if not points:
        st.caption(hint or "Drag a box over a bar or point to list the cases behind it.")
        return
    try:
        got = fetch(points[0])
    except (m.MetricError, ValueError) as exc:
        st.info(md_escape(str(exc)))
        return
    if got is None:
        return
    cases, title, *rest = got
    extra = rest[1] if len(rest) > 1 else ()
    config = rest[2] if len(rest) > 2 else None
    case_list(
        ctx, cases, key=f"{key}__cases", title=title, caption=rest[0] if rest else None, extra=extra,
        column_config=config,
    )  # fmt: skip


def _period_text(ctx) -> str:
    start, end = ctx.window
    return f"{start:%d %b %Y}" if start == end else f"{start:%d %b %Y} to {end:%d %b %Y}"


def _short_window_hint(ctx, grain: str) -> None:
    import streamlit as st

    if grain == "week" and ctx.filter.days < 28:
        st.caption(
            "The weekly view shows the weeks of the chosen period; pick *Last 90 days* (or a longer custom "
            "range) in the sidebar for a trend over many weeks."
        )


def _cached(name: str, fn: Callable, ctx, *parts: Any) -> Any:
    """``fn(ds, filter, *parts)`` cached per (data version, filter, parts) for the session's
    reruns (selections rerun the page)."""
    import streamlit as st

    store = st.session_state.setdefault("_trends_a_cache", {})
    key = (name, ctx.cache_key(*parts))
    if key not in store:
        if len(store) > 8:
            store.clear()
        store[key] = fn(ctx.ds, ctx.filter, *parts)
    return store[key]


# --------------------------------------------------------------------------- Backlog & flow page


def render_backlog(ctx) -> None:
    """The Backlog & flow page body."""
    import streamlit as st

    from tsdash import metrics as m
    from tsdash.ui import components as uc

    grain = grain_control(ctx)
    f = ctx.filter
    data = _cached("backlog", backlog_data, ctx, grain)
    if data["flow"].height == 0 or (data["flow"]["inflow"].sum() == 0 and data["flow"]["backlog"].max() == 0):
        all_dims = m.pin(f.with_(**{d: () for d in m.DIMENSIONS}))
        in_window = m.flow(ctx.ds, all_dims, ())
        n = int(in_window["inflow"].sum() + in_window["backlog"].sum()) if in_window.height else 0
        uc.explain_empty(ctx, rows_in_window=n, rows_after_filters=0)
        return
    st.caption(
        uc.safe(
            f"Cases created and resolved in {_period_text(ctx)}, and the cases open at the end of each "
            f"{'week' if grain == 'week' else 'day'} ({ctx.filter.tz})."
        )
    )
    _short_window_hint(ctx, grain)
    _backlog_tiles(ctx, data)
    _flow_section(ctx, data, grain)
    _queue_section(ctx, data, grain)
    _age_section(ctx, data, grain)
    _heat_section(ctx, data)
    _clear_section(ctx, data)


def _backlog_tiles(ctx, data: dict) -> None:
    import streamlit as st

    k = data["kpis"]
    vs = f"vs the previous {ctx.filter.days} days"

    def delta(key: str, fmt: Callable[[float], str]) -> str | None:
        d = k[key].delta
        return None if d is None else ("+" if d >= 0 else "−") + fmt(abs(d))

    fl = data["flow"]
    cols = st.columns(4)
    cols[0].metric(
        "Open now", fmt_number(k["open_backlog"].value), delta("open_backlog", fmt_number), delta_color="inverse",
        help=k["open_backlog"].description + f" Change {vs}.",
    )  # fmt: skip
    cols[1].metric(
        "Created per day", fmt_number(k["created_per_day"].value, 1), delta("created_per_day", lambda v: f"{v:.1f}"),
        delta_color="off", help=k["created_per_day"].description + f" Change {vs}.",
    )  # fmt: skip
    cols[2].metric(
        "Resolved per day", fmt_number(k["resolved_per_day"].value, 1),
        delta("resolved_per_day", lambda v: f"{v:.1f}"), help=k["resolved_per_day"].description + f" Change {vs}.",
    )  # fmt: skip
    net = int(fl["inflow"].sum() - fl["outflow"].sum())
    cols[3].metric(
        "Created − resolved", f"{net:+,}", help="Cases created minus cases resolved in the period (the flow "
        "table's inflow and outflow): positive means the backlog grew.",
    )  # fmt: skip


def _flow_fetch(ctx, grain: str, x: str, queue: bool = False) -> Callable[[list[Any]], tuple | None]:
    from tsdash import metrics as m

    def fetch(cd: list[Any]) -> tuple | None:
        period = _as_date(cd[0])
        measure = cd[1] if len(cd) > 1 and cd[1] in MEASURES else "inflow"
        sel: dict[str, Any] = {x: period}
        where = period_label(grain, period)
        if queue and len(cd) > 2:
            sel["queue"] = cd[2]
            where += f", queue {cd[2]}"
        cases = m.cases_behind(ctx.ds, ctx.filter, "flow", measure, **sel)
        what = {
            "inflow": "Cases created",
            "outflow": "Cases resolved",
            "backlog": "Cases open at the end of the " + ("week" if grain == "week" else "day"),
        }[measure]
        cap = None
        if measure == "backlog" and grain == "week":
            cap = f"Open at the end of {snapshot_day(ctx.filter, grain, period):%a %d %b} (the week's last day in the period)."
        return cases, f"{what}, {where}", cap

    return fetch


def _flow_section(ctx, data: dict, grain: str) -> None:
    import streamlit as st

    from tsdash.ui.components import chart
    from tsdash.ui.fmt import md_escape

    x = data["x"]
    fig = fig_flow(data["flow"], x, grain, partial=data["partial"], trends=data["trends"])
    per = "week" if grain == "week" else "day"
    sel = chart(
        fig,
        title=f"Cases created and resolved per {per}, and the backlog at the end of each {per}",
        key="ta_b_flow",
        data=data["flow"],
        help=DEFINITIONS["inflow"].description + " " + DEFINITIONS["outflow"].description + " "
        + DEFINITIONS["backlog"].description
        + (" Weeks whose change is beyond the normal variation of the previous 8 weeks are marked ▲/▼." if grain == "week" else ""),
        on_select=True,
    )  # fmt: skip
    if grain == "week":
        lines = []
        for key in ("inflow", "outflow", "backlog"):
            label = "The backlog at the end of the week" if key == "backlog" else None
            lines += flag_sentences(data["trends"][key], key, label=label)
        if lines:
            st.markdown("  \n".join(f"⚠️ {md_escape(s)}" for s in lines))
        else:
            st.caption(
                "No whole week moved beyond the normal week-to-week variation of the 8 weeks before it."
            )
    _drill(ctx, sel, _flow_fetch(ctx, grain, x), "ta_b_flow")


def _queue_section(ctx, data: dict, grain: str) -> None:
    import streamlit as st

    from tsdash.ui.components import chart

    x = data["x"]
    bq = data["by_queue"]
    if bq.height == 0:
        return
    key = "ta_b_measure"
    if key not in st.session_state:
        raw = ctx.param("measure")
        st.session_state[key] = raw if raw in MEASURES else "inflow"
    measure = st.segmented_control(
        "Split by queue", list(MEASURES), format_func=MEASURES.__getitem__, key=key,
    ) or "inflow"  # fmt: skip
    ctx.set_param("measure", None if measure == "inflow" else measure)
    totals = bq.group_by("queue").agg(
        pl.col(measure).sum() if measure != "backlog" else pl.col(measure).max()
    )
    order = totals.sort([measure, "queue"], descending=[True, False])["queue"].to_list()
    order = [q for q in order if q is not None] + ([None] if None in order else [])
    df = bq.with_columns(pl.col("queue").fill_null("(no queue)"))
    order = [q if q is not None else "(no queue)" for q in order]
    per = "week" if grain == "week" else "day"
    title = {
        "inflow": f"Cases created per {per} by queue",
        "outflow": f"Cases resolved per {per} by queue",
        "backlog": f"Open cases at the end of each {per} by queue",
    }[measure]
    fig = fig_stacked(
        df, x, "queue", measure, order, grain, partial=data["partial"], y_title=MEASURES[measure]
    )
    for tr in fig.data:
        tr.customdata = [[c[0], measure, c[1]] for c in tr.customdata]
    sel = chart(
        fig,
        title=title,
        key=f"ta_b_queue_{measure}",
        data=bq.select(x, "queue", measure),
        metric=measure,
        on_select=True,
    )
    _drill(ctx, sel, _flow_fetch(ctx, grain, x, queue=True), f"ta_b_queue_{measure}")


def _age_section(ctx, data: dict, grain: str) -> None:
    import streamlit as st

    from tsdash.metrics import flow_extra as fx
    from tsdash.ui.components import chart

    x = data["x"]
    per = "week" if grain == "week" else "day"
    left, right = st.columns(2)
    f = ctx.filter

    def fetch(kind: str) -> Callable[[list[Any]], tuple]:
        def inner(cd: list[Any]) -> tuple:
            period = _as_date(cd[0])
            day = snapshot_day(f, grain, period)
            kw = {"age_bucket_label": cd[1]} if kind == "age" else {"sla_state": cd[1]}
            cases = fx.backlog_cases(ctx.ds, f, day, **kw)
            return (
                cases,
                f"Open at the end of {day:%a %d %b}: {cd[1]}",
                "Oldest first; age at that time.",
            )

        return inner

    with left:
        fig = fig_stacked(
            data["age"], x, "age_bucket", "open", fx.AGE_BUCKET_LABELS, grain, colors=AGE_COLORS,
            partial=data["partial"], y_title="Open cases", what="open",
        )  # fmt: skip
        sel = chart(
            fig, title=f"Backlog by age at the end of each {per}", key="ta_b_age", data=data["age"],
            metric="backlog_by_age", on_select=True,
        )  # fmt: skip
        _drill(ctx, sel, fetch("age"), "ta_b_age")
    with right:
        fig = fig_stacked(
            data["sla"], x, "sla_state", "open", fx.SLA_STATES, grain, colors=SLA_COLORS,
            partial=data["partial"], y_title="Open cases", what="open",
        )  # fmt: skip
        sel = chart(
            fig, title=f"Backlog by SLA state at the end of each {per}", key="ta_b_sla", data=data["sla"],
            metric="backlog_by_age", on_select=True,
        )  # fmt: skip
        _drill(ctx, sel, fetch("sla"), "ta_b_sla")


def _heat_section(ctx, data: dict) -> None:
    import streamlit as st

    from tsdash.ui.components import chart
    from tsdash.ui.fmt import md_escape

    heat = data["heat"]
    if heat.height == 0:
        return
    grid = heat_grid(heat, data["hours"])
    chart(
        fig_heatmap(grid, ctx.filter.tz),
        title=f"Cases created per hour, by weekday and hour of day (mean over the period, {ctx.filter.tz})",
        key="ta_b_heat",
        data=grid,
        metric="arrivals_per_hour",
    )
    top = busiest_hours(heat)
    if top:
        words = "; ".join(f"{w} {hour_span(h)} ({v:.1f} per hour)" for w, h, v in top)
        st.markdown(md_escape(f"Busiest hours: {words}."))


def _clear_section(ctx, data: dict) -> None:
    import streamlit as st

    from tsdash import metrics as m
    from tsdash.ui.components import download_csv, heading
    from tsdash.ui.drill import case_list, selected_row
    from tsdash.ui.fmt import md_escape

    order = {"growing": 0, "flat": 1, "shrinking": 2, "clear": 3}
    clear = data["clear"]
    if clear.height:
        clear = (
            clear.with_columns(
                pl.col("status").replace_strict(order, default=9, return_dtype=pl.Int64).alias("_o")
            )
            .sort(["_o", "backlog"], descending=[False, True])
            .drop("_o")
        )
    left, right = st.columns([6, 1], vertical_alignment="bottom")
    with left:
        heading(
            "Time to clear and agents needed, per queue (at the last 7 days' pace)",
            help=DEFINITIONS["days_to_clear"].description + "\n\n" + DEFINITIONS["agents_needed"].description,
        )
    if clear.height == 0:
        st.caption("No cases in the last 7 days.")
        return
    with right:
        download_csv(clear, "time_to_clear", key="ta_b_clear__csv")
    st.caption(
        md_escape(
            "A snapshot at the as-of time over the last 7 days (the period chosen in the sidebar does not "
            "apply; the filters do). Agents needed: Erlang C (Poisson arrivals, exponential handle times, no "
            "abandonment, agents fully available): 80% of cases started within the SLA target minus the AHT. "
            "A lower bound: breaks, meetings and other work (shrinkage) are not included."
        )
    )
    for s in clear_sentences(clear, lambda d: f"{d:%a %d %b}"):
        st.markdown(md_escape(s))
    show = clear.select(
        pl.col("queue").fill_null("(no queue)").alias("Queue"),
        pl.col("backlog").alias("Open now"),
        pl.col("net_per_day").round(1).alias("Net per day"),
        pl.col("status").alias("Trend"),
        pl.col("clear_date").alias("Clear by"),
        pl.col("arrivals_per_hour").round(2).alias("Created / h"),
        (pl.col("aht_s") / 60).round(1).alias("AHT (min)"),
        (pl.col("sla_target_s") / 3600).round(1).alias("SLA target (h)"),
        pl.col("erlangs").round(2).alias("Busy agents (avg)"),
        pl.col("agents_needed").alias("Agents needed"),
        pl.col("peak_per_hour").round(2).alias("Created / h (peak)"),
        pl.col("agents_needed_peak").alias("Agents needed (peak hour)"),
    )
    cc = st.column_config
    event = st.dataframe(
        show,
        key="ta_b_clear",
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "Net per day": cc.NumberColumn(
                help="(created − resolved) per day over the last 7 days", format="%+.1f"
            ),
            "Trend": cc.Column(help="growing, flat, shrinking or clear"),
            "Clear by": cc.DateColumn(
                help="When the backlog reaches zero at the current pace (shrinking only)"
            ),
            "Created / h": cc.NumberColumn(help="Arrival rate λ over the last 7 days"),
            "Busy agents (avg)": cc.NumberColumn(help="Offered load: arrivals per hour × AHT (Erlangs)"),
            "Agents needed": cc.NumberColumn(help=DEFINITIONS["agents_needed"].description[:300] + "…"),
            "Created / h (peak)": cc.NumberColumn(
                help="The busiest hour of the day, mean over the last 7 days"
            ),
            "Agents needed (peak hour)": cc.NumberColumn(help="Erlang C at the peak hour's arrival rate"),
        },
    )
    row = selected_row(event)
    if row is None:
        st.caption("Select a queue to list its open cases.")
        return
    q = clear["queue"][row]
    cases = m.cases_behind(ctx.ds, ctx.filter, "backlog-now", queue=q)
    case_list(
        ctx, cases, key="ta_b_clear__cases", title=f"Open cases in {q if q is not None else '(no queue)'} now"
    )


# --------------------------------------------------------------------------- Handle time: data

HANDLE_MEASURES = {"aht_s": "AHT (mean)", "median_s": "Median", "p90_s": "90th percentile"}
SLOWEST = 25


def handle_data(ds, f, grain: str) -> dict[str, Any]:
    """Everything the Handle time page draws (pure; engine tables and flow_extra)."""
    from tsdash import metrics as m
    from tsdash.metrics import flow_extra as fx

    f = m.pin(f)
    x = "week" if grain == "week" else "date"
    agents, team_median = fx.agent_aht(ds, f)
    out: dict[str, Any] = {
        "x": x,
        "total": m.handle_time(ds, f, ()),
        "kpis": m.kpis(ds, f, keys=("aht",)),
        "overall": m.handle_time(ds, f, (x,)),
        "by_queue": m.handle_time(ds, f, (x, "queue")),
        "hist": fx.handle_histogram(ds, f),
        "agents": agents,
        "team_median": team_median,
        "matrix": fx.agent_queue_aht(ds, f),
        "tenure": fx.tenure_aht(ds, f),
        "partial": partial_periods(f, grain),
        "trends": {},
    }
    if grain == "week":
        cols = {"aht": "aht_s", "handle_median": "median_s", "handle_p90": "p90_s"}
        out["trends"] = {k: in_window(m.trend(ds, f, k), out["overall"], c) for k, c in cols.items()}
        out["trends"]["aht_queue"] = in_window(
            m.trend(ds, f, "aht", keys=("queue",), whole_table=False),
            out["by_queue"],
            "aht_s",
            keys=("queue",),
        )
    return out


def bin_label(lo: float, hi: float) -> str:
    """'5.6–7.5 min' for a histogram bin in seconds."""
    from tsdash.ui.fmt import duration_unit

    div, unit = duration_unit(hi)
    lo_d, hi_d = lo / div, hi / div
    digits = 0 if lo_d >= 10 else 1
    return f"{lo_d:.{digits}f}–{hi_d:.{digits}f} {unit}"


def tenure_sentences(ten: pl.DataFrame, names: dict[str, str], team_median: float | None) -> list[str]:
    """Per new hire: first whole week's AHT -> latest whole week's, against the team median."""
    out = []
    for (agent,), g in ten.filter(~pl.col("partial")).group_by(["agent_id"], maintain_order=True):
        g = g.sort("weeks_since_hire")
        if g.height == 0:
            continue
        a, b = g.row(0, named=True), g.row(-1, named=True)
        hired = a["hired_on"]
        s = f"{agent_label(names, agent)}, hired {hired.day} {hired:%b}: AHT {fmt_duration(a['aht_s'])} in week {a['weeks_since_hire']}"
        if g.height > 1:
            s += f" → {fmt_duration(b['aht_s'])} in week {b['weeks_since_hire']}"
        if team_median:
            s += f" (team median {fmt_duration(team_median)})"
        out.append(s + ".")
    return out


# --------------------------------------------------------------------------- Handle time: figures


def fig_handle_weekly(trends: dict[str, pl.DataFrame]) -> go.Figure:
    """Weekly AHT bars (the shared weekly chart) with the median and p90 as lines."""
    fig = fig_weekly(trends["aht"], "aht", label="AHT (mean)", band=True, height=380)
    _, div, _ = value_format("aht", trends["aht"]["value"].to_list() if trends["aht"].height else [])
    for key, name, color, dash in (
        ("handle_median", "Median", "#0f172a", "dot"),
        ("handle_p90", "90th percentile", "#7c3aed", "dash"),
    ):
        tr = stable(trends[key]).sort("week")
        marks = [_mark_text(r, False) for r in tr.iter_rows(named=True)]
        colors = [
            _flag_color(r["change"], "lower_better") if t else color
            for r, t in zip(tr.iter_rows(named=True), marks, strict=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=tr["week"].to_list(),
                y=[None if v is None else v / div for v in tr["value"]],
                name=name,
                mode="lines+markers+text" if any(marks) else "lines+markers",
                line={"color": color, "dash": dash, "width": 2},
                marker={
                    "color": colors,
                    "size": [12 if t else 6 for t in marks],
                    "symbol": ["diamond" if t else "circle" for t in marks],
                },
                text=marks,
                textposition="top center",
                textfont={"color": colors},
                customdata=[[str(w)] for w in tr["week"]],
                hovertemplate=[_hover(r, name, fmt_duration, False, "") for r in tr.iter_rows(named=True)],
            )
        )
    fig.update_layout(showlegend=True)
    return fig


def fig_duration_lines(
    df: pl.DataFrame, x: str, series: Sequence[tuple[str, str]], *, group: str | None = None,
    partial: set[dt.date] | frozenset[dt.date] = frozenset(), grain: str = "day",
) -> go.Figure:  # fmt: skip
    """Durations (seconds) over periods as lines: one per (column, name) in ``series``, or with
    ``group`` one line per group value of the first series. customdata = [period, group?]."""
    df = stable(df)
    div, unit = axis_unit(df[series[0][0]].to_list() if df.height else [])
    fig = go.Figure()
    note = " (partial week)" if grain == "week" else " (day in progress)"
    if group:
        groups = df[group].unique(maintain_order=True).sort(nulls_last=True).to_list()
        parts = [
            (g, df.filter(pl.col(group) == g) if g is not None else df.filter(pl.col(group).is_null()))
            for g in groups
        ]
        col, _ = series[0]
        lines = [
            (plot_text(g if g is not None else "(none)"), col, d, [[str(p), g] for p in d[x]])
            for g, d in parts
        ]
    else:
        lines = [(name, col, df, [[str(p)] for p in df[x]]) for col, name in series]
    for i, (name, col, d, cd) in enumerate(lines):
        d = d.sort(x)
        fig.add_trace(
            go.Scatter(
                x=d[x].to_list(),
                y=[None if v is None else v / div for v in d[col]],
                name=name,
                mode="lines+markers",
                line={"color": PALETTE[i % len(PALETTE)], "width": 2},
                marker={"symbol": ["circle-open" if p in partial else "circle" for p in d[x]], "size": 6},
                customdata=cd if not group else [[str(p), c[1]] for p, c in zip(d[x], cd, strict=False)],
                hovertemplate=[
                    f"<b>{period_label(grain, p)}</b>{note if p in partial else ''}<br>{name}: {fmt_duration(v)}"
                    f"<br>{fmt_number(n)} cases<extra></extra>"
                    for p, v, n in zip(d[x], d[col], d["cases"], strict=True)
                ],
            )
        )
    fig.update_yaxes(title=f"Handle time ({unit})", rangemode="tozero")
    period_axis(fig, grain, df[x].n_unique() if df.height else 0)
    fig.update_layout(height=360)
    return fig


def fig_histogram(hist: pl.DataFrame) -> go.Figure:
    """Cases per log-scale bin of handle time (bins of equal width on a log scale)."""
    labels = [bin_label(lo, hi) for lo, hi in zip(hist["lower_s"], hist["upper_s"], strict=True)]
    total = int(hist["cases"].sum()) if hist.height else 0
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=hist["cases"].to_list(),
            marker={"color": BASE},
            customdata=[
                [round(lo, 6), round(hi, 6)] for lo, hi in zip(hist["lower_s"], hist["upper_s"], strict=True)
            ],
            hovertemplate=[
                f"<b>{lab}</b><br>{fmt_number(n)} cases ({fmt_pct(n / total if total else None)})<extra></extra>"
                for lab, n in zip(labels, hist["cases"], strict=True)
            ],
        )
    )
    fig.update_xaxes(type="category", title="Handle time (bins of equal width on a log scale)", tickangle=-45)
    fig.update_yaxes(title="Resolved cases", rangemode="tozero")
    fig.update_layout(height=340, bargap=0.05, showlegend=False)
    return fig


def fig_agents(agents: pl.DataFrame, names: dict[str, str], team_median: float | None) -> go.Figure:
    """Per agent: AHT with its 95 % interval (whiskers), slowest on top; hollow grey for fewer
    than 5 cases; the team median as a dashed line. customdata = [agent_id]."""
    d = (
        stable(agents)
        .filter(pl.col("aht_s").is_not_null())
        .sort(["aht_s", "agent_id"], descending=[True, False], nulls_last=True)
    )
    div, unit = axis_unit(d["aht_s"].to_list())
    fig = go.Figure()
    order = []
    for enough, name, marker in (
        (True, "Agent's AHT (95% interval)", {"size": 10, "color": BASE}),
        (
            False,
            "Fewer than 5 cases: mostly chance",
            {"size": 10, "color": MUTED, "symbol": "circle-open", "line": {"width": 2}},
        ),
    ):
        g = d.filter(pl.col("enough") == enough)
        if g.height == 0:
            continue
        labels = [
            plot_text(f"{agent_label(names, a)}{'' if act else ' (left)'} · n={fmt_number(n)}")
            for a, act, n in zip(g["agent_id"], g["active"], g["cases"], strict=True)
        ]
        lo = [
            (v - lo_) / div if lo_ is not None else 0
            for v, lo_ in zip(g["aht_s"], g["aht_ci_low"], strict=True)
        ]
        hi = [
            (hi_ - v) / div if hi_ is not None else 0
            for v, hi_ in zip(g["aht_s"], g["aht_ci_high"], strict=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=(g["aht_s"] / div).to_list(),
                y=labels,
                mode="markers",
                name=name,
                marker=marker,
                error_x={
                    "type": "data",
                    "array": hi,
                    "arrayminus": lo,
                    "thickness": 2,
                    "width": 4,
                    "color": marker["color"],
                },
                customdata=[[a] for a in g["agent_id"]],
                hovertemplate=[
                    f"<b>{lab}</b><br>AHT {fmt_duration(v)} over {fmt_number(n)} cases<br>95% interval "
                    + (f"{fmt_duration(l_)} to {fmt_duration(h_)}" if l_ is not None else "needs 2 cases")
                    + (f"<br>{v / team_median:.2f}× the team median" if team_median else "")
                    + "<extra></extra>"
                    for lab, v, n, l_, h_ in zip(
                        labels, g["aht_s"], g["cases"], g["aht_ci_low"], g["aht_ci_high"], strict=True
                    )
                ],
            )
        )
    by_id = {a: i for i, a in enumerate(d["agent_id"].to_list())}
    for tr in fig.data:
        order += list(zip([by_id[c[0]] for c in tr.customdata], tr.y, strict=True))
    cats = [lab for _, lab in sorted(order)]
    if team_median:
        fig.add_vline(x=round(team_median / div, 6), line_dash="dash", line_color=BAND)
        fig.add_annotation(
            x=round(team_median / div, 6), y=1.0, yref="paper", text=f"team median {fmt_duration(team_median)}",
            showarrow=False, yanchor="bottom", font={"color": "#475569"},
        )  # fmt: skip
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(cats)), title=None)
    fig.update_xaxes(title=f"Average handle time ({unit})", rangemode="tozero")
    fig.update_layout(height=max(260, 24 * len(cats) + 110))
    return fig


def fig_matrix(
    mx: pl.DataFrame, names: dict[str, str], agent_order: Sequence[str], queue_order: Sequence[str]
) -> go.Figure:
    """Agent x queue squares coloured by AHT relative to the queue's median agent (red slower,
    blue faster, log scale), text '1.45×'; cells with fewer than 5 cases grey with 'n<5'.
    customdata = [agent_id, queue]."""
    mx = stable(mx)
    lab = {a: plot_text(agent_label(names, a)) for a in agent_order}
    fig = go.Figure()
    ok = mx.filter(pl.col("relative").is_not_null() & pl.col("agent_id").is_in(list(agent_order)))
    few = mx.filter(pl.col("relative").is_null() & pl.col("agent_id").is_in(list(agent_order)))
    span = 1.0
    if ok.height:
        span = max(0.4, float(ok["relative"].log(2).abs().max() or 0.0))

    def hover(r: dict) -> str:
        base = f"<b>{lab[r['agent_id']]}</b> · {plot_text(r['queue'])}<br>AHT {fmt_duration(r['aht_s'])} over {fmt_number(r['cases'])} cases"
        if r["relative"] is not None:
            base += f"<br>{r['relative']:.2f}× the queue's median agent ({fmt_duration(r['queue_median_s'])})"
        else:
            base += "<br>fewer than 5 cases: not compared"
        return base + "<extra></extra>"

    if ok.height:
        rows = list(ok.iter_rows(named=True))
        logs = [math.log2(r["relative"]) for r in rows]
        fig.add_trace(
            go.Scatter(
                x=[plot_text(r["queue"]) for r in rows],
                y=[lab[r["agent_id"]] for r in rows],
                mode="markers+text",
                text=[f"{r['relative']:.2f}×" for r in rows],
                textfont={"size": 10, "color": ["#ffffff" if abs(v) > 0.6 * span else "#0f172a" for v in logs]},
                marker={
                    "symbol": "square", "size": 34, "color": logs, "colorscale": "RdBu", "reversescale": True,
                    "cmin": -span, "cmax": span, "line": {"width": 0},
                    "colorbar": {
                        "title": {"text": "vs queue<br>median"}, "thickness": 12,
                        "tickvals": [-span, -span / 2, 0, span / 2, span],
                        "ticktext": [f"{2 ** v:.2f}×" for v in (-span, -span / 2, 0, span / 2, span)],
                    },
                },
                customdata=[[r["agent_id"], r["queue"]] for r in rows],
                hovertemplate=[hover(r) for r in rows],
                showlegend=False,
            )
        )  # fmt: skip
    if few.height:
        rows = list(few.iter_rows(named=True))
        fig.add_trace(
            go.Scatter(
                x=[plot_text(r["queue"]) for r in rows],
                y=[lab[r["agent_id"]] for r in rows],
                mode="markers+text",
                text=[f"n={r['cases']}" for r in rows],
                textfont={"size": 9, "color": "#64748b"},
                marker={"symbol": "square-open", "size": 30, "color": "#cbd5e1"},
                customdata=[[r["agent_id"], r["queue"]] for r in rows],
                hovertemplate=[hover(r) for r in rows],
                name="fewer than 5 cases",
                showlegend=False,
            )
        )
    rows_ = [lab[a] for a in agent_order]
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(rows_)), title=None, showgrid=False)
    fig.update_xaxes(
        categoryorder="array",
        categoryarray=[plot_text(q) for q in queue_order],
        side="top",
        title=None,
        showgrid=False,
    )
    fig.update_layout(height=max(260, 38 * len(rows_) + 100))
    return fig


def fig_tenure(ten: pl.DataFrame, names: dict[str, str], team_median: float | None) -> go.Figure:
    """New hires' AHT by week since hire, one line per agent; the team median as a dashed line.
    customdata = [agent_id, week]."""
    from tsdash.metrics.flow_extra import MIN_CASES

    # a week still running with a handful of cases says little: left out until it has more
    ten = stable(ten).filter(~pl.col("partial") | (pl.col("cases") >= MIN_CASES))
    div, unit = axis_unit(ten["aht_s"].to_list() + ([team_median] if team_median else []))
    fig = go.Figure()
    for i, ((agent,), g) in enumerate(ten.group_by(["agent_id"], maintain_order=True)):
        g = g.sort("weeks_since_hire")
        name = plot_text(agent_label(names, agent))
        fig.add_trace(
            go.Scatter(
                x=g["weeks_since_hire"].to_list(),
                y=(g["aht_s"] / div).to_list(),
                name=name,
                mode="lines+markers",
                line={"color": PALETTE[i % len(PALETTE)], "width": 2.5},
                marker={"size": 8, "symbol": ["circle-open" if p else "circle" for p in g["partial"]]},
                customdata=[[agent, str(w)] for w in g["week"]],
                hovertemplate=[
                    f"<b>{name}</b><br>Week {k} since hire ({week_label(w)}){' — still running' if p else ''}<br>"
                    f"AHT {fmt_duration(v)} over {fmt_number(n)} cases (median {fmt_duration(md)})<extra></extra>"
                    for k, w, p, v, n, md in zip(
                        g["weeks_since_hire"],
                        g["week"],
                        g["partial"],
                        g["aht_s"],
                        g["cases"],
                        g["median_s"],
                        strict=True,
                    )
                ],
            )
        )
    if team_median:
        fig.add_hline(y=round(team_median / div, 6), line_dash="dash", line_color=BAND)
        fig.add_annotation(
            x=1.0, xref="paper", y=round(team_median / div, 6), text=f"team median {fmt_duration(team_median)}",
            showarrow=False, xanchor="right", yanchor="bottom", font={"color": "#475569"},
        )  # fmt: skip
    fig.update_xaxes(title="Weeks since hire (0 = the week of the hire day)", dtick=1, rangemode="tozero")
    fig.update_yaxes(title=f"Average handle time ({unit})", rangemode="tozero")
    fig.update_layout(height=360)
    return fig


# --------------------------------------------------------------------------- Handle time page


def _with_handle(cases: pl.DataFrame) -> pl.DataFrame:
    return cases.with_columns((pl.col("handle_seconds") / 60).round(1).alias("Handle (min)")).sort(
        ["handle_seconds", "case_id"], descending=[True, False], nulls_last=True
    )


def _handle_list(cases: pl.DataFrame, title: str, caption: str | None = None) -> tuple:
    import streamlit as st

    cfg = {
        "Handle (min)": st.column_config.NumberColumn(
            "Handle (min)", help="handle_seconds of the case, in minutes", format="%.1f"
        )
    }
    return _with_handle(cases), title, caption or "Slowest first.", ("Handle (min)",), cfg


def render_handle_time(ctx) -> None:
    """The Handle time page body."""
    import streamlit as st

    from tsdash import metrics as m
    from tsdash.ui import components as uc

    grain = grain_control(ctx)
    data = _cached("handle", handle_data, ctx, grain)
    if data["total"].height == 0:
        all_dims = m.pin(ctx.filter.with_(**{d: () for d in m.DIMENSIONS}))
        t_all = m.handle_time(ctx.ds, all_dims, ())
        n = int(t_all["cases"].sum()) if t_all.height else 0
        uc.explain_empty(
            ctx, rows_in_window=n, rows_after_filters=0, what="resolved cases with a handle time"
        )
        return
    st.caption(
        uc.safe(
            f"Handle time of the cases resolved in {_period_text(ctx)} that have one (handle_seconds), counted "
            f"in the {'week' if grain == 'week' else 'day'} of resolution ({ctx.filter.tz})."
        )
    )
    _short_window_hint(ctx, grain)
    names = dict(ctx.options.agents)
    _handle_tiles(ctx, data)
    _handle_trend(ctx, data, grain)
    _handle_queues(ctx, data, grain)
    _handle_distribution(ctx, data)
    _handle_agents(ctx, data, names)
    _handle_matrix(ctx, data, names)
    _handle_tenure(ctx, data, names)


def _handle_tiles(ctx, data: dict) -> None:
    import streamlit as st

    k = data["kpis"]["aht"]
    t = data["total"].row(0, named=True)
    d = k.delta
    cols = st.columns(4)
    cols[0].metric(
        "AHT", fmt_duration(k.value), None if d is None else ("+" if d >= 0 else "−") + fmt_duration(abs(d)),
        delta_color="inverse", help=k.description + f" Change vs the previous {ctx.filter.days} days.",
    )  # fmt: skip
    cols[1].metric("Median", fmt_duration(t["median_s"]), help=DEFINITIONS["handle_median"].description)
    cols[2].metric("90th percentile", fmt_duration(t["p90_s"]), help=DEFINITIONS["handle_p90"].description)
    cols[3].metric(
        "Cases", fmt_number(t["cases"]), help="Resolved cases with a handle time (the cases behind AHT)."
    )


def _handle_fetch(ctx, grain: str, x: str) -> Callable[[list[Any]], tuple]:
    from tsdash import metrics as m

    def fetch(cd: list[Any]) -> tuple:
        period = _as_date(cd[0])
        sel: dict[str, Any] = {x: period}
        where = period_label(grain, period)
        if len(cd) > 1 and cd[1] is not None:
            sel["queue"] = cd[1]
            where += f", queue {cd[1]}"
        return _handle_list(
            m.cases_behind(ctx.ds, ctx.filter, "handle-time", **sel), f"Cases resolved, {where}"
        )

    return fetch


def _handle_trend(ctx, data: dict, grain: str) -> None:
    import streamlit as st

    from tsdash.ui.components import chart
    from tsdash.ui.fmt import md_escape

    x = data["x"]
    if grain == "week":
        fig = fig_handle_weekly(data["trends"])
        sel = chart(
            fig, title="Handle time per week: AHT (bars), median and 90th percentile", key="ta_h_week",
            data=data["overall"], metric="aht", on_select=True,
            help=DEFINITIONS["aht"].description + " Weeks beyond the normal variation of the previous 8 weeks "
            "are marked ▲/▼ (red: slower); grey whiskers: each week's normal range of AHT.",
        )  # fmt: skip
        lines = []
        for key in ("aht", "handle_median", "handle_p90"):
            lines += flag_sentences(data["trends"][key], key)
        if lines:
            st.markdown("  \n".join(f"⚠️ {md_escape(s)}" for s in lines))
        else:
            st.caption(
                "No whole week moved beyond the normal week-to-week variation of the 8 weeks before it."
            )
    else:
        fig = fig_duration_lines(
            data["overall"],
            x,
            [(c, n) for c, n in HANDLE_MEASURES.items()],
            partial=data["partial"],
            grain=grain,
        )
        sel = chart(
            fig, title="Handle time per day: AHT, median and 90th percentile", key="ta_h_day", data=data["overall"],
            metric="aht", on_select=True,
        )  # fmt: skip
    _drill(ctx, sel, _handle_fetch(ctx, grain, x), "ta_h_trend")


def _handle_queues(ctx, data: dict, grain: str) -> None:
    import streamlit as st

    from tsdash.ui.components import chart

    x = data["x"]
    if data["by_queue"].height == 0:
        return
    if grain == "week":
        tr = data["trends"]["aht_queue"]
        sel = weekly_chart(
            ctx, tr, metric="aht", title="AHT per week by queue", key="ta_h_queue", kind="line", keys=("queue",),
            data=data["by_queue"],
        )  # fmt: skip
    else:
        fig = fig_duration_lines(
            data["by_queue"], x, [("aht_s", "AHT")], group="queue", partial=data["partial"], grain=grain
        )
        sel = chart(
            fig,
            title="AHT per day by queue",
            key="ta_h_queue_day",
            data=data["by_queue"],
            metric="aht",
            on_select=True,
        )
    del st
    _drill(ctx, sel, _handle_fetch(ctx, grain, x), "ta_h_queue")


def _handle_distribution(ctx, data: dict) -> None:
    import streamlit as st

    from tsdash import metrics as m
    from tsdash.ui.components import chart
    from tsdash.ui.drill import case_list

    hist = data["hist"]
    t = data["total"].row(0, named=True)
    left, right = st.columns([3, 2])
    with left:
        sel = chart(
            fig_histogram(hist), title="Distribution of handle times (log scale)", key="ta_h_hist", data=hist,
            metric="aht", on_select=True,
            help="Resolved cases with a handle time, in bins of equal width on a log scale (each bin about 33% wider "
            "than the one before), so that both quick and very long cases show. " + DEFINITIONS["aht"].description,
        )  # fmt: skip
        st.caption(
            f"Median {fmt_duration(t['median_s'])} · AHT (mean) {fmt_duration(t['aht_s'])} · 90th percentile "
            f"{fmt_duration(t['p90_s'])}: the mean sits above the median because a few long cases pull it up."
        )

        def fetch(cd: list[Any]) -> tuple:
            lo, hi = float(cd[0]), float(cd[1])
            cases = m.cases_behind(ctx.ds, ctx.filter, "handle-time")
            s = pl.max_horizontal(pl.col("handle_seconds"), pl.lit(1.0))
            inside = cases.filter((s >= lo - 1e-6) & (s < hi - 1e-6))
            return _handle_list(inside, f"Cases with a handle time of {bin_label(lo, hi)}")

        _drill(ctx, sel, fetch, "ta_h_hist", hint="Drag a box over a bar to list the cases in that bin.")
    with right:
        slow = _with_handle(
            m.cases_behind(ctx.ds, ctx.filter, "handle-time", largest=("handle_seconds", SLOWEST))
        )
        case_list(
            ctx, slow, key="ta_h_slowest", title=f"The {SLOWEST} slowest cases", extra=("Handle (min)",),
            column_config={"Handle (min)": st.column_config.NumberColumn("Handle (min)", format="%.1f")},
        )  # fmt: skip


def _handle_agents(ctx, data: dict, names: dict[str, str]) -> None:
    import streamlit as st

    from tsdash import metrics as m
    from tsdash.metrics.flow_extra import MIN_CASES
    from tsdash.ui.components import chart

    agents = data["agents"].filter(pl.col("agent_id").is_not_null())
    if agents.height == 0:
        return
    med = data["team_median"]
    sel = chart(
        fig_agents(agents, names, med), title="AHT per agent with its 95% interval, against the team median",
        key="ta_h_agents", data=agents, metric="aht", on_select=True,
        help=DEFINITIONS["aht"].description + f" Team median: the median of the AHTs of the active agents with at "
        f"least {MIN_CASES} cases (agents who left, or with fewer cases, are shown but do not set it). Slowest on top; "
        "a whisker that crosses the team median means the difference may be chance.",
    )  # fmt: skip
    del st

    def fetch(cd: list[Any]) -> tuple:
        aid = cd[0]
        return _handle_list(
            m.cases_behind(ctx.ds, ctx.filter, "handle-time", agent_id=aid),
            f"Cases resolved by {agent_label(names, aid)}",
        )

    _drill(
        ctx,
        sel,
        fetch,
        "ta_h_agents",
        hint="Drag a box over an agent's dot to list their cases, slowest first.",
    )


def _handle_matrix(ctx, data: dict, names: dict[str, str]) -> None:
    from tsdash import metrics as m
    from tsdash.ui.components import chart

    mx = data["matrix"].filter(pl.col("agent_id").is_not_null())
    if mx.height == 0:
        return
    agents = (
        data["agents"]
        .filter(pl.col("agent_id").is_not_null())
        .sort(["aht_s", "agent_id"], descending=[True, False])
    )
    agent_order = [a for a in agents["agent_id"].to_list() if a in set(mx["agent_id"].to_list())]
    queue_order = (
        mx.group_by("queue")
        .agg(pl.col("cases").sum())
        .sort(["cases", "queue"], descending=[True, False])["queue"]
        .to_list()
    )
    sel = chart(
        fig_matrix(mx, names, agent_order, queue_order),
        title="AHT per agent and queue, relative to the queue's median agent", key="ta_h_matrix", data=mx,
        metric="aht_vs_queue", on_select=True,
    )  # fmt: skip

    def fetch(cd: list[Any]) -> tuple:
        aid, q = cd[0], cd[1]
        cases = m.cases_behind(ctx.ds, ctx.filter, "handle-time", agent_id=aid, queue=q)
        return _handle_list(cases, f"Cases of {agent_label(names, aid)} in {q}")

    _drill(
        ctx, sel, fetch, "ta_h_matrix", hint="Drag a box over a cell to list the agent's cases in that queue."
    )


def _handle_tenure(ctx, data: dict, names: dict[str, str]) -> None:
    import streamlit as st

    from tsdash import metrics as m
    from tsdash.ui.components import chart, heading
    from tsdash.ui.fmt import md_escape

    ten = data["tenure"]
    if ten.height == 0:
        heading("New hires' handle time by week since hire")
        st.caption("No agent was hired in the 120 days before the as-of time (agents.hired_on).")
        return
    med = data["team_median"]
    sel = chart(
        fig_tenure(ten, names, med), title="New hires' AHT by week since hire", key="ta_h_tenure", data=ten,
        metric="aht",
        help="Agents hired in the 120 days before the as-of time (agents.hired_on): the AHT of the cases they "
        "resolved in each week since the week of their hire day, whatever the period chosen in the sidebar. "
        "Hollow points: the week is still running (shown once it has 5 cases). " + DEFINITIONS["aht"].description,
        on_select=True,
    )  # fmt: skip
    for s in tenure_sentences(ten, names, med):
        st.markdown(md_escape(s))

    def fetch(cd: list[Any]) -> tuple:
        aid, week = cd[0], _as_date(cd[1])
        f = ctx.filter.with_(start=week, end=week + dt.timedelta(days=6))
        cases = m.cases_behind(ctx.ds, f, "handle-time", agent_id=aid)
        return _handle_list(cases, f"Cases resolved by {agent_label(names, aid)}, {week_label(week)}")

    _drill(ctx, sel, fetch, "ta_h_tenure", hint="Drag a box over a point to list that week's cases.")
