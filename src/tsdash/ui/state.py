"""The dashboard's view state (period, time zone, as-of, dimension filters) and its URL form.

Pure: no Streamlit here, so that every rule can be unit-tested. The frame (:mod:`tsdash.ui.frame`)
keeps one :class:`ViewState` in the session, seeds it from the URL once per session with
:func:`parse_query`, checks it against the data's values with :func:`check_dimensions` on every
run, and writes :meth:`ViewState.to_query` back to the URL.

URL keys (all optional)::

    preset    today | last_7 | last_28 | last_90 | this_week | last_week | custom
    from, to  YYYY-MM-DD, inclusive (the custom range; implies preset=custom)
    tz        IANA time zone the dates and times are read in
    asof      frozen as-of time, ISO 8601 (e.g. 2026-03-02T14:05:00Z); absent = live
    team, queue, priority, case_type, channel, agent   repeated, one value each (agent = agent id)

Rolling presets are computed from the as-of day: ``last_7`` is the 7 days ending on the as-of
day (today included), ``this_week`` runs from Monday to the as-of day, ``last_week`` is the
previous Monday..Sunday. A frozen link (``asof``) therefore shows the same window forever.

Every value is validated; a bad one is dropped (or replaced by the default) and reported as a
:class:`Notice`, never raised:

>>> import datetime as dt
>>> now = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
>>> s, notes = parse_query({"from": "2026-03-09", "to": "2026-03-01", "agent": ["a1"]}, default_tz="UTC", now=now)
>>> s.preset, s.agents, [n.key for n in notes]
('last_7', ('a1',), ['from'])
>>> s.window(now)
(datetime.date(2026, 2, 26), datetime.date(2026, 3, 4))
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from tsdash.metrics.filters import Filter

UTC = dt.UTC

PRESETS: dict[str, str] = {
    "today": "Today",
    "last_7": "Last 7 days",
    "last_28": "Last 28 days",
    "last_90": "Last 90 days",
    "this_week": "This week",
    "last_week": "Last week",
    "custom": "Custom range",
}
DEFAULT_PRESET = "last_7"

# URL key -> ViewState / Filter field
DIMENSION_KEYS: dict[str, str] = {
    "team": "teams",
    "queue": "queues",
    "priority": "priorities",
    "case_type": "case_types",
    "channel": "channels",
    "agent": "agents",
}
DIMENSION_LABELS: dict[str, str] = {
    "team": "team",
    "queue": "queue",
    "priority": "priority",
    "case_type": "case type",
    "channel": "channel",
    "agent": "agent",
}
FILTER_KEYS: tuple[str, ...] = ("preset", "from", "to", "tz", "asof", *DIMENSION_KEYS)

MIN_DATE = dt.date(1970, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)
MAX_RANGE_DAYS = 1100  # about three years; longer custom ranges are shortened (notice)
MAX_VALUE_CHARS = 200  # longer URL values are not ids; dropped
MAX_VALUES_PER_KEY = 500
FUTURE_SLACK = dt.timedelta(minutes=5)  # a frozen as-of may be this far ahead of the clock

COMMON_TIMEZONES: tuple[str, ...] = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Warsaw",
    "Europe/Istanbul",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
)


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def is_timezone(name: str) -> bool:
    """True for an IANA zone name tsdash can use (no file paths, no abbreviations)."""
    return name in _known_zones()


def timezone_choices(*extra: str) -> list[str]:
    """The short list of common zones plus ``extra`` (the configured and the current one)."""
    out = list(COMMON_TIMEZONES)
    for z in extra:
        if z and z not in out and is_timezone(z):
            out.append(z)
    return out


@dataclass(frozen=True)
class Notice:
    """A URL value that was dropped or replaced; ``message`` is plain text (escape it to render)."""

    key: str
    value: str
    message: str


def _short(value: str, limit: int = 60) -> str:
    value = value.replace("\n", " ").replace("\r", " ")
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass(frozen=True)
class ViewState:
    """What the lead is looking at. ``start``/``end`` are used only when ``preset == "custom"``."""

    preset: str = DEFAULT_PRESET
    start: dt.date | None = None
    end: dt.date | None = None
    tz: str = "UTC"
    as_of: dt.datetime | None = None  # frozen as-of, aware UTC, whole seconds; None = live
    teams: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    case_types: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}")
        if self.preset == "custom" and (self.start is None or self.end is None or self.end < self.start):
            raise ValueError("a custom range needs start <= end")
        if not is_timezone(self.tz):
            raise ValueError(f"unknown time zone {self.tz!r}")
        if self.as_of is not None:
            if self.as_of.tzinfo is None:
                raise ValueError("as_of must be time-zone aware")
            object.__setattr__(self, "as_of", self.as_of.astimezone(UTC).replace(microsecond=0))
        if self.preset != "custom":
            object.__setattr__(self, "start", None)
            object.__setattr__(self, "end", None)
        for name in DIMENSION_KEYS.values():
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))

    # ------------------------------------------------------------------ time
    @property
    def frozen(self) -> bool:
        return self.as_of is not None

    def resolved_as_of(self, now: dt.datetime) -> dt.datetime:
        """The as-of time in UTC: the frozen one, else ``now``."""
        return self.as_of if self.as_of is not None else now.astimezone(UTC)

    def reference_day(self, now: dt.datetime) -> dt.date:
        """The as-of day in the display zone: rolling presets end on it."""
        return self.resolved_as_of(now).astimezone(zoneinfo.ZoneInfo(self.tz)).date()

    def window(self, now: dt.datetime) -> tuple[dt.date, dt.date]:
        """(first, last) day of the period, inclusive."""
        if self.preset == "custom":
            assert self.start is not None and self.end is not None
            return self.start, self.end
        return preset_window(self.preset, self.reference_day(now))

    def to_filter(self, now: dt.datetime) -> Filter:
        """The metrics :class:`Filter` for this view, with the as-of pinned (frozen or ``now``)."""
        start, end = self.window(now)
        return Filter(
            start,
            end,
            tz=self.tz,
            as_of=self.resolved_as_of(now),
            **{name: getattr(self, name) for name in DIMENSION_KEYS.values()},
        )

    # ------------------------------------------------------------------ url
    def to_query(self) -> dict[str, str | list[str]]:
        """The URL form; :func:`parse_query` reads it back to an equal state."""
        q: dict[str, str | list[str]] = {"preset": self.preset}
        if self.preset == "custom":
            assert self.start is not None and self.end is not None
            q["from"] = self.start.isoformat()
            q["to"] = self.end.isoformat()
        q["tz"] = self.tz
        if self.as_of is not None:
            q["asof"] = format_asof(self.as_of)
        for key, name in DIMENSION_KEYS.items():
            values = getattr(self, name)
            if values:
                q[key] = list(values)
        return q

    def dimensions(self) -> dict[str, tuple[str, ...]]:
        """URL key -> selected values."""
        return {key: getattr(self, name) for key, name in DIMENSION_KEYS.items()}

    def with_dimension(self, key: str, values: Iterable[str]) -> ViewState:
        return replace(self, **{DIMENSION_KEYS[key]: tuple(values)})

    def has_dimension_filters(self) -> bool:
        return any(self.dimensions().values())


def default_state(tz: str = "UTC") -> ViewState:
    return ViewState(tz=tz if is_timezone(tz) else "UTC")


def preset_window(preset: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The inclusive window of a rolling preset ending on / containing ``day``.

    >>> preset_window("last_week", dt.date(2026, 3, 4))  # a Wednesday
    (datetime.date(2026, 2, 23), datetime.date(2026, 3, 1))
    """
    d = dt.timedelta
    monday = day - d(days=day.weekday())
    match preset:
        case "today":
            return day, day
        case "last_7":
            return day - d(days=6), day
        case "last_28":
            return day - d(days=27), day
        case "last_90":
            return day - d(days=89), day
        case "this_week":
            return monday, day
        case "last_week":
            return monday - d(days=7), monday - d(days=1)
    raise ValueError(f"not a rolling preset: {preset!r}")


def format_asof(t: dt.datetime) -> str:
    """The URL form of a frozen as-of: UTC, whole seconds, ``Z``.

    >>> format_asof(dt.datetime(2026, 3, 2, 14, 5, 9, 123, tzinfo=UTC))
    '2026-03-02T14:05:09Z'
    """
    return t.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def parse_date(text: str) -> dt.date | None:
    """A strict ``YYYY-MM-DD`` within [1970, 2199], else None."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        d = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return d if MIN_DATE <= d <= MAX_DATE else None


def parse_asof(text: str) -> dt.datetime | None:
    """An ISO 8601 date-time; naive means UTC. None when malformed or out of range."""
    if not text or len(text) > 40:
        return None
    try:
        t = dt.datetime.fromisoformat(text.replace(" ", "+") if "T" in text and " " in text else text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    try:
        t = t.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if not (MIN_DATE <= t.date() <= MAX_DATE):
        return None
    return t.replace(microsecond=0)


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    """The values the data offers for each dimension (what the multi-selects list)."""

    teams: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    case_types: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    agents: dict[str, str] = field(default_factory=dict)  # id -> display label (unique)

    def values(self, key: str) -> tuple[str, ...]:
        """Allowed values for a URL dimension key."""
        if key == "agent":
            return tuple(self.agents)
        return getattr(self, DIMENSION_KEYS[key])

    def label(self, key: str, value: str) -> str:
        if key == "agent":
            return self.agents.get(value, value)
        return value


PRIORITY_ORDER = ("urgent", "high", "normal", "low")


def _distinct(frame: pl.DataFrame, column: str) -> list[str]:
    if column not in frame.columns or frame.height == 0:
        return []
    s = frame.get_column(column).drop_nulls().unique()
    return [str(v) for v in s.to_list() if str(v) != ""]


def options_from_dataset(ds) -> Options:  # ds: tsdash.dataset.Dataset
    """Dimension values present in the data.

    Teams come from the agents table, agents are listed by name (keyed by id; a name shared by
    two agents gets the id appended), and assigned agent ids missing from the agents table are
    offered under their id.
    """
    cases, agents = ds.cases, ds.agents
    teams = sorted(set(_distinct(agents, "team")) | set(_distinct(cases, "team")))
    prios = set(_distinct(cases, "priority"))
    priorities = [p for p in PRIORITY_ORDER if p in prios] + sorted(prios - set(PRIORITY_ORDER))
    names: dict[str, str] = {}
    if agents.height:
        for aid, name in agents.select("agent_id", "name").unique("agent_id", keep="first").iter_rows():
            if aid is None or aid == "":
                continue
            names[str(aid)] = str(name) if name not in (None, "") else str(aid)
    for aid in _distinct(cases, "assigned_agent_id"):
        names.setdefault(aid, aid)
    counts: dict[str, int] = {}
    for n in names.values():
        counts[n] = counts.get(n, 0) + 1
    labels = {aid: (n if counts[n] == 1 else f"{n} ({aid})") for aid, n in names.items()}
    ordered = dict(sorted(labels.items(), key=lambda kv: (kv[1].casefold(), kv[0])))
    return Options(
        teams=tuple(teams),
        queues=tuple(sorted(_distinct(cases, "queue"))),
        priorities=tuple(priorities),
        case_types=tuple(sorted(_distinct(cases, "case_type"))),
        channels=tuple(sorted(_distinct(cases, "channel"))),
        agents=ordered,
    )


_ACTIVITY_COLUMNS = {
    "cases": ("created_at", "first_response_at", "resolved_at", "escalated_at", "escalation_resolved_at"),
    "events": ("ts",),
    "qa_reviews": ("reviewed_at",),
}


def latest_activity(ds) -> dt.datetime | None:
    """The latest timestamp recorded anywhere in the data (how fresh the extract is), UTC."""
    best: dt.datetime | None = None
    for table, cols in _ACTIVITY_COLUMNS.items():
        frame = ds.table(table)
        if frame.height == 0:
            continue
        present = [c for c in cols if c in frame.columns]
        if not present:
            continue
        row = frame.select(pl.max_horizontal(*(pl.col(c).max() for c in present))).row(0)[0]
        if row is not None and (best is None or row > best):
            best = row
    return best.astimezone(UTC) if best is not None else None


# --------------------------------------------------------------------------- parsing


def _values(query: Mapping[str, object], key: str) -> list[str]:
    raw = query.get(key)
    if raw is None:
        return []
    if isinstance(raw, str):
        items: Sequence[object] = [raw]
    elif isinstance(raw, Sequence):
        items = raw
    else:
        items = [raw]
    return [str(v) for v in items if v is not None and str(v) != ""]


def _last(query: Mapping[str, object], key: str) -> str | None:
    vals = _values(query, key)
    return vals[-1].strip() if vals else None


def parse_query(
    query: Mapping[str, object],
    *,
    default_tz: str,
    now: dt.datetime,
    options: Options | None = None,
) -> tuple[ViewState, list[Notice]]:
    """Read a URL's query (``key -> value or list of values``) into a valid :class:`ViewState`.

    Never raises: each bad value is dropped or replaced and reported as a :class:`Notice`.
    Dimension values are checked against ``options`` when given (see :func:`check_dimensions`).
    """
    notices: list[Notice] = []
    base_tz = default_tz if is_timezone(default_tz) else "UTC"

    tz = base_tz
    raw_tz = _last(query, "tz")
    if raw_tz is not None:
        if is_timezone(raw_tz):
            tz = raw_tz
        else:
            notices.append(
                Notice(
                    "tz",
                    raw_tz,
                    f"Unknown time zone “{_short(raw_tz)}” in the link; showing times in {base_tz}.",
                )
            )

    as_of: dt.datetime | None = None
    raw_asof = _last(query, "asof")
    if raw_asof is not None:
        t = parse_asof(raw_asof)
        if t is None:
            notices.append(
                Notice(
                    "asof",
                    raw_asof,
                    f"Ignored the frozen time “{_short(raw_asof)}”: not a date-time like 2026-03-02T14:05:00Z. "
                    "Showing live data.",
                )
            )
        elif t > now.astimezone(UTC) + FUTURE_SLACK:
            notices.append(
                Notice(
                    "asof",
                    raw_asof,
                    f"Ignored the frozen time {format_asof(t)}: it is in the future. Showing live data.",
                )
            )
        else:
            as_of = t

    preset = DEFAULT_PRESET
    start: dt.date | None = None
    end: dt.date | None = None
    default_label = PRESETS[DEFAULT_PRESET].lower()
    raw_preset = _last(query, "preset")
    raw_from, raw_to = _last(query, "from"), _last(query, "to")
    if raw_preset is not None and raw_preset not in PRESETS:
        notices.append(
            Notice(
                "preset",
                raw_preset,
                f"Unknown period “{_short(raw_preset)}” in the link; showing the {default_label}.",
            )
        )
        raw_preset = None
    if raw_preset not in (None, "custom"):
        preset = raw_preset  # a rolling preset: from/to, if any, are not used
    elif raw_from is not None or raw_to is not None or raw_preset == "custom":
        start, end, range_notices = _custom_range(raw_from, raw_to, default_label)
        notices.extend(range_notices)
        if start is not None and end is not None:
            preset = "custom"

    state = ViewState(
        preset=preset,
        start=start,
        end=end,
        tz=tz,
        as_of=as_of,
        **{name: tuple(_dimension_values(query, key, notices)) for key, name in DIMENSION_KEYS.items()},
    )
    if options is not None:
        state, more = check_dimensions(state, options)
        notices.extend(more)
    return state, notices


def _custom_range(
    raw_from: str | None, raw_to: str | None, default_label: str
) -> tuple[dt.date | None, dt.date | None, list[Notice]]:
    fallback = f"showing the {default_label} instead"
    start = parse_date(raw_from) if raw_from is not None else None
    end = parse_date(raw_to) if raw_to is not None else None
    bad: list[Notice] = []
    for key, raw, parsed, what in (("from", raw_from, start, "start"), ("to", raw_to, end, "end")):
        if raw is not None and parsed is None:
            bad.append(
                Notice(
                    key,
                    raw,
                    f"Ignored the {what} date “{_short(raw)}”: not a date like 2026-03-02; {fallback}.",
                )
            )
    if bad:
        return None, None, bad
    if start is None or end is None:
        key = "to" if end is None else "from"
        present = raw_from if raw_from is not None else (raw_to or "")
        return None, None, [Notice(key, present, f"The link's date range has no “{key}” date; {fallback}.")]
    if end < start:
        return (
            None,
            None,
            [
                Notice(
                    "from",
                    str(raw_from),
                    f"Ignored the date range {start} to {end}: it ends before it starts; {fallback}.",
                )
            ],
        )
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        new_start = end - dt.timedelta(days=MAX_RANGE_DAYS - 1)
        return (
            new_start,
            end,
            [
                Notice(
                    "from",
                    str(raw_from),
                    f"The date range {start} to {end} is longer than {MAX_RANGE_DAYS} days; showing {new_start} to {end}.",
                )
            ],
        )
    return start, end, []


def _dimension_values(query: Mapping[str, object], key: str, notices: list[Notice]) -> list[str]:
    out: list[str] = []
    label = DIMENSION_LABELS[key]
    values = _values(query, key)
    if len(values) > MAX_VALUES_PER_KEY:
        notices.append(
            Notice(
                key,
                str(len(values)),
                f"The link selects {len(values)} values for {label}; kept the first {MAX_VALUES_PER_KEY}.",
            )
        )
        values = values[:MAX_VALUES_PER_KEY]
    for v in values:
        if len(v) > MAX_VALUE_CHARS:
            notices.append(
                Notice(key, v, f"Ignored {label} “{_short(v)}” from the link: too long to be a {label}.")
            )
        else:
            out.append(v)
    return out


def check_dimensions(state: ViewState, options: Options) -> tuple[ViewState, list[Notice]]:
    """Drop selected values the data does not have (one :class:`Notice` per value)."""
    notices: list[Notice] = []
    changes: dict[str, tuple[str, ...]] = {}
    for key, name in DIMENSION_KEYS.items():
        selected = getattr(state, name)
        if not selected:
            continue
        allowed = set(options.values(key))
        keep = tuple(v for v in selected if v in allowed)
        if len(keep) != len(selected):
            label = DIMENSION_LABELS[key]
            for v in selected:
                if v not in allowed:
                    notices.append(
                        Notice(
                            key, v, f"Ignored {label} “{_short(v)}”: there is no such {label} in the data."
                        )
                    )
            changes[name] = keep
    return (replace(state, **changes) if changes else state), notices


# --------------------------------------------------------------------------- freshness


def age_text(seconds: float) -> str:
    """How long ago, in words: 'just now', '2 min ago', '3 h ago', '5 days ago'.

    >>> [age_text(s) for s in (20, 150, 3 * 3600 + 100, 86400 * 2.5)]
    ['just now', '2 min ago', '3 h ago', '2 days ago']
    """
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"
