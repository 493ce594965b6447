"""Real-browser fixtures: a Streamlit server on a free port over a generated demo database, and
Debian's Chromium driven by Playwright (never `playwright install`).

Screenshots go to tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from tests.browser.server import CHROMIUM_ARGS, start_server  # noqa: F401 - re-exported to the tests
from tests.conftest import CHROMIUM, ROOT, chromium_available, need

ARTIFACTS = ROOT / "tests" / "artifacts"
# a fixed anchor so that a frozen link's numbers are comparable with the metrics engine
DEMO_NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)


def pytest_collection_modifyitems(config, items):
    """Every test under tests/browser is a browser test (`-m "not browser"` skips them) and
    runs in one xdist group, so that one worker owns the Streamlit server and Chromium."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> str:
    from tsdash.demo import generate_to

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    generate_to(f"sqlite:///{path}", days=60, agents=18, seed=11, now=DEMO_NOW)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def server(demo_db, tmp_path_factory):
    need(chromium_available(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    proc, base = start_server(demo_db, tmp_path_factory.mktemp("srv"))
    yield base
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    need(chromium_available(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


def wait_idle(pg, timeout: float = 30_000) -> None:
    """Wait until the script run finished (Streamlit marks the app 'notRunning')."""
    pg.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    pg.wait_for_function(
        "() => { const a = document.querySelector(\"[data-testid='stApp']\");"
        " return a && a.getAttribute('data-test-script-state') === 'notRunning'; }",
        timeout=timeout,
    )
    pg.wait_for_timeout(300)


def shot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path
