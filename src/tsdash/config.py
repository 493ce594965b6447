"""Configuration in one place.

Precedence (highest first):

1. ``TSDASH_*`` environment variables (``TSDASH_SOURCE``, ``TSDASH_DATABASE_URL``,
   ``TSDASH_DISPLAY_TZ``, ``TSDASH_SOURCE_TZ``, ``TSDASH_QA_PASS_MARK``,
   ``TSDASH_REFRESH_SECONDS``, ``TSDASH_STATEMENT_TIMEOUT_S``);
2. ``.streamlit/secrets.toml`` ``[connections.tsdash]`` (database credentials, Streamlit's
   convention: either ``url = "..."`` or ``dialect``, ``driver``, ``host``, ``port``,
   ``username``, ``password``, ``database``);
3. ``tsdash.toml`` at the project root (or the file named by ``TSDASH_CONFIG``);
4. built-in defaults.

>>> s = Settings()
>>> s.sla.target_hours("livestream_moderation", "urgent")
4.0
>>> s.sla.target_hours("x", "mystery")
48.0
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_TARGETS_HOURS: dict[str, float] = {"urgent": 4.0, "high": 24.0, "normal": 48.0, "low": 120.0}
DEFAULT_OTHER_HOURS = 48.0
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE = PROJECT_ROOT / "data" / "tsdash.sqlite"


class ConfigError(ValueError):
    """A configuration value is wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class SLAConfig:
    targets_hours: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TARGETS_HOURS))
    other_hours: float = DEFAULT_OTHER_HOURS
    # queue -> priority -> hours
    queue_overrides: dict[str, dict[str, float]] = field(default_factory=dict)

    def target_hours(self, queue: str | None, priority: str | None) -> float:
        if queue is not None and queue in self.queue_overrides:
            per = self.queue_overrides[queue]
            if priority is not None and priority in per:
                return float(per[priority])
        if priority is not None and priority in self.targets_hours:
            return float(self.targets_hours[priority])
        return float(self.other_hours)

    def known_priorities(self) -> set[str]:
        out = set(self.targets_hours)
        for per in self.queue_overrides.values():
            out |= set(per)
        return out


@dataclass(frozen=True)
class SourceConfig:
    """Where the data lives and how to read it.

    ``location`` is a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``) or a
    path to a folder of CSV/Parquet files named after the tables.
    """

    location: str = f"sqlite:///{DEFAULT_SQLITE}"
    timezone: str = "UTC"  # time zone of naive timestamps in the source
    db_schema: str | None = None
    tables: dict[str, str] = field(default_factory=dict)  # contract name -> source name
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> contract col -> source col
    null_values: tuple[str, ...] = ()
    timestamp_format: str | None = None
    statement_timeout_s: float = 30.0

    def table_name(self, table: str) -> str:
        return self.tables.get(table, table)

    def source_column(self, table: str, column: str) -> str:
        return self.columns.get(table, {}).get(column, column)


@dataclass(frozen=True)
class Settings:
    source: SourceConfig = field(default_factory=SourceConfig)
    display_tz: str = "UTC"
    sla: SLAConfig = field(default_factory=SLAConfig)
    qa_pass_mark: float = 80.0
    refresh_seconds: int = 60
    config_path: str | None = None

    def with_source(self, location: str) -> Settings:
        return replace(self, source=replace(self.source, location=location))


def _url_from_secrets(sec: dict[str, Any]) -> str | None:
    if "url" in sec:
        return str(sec["url"])
    if "dialect" not in sec:
        return None
    from sqlalchemy.engine import URL

    drivername = sec["dialect"] + (f"+{sec['driver']}" if sec.get("driver") else "")
    return URL.create(
        drivername,
        username=sec.get("username"),
        password=sec.get("password"),
        host=sec.get("host"),
        port=int(sec["port"]) if sec.get("port") else None,
        database=sec.get("database"),
        query=sec.get("query", {}),
    ).render_as_string(hide_password=False)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix the file or remove it.") from exc


def _float(value: Any, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a number, got {value!r}.") from None


def load_settings(root: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read ``tsdash.toml``, secrets and environment into :class:`Settings`."""
    root = root or Path(os.environ.get("TSDASH_ROOT", PROJECT_ROOT))
    env = dict(os.environ) if env is None else env
    cfg_path = Path(env.get("TSDASH_CONFIG", root / "tsdash.toml"))
    raw: dict[str, Any] = _read_toml(cfg_path) if cfg_path.exists() else {}

    src = raw.get("source", {})
    location = src.get("url") or src.get("path")
    if location and "://" not in location and not Path(location).is_absolute():
        location = str((root / location).resolve())
    secrets_path = root / ".streamlit" / "secrets.toml"
    if secrets_path.exists():
        sec = _read_toml(secrets_path).get("connections", {}).get("tsdash", {})
        location = _url_from_secrets(sec) or location
    location = env.get("TSDASH_DATABASE_URL") or location
    location = env.get("TSDASH_SOURCE") or location
    if location and location.startswith("sqlite:///") and not location.startswith("sqlite:////"):
        rel = location[len("sqlite:///") :]
        if rel and not Path(rel).is_absolute():
            location = f"sqlite:///{(root / rel).resolve()}"

    columns = {t: dict(m) for t, m in raw.get("columns", {}).items()}
    source = SourceConfig(
        location=location or f"sqlite:///{root / 'data' / 'tsdash.sqlite'}",
        timezone=env.get("TSDASH_SOURCE_TZ") or src.get("timezone", "UTC"),
        db_schema=src.get("schema"),
        tables=dict(raw.get("tables", {})),
        columns=columns,
        null_values=tuple(src.get("null_values", ())),
        timestamp_format=src.get("timestamp_format"),
        statement_timeout_s=_float(
            env.get("TSDASH_STATEMENT_TIMEOUT_S", src.get("statement_timeout_s", 30)), "statement_timeout_s"
        ),
    )

    sla_raw = raw.get("sla", {})
    targets = dict(DEFAULT_TARGETS_HOURS)
    for k, v in sla_raw.get("targets_hours", {}).items():
        targets[k] = _float(v, f"[sla.targets_hours] {k}")
    overrides = {
        q: {p: _float(h, f"[sla.queues.{q}] {p}") for p, h in per.items()}
        for q, per in sla_raw.get("queues", {}).items()
    }
    sla = SLAConfig(
        targets, _float(sla_raw.get("other_hours", DEFAULT_OTHER_HOURS), "[sla] other_hours"), overrides
    )

    display = raw.get("display", {})
    qa = raw.get("qa", {})
    live = raw.get("live", {})
    settings = Settings(
        source=source,
        display_tz=env.get("TSDASH_DISPLAY_TZ") or display.get("timezone", "UTC"),
        sla=sla,
        qa_pass_mark=_float(env.get("TSDASH_QA_PASS_MARK", qa.get("pass_mark", 80)), "qa pass_mark"),
        refresh_seconds=int(
            _float(env.get("TSDASH_REFRESH_SECONDS", live.get("refresh_seconds", 60)), "refresh")
        ),
        config_path=str(cfg_path) if cfg_path.exists() else None,
    )
    _check_tz(settings.display_tz, "display time zone")
    _check_tz(settings.source.timezone, "source time zone")
    return settings


def _check_tz(name: str, what: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{what}: unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'."
        ) from None


def mask_url(location: str) -> str:
    """Hide the password of a database URL.

    >>> mask_url("postgresql+psycopg://lead:s3cret@db:5432/cases")
    'postgresql+psycopg://lead:***@db:5432/cases'
    >>> mask_url("/data/exports")
    '/data/exports'
    """
    if "://" not in location:
        return location
    try:
        from sqlalchemy.engine import make_url

        return make_url(location).render_as_string(hide_password=True)
    except Exception:  # not a SQLAlchemy URL: mask anything between ':' and '@'
        import re

        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", location)
