"""Shared test helpers.

Tests that need an external component (PostgreSQL, Chromium) call :func:`need` which skips
with a clear reason when the component is missing, or fails when ``TSDASH_REQUIRE_ALL=1``
(set by ``.ci/run``), so that CI never passes by skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

# Streamlit sets Plotly's default template to its own when its plotly_chart module is imported;
# tsdash.ui.charts sets the house template on import. In the app Streamlit is always imported
# first (the server runs the page scripts); a test worker that imported tsdash.ui.charts first
# and Streamlit later (an AppTest) would draw later figures in Streamlit's template. Import it
# first here, as the app does, so that no test depends on the order the workers run tests in.
import streamlit.elements.plotly_chart  # noqa: E402, F401  (before anything imports tsdash.ui.charts)

ROOT = Path(__file__).resolve().parents[1]
REQUIRE_ALL = os.environ.get("TSDASH_REQUIRE_ALL") == "1"
PG_URL = os.environ.get("TSDASH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHROMIUM = os.environ.get("TSDASH_CHROMIUM", "/usr/bin/chromium")


def need(ok: bool, reason: str) -> None:
    if ok:
        return
    if REQUIRE_ALL:
        pytest.fail(f"TSDASH_REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


@pytest.fixture
def pg_url() -> str:
    need(postgres_available(), "PostgreSQL is not reachable at 127.0.0.1:5432")
    return PG_URL
