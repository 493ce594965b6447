"""The Agent scorecard page (issue 6): one agent for a one-on-one, shareable and downloadable.

The page script stays thin::

    from tsdash import ui
    from tsdash.ui import scorecard
    ctx = ui.frame("Agent scorecard", page="scorecard")
    scorecard.render(ctx)

**Which agent.** The scorecard follows the frame's agent filter (URL key ``agent``, the sidebar's
Agent multiselect): with one agent selected it shows that agent, so ``?agent=A05`` opens A05's
scorecard. Picking an agent on the page sets the agent filter to that one agent (the link then
reproduces the view). With several agents selected it shows the first and says so; with none it
asks for one. An unknown id in the link is dropped by the frame with a visible notice. The
view's team and agent filters choose the agent; they do not narrow the team comparison (see
:mod:`tsdash.scorecard`).

Numbers come from :func:`tsdash.scorecard.build` (the metrics engine); figures and the report
from :mod:`tsdash.report`, so the page and the downloaded file show the same numbers.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import polars as pl
import streamlit as st

from tsdash import report
from tsdash import scorecard as sc
from tsdash.metrics import DEFINITIONS, cases_behind
from tsdash.ui import components as uc
from tsdash.ui.drill import case_list, selected_points
from tsdash.ui.fmt import md_escape

if TYPE_CHECKING:  # importing tsdash.ui.frame here would shadow the lazy ``ui.frame`` function
    from tsdash.ui.frame import Context

PAGE_PATH = "Agent_scorecard"  # the URL path of pages/6_Agent_scorecard.py
PICK_KEY = "scorecard_w_agent"
TILE_COLUMNS = 5
TREND_COLUMNS = 3
DELTA_COLOR = {"higher_better": "normal", "lower_better": "inverse", "neutral": "off"}


# --------------------------------------------------------------------------- agent choice


def subject(ctx: Context) -> tuple[str | None, str | None]:
    """(agent id to show, a note to show) from the frame's agent filter."""
    chosen = ctx.state.agents
    if not chosen:
        return None, None
    if len(chosen) > 1:
        return chosen[0], (
            f"The agent filter selects {len(chosen)} agents; the scorecard shows one at a time: "
            f"{ctx.agent_name(chosen[0])}. Pick another above (that narrows the filter to the agent you pick)."
        )
    return chosen[0], None


def _set_view(**changes: Any) -> None:
    """Change the frame's view state (the frame writes it to the sidebar and the URL on the rerun)."""
    from tsdash.ui.frame import STATE_KEY  # loaded by ui.frame() already

    state = st.session_state.get(STATE_KEY)
    if state is not None:
        st.session_state[STATE_KEY] = replace(state, **changes)


def _on_pick() -> None:
    aid = st.session_state.get(PICK_KEY)
    if aid:
        _set_view(agents=(aid,))


def _on_freeze() -> None:
    _set_view(as_of=dt.datetime.now(dt.UTC).replace(microsecond=0))


def _picker(ctx: Context, current: str | None) -> None:
    ids = list(ctx.options.agents)
    st.session_state[PICK_KEY] = current if current in ids else None
    st.selectbox(
        "Agent",
        ids,
        key=PICK_KEY,
        format_func=lambda a: ctx.options.agents.get(a, a),
        on_change=_on_pick,
        placeholder="Choose an agent",
        help="The scorecard follows the sidebar's agent filter; picking an agent here sets that filter to "
        "this one agent, so the link opens this scorecard.",
    )


# --------------------------------------------------------------------------- sharing


def share_url(ctx: Context) -> str:
    """The link to this view: the browser's URL of the page (``st.context.url``) or, outside a
    browser, the configured server address; with the view's query (filters, as-of, agent)."""
    base = None
    try:
        base = st.context.url
    except Exception:  # noqa: BLE001 - not available outside a browser session
        base = None
    if not base:
        host = st.get_option("browser.serverAddress") or "localhost"
        port = st.get_option("browser.serverPort") or st.get_option("server.port") or 8501
        base = f"http://{host}:{port}/{PAGE_PATH}"
    query = urllib.parse.urlencode(ctx.query(), doseq=True)
    return f"{base.split('?')[0]}?{query}"


def _share(ctx: Context, card: sc.Scorecard) -> None:
    url = share_url(ctx)
    left, right = st.columns([3, 2])
    with left:
        st.markdown(
            "**Share this view**",
            help="The link reproduces this scorecard: agent, period, filters and time zone.",
        )
        st.code(url, language=None, wrap_lines=True)
        if ctx.frozen:
            st.caption(
                md_escape(
                    f"Frozen at {ctx.fmt_time(ctx.as_of)}: the link shows these numbers whenever it is opened."
                )
            )
        else:
            st.caption("Live: the link shows the numbers at the time it is opened. Freeze to pin them.")
            st.button(
                "Freeze this view",
                key="scorecard_freeze",
                icon=":material/lock:",
                on_click=_on_freeze,
                help="Pins the as-of time into the link (the sidebar's Freeze), so it shows the same numbers next week.",
            )
    with right:
        st.markdown(
            "**Download**",
            help="A single HTML file (charts included, opens without network) and the tables as CSV.",
        )
        frozen, source = ctx.frozen, ctx.source_label

        def html_bytes() -> bytes:  # built on click (a separate thread), not on every run
            return report.render_html(card, frozen=frozen, source=source, link=url).encode("utf-8")

        st.download_button(
            "Download report (HTML)",
            data=html_bytes,
            file_name=report.report_name(card),
            mime="text/html",
            key="scorecard_report",
            on_click="ignore",
            icon=":material/description:",
            help="The scorecard with its filters, as-of time, charts and definitions in one file.",
        )
        st.download_button(
            "Download tables (CSV zip)",
            data=lambda: report.csv_bundle(card, frozen=frozen, source=source),
            file_name=report.report_name(card, "zip"),
            mime="application/zip",
            key="scorecard_csv",
            on_click="ignore",
            icon=":material/folder_zip:",
        )


# --------------------------------------------------------------------------- sections


def _tile_help(t: sc.Tile) -> str:
    d = DEFINITIONS[t.key]
    lines = [d.description, "", f"Agent: {t.text} over {t.n_text}."]
    if t.team_median is not None:
        lines.append(f"Team median: {sc.fmt_value(t.key, t.team_median)} ({t.team_agents} agents).")
    lines.append(f"Previous period: {sc.fmt_value(t.key, t.previous)}.")
    return "\n".join(lines)


def _tiles(card: sc.Scorecard) -> None:
    tiles = [
        t
        for t in card.tiles.values()
        if not (t.key == "utilization" and not card.has_shifts)
        and not (t.key in ("qa_mean", "qa_pass_rate") and not card.has_qa)
    ]
    for i in range(0, len(tiles), TILE_COLUMNS):
        cols = st.columns(TILE_COLUMNS)
        for col, t in zip(cols, tiles[i : i + TILE_COLUMNS], strict=False):
            with col:
                delta = f"{t.vs_previous} vs previous" if t.vs_previous else None
                st.metric(
                    t.label,
                    t.text,
                    delta=delta,
                    delta_color=DELTA_COLOR.get(t.direction, "off"),  # type: ignore[arg-type]
                    help=_tile_help(t),
                    border=True,
                )
                team = "–" if t.team_median is None else sc.fmt_value(t.key, t.team_median)
                st.caption(md_escape(f"Team median {team} · {t.n_text}"))
    missing = []
    if not card.has_qa:
        missing.append("QA tiles appear once QA reviews are loaded")
    if not card.has_shifts:
        missing.append("utilization appears once shifts are loaded")
    if missing:
        st.caption(md_escape("; ".join(missing).capitalize() + "."))


def _points(card: sc.Scorecard) -> None:
    st.subheader(
        "Talking points", help="Plain-language observations derived from the numbers by explicit rules."
    )
    with st.container(border=True):
        if not card.talking_points:
            st.markdown(
                "Nothing stands out: no number passes the thresholds (see how talking points are chosen)."
            )
        for i, p in enumerate(card.talking_points, start=1):
            icon = {"concern": ":material/flag:", "strength": ":material/thumb_up:"}.get(
                p.tone, ":material/info:"
            )
            st.markdown(f"{icon} {i}\\. {md_escape(p.text)}")
            st.caption(md_escape(f"Evidence: {p.evidence}"))
    with st.expander("How talking points are chosen"):
        for s in sc.talking_point_rules():
            st.markdown(f"- {md_escape(s)}")


def _trends(ctx: Context, card: sc.Scorecard) -> None:
    st.subheader(
        f"Weekly trends: last {sc.TREND_WEEKS} weeks against the team",
        help="Blue: the agent (open circles: partial weeks). Dashed: the team median; shaded: the team's middle "
        "50% (25th to 75th percentile of its active agents). Select a point to list the agent's cases behind it.",
    )
    keys = report.trend_keys(card)
    if not card.weekly["value"].is_not_null().any():
        st.info("No weekly numbers for this agent in the last 12 weeks.", icon=":material/event_busy:")
    chosen: tuple[str, dict[str, Any]] | None = None
    for i in range(0, len(keys), TREND_COLUMNS):
        cols = st.columns(TREND_COLUMNS)
        for col, key in zip(cols, keys[i : i + TREND_COLUMNS], strict=False):
            with col:
                data = card.weekly.filter(pl.col("metric") == key)
                sel = uc.chart(
                    report.trend_figure(card, key),
                    title=report.trend_title(key),
                    key=f"scorecard_trend_{key}",
                    data=data,
                    metric=key,
                    on_select=True,
                    height=260,
                )
                pts = selected_points(sel, keys=("week", "n"))
                if pts and chosen is None:
                    chosen = (key, pts[0])
    if chosen is not None and ctx.ds is not None:
        key, point = chosen
        week = dt.date.fromisoformat(str(point["week"]))
        table = DEFINITIONS[key].table
        f = sc.agent_filter(card.trend_filter, card.agent.agent_id)
        rows = cases_behind(ctx.ds, f, table, pass_mark=card.pass_mark, week=week)
        case_list(
            ctx,
            rows,
            key="scorecard_trend_cases",
            title=f"{card.agent.name}: {sc.TILE_LABELS[key]}, week of {week:%d %b %Y}",
            caption=f"The rows behind the selected point ({DEFINITIONS[key].label}).",
        )


def _quality(ctx: Context, card: sc.Scorecard) -> None:
    st.subheader("Quality")
    if not card.has_qa:
        uc.empty_state(ctx, "missing_table", table="qa_reviews")
        return
    if card.criteria.height:
        uc.chart(
            report.criteria_figure(card),
            title="QA score per criterion: agent vs team median",
            key="scorecard_criteria",
            data=card.criteria,
            metric="qa_criterion_mean",
        )
        below = card.criteria.filter(pl.col("below"))
        if below.height:
            st.caption(
                md_escape(
                    "Below the team median: "
                    + ", ".join(
                        f"{sc.criterion_label(r['criterion'])} ({r['gap']:+.1f} points over {r['scores']} reviews)"
                        for r in below.iter_rows(named=True)
                    )
                    + "."
                )
            )
    elif card.has_criteria:
        st.caption("No rubric scores for this agent in the period.")
    else:
        uc.empty_state(ctx, "missing_table", table="qa_criteria")
    comment = {
        "Comment": st.column_config.TextColumn("Comment", help="The reviewer's comment.", width="large")
    }
    case_list(
        ctx,
        card.critical.rename({"comment": "Comment"}),
        key="scorecard_critical",
        title="Critical errors",
        empty="No QA review with a critical error in the period.",
        extra=("Comment",),
        column_config=comment,
    )
    case_list(
        ctx,
        card.reviews.rename({"comment": "Comment"}),
        key="scorecard_reviews",
        title=f"Recent reviews (last {sc.RECENT_REVIEWS})",
        empty="No QA reviews of this agent in the period.",
        extra=("Comment",),
        column_config=comment,
    )


def _queues(ctx: Context, card: sc.Scorecard) -> None:
    st.subheader("Queue mix", help="Where the agent's resolved cases come from and their handle time there.")
    if not card.queue_mix.height:
        st.info("No resolved cases in this period.", icon=":material/event_busy:")
        return
    left, right = st.columns(2)
    with left:
        uc.chart(
            report.queue_share_figure(card),
            title="Share of resolved cases per queue",
            key="scorecard_queue_share",
            data=card.queue_mix,
            metric="throughput",
        )
    with right:
        uc.chart(
            report.queue_aht_figure(card),
            title="AHT per queue: agent vs team",
            key="scorecard_queue_aht",
            data=card.queue_mix,
            metric="aht",
        )


def _cases(ctx: Context, card: sc.Scorecard) -> None:
    st.subheader("Cases")
    case_list(
        ctx,
        card.escalations.rename({"escalation_reason": "Reason"}),
        key="scorecard_escalations",
        title="Recent escalations",
        empty="No escalations of cases created in the period.",
        extra=("Reason",),
    )
    slow = card.slowest.with_columns((pl.col("handle_seconds") / 60).round(1).alias("Handle (min)"))
    case_list(
        ctx,
        slow,
        key="scorecard_slowest",
        title="Slowest cases (handle time)",
        empty="No resolved cases with a handle time in the period.",
        extra=("Handle (min)",),
    )
    case_list(
        ctx,
        card.breached.rename({"state": "Breach"}),
        key="scorecard_breached",
        title="Breached cases",
        caption="Resolved after their SLA due time in the period, or open past due at as-of.",
        empty="No case resolved after its SLA due time, none open past due.",
        extra=("Breach",),
    )


def _definitions() -> None:
    with st.expander("Definitions and comparisons"):
        for s in sc.comparison_rules():
            st.markdown(f"- {md_escape(s)}")
        for key in sc.TILE_KEYS:
            d = DEFINITIONS[key]
            st.markdown(f"**{md_escape(d.label)}**: {md_escape(d.description)}")


# --------------------------------------------------------------------------- the page


@st.cache_data(max_entries=16, show_spinner="Computing the scorecard…")
def _build(key: tuple, _ds: Any, _f: Any, agent_id: str, pass_mark: float) -> sc.Scorecard:
    return sc.build(_ds, _f, agent_id, pass_mark=pass_mark)


def render(ctx: Context) -> None:
    """Draw the scorecard page under the frame."""
    ds = ctx.ds
    if ds is None:
        return
    aid, note = subject(ctx)
    if not ctx.options.agents:
        st.info("No agents in the data yet: the scorecard needs the agents table or assigned cases.")
        return
    _picker(ctx, aid)
    if note:
        st.info(md_escape(note), icon=":material/group:")
    if aid is None:
        st.info(
            "Pick an agent to see their scorecard, or open a link with ?agent=ID.",
            icon=":material/badge:",
        )
        return
    pass_mark = ctx.settings.qa_pass_mark
    try:
        card = _build(ctx.cache_key("scorecard", aid, pass_mark), ds, ctx.filter, aid, pass_mark)
    except sc.UnknownAgent:
        st.warning(md_escape(f"There is no agent “{aid}” in the data."), icon=":material/person_off:")
        return
    a = card.agent
    facts = [f"Team {a.team}" if a.team else "No team (not in the agents table)"]
    if a.hired_on:
        facts.append(f"hired {a.hired_on.day} {a.hired_on:%b %Y}")
    if not a.active:
        facts.append("left")
    st.markdown(f"### {md_escape(a.name)}")
    st.caption(md_escape(" · ".join([a.agent_id, *facts])) + " · " + uc.as_of_caption(ctx))
    for n in card.notes:
        st.info(md_escape(n), icon=":material/info:")
    _share(ctx, card)
    _tiles(card)
    _points(card)
    _trends(ctx, card)
    _quality(ctx, card)
    _queues(ctx, card)
    _cases(ctx, card)
    _definitions()
