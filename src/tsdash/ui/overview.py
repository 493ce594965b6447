"""The Overview page (``app.py``): KPI tiles against the previous period and a "needs attention"
section. Numbers come from the metrics engine (:func:`tsdash.metrics.kpis`,
:func:`tsdash.metrics.cases_behind`, :func:`tsdash.metrics.trend`); this module only formats and
lays them out.

The formatting helpers (:func:`fmt_kpi_value`, :func:`fmt_kpi_delta`, :func:`kpi_help`, ...) and
the data helpers (:func:`spark_series`, :func:`attention_week`, :func:`moved_agents`) are
Streamlit-free in behaviour and unit-tested; :func:`render_overview` draws the page.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from tsdash import metrics as m
from tsdash.dataset import Dataset
from tsdash.metrics import DEFINITIONS, KPI, KPI_KEYS, Filter
from tsdash.ui.components import empty_state, heading
from tsdash.ui.drill import case_list, selected_row
from tsdash.ui.fmt import fmt_duration, fmt_number, fmt_pct, md_escape

if TYPE_CHECKING:
    from tsdash.ui.frame import Context

SPARK_DAILY_MAX_DAYS = 35  # longer periods get weekly sparklines
ATTENTION_ROWS = 10  # rows shown in each "needs attention" list (the CSV has all)
# the series drawn under each tile (a DEFINITIONS key computed by day or week)
SPARK_METRIC = {"open_backlog": "backlog", "created_per_day": "inflow", "resolved_per_day": "outflow"}
# what the n of each KPI counts
KPI_N = {
    "created_per_day": "cases created",
    "resolved_per_day": "cases resolved",
    "aht": "resolved cases with a handle time",
    "first_response": "first responses",
    "sla_attainment": "cases resolved",
    "qa_mean": "QA reviews",
    "escalation_rate": "cases created",
}
DELTA_COLOR = {"higher_better": "normal", "lower_better": "inverse", "neutral": "off"}
TREND_METRICS = ("qa_mean", "aht")  # agents flagged when these moved beyond normal variation
TREND_TABLE = {"qa_mean": "quality", "aht": "handle-time"}
TREND_PAGE = {"qa_mean": "quality", "aht": "handle_time"}
ESCALATION_AGES = ((4.0, "under 4 h"), (24.0, "4–24 h"), (72.0, "1–3 days"), (None, "over 3 days"))


# --------------------------------------------------------------------------- formatting


def fmt_value(unit: str, value: float | None) -> str:
    """A metric value in its unit: cases '1,234', cases/day '12.3', seconds '12.5 min',
    share '91.2%', score '83.4'; '–' when there is none.

    >>> fmt_value("seconds", 750), fmt_value("share", 0.9123), fmt_value("cases/day", 502.36)
    ('12.5 min', '91.2%', '502.4')
    """
    if value is None:
        return "–"
    if unit == "cases":
        return fmt_number(value)
    if unit == "seconds":
        return fmt_duration(value)
    if unit == "share":
        return fmt_pct(value)
    if unit in ("cases/day", "score"):
        return fmt_number(value, 1)
    return fmt_number(value, 2)


def fmt_kpi_value(kpi: KPI) -> str:
    return fmt_value(kpi.unit, kpi.value)


def fmt_delta(unit: str, delta: float | None) -> str | None:
    """A signed change: '+12', '-3.5', '+1.2 min', '-2.0 pp' (percentage points); None when
    there is no previous value.

    >>> fmt_delta("cases", 12), fmt_delta("share", -0.0201), fmt_delta("seconds", -90), fmt_delta("score", 0)
    ('+12', '-2.0 pp', '-1.5 min', '+0.0')
    """
    if delta is None:
        return None
    sign = "-" if delta < 0 else "+"
    a = abs(delta)
    if unit == "cases":
        body = f"{a:,.0f}"
    elif unit == "seconds":
        body = fmt_duration(a)
    elif unit == "share":
        body = f"{100 * a:.1f} pp"
    elif unit in ("cases/day", "score"):
        body = f"{a:,.1f}"
    else:
        body = f"{a:,.2f}"
    return sign + body


def fmt_kpi_delta(kpi: KPI) -> str | None:
    return fmt_delta(kpi.unit, kpi.delta)


def delta_color(kpi: KPI, delta_text: str | None) -> str:
    """st.metric's delta colour: green when the change is good for the metric's direction
    ("normal" for higher-is-better, "inverse" for lower-is-better), grey for neutral metrics
    and for a change that rounds to zero."""
    if delta_text is None or not any(ch in "123456789" for ch in delta_text):
        return "off"
    return DELTA_COLOR.get(kpi.direction, "off")


def kpi_help(kpi: KPI, f: Filter) -> str:
    """The tile's tooltip: the definition, n, the 95 % interval and the previous period's value."""
    parts = [kpi.description]
    facts = []
    if kpi.n is not None:
        facts.append(f"n = {fmt_number(kpi.n)} {KPI_N.get(kpi.key, '')}".rstrip())
    if kpi.ci_low is not None and kpi.ci_high is not None:
        facts.append(f"95% interval {fmt_value(kpi.unit, kpi.ci_low)} to {fmt_value(kpi.unit, kpi.ci_high)}")
    prev = f.previous()
    if kpi.key == "open_backlog":
        facts.append(f"one period ({f.days} days) earlier: {fmt_value(kpi.unit, kpi.previous)}")
    else:
        facts.append(
            f"previous period ({prev.start:%d %b} to {prev.end:%d %b %Y}): {fmt_value(kpi.unit, kpi.previous)}"
        )
    parts.append("; ".join(facts) + ".")
    return "\n\n".join(parts)


# --------------------------------------------------------------------------- data


def spark_grain(f: Filter) -> str:
    return "date" if f.days <= SPARK_DAILY_MAX_DAYS else "week"


def spark_series(ds: Dataset, f: Filter, key: str, *, pass_mark: float = m.DEFAULT_PASS_MARK) -> list[float]:
    """The series under a KPI tile: the tile's metric (or for counts its flow column) by day, or
    by week for periods over 35 days, in time order, days without a value left out. Durations in
    minutes, shares in percent."""
    d = DEFINITIONS[SPARK_METRIC.get(key, key)]
    grain = spark_grain(f)
    df = d.compute(ds, f, by=(grain,), pass_mark=pass_mark).sort(grain)
    values = df.get_column(d.column).drop_nulls().cast(pl.Float64)
    if d.unit == "seconds":
        values = values / 60.0
    elif d.unit == "share":
        values = values * 100.0
    return [round(v, 3) for v in values.to_list()]


def attention_week(f: Filter) -> tuple[dt.date, dt.date]:
    """The last complete Monday-Sunday week up to the period's end and before the as-of day.

    >>> f = Filter(dt.date(2026, 11, 17), dt.date(2026, 11, 23), as_of=dt.datetime(2026, 11, 23, 17, tzinfo=dt.UTC))
    >>> attention_week(f)  # 23 Nov 2026 is a Monday
    (datetime.date(2026, 11, 16), datetime.date(2026, 11, 22))
    """
    as_of_day = m.pin(f).resolved_as_of().astimezone(f.zone).date()
    last = min(f.end, as_of_day - dt.timedelta(days=1))
    sunday = last - dt.timedelta(days=(last.weekday() + 1) % 7)
    return sunday - dt.timedelta(days=6), sunday


def moved_agents(ds: Dataset, f: Filter, *, pass_mark: float = m.DEFAULT_PASS_MARK) -> pl.DataFrame:
    """Agents whose QA mean score or AHT in the :func:`attention_week` changed beyond normal
    week-to-week variation (:func:`tsdash.metrics.trend` ``flag``). Columns: metric, agent_id,
    week, value, previous, change, change_limit, lower, upper, worse (the change is bad for the
    metric's direction). Worse first, then by the size of the change relative to its limit."""
    start, end = attention_week(f)
    fw = m.pin(f).with_(start=start, end=end)
    frames = []
    for key in TREND_METRICS:
        if key == "qa_mean" and not ds.has("qa_reviews"):
            continue
        # the metric's column alone: AHT by agent and week without the quantiles it does not need
        tr = m.trend(ds, fw, key, keys=("agent_id",), pass_mark=pass_mark, whole_table=False)
        flagged = tr.filter(
            (pl.col("week") == start) & pl.col("flag").fill_null(False) & pl.col("agent_id").is_not_null()
        )
        worse = (
            pl.col("change") < 0 if DEFINITIONS[key].direction == "higher_better" else pl.col("change") > 0
        )
        frames.append(
            flagged.select(
                pl.lit(key).alias("metric"),
                "agent_id",
                "week",
                pl.col("value").cast(pl.Float64),
                pl.col("previous").cast(pl.Float64),
                pl.col("change").cast(pl.Float64),
                pl.col("change_limit").cast(pl.Float64),
                pl.col("lower").cast(pl.Float64),
                pl.col("upper").cast(pl.Float64),
                worse.alias("worse"),
            )
        )
    if not frames:
        return pl.DataFrame(
            schema={
                "metric": pl.String,
                "agent_id": pl.String,
                "week": pl.Date,
                "value": pl.Float64,
                "previous": pl.Float64,
                "change": pl.Float64,
                "change_limit": pl.Float64,
                "lower": pl.Float64,
                "upper": pl.Float64,
                "worse": pl.Boolean,
            }
        )
    out = pl.concat(frames)
    return out.sort(
        [pl.col("worse"), (pl.col("change").abs() / pl.col("change_limit")), "metric", "agent_id"],
        descending=[True, True, False, False],
        nulls_last=True,
    )


def moved_table(moved: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """The display form of :func:`moved_agents` (text in the metric's unit)."""
    rows = []
    for r in moved.iter_rows(named=True):
        d = DEFINITIONS[r["metric"]]
        rows.append(
            {
                "Agent": names.get(r["agent_id"], r["agent_id"]),
                "Metric": d.label,
                "Week": r["week"].isoformat(),
                "Value": fmt_value(d.unit, r["value"]),
                "Previous week": fmt_value(d.unit, r["previous"]),
                "Change": fmt_delta(d.unit, r["change"]),
                "Normal range": f"{fmt_value(d.unit, r['lower'])} to {fmt_value(d.unit, r['upper'])}",
                "Assessment": "worse" if r["worse"] else "better",
            }
        )
    cols = ["Agent", "Metric", "Week", "Value", "Previous week", "Change", "Normal range", "Assessment"]
    return pl.DataFrame(rows, schema={c: pl.String for c in cols})


def escalation_ages(esc: pl.DataFrame, as_of: dt.datetime) -> list[tuple[str, int]]:
    """Open escalations counted by how long they have been escalated (labels of
    :data:`ESCALATION_AGES`)."""
    if esc.height == 0:
        return [(label, 0) for _, label in ESCALATION_AGES]
    hours = ((pl.lit(as_of) - pl.col("escalated_at")).dt.total_seconds(fractional=True) / 3600.0).alias("h")
    h = esc.select(hours)["h"]
    out, lo = [], 0.0
    for hi, label in ESCALATION_AGES:
        sel = (h >= lo) & (h < hi) if hi is not None else (h >= lo)
        out.append((label, int(sel.sum())))
        lo = hi if hi is not None else lo
    return out


# --------------------------------------------------------------------------- cached engine calls


@st.cache_data(max_entries=32, ttl=900, show_spinner=False)
def _kpis(key: tuple, _ds: Dataset, _f: Filter, pass_mark: float) -> dict[str, KPI]:
    return m.kpis(_ds, _f, pass_mark=pass_mark)


@st.cache_data(max_entries=32, ttl=900, show_spinner=False)
def _sparks(key: tuple, _ds: Dataset, _f: Filter, pass_mark: float) -> dict[str, list[float]]:
    out = {}
    for k in KPI_KEYS:
        if k == "qa_mean" and not _ds.has("qa_reviews"):
            out[k] = []
            continue
        out[k] = spark_series(_ds, _f, k, pass_mark=pass_mark)
    return out


@st.cache_data(max_entries=32, ttl=900, show_spinner=False)
def _moved(key: tuple, _ds: Dataset, _f: Filter, pass_mark: float) -> pl.DataFrame:
    return moved_agents(_ds, _f, pass_mark=pass_mark)


# --------------------------------------------------------------------------- rendering


def _tiles(ctx: Context, values: dict[str, KPI], sparks: dict[str, list[float]]) -> None:
    f = ctx.filter
    grain = "day" if spark_grain(f) == "date" else "week"
    for row in (KPI_KEYS[:4], KPI_KEYS[4:]):
        cols = st.columns(len(row))
        for col, key in zip(cols, row, strict=True):
            kpi = values[key]
            delta = fmt_kpi_delta(kpi)
            series = sparks.get(key) or []
            value = fmt_kpi_value(kpi)
            help_text = kpi_help(kpi, f)
            if key == "qa_mean" and ctx.ds is not None and not ctx.ds.has("qa_reviews"):
                help_text = (
                    kpi.description + "\n\nNo QA reviews in the data yet: the source has no qa_reviews table."
                )
            if len(series) >= 2:
                help_text += f"\n\nThe line shows the value per {grain} over the period."
            col.metric(
                kpi.label,
                value,
                delta=delta,
                delta_color=delta_color(kpi, delta),
                help=help_text,
                border=True,
                chart_data=series if len(series) >= 2 else None,
                chart_type="line",
                delta_description="vs previous period" if delta is not None else None,
            )


def _report_caption(ctx: Context) -> None:
    rep = ctx.ds.report if ctx.ds is not None else None
    if rep is None or not rep.issues and not rep.unlisted:
        return
    rows = sum(rep.quarantined_rows.values())
    warnings = len(rep.warnings) + sum(n for (sev, _, _), n in rep.unlisted.items() if sev == "warning")
    parts = []
    if rows:
        parts.append(f"{fmt_number(rows)} rows were set aside by validation")
    if warnings:
        parts.append(f"{fmt_number(warnings)} data warnings")
    if not parts:
        return
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.caption(md_escape("; ".join(parts) + ". The Data page lists them."))
    with right:
        ctx.link("data", "Data page", icon=":material/database:")


def _attention_open(ctx: Context) -> None:
    """Counts of breached / soon due cases and open escalations, then their lists."""
    ds, f = ctx.ds, ctx.filter
    each = m.cases_behind_each(
        ds, f, "backlog-now", ("breached", "due_within_4h", "due_within_1h", "open_escalations")
    )  # the open cases found once
    breached = each["breached"].sort("due_at", "case_id")
    due4 = each["due_within_4h"].sort("due_at", "case_id")
    due1 = each["due_within_1h"]
    esc = each["open_escalations"].sort("escalated_at", "case_id")
    cols = st.columns(4)
    for col, key, n in zip(
        cols,
        ("breached", "due_within_4h", "due_within_1h", "open_escalations"),
        (breached.height, due4.height, due1.height, esc.height),
        strict=True,
    ):
        d = DEFINITIONS["due_within_4h" if key == "due_within_1h" else key]
        label = "Due within 1 h" if key == "due_within_1h" else d.label
        col.metric(label, fmt_number(n), help=d.description, border=True)

    both = pl.concat([breached, due4])
    case_list(
        ctx,
        both,
        key="ov_due",
        title="Breached and due within 4 h, most overdue first",
        limit=ATTENTION_ROWS,
        empty="Nothing breached or due within 4 hours.",
        as_of_rows=True,
    )
    ctx.link(
        "live", "Live workload: queues, agents and the unassigned queue", icon=":material/monitor_heart:"
    )

    shown = esc.with_columns(
        pl.col("escalation_reason").alias("Reason"),
        ((pl.lit(ctx.as_of) - pl.col("escalated_at")).dt.total_seconds(fractional=True) / 3600.0)
        .round(1)
        .alias("Escalated for (h)"),
    )
    caption = None
    if esc.height:
        caption = "Escalated for " + " · ".join(
            f"{label}: {n}" for label, n in escalation_ages(esc, ctx.as_of)
        )
    case_list(
        ctx,
        shown,
        key="ov_esc",
        title="Open escalations, oldest first",
        caption=caption,
        limit=ATTENTION_ROWS,
        empty="No open escalations.",
        extra=("Reason", "Escalated for (h)"),
        column_config={
            "Escalated for (h)": st.column_config.NumberColumn(
                "Escalated for (h)", help="Hours since the case was escalated, at as-of.", format="%.1f"
            )
        },
        as_of_rows=True,
    )
    ctx.link("escalations", "Escalations: rates, reasons and turnaround", icon=":material/priority_high:")


def _attention_agents(ctx: Context) -> None:
    ds, f = ctx.ds, ctx.filter
    pass_mark = ctx.settings.qa_pass_mark
    start, end = attention_week(f)
    moved = _moved(ctx.cache_key("moved", pass_mark), ds, f, pass_mark)
    st.caption(
        md_escape(
            f"Week of Mon {start:%d %b %Y} (the last complete week up to the period's end), against the normal "
            "week-to-week variation of each agent over the 8 weeks before."
        )
    )
    if not ds.has("qa_reviews"):
        st.caption("QA is not checked: the source has no qa_reviews table.")
    if moved.height == 0:
        st.caption("No agent's QA mean score or average handle time moved beyond its normal variation.")
    else:
        table = moved_table(moved, dict(ctx.options.agents))
        event = st.dataframe(
            table,
            key="ov_moved",
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            column_config={
                "Normal range": st.column_config.Column(
                    "Normal range",
                    help="Previous week ± 3.267 × the average week-to-week change over the 8 weeks before (XmR).",
                ),
                "Assessment": st.column_config.Column(
                    "Assessment", help="Whether the change is good or bad for the metric's direction."
                ),
            },
        )
        st.caption("Select a row to list the cases behind it.")
        row = selected_row(event)
        if row is not None and 0 <= row < moved.height:
            r = moved.row(row, named=True)
            fw = m.pin(f).with_(start=start, end=end)
            behind = m.cases_behind(
                ds, fw, TREND_TABLE[r["metric"]], pass_mark=pass_mark, agent_id=r["agent_id"], week=r["week"]
            )
            what = "QA reviews" if r["metric"] == "qa_mean" else "Resolved cases with a handle time"
            case_list(
                ctx,
                behind,
                key="ov_moved_cases",
                title=f"{what} of {ctx.agent_name(r['agent_id'])}, week of {r['week']:%d %b %Y}",
            )
    c1, c2 = st.columns(2)
    with c1:
        ctx.link("quality", "Quality: scores, criteria and coverage", icon=":material/verified:")
    with c2:
        ctx.link("handle_time", "Handle time: per agent and queue", icon=":material/timer:")


def render_overview(ctx: Context) -> None:
    """The Overview page body (after :func:`tsdash.ui.frame`)."""
    ds, f = ctx.ds, ctx.filter
    if ds is None:
        return
    start, end = ctx.window
    period = f"{start:%a %d %b %Y}" if start == end else f"{start:%a %d %b %Y} to {end:%a %d %b %Y}"
    prev = f.previous()
    st.caption(
        md_escape(
            f"{period} ({f.days} {'day' if f.days == 1 else 'days'}, {f.tz}), compared with the previous "
            f"{f.days} {'day' if f.days == 1 else 'days'} ({prev.start:%d %b} to {prev.end:%d %b %Y}). "
            f"As of {ctx.fmt_time(ctx.as_of)}."
        )
    )
    _report_caption(ctx)
    if ds.cases.height == 0:
        st.info(
            "The source has no cases yet, so there is nothing to measure. The Data page shows what tsdash "
            "reads and the data contract.",
            icon=":material/inbox:",
        )
        ctx.link("data", "Data page", icon=":material/database:")
        return
    # The page's three parts are laid out first and filled bottom up: the tables (st.dataframe)
    # reach the browser first. A table's grid finishes drawing ~0.2-0.3 s after its data arrives
    # (the grid rebuilds its accessibility tree on a 200 ms debounce, and a new grid measures
    # its width first), a tile in tens of milliseconds; sent last, the tables set the time of
    # the page's last change after a filter change (browser timeline in docs/PERFORMANCE.md).
    tiles = st.container()
    st.subheader("Needs attention", anchor=False)
    st.caption(md_escape(f"Open cases at {ctx.fmt_time(ctx.as_of)}; the period does not apply."))
    open_cases = st.container()
    heading(
        "Agents whose QA or handle time moved beyond normal variation",
        help=DEFINITIONS["qa_mean"].description + "\n\n" + DEFINITIONS["aht"].description,
    )
    agents = st.container()
    with agents:
        _attention_agents(ctx)
    with open_cases:
        _attention_open(ctx)
    with tiles:
        pass_mark = ctx.settings.qa_pass_mark
        values = _kpis(ctx.cache_key("kpis", pass_mark), ds, f, pass_mark)
        sparks = _sparks(ctx.cache_key("sparks", pass_mark), ds, f, pass_mark)
        counted = (values["created_per_day"].n or 0) + (values["resolved_per_day"].n or 0)
        if counted == 0:
            kind = "no_data"
            if ctx.state.has_dimension_filters():
                unfiltered = m.kpis(
                    ds,
                    f.with_(**{d: () for d in m.DIMENSIONS}),
                    pass_mark=pass_mark,
                    keys=("created_per_day", "resolved_per_day"),
                )
                if (unfiltered["created_per_day"].n or 0) + (unfiltered["resolved_per_day"].n or 0):
                    kind = "no_match"
            empty_state(ctx, kind, what="cases created or resolved")
        _tiles(ctx, values, sparks)
