"""Fixtures for the UI tests: a small hand-built dataset written to a real folder of Parquet
files or a real SQLite file, with ``TSDASH_SOURCE`` pointing at it.

The data is anchored one day before the real clock (a frozen as-of must not lie in the future).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import ROOT

UTC = dt.UTC
APP = str(ROOT / "app.py")
TIMEOUT = 30
# Anchor: yesterday 12:00 UTC; the fixture's cases lie in the 10 days before it. The demo-based
# story tests follow it too; TSDASH_TEST_ANCHOR=YYYY-MM-DD (a past day) replays them as on that
# day's morrow, to check that their bounds hold whatever the date.
_PIN = os.environ.get("TSDASH_TEST_ANCHOR")
ANCHOR = (
    dt.datetime.fromisoformat(_PIN).replace(hour=12, tzinfo=UTC)
    if _PIN
    else dt.datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
)
HOSTILE_NAME = "<img src=x onerror=alert(1)> **Mallory** [x](javascript:alert(1))"


def _t(days_before: float, hours: float = 0) -> dt.datetime:
    return ANCHOR - dt.timedelta(days=days_before) + dt.timedelta(hours=hours)


def fixture_tables() -> dict[str, pl.DataFrame]:
    agents = pl.DataFrame(
        {
            "agent_id": ["A1", "A2", "A3", "A4"],
            "name": ["Ann Lee", "Bo Chen", HOSTILE_NAME, "Ann Lee"],
            "team": ["Payments", "Payments", "Moderation", "Moderation"],
        }
    )
    cases = pl.DataFrame(
        {
            "case_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "created_at": [_t(9), _t(6), _t(3), _t(2), _t(1), _t(0, -2)],
            "queue": [
                "payments_fraud",
                "payments_fraud",
                "livestream_moderation",
                "buyer_disputes",
                "livestream_moderation",
                "buyer_disputes",
            ],
            "priority": ["high", "urgent", "normal", "low", "urgent", "normal"],
            "case_type": ["card_testing", "chargeback", "nudity", "not_received", "violence", "not_received"],
            "channel": ["api", "report", "livestream", "report", "livestream", "report"],
            "assigned_agent_id": ["A1", "A2", "A3", None, "A4", "A1"],
            "first_response_at": [_t(9, 1), _t(6, 2), _t(3, 1), None, _t(1, 0.5), None],
            "resolved_at": [_t(8), _t(5), None, None, _t(0.5), None],
            "handle_seconds": [1200.0, 900.0, None, None, 600.0, None],
        },
        schema_overrides={"created_at": pl.Datetime("us", "UTC")},
    )
    return {"agents": agents, "cases": cases}


def write_parquet(folder: Path, tables: dict[str, pl.DataFrame]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.write_parquet(folder / f"{name}.parquet")
    return str(folder)


def write_sqlite(path: Path, tables: dict[str, pl.DataFrame]) -> str:
    """A real SQLite file; timestamps stored as UTC ISO text (SQLite has no time zone)."""
    con = sqlite3.connect(path)
    try:
        for name, df in tables.items():
            out = df.with_columns(
                pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
                for c, t in df.schema.items()
                if isinstance(t, pl.Datetime)
            )
            cols = out.columns
            con.execute(f"CREATE TABLE {name} ({', '.join(cols)})")
            con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(cols))})", out.iter_rows())
        con.commit()
    finally:
        con.close()
    return f"sqlite:///{path}"


@pytest.fixture
def source_env(monkeypatch, tmp_path):
    """Point the app at a given source; returns a function taking the location."""

    def use(location: str) -> str:
        monkeypatch.setenv("TSDASH_SOURCE", location)
        monkeypatch.setenv("TSDASH_ROOT", str(tmp_path))  # no tsdash.toml / secrets from the repo
        monkeypatch.setenv("TSDASH_DISPLAY_TZ", "UTC")
        return location

    return use


@pytest.fixture
def fixture_source(source_env, tmp_path) -> str:
    return source_env(write_sqlite(tmp_path / "fixture.sqlite", fixture_tables()))


# ---------------------------------------------------------------- helpers shared by the page tests


def run_page(page: str, query: dict | None = None):
    """Run a page script in AppTest with ``query`` as its URL parameters."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(page, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def tiles(at) -> dict[str, str]:
    """Metric tiles shown: label -> displayed value."""
    return {t.label: t.value for t in at.metric}


def chart_spec(at, key: str) -> dict:
    """The Plotly figure of the chart whose element key ends with ``key``."""
    import json

    for c in at.get("plotly_chart"):
        if c.proto.id.endswith(key):
            return json.loads(c.proto.spec)
    raise AssertionError(f"no chart {key}")


def plain(text: str) -> str:
    """Markdown-escaped text as a reader sees it."""
    return text.replace("\\", "")


def demo_sqlite(factory, name: str, **kwargs) -> str:
    """A demo database anchored at ANCHOR in a fresh temporary folder."""
    from tsdash.demo import generate_to

    path = factory.mktemp(name) / "demo.sqlite"
    generate_to(f"sqlite:///{path}", now=ANCHOR, **kwargs)
    return f"sqlite:///{path}"
