"""Deterministic, realistic demo data for every table of the data contract.

``generate()`` returns the six contract tables (agents, cases, qa_reviews, qa_criteria, events,
shifts) as Polars frames with the canonical dtypes of :mod:`tsdash.schema`;
``generate_to()`` also writes them (:func:`tsdash.sources.write.write_tables`).

The model (all vectorised with numpy; per-case Python loops are avoided so that ``cases=10_000_000``
stays feasible):

* **Time.** The data covers ``[now - days, now)``. Nothing happens after ``now``: a case whose
  resolution would fall after ``now`` is open at ``now``; shifts in progress end at ``now``.
  Seasonality is modelled in local time (Europe/Berlin): business-hours peaks for most queues,
  evening and weekend peaks for livestream moderation, a Monday bump for buyer disputes, a mild
  upward trend.
* **Arrivals** are an inhomogeneous Poisson process by hour: the total is fixed (``cases``, or
  about 27 per agent per day, plus the wave) and spread over (stream, hour) cells with a multinomial draw.
* **Incident.** A payments_fraud wave (about 3x inflow, mostly card testing / stolen cards from
  automated detection) for 6 days, starting 32 days before ``now`` (scaled into shorter windows).
* **Capacity.** Each queue resolves at most ``capacity(hour)`` cases per hour, proportional to the
  staffing of the team that owns it (shifts) and calibrated to 1.15x its normal inflow. Waiting
  cases are served by priority, FIFO within a priority. When a queue's backlog passes about ten
  hours of capacity, the team lead borrows people (capacity ramps up to +90% over ~1.5 days; the
  other queues lose a little), which is how the backlog built by the wave recovers in 1-2 weeks.
* **Agents** (ids fixed whatever the seed; see :data:`ROLES`): ``A05`` is a new hire (hired 7 weeks
  before ``now``; handle time starts ~2x and improves week by week; fewer cases), ``A03`` is slow
  but accurate (handle time 1.5x, QA ~95), ``A04`` fast but error-prone (0.6x, QA ~74, frequent
  critical errors), ``A06`` slips in quality over the last ~4 weeks (QA ~90 -> ~70, mostly in
  documentation), ``A07`` left the team three weeks ago (``active = False``). ``A01`` is
  "Zoë O'Brien" (non-ASCII and an apostrophe, to exercise safe rendering).
* **Handle time** is log-normal (long right tail) with queue-dependent means (livestream a few
  minutes, fraud and counterfeit 12-13 minutes on average).
* About 8% of cases are escalated (legal, payments_team, policy_unclear, high_value_seller,
  law_enforcement); some cases wait on the customer (pending); ~3% are reopened. About 8% of
  resolved cases get a QA review 1-5 days after resolution, with four rubric criteria.
* ``handle_seconds`` and ``outcome`` are set for resolved cases only (null while open).
* ``sla_due_at`` is null (the configured SLA targets apply) except for urgent account takeovers,
  which carry an explicit 2-hour due time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from tsdash.schema import CONTRACT

LOCAL_TZ = "Europe/Berlin"
US = 1_000_000  # microseconds per second
HOUR = 3600 * US
DAY = 24 * HOUR
WEEK = 7 * DAY

CASES_PER_AGENT_DAY = 27.0
CAPACITY_MARGIN = 1.15  # each queue can resolve 1.15x its normal inflow (more during a surge)
PRIORITIES = ("urgent", "high", "normal", "low")
SLA_HOURS = (4.0, 24.0, 48.0, 120.0)  # the default targets of tsdash.config

# Fixed roles (agent index -> role); an agent id exists only when ``agents`` is large enough.
ROLES: dict[str, str] = {
    "slow_accurate": "A03",
    "fast_error_prone": "A04",
    "new_hire": "A05",
    "slipping": "A06",
    "leaver": "A07",
}

TEAMS = ("Payments & Risk", "Marketplace Integrity", "Buyer & Live")
LEADS = ("Ingrid Halvorsen", "Marcus Adeyemi", "Priya Raman")
SITES = ("Berlin", "Berlin", "Berlin", "Lisbon", "Dublin")

ESCALATION_REASONS = ("legal", "payments_team", "policy_unclear", "high_value_seller", "law_enforcement")
# median hours until an escalation is answered, per reason
ESCALATION_MEDIAN_H = (30.0, 8.0, 6.0, 10.0, 40.0)
CRITERIA = ("policy_accuracy", "action_correctness", "documentation", "communication")
REVIEWERS = ("QA01", "QA02", "QA03", "QA04")

# local hour-of-day profiles (24 values) and day-of-week profiles (Mon..Sun)
_BUSINESS = (
    0.25,
    0.18,
    0.14,
    0.12,
    0.12,
    0.15,
    0.25,
    0.45,
    0.70,
    0.90,
    1.00,
    1.05,
    1.05,
    1.00,
    1.00,
    1.00,
    1.00,
    1.00,
    1.05,
    1.10,
    1.05,
    0.90,
    0.65,
    0.40,
)
_FLAT_BUSINESS = tuple(0.55 * v + 0.45 for v in _BUSINESS)  # automated detection runs all night
_EVENING = (
    0.50,
    0.35,
    0.20,
    0.12,
    0.08,
    0.08,
    0.10,
    0.15,
    0.25,
    0.35,
    0.45,
    0.55,
    0.60,
    0.60,
    0.60,
    0.65,
    0.75,
    0.90,
    1.20,
    1.60,
    1.90,
    2.00,
    1.70,
    1.00,
)
_WEEK_BUSINESS = (1.08, 1.03, 1.00, 1.00, 0.97, 0.80, 0.72)
_WEEK_MONDAY = (1.25, 1.05, 1.00, 0.97, 0.95, 0.85, 0.80)
_WEEK_WEEKEND = (0.85, 0.85, 0.90, 0.95, 1.10, 1.35, 1.40)
_WEEK_FLAT = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)


@dataclass(frozen=True)
class QueueSpec:
    name: str
    share: float  # share of normal inflow
    team: int  # owning team index
    aht_min: float  # mean handle time, minutes
    daily: tuple[float, ...]
    weekly: tuple[float, ...]
    case_types: dict[str, float]
    priorities: tuple[float, float, float, float]
    channels: dict[str, float]
    outcomes: dict[str, float]
    escalation: float  # probability a case is escalated
    reasons: tuple[float, float, float, float, float]  # over ESCALATION_REASONS
    pending: float  # probability the case waits on the customer after first response


QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec(
        "payments_fraud",
        0.22,
        0,
        13.0,
        _FLAT_BUSINESS,
        _WEEK_BUSINESS,
        {"stolen_card": 0.40, "chargeback_abuse": 0.35, "triangulation_fraud": 0.25},
        (0.12, 0.33, 0.45, 0.10),
        {"automated_detection": 0.55, "user_report": 0.20, "api": 0.15, "support_escalation": 0.10},
        {"action_taken": 0.40, "account_suspended": 0.25, "refund_issued": 0.15, "no_violation": 0.20},
        0.12,
        (0.10, 0.50, 0.10, 0.15, 0.15),
        0.08,
    ),
    QueueSpec(
        "seller_policy",
        0.16,
        1,
        8.0,
        _BUSINESS,
        _WEEK_BUSINESS,
        {"prohibited_item": 0.45, "misleading_listing": 0.35, "off_platform_payment": 0.20},
        (0.03, 0.17, 0.55, 0.25),
        {"user_report": 0.45, "automated_detection": 0.25, "api": 0.15, "support_escalation": 0.15},
        {"listing_removed": 0.40, "warning_issued": 0.25, "account_suspended": 0.08, "no_violation": 0.27},
        0.09,
        (0.15, 0.05, 0.50, 0.28, 0.02),
        0.12,
    ),
    QueueSpec(
        "buyer_disputes",
        0.20,
        2,
        9.5,
        _BUSINESS,
        _WEEK_MONDAY,
        {"item_not_received": 0.55, "not_as_described": 0.45},
        (0.02, 0.18, 0.60, 0.20),
        {"user_report": 0.55, "support_escalation": 0.35, "api": 0.10},
        {"refund_issued": 0.45, "no_violation": 0.35, "action_taken": 0.20},
        0.07,
        (0.15, 0.45, 0.20, 0.18, 0.02),
        0.30,
    ),
    QueueSpec(
        "livestream_moderation",
        0.20,
        2,
        3.0,
        _EVENING,
        _WEEK_WEEKEND,
        {"harassment": 0.35, "prohibited_content": 0.40, "spam_stream": 0.25},
        (0.55, 0.35, 0.08, 0.02),
        {"livestream": 0.70, "user_report": 0.20, "automated_detection": 0.10},
        {"stream_terminated": 0.30, "warning_issued": 0.30, "no_violation": 0.30, "account_suspended": 0.10},
        0.03,
        (0.25, 0.00, 0.45, 0.10, 0.20),
        0.0,
    ),
    QueueSpec(
        "account_security",
        0.12,
        0,
        8.5,
        _FLAT_BUSINESS,
        _WEEK_BUSINESS,
        {"account_takeover": 0.55, "credential_stuffing": 0.45},
        (0.25, 0.35, 0.35, 0.05),
        {"automated_detection": 0.50, "user_report": 0.25, "support_escalation": 0.25},
        {"action_taken": 0.50, "account_suspended": 0.20, "no_violation": 0.30},
        0.08,
        (0.15, 0.25, 0.20, 0.10, 0.30),
        0.10,
    ),
    QueueSpec(
        "counterfeit",
        0.10,
        1,
        12.0,
        _BUSINESS,
        _WEEK_BUSINESS,
        {"brand_report": 0.55, "replica_listing": 0.45},
        (0.05, 0.25, 0.50, 0.20),
        {"user_report": 0.40, "automated_detection": 0.35, "api": 0.25},
        {"listing_removed": 0.55, "account_suspended": 0.15, "no_violation": 0.30},
        0.11,
        (0.35, 0.05, 0.15, 0.40, 0.05),
        0.10,
    ),
)
QUEUE_NAMES = tuple(q.name for q in QUEUES)
_FRAUD = 0
# the wave is an extra arrival stream for payments_fraud with its own mix
_WAVE_CASE_TYPES = {"stolen_card": 0.75, "chargeback_abuse": 0.10, "triangulation_fraud": 0.15}
_WAVE_CHANNELS = {"automated_detection": 0.75, "user_report": 0.15, "api": 0.10}
_WAVE_PRIORITIES = (0.10, 0.35, 0.45, 0.10)

# shifts: local start hour, 9 h each (8 h work + 1 h break); weekly rotation per team
_SHIFT_START = {"early": 6, "mid": 10, "late": 14, "night": 22}
SHIFT_HOURS = 9
_ROTATION = (
    ("early", "mid", "late", "early", "late", "night"),
    ("early", "mid", "late", "early", "mid"),
    ("late", "mid", "late", "night", "early", "late"),
)
_OFF_DAYS = (  # weekday pairs (0 = Monday) by rank within the team
    ((5, 6), (6, 0), (0, 1), (4, 5), (1, 2), (5, 6), (2, 3), (3, 4)),
    ((5, 6), (5, 6), (6, 0), (0, 1), (4, 5), (1, 2), (2, 3), (3, 4)),
    ((0, 1), (1, 2), (2, 3), (3, 4), (6, 0), (0, 1), (1, 2), (4, 5)),
)

_FIRST = (
    "Amara",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elif",
    "Farah",
    "Gustavo",
    "Hana",
    "Ivan",
    "Jasmine",
    "Kwame",
    "Leonie",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priyanka",
    "Quentin",
    "Rosa",
    "Sven",
    "Tomasz",
    "Ulla",
    "Valentina",
    "Wei",
    "Ximena",
    "Yusuf",
    "Aoife",
    "Bilal",
    "Carmen",
    "Daniel",
    "Emma",
    "Felix",
    "Greta",
    "Hiroshi",
    "Ines",
    "Jonas",
    "Katarzyna",
    "Lucas",
    "Mei",
    "Noah",
    "Olga",
    "Pablo",
    "Rania",
    "Samuel",
    "Tariq",
    "Ursula",
    "Viktor",
    "Wiebke",
    "Yara",
    "Zainab",
    "Anders",
    "Beatriz",
    "Chidi",
    "Dalia",
    "Erik",
    "Fatima",
    "Georg",
    "Helena",
    "Jakub",
    "Kofi",
    "Lina",
    "Mohammed",
)
_LAST = (
    "Müller",
    "Nguyen",
    "Kowalski",
    "García",
    "Okafor",
    "Schäfer",
    "D'Angelo",
    "Fitzgerald",
    "Rossi",
    "Haddad",
    "Jensen",
    "Novak",
    "Silva",
    "Tanaka",
    "Yılmaz",
    "Andersson",
    "Brennan",
    "Costa",
    "Dubois",
    "Eriksen",
    "Ferreira",
    "Goldberg",
    "Horváth",
    "Ibrahim",
    "Janssen",
    "Kaur",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "O'Connor",
    "Petrov",
    "Quinn",
    "Richter",
    "Santos",
    "Weber",
    "Zhang",
    "Bauer",
    "Chen",
    "Demir",
    "Edwards",
    "Fischer",
    "Gonzalez",
    "Hoffmann",
    "Ivanova",
    "Kim",
    "Lopez",
    "Mensah",
    "Nowak",
    "Osei",
    "Patel",
    "Reyes",
    "Schmidt",
    "Torres",
    "Walsh",
)
FIXED_NAMES = {0: "Zoë O'Brien"}

# QA comments by score band; a few carry markup-like characters on purpose (safe rendering)
_COMMENTS_HIGH = (
    "Clear notes, correct policy applied.",
    "Textbook handling — well documented.",
    "Good catch on the linked accounts.",
    "Solid work; the customer message was empathetic.",
    "Evidence attached and summarised, nice.",
    "Seller quoted *50% off* outside the platform; you flagged it correctly.",
)
_COMMENTS_MID = (
    "Correct outcome but the notes are thin.",
    "Policy citation missing in the internal note.",
    "Right action; the reply template wasn't personalised.",
    "Used <b>bold</b> in the customer reply — the template doesn't render HTML.",
    "Refund of $45 approved without checking order history.",
    "Escalation reason was 'other' — pick the closest category & add a note.",
)
_COMMENTS_LOW = (
    "Wrong policy applied — see playbook section 4.2.",
    "Documentation missing; couldn't follow the decision.",
    "Action didn't match the evidence; please re-read the playbook.",
    'Notes say "see above" but there is nothing above.',
    "No internal note at all <script>?</script> — please document every case.",
)
_COMMENTS_CRITICAL = (
    "CRITICAL: account suspended without evidence.",
    "CRITICAL: refund of $1,200 issued to a flagged buyer.",
    "CRITICAL: law-enforcement request handled without legal sign-off.",
    "CRITICAL: livestream left running after a *confirmed* violation.",
)


# --------------------------------------------------------------------------- helpers


def _as_utc(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    elif now.tzinfo is None:  # naive: read as UTC (documented in generate())
        now = now.replace(tzinfo=dt.UTC)
    return now.astimezone(dt.UTC)


def _epoch_us(t: dt.datetime) -> int:
    delta = t - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def _choice(rng: np.random.Generator, probs, size: int) -> np.ndarray:
    """Vectorised categorical draw: indices into ``probs``."""
    p = np.asarray(probs, dtype=float)
    cdf = np.cumsum(p / p.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(size), side="right").clip(0, len(p) - 1)


def _lognormal(rng: np.random.Generator, median, sigma: float, size: int) -> np.ndarray:
    return np.asarray(median, dtype=float) * np.exp(sigma * rng.standard_normal(size))


def _ts(values: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """int64 epoch microseconds (+ validity mask) -> pl.Datetime('us', 'UTC')."""
    v = values.astype(np.int64)
    s = pl.Series(v, dtype=pl.Int64)
    if valid is not None and not valid.all():
        s = pl.select(pl.when(pl.Series(valid)).then(s)).to_series()
    return s.cast(pl.Datetime("us", "UTC"))


def _gather(labels, idx: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """Strings ``labels[idx]`` (null where not ``valid``), vectorised."""
    lab = pl.Series(list(labels), dtype=pl.String)
    s = lab.gather(pl.Series(idx.astype(np.int64)).clip(0, max(len(lab) - 1, 0))) if len(lab) else None
    if s is None:
        return pl.Series([None] * len(idx), dtype=pl.String)
    if valid is not None and not valid.all():
        s = pl.select(pl.when(pl.Series(valid)).then(s)).to_series()
    return s


def _ids(prefix: str, n: int, width: int) -> pl.Series:
    return (
        pl.select(
            pl.lit(prefix)
            + pl.int_range(1, n + 1, dtype=pl.Int64, eager=False).cast(pl.String).str.zfill(width)
        ).to_series()
        if n
        else pl.Series([], dtype=pl.String)
    )


def _local_calendar(bin_start_us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local (Europe/Berlin) hour 0-23 and weekday 0-6 (Mon=0) of UTC instants."""
    local = (
        pl.Series(bin_start_us, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")).dt.convert_time_zone(LOCAL_TZ)
    )
    return local.dt.hour().to_numpy().astype(np.int64), local.dt.weekday().to_numpy().astype(np.int64) - 1


@dataclass(frozen=True)
class Knobs:
    """Where the stories sit, in microseconds since the epoch (derived from now and days)."""

    start: int
    now: int
    wave_start: int
    wave_end: int
    hire: int  # new hire's first day (local midnight, as UTC)
    slip_start: int
    leave: int


def _knobs(now_us: int, days: int) -> Knobs:
    start = now_us - days * DAY
    if days >= 45:
        wave_start, wave_len = now_us - 32 * DAY, 6 * DAY
    else:
        wave_start, wave_len = now_us - int(0.6 * days * DAY), max(int(0.15 * days * DAY), DAY)
    hire_ago = 49 * DAY if days >= 60 else int(max(0.8 * days, 1) * DAY)
    slip_ago = 30 * DAY if days >= 60 else int(0.4 * days * DAY)
    leave_ago = 21 * DAY if days >= 45 else int(0.3 * days * DAY)
    return Knobs(
        start,
        now_us,
        wave_start,
        wave_start + wave_len,
        now_us - hire_ago,
        now_us - slip_ago,
        now_us - leave_ago,
    )


def describe(*, days: int = 90, now: dt.datetime | None = None) -> dict[str, object]:
    """The demo's stories for a window: role agent ids and the fraud wave dates (UTC)."""
    now_dt = _as_utc(now)
    k = _knobs(_epoch_us(now_dt), days)

    def t(us: int) -> dt.datetime:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)

    return {
        "roles": dict(ROLES),
        "fraud_wave": (t(k.wave_start), t(k.wave_end)),
        "new_hire_from": t(k.hire).date(),
        "slip_from": t(k.slip_start),
        "leaver_left": t(k.leave).date(),
    }


# --------------------------------------------------------------------------- agents & shifts


@dataclass
class _Agents:
    n: int
    ids: list[str]
    team: np.ndarray  # int
    rank: np.ndarray  # rank within team
    speed: np.ndarray  # handle-time multiplier (new hire: base, curve applied by time)
    quality: np.ndarray  # QA base level
    crit: np.ndarray  # probability of a critical error
    hire_us: np.ndarray
    leave_us: np.ndarray  # int64 max when still active
    role: dict[str, int]
    frame: pl.DataFrame


def _make_agents(rng: np.random.Generator, n: int, k: Knobs) -> _Agents:
    width = max(2, len(str(n)))
    ids = [f"A{i + 1:0{width}d}" for i in range(n)]
    n_teams = min(3, n)
    # Payments & Risk carries ~45% of the work: teams cycle 0,1,2,0,1,2,0 (3:2:2)
    team = np.array([(0, 1, 2, 0, 1, 2, 0)[i % 7] for i in range(n)]) % n_teams
    rank = np.zeros(n, dtype=np.int64)
    for t in range(n_teams):
        rank[team == t] = np.arange(int((team == t).sum()))
    role = {name: int(aid[1:]) - 1 for name, aid in ROLES.items() if int(aid[1:]) - 1 < n}

    combos = rng.permutation(len(_FIRST) * len(_LAST))
    names: list[str] = []
    used = set(FIXED_NAMES.values())
    it = iter(combos)
    for i in range(n):
        if i in FIXED_NAMES:
            names.append(FIXED_NAMES[i])
            continue
        while True:
            c = int(next(it, -1))
            if c < 0:  # more agents than name combinations
                name = f"Agent {i + 1}"
                break
            name = f"{_FIRST[c // len(_LAST)]} {_LAST[c % len(_LAST)]}"
            if name not in used:
                break
        used.add(name)
        names.append(name)

    speed = np.exp(0.12 * rng.standard_normal(n))
    quality = np.clip(87 + 3 * rng.standard_normal(n), 80, 93)
    crit = np.full(n, 0.025)
    now_day = k.now // DAY * DAY
    hire_us = now_day - rng.integers(150, 2200, n) * DAY
    leave_us = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    if "slow_accurate" in role:
        i = role["slow_accurate"]
        speed[i], quality[i], crit[i] = 1.5, 95.0, 0.005
    if "fast_error_prone" in role:
        i = role["fast_error_prone"]
        speed[i], quality[i], crit[i] = 0.6, 74.0, 0.13
    if "slipping" in role:
        i = role["slipping"]
        speed[i], quality[i] = 1.0, 90.0
    if "new_hire" in role:
        i = role["new_hire"]
        speed[i], quality[i], crit[i] = 1.0, 88.0, 0.05
        hire_us[i] = _local_midnight_utc(k.hire)
    if "leaver" in role:
        leave_us[role["leaver"]] = k.leave

    hired_on = (
        pl.Series(hire_us, dtype=pl.Int64)
        .cast(pl.Datetime("us", "UTC"))
        .dt.convert_time_zone(LOCAL_TZ)
        .dt.date()
    )
    frame = pl.DataFrame(
        {
            "agent_id": ids,
            "name": names,
            "team": [TEAMS[t] for t in team],
            "lead": [LEADS[t] for t in team],
            "site": [SITES[int(x)] for x in rng.integers(0, len(SITES), n)],
            "hired_on": hired_on,
            "active": leave_us == np.iinfo(np.int64).max,
        },
        schema=CONTRACT["agents"].dtypes,
    )
    return _Agents(n, ids, team, rank, speed, quality, crit, hire_us, leave_us, role, frame)


def _local_midnight_utc(us: int) -> int:
    t = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)
    from zoneinfo import ZoneInfo

    local = t.astimezone(ZoneInfo(LOCAL_TZ))
    midnight = dt.datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(LOCAL_TZ))
    return _epoch_us(midnight.astimezone(dt.UTC))


def _make_shifts(ag: _Agents, k: Knobs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(agent index, start us, end us) of every shift overlapping the window; ends clipped to now.

    Shifts that started before the window are included here (they staff its first hours) and
    dropped from the ``shifts`` table by the caller."""
    first = (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=k.start)).date() - dt.timedelta(days=2)
    last = (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=k.now)).date() + dt.timedelta(days=1)
    ndays = (last - first).days + 1
    ordinals = first.toordinal() + np.arange(ndays)
    weekday = (ordinals - 1) % 7  # date.toordinal(): 1 = Monday 0001-01-01
    week = (ordinals - 1) // 7
    a = np.repeat(np.arange(ag.n), ndays)
    d = np.tile(np.arange(ndays), ag.n)
    t, r = ag.team[a], ag.rank[a]
    off = np.zeros(len(a), dtype=bool)
    start_h = np.zeros(len(a), dtype=np.int64)
    for ti in range(3):
        pairs = np.array(_OFF_DAYS[ti])
        rot = np.array([_SHIFT_START[s] for s in _ROTATION[ti]])
        m = t == ti
        pr = pairs[r[m] % len(pairs)]
        wd = weekday[d[m]]
        off[m] = (wd == pr[:, 0]) | (wd == pr[:, 1])
        start_h[m] = rot[(week[d[m]] + r[m]) % len(rot)]
    keep = ~off
    a, d, start_h = a[keep], d[keep], start_h[keep]
    local_start = pl.Series(
        (ordinals[d] - dt.date(1970, 1, 1).toordinal()) * DAY + start_h * HOUR, dtype=pl.Int64
    ).cast(pl.Datetime("us"))
    start = local_start.dt.replace_time_zone(LOCAL_TZ, ambiguous="earliest", non_existent="null")
    # the end is 9 local hours later: a night shift over a DST change is 8 or 10 real hours
    end = local_start.dt.offset_by(f"{SHIFT_HOURS}h").dt.replace_time_zone(
        LOCAL_TZ, ambiguous="earliest", non_existent="null"
    )
    s_us = start.dt.convert_time_zone("UTC").cast(pl.Int64).fill_null(-1).to_numpy()
    e_us = end.dt.convert_time_zone("UTC").cast(pl.Int64).fill_null(-1).to_numpy()
    ok = (e_us > k.start) & (s_us < k.now) & (e_us > s_us)
    ok &= (s_us >= ag.hire_us[a]) & (s_us < ag.leave_us[a])
    a, s_us, e_us = a[ok], s_us[ok], np.minimum(e_us[ok], k.now)
    order = np.lexsort((a, s_us))
    return a[order], s_us[order], e_us[order]


def _on_shift(a: np.ndarray, s: np.ndarray, e: np.ndarray, b0: int, nb: int, n_agents: int) -> np.ndarray:
    """Fraction of each hour bin each agent is on shift: array (nb, n_agents)."""
    on = np.zeros((nb, n_agents))
    if len(a) == 0:
        return on
    first = (s - b0) // HOUR
    for j in range(SHIFT_HOURS + 3):
        b = first + j
        lo = np.maximum(s, b0 + b * HOUR)
        hi = np.minimum(e, b0 + (b + 1) * HOUR)
        ov = np.clip(hi - lo, 0, None) / HOUR
        m = (ov > 0) & (b >= 0) & (b < nb)
        np.add.at(on, (b[m], a[m]), ov[m])
    return on


def _new_hire_mult(weeks: np.ndarray) -> np.ndarray:
    """Handle-time multiplier of the new hire ``weeks`` after the hire date."""
    return 1.0 + 1.5 * np.exp(-np.clip(weeks, 0, None) / 2.5)


# --------------------------------------------------------------------------- generate


def generate(
    *,
    days: int = 90,
    agents: int = 36,
    cases: int | None = None,
    seed: int = 7,
    now: dt.datetime | None = None,
) -> dict[str, pl.DataFrame]:
    """Return all six contract tables (agents, cases, qa_reviews, qa_criteria, events, shifts) with
    the canonical dtypes of :mod:`tsdash.schema` (timestamps ``pl.Datetime('us', 'UTC')``).

    ``now`` (aware; a naive value is read as UTC; default: the current time floored to the minute)
    anchors the data: the last ``days`` days end at ``now`` and nothing happens after it.
    ``cases=None`` means the realistic volume for the agent count (about 27 cases per agent per
    day, plus the fraud wave: ~90k cases for 36 agents over 90 days). Deterministic: same arguments, identical frames.
    """
    if int(days) < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if int(agents) < 1:
        raise ValueError(f"agents must be at least 1, got {agents}")
    if cases is not None and int(cases) < 0:
        raise ValueError(f"cases must be 0 or more, got {cases}")
    days, agents = int(days), int(agents)
    now_dt = _as_utc(now)
    k = _knobs(_epoch_us(now_dt), days)
    rng = np.random.default_rng([int(seed), 20260101])

    ag = _make_agents(rng, agents, k)
    sh_a, sh_s, sh_e = _make_shifts(ag, k)

    # ---- hour bins over the window
    b0 = k.start // HOUR * HOUR
    nb = int(-(-(k.now - b0) // HOUR))
    bin_start = b0 + np.arange(nb, dtype=np.int64) * HOUR
    lo = np.maximum(bin_start, k.start)
    hi = np.minimum(bin_start + HOUR, k.now)
    frac = (hi - lo) / HOUR
    hour, wday = _local_calendar(bin_start)
    mid = (lo + hi) / 2
    trend = 0.94 + 0.12 * (mid - k.start) / (k.now - k.start)

    # ---- arrival intensity per stream (6 queues + the fraud wave) and bin
    nq = len(QUEUES)
    lam = np.zeros((nq + 1, nb))
    for qi, q in enumerate(QUEUES):
        lam[qi] = q.share * np.asarray(q.daily)[hour] * np.asarray(q.weekly)[wday] * trend * frac
    # wave: smooth ramp (~0.75 d) up, plateau, ramp down (~1 d); peak adds ~2.2x normal fraud inflow
    up = np.clip((mid - k.wave_start) / (0.75 * DAY), 0, 1)
    down = np.clip((k.wave_end - mid) / DAY, 0, 1)
    wave_shape = np.minimum(up, down)
    fraud_flat = QUEUES[_FRAUD].share * np.asarray(_FLAT_BUSINESS)[hour] * trend * frac
    lam[nq] = 2.2 * wave_shape * fraud_flat
    base_total = lam[:nq].sum()
    n_cases = (
        int(round(agents * days * CASES_PER_AGENT_DAY * lam.sum() / base_total))
        if cases is None
        else int(cases)
    )

    counts = (
        rng.multinomial(n_cases, (lam / lam.sum()).ravel()).reshape(lam.shape)
        if n_cases
        else np.zeros(lam.shape, dtype=np.int64)
    )
    cell = np.repeat(np.arange(lam.size), counts.ravel())
    stream = cell // nb
    cbin = cell % nb
    created = lo[cbin] + (rng.random(n_cases) * (hi[cbin] - lo[cbin])).astype(np.int64)
    order = np.argsort(created, kind="stable")
    created, stream, cbin = created[order], stream[order], cbin[order]
    queue = np.where(stream == nq, _FRAUD, stream)
    n = n_cases

    # ---- case attributes
    prio = np.zeros(n, dtype=np.int64)
    ctype = np.zeros(n, dtype=np.int64)
    chan = np.zeros(n, dtype=np.int64)
    ctype_labels: list[str] = []
    chan_labels: list[str] = []

    def _labels(pool: list[str], names) -> np.ndarray:
        for nm in names:
            if nm not in pool:
                pool.append(nm)
        return np.array([pool.index(nm) for nm in names])

    for si in range(nq + 1):
        m = stream == si
        cnt = int(m.sum())
        spec = QUEUES[_FRAUD] if si == nq else QUEUES[si]
        types = _WAVE_CASE_TYPES if si == nq else spec.case_types
        chans = _WAVE_CHANNELS if si == nq else spec.channels
        pr = _WAVE_PRIORITIES if si == nq else spec.priorities
        tmap = _labels(ctype_labels, list(types))
        cmap = _labels(chan_labels, list(chans))
        prio[m] = _choice(rng, pr, cnt)
        ctype[m] = tmap[_choice(rng, list(types.values()), cnt)]
        chan[m] = cmap[_choice(rng, list(chans.values()), cnt)]

    # ---- staffing and capacity
    on = _on_shift(sh_a, sh_s, sh_e, b0, nb, agents)
    bin_mid_weeks = (bin_start[:, None] + HOUR // 2 - ag.hire_us[None, :]) / WEEK
    speed_t = np.broadcast_to(ag.speed, (nb, agents)).copy()
    if "new_hire" in ag.role:
        i = ag.role["new_hire"]
        speed_t[:, i] = _new_hire_mult(bin_mid_weeks[:, i])
    prod = on / speed_t  # effective staffing (cases scale with 1 / handle-time multiplier)
    n_teams = int(ag.team.max()) + 1
    team_of_q = np.array([q.team % n_teams for q in QUEUES])
    staff_team = np.stack([prod[:, ag.team == t].sum(axis=1) for t in range(n_teams)], axis=1)
    staff_all = prod.sum(axis=1)
    eff = staff_team[:, team_of_q] + 0.15 * staff_all[:, None]  # (nb, nq)
    eff_sum = eff.sum(axis=0)
    eff = np.where(eff_sum[None, :] > 0, eff, frac[:, None])  # nobody scheduled at all: flat capacity
    eff_sum = eff.sum(axis=0)
    base_arrivals = np.bincount(queue[stream < nq], minlength=nq).astype(float)
    cap = eff * (CAPACITY_MARGIN * np.maximum(base_arrivals, 1.0) / eff_sum)[None, :]

    # ---- queue simulation: priority order, FIFO within priority, surge borrowing
    npri = len(PRIORITIES)
    arrivals = np.zeros((nb, nq, npri), dtype=np.int64)
    np.add.at(arrivals, (cbin, queue, prio), 1)
    served = np.zeros((nb, nq, npri), dtype=np.int64)
    level = np.zeros((nb, nq))
    backlog = np.zeros((nq, npri), dtype=np.int64)
    credit = np.zeros(nq)
    lvl = np.zeros(nq)
    threshold = 10.0 * cap.mean(axis=0)
    for b in range(nb):
        backlog += arrivals[b]
        others = np.array([lvl[np.arange(nq) != qi].max() if nq > 1 else 0.0 for qi in range(nq)])
        c = cap[b] * (1.0 + 0.9 * lvl) * (1.0 - 0.08 * others)
        credit += c
        avail = np.floor(credit)
        for p in range(npri):
            s = np.minimum(backlog[:, p], avail).astype(np.int64)
            served[b, :, p] = s
            backlog[:, p] -= s
            avail -= s
        credit -= served[b].sum(axis=1)
        waiting = backlog.sum(axis=1)
        credit = np.where(waiting == 0, np.minimum(credit, 1.0), credit)
        lvl = np.clip(lvl + np.where(waiting > threshold, 1 / 36, -1 / 24), 0.0, 1.0)
        level[b] = lvl

    # served bin of each case: rank within (queue, priority) in arrival order vs cumulative service
    group = queue * npri + prio
    gorder = np.argsort(group, kind="stable")
    gsorted = group[gorder]
    gstart = np.searchsorted(gsorted, np.arange(nq * npri))
    rank = np.empty(n, dtype=np.int64)
    rank[gorder] = np.arange(n) - gstart[gsorted]
    cum = np.cumsum(served.reshape(nb, nq * npri), axis=0)  # (nb, groups)
    sbin = np.full(n, nb, dtype=np.int64)
    for g in range(nq * npri):
        m = gorder[gstart[g] : gstart[g + 1]] if g + 1 < nq * npri else gorder[gstart[g] :]
        if len(m):
            sbin[m] = np.searchsorted(cum[:, g], rank[m], side="right")
    picked = sbin < nb
    sb = np.minimum(sbin, nb - 1)
    p_lo = np.maximum(lo[sb], created)
    p_hi = np.maximum(hi[sb], p_lo)
    pickup = p_lo + (rng.random(n) * (p_hi - p_lo)).astype(np.int64)
    pickup = np.maximum(pickup, created + rng.integers(5, 90, n) * US)  # triage takes a moment
    picked &= pickup < k.now

    # ---- who picks it up: agents on shift, weighted by productivity and team affinity
    weight = on / speed_t
    if "new_hire" in ag.role:  # a new hire gets a lighter load while ramping up
        i = ag.role["new_hire"]
        weight[:, i] *= 0.9
    agent = np.full(n, -1, dtype=np.int64)
    u = rng.random(n)
    for qi in range(nq):
        aff = np.where(ag.team == team_of_q[qi], 1.0, 0.12)[None, :]
        if qi == _FRAUD:  # borrowed people during a surge
            aff = aff + np.where(ag.team == team_of_q[qi], 0.0, 0.6)[None, :] * level[:, qi : qi + 1]
        if "new_hire" in ag.role and ag.team[ag.role["new_hire"]] != team_of_q[qi]:
            aff = (
                aff * np.where(np.arange(agents) == ag.role["new_hire"], 0.0, 1.0)[None, :]
            )  # not cross-trained yet
        w = weight * aff
        # fallbacks: anyone on shift, else anyone (only when nobody is scheduled at all)
        w = np.where(w.sum(axis=1)[:, None] > 0, w, weight)
        w = np.where(w.sum(axis=1)[:, None] > 0, w, 1.0)
        cw = np.cumsum(w, axis=1)
        cw = cw / cw[:, -1:]
        flat = (cw + np.arange(nb)[:, None]).ravel()
        m = np.flatnonzero(queue == qi)
        if len(m):
            idx = np.searchsorted(flat, sb[m] + u[m], side="left")
            agent[m] = np.clip(idx - sb[m] * agents, 0, agents - 1)

    # ---- work: handle time, response, escalation, waiting on the customer, reopening
    aht = np.array([q.aht_min for q in QUEUES])[queue] * 60.0
    mult = ag.speed[agent]
    if "new_hire" in ag.role:
        i = ag.role["new_hire"]
        nh = agent == i
        mult = np.where(nh, _new_hire_mult((pickup - ag.hire_us[i]) / WEEK), mult)
    sigma = 0.65
    handle = aht * mult * np.exp(sigma * rng.standard_normal(n) - sigma**2 / 2)
    handle = np.clip(np.round(handle), 20.0, 4 * 3600.0)
    wall = (handle * rng.uniform(1.0, 1.5, n) * US).astype(np.int64)
    first_resp = pickup + (wall * rng.uniform(0.05, 0.5, n)).astype(np.int64)
    work_end = pickup + wall

    esc_p = np.array([q.escalation for q in QUEUES])[queue]
    will_esc = rng.random(n) < esc_p
    reason = np.zeros(n, dtype=np.int64)
    for qi, q in enumerate(QUEUES):
        m = queue == qi
        reason[m] = _choice(rng, q.reasons, int(m.sum()))
    esc_at = first_resp + ((work_end - first_resp) * rng.uniform(0.2, 1.0, n)).astype(np.int64)
    esc_wait = _lognormal(rng, np.asarray(ESCALATION_MEDIAN_H)[reason] * HOUR, 0.8, n).astype(np.int64)
    esc_done = esc_at + esc_wait
    after_esc = (rng.uniform(5 * 60, 3 * 3600, n) * US).astype(np.int64)

    pend_p = np.array([q.pending for q in QUEUES])[queue]
    pending = (rng.random(n) < pend_p) & ~will_esc
    pend_wait = _lognormal(rng, 14 * HOUR, 0.9, n)
    stuck = rng.random(n) < 0.03  # a few wait far longer (customer never answers, chased twice)
    pend_wait = np.where(stuck, pend_wait * 5, pend_wait).clip(0, 14 * DAY).astype(np.int64)

    resolved1 = np.where(will_esc, esc_done + after_esc, np.where(pending, work_end + pend_wait, work_end))
    extra_handle = np.where(will_esc, np.round(rng.uniform(120, 900, n)), 0.0)

    reopen = rng.random(n) < 0.032
    reopen_at = resolved1 + _lognormal(rng, 28 * HOUR, 0.8, n).astype(np.int64)
    resolved2 = reopen_at + _lognormal(rng, 5 * HOUR, 0.9, n).astype(np.int64)
    rework = np.round(handle * rng.uniform(0.3, 0.8, n))

    # ---- what has happened by now
    T = k.now
    assigned = picked
    has_fr = assigned & (first_resp <= T)
    escalated = assigned & will_esc & (esc_at <= T)
    esc_resolved = escalated & (esc_done <= T)
    res1 = assigned & (resolved1 <= T)
    reopened = res1 & reopen & (reopen_at <= T)
    final_res = np.where(reopened, resolved2, resolved1)
    is_resolved = assigned & (final_res <= T)
    handle_total = handle + extra_handle + np.where(reopened, rework, 0.0)

    status = np.full(n, 0, dtype=np.int64)  # 0 open, 1 pending, 2 resolved
    waiting_customer = assigned & pending & (work_end <= T) & ~res1
    waiting_escalation = escalated & ~esc_resolved
    status[waiting_customer | waiting_escalation] = 1
    status[is_resolved] = 2

    outcome = np.zeros(n, dtype=np.int64)
    outcome_labels: list[str] = []
    for qi, q in enumerate(QUEUES):
        m = queue == qi
        omap = _labels(outcome_labels, list(q.outcomes))
        outcome[m] = omap[_choice(rng, list(q.outcomes.values()), int(m.sum()))]

    # explicit due time for urgent account takeovers (2 h instead of the 4 h target)
    ato = ctype_labels.index("account_takeover") if "account_takeover" in ctype_labels else -1
    has_due = (ctype == ato) & (prio == 0)
    due = created + 2 * HOUR

    width = max(7, len(str(n)))
    case_ids = _ids("C", n, width)
    cases_df = pl.DataFrame(
        {
            "case_id": case_ids,
            "created_at": _ts(created),
            "queue": _gather(QUEUE_NAMES, queue),
            "case_type": _gather(ctype_labels, ctype),
            "priority": _gather(PRIORITIES, prio),
            "channel": _gather(chan_labels, chan),
            "assigned_agent_id": _gather(ag.ids, agent, assigned),
            "first_response_at": _ts(first_resp, has_fr),
            "resolved_at": _ts(final_res, is_resolved),
            "handle_seconds": pl.Series(np.where(is_resolved, handle_total, np.nan), nan_to_null=True),
            "escalated": pl.Series(escalated, dtype=pl.Boolean),
            "escalated_at": _ts(esc_at, escalated),
            "escalation_reason": _gather(ESCALATION_REASONS, reason, escalated),
            "escalation_resolved_at": _ts(esc_done, esc_resolved),
            "sla_due_at": _ts(due, has_due),
            "reopened_count": pl.Series(reopened.astype(np.int64)),
            "outcome": _gather(outcome_labels, outcome, is_resolved),
            "status": _gather(("open", "pending", "resolved"), status),
        }
    ).cast(CONTRACT["cases"].dtypes)

    # free what the remaining tables do not need (matters at 10M cases)
    del queue, prio, ctype, chan, stream, cbin, sbin, sb, p_lo, p_hi, u, rank, gorder, gsorted, group
    del handle, wall, work_end, esc_p, will_esc, reason, esc_wait, after_esc, pend_p, pending, pend_wait
    del stuck, extra_handle, reopen, rework, handle_total, status, waiting_customer, waiting_escalation
    del outcome, has_due, due, mult, aht, picked

    # ---- QA reviews of resolved cases
    qa_pick = is_resolved & (rng.random(n) < 0.085)
    reviewed_at = final_res + (rng.uniform(1.0, 5.0, n) * DAY).astype(np.int64)
    qa_pick &= reviewed_at <= T
    qi_idx = np.flatnonzero(qa_pick)
    nr = len(qi_idx)
    ra = agent[qi_idx]
    work_t = pickup[qi_idx]
    qbase = ag.quality[ra].copy()
    crit_p = ag.crit[ra].copy()
    offsets = np.tile(np.array([1.0, 2.0, -3.0, 0.0]), (nr, 1))
    if "new_hire" in ag.role:
        i = ag.role["new_hire"]
        m = ra == i
        wk = (work_t[m] - ag.hire_us[i]) / WEEK
        qbase[m] = 79.0 + 9.0 * (1 - np.exp(-np.clip(wk, 0, None) / 3.0))
    if "slipping" in ag.role:
        i = ag.role["slipping"]
        m = ra == i
        ramp = np.clip((work_t[m] - k.slip_start) / WEEK, 0, 1)
        offsets[m] -= ramp[:, None] * np.array([10.0, 8.0, 45.0, 17.0])[None, :]
        crit_p[m] += 0.05 * ramp
    crit = rng.random(nr) < crit_p
    crit_scores = np.zeros((nr, len(CRITERIA)))
    crit_scores[:] = (
        qbase[:, None]
        + offsets
        + 4.0 * rng.standard_normal((nr, 1))
        + 6.0 * rng.standard_normal((nr, len(CRITERIA)))
    )
    hit = rng.integers(0, 2, nr)  # a critical error shows in policy accuracy or action correctness
    crit_rows = np.flatnonzero(crit)
    crit_scores[crit_rows, hit[crit_rows]] = rng.uniform(15, 50, len(crit_rows))
    crit_scores = np.clip(np.round(crit_scores), 0, 100)
    score = np.round(crit_scores.mean(axis=1), 1)

    band = np.where(crit, 3, np.where(score >= 85, 0, np.where(score >= 70, 1, 2)))
    pools = (_COMMENTS_HIGH, _COMMENTS_MID, _COMMENTS_LOW, _COMMENTS_CRITICAL)
    flat_comments = [c for p in pools for c in p]
    offs = np.cumsum([0] + [len(p) for p in pools])
    sizes = np.array([len(p) for p in pools])
    cidx = offs[band] + (rng.random(nr) * sizes[band]).astype(np.int64)
    has_comment = crit | (rng.random(nr) < 0.6)
    review_ids = _ids("R", nr, max(6, len(str(nr))))
    qa_df = pl.DataFrame(
        {
            "review_id": review_ids,
            "case_id": case_ids.gather(pl.Series(qi_idx.astype(np.int64)))
            if nr
            else pl.Series([], dtype=pl.String),
            "agent_id": _gather(ag.ids, ra),
            "reviewed_at": _ts(reviewed_at[qi_idx]),
            "score": pl.Series(score, dtype=pl.Float64),
            "reviewer_id": _gather(REVIEWERS, rng.integers(0, len(REVIEWERS), nr)),
            "critical_error": pl.Series(crit, dtype=pl.Boolean),
            "comment": _gather(flat_comments, cidx, has_comment),
        }
    ).cast(CONTRACT["qa_reviews"].dtypes)
    qa_crit_df = pl.DataFrame(
        {
            "review_id": review_ids.gather(pl.Series(np.repeat(np.arange(nr, dtype=np.int64), len(CRITERIA))))
            if nr
            else pl.Series([], dtype=pl.String),
            "criterion": _gather(CRITERIA, np.tile(np.arange(len(CRITERIA)), nr)),
            "score": pl.Series(crit_scores.ravel(), dtype=pl.Float64),
        }
    ).cast(CONTRACT["qa_criteria"].dtypes)

    # ---- events: per case in time order (created <= assigned <= first_response <= escalated <=
    # escalation_resolved <= resolved <= reopened <= resolved), so a stable sort by case suffices
    ev_types = (
        "created",
        "assigned",
        "first_response",
        "escalated",
        "escalation_resolved",
        "resolved",
        "reopened",
    )
    idx_all = np.arange(n, dtype=np.int64)
    agent16 = agent.astype(np.int32)
    steps = (
        (None, created, 0, False),
        (assigned, pickup, 1, True),
        (has_fr, first_resp, 2, True),
        (escalated, esc_at, 3, True),
        (esc_resolved, esc_done, 4, False),
        (res1, resolved1, 5, True),
        (reopened, reopen_at, 6, False),
        (reopened & is_resolved, resolved2, 5, True),
    )
    ev_i = np.concatenate([idx_all if m is None else idx_all[m] for m, _, _, _ in steps])
    ev_ts = np.concatenate([ts if m is None else ts[m] for m, ts, _, _ in steps])
    ev_t = np.concatenate(
        [np.full(n if m is None else int(m.sum()), t, dtype=np.int64) for m, _, t, _ in steps]
    )
    ev_a = np.concatenate(
        [
            (agent16 if m is None else agent16[m])
            if with_agent
            else np.full(n if m is None else int(m.sum()), -1, np.int32)
            for m, _, _, with_agent in steps
        ]
    )
    del idx_all, agent16
    order = np.argsort(ev_i, kind="stable")
    ev_i, ev_ts, ev_t, ev_a = ev_i[order], ev_ts[order], ev_t[order], ev_a[order]
    del order
    events_df = pl.DataFrame(
        {
            "case_id": case_ids.gather(pl.Series(ev_i)) if len(ev_i) else pl.Series([], dtype=pl.String),
            "ts": _ts(ev_ts),
            "event_type": _gather(ev_types, ev_t),
            "agent_id": _gather(ag.ids, ev_a, ev_a >= 0),
        }
    ).cast(CONTRACT["events"].dtypes)

    inside = sh_s >= k.start
    shifts_df = pl.DataFrame(
        {
            "agent_id": _gather(ag.ids, sh_a[inside]),
            "start": _ts(sh_s[inside]),
            "end": _ts(sh_e[inside]),
        }
    ).cast(CONTRACT["shifts"].dtypes)

    return {
        "agents": ag.frame,
        "cases": cases_df,
        "qa_reviews": qa_df,
        "qa_criteria": qa_crit_df,
        "events": events_df,
        "shifts": shifts_df,
    }


def generate_to(out: str, **kwargs) -> dict[str, int]:
    """Generate (``generate(**kwargs)``) and write with
    :func:`tsdash.sources.write.write_tables`; returns row counts per table.

    Writer options ``fmt``, ``if_exists`` and ``schema`` are passed to the writer.
    """
    from tsdash.sources.write import write_tables

    write_kw = {key: kwargs.pop(key) for key in ("fmt", "if_exists", "schema") if key in kwargs}
    tables = generate(**kwargs)
    write_tables(tables, out, **write_kw)
    return {name: frame.height for name, frame in tables.items()}


__all__ = ["generate", "generate_to", "describe", "ROLES", "QUEUE_NAMES", "ESCALATION_REASONS", "CRITERIA"]
