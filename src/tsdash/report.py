"""The agent scorecard as a standalone report: one self-contained HTML file and a CSV bundle.

Pure (Plotly and the standard library, no Streamlit): the app's "Download report" button and
``tsdash report agent ...`` produce the same file from a :class:`tsdash.scorecard.Scorecard`.

* :func:`figures` -- the scorecard's Plotly figures (also drawn by the page).
* :func:`render_html` -- one HTML file: the filters, as-of time, tiles, talking points, the charts
  (interactive; plotly.js is **inlined once**, so the file opens without any network), the tables
  and the metric definitions. Every text from the data is HTML-escaped.
* :func:`csv_bundle` -- a zip of the underlying tables as CSV (formula cells neutralised).
* :func:`run_cli` -- the ``tsdash report`` subcommand.

PNG charts are not offered: static export needs kaleido and a Chrome, which tsdash does not ship.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import io
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import polars as pl

from tsdash import scorecard as sc
from tsdash.metrics import DEFINITIONS
from tsdash.ui.charts import PALETTE, style
from tsdash.ui.export import csv_bytes
from tsdash.ui.fmt import UNIT_WORDS, axis_unit, fmt_duration, fmt_number, fmt_pct

AGENT_COLOR = PALETTE[0]
TEAM_COLOR = "#94a3b8"
BAND_COLOR = "rgba(148, 163, 184, 0.25)"
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "autoScale2d"]}


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------


def plain(text: object) -> str:
    """Data text for a Plotly label: Plotly reads a little HTML (<b>, <a href>...) in names and tick
    labels, so the text is HTML-escaped and shows literally."""
    return html.escape("" if text is None else str(text), quote=False)


def _scale(key: str, values: Sequence[float | None]) -> tuple[float, str]:
    """(divisor, axis suffix) for a metric's values: durations in min/h, shares in %."""
    unit = DEFINITIONS[key].unit
    if unit == "seconds":
        div, u = axis_unit(values)
        return div, UNIT_WORDS[u]
    if unit in ("share", "ratio"):
        return 0.01, "%"
    if unit == "score":
        return 1.0, "score"
    return 1.0, "cases"


def _scaled(values: Sequence[float | None], div: float) -> list[float | None]:
    """Values in display units, rounded to 6 decimals: float noise in the last bits would change a
    selectable chart's identity in Streamlit and drop the user's selection on its rerun."""
    return [None if v is None else round(v / div, 6) for v in values]


def trend_figure(card: sc.Scorecard, key: str) -> go.Figure:
    """The agent's weekly value of ``key`` against the team's band (25th-75th percentile) and
    median. Agent points carry customdata [week, n] (for drilling into the cases behind them)."""
    w = card.weekly.filter(pl.col("metric") == key).sort("week")
    weeks = w["week"].to_list()
    div, suffix = _scale(key, [*w["value"].to_list(), *w["team_median"].to_list()])
    fig = go.Figure()
    p25, p75, med = (_scaled(w[c].to_list(), div) for c in ("team_p25", "team_p75", "team_median"))
    if any(v is not None for v in p75):
        fig.add_trace(
            go.Scatter(
                x=weeks, y=p75, mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False,
                connectgaps=False,
            )
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=weeks, y=p25, mode="lines", line={"width": 0}, fill="tonexty", fillcolor=BAND_COLOR,
                name="Team middle 50%", hoverinfo="skip",
            )
        )  # fmt: skip
    team_text = [
        f"{sc.fmt_value(key, m)} (25th–75th: {sc.fmt_value(key, a)}–{sc.fmt_value(key, b)}, {n} agents)"
        if m is not None
        else "–"
        for m, a, b, n in zip(
            w["team_median"].to_list(), w["team_p25"].to_list(), w["team_p75"].to_list(),
            w["team_agents"].to_list(), strict=True,
        )
    ]  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=weeks,
            y=med,
            mode="lines",
            name="Team median",
            line={"color": TEAM_COLOR, "dash": "dash"},
            text=team_text,
            hovertemplate="Week of %{x|%d %b %Y}<br>Team median %{text}<extra></extra>",
        )
    )
    n_word = sc.N_WORDS.get(DEFINITIONS[key].table, ("data point", "data points"))[1]
    partial = w["partial"].to_list()
    fig.add_trace(
        go.Scatter(
            x=weeks,
            y=_scaled(w["value"].to_list(), div),
            mode="lines+markers",
            name=plain(card.agent.name),
            line={"color": AGENT_COLOR, "width": 2.5},
            marker={
                "size": 8,
                "symbol": ["circle-open" if p else "circle" for p in partial],
                "color": AGENT_COLOR,
            },
            text=[
                sc.fmt_value(key, v) + (" (partial week)" if p else "")
                for v, p in zip(w["value"].to_list(), partial, strict=True)
            ],
            customdata=[
                [wk.isoformat(), 0 if n is None else n] for wk, n in zip(weeks, w["n"].to_list(), strict=True)
            ],
            hovertemplate="Week of %{x|%d %b %Y}<br>%{fullData.name}: %{text} (%{customdata[1]} "
            + n_word
            + ")<extra></extra>",
        )
    )
    fig.update_yaxes(title_text=suffix, rangemode="tozero")
    fig.update_xaxes(tickformat="%d %b")
    style(fig, height=260)
    fig.update_layout(showlegend=False, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def queue_share_figure(card: sc.Scorecard) -> go.Figure:
    """Share of resolved cases per queue: agent vs team (grouped horizontal bars)."""
    q = card.queue_mix.sort("resolved")
    queues = [plain(v) for v in q["queue"].to_list()]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=queues,
            x=_scaled(q["team_share"].to_list(), 0.01),
            orientation="h",
            name="Team",
            marker_color=TEAM_COLOR,
            text=[fmt_pct(v) for v in q["team_share"].to_list()],
            customdata=q["team_resolved"].to_list(),
            hovertemplate="%{y}: team %{text} (%{customdata} resolved)<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=queues,
            x=_scaled(q["share"].to_list(), 0.01),
            orientation="h",
            name=plain(card.agent.name),
            marker_color=AGENT_COLOR,
            text=[fmt_pct(v) for v in q["share"].to_list()],
            customdata=q["resolved"].to_list(),
            hovertemplate="%{y}: agent %{text} (%{customdata} resolved)<extra></extra>",
        )
    )
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="% of resolved cases", rangemode="tozero")
    style(fig, height=max(220, 60 + 45 * q.height))
    return fig


def queue_aht_figure(card: sc.Scorecard) -> go.Figure:
    """AHT per queue: agent vs the team's AHT in the same queue."""
    q = card.queue_mix.sort("resolved")
    queues = [plain(v) for v in q["queue"].to_list()]
    div, u = axis_unit([*q["aht_s"].to_list(), *q["team_aht_s"].to_list()])
    fig = go.Figure()
    for name, col, n_col, color in (
        ("Team", "team_aht_s", "team_cases", TEAM_COLOR),
        (plain(card.agent.name), "aht_s", "cases", AGENT_COLOR),
    ):
        fig.add_trace(
            go.Bar(
                y=queues,
                x=_scaled(q[col].to_list(), div),
                orientation="h",
                name=name,
                marker_color=color,
                text=[fmt_duration(v) for v in q[col].to_list()],
                customdata=q[n_col].to_list(),
                hovertemplate="%{y}: %{text} over %{customdata} cases<extra>"
                + html.escape(name)
                + "</extra>",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text=f"AHT ({UNIT_WORDS[u]})", rangemode="tozero")
    style(fig, height=max(220, 60 + 45 * q.height))
    return fig


def criteria_figure(card: sc.Scorecard) -> go.Figure:
    """Mean QA score per criterion: agent vs the team median."""
    c = card.criteria.sort("gap", descending=True, nulls_last=True)
    labels = [plain(sc.criterion_label(v)) for v in c["criterion"].to_list()]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=labels,
            x=_scaled(c["team_median"].to_list(), 1.0),
            orientation="h",
            name="Team median",
            marker_color=TEAM_COLOR,
            text=[sc.fmt_value("qa_mean", v) for v in c["team_median"].to_list()],
            customdata=c["team_agents"].to_list(),
            hovertemplate="%{y}: team median %{text} (%{customdata} agents)<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=labels,
            x=_scaled(c["mean_score"].to_list(), 1.0),
            orientation="h",
            name=plain(card.agent.name),
            marker_color=[AGENT_COLOR if not b else PALETTE[3] for b in c["below"].to_list()],
            text=[sc.fmt_value("qa_mean", v) for v in c["mean_score"].to_list()],
            customdata=c["scores"].to_list(),
            hovertemplate="%{y}: agent %{text} over %{customdata} reviews<extra></extra>",
        )
    )
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="score", range=[0, 100])
    style(fig, height=max(220, 60 + 45 * c.height))
    return fig


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    fig: go.Figure
    metric: str | None = None


def trend_title(key: str) -> str:
    return f"{sc.TILE_LABELS[key]} per week: agent vs team band"


def trend_keys(card: sc.Scorecard) -> list[str]:
    """Tile metrics that have a weekly trend to show (QA only with reviews, utilization with shifts)."""
    keys = []
    for key in sc.TILE_KEYS:
        w = card.weekly.filter(pl.col("metric") == key)
        if w["value"].is_not_null().any() or w["team_median"].is_not_null().any():
            keys.append(key)
    return keys


def figures(card: sc.Scorecard) -> list[Figure]:
    """Every chart of the scorecard, in page order."""
    out = [Figure(f"trend_{k}", trend_title(k), trend_figure(card, k), k) for k in trend_keys(card)]
    if card.criteria.height:
        out.append(
            Figure(
                "criteria",
                "QA score per criterion: agent vs team median",
                criteria_figure(card),
                "qa_criterion_mean",
            )
        )
    if card.queue_mix.height:
        out.append(
            Figure("queue_share", "Share of resolved cases per queue", queue_share_figure(card), "throughput")
        )
        out.append(Figure("queue_aht", "AHT per queue: agent vs team", queue_aht_figure(card), "aht"))
    return out


# --------------------------------------------------------------------------------------------
# scope text (shared with the page)
# --------------------------------------------------------------------------------------------


def fmt_time(t: dt.datetime | None, tz: str) -> str:
    """'Mon 2 Mar 2026 14:05' in ``tz``; '–' for none."""
    if t is None:
        return "–"
    lt = t.astimezone(ZoneInfo(tz))
    return lt.strftime(f"%a {lt.day} %b %Y %H:%M")


def scope_lines(
    card: sc.Scorecard, *, frozen: bool | None = None, source: str | None = None
) -> list[tuple[str, str]]:
    """(label, value) lines that say exactly what the report shows."""
    f = card.filter
    a = card.agent
    days = f.days
    lines = [
        ("Agent", a.label + ("" if a.active else " (left)")),
        ("Team", a.team or "– (not in the agents table)"),
        ("Period", f"{f.start:%a} {f.start.day} {f.start:%b %Y} to {f.end:%a} {f.end.day} {f.end:%b %Y} ({days} day{'s' if days != 1 else ''}, {f.tz})"),
        ("As of", fmt_time(card.as_of, f.tz) + ("" if frozen is None else (" (frozen)" if frozen else " (live)"))),
    ]  # fmt: skip
    dims = (
        ("Queue", f.queues),
        ("Priority", f.priorities),
        ("Case type", f.case_types),
        ("Channel", f.channels),
    )
    filters = [f"{label}: {', '.join(v)}" for label, v in dims if v]
    lines.append(("Filters", "; ".join(filters) if filters else "none"))
    tf = card.trend_filter
    lines.append(("Weekly trends", f"{tf.start:%d %b %Y} to {tf.end:%d %b %Y}"))
    lines.append(("QA pass mark", f"{card.pass_mark:g}"))
    if source:
        lines.append(("Source", source))
    return lines


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#0f172a;margin:24px auto;max-width:1200px;padding:0 16px}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.2rem;margin:28px 0 8px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}
h3{font-size:1rem;margin:16px 0 4px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:.9rem}th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f8fafc}td.num{text-align:right;font-variant-numeric:tabular-nums}
.tiles td.value{font-weight:600;font-size:1.05rem}.meta th{background:none;border:none;padding:2px 12px 2px 0;color:#475569}
.meta td{border:none;padding:2px 0}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px}
.card{border:1px solid #e2e8f0;border-radius:8px;padding:8px}.card h3{margin:0 0 4px;font-size:.95rem}
li{margin:4px 0}.tone-concern::marker{color:#ef4444}.tone-strength::marker{color:#10b981}.muted{color:#64748b;font-size:.85rem}
dt{font-weight:600;margin-top:8px}dd{margin:2px 0 0 16px}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _cell(value: object, kind: str, tz: str) -> tuple[str, bool]:
    if value is None:
        return "–", False
    if kind == "time" and isinstance(value, dt.datetime):
        return fmt_time(value, tz), False
    if kind == "duration":
        return fmt_duration(value), True  # type: ignore[arg-type]
    if kind == "pct":
        return fmt_pct(value), True  # type: ignore[arg-type]
    if kind == "score":
        return f"{float(value):.1f}", True  # type: ignore[arg-type]
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int | float):
        return fmt_number(value), True
    return str(value), False


# column -> (header, kind)
COLUMNS: dict[str, tuple[str, str]] = {
    "case_id": ("Case", "text"),
    "review_id": ("Review", "text"),
    "state": ("State", "text"),
    "queue": ("Queue", "text"),
    "priority": ("Priority", "text"),
    "case_type": ("Case type", "text"),
    "created_at": ("Created", "time"),
    "resolved_at": ("Resolved", "time"),
    "due_at": ("SLA due", "time"),
    "escalated_at": ("Escalated", "time"),
    "escalation_reason": ("Reason", "text"),
    "escalation_resolved_at": ("Escalation resolved", "time"),
    "handle_seconds": ("Handle time", "duration"),
    "reviewed_at": ("Reviewed", "time"),
    "score": ("Score", "score"),
    "critical_error": ("Critical error", "text"),
    "comment": ("Comment", "text"),
    "criterion": ("Criterion", "text"),
    "scores": ("Reviews", "num"),
    "mean_score": ("Agent", "score"),
    "team_median": ("Team median", "score"),
    "team_agents": ("Team agents", "num"),
    "gap": ("Gap", "score"),
    "below": ("Below team", "text"),
    "resolved": ("Resolved", "num"),
    "share": ("Share", "pct"),
    "team_resolved": ("Team resolved", "num"),
    "team_share": ("Team share", "pct"),
    "cases": ("Cases with handle time", "num"),
    "aht_s": ("AHT", "duration"),
    "team_cases": ("Team cases", "num"),
    "team_aht_s": ("Team AHT", "duration"),
}


def display_columns(df: pl.DataFrame) -> list[str]:
    return [c for c in df.columns if c in COLUMNS]


def html_table(df: pl.DataFrame, tz: str, *, css: str = "") -> str:
    cols = display_columns(df)
    head = "".join(f"<th>{_e(COLUMNS[c][0])}</th>" for c in cols)
    rows = []
    for r in df.select(cols).iter_rows(named=True):
        cells = []
        for c in cols:
            text, num = _cell(r[c], COLUMNS[c][1], tz)
            attr = ' class="num"' if num else ""
            cells.append(f"<td{attr}>{_e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _tiles_html(card: sc.Scorecard) -> str:
    rows = []
    for t in card.tiles.values():
        if t.key == "utilization" and not card.has_shifts:
            continue
        if t.key in ("qa_mean", "qa_pass_rate") and not card.has_qa:
            continue
        team = (
            "–" if t.team_median is None else f"{sc.fmt_value(t.key, t.team_median)} ({t.team_agents} agents)"
        )
        rows.append(
            f'<tr data-metric="{_e(t.key)}"><td>{_e(t.label)}</td><td class="value num">{_e(t.text)}</td>'
            f'<td class="num">{_e(t.n_text)}</td><td class="num team">{_e(team)}</td>'
            f'<td class="num">{_e(sc.fmt_value(t.key, t.previous))}</td>'
            f'<td class="num">{_e(t.vs_previous or "–")}</td></tr>'
        )
    head = "<tr><th>Metric</th><th>Agent</th><th>Sample</th><th>Team median</th><th>Previous period</th><th>Change</th></tr>"
    return f'<table class="tiles"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _points_html(card: sc.Scorecard) -> str:
    if not card.talking_points:
        return '<p class="muted">Nothing stands out: no number passes the thresholds below.</p>'
    items = "".join(
        f'<li class="tone-{_e(p.tone)}">{_e(p.text)}<br><span class="muted">Evidence: {_e(p.evidence)}</span></li>'
        for p in card.talking_points
    )
    return f'<ul class="points">{items}</ul>'


def _definitions_html(card: sc.Scorecard) -> str:
    keys = [*sc.TILE_KEYS, "qa_criterion_mean", "qa_critical_errors"]
    items = "".join(
        f"<dt>{_e(DEFINITIONS[k].label)}</dt><dd>{_e(DEFINITIONS[k].description)}</dd>"
        for k in keys
        if k in DEFINITIONS
    )
    comp = "".join(f"<li>{_e(s)}</li>" for s in sc.comparison_rules())
    rules = "".join(f"<li>{_e(s)}</li>" for s in sc.talking_point_rules())
    return (
        f"<h3>Comparisons</h3><ul>{comp}</ul><h3>Talking points</h3><ol>{rules}</ol>"
        f"<h3>Metrics</h3><dl>{items}</dl>"
        '<p class="muted">Every number is computed by the tsdash metrics engine; the definitions are those of docs/METRICS.md.</p>'
    )


def _fig_html(fig: go.Figure) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG, default_height="100%")


def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def render_html(
    card: sc.Scorecard,
    *,
    frozen: bool | None = None,
    source: str | None = None,
    generated_at: dt.datetime | None = None,
    link: str | None = None,
) -> str:
    """The self-contained report (see the module docstring)."""
    tz = card.filter.tz
    a = card.agent
    figs = {f.key: f for f in figures(card)}
    meta = "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>"
        for k, v in scope_lines(card, frozen=frozen, source=source)
    )
    gen = generated_at or dt.datetime.now(dt.UTC)
    meta += f"<tr><th>Generated</th><td>{_e(fmt_time(gen, tz))}</td></tr>"
    if link:
        meta += f"<tr><th>Link</th><td>{_e(link)}</td></tr>"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Scorecard {_e(a.label)} · tsdash</title>",
        f"<style>{CSS}</style>",
        f'<script type="text/javascript">{plotly_js()}</script>',
        "</head><body>",
        f"<h1>Agent scorecard: {_e(a.label)}</h1>",
        f'<table class="meta">{meta}</table>',
    ]
    for note in card.notes:
        parts.append(f'<p class="muted">{_e(note)}</p>')
    parts += ['<h2 id="tiles">Headline numbers</h2>', _tiles_html(card)]
    parts += ['<h2 id="talking-points">Talking points</h2>', _points_html(card)]
    trend = [f for k, f in figs.items() if k.startswith("trend_")]
    parts.append(f'<h2 id="trends">Weekly trends (last {sc.TREND_WEEKS} weeks) against the team band</h2>')
    parts.append(
        '<p class="muted">Blue: the agent (open circles: partial weeks). Dashed: the team median; shaded: '
        "the team's middle 50% (25th to 75th percentile of its active agents).</p>"
    )
    parts.append('<div class="grid">')
    for f in trend:
        parts.append(f'<div class="card"><h3>{_e(f.title)}</h3>{_fig_html(f.fig)}</div>')
    parts.append("</div>")

    parts.append('<h2 id="quality">Quality</h2>')
    if not card.has_qa:
        parts.append('<p class="muted">No QA data: the source has no qa_reviews table.</p>')
    else:
        if "criteria" in figs:
            parts.append(f"<h3>{_e(figs['criteria'].title)}</h3>{_fig_html(figs['criteria'].fig)}")
            parts.append(html_table(card.criteria, tz))
        elif card.has_criteria:
            parts.append('<p class="muted">No criterion scores for this agent in the period.</p>')
        parts.append(f"<h3>Critical errors ({card.critical.height})</h3>")
        parts.append(
            html_table(card.critical, tz)
            if card.critical.height
            else '<p class="muted">None in the period.</p>'
        )
        parts.append("<h3>Recent reviews</h3>")
        parts.append(
            html_table(card.reviews, tz)
            if card.reviews.height
            else '<p class="muted">No QA reviews of this agent in the period.</p>'
        )

    parts.append('<h2 id="queues">Queue mix</h2>')
    if card.queue_mix.height:
        parts.append('<div class="grid">')
        for k in ("queue_share", "queue_aht"):
            parts.append(f'<div class="card"><h3>{_e(figs[k].title)}</h3>{_fig_html(figs[k].fig)}</div>')
        parts.append("</div>")
        parts.append(html_table(card.queue_mix, tz))
    else:
        parts.append('<p class="muted">No resolved cases in the period.</p>')

    parts.append('<h2 id="cases">Cases</h2>')
    for title, df, empty in (
        ("Recent escalations", card.escalations, "No escalations of cases created in the period."),
        ("Slowest cases (handle time)", card.slowest, "No resolved cases with a handle time in the period."),
        ("Breached cases", card.breached, "No case resolved after its SLA due time, none open past due."),
    ):
        parts.append(f"<h3>{_e(title)}</h3>")
        parts.append(html_table(df, tz) if df.height else f'<p class="muted">{_e(empty)}</p>')

    parts += ['<h2 id="definitions">Definitions</h2>', _definitions_html(card)]
    parts.append("</body></html>")
    return "\n".join(parts)


def report_name(card: sc.Scorecard, ext: str = "html") -> str:
    f = card.filter
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in card.agent.agent_id)[:60]
    return f"scorecard_{safe}_{f.start.isoformat()}_{f.end.isoformat()}.{ext}"


def csv_bundle(card: sc.Scorecard, *, frozen: bool | None = None, source: str | None = None) -> bytes:
    """A zip of the scorecard's tables as CSV, plus README.txt with the scope."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        lines = [f"{k}: {v}" for k, v in scope_lines(card, frozen=frozen, source=source)]
        lines += ["", "Tables (CSV, UTF-8; times in UTC, durations in seconds, shares 0..1):"]
        lines += [f"  {name}.csv" for name in card.tables()]
        lines += ["", "Definitions: docs/METRICS.md; comparisons and talking-point rules:"]
        lines += [f"  - {s}" for s in [*sc.comparison_rules(), *sc.talking_point_rules()]]
        z.writestr("README.txt", "\n".join(lines) + "\n")
        for name, df in card.tables().items():
            z.writestr(f"{name}.csv", csv_bytes(df))
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# CLI: tsdash report agent AGENT_ID --from D --to D [--source SRC] [--tz TZ] [--as-of ISO] --out FILE
# --------------------------------------------------------------------------------------------


class UsageError(Exception):
    """One line for stderr; exit 2."""


def _date(value: str, opt: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{opt} {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-02") from None


def _zone(value: str) -> str:
    from zoneinfo import ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz {value!r} is not a known time zone; use an IANA name such as Europe/Berlin"
        ) from None
    return value


def _as_of(value: str | None, tz: str) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--as-of {value!r} is not an ISO time; use e.g. 2026-03-05T12:00:00Z") from None
    return (t if t.tzinfo else t.replace(tzinfo=ZoneInfo(tz))).astimezone(dt.UTC)


def run_cli(
    args: argparse.Namespace,
    load: Callable[[], object],
    default_tz: str,
    pass_mark: float,
    source_label: str | None = None,
) -> int:
    """Build and write the report; ``load()`` returns the Dataset (or raises SystemExit)."""
    from tsdash.metrics import Filter

    try:
        tz = _zone(args.tz or default_tz)
        start, end = _date(args.date_from, "--from"), _date(args.date_to, "--to")
        if end < start:
            raise UsageError(f"--from {start} is after --to {end}")
        as_of = _as_of(args.as_of, tz)
        out = Path(args.out)
        if out.suffix.lower() not in (".html", ".htm"):
            raise UsageError(f"--out {args.out!r} should be an .html file")
        if not out.parent.exists():
            raise UsageError(f"--out {args.out!r}: the folder {out.parent} does not exist")
        ds = load()
        f = Filter(start, end, tz=tz, as_of=as_of)
        try:
            card = sc.build(ds, f, args.agent_id, pass_mark=pass_mark)  # type: ignore[arg-type]
        except sc.UnknownAgent:
            known = ds.agents["agent_id"].sort().to_list()  # type: ignore[attr-defined]
            shown = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
            raise UsageError(f"unknown agent {args.agent_id!r}; known agents: {shown or 'none'}") from None
    except UsageError as exc:
        print(f"tsdash report: {exc}", file=sys.stderr)
        return 2
    frozen = args.as_of is not None
    out.write_text(render_html(card, frozen=frozen, source=source_label), encoding="utf-8")
    msg = f"report written to {out}"
    if args.csv_out:
        Path(args.csv_out).write_bytes(csv_bundle(card, frozen=frozen, source=source_label))
        msg += f" and {args.csv_out}"
    print(msg)
    return 0
