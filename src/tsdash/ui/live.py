"""The Live workload page (``pages/1_Live_workload.py``): what a T&S lead opens every hour.

The page script stays thin::

    from tsdash import ui
    from tsdash.ui import live
    ctx = ui.frame("Live workload", page="live", require_data=False)
    live.render(ctx)

**Refresh.** The body is an ``st.fragment`` that reruns every N seconds (``[live]
refresh_seconds`` in tsdash.toml, changeable on the page: 15 s, 30 s, 1 min, 5 min; pausable).
A frozen link never refreshes. On each tick the fragment asks for the source's data version
(:func:`tsdash.sources.data_version`) through :func:`shared_version`, a probe shared by every
browser session of the server and reused for most of an interval, and reloads the data only when
the version changed, through the frame's own loader (``st.cache_resource`` keyed on source and
version, also shared across sessions): ten leads on the page cost one version probe per interval
and one load per change, not ten. Live views compute "now" at each refresh; the as-of shown is
the time of the last successful refresh. A failed refresh keeps the last numbers and says so; the
next tick tries again. While a row or bar is selected (a drill-down is open) the fragment does
not refresh, so that the list under it keeps matching what was clicked.

**Numbers** come from the metrics engine (:func:`tsdash.metrics.backlog_now`,
:func:`~tsdash.metrics.workload_queues`, :func:`~tsdash.metrics.cases_behind`) and its Live
helpers (:mod:`tsdash.metrics.live_extra`: open cases by age, per-agent load with the normal-load
flag; :func:`tsdash.metrics.quality_extra.open_escalations`); this module lays them out. The pure
helpers (labels, heat colours, figure builders, the table builders) are unit-tested.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from tsdash import metrics as m
from tsdash.dataset import Dataset
from tsdash.metrics import DEFINITIONS, Filter
from tsdash.metrics import live_extra as lx
from tsdash.metrics import quality_extra as qx
from tsdash.ui import components as uc
from tsdash.ui.drill import case_list, selected_points, selected_row
from tsdash.ui.fmt import fmt_duration, fmt_number, md_escape, text_column
from tsdash.ui.state import PRIORITY_ORDER, Options

if TYPE_CHECKING:  # importing tsdash.ui.frame at module level would shadow the lazy ``ui.frame``
    from tsdash.config import Settings
    from tsdash.sources.scope import Scope
    from tsdash.ui.frame import Context, Loaded

log = logging.getLogger(__name__)
UTC = dt.UTC

INTERVALS: tuple[int, ...] = (15, 30, 60, 300)  # seconds offered on the page
LIST_ROWS = 50  # rows shown in the unassigned / escalation lists (the CSV has all)
DUE_ROWS = 25  # cases listed under "due soonest"
PROBE_SHARE = 0.9  # a version probe younger than 0.9 x the interval is reused by every session

_K = "live_"  # session keys of this page
_RUN = _K + "run"  # incremented by every full run of the page script
_SEEN = _K + "seen"  # the full run the fragment last saw
_SNAP = _K + "snapshot"  # the Snapshot the fragment shows
_SEL = _K + "selection_keys"  # widget keys whose selection holds the refresh
_INTERVAL = _K + "interval"  # chosen interval (plain key, survives page switches)
_PAUSED = _K + "paused"
_W_INTERVAL = _K + "w_interval"
_W_PAUSED = _K + "w_paused"

PRIORITY_COLORS = {"urgent": "#ef4444", "high": "#f59e0b", "normal": "#2563eb", "low": "#94a3b8"}
OTHER_COLOR = "#64748b"
HEAT = {"blue": (37, 99, 235), "red": (239, 68, 68), "amber": (245, 158, 11)}
NO_PRIORITY = "(none)"
NOTHING_OPEN = "Nothing open — the queue is clear."


# --------------------------------------------------------------------------- small pure helpers


def interval_label(seconds: int) -> str:
    """'15 s', '1 min', '5 min', '90 s'.

    >>> [interval_label(s) for s in (15, 60, 300, 90)]
    ['15 s', '1 min', '5 min', '90 s']
    """
    return f"{seconds // 60} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds} s"


def interval_options(configured: int) -> list[int]:
    """The page's choices (:data:`INTERVALS`) plus the configured interval, sorted.

    >>> interval_options(60), interval_options(45)
    ([15, 30, 60, 300], [15, 30, 45, 60, 300])
    """
    return sorted({*INTERVALS, max(1, int(configured))})


def ago(seconds: float) -> str:
    """'just now', '20 s ago', '3 min ago', '2 h ago'.

    >>> [ago(s) for s in (2, 20, 200, 7300)]
    ['just now', '20 s ago', '3 min ago', '2 h ago']
    """
    if seconds < 5:
        return "just now"
    if seconds < 90:
        return f"{int(seconds)} s ago"
    if seconds < 2 * 3600:
        return f"{int(seconds // 60)} min ago"
    return f"{int(seconds // 3600)} h ago"


def fmt_age(seconds: float | None) -> str:
    """An age in minutes, hours or days (never seconds): '< 1 min', '12.5 min', '3.2 h', '4.1 d'.

    >>> [fmt_age(s) for s in (20, 750, 11_520, 4 * 86400 + 8640, None)]
    ['< 1 min', '12.5 min', '3.2 h', '4.1 d', '–']
    """
    if seconds is not None and 0 <= seconds < 60:
        return "< 1 min"
    return fmt_duration(seconds)


def plot_text(value: object) -> str:
    """Data text for a Plotly label: ``<``, ``>`` and ``&`` escaped (Plotly renders a few tags)."""
    return html.escape("" if value is None else str(value), quote=False)


def heat_css(values: Sequence[float | None], color: str = "blue") -> list[str]:
    """CSS background per cell: transparent for 0/none, stronger with the value (relative to the
    column's largest value).

    >>> heat_css([0, 5, 10], "red")
    ['', 'background-color: rgba(239, 68, 68, 0.33)', 'background-color: rgba(239, 68, 68, 0.55)']
    """
    r, g, b = HEAT[color]
    top = max((v for v in values if v is not None), default=0) or 0
    out = []
    for v in values:
        if v is None or v <= 0 or top <= 0:
            out.append("")
        else:
            alpha = 0.12 + 0.43 * (v / top)
            out.append(f"background-color: rgba({r}, {g}, {b}, {alpha:.2f})")
    return out


def priority_rank(priority: str | None) -> int:
    return PRIORITY_ORDER.index(priority) if priority in PRIORITY_ORDER else len(PRIORITY_ORDER)


def priorities_in(values: Sequence[str | None]) -> list[str | None]:
    """Distinct priorities in the usual order (urgent, high, normal, low, others, none)."""
    distinct = list(dict.fromkeys(values))
    return sorted(distinct, key=lambda p: (priority_rank(p), p is None, p or ""))


def ids_key(base: str, ids: Sequence[object]) -> str:
    """A widget key that changes when the listed rows change: a selection made on one list is
    never read against another.

    >>> ids_key("x", ["a", "b"]) == ids_key("x", ["a", "b"]) != ids_key("x", ["b", "a"])
    True
    """
    digest = hashlib.sha1("\x1f".join(map(str, ids)).encode()).hexdigest()[:10]
    return f"{base}_{digest}"


def has_selection(value: Any) -> bool:
    """True when a dataframe or chart selection state holds a row or point."""
    if value is None:
        return False
    return selected_row(value) is not None or bool(selected_points(value))


# --------------------------------------------------------------------------- tables (pure)


def _text(df: pl.DataFrame, col: str, fmt: Callable[[float], str]) -> pl.Expr:
    """A duration column of ``df`` as display text ('–' where there is none); see
    :func:`tsdash.ui.fmt.text_column` (why not ``map_elements``)."""
    return text_column(df, col, fmt, null="–")


def queue_table(wq: pl.DataFrame) -> pl.DataFrame:
    """The queue x priority table shown on the page from :func:`tsdash.metrics.workload_queues`:
    most breached first, then most open."""
    if wq.height == 0:
        return pl.DataFrame(
            schema={
                "Queue": pl.String,
                "Priority": pl.String,
                "Open": pl.Int64,
                "Unassigned": pl.Int64,
                "Breached": pl.Int64,
                "Due < 1 h": pl.Int64,
                "Due < 4 h": pl.Int64,
                "Escalated": pl.Int64,
                "Oldest": pl.String,
                "queue": pl.String,
                "priority": pl.String,
            }
        )
    # priority_rank of each priority present, as a lookup (no Python called back from Polars);
    # no priority last
    rank = {p: priority_rank(p) for p in wq["priority"].drop_nulls().unique().to_list()}
    d = wq.with_columns(
        pl.col("priority").replace_strict(rank, default=None, return_dtype=pl.Int64).fill_null(99).alias("_p")
    ).sort(["breached", "open", "_p", "queue"], descending=[True, True, False, False], nulls_last=True)
    return d.select(
        pl.col("queue").alias("Queue"),
        pl.col("priority").fill_null(NO_PRIORITY).alias("Priority"),
        pl.col("open").alias("Open"),
        pl.col("unassigned").alias("Unassigned"),
        pl.col("breached").alias("Breached"),
        pl.col("due_within_1h").alias("Due < 1 h"),
        pl.col("due_within_4h").alias("Due < 4 h"),
        pl.col("open_escalations").alias("Escalated"),
        _text(d, "oldest_age_s", fmt_age).alias("Oldest"),
        "queue",
        "priority",
    )


def agent_table(load: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """The per-agent load table from :func:`tsdash.metrics.live_extra.agent_load` (detail):
    flagged agents first, then by open cases."""
    rows = load.with_columns(
        pl.col("agent_id")
        .replace_strict(names, default=pl.col("agent_id"), return_dtype=pl.String)
        .alias("_n"),
        pl.col("above_normal_load").fill_null(False).alias("_f"),
    ).sort(["_f", "open", "at_risk", "_n"], descending=[True, True, True, False], nulls_last=True)
    return rows.select(
        pl.col("_n").alias("Agent"),
        pl.col("team").alias("Team"),
        pl.col("open").alias("Open"),
        pl.col("at_risk").alias("At risk"),
        _text(rows, "oldest_age_s", fmt_age).alias("Oldest"),
        pl.col("resolved_today").alias("Resolved today"),
        _text(rows, "aht_today_s", fmt_duration).alias("AHT today"),
        pl.col("normal_load_limit").round(1).alias("Normal up to"),
        pl.when(pl.col("above_normal_load").fill_null(False))
        .then(pl.lit("above normal"))
        .when(pl.col("normal_load_limit").is_null())
        .then(pl.lit("–"))
        .otherwise(pl.lit(""))
        .alias("Load"),
        pl.when(pl.col("active").fill_null(True)).then(pl.lit("")).otherwise(pl.lit("left")).alias("Status"),
        "agent_id",
    )


# --------------------------------------------------------------------------- figures (pure)


def fig_queues(wq: pl.DataFrame) -> go.Figure:
    """Open cases per queue, stacked by priority; ``customdata`` = [queue, priority]."""
    fig = go.Figure()
    totals = wq.group_by("queue").agg(pl.col("open").sum()).sort(["open", "queue"], descending=[True, False])
    order = totals["queue"].to_list()
    for prio in priorities_in(wq["priority"].to_list()):
        d = wq.filter(pl.col("priority").is_null() if prio is None else pl.col("priority") == prio)
        d = d.with_columns(
            pl.col("queue")
            .replace_strict({q: i for i, q in enumerate(order)}, return_dtype=pl.Int64)
            .alias("_o")
        ).sort("_o")
        label = plot_text(prio if prio is not None else NO_PRIORITY)
        fig.add_trace(
            go.Bar(
                x=[plot_text(q) for q in d["queue"]],
                y=d["open"].to_list(),
                name=label,
                marker_color=PRIORITY_COLORS.get(prio or "", OTHER_COLOR),
                customdata=[[q, prio] for q in d["queue"]],
                text=[f"{b} breached" if b else "" for b in d["breached"]],
                hovertemplate=(f"<b>%{{x}}</b> · {label}<br>%{{y}} open<br>%{{text}}<extra></extra>"),
                textposition="none",
            )
        )
    fig.update_layout(
        barmode="stack",
        legend_traceorder="normal",
        xaxis_title=None,
        yaxis_title="open cases",
        xaxis={"categoryorder": "array", "categoryarray": [plot_text(q) for q in order]},
    )
    return fig


def fig_ages(ages: pl.DataFrame) -> go.Figure:
    """Open cases per age bucket (youngest first), stacked by priority; ``customdata`` =
    [age bucket, priority]."""
    fig = go.Figure()
    for prio in priorities_in(ages["priority"].to_list()):
        d = ages.filter(pl.col("priority").is_null() if prio is None else pl.col("priority") == prio)
        label = plot_text(prio if prio is not None else NO_PRIORITY)
        fig.add_trace(
            go.Bar(
                x=d["age_bucket"].to_list(),
                y=d["open"].to_list(),
                name=label,
                marker_color=PRIORITY_COLORS.get(prio or "", OTHER_COLOR),
                customdata=[[b, prio] for b in d["age_bucket"]],
                hovertemplate=f"<b>%{{x}} old</b> · {label}<br>%{{y}} open<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        legend_traceorder="normal",
        xaxis={
            "categoryorder": "array",
            "categoryarray": list(lx.AGE_BUCKET_LABELS),
            "title": "age (time since created)",
        },
        yaxis_title="open cases",
    )
    return fig


def fig_agents(table: pl.DataFrame) -> go.Figure:
    """Open assigned cases per agent (at risk and the rest), most loaded on top; agents above
    their team's normal load are marked. ``customdata`` = [agent_id]. ``table`` is
    :func:`agent_table`'s output."""
    d = table.filter(pl.col("Open") > 0).reverse()  # horizontal bars draw bottom-up
    labels = [
        plot_text(f"{n} ⚠" if flag == "above normal" else n)
        for n, flag in zip(d["Agent"], d["Load"], strict=True)
    ]
    cd = [[a] for a in d["agent_id"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=labels,
            x=d["At risk"].to_list(),
            name="at risk (breached or due < 4 h)",
            orientation="h",
            marker_color=PRIORITY_COLORS["urgent"],
            customdata=cd,
            hovertemplate="<b>%{y}</b><br>%{x} at risk<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=labels,
            x=(d["Open"] - d["At risk"]).to_list(),
            name="other open",
            orientation="h",
            marker_color=PRIORITY_COLORS["normal"],
            customdata=cd,
            hovertemplate="<b>%{y}</b><br>%{x} open, not at risk<extra></extra>",
        )
    )
    fig.update_layout(barmode="stack", xaxis_title="open assigned cases", yaxis={"automargin": True})
    return fig


# --------------------------------------------------------------------------- shared version probe


@dataclass
class _Probe:
    version: str
    at: float  # time.monotonic() of the probe


_probes: dict[str, _Probe] = {}
_probe_locks: dict[str, threading.Lock] = {}
_probes_lock = threading.Lock()


def _clock() -> float:
    return time.monotonic()


def note_version(source: str, version: str) -> None:
    """Record a version just probed elsewhere (the frame's full run), for the other sessions."""
    with _probes_lock:
        _probes[source] = _Probe(version, _clock())


def shared_version(settings: Settings, max_age: float) -> str:
    """The source's data version, probed at most once per ``max_age`` seconds for all sessions
    of this server (a per-source lock: sessions ticking together wait for one probe). Raises what
    :func:`tsdash.sources.data_version` raises."""
    from tsdash import sources
    from tsdash.ui.frame import source_id

    sid = source_id(settings)
    with _probes_lock:
        lock = _probe_locks.setdefault(sid, threading.Lock())
    with lock:
        with _probes_lock:
            p = _probes.get(sid)
        if p is not None and _clock() - p.at < max_age:
            return p.version
        version = sources.data_version(settings)
        note_version(sid, version)
        return version


def load_current(settings: Settings, max_age: float, scope: Scope | None = None) -> Loaded:
    """The data at its current version through the frame's loader (shared across sessions,
    keyed on source, version and scope): a load happens only when the version changed."""
    from tsdash.ui.frame import load_view

    version = shared_version(settings, max_age)
    return load_view(settings, version, scope)


# --------------------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class Snapshot:
    """What the fragment shows: the data, the filter with its as-of pinned, and when it was
    last refreshed successfully."""

    source: str
    ds: Dataset | None
    options: Options
    version: str | None
    latest: dt.datetime | None
    f: Filter
    as_of: dt.datetime
    refreshed_at: dt.datetime
    error: str | None = None  # the last refresh failed with this message (the numbers are older)
    failed_at: dt.datetime | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def _from_context(ctx: Context) -> Snapshot:
    from tsdash.ui.frame import source_id

    return Snapshot(
        source=source_id(ctx.settings),
        ds=ctx.ds,
        options=ctx.options,
        version=ctx.data_key[1] if ctx.data_key else None,
        latest=ctx.latest,
        f=ctx.filter,
        as_of=ctx.as_of,
        refreshed_at=ctx.as_of,
        error=ctx.error,
        failed_at=ctx.as_of if ctx.error else None,
    )


def _held() -> bool:
    ss = st.session_state
    return any(has_selection(ss.get(k)) for k in ss.get(_SEL, ()))


def _refresh(ctx: Context, prev: Snapshot, interval: int) -> Snapshot:
    """A tick: reload when the version changed; keep the last numbers when the source fails."""
    from tsdash.sources import SourceError

    now = _now()
    try:
        loaded = load_current(ctx.settings, PROBE_SHARE * interval, ctx.scope)
    except SourceError as exc:
        return replace(prev, error=str(exc) or exc.__class__.__name__, failed_at=now)
    except Exception as exc:  # noqa: BLE001 - a message, never a traceback
        log.exception("live refresh failed")
        return replace(prev, error=f"Unexpected error ({exc.__class__.__name__}: {exc}).", failed_at=now)
    return Snapshot(
        source=prev.source,
        ds=loaded.ds,
        options=loaded.options,
        version=loaded.version,
        latest=loaded.latest,
        f=ctx.state.to_filter(now),
        as_of=now,
        refreshed_at=now,
    )


def snapshot(ctx: Context, interval: int, paused: bool) -> tuple[Snapshot, str]:
    """The snapshot to show on this run of the fragment and why: 'frozen', 'loaded' (a full run:
    the frame just loaded), 'refreshed' (a tick), 'held' (a selection is open) or 'paused'."""
    from tsdash.ui.frame import source_id

    ss = st.session_state
    full = ss.get(_SEEN) != ss.get(_RUN)
    ss[_SEEN] = ss.get(_RUN)
    prev: Snapshot | None = ss.get(_SNAP)
    if ctx.frozen:
        snap, why = _from_context(ctx), "frozen"
    elif full or prev is None or prev.source != source_id(ctx.settings):
        snap, why = _from_context(ctx), "loaded"
        if snap.version is not None:
            note_version(snap.source, snap.version)
    elif _held():
        snap, why = prev, "held"
    elif paused:
        snap, why = prev, "paused"
    else:
        snap, why = _refresh(ctx, prev, interval), "refreshed"
    ss[_SNAP] = snap
    return snap, why


def _view_of(ctx: Context, snap: Snapshot) -> Context:
    """The frame's context with the snapshot's data and as-of (what the drill-down reads)."""
    key = (snap.source, snap.version) if snap.version is not None else None
    return replace(
        ctx,
        ds=snap.ds,
        options=snap.options,
        filter=snap.f,
        as_of=snap.as_of,
        data_key=key,
        latest=snap.latest,
    )


# --------------------------------------------------------------------------- controls


def _interval_default(settings: Settings) -> int:
    return max(1, int(settings.refresh_seconds))


def _on_interval() -> None:
    st.session_state[_INTERVAL] = st.session_state[_W_INTERVAL]


def _on_paused() -> None:
    st.session_state[_PAUSED] = st.session_state[_W_PAUSED]


def controls(ctx: Context) -> tuple[int, bool]:
    """The refresh interval and the pause toggle (kept in the session across page switches)."""
    ss = st.session_state
    options = interval_options(_interval_default(ctx.settings))
    interval = ss.get(_INTERVAL, _interval_default(ctx.settings))
    if interval not in options:
        interval = _interval_default(ctx.settings)
    paused = bool(ss.get(_PAUSED, False))
    if ctx.frozen:
        return interval, True
    ss[_W_INTERVAL] = interval
    ss[_W_PAUSED] = paused
    left, right, _ = st.columns([2, 2, 5], vertical_alignment="bottom")
    with left:
        st.selectbox(
            "Refresh every",
            options,
            key=_W_INTERVAL,
            format_func=interval_label,
            on_change=_on_interval,
            help=(
                "How often the numbers refresh. Each refresh asks the source whether its data changed "
                "and reloads only then; the load is shared by everyone viewing the page."
            ),
        )
    with right:
        st.toggle("Pause auto-refresh", key=_W_PAUSED, on_change=_on_paused)
    return interval, paused


def _status(ctx: Context, snap: Snapshot, why: str, interval: int, paused: bool) -> None:
    now = _now()
    lt = ctx.local(snap.as_of)
    when = (
        f"{lt:%H:%M:%S %Z}"
        if lt.date() == ctx.local(now).date()
        else f"{ctx.fmt_time(snap.as_of, seconds=True)} {lt:%Z}"
    )
    parts = [f"**As of {md_escape(when)}**"]
    if why == "frozen":
        parts.append("frozen link: these numbers do not refresh (Unfreeze in the sidebar for live numbers)")
    else:
        parts.append(f"refreshed {ago((now - snap.refreshed_at).total_seconds())}")
        if why == "held":
            parts.append(
                "auto-refresh on hold while a row or bar is selected (clear the selection to resume)"
            )
        elif paused:
            parts.append("auto-refresh paused")
        else:
            parts.append(f"refreshes every {interval_label(interval)}")
    if snap.latest is not None:
        parts.append(
            f"latest record {md_escape(ctx.fmt_time(snap.latest))} ({ago((snap.as_of - snap.latest).total_seconds())})"
        )
    st.markdown(" · ".join(parts))
    if snap.error and why != "frozen":
        failed = ctx.local(snap.failed_at or now)
        st.warning(
            f"Refresh failed at {failed:%H:%M:%S}: {md_escape(snap.error)} The numbers below are as of "
            f"{md_escape(when)}; the next refresh tries again.",
            icon=":material/sync_problem:",
        )


# --------------------------------------------------------------------------- sections


def _headline(ctx: Context, total: dict[str, Any]) -> None:
    cols = st.columns(7)
    items = (
        ("open_backlog", "Open", total.get("open", 0), fmt_number),
        ("unassigned", "Unassigned", total.get("unassigned", 0), fmt_number),
        ("breached", "Breached", total.get("breached", 0), fmt_number),
        ("due_within_4h", "Due < 1 h", total.get("due_within_1h", 0), fmt_number),
        ("due_within_4h", "Due < 4 h", total.get("due_within_4h", 0), fmt_number),
        ("open_escalations", "Open escalations", total.get("open_escalations", 0), fmt_number),
        ("oldest_age", "Oldest open", total.get("oldest_age_s"), fmt_age),
    )
    for col, (key, label, value, fmt) in zip(cols, items, strict=True):
        with col:
            st.metric(label, fmt(value), help=DEFINITIONS[key].description, border=True)


def _styled_queue_table(table: pl.DataFrame) -> Any:
    shown = table.drop("queue", "priority").to_pandas()
    sty = shown.style
    for col, color in (
        ("Open", "blue"),
        ("Unassigned", "amber"),
        ("Breached", "red"),
        ("Due < 1 h", "red"),
        ("Due < 4 h", "amber"),
        ("Escalated", "amber"),
    ):
        sty = sty.apply(lambda s, c=color: heat_css(s.tolist(), c), subset=[col])
    return sty


def _queues(ctx: Context, wq: pl.DataFrame) -> None:
    table = queue_table(wq)
    uc.heading(
        "Open cases by queue and priority",
        help=(
            DEFINITIONS["open_backlog"].description
            + " Breached: "
            + DEFINITIONS["breached"].description
            + " Due < 1 h / < 4 h: "
            + DEFINITIONS["due_within_4h"].description
        ),
    )
    key = ids_key(_K + "queues", list(zip(table["queue"], table["priority"], strict=True)))
    _track(key)
    event = st.dataframe(
        _styled_queue_table(table),
        key=key,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "Open": st.column_config.NumberColumn("Open", help=DEFINITIONS["open_backlog"].description),
            "Unassigned": st.column_config.NumberColumn(
                "Unassigned", help=DEFINITIONS["unassigned"].description
            ),
            "Breached": st.column_config.NumberColumn("Breached", help=DEFINITIONS["breached"].description),
            "Due < 1 h": st.column_config.NumberColumn(
                "Due < 1 h", help="Due within the next hour, not breached."
            ),
            "Due < 4 h": st.column_config.NumberColumn(
                "Due < 4 h", help=DEFINITIONS["due_within_4h"].description
            ),
            "Escalated": st.column_config.NumberColumn(
                "Escalated", help=DEFINITIONS["open_escalations"].description
            ),
            "Oldest": st.column_config.TextColumn("Oldest", help=DEFINITIONS["oldest_age"].description),
        },
        height=min(38 + 35 * table.height, 430),
    )
    left, right = st.columns([6, 1], vertical_alignment="center")
    with left:
        st.caption("Select a row for its cases. Darker cells: more cases than elsewhere in the column.")
    with right:
        uc.download_csv(
            table.drop("queue", "priority"), "open_cases_by_queue_and_priority", key=_K + "queues_csv"
        )
    row = selected_row(event)
    if row is not None and row < table.height:
        _queue_cases(ctx, {"queue": table["queue"][row], "priority": table["priority"][row]}, "queue_cases")


def _queue_cases(ctx: Context, picked: dict[str, Any], key: str) -> None:
    cases = lx.oldest_first(m.cases_behind(ctx.ds, ctx.filter, "backlog-now", **picked))
    prio = picked["priority"] if picked["priority"] is not None else NO_PRIORITY
    case_list(
        ctx, cases, key=_K + key, title=f"Open cases in {picked['queue']}, {prio} priority, oldest first"
    )


def _charts(ctx: Context, wq: pl.DataFrame) -> None:
    ds, f = ctx.ds, ctx.filter
    ages = lx.open_age(ds, f)
    left, right = st.columns(2)
    with left:
        qsel = uc.chart(
            fig_queues(wq),
            title="Open cases per queue, by priority",
            key=_K + "chart_queues",
            data=wq,
            metric="open_backlog",
            on_select=True,
            height=360,
        )
        _track(_K + "chart_queues")
    with right:
        asel = uc.chart(
            fig_ages(ages),
            title="Open cases by age and priority",
            key=_K + "chart_ages",
            data=ages,
            metric="open_by_age",
            on_select=True,
            height=360,
        )
        _track(_K + "chart_ages")
    points = selected_points(qsel, keys=("queue", "priority"))
    if points:
        _queue_cases(ctx, points[0], "chart_queue_cases")
    points = selected_points(asel, keys=("age_bucket", "priority"))
    if points:
        p = points[0]
        cases = lx.oldest_first(
            lx.in_age_bucket(m.cases_behind(ds, f, "backlog-now", priority=p["priority"]), p["age_bucket"])
        )
        prio = p["priority"] if p["priority"] is not None else NO_PRIORITY
        case_list(
            ctx, cases, key=_K + "age_cases", title=f"Open {prio} cases {p['age_bucket']} old, oldest first"
        )


AGENT_HELP = (
    "Per agent at the as-of time. Open: "
    + DEFINITIONS["workload_open"].description
    + " At risk: "
    + DEFINITIONS["at_risk"].description
    + " Resolved today and AHT today: cases resolved since local midnight (display time zone) and "
    "their average handle time. Load: " + DEFINITIONS["above_normal_load"].description
)


def _agents(ctx: Context) -> None:
    ds, f = ctx.ds, ctx.filter
    load = lx.agent_load(ds, f, detail=True, all_agents=True)
    uc.heading("Per-agent load", help=AGENT_HELP)
    if load.height == 0:
        st.info("No agents to show: no active agent passes the filters and nobody holds an open case.")
        return
    names = {a: n for a, n in ctx.options.agents.items()}
    table = agent_table(load, names)
    flagged = table.filter(pl.col("Load") == "above normal")
    if flagged.height:
        st.warning(
            f"{flagged.height} {'agent is' if flagged.height == 1 else 'agents are'} above their team's normal "
            "load (open assigned cases above the team median + 1.5 × IQR): "
            + ", ".join(md_escape(n) for n in flagged["Agent"]),
            icon=":material/person_alert:",
        )
    key = ids_key(_K + "agents", table["agent_id"].to_list())
    _track(key)
    event = st.dataframe(
        table.drop("agent_id"),
        key=key,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "Agent": st.column_config.TextColumn("Agent"),
            "Open": st.column_config.NumberColumn("Open", help=DEFINITIONS["workload_open"].description),
            "At risk": st.column_config.NumberColumn("At risk", help=DEFINITIONS["at_risk"].description),
            "Oldest": st.column_config.TextColumn("Oldest", help="Age of the agent's oldest open case."),
            "Resolved today": st.column_config.NumberColumn(
                "Resolved today",
                help="Cases resolved since local midnight (display time zone), as of now.",
            ),
            "AHT today": st.column_config.TextColumn("AHT today", help=DEFINITIONS["aht"].description),
            "Normal up to": st.column_config.NumberColumn(
                "Normal up to",
                help="The team's normal-load limit: median + 1.5 × IQR of its active agents' open cases "
                "(none for teams of fewer than 4 active agents).",
                format="%.1f",
            ),
            "Load": st.column_config.TextColumn("Load", help=DEFINITIONS["above_normal_load"].description),
            "Status": st.column_config.TextColumn("Status", help="'left': the agent is no longer active."),
        },
        height=min(38 + 35 * table.height, 460),
    )
    left, right = st.columns([6, 1], vertical_alignment="center")
    with left:
        st.caption("Select an agent (or a bar below) for their open cases.")
    with right:
        uc.download_csv(table.drop("agent_id"), "agent_load", key=_K + "agents_csv")
    sel = None
    if table["Open"].sum() > 0:
        sel = uc.chart(
            fig_agents(table),
            title="Open assigned cases per agent",
            key=_K + "chart_agents",
            data=table.drop("agent_id"),
            metric="at_risk",
            on_select=True,
            height=max(220, min(20 * table.filter(pl.col("Open") > 0).height + 90, 900)),
        )
        _track(_K + "chart_agents")
    agent: str | None = None
    row = selected_row(event)
    if row is not None and row < table.height:
        agent = table["agent_id"][row]
    points = selected_points(sel, keys=("agent_id",))
    if points:
        agent = points[0]["agent_id"]
    if agent is not None:
        cases = lx.oldest_first(m.cases_behind(ds, f, "workload", agent_id=agent))
        case_list(
            ctx, cases, key=_K + "agent_cases", title=f"Open cases of {ctx.agent_name(agent)}, oldest first"
        )


def _lists(ctx: Context) -> None:
    ds, f = ctx.ds, ctx.filter
    each = m.cases_behind_each(ds, f, "backlog-now", ("unassigned", None))  # the open cases found once
    unassigned = lx.oldest_first(each["unassigned"])
    key = ids_key(_K + "unassigned", unassigned["case_id"].head(LIST_ROWS).to_list())
    _track(key)
    case_list(
        ctx,
        unassigned,
        key=key,
        title="Unassigned queue, oldest first",
        limit=LIST_ROWS,
        empty="No unassigned open cases.",
        as_of_rows=True,
    )
    soon = lx.due_soonest(each[None], f.resolved_as_of(), limit=DUE_ROWS)
    soon = soon.with_columns(_text(soon, "due_in_s", fmt_age).alias("Due in"))
    key = ids_key(_K + "due", soon["case_id"].to_list())
    _track(key)
    case_list(
        ctx,
        soon,
        key=key,
        title=f"Due soonest (next {DUE_ROWS} not yet breached)",
        empty="No open case is waiting on an SLA that has not passed yet.",
        extra=("Due in",),
        column_config={
            "Due in": st.column_config.TextColumn("Due in", help="Time left until the SLA due time.")
        },
        as_of_rows=True,
    )
    esc = qx.open_escalations(ds, f)
    esc = esc.with_columns(
        pl.col("escalation_reason").fill_null(qx.NO_REASON).alias("Reason"),
        _text(esc, "escalation_age_s", fmt_age).alias("Escalated for"),
    )
    key = ids_key(_K + "escalations", esc["case_id"].head(LIST_ROWS).to_list())
    _track(key)
    no_esc = "No open escalations."
    if ds.cases.height and not ds.cases["escalated"].fill_null(False).any():
        no_esc += " (This source records no escalations at all: no escalated or escalated_at values.)"
    case_list(
        ctx,
        esc,
        key=key,
        title="Open escalations, oldest first",
        caption="Escalations are the lead's: reason and how long each has been escalated.",
        limit=LIST_ROWS,
        empty=no_esc,
        extra=("Reason", "Escalated for"),
        column_config={
            "Reason": st.column_config.TextColumn("Reason", help="escalation_reason as recorded."),
            "Escalated for": st.column_config.TextColumn(
                "Escalated for", help="Time since the case was escalated."
            ),
        },
        as_of_rows=True,
    )


def _track(key: str) -> None:
    """Remember a selectable widget of this run: while it holds a selection the page does not
    refresh (the drill-down under it keeps matching what was clicked)."""
    st.session_state.setdefault(_SEL, [])
    if key not in st.session_state[_SEL]:
        st.session_state[_SEL].append(key)


# --------------------------------------------------------------------------- the page


def body(ctx: Context, interval: int, paused: bool) -> None:
    """The refreshing part of the page (run as a fragment by :func:`render`)."""
    snap, why = snapshot(ctx, interval, paused)
    st.session_state[_SEL] = []
    view = _view_of(ctx, snap)
    _status(view, snap, why, interval, paused)
    if ctx.ds is None and snap.ds is not None and why == "refreshed":
        st.rerun(scope="app")  # the source is back: redraw the whole page (sidebar options too)
    ds, f = view.ds, view.filter
    if ds is None:
        st.info(
            "Waiting for the data source: the page tries again at every refresh."
            if why not in ("frozen", "paused")
            else "No data to show until the source can be read."
        )
        return
    totals = m.backlog_now(ds, f, (), detail=True)
    total = totals.row(0, named=True) if totals.height else {}
    if not total.get("open"):
        everything = m.backlog_now(ds, f.with_(**{d: () for d in m.DIMENSIONS}), ())
        if f.dimension_items() and any(f.dimension_items().values()) and everything.height:
            st.info(
                md_escape(
                    f"No open cases match the filters ({uc.describe_filters(view)}); "
                    f"{fmt_number(everything['open'][0])} are open without them. Remove a filter in the sidebar to see more."
                ),
                icon=":material/filter_alt_off:",
            )
        else:
            st.success(
                NOTHING_OPEN + ("" if ds.cases.height else " (The source has no cases yet.)"),
                icon=":material/check_circle:",
            )
    else:
        _headline(view, total)
        wq = m.workload_queues(ds, f)
        _queues(view, wq)
        _charts(view, wq)
        st.divider()
    _agents(view)
    if total.get("open"):
        st.divider()
        _lists(view)


def render(ctx: Context) -> None:
    """Draw the Live workload page under the frame: controls, then the refreshing body."""
    ss = st.session_state
    ss[_RUN] = ss.get(_RUN, 0) + 1
    interval, paused = controls(ctx)
    run_every = None if (ctx.frozen or paused) else interval
    st.fragment(body, run_every=run_every)(ctx, interval, paused)
