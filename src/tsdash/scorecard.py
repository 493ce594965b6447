"""The agent scorecard for one-on-ones: pure data (no Streamlit, no Plotly).

:func:`build` collects, for one agent and the view's :class:`~tsdash.metrics.Filter`:

* **Tiles** (:data:`TILE_KEYS`): the agent's value of each metric in the period, the count behind
  it, the agent's own value in the previous period of equal length, and the **team median**.
* **Weekly trends** over the last :data:`TREND_WEEKS` weeks: the agent's weekly value of each tile
  metric against the team's **band** (25th to 75th percentile) and median of the same week.
* **Quality detail**: the agent's mean score per QA criterion against the team median, critical
  errors and the most recent reviews with their comments.
* **Queue mix**: the share of the agent's resolved cases per queue and their AHT per queue, beside
  the team's.
* **Cases**: recent escalations, the slowest and the breached cases.
* **Talking points**: plain-language observations from explicit rules (see below).

Every number is computed by the metrics engine (:mod:`tsdash.metrics`); this module only picks
rows, takes medians and quartiles *across agents* of engine values, and applies the rules.

Scope and comparisons
---------------------
The scorecard shows one agent and compares them with **their own team** (the agent's team in the
``agents`` table). The view's queue, priority, case type and channel filters apply to the agent
and to the team alike; the view's team and agent filters do not narrow the scorecard (the agent is
the subject, their team the comparison).

*Team median* of a metric: the median, over the team's **active** agents that have a value for
the metric in the period (for example at least one resolved case for AHT, one QA review for the QA
mean; for Resolved, at least one resolved case or shift), of each agent's value -- the agent
included when active. Linear interpolation between the two middle values. *Team band* of a week:
the 25th and 75th percentiles (linear interpolation) of the same agents' values that week; shown
only when at least :data:`MIN_TEAM_AGENTS` agents have a value. An agent who is not in the
``agents`` table has no team: no team comparison is shown.

Talking points (rules; thresholds are the constants below)
----------------------------------------------------------
1. ``team_gap`` -- a period tile far from the team median (needs :data:`MIN_TEAM_AGENTS` agents
   with a value): durations (AHT, first response) at least :data:`DURATION_GAP` (relative) above
   or below; shares (SLA attainment, QA pass rate, escalation rate, reopen rate) at least
   :data:`SHARE_GAP` (absolute) apart, or -- for rare events -- at least :data:`RARE_GAP` apart
   *and* at least :data:`RARE_RATIO` times (or at most 1 / :data:`RARE_RATIO` of) the team median;
   QA mean score at least :data:`SCORE_GAP` points apart. Resolved and utilization depend on
   shifts and assignment and are not judged.
2. ``criterion_gap`` -- a QA criterion's mean score at least :data:`CRITERION_GAP` points below
   the team median of that criterion (above is not reported: below is what a lead coaches).
3. ``change`` -- the agent's own change between the last :data:`RECENT_DAYS` days and the
   :data:`BASELINE_DAYS` days before them (both ending on the last day of the period, or the as-of
   day): QA mean by :data:`SCORE_GAP` points, a QA criterion by :data:`CRITERION_GAP` points, AHT by
   :data:`DURATION_GAP` (relative). Better and worse changes are both reported.
4. ``new_hire`` -- an agent hired at most :data:`NEW_HIRE_DAYS` days before the last day, with at
   least 2 x :data:`PROGRESS_DAYS` days since hire: AHT in the first :data:`PROGRESS_DAYS` days
   since hire against the last :data:`PROGRESS_DAYS` days, with the team median AHT of the last
   days. Always reported for a new hire with data (it is the topic of a new hire's one-on-one).
5. ``critical_errors`` -- at least :data:`CRITICAL_MIN` QA reviews with a critical error in the
   period.

Each point names its numbers and the sample behind them. A point resting on fewer than
:data:`MIN_POINTS` data points says so ("only 3 reviews -- too few to draw a conclusion"); fewer
than :data:`SMALL_SAMPLE` is marked "small sample". Points on the same topic are merged (a
criterion below the team that also dropped over the last weeks is one point; a new hire's progress
replaces their AHT change over time; mixed tones make the merged point "info"). At most
:data:`MAX_POINTS` points are kept: a new hire's progress first, then by strength (the gap divided
by its threshold, scaled down for small samples). When nothing passes a threshold there are none.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from tsdash.dataset import Dataset
from tsdash.metrics import DEFINITIONS, TABLES, MetricError, cases_behind, pin, weeks
from tsdash.metrics.filters import Filter
from tsdash.metrics.tables import DEFAULT_PASS_MARK
from tsdash.ui.fmt import fmt_duration, fmt_number, fmt_pct

# ------------------------------------------------------------------------------------------
# rules: thresholds
# ------------------------------------------------------------------------------------------

MIN_POINTS = 5  # fewer data points: the observation says it is too few to conclude
SMALL_SAMPLE = 20  # fewer: "small sample"
MIN_TEAM_AGENTS = 3  # agents with a value needed for a team median / band to be used
MAX_POINTS = 5
DURATION_GAP = 0.25  # relative difference of a duration (AHT, first response)
SHARE_GAP = 0.10  # absolute difference of a share (10 percentage points)
RARE_GAP = 0.03  # ... or at least 3 points and
RARE_RATIO = 2.0  # ... twice (or half) the team median
SCORE_GAP = 5.0  # QA mean score points
CRITERION_GAP = 10.0  # QA criterion score points
RECENT_DAYS = 28
BASELINE_DAYS = 56
NEW_HIRE_DAYS = 90
PROGRESS_DAYS = 14
CRITICAL_MIN = 2
SMALL_SAMPLE_FACTOR = 0.6  # strength multiplier below SMALL_SAMPLE
TINY_SAMPLE_FACTOR = 0.25  # strength multiplier below MIN_POINTS

TREND_WEEKS = 12
CASE_LIST_LIMIT = 10
RECENT_REVIEWS = 10

# ------------------------------------------------------------------------------------------
# tiles: metric keys and where their count comes from
# ------------------------------------------------------------------------------------------

TILE_KEYS: tuple[str, ...] = (
    "throughput",
    "aht",
    "first_response",
    "sla_attainment",
    "qa_mean",
    "qa_pass_rate",
    "escalation_rate",
    "reopen_rate",
    "utilization",
)
TILE_LABELS: dict[str, str] = {
    "throughput": "Resolved",
    "aht": "AHT",
    "first_response": "First response (median)",
    "sla_attainment": "SLA attainment",
    "qa_mean": "QA mean score",
    "qa_pass_rate": "QA pass rate",
    "escalation_rate": "Escalation rate",
    "reopen_rate": "Reopen rate",
    "utilization": "Utilization",
}
# the count behind a table's values (the sample size of a tile)
N_COLUMN: dict[str, str] = {
    "throughput": "resolved",
    "handle-time": "cases",
    "first-response": "cases",
    "sla": "resolved",
    "quality": "reviews",
    "escalations": "created",
    "reopens": "resolved",
}
N_WORDS: dict[str, tuple[str, str]] = {  # table -> (singular, plural) of its count
    "throughput": ("resolved case", "resolved cases"),
    "handle-time": ("case", "cases"),
    "first-response": ("first response", "first responses"),
    "sla": ("resolved case", "resolved cases"),
    "quality": ("review", "reviews"),
    "escalations": ("created case", "created cases"),
    "reopens": ("resolved case", "resolved cases"),
    "qa-criteria": ("review", "reviews"),
}
TALKING_KEYS: tuple[str, ...] = (
    "aht",
    "first_response",
    "sla_attainment",
    "qa_mean",
    "qa_pass_rate",
    "escalation_rate",
    "reopen_rate",
)


class UnknownAgent(MetricError):
    """The agent id is neither in the agents table nor assigned to any case."""


# ------------------------------------------------------------------------------------------
# formatting (shared by the page and the report so that both show the same text)
# ------------------------------------------------------------------------------------------


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v)))


def fmt_value(key: str, value: float | None) -> str:
    """A metric value as shown on a tile: '12.5 min', '87.3%', '84.2', '1,234'; '–' when missing.

    >>> fmt_value("aht", 750), fmt_value("sla_attainment", 0.8734), fmt_value("qa_mean", 84.25)
    ('12.5 min', '87.3%', '84.2')
    """
    if _missing(value):
        return "–"
    unit = DEFINITIONS[key].unit if key in DEFINITIONS else "score"
    if unit == "seconds":
        return fmt_duration(value)
    if unit in ("share", "ratio"):
        return fmt_pct(value)
    if unit == "score":
        return f"{float(value):.1f}"  # type: ignore[arg-type]
    return fmt_number(value)


def fmt_delta(key: str, value: float | None, other: float | None) -> str | None:
    """The difference value - other in the tile's units: '+1.2 min', '-3.4 pts', '+2'; None when
    either is missing. Shares and scores differ in points (pts)."""
    if _missing(value) or _missing(other):
        return None
    d = float(value) - float(other)  # type: ignore[arg-type]
    unit = DEFINITIONS[key].unit if key in DEFINITIONS else "score"
    sign = "+" if d >= 0 else "-"
    if unit == "seconds":
        return sign + fmt_duration(abs(d))
    if unit in ("share", "ratio"):
        return f"{sign}{abs(d) * 100:.1f} pts"
    if unit == "score":
        return f"{sign}{abs(d):.1f} pts"
    return f"{sign}{fmt_number(abs(d))}"


def _plural(n: int, words: tuple[str, str]) -> str:
    return f"{fmt_number(n)} {words[0] if n == 1 else words[1]}"


def sample_note(n: int, words: tuple[str, str] = ("data point", "data points")) -> str:
    """The caveat a talking point carries for its sample size ('' when large enough).

    >>> sample_note(3, ("review", "reviews")), sample_note(6), sample_note(40)
    (' — only 3 reviews, too few to draw a conclusion', ' — small sample', '')
    """
    if n < MIN_POINTS:
        return f" — only {_plural(n, words)}, too few to draw a conclusion"
    if n < SMALL_SAMPLE:
        return " — small sample"
    return ""


def _sample_factor(n: int) -> float:
    if n < MIN_POINTS:
        return TINY_SAMPLE_FACTOR
    if n < SMALL_SAMPLE:
        return SMALL_SAMPLE_FACTOR
    return 1.0


# ------------------------------------------------------------------------------------------
# data classes
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentInfo:
    agent_id: str
    name: str
    team: str | None  # None: not in the agents table (no team comparison)
    active: bool
    hired_on: dt.date | None
    in_roster: bool  # listed in the agents table

    @property
    def label(self) -> str:
        return f"{self.name} ({self.agent_id})" if self.name != self.agent_id else self.agent_id


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    unit: str
    direction: str
    value: float | None
    n: int  # the count behind the value (0 when there is none)
    previous: float | None
    previous_n: int
    team_median: float | None
    team_agents: int  # agents behind the team median

    @property
    def text(self) -> str:
        return fmt_value(self.key, self.value)

    @property
    def n_text(self) -> str:
        return _plural(self.n, N_WORDS.get(DEFINITIONS[self.key].table, ("data point", "data points")))

    @property
    def vs_previous(self) -> str | None:
        return fmt_delta(self.key, self.value, self.previous)

    @property
    def vs_team(self) -> str | None:
        return fmt_delta(self.key, self.value, self.team_median)


@dataclass(frozen=True)
class TalkingPoint:
    rule: str  # team_gap, criterion_gap, change, new_hire, critical_errors
    topic: str  # points on the same topic are merged
    tone: str  # concern, strength, info
    text: str  # the observation with its numbers, sample size and caveat
    evidence: str  # where the numbers come from (metric, window, counts)
    n: int  # the smallest sample behind it
    strength: float  # for ordering: gap / threshold, scaled down for small samples

    @property
    def small_sample(self) -> bool:
        return self.n < SMALL_SAMPLE


@dataclass
class Scorecard:
    agent: AgentInfo
    filter: Filter  # the period (pinned), scope: the agent
    team_filter: Filter | None
    trend_filter: Filter  # the 12 weeks of the trends
    tiles: dict[str, Tile]
    weekly: pl.DataFrame  # metric, week, value, n, team_p25, team_median, team_p75, team_agents, partial
    criteria: pl.DataFrame  # criterion, scores, mean_score, team_median, team_agents, gap, below
    critical: pl.DataFrame  # the period's reviews with a critical error
    reviews: pl.DataFrame  # the period's most recent reviews with their comments
    queue_mix: pl.DataFrame  # queue, resolved, share, team_resolved, team_share, cases, aht_s, team_aht_s
    escalations: pl.DataFrame
    slowest: pl.DataFrame
    breached: pl.DataFrame
    talking_points: list[TalkingPoint]
    has_qa: bool
    has_criteria: bool
    has_shifts: bool
    pass_mark: float = DEFAULT_PASS_MARK
    notes: list[str] = field(default_factory=list)

    @property
    def as_of(self) -> dt.datetime:
        return self.filter.resolved_as_of()

    def tables(self) -> dict[str, pl.DataFrame]:
        """The underlying tables by file name (the report's CSV bundle)."""
        tiles = pl.DataFrame(
            [
                {
                    "metric": t.key,
                    "label": t.label,
                    "unit": t.unit,
                    "value": t.value,
                    "n": t.n,
                    "previous": t.previous,
                    "previous_n": t.previous_n,
                    "team_median": t.team_median,
                    "team_agents": t.team_agents,
                }
                for t in self.tiles.values()
            ],
            schema={
                "metric": pl.String,
                "label": pl.String,
                "unit": pl.String,
                "value": pl.Float64,
                "n": pl.Int64,
                "previous": pl.Float64,
                "previous_n": pl.Int64,
                "team_median": pl.Float64,
                "team_agents": pl.Int64,
            },
        )
        points = pl.DataFrame(
            [
                {"rule": p.rule, "tone": p.tone, "text": p.text, "evidence": p.evidence, "n": p.n}
                for p in self.talking_points
            ],
            schema={
                "rule": pl.String,
                "tone": pl.String,
                "text": pl.String,
                "evidence": pl.String,
                "n": pl.Int64,
            },
        )
        return {
            "tiles": tiles,
            "weekly_trends": self.weekly,
            "qa_criteria": self.criteria,
            "qa_critical_errors": self.critical,
            "qa_recent_reviews": self.reviews,
            "queue_mix": self.queue_mix,
            "recent_escalations": self.escalations,
            "slowest_cases": self.slowest,
            "breached_cases": self.breached,
            "talking_points": points,
        }


# ------------------------------------------------------------------------------------------
# agents and filters
# ------------------------------------------------------------------------------------------


def agent_info(ds: Dataset, agent_id: str) -> AgentInfo:
    """The agent's name, team, status and hire date; :class:`UnknownAgent` when the id is neither
    in the agents table nor assigned to any case."""
    rows = ds.agents.filter(pl.col("agent_id") == agent_id)
    if rows.height:
        r = rows.row(0, named=True)
        active = r.get("active")
        return AgentInfo(
            agent_id,
            r.get("name") or agent_id,
            r.get("team"),
            True if active is None else bool(active),
            r.get("hired_on"),
            True,
        )
    if ds.cases.filter(pl.col("assigned_agent_id") == agent_id).height:
        return AgentInfo(agent_id, agent_id, None, True, None, False)
    raise UnknownAgent(f"unknown agent {agent_id!r}: not in the agents table and assigned no case")


def team_roster(ds: Dataset, team: str | None) -> list[str]:
    """Ids of the team's active agents (active true or not recorded)."""
    if team is None:
        return []
    return (
        ds.agents.filter((pl.col("team") == team) & pl.col("active").fill_null(True))
        .get_column("agent_id")
        .unique()
        .sort()
        .to_list()
    )


def agent_filter(f: Filter, agent_id: str) -> Filter:
    """The view narrowed to one agent (team and agent filters replaced)."""
    return f.with_(teams=(), agents=(agent_id,))


def team_filter(f: Filter, team: str) -> Filter:
    """The view narrowed to one team (team and agent filters replaced)."""
    return f.with_(teams=(team,), agents=())


def last_day(f: Filter) -> dt.date:
    """The last day of the period that has begun before as-of."""
    f = pin(f)
    as_of_day = (f.resolved_as_of() - dt.timedelta(microseconds=1)).astimezone(f.zone).date()
    return max(f.start, min(f.end, as_of_day))


def trend_window(f: Filter, n_weeks: int = TREND_WEEKS) -> Filter:
    """The last ``n_weeks`` weeks ending with the period's last day (whole weeks from Monday)."""
    end = last_day(f)
    monday = end - dt.timedelta(days=end.weekday())
    return f.with_(start=monday - dt.timedelta(weeks=n_weeks - 1), end=end)


# ------------------------------------------------------------------------------------------
# per-agent values from the engine
# ------------------------------------------------------------------------------------------


def _tables_for(keys: Sequence[str]) -> list[str]:
    out: list[str] = []
    for k in keys:
        t = DEFINITIONS[k].table
        if t not in out:
            out.append(t)
    return out


def per_agent(
    ds: Dataset, f: Filter, by: Sequence[str] = ("agent_id",), *, pass_mark: float = DEFAULT_PASS_MARK
) -> pl.DataFrame:
    """Every tile metric per ``by`` (which includes agent_id) as a long frame:
    ``*by, metric, value, n`` -- one row per group and metric that has a value, straight from the
    engine's tables (``DEFINITIONS[metric].table`` / ``.column``)."""
    by = tuple(by)
    parts = []
    for table in _tables_for(TILE_KEYS):
        df = TABLES[table].compute(ds, f, by, pass_mark=pass_mark)
        ncol = N_COLUMN[table]
        for key in TILE_KEYS:
            d = DEFINITIONS[key]
            if d.table != table:
                continue
            parts.append(
                df.select(
                    *by,
                    pl.lit(key).alias("metric"),
                    pl.col(d.column).cast(pl.Float64).alias("value"),
                    pl.col(ncol).cast(pl.Int64).alias("n"),
                ).filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
            )
    return pl.concat(parts) if parts else pl.DataFrame()


def _median(values: Sequence[float]) -> float | None:
    vals = [float(v) for v in values if not _missing(v)]
    if not vals:
        return None
    return float(pl.Series(vals).median())  # type: ignore[arg-type]


def team_stats(values: pl.DataFrame, roster: Sequence[str], keys: Sequence[str] = ()) -> pl.DataFrame:
    """Median and quartiles (linear interpolation) across the roster's agents, per ``keys`` and
    metric: ``*keys, metric, team_p25, team_median, team_p75, team_agents``."""
    g = [*keys, "metric"]
    return (
        values.filter(pl.col("agent_id").is_in(list(roster)))
        .group_by(g)
        .agg(
            pl.col("value").quantile(0.25, interpolation="linear").alias("team_p25"),
            pl.col("value").median().alias("team_median"),
            pl.col("value").quantile(0.75, interpolation="linear").alias("team_p75"),
            pl.len().cast(pl.Int64).alias("team_agents"),
        )
    )


# ------------------------------------------------------------------------------------------
# talking-point rules (pure: numbers in, a point or None out)
# ------------------------------------------------------------------------------------------


def _n_words(key: str) -> tuple[str, str]:
    return N_WORDS.get(DEFINITIONS[key].table, ("data point", "data points"))


def _judge(direction: str, diff: float) -> str:
    """tone of a difference value - reference under a metric's direction."""
    if direction == "neutral" or diff == 0:
        return "info"
    better = diff > 0 if direction == "higher_better" else diff < 0
    return "strength" if better else "concern"


EPS = 1e-9  # thresholds are inclusive; 0.8 - 0.9 is -0.09999999999999998 in floating point


def _reaches(x: float, threshold: float) -> bool:
    """abs(x) >= threshold, inclusive up to floating-point noise."""
    return abs(x) >= threshold - EPS


def gap(key: str, value: float, reference: float) -> tuple[float, str] | None:
    """Whether ``value`` stands out from ``reference`` under the rules for ``key``'s unit:
    (strength, wording of the difference) or None.

    >>> s, words = gap("aht", 1000.0, 750.0); round(s, 3), words
    (1.333, '33% above')
    >>> s, words = gap("sla_attainment", 0.70, 0.85); round(s, 3), words
    (1.5, '15.0 points below')
    >>> s, words = gap("escalation_rate", 0.12, 0.05); round(s, 3), words  # rare: 7 points, 2.4x
    (2.333, '7.0 points above')
    >>> gap("qa_mean", 82.0, 85.0) is None
    True
    """
    unit = DEFINITIONS[key].unit
    diff = value - reference
    where = "above" if diff > 0 else "below"
    if unit == "seconds":
        if reference <= 0:
            return None
        rel = diff / reference
        if not _reaches(rel, DURATION_GAP):
            return None
        return abs(rel) / DURATION_GAP, f"{abs(rel) * 100:.0f}% {where}"
    if unit == "share":
        words = f"{abs(diff) * 100:.1f} points {where}"
        if _reaches(diff, SHARE_GAP):
            return abs(diff) / SHARE_GAP, words
        if _reaches(diff, RARE_GAP) and reference > 0:
            ratio = value / reference
            if ratio >= RARE_RATIO - EPS or ratio <= 1 / RARE_RATIO + EPS:
                return abs(diff) / RARE_GAP, words
        return None
    if unit == "score":
        if not _reaches(diff, SCORE_GAP):
            return None
        return abs(diff) / SCORE_GAP, f"{abs(diff):.1f} points {where}"
    return None


def team_gap_point(
    key: str, value: float | None, n: int, team_median: float | None, team_agents: int
) -> TalkingPoint | None:
    """Rule 1: a period tile far from the team median.

    >>> p = team_gap_point("aht", 1000.0, 40, 750.0, 6)
    >>> p.text
    'AHT 16.7 min is 33% above the team median (12.5 min) over 40 cases.'
    """
    if _missing(value) or _missing(team_median) or team_agents < MIN_TEAM_AGENTS or n <= 0:
        return None
    g = gap(key, float(value), float(team_median))  # type: ignore[arg-type]
    if g is None:
        return None
    strength, words = g
    d = DEFINITIONS[key]
    label = TILE_LABELS.get(key, d.label)
    text = (
        f"{label} {fmt_value(key, value)} is {words} the team median ({fmt_value(key, team_median)}) "
        f"over {_plural(n, _n_words(key))}{sample_note(n, _n_words(key))}."
    )
    evidence = (
        f"{d.label} in the period: agent {fmt_value(key, value)} (n = {n}); team median of "
        f"{team_agents} agents {fmt_value(key, team_median)}"
    )
    return TalkingPoint(
        "team_gap",
        key,
        _judge(d.direction, float(value) - float(team_median)),
        text,
        evidence,
        n,  # type: ignore[arg-type]
        strength * _sample_factor(n),
    )


def criterion_label(criterion: str) -> str:
    return criterion.replace("_", " ")


def criterion_gap_point(
    criterion: str, value: float | None, n: int, team_median: float | None, team_agents: int
) -> TalkingPoint | None:
    """Rule 2: a QA criterion at least CRITERION_GAP points below the team median.

    >>> criterion_gap_point("documentation", 70.0, 6, 82.0, 5).text
    'QA documentation score 12.0 points below the team median (70.0 vs 82.0) over 6 reviews — small sample.'
    """
    if _missing(value) or _missing(team_median) or team_agents < MIN_TEAM_AGENTS or n <= 0:
        return None
    diff = float(value) - float(team_median)  # type: ignore[arg-type]
    if diff > 0 or not _reaches(diff, CRITERION_GAP):
        return None
    words = ("review", "reviews")
    text = (
        f"QA {criterion_label(criterion)} score {abs(diff):.1f} points below the team median "
        f"({float(value):.1f} vs {float(team_median):.1f}) over {_plural(n, words)}{sample_note(n, words)}."  # type: ignore[arg-type]
    )
    evidence = (
        f"QA criterion mean, {criterion_label(criterion)}, in the period: agent {float(value):.1f} "  # type: ignore[arg-type]
        f"(n = {n}); team median of {team_agents} agents {float(team_median):.1f}"  # type: ignore[arg-type]
    )
    return TalkingPoint(
        "criterion_gap",
        f"criterion:{criterion}",
        "concern",
        text,
        evidence,
        n,
        abs(diff) / CRITERION_GAP * _sample_factor(n),
    )


def change_point(
    topic: str,
    key: str,
    recent: float | None,
    n_recent: int,
    before: float | None,
    n_before: int,
    *,
    label: str | None = None,
    weeks: int = RECENT_DAYS // 7,
) -> TalkingPoint | None:
    """Rule 3: the agent's own change, last RECENT_DAYS days against the BASELINE_DAYS before.
    ``key`` gives the unit and direction (``qa_criterion_mean`` for a criterion).

    >>> change_point("criterion:documentation", "qa_criterion_mean", 62.0, 12, 86.0, 30,
    ...              label="QA documentation score").text
    'QA documentation score fell from 86.0 to 62.0 over the last 4 weeks (12 reviews; 30 in the 8 weeks before) — small sample.'
    """
    if _missing(recent) or _missing(before) or n_recent <= 0 or n_before <= 0:
        return None
    recent, before = float(recent), float(before)  # type: ignore[arg-type]
    d = DEFINITIONS[key]
    diff = recent - before
    if d.unit == "seconds":
        if before <= 0 or not _reaches(diff / before, DURATION_GAP):
            return None
        strength = abs(diff / before) / DURATION_GAP
    else:  # scores
        threshold = CRITERION_GAP if key == "qa_criterion_mean" else SCORE_GAP
        if not _reaches(diff, threshold):
            return None
        strength = abs(diff) / threshold
    n = min(n_recent, n_before)
    words = N_WORDS.get(d.table, ("data point", "data points"))
    verb = "rose" if diff > 0 else "fell"
    name = label or TILE_LABELS.get(key, d.label)
    fmt_key = "qa_mean" if d.unit == "score" else key
    base_weeks = BASELINE_DAYS // 7
    text = (
        f"{name} {verb} from {fmt_value(fmt_key, before)} to {fmt_value(fmt_key, recent)} over the last "
        f"{weeks} weeks ({_plural(n_recent, words)}; {fmt_number(n_before)} in the {base_weeks} weeks "
        f"before){sample_note(n, words)}."
    )
    evidence = (
        f"{d.label}, agent: last {RECENT_DAYS} days {fmt_value(fmt_key, recent)} (n = {n_recent}), "
        f"the {BASELINE_DAYS} days before {fmt_value(fmt_key, before)} (n = {n_before})"
    )
    return TalkingPoint(
        "change", topic, _judge(d.direction, diff), text, evidence, n, strength * _sample_factor(n)
    )


def new_hire_point(
    hired_on: dt.date,
    first_aht: float | None,
    first_n: int,
    last_aht: float | None,
    last_n: int,
    team_aht: float | None,
    team_agents: int,
) -> TalkingPoint | None:
    """Rule 4: a new hire's progress -- AHT in the first PROGRESS_DAYS days since hire against the
    last PROGRESS_DAYS days (always reported when both have cases).

    >>> new_hire_point(dt.date(2026, 10, 5), 1200.0, 100, 720.0, 180, 600.0, 5).text
    'New hire (started 5 Oct 2026): AHT down from 20.0 min in their first 2 weeks to 12.0 min in the last 2 weeks (100 and 180 cases); team median 10.0 min.'
    """
    if _missing(first_aht) or _missing(last_aht) or first_n <= 0 or last_n <= 0:
        return None
    first_aht, last_aht = float(first_aht), float(last_aht)  # type: ignore[arg-type]
    n = min(first_n, last_n)
    rel = (last_aht - first_aht) / first_aht if first_aht > 0 else 0.0
    if rel <= -0.05:
        move, tone = "down", "strength"
    elif rel >= 0.05:
        move, tone = "up", "concern"
    else:
        move, tone = "about level", "info"
    w = PROGRESS_DAYS // 7
    team = ""
    if not _missing(team_aht) and team_agents >= MIN_TEAM_AGENTS:
        team = f"; team median {fmt_duration(team_aht)}"
    started = f"{hired_on.day} {hired_on:%b %Y}"
    if move == "about level":
        body = f"AHT about level: {fmt_duration(first_aht)} in their first {w} weeks, {fmt_duration(last_aht)} in the last {w} weeks"
    else:
        body = f"AHT {move} from {fmt_duration(first_aht)} in their first {w} weeks to {fmt_duration(last_aht)} in the last {w} weeks"
    text = (
        f"New hire (started {started}): {body} ({fmt_number(first_n)} and {fmt_number(last_n)} cases){team}"
        f"{sample_note(n, ('case', 'cases'))}."
    )
    evidence = (
        f"Average handle time, agent: first {PROGRESS_DAYS} days since hire {fmt_duration(first_aht)} "
        f"(n = {first_n}), last {PROGRESS_DAYS} days {fmt_duration(last_aht)} (n = {last_n})"
    )
    return TalkingPoint("new_hire", "aht", tone, text, evidence, n, math.inf)


def critical_errors_point(errors: int, reviews: int, case_ids: Sequence[str] = ()) -> TalkingPoint | None:
    """Rule 5: at least CRITICAL_MIN reviews with a critical error in the period.

    >>> critical_errors_point(3, 18, ["C1", "C2", "C3"]).text
    '3 QA reviews with a critical error out of 18 reviews in the period (cases C1, C2, C3) — small sample.'
    """
    if errors < CRITICAL_MIN or reviews <= 0:
        return None
    shown = list(case_ids)[:5]
    more = f" and {len(case_ids) - 5} more" if len(case_ids) > 5 else ""
    cases = f" (cases {', '.join(shown)}{more})" if shown else ""
    words = ("review", "reviews")
    text = (
        f"{errors} QA reviews with a critical error out of {_plural(reviews, words)} in the period"
        f"{cases}{sample_note(reviews, words)}."
    )
    evidence = f"QA critical errors in the period: {errors} of {reviews} reviews"
    return TalkingPoint(
        "critical_errors",
        "critical_errors",
        "concern",
        text,
        evidence,
        reviews,
        errors / CRITICAL_MIN * _sample_factor(reviews),
    )


def comparison_rules() -> list[str]:
    """How the scorecard compares (plain sentences for the page and the report)."""
    return [
        "The scorecard shows one agent and compares them with their own team. The view's queue, priority, "
        "case type and channel filters apply to the agent and the team alike; its team and agent filters "
        "choose the agent but do not narrow the comparison.",
        "Team median: the median, over the team's active agents that have a value for the metric in the "
        "period, of each agent's value (the agent included when active); shown when at least "
        f"{MIN_TEAM_AGENTS} agents have a value.",
        "Team band (weekly trends): the 25th to 75th percentile of the same agents' values that week "
        f"(linear interpolation), over the last {TREND_WEEKS} weeks; shown when at least {MIN_TEAM_AGENTS} "
        "agents have a value.",
        "Previous period: the agent's value over the period of equal length just before.",
        "Queue mix: the agent's resolved cases per queue and their AHT there, beside all the team's cases "
        "in the same queues.",
    ]


def talking_point_rules() -> list[str]:
    """The talking-point rules with their thresholds, in words."""
    return [
        f"Compared with the team median: AHT or first response at least {DURATION_GAP:.0%} above or below; "
        f"SLA attainment, QA pass rate, escalation or reopen rate at least {SHARE_GAP * 100:.0f} points "
        f"apart (or, for rare events, at least {RARE_GAP * 100:.0f} points and {RARE_RATIO:g} times or "
        f"half the team's); QA mean score at least {SCORE_GAP:g} points apart. Needs {MIN_TEAM_AGENTS} "
        "agents with a value. Resolved and utilization are not judged (they depend on shifts).",
        f"A QA criterion at least {CRITERION_GAP:g} points below the team median of that criterion.",
        f"The agent's own change between the last {RECENT_DAYS // 7} weeks and the {BASELINE_DAYS // 7} "
        f"weeks before: QA mean by {SCORE_GAP:g} points, a QA criterion by {CRITERION_GAP:g} points, AHT "
        f"by {DURATION_GAP:.0%}.",
        f"New hires (hired at most {NEW_HIRE_DAYS} days ago): AHT in their first {PROGRESS_DAYS // 7} "
        f"weeks against the last {PROGRESS_DAYS // 7} weeks, always shown.",
        f"At least {CRITICAL_MIN} QA reviews with a critical error in the period.",
        f"Each point names its sample. Fewer than {MIN_POINTS} data points: it says it is too few to draw "
        f'a conclusion; fewer than {SMALL_SAMPLE}: "small sample". At most {MAX_POINTS} points, a new '
        "hire's progress first, then the largest gaps (relative to their threshold, smaller for small "
        "samples); none when nothing passes a threshold.",
    ]


def select_points(points: Sequence[TalkingPoint | None], limit: int = MAX_POINTS) -> list[TalkingPoint]:
    """Merge points on the same topic (texts joined, strongest first; tone "info" when they
    disagree; a new hire's progress replaces the AHT change over time), then keep a new hire's
    progress first and the others by strength, at most ``limit``."""
    by_topic: dict[str, list[TalkingPoint]] = {}
    for p in points:
        if p is not None:
            by_topic.setdefault(p.topic, []).append(p)
    merged = []
    for topic, ps in by_topic.items():
        ps = sorted(ps, key=lambda p: -p.strength)
        if ps[0].rule == "new_hire":  # the hire's progress already tells the change over time
            ps = [p for p in ps if p.rule != "change"]
        if len(ps) == 1:
            merged.append(ps[0])
            continue
        tones = {p.tone for p in ps}
        merged.append(
            TalkingPoint(
                "+".join(p.rule for p in ps),
                topic,
                ps[0].tone if len(tones) == 1 else "info",
                " ".join(p.text for p in ps),
                "; ".join(p.evidence for p in ps),
                min(p.n for p in ps),
                ps[0].strength,
            )
        )
    merged.sort(key=lambda p: (-p.strength, p.topic))
    return merged[:limit]


# ------------------------------------------------------------------------------------------
# building the scorecard
# ------------------------------------------------------------------------------------------


def _value(values: pl.DataFrame, agent_id: str, key: str) -> tuple[float | None, int]:
    if values.is_empty():
        return None, 0
    row = values.filter((pl.col("agent_id") == agent_id) & (pl.col("metric") == key))
    if row.is_empty():
        return None, 0
    return row["value"][0], int(row["n"][0])


def _tiles(
    agent: AgentInfo, cur: pl.DataFrame, prev: pl.DataFrame, team: pl.DataFrame, has_shifts: bool
) -> dict[str, Tile]:
    out = {}
    for key in TILE_KEYS:
        d = DEFINITIONS[key]
        value, n = _value(cur, agent.agent_id, key)
        p, pn = _value(prev, agent.agent_id, key)
        if key == "throughput":  # a count: none resolved is 0, not missing
            value = 0.0 if value is None else value
            p = 0.0 if p is None else p
        if key == "utilization" and not has_shifts:
            value = p = None
        row = team.filter(pl.col("metric") == key) if not team.is_empty() else team
        tm, ta = (row["team_median"][0], int(row["team_agents"][0])) if row.height else (None, 0)
        if key == "utilization" and not has_shifts:
            tm, ta = None, 0
        out[key] = Tile(key, TILE_LABELS[key], d.unit, d.direction, value, n, p, pn, tm, ta)
    return out


def _weekly(values: pl.DataFrame, agent_id: str, roster: Sequence[str], tf: Filter) -> pl.DataFrame:
    schema = {
        "metric": pl.String,
        "week": pl.Date,
        "value": pl.Float64,
        "n": pl.Int64,
        "team_p25": pl.Float64,
        "team_median": pl.Float64,
        "team_p75": pl.Float64,
        "team_agents": pl.Int64,
        "partial": pl.Boolean,
    }
    wk = weeks(tf).select("week", "partial")
    grid = pl.DataFrame({"metric": list(TILE_KEYS)}).join(wk, how="cross")
    if values.is_empty():
        return grid.with_columns(
            *(pl.lit(None, dtype=t).alias(c) for c, t in schema.items() if c not in grid.columns)
        ).select(list(schema))
    mine = values.filter(pl.col("agent_id") == agent_id).select("metric", "week", "value", "n")
    team = team_stats(values, roster, ("week",)).with_columns(
        pl.when(pl.col("team_agents") >= MIN_TEAM_AGENTS).then(pl.col("team_p25")).alias("team_p25"),
        pl.when(pl.col("team_agents") >= MIN_TEAM_AGENTS).then(pl.col("team_p75")).alias("team_p75"),
    )
    out = (
        grid.join(mine, on=["metric", "week"], how="left")
        .join(team, on=["metric", "week"], how="left")
        .with_columns(pl.col("team_agents").fill_null(0))
    )
    order = {k: i for i, k in enumerate(TILE_KEYS)}
    return (
        out.with_columns(pl.col("metric").replace_strict(order, return_dtype=pl.Int64).alias("_o"))
        .sort("_o", "week")
        .select([pl.col(c).cast(t) for c, t in schema.items()])
    )


def _criteria(ds: Dataset, scope: Filter, agent_id: str, roster: Sequence[str]) -> pl.DataFrame:
    schema = {
        "criterion": pl.String,
        "scores": pl.Int64,
        "mean_score": pl.Float64,
        "team_median": pl.Float64,
        "team_agents": pl.Int64,
        "gap": pl.Float64,
        "below": pl.Boolean,
    }
    df = TABLES["qa-criteria"].compute(ds, scope, ("criterion", "agent_id"))
    if df.is_empty():
        return pl.DataFrame(schema=schema)
    mine = df.filter(pl.col("agent_id") == agent_id).select("criterion", "scores", "mean_score")
    team = (
        df.filter(pl.col("agent_id").is_in(list(roster)))
        .group_by("criterion")
        .agg(pl.col("mean_score").median().alias("team_median"), pl.len().cast(pl.Int64).alias("team_agents"))
        .with_columns(
            pl.when(pl.col("team_agents") >= MIN_TEAM_AGENTS).then(pl.col("team_median")).alias("team_median")
        )
    )
    out = mine.join(team, on="criterion", how="left").with_columns(
        pl.col("team_agents").fill_null(0),
        (pl.col("mean_score") - pl.col("team_median")).alias("gap"),
    )
    return (
        out.with_columns((pl.col("gap") < 0).fill_null(False).alias("below"))
        .sort("gap", "criterion", nulls_last=True)
        .select([pl.col(c).cast(t) for c, t in schema.items()])
    )


CASE_COLUMNS = ("case_id", "queue", "priority", "case_type", "created_at", "resolved_at", "handle_seconds")


def _cases(df: pl.DataFrame, cols: Sequence[str], sort: str, limit: int = CASE_LIST_LIMIT) -> pl.DataFrame:
    keep = [c for c in cols if c in df.columns]
    return df.sort(sort, descending=True, nulls_last=True).head(limit).select(keep)


def _breached(ds: Dataset, af: Filter, as_of: dt.datetime) -> pl.DataFrame:
    late = cases_behind(ds, af, "sla", "breached").with_columns(pl.lit("resolved late").alias("state"))
    open_ = cases_behind(ds, af, "workload", "breached").with_columns(pl.lit("open, past due").alias("state"))
    cols = ["case_id", "state", "queue", "priority", "created_at", "due_at", "resolved_at"]
    both = pl.concat([late.select(cols), open_.select(cols)], how="vertical_relaxed")
    return both.sort("due_at", descending=True, nulls_last=True).head(2 * CASE_LIST_LIMIT)


def _one(df: pl.DataFrame, col: str, n_col: str) -> tuple[float | None, int]:
    if df.is_empty():
        return None, 0
    return df[col][0], int(df[n_col][0])


def build(
    ds: Dataset,
    f: Filter,
    agent_id: str,
    *,
    pass_mark: float = DEFAULT_PASS_MARK,
    trend_weeks: int = TREND_WEEKS,
) -> Scorecard:
    """The scorecard of ``agent_id`` for the period of ``f`` (see the module docstring)."""
    f = pin(f)
    agent = agent_info(ds, agent_id)
    af = agent_filter(f, agent_id)
    tf_scope = team_filter(f, agent.team) if agent.team is not None else None
    scope = tf_scope or af
    roster = team_roster(ds, agent.team)
    has_shifts = ds.has("shifts") and ds.shifts.height > 0
    notes: list[str] = []

    cur = per_agent(ds, scope, pass_mark=pass_mark)
    prev = per_agent(ds, af.previous(), pass_mark=pass_mark)
    team = team_stats(cur, roster) if roster else pl.DataFrame()
    if not team.is_empty():
        team = team.with_columns(
            pl.when(pl.col("team_agents") >= MIN_TEAM_AGENTS).then(pl.col("team_median")).alias("team_median")
        )
    tiles = _tiles(agent, cur, prev, team, has_shifts)

    trend_f = trend_window(f, trend_weeks)
    trend_scope = (
        team_filter(trend_f, agent.team) if agent.team is not None else agent_filter(trend_f, agent_id)
    )
    weekly = _weekly(
        per_agent(ds, trend_scope, ("agent_id", "week"), pass_mark=pass_mark), agent_id, roster, trend_f
    )

    has_qa = ds.has("qa_reviews")
    has_criteria = ds.has("qa_criteria")
    criteria = _criteria(ds, scope, agent_id, roster)
    reviews_all = cases_behind(ds, af, "quality", pass_mark=pass_mark)
    review_cols = ["review_id", "case_id", "reviewed_at", "score", "critical_error", "comment", "queue"]
    critical = _cases(
        reviews_all.filter(pl.col("critical_error").fill_null(False)), review_cols, "reviewed_at", 50
    )
    reviews = _cases(reviews_all, review_cols, "reviewed_at", RECENT_REVIEWS)

    queue_mix = _queue_mix(ds, af, tf_scope)
    esc = cases_behind(ds, af, "escalations", "escalated")
    escalations = _cases(
        esc,
        [
            "case_id",
            "queue",
            "priority",
            "created_at",
            "escalated_at",
            "escalation_reason",
            "escalation_resolved_at",
        ],
        "escalated_at",
    )
    slowest = _cases(cases_behind(ds, af, "handle-time"), CASE_COLUMNS, "handle_seconds")
    breached = _breached(ds, af, f.resolved_as_of())

    if agent.team is None:
        notes.append(f"{agent.agent_id} is not in the agents table: no team to compare with.")
    elif len(roster) < MIN_TEAM_AGENTS:
        notes.append(
            f"The team {agent.team} has {len(roster)} active agent(s): team medians need at least "
            f"{MIN_TEAM_AGENTS}."
        )
    if not agent.active:
        notes.append(
            f"{agent.name} is no longer active (left the team); numbers cover the cases they handled."
        )

    points = talking_points(ds, f, agent, tiles, criteria, reviews_all, roster, pass_mark=pass_mark)
    return Scorecard(
        agent=agent,
        filter=af,
        team_filter=tf_scope,
        trend_filter=trend_f,
        tiles=tiles,
        weekly=weekly,
        criteria=criteria,
        critical=critical,
        reviews=reviews,
        queue_mix=queue_mix,
        escalations=escalations,
        slowest=slowest,
        breached=breached,
        talking_points=points,
        has_qa=has_qa,
        has_criteria=has_criteria,
        has_shifts=has_shifts,
        pass_mark=pass_mark,
        notes=notes,
    )


def _queue_mix(ds: Dataset, af: Filter, tf: Filter | None) -> pl.DataFrame:
    schema = {
        "queue": pl.String,
        "resolved": pl.Int64,
        "share": pl.Float64,
        "team_resolved": pl.Int64,
        "team_share": pl.Float64,
        "cases": pl.Int64,
        "aht_s": pl.Float64,
        "team_cases": pl.Int64,
        "team_aht_s": pl.Float64,
    }
    mine = TABLES["sla"].compute(ds, af, ("queue",)).select("queue", "resolved")
    if mine.is_empty():
        return pl.DataFrame(schema=schema)
    mine = mine.with_columns((pl.col("resolved") / pl.col("resolved").sum()).alias("share"))
    aht = (
        TABLES["handle-time"].compute(ds, af, ("queue",), values=("aht_s",)).select("queue", "cases", "aht_s")
    )
    out = mine.join(aht, on="queue", how="left")
    if tf is not None:
        team = (
            TABLES["sla"]
            .compute(ds, tf, ("queue",))
            .select("queue", pl.col("resolved").alias("team_resolved"))
        )
        team = team.with_columns(
            (pl.col("team_resolved") / pl.col("team_resolved").sum()).alias("team_share")
        )
        team_aht = (
            TABLES["handle-time"]
            .compute(ds, tf, ("queue",), values=("aht_s",))
            .select("queue", pl.col("cases").alias("team_cases"), pl.col("aht_s").alias("team_aht_s"))
        )
        out = out.join(team, on="queue", how="left").join(team_aht, on="queue", how="left")
    else:
        out = out.with_columns(
            pl.lit(None, dtype=pl.Int64).alias("team_resolved"),
            pl.lit(None, dtype=pl.Float64).alias("team_share"),
            pl.lit(None, dtype=pl.Int64).alias("team_cases"),
            pl.lit(None, dtype=pl.Float64).alias("team_aht_s"),
        )
    return out.sort("resolved", "queue", descending=[True, False]).select(
        [pl.col(c).cast(t) for c, t in schema.items()]
    )


def talking_points(
    ds: Dataset,
    f: Filter,
    agent: AgentInfo,
    tiles: dict[str, Tile],
    criteria: pl.DataFrame,
    reviews: pl.DataFrame,
    roster: Sequence[str],
    *,
    pass_mark: float = DEFAULT_PASS_MARK,
) -> list[TalkingPoint]:
    """Apply the rules (module docstring) to the agent's numbers; the engine computes every
    number the rules read."""
    f = pin(f)
    aid = agent.agent_id
    points: list[TalkingPoint | None] = []
    # 1. tiles vs team median
    for key in TALKING_KEYS:
        t = tiles[key]
        points.append(team_gap_point(key, t.value, t.n, t.team_median, t.team_agents))
    # 2. criteria below the team
    for row in criteria.iter_rows(named=True):
        points.append(
            criterion_gap_point(
                row["criterion"], row["mean_score"], row["scores"], row["team_median"], row["team_agents"]
            )
        )
    # 3. change over the last weeks against the weeks before
    end = last_day(f)
    recent = agent_filter(f, aid).with_(start=end - dt.timedelta(days=RECENT_DAYS - 1), end=end)
    base_end = recent.start - dt.timedelta(days=1)
    before = recent.with_(start=base_end - dt.timedelta(days=BASELINE_DAYS - 1), end=base_end)
    q_r = TABLES["quality"].compute(ds, recent, (), pass_mark=pass_mark)
    q_b = TABLES["quality"].compute(ds, before, (), pass_mark=pass_mark)
    points.append(
        change_point(
            "qa_mean", "qa_mean", *_one(q_r, "mean_score", "reviews"), *_one(q_b, "mean_score", "reviews")
        )
    )
    h_r = TABLES["handle-time"].compute(ds, recent, ())
    h_b = TABLES["handle-time"].compute(ds, before, ())
    points.append(change_point("aht", "aht", *_one(h_r, "aht_s", "cases"), *_one(h_b, "aht_s", "cases")))
    c_r = TABLES["qa-criteria"].compute(ds, recent, ("criterion",))
    c_b = TABLES["qa-criteria"].compute(ds, before, ("criterion",))
    if not c_r.is_empty() and not c_b.is_empty():
        both = c_r.join(c_b, on="criterion", suffix="_before")
        for row in both.sort("criterion").iter_rows(named=True):
            points.append(
                change_point(
                    f"criterion:{row['criterion']}",
                    "qa_criterion_mean",
                    row["mean_score"],
                    row["scores"],
                    row["mean_score_before"],
                    row["scores_before"],
                    label=f"QA {criterion_label(row['criterion'])} score",
                )
            )
    # 4. new hire progress
    points.append(_new_hire(ds, f, agent, end, roster))
    # 5. critical errors in the period
    crit = reviews.filter(pl.col("critical_error").fill_null(False)) if not reviews.is_empty() else reviews
    points.append(
        critical_errors_point(crit.height, reviews.height, crit["case_id"].to_list() if crit.height else [])
    )
    return select_points(points)


def _new_hire(
    ds: Dataset, f: Filter, agent: AgentInfo, end: dt.date, roster: Sequence[str]
) -> TalkingPoint | None:
    h = agent.hired_on
    if h is None or (end - h).days > NEW_HIRE_DAYS or (end - h).days + 1 < 2 * PROGRESS_DAYS:
        return None
    af = agent_filter(f, agent.agent_id)
    first = af.with_(start=h, end=h + dt.timedelta(days=PROGRESS_DAYS - 1))
    last = af.with_(start=end - dt.timedelta(days=PROGRESS_DAYS - 1), end=end)
    fa, fn = _one(TABLES["handle-time"].compute(ds, first, ()), "aht_s", "cases")
    la, ln = _one(TABLES["handle-time"].compute(ds, last, ()), "aht_s", "cases")
    team_aht, team_n = None, 0
    if agent.team is not None and roster:
        tv = TABLES["handle-time"].compute(ds, team_filter(last, agent.team), ("agent_id",))
        tv = tv.filter(pl.col("agent_id").is_in(list(roster)))
        team_n = tv.height
        team_aht = _median(tv["aht_s"].to_list()) if team_n else None
    return new_hire_point(h, fa, fn, la, ln, team_aht, team_n)
