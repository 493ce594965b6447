"""The Quality and Escalations pages (issue 5, "trends-b").

Page scripts stay thin::

    from tsdash.ui import trends_b
    ctx = ui.frame("Quality", page="quality", url_keys=trends_b.URL_KEYS)
    trends_b.render_quality(ctx)

Numbers come from the metrics engine (:mod:`tsdash.metrics`) and its page helpers
(:mod:`tsdash.metrics.quality_extra`); this module only lays them out. The weekly charts, the
sentences about weeks beyond normal variation, the Weekly/Daily switch and the small label
helpers are the shared ones of :mod:`tsdash.ui.trends_a`, so that the four trend pages look
and read the same. The figure builders
(``fig_*``) are pure (Plotly only) so that they can be tested without a running app.
Text from the data (agent names, reasons, comments) never reaches Markdown unescaped, and Plotly
labels get their ``<``/``>``/``&`` escaped (:func:`plot_text`), because Plotly reads a few HTML
tags in labels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from tsdash import metrics as m
from tsdash.metrics import quality_extra as qx
from tsdash.ui import components as uc
from tsdash.ui.charts import PALETTE
from tsdash.ui.drill import case_list, open_case, selected_points, selected_row
from tsdash.ui.fmt import axis_unit, fmt_duration, fmt_number, fmt_pct, md_escape, text_column
from tsdash.ui.trends_a import (
    agent_label,
    fig_weekly,
    flag_sentences,
    flagged,
    partial_periods,
    period_axis,
    period_label,
    plot_text,
    stable,
    value_format,
)
from tsdash.ui.trends_a import grain_control as _shared_grain_control

GRAIN_KEY = "grain"
URL_KEYS: tuple[str, ...] = (GRAIN_KEY,)
MIN_CASES = 30  # agents with fewer created cases are marked on the escalation/QA scatter
MIN_REVIEWS = 5  # ... or fewer QA reviews
MAX_LIST_ROWS = 2000
NO_QA = "No QA reviews in this source yet — add qa_reviews to see quality."
GOOD, BAD, NEUTRAL, MUTED = "#10b981", "#ef4444", "#2563eb", "#94a3b8"


# --------------------------------------------------------------------------- small pure helpers


def picked(selection: Any) -> list[list[Any]]:
    """The ``customdata`` lists of the selected points of a chart selection (empty when none)."""
    return [p["customdata"] for p in selected_points(selection) if p["customdata"]]


def agent_flag_sentences(
    tr: pl.DataFrame, names: dict[str, str], *, metric: str = "qa_mean", limit: int = 6
) -> list[str]:
    """The shared sentences (:func:`tsdash.ui.trends_a.flag_sentences`) for the agents' whole
    weeks beyond normal variation, biggest change (relative to its limit) first. ``tr`` is
    ``tsdash.metrics.trend(..., keys=("agent_id",))``."""
    rows = flagged(tr).head(limit)
    out: list[str] = []
    for i in range(rows.height):
        out += flag_sentences(
            rows.slice(i, 1), metric, keys=("agent_id",), key_label=lambda _k, v: agent_label(names, v)
        )
    return out


# --------------------------------------------------------------------------- figure builders


def _agent_order(df: pl.DataFrame, col: str) -> list[str]:
    """Agents sorted by ``col`` ascending (lowest first), ties by id."""
    return df.sort([col, "agent_id"], nulls_last=True)["agent_id"].to_list()


def fig_agent_scores(qa: pl.DataFrame, names: dict[str, str], *, pass_mark: float) -> go.Figure:
    """Per agent: the mean score with its 95 % interval (hollow, with whiskers) and the estimate
    shrunk toward the team (filled diamond); lowest shrunk estimate on top. ``qa`` is
    ``qa_agents(detail=True)``."""
    qa = stable(qa)
    order = _agent_order(qa, "mean_score_shrunk")
    d = qa.with_columns(
        pl.col("agent_id")
        .replace_strict({a: i for i, a in enumerate(order)}, return_dtype=pl.Int64)
        .alias("_o")
    ).sort("_o")
    labels = [
        plot_text(f"{agent_label(names, a)} · n={n}")
        for a, n in zip(d["agent_id"], d["reviews"], strict=True)
    ]
    lo = (d["mean_score"] - d["mean_score_ci_low"]).fill_null(0).to_list()
    hi = (d["mean_score_ci_high"] - d["mean_score"]).fill_null(0).to_list()
    cd = list(zip(d["agent_id"].to_list(), strict=True))
    ci_txt = [
        f"{a:.1f} to {b:.1f}" if a is not None else "needs 2 reviews"
        for a, b in zip(d["mean_score_ci_low"], d["mean_score_ci_high"], strict=True)
    ]
    hover = [
        f"<b>{lab}</b><br>Mean score {ms:.1f} (95% interval {ci})<br>Shrunk toward team: {sh:.1f}"
        f"<br>Pass rate {fmt_pct(pr)} · critical errors {ce}<extra></extra>"
        for lab, ms, ci, sh, pr, ce in zip(
            labels,
            d["mean_score"],
            ci_txt,
            d["mean_score_shrunk"],
            d["pass_rate"],
            d["critical_errors"],
            strict=True,
        )
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=d["mean_score"].to_list(),
            y=labels,
            mode="markers",
            name="Agent's mean score (95% interval)",
            marker={"symbol": "circle-open", "size": 10, "color": NEUTRAL, "line": {"width": 2}},
            error_x={
                "type": "data",
                "array": hi,
                "arrayminus": lo,
                "thickness": 2.5,
                "width": 5,
                "color": NEUTRAL,
            },
            customdata=cd,
            hovertemplate=hover,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=d["mean_score_shrunk"].to_list(),
            y=labels,
            mode="markers",
            name="Shrunk toward the team (ordering)",
            marker={"symbol": "diamond", "size": 11, "color": "#0f172a"},
            customdata=cd,
            hovertemplate=hover,
        )
    )
    team = qa["team_mean_score"][0] if qa.height else None
    if team is not None:
        team = round(team, 6)
        fig.add_vline(x=team, line_dash="dash", line_color=MUTED)
        fig.add_annotation(
            x=team,
            y=1.0,
            yref="paper",
            text=f"team {team:.1f}",
            showarrow=False,
            yanchor="bottom",
            font={"color": "#475569"},
        )
    fig.add_vline(x=pass_mark, line_dash="dot", line_color=BAD)
    fig.add_annotation(
        x=pass_mark, y=0.0, yref="paper", text=f"pass mark {pass_mark:g}", showarrow=False, yanchor="top",
        font={"color": BAD},
    )  # fmt: skip
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(labels)), title=None)
    fig.update_xaxes(title="QA score (0–100)")
    fig.update_layout(height=max(260, 26 * len(labels) + 110))
    return fig


def fig_speed_quality(sq: pl.DataFrame, names: dict[str, str]) -> go.Figure:
    """Agents by AHT (x) and QA mean score (y), labelled with their id, reference lines at the
    agents' medians; the quadrants say what they mean."""
    sq = stable(sq)
    d = sq.filter(pl.col("aht_s").is_not_null())
    div, unit = axis_unit(d["aht_s"].to_list())
    x = (d["aht_s"] / div).to_list()
    y = d["mean_score"].to_list()
    hover = [
        f"<b>{plot_text(agent_label(names, a))}</b><br>AHT {fmt_duration(s)} over {fmt_number(c)} cases"
        f"<br>QA mean {q:.1f} over {r} reviews · pass rate {fmt_pct(p)} · critical errors {ce}<extra></extra>"
        for a, s, c, q, r, p, ce in zip(
            d["agent_id"], d["aht_s"], d["cases"], d["mean_score"], d["reviews"], d["pass_rate"],
            d["critical_errors"], strict=True,
        )
    ]  # fmt: skip
    sizes = [8 + 4 * min(4.0, (r / 10) ** 0.5) for r in d["reviews"].to_list()]
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=y,
            mode="markers+text",
            text=[plot_text(a) for a in d["agent_id"]],
            textposition="top center",
            marker={"size": sizes, "color": NEUTRAL, "opacity": 0.8},
            customdata=[[a] for a in d["agent_id"]],
            hovertemplate=hover,
            name="Agent",
            showlegend=False,
        )
    )
    if d.height:
        mx, my = qx.medians(d, "aht_s", "mean_score").values()
        fig.add_vline(x=mx / div, line_dash="dash", line_color=MUTED)
        fig.add_hline(y=my, line_dash="dash", line_color=MUTED)
        for xa, ya, xanchor, yanchor, txt in (
            (0, 1, "left", "top", "fast, accurate"),
            (0, 0, "left", "bottom", "fast, error-prone"),
            (1, 1, "right", "top", "slow, accurate"),
            (1, 0, "right", "bottom", "slow, error-prone"),
        ):
            fig.add_annotation(
                x=xa, y=ya, xref="paper", yref="paper", text=txt, showarrow=False, xanchor=xanchor,
                yanchor=yanchor, font={"color": "#64748b", "size": 11},
            )  # fmt: skip
    fig.update_xaxes(title=f"Average handle time ({unit})")
    fig.update_yaxes(title="QA mean score")
    fig.update_layout(height=420)
    return fig


def fig_criteria(gaps: pl.DataFrame, order: Sequence[str], names: dict[str, str]) -> go.Figure:
    """Agent x criterion as coloured squares: colour = the agent's criterion mean minus the team's
    (red below, blue above), text = the agent's mean; rows in ``order`` (top first). Drawn as a
    scatter so that a cell can be selected."""
    gaps = stable(gaps)
    d = gaps.filter(pl.col("agent_id").is_in(list(order)))
    lab = {a: plot_text(agent_label(names, a)) for a in order}
    span = max(10.0, float(d["gap"].abs().max() or 0.0)) if d.height else 10.0
    hover = [
        f"<b>{lab[a]}</b> · {plot_text(c)}<br>Agent {ms:.1f} over {n} reviews<br>Team {tm:.1f} "
        f"({g:+.1f} points)<extra></extra>"
        for a, c, ms, n, tm, g in zip(
            d["agent_id"], d["criterion"], d["mean_score"], d["scores"], d["team_mean"], d["gap"], strict=True
        )
    ]
    fig = go.Figure(
        go.Scatter(
            x=[plot_text(c) for c in d["criterion"]],
            y=[lab[a] for a in d["agent_id"]],
            mode="markers+text",
            text=[f"{v:.0f}" for v in d["mean_score"]],
            textfont={
                "size": 11,
                "color": ["#ffffff" if abs(g) > 0.55 * span else "#0f172a" for g in d["gap"].to_list()],
            },
            marker={
                "symbol": "square",
                "size": 30,
                "color": d["gap"].to_list(),
                "colorscale": "RdBu",
                "cmin": -span,
                "cmax": span,
                "colorbar": {"title": {"text": "vs team<br>(points)"}, "thickness": 12},
                "line": {"width": 0},
            },
            customdata=list(zip(d["agent_id"].to_list(), d["criterion"].to_list(), strict=True)),
            hovertemplate=hover,
            showlegend=False,
        )
    )
    rows = [lab[a] for a in order]
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(rows)), title=None, showgrid=False)
    fig.update_xaxes(side="top", title=None, showgrid=False)
    fig.update_layout(height=max(240, 34 * len(rows) + 90))
    return fig


def fig_coverage(cov: pl.DataFrame, names: dict[str, str]) -> go.Figure:
    """Per agent: share of resolved cases that were QA-reviewed, with Wilson interval."""
    cov = stable(cov)
    d = cov.sort(["coverage", "agent_id"], descending=[True, False])
    labels = [plot_text(agent_label(names, a)) for a in d["agent_id"]]
    fig = go.Figure(
        go.Bar(
            x=d["coverage"].to_list(),
            y=labels,
            orientation="h",
            marker={"color": NEUTRAL},
            error_x={
                "type": "data",
                "array": (d["coverage_ci_high"] - d["coverage"]).to_list(),
                "arrayminus": (d["coverage"] - d["coverage_ci_low"]).to_list(),
                "color": "#334155",
            },
            text=[f"{r} / {n}" for r, n in zip(d["reviewed"], d["resolved"], strict=True)],
            textposition="inside",
            insidetextanchor="start",
            customdata=[[a] for a in d["agent_id"]],
            hovertemplate=[
                f"<b>{lab}</b><br>{fmt_pct(c)} reviewed ({r} of {n} resolved)<br>95% interval "
                f"{fmt_pct(lo)} to {fmt_pct(hi)}<extra></extra>"
                for lab, c, r, n, lo, hi in zip(
                    labels,
                    d["coverage"],
                    d["reviewed"],
                    d["resolved"],
                    d["coverage_ci_low"],
                    d["coverage_ci_high"],
                    strict=True,
                )
            ],  # fmt: skip
        )
    )
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(labels)), title=None)
    fig.update_xaxes(tickformat=".0%", title="Resolved cases with a QA review", rangemode="tozero")
    fig.update_layout(height=max(240, 24 * len(labels) + 90), showlegend=False)
    return fig


def fig_lines(
    df: pl.DataFrame, x: str, series: Sequence[tuple[str, str]], *, grain: str, y_title: str,
    fmt: Callable[[float], str], div: float = 1.0, custom: Callable[[dict], list] | None = None,
    count: str | None = None, partial: set[dt.date] | frozenset[dt.date] = frozenset(),
) -> go.Figure:  # fmt: skip
    """Lines over periods for each (column, name) in ``series``; hover names the period and the
    count behind it (``count`` column). Periods in ``partial`` get a hollow marker and a note."""
    df = stable(df)
    fig = go.Figure()
    note = " (partial week)" if grain == "week" else " (day in progress)"
    for i, (col, name) in enumerate(series):
        hover, cds = [], []
        for r in df.iter_rows(named=True):
            n = f"<br>{fmt_number(r[count])} behind it" if count else ""
            part = note if r[x] in partial else ""
            hover.append(f"{period_label(grain, r[x])}{part}<br>{name}: {fmt(r[col])}{n}<extra></extra>")
            cds.append(custom(r) if custom else [str(r[x])])
        fig.add_trace(
            go.Scatter(
                x=df[x].to_list(),
                y=[v / div if v is not None else None for v in df[col].to_list()],
                mode="lines+markers",
                name=name,
                line={"color": PALETTE[i % len(PALETTE)]},
                marker={
                    "symbol": ["circle-open" if v in partial else "circle" for v in df[x]],
                    "size": [10 if v in partial else 7 for v in df[x]],
                },
                customdata=cds,
                hovertemplate=hover,
            )
        )
    fig.update_yaxes(title=y_title, rangemode="tozero")
    period_axis(fig, grain, df[x].n_unique() if df.height else 0)
    fig.update_layout(height=340, hovermode="closest")
    return fig


def fig_reasons(
    rs: pl.DataFrame, x: str, reasons: Sequence[str], *, grain: str,
    partial: set[dt.date] | frozenset[dt.date] = frozenset(),
) -> go.Figure:  # fmt: skip
    """Escalated cases per period stacked by reason (most frequent reason at the bottom); periods
    in ``partial`` are drawn pale and say so on hover."""
    rs = stable(rs)
    fig = go.Figure()
    note = " (partial week)" if grain == "week" else " (day in progress)"
    for i, reason in enumerate(reasons):
        d = rs.filter(pl.col("escalation_reason") == reason)
        fig.add_trace(
            go.Bar(
                x=d[x].to_list(),
                y=d["escalated"].to_list(),
                name=plot_text(reason),
                marker={
                    "color": PALETTE[i % len(PALETTE)],
                    "opacity": [0.4 if p in partial else 1.0 for p in d[x]],
                },
                customdata=[[reason, str(v)] for v in d[x]],
                hovertemplate=[
                    f"{period_label(grain, p)}{note if p in partial else ''}<br><b>{plot_text(reason)}</b>: "
                    f"{e} escalated<br>{fmt_pct(s, 2)} of {fmt_number(c)} cases created<extra></extra>"
                    for p, e, s, c in zip(d[x], d["escalated"], d["share"], d["created"], strict=True)
                ],
            )
        )
    fig.update_layout(barmode="stack", height=360)
    fig.update_yaxes(title="Escalated cases")
    period_axis(fig, grain, rs[x].n_unique() if rs.height else 0)
    return fig


def fig_rate_bars(
    df: pl.DataFrame, key: str, labels: Sequence[str], *, team: float | None, n_label: str = "created"
) -> go.Figure:
    """Escalation rate per ``key`` value as dots with Wilson intervals, lowest on top, with the
    team's rate as a dashed line; hover gives escalated / created."""
    df = stable(df)
    fig = go.Figure(
        go.Scatter(
            x=df["escalation_rate"].to_list(),
            y=list(labels),
            mode="markers",
            marker={"size": 10, "color": NEUTRAL},
            error_x={
                "type": "data",
                "array": (df["escalation_rate_ci_high"] - df["escalation_rate"]).to_list(),
                "arrayminus": (df["escalation_rate"] - df["escalation_rate_ci_low"]).to_list(),
                "thickness": 2.5,
                "width": 5,
                "color": NEUTRAL,
            },
            customdata=[[v] for v in df[key].to_list()],
            hovertemplate=[
                f"<b>{lab}</b><br>{fmt_pct(r)} escalated ({e} of {fmt_number(c)} {n_label})<br>95% interval "
                f"{fmt_pct(lo)} to {fmt_pct(hi)}<extra></extra>"
                for lab, r, e, c, lo, hi in zip(
                    labels,
                    df["escalation_rate"],
                    df["escalated"],
                    df["created"],
                    df["escalation_rate_ci_low"],
                    df["escalation_rate_ci_high"],
                    strict=True,
                )
            ],  # fmt: skip
            showlegend=False,
        )
    )
    if team is not None:
        team = round(team, 6)
        fig.add_vline(x=team, line_dash="dash", line_color=MUTED)
        fig.add_annotation(
            x=team, y=1.0, yref="paper", text=f"all cases {fmt_pct(team)}", showarrow=False, yanchor="bottom",
            font={"color": "#475569"},
        )  # fmt: skip
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(labels)), title=None)
    fig.update_xaxes(tickformat=".0%", title="Escalation rate", rangemode="tozero")
    fig.update_layout(height=max(240, 26 * len(labels) + 100))
    return fig


def fig_escalation_quality(eq: pl.DataFrame, names: dict[str, str]) -> go.Figure:
    """Agents by QA mean score (x) and escalation rate (y); agents with too few cases or reviews
    are hollow grey; dashed lines at the medians of the others."""
    eq = stable(eq)
    d = eq.filter(pl.col("mean_score").is_not_null())
    fig = go.Figure()
    for few, name, marker in (
        (False, "Agent", {"size": 11, "color": NEUTRAL}),
        (
            True,
            f"Too few cases (< {MIN_CASES}) or reviews (< {MIN_REVIEWS}): mostly chance",
            {"size": 10, "color": MUTED, "symbol": "circle-open", "line": {"width": 2}},
        ),
    ):
        g = d.filter(pl.col("few") == few)
        if g.height == 0:
            continue
        fig.add_trace(
            go.Scatter(
                x=g["mean_score"].to_list(),
                y=g["escalation_rate"].to_list(),
                mode="markers+text",
                text=[plot_text(a) for a in g["agent_id"]],
                textposition="top center",
                name=name,
                marker=marker,
                customdata=[[a] for a in g["agent_id"]],
                hovertemplate=[
                    f"<b>{plot_text(agent_label(names, a))}</b><br>Escalated {fmt_pct(r)} of {fmt_number(c)} "
                    f"cases created (95% {fmt_pct(lo)} to {fmt_pct(hi)})<br>QA mean {q:.1f} over {n} reviews"
                    "<extra></extra>"
                    for a, r, c, lo, hi, q, n in zip(
                        g["agent_id"],
                        g["escalation_rate"],
                        g["created"],
                        g["escalation_rate_ci_low"],
                        g["escalation_rate_ci_high"],
                        g["mean_score"],
                        g["reviews"],
                        strict=True,
                    )
                ],  # fmt: skip
            )
        )
    ok = d.filter(~pl.col("few"))
    if ok.height:
        med = qx.medians(ok, "mean_score", "escalation_rate")
        fig.add_vline(x=med["mean_score"], line_dash="dash", line_color=MUTED)
        fig.add_hline(y=med["escalation_rate"], line_dash="dash", line_color=MUTED)
        fig.add_annotation(
            x=med["mean_score"], y=1.0, yref="paper", text=f"median QA {med['mean_score']:.1f}",
            showarrow=False, yanchor="bottom", font={"color": "#475569"},
        )  # fmt: skip
        fig.add_annotation(
            x=1.0, xref="paper", y=med["escalation_rate"], text=f"median {fmt_pct(med['escalation_rate'])}",
            showarrow=False, xanchor="right", yanchor="bottom", font={"color": "#475569"},
        )  # fmt: skip
        for xa, ya, xanchor, yanchor, txt in (
            (0, 0, "left", "bottom", "low QA, few escalations: escalates too little?"),
            (1, 1, "right", "top", "high QA, many escalations: escalates too much?"),
            (0, 1, "left", "top", "low QA, many escalations"),
        ):
            fig.add_annotation(
                x=xa, y=ya, xref="paper", yref="paper", text=txt, showarrow=False, xanchor=xanchor,
                yanchor=yanchor, font={"color": "#64748b", "size": 11},
            )  # fmt: skip
    fig.update_xaxes(title="QA mean score")
    fig.update_yaxes(title="Escalation rate", tickformat=".0%")
    fig.update_layout(height=440)
    return fig


# --------------------------------------------------------------------------- Streamlit parts


def grain_control(ctx) -> str:
    """The shared Weekly/Daily switch (``?grain=week|day``)."""
    return _shared_grain_control(ctx, key=f"tb_grain_{ctx.page}")


WEEKLY_HOW = (
    " Weeks whose change from the previous week is beyond the normal week-to-week variation of the previous "
    "8 weeks (XmR limits, docs/METRICS.md: week over week) are marked ▲/▼ in colour; grey whiskers show each "
    "week's normal range. Partial weeks are faded and not judged."
)


def with_counts(fig: go.Figure, counts: dict[str, str]) -> go.Figure:
    """Add the count behind each period (``counts[YYYY-MM-DD]``, e.g. '412 reviews') to the hover
    of the traces whose ``customdata`` starts with the period."""
    for trace in fig.data:
        cd, ht = trace.customdata, trace.hovertemplate
        if cd is None or not isinstance(ht, tuple | list):
            continue
        trace.hovertemplate = [
            h.replace("<extra></extra>", f"<br>{counts[str(c[0])]}<extra></extra>")
            if str(c[0]) in counts
            else h
            for c, h in zip(cd, ht, strict=True)
        ]
    return fig


def fig_daily(
    df: pl.DataFrame, col: str, metric: str, *, partial: set[dt.date] | frozenset[dt.date] = frozenset(),
    counts: dict[str, str] | None = None, height: int = 300,
) -> go.Figure:  # fmt: skip
    """One bar per day of ``df`` (``date`` | ``col``), the day in progress faded; formatted by the
    metric's unit as the weekly charts; ``customdata`` = [date]."""
    df = stable(df).sort("date")
    fmt, div, y_title = value_format(metric, df[col].to_list())
    share = m.DEFINITIONS[metric].unit == "share"
    days = df["date"].to_list()
    counts = counts or {}
    hover = [
        f"<b>{period_label('day', d)}{' (day in progress)' if d in partial else ''}</b><br>"
        f"{plot_text(m.DEFINITIONS[metric].label)}: {fmt(v)}"
        + (f"<br>{counts[str(d)]}" if str(d) in counts else "")
        + "<extra></extra>"
        for d, v in zip(days, df[col], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=days,
            y=[None if v is None else v / div for v in df[col]],
            marker={"color": NEUTRAL, "opacity": [0.45 if d in partial else 1.0 for d in days]},
            customdata=[[str(d)] for d in days],
            hovertemplate=hover,
            name=m.DEFINITIONS[metric].label,
        )
    )
    period_axis(fig, "day", len(days))
    fig.update_yaxes(title=y_title, rangemode="tozero", tickformat=".0%" if share else None)
    fig.update_layout(height=height, showlegend=False)
    return fig


def period_chart(
    ctx, f, grain: str, *, metric: str, table: pl.DataFrame, col: str, counts: dict[str, str], title: str,
    key: str, kind: str = "bar", pass_mark: float | None = None,
) -> Any:  # fmt: skip
    """The shared weekly chart of ``metric`` (trend() with flagged weeks marked and said in words),
    with the count behind each week on hover; or, for the daily view, one bar per day of ``table``
    (``date`` | ``col``). Returns the selection (customdata = [period])."""
    help_text = uc.metric_help(metric) or ""
    if grain == "week":
        kw = {"pass_mark": pass_mark} if pass_mark is not None else {}
        tr = m.trend(ctx.ds, f, metric, **kw)
        fig = with_counts(fig_weekly(tr, metric, kind=kind, height=300), counts)
        sel = uc.chart(fig, title=title, key=key, data=tr, help=help_text + WEEKLY_HOW, on_select=True)
        lines = flag_sentences(tr, metric)
        if lines:
            st.markdown("  \n".join(f"⚠️ {md_escape(x)}" for x in lines))
        elif tr.height:
            st.caption(
                "No whole week moved beyond the normal week-to-week variation of the 8 weeks before it."
            )
        return sel
    fig = fig_daily(table, col, metric, partial=partial_periods(f, "day"), counts=counts)
    return uc.chart(
        fig, title=title, key=key, data=table, on_select=True,
        help=help_text + " Week-over-week judgement (normal variation) is made on whole weeks: switch to the weekly view.",
    )  # fmt: skip


def _drill(
    ctx, sel: Any, fetch: Callable[[list[Any]], tuple | None], key: str, extra: dict[str, str] | None = None
) -> None:
    """When a chart element is selected, list the cases behind the first selected one.
    ``fetch(customdata)`` returns (cases, title) or (cases, title, caption); ``extra`` maps columns
    of the cases to extra display columns of the list (e.g. ``{"escalation_reason": "Reason"}``)."""
    points = picked(sel)
    if not points:
        st.caption("Drag a box over a bar or point to list the cases behind it.")
        return
    try:
        got = fetch(points[0])
    except m.MetricError as exc:
        st.info(md_escape(str(exc)))
        return
    if got is None:
        return
    cases, title, *rest = got
    shown = {k: v for k, v in (extra or {}).items() if k in cases.columns}
    if shown:
        cases = cases.with_columns(pl.col(k).alias(v) for k, v in shown.items())
    case_list(
        ctx,
        cases,
        title=title,
        caption=rest[0] if rest else None,
        key=f"{key}__cases",
        extra=tuple(shown.values()),
    )


# --------------------------------------------------------------------------- Quality page


def render_quality(ctx) -> None:
    """The Quality page body."""
    ds, f = ctx.ds, m.pin(ctx.filter)
    pass_mark = ctx.settings.qa_pass_mark
    names = dict(ctx.options.agents)
    grain = grain_control(ctx)
    if not ds.has("qa_reviews"):
        st.info(md_escape(NO_QA), icon=":material/database_off:")
        st.caption(
            "Quality needs a qa_reviews table (review_id, case_id, agent_id, reviewed_at, score; optional "
            "critical_error, comment) and, for the rubric, qa_criteria. The Data page shows what tsdash reads."
        )
        return
    qa = qx.qa_agents(ds, f, detail=True, pass_mark=pass_mark)
    if qa.height == 0:
        in_window = m.quality(ds, m.pin(ctx.filter.with_(**{d: () for d in m.DIMENSIONS})), ()).height
        uc.explain_empty(
            ctx, rows_in_window=in_window, rows_after_filters=0, table="qa_reviews", what="QA reviews"
        )
        return
    st.caption(
        md_escape(
            f"QA reviews in {_period_text(ctx)}; pass = score ≥ {pass_mark:g} and no critical error. "
            "Reviews count in the week they were done."
        )
    )
    _quality_tiles(ctx, f, pass_mark)
    _team_quality(ctx, f, grain, pass_mark)
    _agent_flags(ctx, f, names, pass_mark)
    _agent_scores(ctx, f, qa, names, pass_mark)
    _speed_quality(ctx, f, names, pass_mark)
    _criteria(ctx, f, qa, names, grain)
    _coverage(ctx, f, names)
    _reviews_list(ctx, f, names, pass_mark)


def _period_text(ctx) -> str:
    start, end = ctx.window
    return f"{start:%d %b %Y}" if start == end else f"{start:%d %b %Y} to {end:%d %b %Y}"


def _delta(cur: float | None, prev: float | None, fmt: Callable[[float], str]) -> str | None:
    if cur is None or prev is None:
        return None
    d = cur - prev
    return ("+" if d >= 0 else "-") + fmt(abs(d))


def _quality_tiles(ctx, f, pass_mark: float) -> None:
    """The period's team numbers (the engine's quality and qa-coverage tables without grouping),
    with the change against the previous period of the same length."""
    ds = ctx.ds
    cur = m.quality(ds, f, (), pass_mark=pass_mark)
    prev = m.quality(ds, f.previous(), (), pass_mark=pass_mark)
    c = cur.row(0, named=True)
    p = prev.row(0, named=True) if prev.height else {}
    cov = m.qa_coverage(ds, f, ())
    d = m.DEFINITIONS
    vs = f"vs previous {f.days} days"
    cols = st.columns(5)
    cols[0].metric(
        "QA mean score", f"{c['mean_score']:.1f}", _delta(c["mean_score"], p.get("mean_score"), lambda v: f"{v:.1f}"),
        help=d["qa_mean"].description + f" Change {vs}.",
    )  # fmt: skip
    cols[1].metric(
        "Pass rate", fmt_pct(c["pass_rate"]),
        _delta(c["pass_rate"], p.get("pass_rate"), lambda v: f"{v * 100:.1f} pp"),
        help=d["qa_pass_rate"].description + f" Change {vs} in percentage points.",
    )  # fmt: skip
    cols[2].metric(
        "Critical errors", fmt_number(c["critical_errors"]),
        help=d["qa_critical_errors"].description
        + (
            f" Previous {f.days} days: {fmt_number(p['critical_errors'])} in {fmt_number(p['reviews'])} reviews "
            "(a count, so no arrow: it moves with the number of reviews)."
            if p else ""
        ),
    )  # fmt: skip
    cols[3].metric("QA reviews", fmt_number(c["reviews"]), help=d["qa_reviews"].description)
    cols[4].metric(
        "Review coverage", fmt_pct(cov["coverage"][0]) if cov.height else "–",
        help=d["qa_coverage"].description,
    )  # fmt: skip


def _team_quality(ctx, f, grain: str, pass_mark: float) -> None:
    """Weekly (or daily) team mean score, pass rate and critical errors (the shared weekly chart),
    each drilling to the reviews of the selected period."""
    x = "week" if grain == "week" else "date"
    per = "week" if grain == "week" else "day"
    table = m.quality(ctx.ds, f, (x,), pass_mark=pass_mark)
    reviews = {str(r[x]): f"{fmt_number(r['reviews'])} reviews" for r in table.iter_rows(named=True)}
    cols = st.columns(3)
    specs = (
        ("qa_mean", "mean_score", None, f"QA mean score per {per}", "line", "QA reviews"),
        ("qa_pass_rate", "pass_rate", "fails", f"QA pass rate per {per}", "line", "Failed QA reviews"),
        ("qa_critical_errors", "critical_errors", "critical_errors", f"Critical errors per {per}", "bar",
         "QA reviews with a critical error"),
    )  # fmt: skip
    for col, (metric, column, measure, title, kind, what) in zip(cols, specs, strict=True):
        with col:
            key = f"tb_q_team_{metric}"
            sel = period_chart(
                ctx, f, grain, metric=metric, table=table, col=column, counts=reviews, title=title, key=key,
                kind=kind, pass_mark=pass_mark,
            )  # fmt: skip
            _drill(
                ctx,
                sel,
                lambda p, measure=measure, what=what: (
                    m.cases_behind(ctx.ds, f, "quality", measure, pass_mark=pass_mark, **{x: p[0]}),
                    f"{what}, {period_label(grain, dt.date.fromisoformat(str(p[0])[:10]))}",
                ),
                key,
                {"comment": "Comment"},
            )


def _agent_flags(ctx, f, names: dict[str, str], pass_mark: float) -> None:
    tr = m.trend(ctx.ds, f, "qa_mean", keys=("agent_id",), pass_mark=pass_mark)
    lines = agent_flag_sentences(tr, names)
    st.markdown(
        "**Agents whose week changed beyond normal variation**",
        help="Per agent, each whole week's QA mean score against the agent's own previous 8 weeks "
        "(XmR limits, see docs/METRICS.md: week over week). Partial weeks are left out. Biggest changes first.",
    )
    if lines:
        for line in lines:
            st.warning(
                md_escape(line),
                icon=":material/trending_down:" if " fell " in line else ":material/trending_up:",
            )
    else:
        st.caption(
            "No agent's weekly QA mean score moved beyond its normal week-to-week variation in this period."
        )


def _agent_scores(ctx, f, qa: pl.DataFrame, names: dict[str, str], pass_mark: float) -> None:
    mp, pp = qx.qa_pooling(ctx.ds, f, pass_mark=pass_mark)
    d = m.DEFINITIONS
    help_text = (
        "Hollow circle and whiskers: the agent's own mean score and its 95% interval (Student t). "
        "Diamond: the mean shrunk toward the team — "
        + d["qa_mean_shrunk"].description
        + (
            f" Here: team mean {mp.center:.1f}, within-agent variance {mp.within:.1f}, between-agent variance "
            f"{mp.between:.1f}."
            if mp.shrunk and mp.between is not None
            else " Here nothing is pooled (one agent, or no agent with two reviews)."
        )
        + " Agents are ordered by the shrunk estimate, lowest on top, so that a few lucky or unlucky reviews do "
        "not put an agent at the top or the bottom."
    )
    sel = uc.chart(
        fig_agent_scores(qa, names, pass_mark=pass_mark),
        title="QA mean score per agent: own mean with 95% interval, and shrunk toward the team",
        key="tb_q_agents",
        data=qa,
        help=help_text,
        on_select=True,
    )
    _drill(
        ctx,
        sel,
        lambda p: (
            m.cases_behind(ctx.ds, f, "quality", pass_mark=pass_mark, agent_id=p[0]),
            f"QA reviews of {agent_label(names, p[0])}",
        ),
        "tb_q_agents",
        {"comment": "Comment"},
    )
    table = qa.select(
        text_column(qa, "agent_id", lambda a: agent_label(names, a)).alias("Agent"),
        pl.col("reviews").alias("Reviews"),
        pl.col("mean_score").alias("Mean score"),
        pl.col("mean_score_ci_low").alias("95% low"),
        pl.col("mean_score_ci_high").alias("95% high"),
        pl.col("mean_score_shrunk").alias("Shrunk mean"),
        (pl.col("pass_rate") * 100).alias("Pass rate %"),
        (pl.col("pass_rate_ci_low") * 100).alias("Pass 95% low"),
        (pl.col("pass_rate_ci_high") * 100).alias("Pass 95% high"),
        (pl.col("pass_rate_shrunk") * 100).alias("Shrunk pass rate %"),
        pl.col("critical_errors").alias("Critical errors"),
    ).sort("Shrunk mean")
    one = st.column_config.NumberColumn(format="%.1f")
    with st.expander("Per-agent numbers (pass rate shrunk: " + md_escape(_pass_note(pp)) + ")"):
        uc.download_csv(table, "qa_per_agent", key="tb_q_agents_table_csv")
        st.dataframe(
            table,
            hide_index=True,
            key="tb_q_agents_table",
            column_config={c: one for c in table.columns if table.schema[c] == pl.Float64},
        )
        st.caption(md_escape(d["qa_pass_rate_shrunk"].description))


def _pass_note(pp: qx.Pooling) -> str:
    if not pp.shrunk:
        return "nothing to pool"
    if pp.prior_n is not None and pp.prior_n == float("inf"):
        return "agents differ no more than chance, every agent gets the team rate"
    return f"prior worth {pp.prior_n:.1f} reviews at the team rate {fmt_pct(pp.center)}"


def _speed_quality(ctx, f, names: dict[str, str], pass_mark: float) -> None:
    sq = qx.speed_vs_quality(ctx.ds, f, pass_mark=pass_mark)
    if sq.filter(pl.col("aht_s").is_not_null()).height == 0:
        return
    sel = uc.chart(
        fig_speed_quality(sq, names),
        title="Speed against quality per agent: average handle time and QA mean score",
        key="tb_q_speed",
        data=sq,
        help="x: " + m.DEFINITIONS["aht"].description + " y: " + m.DEFINITIONS["qa_mean"].description
        + " Dashed lines: the agents' medians. Marker size grows with the number of reviews.",
        on_select=True,
    )  # fmt: skip
    _drill(
        ctx,
        sel,
        lambda p: (
            m.cases_behind(ctx.ds, f, "quality", "fails", pass_mark=pass_mark, agent_id=p[0]),
            f"Failed QA reviews of {agent_label(names, p[0])}",
        ),
        "tb_q_speed",
        {"comment": "Comment"},
    )


def _focus_agent(ctx, f, qa: pl.DataFrame, pass_mark: float) -> str | None:
    """The agent to show first in 'criteria by week': the first drop of the flagged agents' list
    above it (biggest change relative to its limit first), else the lowest shrunk mean."""
    tr = m.trend(ctx.ds, f, "qa_mean", keys=("agent_id",), pass_mark=pass_mark)
    drops = flagged(tr).filter(pl.col("change") < 0)
    if drops.height:
        return drops["agent_id"][0]
    return qa.sort("mean_score_shrunk")["agent_id"][0] if qa.height else None


def _criteria(ctx, f, qa: pl.DataFrame, names: dict[str, str], grain: str) -> None:
    ds = ctx.ds
    if not ds.has("qa_criteria"):
        uc.empty_state(ctx, "missing_table", table="qa_criteria")
        return
    gaps = qx.criterion_gaps(ds, f)
    if gaps.height == 0:
        st.caption("No rubric (criterion) scores for the reviews in this period.")
        return
    order = [a for a in reversed(_agent_order(qa, "mean_score_shrunk")) if a in set(gaps["agent_id"])]
    order = list(reversed(order))
    sel = uc.chart(
        fig_criteria(gaps, order, names),
        title="Which criterion pulls an agent down: criterion mean against the team's (points)",
        key="tb_q_criteria",
        data=gaps,
        help=m.DEFINITIONS["qa_criterion_mean"].description
        + " Colour: the agent's criterion mean minus the team's mean for that criterion (red below, blue above); "
        "the number is the agent's mean. Hover for the number of scores.",
        on_select=True,
    )  # fmt: skip
    _drill(
        ctx,
        sel,
        lambda p: _criterion_drill(ds, f, names, p[0], p[1]),
        "tb_q_criteria",
        {"criterion_score": "Criterion score", "comment": "Comment"},
    )
    # one agent's criteria over time
    focus = _focus_agent(ctx, f, qa, ctx.settings.qa_pass_mark)
    agents = order
    key = "tb_q_focus"
    if key not in st.session_state or st.session_state[key] not in agents:
        st.session_state[key] = focus if focus in agents else agents[0]
    agent = st.selectbox(
        "Criteria over time for",
        agents,
        key=key,
        format_func=lambda a: agent_label(names, a),
        help="Starts with the agent whose weekly QA mean score dropped most beyond normal variation "
        "(else the lowest shrunk mean).",
    )
    tkey = "week" if grain == "week" else "date"
    one = m.qa_criteria(ds, f.with_(agents=(agent,)), ("criterion", tkey))
    team = m.qa_criteria(ds, f, ("criterion",)).select("criterion", pl.col("mean_score").alias("team"))
    wide = one.pivot(on="criterion", index=tkey, values="mean_score").sort(tkey)
    crits = [c for c in one["criterion"].unique().sort().to_list()]
    n = one.group_by(tkey).agg(pl.col("scores").max().alias("n"))
    wide = wide.join(n, on=tkey, how="left")
    fig = fig_lines(
        wide, tkey, [(c, c) for c in crits], grain=grain, y_title="Criterion mean score",
        fmt=lambda v: "–" if v is None else f"{v:.1f}", count="n",
        custom=lambda r: [str(r[tkey])], partial=partial_periods(f, grain),
    )  # fmt: skip
    for i, c in enumerate(crits):
        tv = team.filter(pl.col("criterion") == c)["team"]
        if tv.len():
            fig.add_hline(y=tv[0], line_dash="dot", line_color=PALETTE[i % len(PALETTE)], opacity=0.5)
    fig.update_yaxes(rangemode="normal")
    sel = uc.chart(
        fig,
        title=f"{agent_label(names, agent)}: mean score per criterion by {tkey if tkey == 'week' else 'day'}",
        key="tb_q_focus_chart",
        data=one,
        help=m.DEFINITIONS["qa_criterion_mean"].description + " Dotted lines: the team's mean for each criterion "
        "over the whole period.",
        on_select=True,
    )  # fmt: skip
    _drill(
        ctx,
        sel,
        lambda p: (
            m.cases_behind(ds, f, "quality", agent_id=agent, **{tkey: p[0]}),
            f"QA reviews of {agent_label(names, agent)} in the {period_label(grain, dt.date.fromisoformat(p[0]))}",
        ),
        "tb_q_focus_chart",
        {"comment": "Comment"},
    )


def _criterion_drill(ds, f, names: dict[str, str], agent_id: str, criterion: str) -> tuple:
    rv = qx.criterion_reviews(ds, f, agent_id=agent_id, criterion=criterion)
    mean = rv["criterion_score"].mean() if rv.height else None
    caption = (
        f"QA score is the review's overall score, Criterion score its {criterion} score (mean {mean:.1f})."
        if mean is not None
        else None
    )
    return rv, f"Reviews of {agent_label(names, agent_id)} scored on {criterion}", caption


def _coverage(ctx, f, names: dict[str, str]) -> None:
    cov = m.qa_coverage(ctx.ds, f, ("agent_id",), detail=True).filter(pl.col("agent_id").is_not_null())
    if cov.height == 0:
        return
    sel = uc.chart(
        fig_coverage(cov, names),
        title="Review coverage per agent: resolved cases with a QA review",
        key="tb_q_coverage",
        data=cov,
        metric="qa_coverage",
        on_select=True,
    )
    _drill(
        ctx,
        sel,
        lambda p: (
            m.cases_behind(ctx.ds, f, "qa-coverage", "reviewed", agent_id=p[0]),
            f"Reviewed cases resolved by {agent_label(names, p[0])}",
        ),
        "tb_q_coverage",
    )


def _reviews_list(ctx, f, names: dict[str, str], pass_mark: float) -> None:
    ds = ctx.ds
    reviews = m.cases_behind(ds, f, "quality", pass_mark=pass_mark)
    st.markdown(
        "**QA reviews with comments**",
        help="The QA reviews done in the period, newest first. Select a row to open the reviewed case. "
        "Comments are shown as written.",
    )
    c1, c2 = st.columns([2, 1])
    agents = sorted(set(reviews["agent_id"].drop_nulls().to_list()))
    who = c1.selectbox(
        "Agent", ["(all)", *agents], key="tb_q_reviews_agent",
        format_func=lambda a: a if a == "(all)" else agent_label(names, a),
    )  # fmt: skip
    only_failed = c2.toggle("Only failed reviews", key="tb_q_reviews_failed")
    d = reviews
    if who != "(all)":
        d = d.filter(pl.col("agent_id") == who)
    passed = (pl.col("score") >= pass_mark).fill_null(False) & ~pl.col("critical_error").fill_null(False)
    d = d.with_columns(passed.alias("passed"))
    if only_failed:
        d = d.filter(~pl.col("passed"))
    d = d.sort(["reviewed_at", "review_id"], descending=[True, False])
    total = d.height
    d = d.head(MAX_LIST_ROWS)
    zone = ctx.filter.tz
    shown = d.select(
        pl.col("reviewed_at").dt.convert_time_zone(zone).dt.strftime("%Y-%m-%d %H:%M").alias("Reviewed"),
        text_column(d, "agent_id", lambda a: agent_label(names, a)).alias("Agent"),
        pl.col("case_id").alias("Case"),
        pl.col("score").alias("Score"),
        pl.col("critical_error").fill_null(False).alias("Critical error"),
        pl.col("passed").alias("Passed"),
        pl.col("reviewer_id").alias("Reviewer"),
        pl.col("comment").fill_null("").alias("Comment"),
    )
    if total > MAX_LIST_ROWS:
        st.caption(
            f"Showing the newest {fmt_number(MAX_LIST_ROWS)} of {fmt_number(total)} reviews; the CSV has all."
        )
    uc.download_csv(
        d.drop("passed"),
        "qa_reviews",
        key="tb_q_reviews_csv",
        help="All reviews of this list as CSV (comments included).",
    )
    ev = st.dataframe(
        shown,
        hide_index=True,
        key="tb_q_reviews",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "Score": st.column_config.NumberColumn(format="%.1f"),
            "Comment": st.column_config.TextColumn(width="large"),
        },
    )
    row = selected_row(ev)
    if row is not None and row < d.height:
        r = d.row(row, named=True)
        st.markdown(f"**Review {md_escape(r['review_id'])}** of case {md_escape(r['case_id'])}")
        uc.text(r["comment"] if r["comment"] is not None else "(no comment)")
        ctx.link("cases", f"Open case {r['case_id']}", icon=":material/open_in_new:", case=str(r["case_id"]))


# --------------------------------------------------------------------------- Escalations page


def render_escalations(ctx) -> None:
    """The Escalations page body."""
    ds, f = ctx.ds, m.pin(ctx.filter)
    names = dict(ctx.options.agents)
    grain = grain_control(ctx)
    total = m.escalations(ds, f, ())
    if total.height == 0:
        in_window = m.escalations(ds, m.pin(ctx.filter.with_(**{d: () for d in m.DIMENSIONS})), ()).height
        uc.explain_empty(ctx, rows_in_window=in_window, rows_after_filters=0, what="cases")
        _open_escalations(ctx, f, names)
        return
    t0 = total.row(0, named=True)
    st.caption(
        md_escape(
            f"Cases created in {_period_text(ctx)}: {fmt_number(t0['created'])}, of which "
            f"{fmt_number(t0['escalated'])} escalated ({fmt_pct(t0['escalation_rate'])}). A case counts in the "
            "week it was created."
        )
    )
    _escalation_tiles(ctx, f, t0)
    _team_escalations(ctx, f, grain)
    _reasons(ctx, f, grain)
    c1, c2 = st.columns(2)
    with c1:
        _by_queue(ctx, f, t0["escalation_rate"])
    with c2:
        _by_agent(ctx, f, names, t0["escalation_rate"])
    _turnaround(ctx, f, grain)
    _open_escalations(ctx, f, names)
    _escalation_vs_quality(ctx, f, names)


def _escalation_tiles(ctx, f, t0: dict) -> None:
    """The period's escalation rate and counts, open escalations at as-of and the median
    turnaround (engine tables without grouping)."""
    ds = ctx.ds
    d = m.DEFINITIONS
    prev = m.escalations(ds, f.previous(), ())
    p = prev.row(0, named=True) if prev.height else {}
    ta = m.escalation_turnaround(ds, f, ())
    open_now = m.backlog_now(ds, f, (), detail=True)
    cols = st.columns(4)
    cols[0].metric(
        "Escalation rate", fmt_pct(t0["escalation_rate"]),
        _delta(t0["escalation_rate"], p.get("escalation_rate"), lambda v: f"{v * 100:.1f} pp"), delta_color="off",
        help=d["escalation_rate"].description + f" Change vs previous {f.days} days in percentage points.",
    )  # fmt: skip
    cols[1].metric(
        "Escalated cases", fmt_number(t0["escalated"]),
        help=f"Of {fmt_number(t0['created'])} cases created in the period.",
    )  # fmt: skip
    cols[2].metric(
        "Open escalations now", fmt_number(open_now["open_escalations"][0] if open_now.height else 0),
        help=d["open_escalations"].description,
    )  # fmt: skip
    cols[3].metric(
        "Median turnaround", fmt_duration(ta["median_s"][0]) if ta.height else "–",
        help=d["escalation_turnaround"].description
        + (f" {fmt_number(ta['escalations'][0])} escalations resolved in the period." if ta.height else ""),
    )  # fmt: skip


def _team_escalations(ctx, f, grain: str) -> None:
    """Weekly (or daily) escalation rate with the counts behind it, drilling to the escalated cases."""
    x = "week" if grain == "week" else "date"
    per = "week" if grain == "week" else "day"
    table = m.escalations(ctx.ds, f, (x,), detail=True)
    counts = {
        str(r[x]): f"{fmt_number(r['escalated'])} escalated of {fmt_number(r['created'])} created"
        for r in table.iter_rows(named=True)
    }
    sel = period_chart(
        ctx, f, grain, metric="escalation_rate", table=table, col="escalation_rate", counts=counts,
        title=f"Escalation rate per {per} of creation", key="tb_e_team",
    )  # fmt: skip
    _drill(
        ctx,
        sel,
        lambda p: (
            m.cases_behind(ctx.ds, f, "escalations", "escalated", **{x: p[0]}),
            f"Escalated cases created in the {period_label(grain, dt.date.fromisoformat(str(p[0])[:10]))}",
        ),
        "tb_e_team",
        {"escalation_reason": "Reason"},
    )


def _reasons(ctx, f, grain: str) -> None:
    tkey = "week" if grain == "week" else "date"
    rs = qx.escalations_by_reason(ctx.ds, f, (tkey,))
    if rs.height == 0:
        st.caption("No escalations in this period.")
        return
    reasons = qx.reason_totals(ctx.ds, f)["escalation_reason"].to_list()
    sel = uc.chart(
        fig_reasons(rs, tkey, reasons, grain=grain, partial=partial_periods(f, grain)),
        title=f"Escalated cases by reason, per {'week' if grain == 'week' else 'day'} of creation",
        key="tb_e_reasons",
        data=rs,
        help="The escalated cases of the escalation rate split by escalation_reason (cases without a reason under "
        f"“{qx.NO_REASON}”). " + m.DEFINITIONS["escalation_rate"].description,
        on_select=True,
    )  # fmt: skip
    _drill(
        ctx,
        sel,
        lambda p: (
            qx.escalated_cases_by_reason(ctx.ds, f, p[0], **{tkey: p[1]}),
            f"Escalated for {p[0]} in the {period_label(grain, dt.date.fromisoformat(p[1]))}",
        ),
        "tb_e_reasons",
        {"escalation_reason": "Reason"},
    )


def _by_queue(ctx, f, team: float | None) -> None:
    q = m.escalations(ctx.ds, f, ("queue",), detail=True).sort(
        ["escalation_rate", "queue"], descending=[True, False]
    )
    labels = [plot_text(v) for v in q["queue"]]
    sel = uc.chart(
        fig_rate_bars(q, "queue", labels, team=team),
        title="Escalation rate by queue (95% interval)",
        key="tb_e_queue",
        data=q,
        metric="escalation_rate",
        on_select=True,
    )
    _drill(
        ctx,
        sel,
        lambda p: (
            m.cases_behind(ctx.ds, f, "escalations", "escalated", queue=p[0]),
            f"Escalated cases in {p[0]}",
        ),
        "tb_e_queue",
        {"escalation_reason": "Reason"},
    )


def _by_agent(ctx, f, names: dict[str, str], team: float | None) -> None:
    a = (
        m.escalations(ctx.ds, f, ("agent_id",), detail=True)
        .filter(pl.col("agent_id").is_not_null())
        .sort(["escalation_rate", "agent_id"], descending=[True, False])
    )
    labels = [
        plot_text(f"{agent_label(names, x)} · n={n}")
        for x, n in zip(a["agent_id"], a["created"], strict=True)
    ]
    sel = uc.chart(
        fig_rate_bars(a, "agent_id", labels, team=team),
        title="Escalation rate per agent (95% Wilson interval, n = cases created)",
        key="tb_e_agent",
        data=a,
        help=m.DEFINITIONS["escalation_rate"].description + " Per assigned agent; unassigned cases are left out. "
        "Wide whiskers mean few cases: compare the intervals, not the dots.",
        on_select=True,
    )  # fmt: skip
    _drill(
        ctx,
        sel,
        lambda p: (
            m.cases_behind(ctx.ds, f, "escalations", "escalated", agent_id=p[0]),
            f"Cases escalated by {agent_label(names, p[0])}",
        ),
        "tb_e_agent",
        {"escalation_reason": "Reason"},
    )


def _turnaround(ctx, f, grain: str) -> None:
    tkey = "week" if grain == "week" else "date"
    ta = m.escalation_turnaround(ctx.ds, f, (tkey,))
    if ta.height == 0:
        st.caption("No escalation was resolved in this period, so there is no turnaround to show.")
        return
    div, unit = axis_unit(ta["median_s"].to_list())
    fig = fig_lines(
        ta, tkey, [("median_s", "Median"), ("p90_s", "90th percentile")], grain=grain,
        y_title=f"Escalation turnaround ({unit})", fmt=fmt_duration, div=div, count="escalations",
        partial=partial_periods(f, grain),
    )  # fmt: skip
    sel = uc.chart(
        fig,
        title=f"Escalation turnaround per {'week' if grain == 'week' else 'day'} of resolution: median and 90th percentile",
        key="tb_e_turnaround",
        data=ta,
        metric="escalation_turnaround",
        on_select=True,
    )
    _drill(
        ctx,
        sel,
        lambda p: (
            _with_text(
                m.cases_behind(ctx.ds, f, "escalation-turnaround", **{tkey: p[0]}).sort(
                    "value_s", descending=True
                ),
                "value_s",
                "turnaround",
            ),
            f"Escalations resolved in the {period_label(grain, dt.date.fromisoformat(p[0]))}, slowest first",
        ),
        "tb_e_turnaround",
        {"turnaround": "Turnaround", "escalation_reason": "Reason"},
    )


def _with_text(df: pl.DataFrame, col: str, name: str) -> pl.DataFrame:
    """``df`` with the durations of ``col`` as text in ``name``."""
    return df.with_columns(text_column(df, col, fmt_duration).alias(name))


def _open_escalations(ctx, f, names: dict[str, str]) -> None:
    oe = qx.open_escalations(ctx.ds, f)
    st.markdown(
        f"**Open escalations, oldest first** · {fmt_number(oe.height)}",
        help=m.DEFINITIONS["open_escalations"].description
        + " Waiting: as-of minus escalated_at. A snapshot at "
        "as-of: the date window does not apply; the other filters do.",
    )
    if oe.height == 0:
        st.caption("No open escalations at as-of.")
        return
    zone = ctx.filter.tz
    top = oe.head(MAX_LIST_ROWS)
    shown = top.select(
        pl.col("case_id").alias("Case"),
        pl.col("escalation_reason").fill_null(qx.NO_REASON).alias("Reason"),
        text_column(top, "escalation_age_s", fmt_duration).alias("Waiting"),
        pl.col("escalated_at").dt.convert_time_zone(zone).dt.strftime("%Y-%m-%d %H:%M").alias("Escalated"),
        text_column(top, "age_s", fmt_duration).alias("Case age"),
        pl.col("queue").alias("Queue"),
        pl.col("priority").alias("Priority"),
        text_column(top, "agent_id", lambda a: agent_label(names, a), skip_nulls=False).alias("Agent"),
    )  # fmt: skip
    uc.download_csv(oe, "open_escalations", key="tb_e_open_csv")
    ev = st.dataframe(shown, hide_index=True, key="tb_e_open", on_select="rerun", selection_mode="single-row")
    st.caption("Select a row to open the case.")
    row = selected_row(ev)
    if row is not None and row < shown.height:
        open_case(ctx, str(shown["Case"][row]))


def _escalation_vs_quality(ctx, f, names: dict[str, str]) -> None:
    ds = ctx.ds
    if not ds.has("qa_reviews"):
        st.markdown("**Escalation rate against QA score per agent**")
        st.info(md_escape(NO_QA), icon=":material/database_off:")
        return
    eq = qx.escalation_vs_quality(
        ds, f, pass_mark=ctx.settings.qa_pass_mark, min_cases=MIN_CASES, min_reviews=MIN_REVIEWS
    )
    if eq.filter(pl.col("mean_score").is_not_null()).height == 0:
        st.markdown("**Escalation rate against QA score per agent**")
        st.caption("No agent has QA reviews in this period.")
        return
    sel = uc.chart(
        fig_escalation_quality(eq, names),
        title="Who escalates too little, who too much: escalation rate against QA mean score",
        key="tb_e_vs_qa",
        data=eq,
        help="x: " + m.DEFINITIONS["qa_mean"].description + " y: " + m.DEFINITIONS["escalation_rate"].description
        + f" Dashed lines: the medians of agents with at least {MIN_CASES} cases and {MIN_REVIEWS} reviews; "
        "agents with fewer are hollow grey (their position is mostly chance). Low QA with few escalations can mean "
        "an agent decides cases alone that should go up; high QA with many escalations can mean escalating what "
        "the agent could decide.",
        on_select=True,
    )  # fmt: skip
    _drill(
        ctx,
        sel,
        lambda p: (
            m.cases_behind(ds, f, "escalations", "escalated", agent_id=p[0]),
            f"Cases escalated by {agent_label(names, p[0])}",
        ),
        "tb_e_vs_qa",
        {"escalation_reason": "Reason"},
    )
