"""The shared frame of every page: page config, data loading, sidebar (navigation, source and
freshness, filters), the view state kept in the session and in the URL, and notices.

Every page script starts with::

    from tsdash import ui
    ctx = ui.frame("Live workload", page="live")

and then draws its content from ``ctx.ds`` and ``ctx.filter``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import streamlit as st

from tsdash.config import ConfigError, Settings, load_settings
from tsdash.dataset import Dataset
from tsdash.metrics.filters import Filter
from tsdash.metrics.history import covers, history_scope
from tsdash.schema import TABLE_NAMES
from tsdash.sources.scope import Scope
from tsdash.ui.fmt import md_escape, md_lines
from tsdash.ui.preload import preload_plotly
from tsdash.ui.state import (
    DIMENSION_KEYS,
    FILTER_KEYS,
    MAX_DATE,
    MAX_RANGE_DAYS,
    MIN_DATE,
    PRESETS,
    Notice,
    Options,
    ViewState,
    age_text,
    check_dimensions,
    default_state,
    latest_activity,
    options_from_dataset,
    parse_query,
    timezone_choices,
)

log = logging.getLogger(__name__)
UTC = dt.UTC

STATE_KEY = "tsdash_view"  # the ViewState (plain session key, not a widget)
_NOTICES_KEY = "tsdash_notices"  # notices waiting to be shown on this run
_W = "tsdash_w_"  # widget key prefix


@dataclass(frozen=True)
class PageInfo:
    key: str
    path: str  # relative to the app's root (where app.py is)
    label: str
    icon: str


PAGES: tuple[PageInfo, ...] = (
    PageInfo("overview", "app.py", "Overview", ":material/dashboard:"),
    PageInfo("live", "pages/1_Live_workload.py", "Live workload", ":material/monitor_heart:"),
    PageInfo("backlog", "pages/2_Backlog_and_flow.py", "Backlog & flow", ":material/stacked_line_chart:"),
    PageInfo("handle_time", "pages/3_Handle_time.py", "Handle time", ":material/timer:"),
    PageInfo("quality", "pages/4_Quality.py", "Quality", ":material/verified:"),
    PageInfo("escalations", "pages/5_Escalations.py", "Escalations", ":material/priority_high:"),
    PageInfo("scorecard", "pages/6_Agent_scorecard.py", "Agent scorecard", ":material/badge:"),
    PageInfo("cases", "pages/7_Cases.py", "Cases", ":material/list_alt:"),
    PageInfo("data", "pages/9_Data.py", "Data", ":material/database:"),
)
PAGE_BY_KEY = {p.key: p for p in PAGES}

DIMENSION_WIDGET_LABELS = {
    "team": "Team",
    "queue": "Queue",
    "priority": "Priority",
    "case_type": "Case type",
    "channel": "Channel",
    "agent": "Agent",
}


@dataclass(frozen=True)
class Loaded:
    ds: Dataset
    options: Options
    latest: dt.datetime | None
    version: str
    scope: Scope | None = None  # the rows read (None: all)
    tables: tuple[str, ...] | None = None  # the tables read (None: all)


@dataclass
class Context:
    """What a page gets from :func:`frame`."""

    settings: Settings
    ds: Dataset | None  # None when the source could not be loaded (the error is shown)
    filter: Filter  # the metrics filter: window, display tz, as-of, dimensions
    as_of: dt.datetime  # UTC: the frozen as-of, else the time this run started
    state: ViewState
    options: Options
    page: str
    source_label: str
    data_key: tuple[str, str] | None  # (source id, data version): a small cache key for page caches
    latest: dt.datetime | None  # latest timestamp in the data (freshness)
    error: str | None = None
    stale: str | None = None  # the source failed; ds is the last good load (see _load_data)
    scope: Scope | None = None  # the rows loaded from the source (None: all of them)

    # ---------------------------------------------------------------- facts
    @property
    def frozen(self) -> bool:
        return self.state.frozen

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.filter.tz)

    @property
    def window(self) -> tuple[dt.date, dt.date]:
        return self.filter.start, self.filter.end

    def agent_name(self, agent_id: str | None) -> str:
        """Display name of an agent id (the id itself when unknown; '–' for none)."""
        if agent_id is None:
            return "–"
        return self.options.agents.get(agent_id, agent_id)

    def local(self, t: dt.datetime) -> dt.datetime:
        """An aware time in the display zone."""
        return t.astimezone(self.zone)

    def fmt_time(self, t: dt.datetime | None, *, seconds: bool = False) -> str:
        """'Mon 2 Mar 2026 14:05' in the display zone; '–' for none."""
        if t is None:
            return "–"
        lt = self.local(t)
        return lt.strftime(f"%a {lt.day} %b %Y %H:%M{':%S' if seconds else ''}")

    def cache_key(self, *parts: object) -> tuple:
        """A small hashable key for ``st.cache_data`` in pages: data version + filter + parts."""
        return (self.data_key, self.filter.cache_key(), parts)

    # ---------------------------------------------------------------- URL
    def param(self, key: str) -> str | None:
        """A page-specific URL value (declared in ``frame(url_keys=...)``), last one wins."""
        values = st.query_params.get_all(key)
        return values[-1] if values else None

    def params(self, key: str) -> list[str]:
        return st.query_params.get_all(key)

    def set_param(self, key: str, value: str | list[str] | None) -> None:
        """Set or (with None) remove a page-specific URL value."""
        if key in FILTER_KEYS:
            raise ValueError(f"{key!r} is a filter key; change filters through the frame")
        if value is None or value == [] or value == "":
            if key in st.query_params:
                del st.query_params[key]
        else:
            st.query_params[key] = value

    def query(self, **extra: str | list[str] | None) -> dict[str, str | list[str]]:
        """The URL query of the current view plus ``extra`` page keys (for links)."""
        q = dict(self.state.to_query())
        q.update({k: v for k, v in extra.items() if v is not None})
        return q

    def link(
        self, page: str, label: str | None = None, *, icon: str | None = None, **extra: str | None
    ) -> None:
        """A link to another page keeping the view, e.g. ``ctx.link("cases", "Open case", case=cid)``."""
        _page_link(PAGE_BY_KEY[page], label=label, icon=icon, query=self.query(**extra))


# --------------------------------------------------------------------------- loading


@st.cache_resource(show_spinner="Loading data…", max_entries=2)
def _load(
    source_key: str,
    version: str,
    scope_key: tuple,
    tables: tuple[str, ...] | None,
    _settings: Settings,
    _scope: Scope | None,
) -> Loaded:
    from tsdash.sources import load_dataset

    ds = load_dataset(_settings, _scope, tables)
    return Loaded(ds, options_from_dataset(ds), latest_activity(ds), version, _scope, tables)


# What the pages read: every table but the case timelines (``events``, most of the rows: 4.2 of
# 5.6 million per million cases), which no chart uses. The Cases page reads the events of the
# case it shows by id (:func:`case_dataset`); the Data page reads every table.
PAGE_TABLES: tuple[str, ...] = tuple(t for t in TABLE_NAMES if t != "events")


def source_id(settings: Settings) -> str:
    """A short fingerprint of the whole configuration (location, mapping, SLA...)."""
    return hashlib.sha1(repr(settings).encode()).hexdigest()[:16]


# The latest loads per source, shared by every session of this server (newest first): a load
# whose scope covers the one a view needs serves it (no second query), and when the source fails
# (database down, file being replaced) pages keep showing the best of them under a banner; the
# next run after the source is back loads fresh data by itself.
_RECENT: dict[str, list[Loaded]] = {}
_RECENT_MAX = 2  # with the cache above, at most 4 datasets in memory (a 10M-case history: ~1 GB each)
_recent_lock = threading.Lock()


def _remember(sid: str, loaded: Loaded) -> None:
    with _recent_lock:
        kept = [x for x in _RECENT.get(sid, []) if x is not loaded]
        _RECENT[sid] = [loaded, *kept][:_RECENT_MAX]


def _recent(
    sid: str, scope: Scope | None, tables: tuple[str, ...] | None, version: str | None
) -> Loaded | None:
    """The newest remembered load of ``sid`` that covers ``scope`` and ``tables`` (at
    ``version`` when given)."""
    with _recent_lock:
        loads = list(_RECENT.get(sid, []))
    for x in loads:
        if (version is None or x.version == version) and _covers(x.scope, scope):
            if x.tables is None or (tables is not None and set(tables) <= set(x.tables)):
                return x
    return None


def _covers(outer: Scope | None, inner: Scope | None) -> bool:
    if outer is None:
        return True
    if inner is None:
        return False
    return covers(outer, inner)


def load_view(
    settings: Settings, version: str, scope: Scope | None, tables: tuple[str, ...] | None = PAGE_TABLES
) -> Loaded:
    """The data at ``version`` for ``scope`` and ``tables`` (None: all): a remembered load that
    covers them, else a load (``st.cache_resource``: one per (source, version, scope, tables) for
    all sessions). Raises what :func:`tsdash.sources.load_dataset` raises."""
    sid = source_id(settings)
    hit = _recent(sid, scope, tables, version)
    if hit is not None:
        return hit
    key = scope.cache_key() if scope is not None else ()
    loaded = _load(sid, version, key, tables, settings, scope)
    _remember(sid, loaded)
    return loaded


def _load_data(
    settings: Settings, scope: Scope | None, tables: tuple[str, ...] | None
) -> tuple[Loaded | None, str | None, str | None]:
    """(loaded, error, stale): ``stale`` is the source's error while ``loaded`` is the last good load."""
    from tsdash.sources import SourceError, data_version

    sid = source_id(settings)
    try:
        return load_view(settings, data_version(settings), scope, tables), None, None
    except SourceError as exc:
        message = str(exc) or exc.__class__.__name__
        # the last good load, if it holds this view's rows (another period's load would show
        # wrong numbers for this one: then the error, not numbers)
        last = _recent(sid, scope, tables, None)
        if last is not None:
            return last, None, message
        return None, message, None
    except Exception as exc:  # a bug or an unexpected driver error: a message, never a traceback
        log.exception("loading the data failed")
        return None, f"Unexpected error while loading the data ({exc.__class__.__name__}: {exc}).", None


@st.cache_resource(show_spinner="Loading the case…", max_entries=32)
def _load_case(source_key: str, version: str, case_id: str, _settings: Settings) -> Dataset:
    from tsdash.sources import load_dataset

    return load_dataset(_settings, Scope(case_ids=(case_id,)))


def case_dataset(ctx: Context, case_id: str) -> Dataset | None:
    """The data of one case outside the loaded period (a link to an old case): the case, its
    events and QA reviews, read from the source by id. None when it cannot be read."""
    from tsdash.sources import SourceError

    if ctx.data_key is None:
        return None
    try:
        return _load_case(ctx.data_key[0], ctx.data_key[1], case_id, ctx.settings)
    except SourceError:
        return None
    except Exception:  # noqa: BLE001 - a message (the case is not found), never a traceback
        log.exception("loading case %r failed", case_id)
        return None


def _fmt_loaded(loaded: Loaded, state: ViewState) -> str:
    from zoneinfo import ZoneInfo

    t = loaded.ds.loaded_at.astimezone(ZoneInfo(state.tz))
    return t.strftime("%Y-%m-%d %H:%M:%S %Z")


def _source_label(settings: Settings) -> str:
    try:
        from tsdash.sources import describe_source

        return describe_source(settings)
    except Exception:  # noqa: BLE001 - the label is informational
        from tsdash.config import mask_url

        return mask_url(settings.source.location)


# --------------------------------------------------------------------------- state


def _now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def _query_dict() -> dict[str, list[str]]:
    qp = st.query_params
    return {k: qp.get_all(k) for k in qp}


def _push_notices(notices: list[Notice]) -> None:
    if notices:
        st.session_state.setdefault(_NOTICES_KEY, []).extend(notices)


def _set_state(state: ViewState) -> None:
    st.session_state[STATE_KEY] = state


def _on_preset(now: dt.datetime) -> None:
    ss = st.session_state
    state: ViewState = ss[STATE_KEY]
    preset = ss[_W + "preset"]
    if preset == "custom":
        start, end = state.window(now)
        _set_state(replace(state, preset="custom", start=start, end=end))
    elif preset in PRESETS:
        _set_state(replace(state, preset=preset, start=None, end=None))


def _on_dates(now: dt.datetime) -> None:
    ss = st.session_state
    state: ViewState = ss[STATE_KEY]
    value = ss.get(_W + "dates")
    if not isinstance(value, list | tuple) or len(value) != 2:
        return  # the second date is not picked yet
    start, end = value
    if (start, end) == state.window(now):
        return
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        new_start = end - dt.timedelta(days=MAX_RANGE_DAYS - 1)
        _push_notices(
            [
                Notice(
                    "from",
                    str(start),
                    f"Ranges are limited to {MAX_RANGE_DAYS} days; showing {new_start} to {end}.",
                )
            ]
        )
        start = new_start
    _set_state(replace(state, preset="custom", start=start, end=end))


def _on_tz() -> None:
    ss = st.session_state
    _set_state(replace(ss[STATE_KEY], tz=ss[_W + "tz"]))


def _on_dimension(key: str) -> None:
    ss = st.session_state
    _set_state(ss[STATE_KEY].with_dimension(key, ss[_W + key]))


def _on_freeze() -> None:
    _set_state(replace(st.session_state[STATE_KEY], as_of=_now()))


def _on_unfreeze() -> None:
    _set_state(replace(st.session_state[STATE_KEY], as_of=None))


def _on_reset(tz: str) -> None:
    _set_state(default_state(tz))
    for k in [k for k in st.session_state if isinstance(k, str) and k.startswith(_W)]:
        del st.session_state[k]


# --------------------------------------------------------------------------- sidebar


def _app_root() -> Path | None:
    """The folder of the app's entry script (app.py), or None when it is not known."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None:
            return None
        return Path(ctx.main_script_parent)
    except Exception:  # noqa: BLE001
        return None


def _page_link(page: PageInfo, *, label: str | None = None, icon: str | None = None, query=None) -> None:
    root = _app_root()
    if root is None or not (root / page.path).exists():
        return
    st.page_link(page.path, label=label or page.label, icon=icon or page.icon, query_params=query)


def _sidebar_nav(state: ViewState) -> None:
    root = _app_root()
    query = state.to_query()
    for page in PAGES:
        if root is not None and (root / page.path).exists():
            st.page_link(page.path, label=page.label, icon=page.icon, query_params=query)


def _sidebar_status(
    settings: Settings,
    label: str,
    state: ViewState,
    as_of: dt.datetime,
    latest: dt.datetime | None,
    loaded: bool,
) -> None:
    zone = ZoneInfo(state.tz)
    t = as_of.astimezone(zone)
    when = t.strftime(f"%a {t.day} %b %H:%M %Z")
    st.caption(f"Source: {md_escape(label)}")
    if state.frozen:
        st.markdown(f"**As of {md_escape(when)}** · frozen")
        st.button(
            "Unfreeze",
            key=_W + "unfreeze",
            icon=":material/lock_open:",
            help="Back to live numbers; removes the as-of time from the link.",
            on_click=_on_unfreeze,
        )
    else:
        st.markdown(f"**As of {md_escape(when)}** · live")
        st.button(
            "Freeze this view",
            key=_W + "freeze",
            icon=":material/lock:",
            help="Pins the as-of time into the link, so that it shows the same numbers tomorrow.",
            on_click=_on_freeze,
        )
    if loaded:
        if latest is None:
            st.caption("No records in the data yet.")
        else:
            age = (_now() - latest).total_seconds()
            lt = latest.astimezone(zone)
            st.caption(f"Data updated {age_text(age)} (latest record {lt.strftime('%d %b %H:%M')}).")


def _sidebar_filters(settings: Settings, state: ViewState, options: Options, now: dt.datetime) -> None:
    ss = st.session_state
    st.markdown("**Period**")
    ss[_W + "preset"] = state.preset
    st.selectbox(
        "Period",
        list(PRESETS),
        format_func=PRESETS.__getitem__,
        key=_W + "preset",
        on_change=_on_preset,
        args=(now,),
        label_visibility="collapsed",
    )
    pending = ss.get(_W + "dates")
    if not (isinstance(pending, list | tuple) and len(pending) == 1):
        ss[_W + "dates"] = state.window(now)
    st.date_input(
        "Dates",
        key=_W + "dates",
        min_value=MIN_DATE,
        max_value=MAX_DATE,
        format="YYYY-MM-DD",
        on_change=_on_dates,
        args=(now,),
        help="Both dates included. Picking dates switches the period to a custom range.",
    )
    zones = timezone_choices(settings.display_tz, state.tz)
    ss[_W + "tz"] = state.tz
    st.selectbox(
        "Time zone",
        zones,
        key=_W + "tz",
        on_change=_on_tz,
        help="Days, hours and times are read in this zone.",
    )
    st.markdown("**Filters**")
    for key in DIMENSION_KEYS:
        values = options.values(key)
        selected = [v for v in state.dimensions()[key] if v in set(values)]
        ss[_W + key] = selected
        st.multiselect(
            DIMENSION_WIDGET_LABELS[key],
            list(values),
            key=_W + key,
            format_func=(lambda v, k=key: options.label(k, v)),
            on_change=_on_dimension,
            args=(key,),
            placeholder="All" if values else "None in the data",
            disabled=not values,
        )
    st.button(
        "Reset filters",
        key=_W + "reset",
        icon=":material/restart_alt:",
        on_click=_on_reset,
        args=(settings.display_tz,),
        help="Last 7 days, live, no filters.",
    )


# --------------------------------------------------------------------------- the frame


def frame(
    title: str,
    *,
    page: str,
    url_keys: tuple[str, ...] = (),
    require_data: bool = True,
    all_tables: bool = False,
    plotly: bool = True,
) -> Context:
    """Set up the page and return its :class:`Context`. Call it first in every page script.

    ``url_keys`` are the page's own URL keys (e.g. ``("case",)``) kept in the link besides the
    filters. With ``require_data`` (default) the script stops after the frame when the data
    could not be loaded (the error is shown); pass False to draw something anyway (``ctx.ds`` is
    then None). The pages read :data:`PAGE_TABLES`; ``all_tables`` reads every table (the Data
    page). ``plotly`` says whether the page draws Plotly charts on its first run: the browser
    then loads Streamlit's Plotly component at once, otherwise once the page is drawn
    (:mod:`tsdash.ui.preload`).
    """
    st.set_page_config(page_title=f"{title} · tsdash", page_icon=":material/shield:", layout="wide")
    with st.sidebar:
        preload_plotly(when="now" if plotly else "idle")
    ss = st.session_state
    try:
        settings = load_settings()
    except ConfigError as exc:
        with st.sidebar:
            _sidebar_nav(ss.get(STATE_KEY) or default_state())
        st.title(title)
        st.error(f"Configuration problem: {exc}")
        st.stop()

    now = _now()
    if STATE_KEY not in ss:  # first run of this browser session: the URL seeds the view
        state, notices = parse_query(_query_dict(), default_tz=settings.display_tz, now=now)
        _push_notices(notices)
        _set_state(state)
    state: ViewState = ss[STATE_KEY]
    # pushdown: only the rows the view's period needs (and its history) leave the source; the
    # dimension filters apply in memory, so that changing one does not query the source again
    scope = history_scope(state.to_filter(now))
    loaded, error, stale = _load_data(settings, scope, None if all_tables else PAGE_TABLES)
    options = loaded.options if loaded is not None else Options()
    if loaded is not None:  # the link's agents, queues... checked against the data
        state, notices = check_dimensions(state, options)
        _push_notices(notices)
        _set_state(state)

    label = _source_label(settings)
    with st.sidebar:
        st.markdown("### :material/shield: tsdash")
        _sidebar_nav(state)
        st.divider()
        _sidebar_status(
            settings,
            label,
            state,
            state.resolved_as_of(now),
            loaded.latest if loaded else None,
            loaded is not None,
        )
        st.divider()
        _sidebar_filters(settings, state, options, now)
    state = ss[STATE_KEY]

    # the link always reflects the view: filter keys + the page's own keys
    keep = {k: st.query_params.get_all(k) for k in url_keys if k in st.query_params}
    want = {**state.to_query(), **keep}
    if _query_dict() != {k: (v if isinstance(v, list) else [v]) for k, v in want.items()}:
        st.query_params.from_dict(want)

    st.title(title)
    if error is not None:
        st.error(
            f"**Could not load the data** from {md_escape(label)}:\n\n" + md_lines(error),
            icon=":material/error:",
        )
    if stale is not None and loaded is not None:
        st.warning(
            f"**The source cannot be read right now**: {md_lines(stale)}\n\n"
            f"Showing the data loaded at {md_escape(_fmt_loaded(loaded, state))}. "
            "This page recovers by itself when the source is back.",
            icon=":material/cloud_off:",
        )
    notices = ss.pop(_NOTICES_KEY, [])
    if notices:
        st.warning(md_lines("\n".join(n.message for n in notices)), icon=":material/link_off:")

    as_of = state.resolved_as_of(now)
    ctx = Context(
        settings=settings,
        ds=loaded.ds if loaded is not None else None,
        filter=state.to_filter(now),
        as_of=as_of,
        state=state,
        options=options,
        page=page,
        source_label=label,
        data_key=(source_id(settings), loaded.version) if loaded is not None else None,
        latest=loaded.latest if loaded is not None else None,
        error=error,
        stale=stale,
        scope=loaded.scope if loaded is not None else scope,
    )
    if require_data and ctx.ds is None:
        st.stop()
    return ctx
