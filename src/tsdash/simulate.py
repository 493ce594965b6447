"""Live simulator: keeps a demo database moving so the Live workload page has something to show.

``tsdash simulate --source URL [--rate 1.5] [--duration 10m] [--seed N] [--tick 1s]`` wraps
:func:`run`. The simulator writes through a SQLAlchemy engine of its own (never the read-only
source engine) into the tables ``tsdash demo`` writes (same layout and storage conventions as
:mod:`tsdash.sources.write`: SQLite timestamps as naive-UTC text, booleans 0/1; PostgreSQL
``timestamptz`` and ``boolean``).

What it does, on the wall clock (every timestamp written is the current UTC time):

* **Arrivals.** New cases arrive as a Poisson process at ``rate`` cases per minute on average
  (default 1.5). Which queue a case lands in follows the demo's mix for the current local
  (Europe/Berlin) hour and weekday (queue share x hour-of-day x day-of-week profile, so
  livestream moderation dominates the evening); case type, priority and channel follow the
  queue's demo distributions. Ids continue after the largest existing id (``C0000001`` style),
  so a restart never collides.
* **Assignment.** A case is picked up 5-90 s after it arrives (triage) by a free agent who is on
  shift now (a row of ``shifts`` covering the current time), or by any active agent when nobody
  is on shift. Highest priority first, first come first served within a priority; agents of the
  team that owns the queue are preferred (as in the demo), faster agents pick up more.
* **Work.** Handle time is the demo's log-normal (queue mean, agent speed, new-hire curve); the
  first response comes 5-50 % into the work; about 8 % of cases are escalated (the queue's demo
  probability and reasons) and resolved after the escalation is answered (the demo's waiting
  times: hours); some wait on the customer (hours); the rest are resolved when the work ends.
  An agent works one case at a time and takes 5-60 s before the next one.
* **QA.** Reviews arrive at 8.5 % of the arrival rate; each scores a resolved, unreviewed case
  (one resolved 1-5 days ago when there is one, as in the demo; otherwise one the simulator
  resolved) with the demo's four criteria and the agent's quality level.
* **Events** are written for every step (created, assigned, first_response, escalated,
  escalation_resolved, resolved).

Cases that are open when the simulator starts are taken over: unassigned ones wait in the queue,
in-progress ones get the rest of a fresh handle time, escalated and pending ones a fresh
remainder of their waiting time. Reopening is not simulated.

Each tick is one transaction (all-or-nothing). If a tick cannot be written (database locked,
connection lost), its changes are kept and written with the next tick. SQLite is switched to WAL
mode (readers never block the writer, and never see a half-written tick) with a busy timeout.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from tsdash.config import mask_url
from tsdash.demo import (
    _COMMENTS_CRITICAL,
    _COMMENTS_HIGH,
    _COMMENTS_LOW,
    _COMMENTS_MID,
    CRITERIA,
    ESCALATION_MEDIAN_H,
    ESCALATION_REASONS,
    LOCAL_TZ,
    PRIORITIES,
    QUEUES,
    REVIEWERS,
    ROLES,
    TEAMS,
    QueueSpec,
    _new_hire_mult,
)
from tsdash.schema import CONTRACT

UTC = dt.UTC
DEFAULT_RATE = 1.5  # new cases per minute
DEFAULT_TICK_S = 1.0
REVIEW_SHARE = 0.085  # reviews per arriving case (the demo reviews ~8.5 % of resolved cases)
MAX_FAILED_TICKS = 30  # consecutive failed writes before giving up
SQLITE_BUSY_TIMEOUT_MS = 5000
_TS_TEXT = "%Y-%m-%d %H:%M:%S.%f"  # SQLite storage (tsdash.sources.write.SQLITE_TS_FORMAT)
_SPEC = {q.name: q for q in QUEUES}
_DEFAULT_SPEC = _SPEC["buyer_disputes"]  # for queues the demo does not know
_ROLE_OF = {aid: role for role, aid in ROLES.items()}


class SimulateError(ValueError):
    """The simulator cannot run against this target; the message says why and what to do."""


# --------------------------------------------------------------------------- summary


@dataclass
class Summary:
    """What the simulator wrote (committed changes only)."""

    created: int = 0
    assigned: int = 0
    responded: int = 0
    escalated: int = 0
    resolved: int = 0
    reviews: int = 0
    ticks: int = 0  # committed transactions
    failed_ticks: int = 0
    seconds: float = 0.0
    uncommitted: int = 0  # changes dropped at the end because the last write failed

    def add(self, other: dict[str, int]) -> None:
        for k, v in other.items():
            setattr(self, k, getattr(self, k) + v)

    def text(self) -> str:
        out = (
            f"{self.created} cases created, {self.assigned} assigned, {self.resolved} resolved, "
            f"{self.escalated} escalated, {self.reviews} reviews "
            f"({self.ticks} transactions in {self.seconds:.1f} s)"
        )
        if self.failed_ticks:
            out += f"; {self.failed_ticks} writes retried"
        if self.uncommitted:
            out += f"; {self.uncommitted} changes not written (the database was not writable)"
        return out


def parse_duration(text: str | float | int) -> float:
    """Seconds from ``30s``, ``10m``, ``1h``, ``500ms`` or a plain number of seconds.

    >>> parse_duration("10m"), parse_duration("1.5h"), parse_duration("250ms"), parse_duration("7")
    (600.0, 5400.0, 0.25, 7.0)
    """
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*", str(text).lower())
        if not m:
            raise ValueError(f"{text!r} is not a duration; use e.g. 30s, 10m or 1h")
        unit = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}[m.group(2)]
        value = float(m.group(1)) * unit
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{text!r}: a duration must be more than zero")
    return value


# --------------------------------------------------------------------------- state


@dataclass
class _Agent:
    agent_id: str
    team: int | None  # index into demo TEAMS, None for other team names
    active: bool
    speed: float  # handle-time multiplier
    quality: float  # QA base level
    crit: float  # probability of a critical error
    hired: dt.date | None
    role: str | None
    free_at: float = 0.0
    busy: str | None = None  # case being worked

    def speed_at(self, t: float) -> float:
        if self.role == "new_hire" and self.hired is not None:
            weeks = (t - _midnight(self.hired)) / (7 * 86400)
            return float(_new_hire_mult(np.array([weeks]))[0])
        return self.speed


@dataclass
class _Case:
    case_id: str
    spec: QueueSpec
    priority: int
    created: float
    agent: str | None = None
    responded: bool = False
    escalated: bool = False
    handle: float = 0.0
    extra: float = 0.0


@dataclass
class _Batch:
    """Changes of one or more ticks, written in one transaction."""

    inserts: dict[str, list[dict]] = field(default_factory=dict)
    updates: dict[str, dict] = field(default_factory=dict)  # case_id -> column values
    new_cases: dict[str, dict] = field(default_factory=dict)  # case_id -> row in inserts["cases"]
    stats: dict[str, int] = field(default_factory=dict)

    def insert(self, table: str, row: dict) -> None:
        self.inserts.setdefault(table, []).append(row)
        if table == "cases":
            self.new_cases[row["case_id"]] = row

    def update(self, case_id: str, **values) -> None:
        row = self.new_cases.get(case_id)
        if row is not None:
            row.update(values)
        else:
            self.updates.setdefault(case_id, {}).update(values)

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    def size(self) -> int:
        return sum(len(v) for v in self.inserts.values()) + len(self.updates)


def _ts(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, UTC)


def _epoch(value) -> float | None:
    """A timestamp read back from the database (aware datetime, naive-UTC datetime or text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _midnight(day: dt.date) -> float:
    return dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(LOCAL_TZ)).timestamp()


def _as_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _as_bool(value) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "t", "yes", "y")
    return bool(value)


def _pick(rng: np.random.Generator, weights) -> int:
    p = np.asarray(list(weights), dtype=float)
    return int(rng.choice(len(p), p=p / p.sum()))


# --------------------------------------------------------------------------- database


class _Store:
    """The writer connection: reads the starting state, writes batches (one transaction each)."""

    def __init__(self, url: str, schema: str | None):
        from sqlalchemy import create_engine, event
        from sqlalchemy.engine import make_url

        try:
            u = make_url(url)
        except Exception as exc:
            raise SimulateError(f"{mask_url(url)}: not a database URL ({exc}).") from None
        self.url = url
        self.backend = u.get_backend_name()
        self.schema = schema
        self.path: Path | None = None
        self._inode: tuple[int, int] | None = None
        if self.backend == "sqlite":
            db = u.database or ""
            if db.startswith("file:"):
                db = db[len("file:") :]
            if not db or db == ":memory:":
                raise SimulateError(f"{url}: give a SQLite file (an in-memory database cannot be watched).")
            self.path = Path(db.split("?", 1)[0])
            if not self.path.is_file():
                raise SimulateError(
                    f"SQLite file {self.path} does not exist. Create it first: tsdash demo --out {self.path}"
                )
            st = os.stat(self.path)
            self._inode = (st.st_dev, st.st_ino)
            # a plain writable URL (mode=ro or query_only would make every tick fail)
            self.engine = create_engine(f"sqlite:///{self.path}")

            @event.listens_for(self.engine, "connect")
            def _connect(dbapi_conn, _record):
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
                cur = dbapi_conn.cursor()
                cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
                mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                cur.close()
                if str(mode).lower() != "wal":
                    raise SimulateError(f"{self.path}: cannot switch to WAL journal mode (got {mode}).")

            @event.listens_for(self.engine, "begin")
            def _begin(conn):
                # take the write lock at the start: the whole tick is one serialized transaction
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        elif self.backend == "postgresql":
            self.engine = create_engine(
                url,
                pool_pre_ping=True,
                connect_args={"connect_timeout": 5, "options": "-c TimeZone=UTC"},
            )
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        self.columns: dict[str, list[str]] = {}
        self.tables: dict[str, object] = {}

    # ---- layout

    def inspect(self) -> None:
        from sqlalchemy import column, inspect, table
        from sqlalchemy.exc import SQLAlchemyError

        where = mask_url(self.url)
        try:
            with self.engine.connect() as conn:
                insp = inspect(conn)
                names = set(insp.get_table_names(schema=self.schema))
                for name in ("agents", "cases", "events", "qa_reviews", "qa_criteria", "shifts"):
                    if name in names:
                        self.columns[name] = [c["name"] for c in insp.get_columns(name, schema=self.schema)]
        except SQLAlchemyError as exc:
            raise SimulateError(f"{where}: {_first_line(exc)}") from None
        prefix = f"{self.schema}." if self.schema else ""
        for name in ("agents", "cases"):
            if name not in self.columns:
                raise SimulateError(
                    f"{where}: table {prefix}{name} is missing. The simulator writes into the demo's tables; "
                    f"create them with: tsdash demo --out {where}"
                )
        for name, cols in self.columns.items():
            missing = [c for c in CONTRACT[name].required if c not in cols]
            if name == "cases":
                missing += [
                    c
                    for c in ("assigned_agent_id", "first_response_at", "resolved_at", "handle_seconds")
                    if c not in cols
                ]
            if missing:
                raise SimulateError(
                    f"{where}: table {prefix}{name} has no column(s) {', '.join(missing)}; the simulator "
                    "writes the demo's layout (tsdash demo)."
                )
            self.tables[name] = table(name, *(column(c) for c in cols), schema=self.schema)

    def has(self, name: str) -> bool:
        return name in self.tables

    # ---- values

    def value(self, v):
        if isinstance(v, dt.datetime):
            return (
                v.astimezone(UTC).replace(tzinfo=None).strftime(_TS_TEXT) if self.backend == "sqlite" else v
            )
        if isinstance(v, bool) and self.backend == "sqlite":
            return int(v)
        return v

    def _row(self, name: str, row: dict) -> dict:
        cols = self.columns[name]
        return {c: self.value(row.get(c)) for c in cols if c in row}

    # ---- reads at start

    def fetch(self, stmt) -> list[dict]:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(stmt)]
        except SQLAlchemyError as exc:
            raise SimulateError(f"{mask_url(self.url)}: {_first_line(exc)}") from None

    def max_id(self, name: str, col: str, prefix: str) -> tuple[int, int]:
        """(largest number, digit count) of ids ``prefix`` + digits in ``name.col``; (0, 0) if none."""
        from sqlalchemy import func, select

        t = self.tables[name]
        c = t.c[col]
        rows = self.fetch(
            select(c).where(c.like(f"{prefix}%")).order_by(func.length(c).desc(), c.desc()).limit(200)
        )
        pat = re.compile(rf"^{re.escape(prefix)}(\d+)$")
        best = (0, 0)
        for r in rows:
            m = pat.match(str(r[col]))
            if m and (int(m.group(1)), len(m.group(1))) > best:
                best = (int(m.group(1)), len(m.group(1)))
        return best

    # ---- writes

    def replaced(self) -> bool:
        """True when the SQLite file was replaced (e.g. by ``tsdash demo``) under the simulator."""
        if self.path is None or self._inode is None:
            return False
        try:
            st = os.stat(self.path)
        except OSError:
            return True
        return (st.st_dev, st.st_ino) != self._inode

    def write(self, batch: _Batch) -> None:
        """Write the batch in one transaction (rolled back on any error)."""
        from sqlalchemy import bindparam, insert, update

        with self.engine.begin() as conn:
            for name in ("cases", "events", "qa_reviews", "qa_criteria"):
                rows = batch.inserts.get(name)
                if rows and name in self.tables:
                    # every row with every column (an executemany wants the same keys in each row)
                    cols = self.columns[name]
                    conn.execute(
                        insert(self.tables[name]), [{c: self.value(r.get(c)) for c in cols} for r in rows]
                    )
            if batch.updates:
                t = self.tables["cases"]
                groups: dict[tuple[str, ...], list[dict]] = {}
                for case_id, values in batch.updates.items():
                    vals = self._row("cases", values)
                    key = tuple(sorted(vals))
                    if not key:
                        continue
                    groups.setdefault(key, []).append(
                        {"k_case_id": case_id} | {f"v_{c}": vals[c] for c in key}
                    )
                for key, params in groups.items():
                    # `resolved_at IS NULL` lets the resolved_at index find the (few) open rows
                    stmt = (
                        update(t)
                        .where(t.c.case_id == bindparam("k_case_id"), t.c.resolved_at.is_(None))
                        .values({c: bindparam(f"v_{c}") for c in key})
                    )
                    conn.execute(stmt, params)

    def close(self) -> None:
        self.engine.dispose()


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- simulator


class Simulator:
    """The simulation state and one :meth:`tick` per transaction.

    ``url``: SQLAlchemy URL of a SQLite file or PostgreSQL database holding the demo's tables;
    ``rate``: new cases per minute (Poisson); ``schema``: PostgreSQL schema of the tables;
    ``now``: the start time (default: the current time; tests pass a clock of their own).
    """

    def __init__(
        self,
        url: str,
        *,
        rate: float = DEFAULT_RATE,
        seed: int | None = None,
        schema: str | None = None,
        now: dt.datetime | None = None,
    ):
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            raise SimulateError(f"rate must be a number of cases per minute above 0, got {rate!r}")
        self.rate = float(rate)
        self.rng = np.random.default_rng(seed)
        self.store = _Store(url, schema)
        self.summary = Summary()
        self._heap: list[tuple[float, int, str, str]] = []
        self._seq = itertools.count()
        self._waiting: list[tuple[int, float, int, str]] = []
        self._cases: dict[str, _Case] = {}
        self._agents: dict[str, _Agent] = {}
        self._shifts: list[tuple[str, float, float]] = []
        self._aged: list[tuple[str, str, float]] = []  # review candidates: (case, agent, resolved)
        self._fresh: list[tuple[str, str, float]] = []
        self._pending = _Batch()
        self._failures = 0
        try:
            self.store.inspect()
            t0 = (now or dt.datetime.now(UTC)).timestamp()
            self._last = t0
            self._load(t0)
        except BaseException:
            self.store.close()
            raise

    # ---- start

    def _load(self, t0: float) -> None:
        from sqlalchemy import func, not_, select

        st = self.store
        a = st.tables["agents"]
        for r in st.fetch(select(a)):
            aid = str(r["agent_id"])
            role = _ROLE_OF.get(aid)
            active = _as_bool(r.get("active"))
            team = r.get("team")
            # per-agent speed and quality: the demo's distributions, drawn per id (stable for a seed)
            speed = float(np.exp(0.12 * self.rng.standard_normal()))
            quality = float(np.clip(87 + 3 * self.rng.standard_normal(), 80, 93))
            crit = 0.025
            if role == "slow_accurate":
                speed, quality, crit = 1.5, 95.0, 0.005
            elif role == "fast_error_prone":
                speed, quality, crit = 0.6, 74.0, 0.13
            elif role == "slipping":
                speed, quality = 1.0, 90.0
            elif role == "new_hire":
                speed, quality, crit = 1.0, 88.0, 0.05
            self._agents[aid] = _Agent(
                aid,
                TEAMS.index(team) if team in TEAMS else None,
                active is not False,
                speed,
                quality,
                crit,
                _as_date(r.get("hired_on")),
                role,
                free_at=t0 + float(self.rng.uniform(0, 60)),
            )
        if not any(ag.active for ag in self._agents.values()):
            raise SimulateError(f"{mask_url(st.url)}: table agents has no active agent to assign cases to.")

        if st.has("shifts"):
            s = st.tables["shifts"]
            for r in st.fetch(select(s.c.agent_id, s.c.start, s.c.end)):
                start, end = _epoch(r["start"]), _epoch(r["end"])
                if start is not None and end is not None and end > t0:
                    self._shifts.append((str(r["agent_id"]), start, end))

        c = st.tables["cases"]
        cols = st.columns["cases"]
        latest = st.fetch(select(func.max(c.c.created_at).label("m")))[0]["m"]
        if latest is not None and _epoch(latest) > t0 + 60:
            raise SimulateError(
                f"{mask_url(st.url)}: the latest case was created at {_ts(_epoch(latest)):%Y-%m-%d %H:%M} UTC, "
                "after the current time; the simulator writes the current time. Regenerate the demo without "
                "a future --now (tsdash demo --out ...)."
            )
        want = [
            x
            for x in (
                "case_id",
                "created_at",
                "queue",
                "priority",
                "assigned_agent_id",
                "first_response_at",
                "escalated",
                "escalated_at",
                "escalation_reason",
                "escalation_resolved_at",
                "status",
            )
            if x in cols
        ]
        for r in st.fetch(select(*(c.c[x] for x in want)).where(c.c.resolved_at.is_(None))):
            self._restore(r, t0)

        if st.has("qa_reviews"):
            q = st.tables["qa_reviews"]
            lo, hi = _ts(t0 - 5 * 86400), _ts(t0 - 86400)
            rows = st.fetch(
                select(c.c.case_id, c.c.assigned_agent_id, c.c.resolved_at)
                .where(
                    c.c.resolved_at >= st.value(lo),
                    c.c.resolved_at < st.value(hi),
                    c.c.assigned_agent_id.is_not(None),
                    not_(c.c.case_id.in_(select(q.c.case_id).where(q.c.case_id.is_not(None)))),
                )
                .order_by(c.c.resolved_at.desc())
                .limit(5000)
            )
            self._aged = [
                (str(r["case_id"]), str(r["assigned_agent_id"]), _epoch(r["resolved_at"])) for r in rows
            ]
        self._review_no, width = st.max_id("qa_reviews", "review_id", "R") if st.has("qa_reviews") else (0, 0)
        self._review_width = max(width, 6)
        self._case_no, width = st.max_id("cases", "case_id", "C")
        self._case_width = max(width, 7)
        for ag in self._agents.values():
            if ag.busy is None:
                self._push(ag.free_at, "free", ag.agent_id)

    def _restore(self, r: dict, t0: float) -> None:
        """Take over a case that is open at the start (fresh remainders of its times)."""
        rng = self.rng
        pri = PRIORITIES.index(r.get("priority")) if r.get("priority") in PRIORITIES else 2
        case = _Case(
            str(r["case_id"]), _SPEC.get(r.get("queue"), _DEFAULT_SPEC), pri, _epoch(r["created_at"]) or t0
        )
        self._cases[case.case_id] = case
        agent = r.get("assigned_agent_id")
        if agent is None:
            self._push(t0, "ready", case.case_id)
            return
        case.agent = str(agent)
        case.responded = r.get("first_response_at") is not None
        case.escalated = bool(_as_bool(r.get("escalated"))) or r.get("escalated_at") is not None
        case.handle = self._handle(case, self._agents.get(case.agent), t0)
        if case.escalated:
            case.extra = float(np.round(rng.uniform(120, 900)))
            if r.get("escalation_resolved_at") is None:
                reason = r.get("escalation_reason")
                ri = ESCALATION_REASONS.index(reason) if reason in ESCALATION_REASONS else 2
                wait = ESCALATION_MEDIAN_H[ri] * 3600 * math.exp(0.8 * rng.standard_normal())
                self._push(t0 + wait * rng.uniform(0.05, 1), "esc_done", case.case_id)
            else:
                self._push(t0 + rng.uniform(0, 3 * 3600), "resolve", case.case_id)
        elif r.get("status") == "pending":
            self._push(t0 + self._pending_wait() * rng.uniform(0.05, 1), "resolve", case.case_id)
        else:  # in progress: the rest of the work
            ag = self._agents.get(case.agent)
            remaining = case.handle * rng.uniform(1.0, 1.5) * rng.uniform(0.1, 1.0)
            self._plan_work(case, t0, t0 + remaining)
            if ag is not None:
                ag.busy = case.case_id

    # ---- model pieces (the demo's distributions)

    def _handle(self, case: _Case, agent: _Agent | None, t: float) -> float:
        mult = agent.speed_at(t) if agent is not None else 1.0
        sigma = 0.65
        h = case.spec.aht_min * 60.0 * mult * math.exp(sigma * self.rng.standard_normal() - sigma**2 / 2)
        return float(np.clip(round(h), 20.0, 4 * 3600.0))

    def _pending_wait(self) -> float:
        w = 14 * 3600 * math.exp(0.9 * self.rng.standard_normal())
        if self.rng.random() < 0.03:  # a few wait far longer
            w *= 5
        return min(w, 14 * 86400)

    def _queue_weights(self, t: float) -> list[float]:
        local = _ts(t).astimezone(ZoneInfo(LOCAL_TZ))
        return [q.share * q.daily[local.hour] * q.weekly[local.weekday()] for q in QUEUES]

    def _plan_work(self, case: _Case, start: float, work_end: float) -> None:
        rng = self.rng
        first = start + (work_end - start) * rng.uniform(0.05, 0.5)
        if not case.responded:
            self._push(first, "respond", case.case_id)
        if not case.escalated and rng.random() < case.spec.escalation:
            esc_at = first + (work_end - first) * rng.uniform(0.2, 1.0)
            self._push(esc_at, "escalate", case.case_id)
        else:
            self._push(work_end, "work_end", case.case_id)

    # ---- events

    def _push(self, t: float, kind: str, key: str) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), kind, key))

    def _on_shift(self, t: float) -> set[str] | None:
        on = {a for a, s, e in self._shifts if s <= t < e and a in self._agents and self._agents[a].active}
        return on or None

    def _dispatch(self, t: float, b: _Batch) -> None:
        if not self._waiting:
            return
        on = self._on_shift(t)
        free = [
            ag
            for ag in self._agents.values()
            if ag.active and ag.busy is None and ag.free_at <= t and (on is None or ag.agent_id in on)
        ]
        while self._waiting and free:
            _, _, _, case_id = heapq.heappop(self._waiting)
            case = self._cases[case_id]
            base = np.array([1.0 / ag.speed_at(t) for ag in free])
            aff = np.array(
                [
                    1.0
                    if ag.team is None or case.spec.team % len(TEAMS) == ag.team
                    else (0.0 if ag.role == "new_hire" else 0.12)  # a new hire is not cross-trained yet
                    for ag in free
                ]
            )
            w = base * aff if (base * aff).sum() > 0 else base
            ag = free.pop(_pick(self.rng, w))
            case.agent = ag.agent_id
            ag.busy = case_id
            case.handle = self._handle(case, ag, t)
            wall = case.handle * self.rng.uniform(1.0, 1.5)
            b.update(case_id, assigned_agent_id=ag.agent_id)
            b.insert(
                "events",
                {"case_id": case_id, "ts": _ts(t), "event_type": "assigned", "agent_id": ag.agent_id},
            )
            b.count("assigned")
            self._plan_work(case, t, t + wall)

    def _free(self, case: _Case, t: float) -> None:
        ag = self._agents.get(case.agent or "")
        if ag is not None and ag.busy == case.case_id:
            ag.busy = None
            ag.free_at = t + float(self.rng.uniform(5, 60))
            self._push(ag.free_at, "free", ag.agent_id)

    def _arrive(self, t: float, b: _Batch) -> None:
        rng = self.rng
        qi = _pick(rng, self._queue_weights(t))
        spec = QUEUES[qi]
        self._case_no += 1
        case_id = f"C{self._case_no:0{self._case_width}d}"
        pri = _pick(rng, spec.priorities)
        ctype = list(spec.case_types)[_pick(rng, spec.case_types.values())]
        channel = list(spec.channels)[_pick(rng, spec.channels.values())]
        created = _ts(t)
        row = {
            "case_id": case_id,
            "created_at": created,
            "queue": spec.name,
            "case_type": ctype,
            "priority": PRIORITIES[pri],
            "channel": channel,
            "escalated": False,
            "reopened_count": 0,
            "status": "open",
        }
        if ctype == "account_takeover" and pri == 0:  # the demo's explicit 2-hour due time
            row["sla_due_at"] = created + dt.timedelta(hours=2)
        b.insert("cases", row)
        b.insert("events", {"case_id": case_id, "ts": created, "event_type": "created", "agent_id": None})
        b.count("created")
        self._cases[case_id] = _Case(case_id, spec, pri, t)
        self._push(t + rng.uniform(5, 90), "ready", case_id)  # triage takes a moment

    def _resolve(self, case: _Case, t: float, b: _Batch) -> None:
        outcome = list(case.spec.outcomes)[_pick(self.rng, case.spec.outcomes.values())]
        b.update(
            case.case_id,
            resolved_at=_ts(t),
            handle_seconds=float(case.handle + case.extra),
            outcome=outcome,
            status="resolved",
        )
        b.insert(
            "events",
            {"case_id": case.case_id, "ts": _ts(t), "event_type": "resolved", "agent_id": case.agent},
        )
        b.count("resolved")
        del self._cases[case.case_id]
        if case.agent is not None:
            self._fresh.append((case.case_id, case.agent, t))

    def _event(self, t: float, kind: str, key: str, b: _Batch) -> None:
        if kind == "arrive":
            self._arrive(t, b)
            return
        if kind == "free":
            self._dispatch(t, b)
            return
        if kind == "review":
            self._review(t, b)
            return
        case = self._cases.get(key)
        if case is None:
            return
        ev = {"case_id": key, "ts": _ts(t), "agent_id": case.agent}
        if kind == "ready":
            heapq.heappush(self._waiting, (case.priority, case.created, next(self._seq), key))
            self._dispatch(t, b)
        elif kind == "respond":
            case.responded = True
            b.update(key, first_response_at=_ts(t))
            b.insert("events", ev | {"event_type": "first_response"})
            b.count("responded")
        elif kind == "escalate":
            case.escalated = True
            reason = ESCALATION_REASONS[_pick(self.rng, case.spec.reasons)]
            b.update(key, escalated=True, escalated_at=_ts(t), escalation_reason=reason, status="pending")
            b.insert("events", ev | {"event_type": "escalated"})
            b.count("escalated")
            case.extra = float(np.round(self.rng.uniform(120, 900)))
            wait = ESCALATION_MEDIAN_H[ESCALATION_REASONS.index(reason)] * 3600
            self._push(t + wait * math.exp(0.8 * self.rng.standard_normal()), "esc_done", key)
            self._free(case, t)
        elif kind == "esc_done":
            b.update(key, escalation_resolved_at=_ts(t), status="open")
            b.insert("events", ev | {"event_type": "escalation_resolved", "agent_id": None})
            self._push(t + self.rng.uniform(5 * 60, 3 * 3600), "resolve", key)
        elif kind == "work_end":
            self._free(case, t)
            if self.rng.random() < case.spec.pending:  # waits on the customer
                b.update(key, status="pending")
                self._push(t + self._pending_wait(), "resolve", key)
            else:
                self._resolve(case, t, b)
        elif kind == "resolve":
            self._resolve(case, t, b)

    def _review(self, t: float, b: _Batch) -> None:
        if not self.store.has("qa_reviews"):
            return
        rng = self.rng
        pool = self._aged or self._fresh
        if not pool:
            return
        case_id, agent_id, resolved = pool.pop(int(rng.integers(len(pool))))
        ag = self._agents.get(agent_id)
        qbase = ag.quality if ag is not None else 87.0
        crit_p = ag.crit if ag is not None else 0.025
        offsets = np.array([1.0, 2.0, -3.0, 0.0])
        if ag is not None and ag.role == "new_hire" and ag.hired is not None:
            wk = max((resolved - _midnight(ag.hired)) / (7 * 86400), 0.0)
            qbase = 79.0 + 9.0 * (1 - math.exp(-wk / 3.0))
        if ag is not None and ag.role == "slipping":  # fully slipped by now (the demo's last weeks)
            offsets -= np.array([10.0, 8.0, 45.0, 17.0])
            crit_p += 0.05
        crit = bool(rng.random() < crit_p)
        scores = qbase + offsets + 4.0 * rng.standard_normal() + 6.0 * rng.standard_normal(len(CRITERIA))
        if crit:  # a critical error shows in policy accuracy or action correctness
            scores[int(rng.integers(0, 2))] = rng.uniform(15, 50)
        scores = np.clip(np.round(scores), 0, 100)
        score = round(float(scores.mean()), 1)
        pool_c = (
            _COMMENTS_CRITICAL
            if crit
            else _COMMENTS_HIGH
            if score >= 85
            else _COMMENTS_MID
            if score >= 70
            else _COMMENTS_LOW
        )
        comment = pool_c[int(rng.integers(len(pool_c)))] if (crit or rng.random() < 0.6) else None
        self._review_no += 1
        rid = f"R{self._review_no:0{self._review_width}d}"
        b.insert(
            "qa_reviews",
            {
                "review_id": rid,
                "case_id": case_id,
                "agent_id": agent_id,
                "reviewed_at": _ts(t),
                "score": score,
                "reviewer_id": REVIEWERS[int(rng.integers(len(REVIEWERS)))],
                "critical_error": crit,
                "comment": comment,
            },
        )
        if self.store.has("qa_criteria"):
            for name, s in zip(CRITERIA, scores, strict=True):
                b.insert("qa_criteria", {"review_id": rid, "criterion": name, "score": float(s)})
        b.count("reviews")

    def describe(self) -> str:
        """One line: rate, cases taken over, agents, next id."""
        active = sum(ag.active for ag in self._agents.values())
        on = self._on_shift(self._last)
        staff = (
            f"{len(on)} of {active} active agents on shift"
            if on
            else f"{active} active agents (nobody on shift)"
        )
        return (
            f"{self.rate:g} new cases per minute, {len(self._cases)} open cases taken over, {staff}, "
            f"next case C{self._case_no + 1:0{self._case_width}d}"
        )

    # ---- one tick

    def tick(self, now: dt.datetime | None = None) -> bool:
        """Advance to ``now`` (default: the current time) and write what happened in one
        transaction. Returns True when the changes are committed (or there were none)."""
        t = (now or dt.datetime.now(UTC)).timestamp()
        if self.store.replaced():
            raise SimulateError(
                f"{self.store.path} was replaced by another program (e.g. tsdash demo); restart the simulator."
            )
        dt_s = max(t - self._last, 0.0)
        rng = self.rng
        for k in range(int(rng.poisson(self.rate / 60.0 * dt_s))):
            self._push(self._last + rng.uniform(0, dt_s), "arrive", str(k))
        for k in range(int(rng.poisson(REVIEW_SHARE * self.rate / 60.0 * dt_s))):
            self._push(self._last + rng.uniform(0, dt_s), "review", str(k))
        b = self._pending
        while self._heap and self._heap[0][0] <= t:
            te, _, kind, key = heapq.heappop(self._heap)
            self._event(te, kind, key, b)
        self._dispatch(t, b)  # agents who came on shift
        self._last = t
        if not b.size():
            return True
        try:
            self.store.write(b)
        except SimulateError:
            raise
        except Exception as exc:  # locked, connection lost...: keep the changes, retry next tick
            self._failures += 1
            self.summary.failed_ticks += 1
            self.last_error = _first_line(exc)
            if self._failures >= MAX_FAILED_TICKS:
                raise SimulateError(
                    f"{mask_url(self.store.url)}: {self._failures} writes in a row failed; last error: "
                    f"{self.last_error}"
                ) from None
            return False
        self._failures = 0
        self.summary.add(b.stats)
        self.summary.ticks += 1
        self._pending = _Batch()
        return True

    def flush(self) -> bool:
        """Try once more to write changes a failed tick left behind."""
        b = self._pending
        if not b.size():
            return True
        try:
            self.store.write(b)
        except Exception as exc:
            self.last_error = _first_line(exc)
            return False
        self.summary.add(b.stats)
        self.summary.ticks += 1
        self._pending = _Batch()
        return True

    def close(self) -> None:
        self.summary.uncommitted = self._pending.size()
        self.store.close()


# --------------------------------------------------------------------------- run


def run(
    engine_url: str,
    rate: float = DEFAULT_RATE,
    duration_s: float | None = None,
    seed: int | None = None,
    stop_event: threading.Event | None = None,
    *,
    tick_s: float = DEFAULT_TICK_S,
    schema: str | None = None,
    report: Callable[[str], None] | None = None,
    report_every_s: float = 60.0,
) -> Summary:
    """Simulate on the wall clock until ``duration_s`` has passed or ``stop_event`` is set; one
    transaction per ``tick_s``. Returns what was written. The tick in progress when
    ``stop_event`` is set is finished (committed, or rolled back if the write fails).

    Raises :class:`SimulateError` when the target cannot be used (the message says why).
    """
    if tick_s <= 0:
        raise SimulateError(f"tick must be more than zero seconds, got {tick_s}")
    stop = stop_event or threading.Event()
    started = time.monotonic()
    sim = Simulator(engine_url, rate=rate, seed=seed, schema=schema)
    if report is not None:
        report(f"simulating on {mask_url(engine_url)}: {sim.describe()}; one transaction every {tick_s:g} s")
    next_report = started + report_every_s
    try:
        while not stop.is_set():
            ok = sim.tick()
            if not ok and report is not None:
                report(f"write failed ({sim.last_error}); retrying with the next tick")
            elapsed = time.monotonic() - started
            if duration_s is not None and elapsed >= duration_s:
                break
            if report is not None and time.monotonic() >= next_report:
                next_report += report_every_s
                sim.summary.seconds = elapsed
                report(f"[{elapsed:.0f} s] {sim.summary.text()}")
            wait = tick_s if duration_s is None else min(tick_s, max(duration_s - elapsed, 0.0))
            stop.wait(wait)
        sim.flush()
    finally:
        sim.summary.seconds = time.monotonic() - started
        sim.close()
    return sim.summary


__all__ = ["run", "Simulator", "Summary", "SimulateError", "parse_duration", "DEFAULT_RATE"]
