"""Streamlit's Plotly component loaded ahead of the first chart (tsdash.ui.preload), in Chromium:
a page without charts (Data) loads it once drawn, without an error and without a gap in the
sidebar; the page switched to next draws its charts from that same module (the file is fetched
once in the tab); a page with charts, opened directly, also fetches it once."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DEMO_NOW, wait_idle
from tsdash.ui import preload

pytestmark = pytest.mark.browser

FROZEN = f"preset=last_28&asof={DEMO_NOW.strftime('%Y-%m-%dT%H:%M:%SZ')}&tz=UTC"
LOADED = f"() => window.{preload.FLAG} && window.{preload.FLAG}.then(r => r === 'loaded')"
FETCHES = "(name) => performance.getEntriesByType('resource').filter(e => e.name.endsWith('/' + name)).length"
STARTED = (
    "(name) => performance.getEntriesByType('resource').find(e => e.name.endsWith('/' + name)).startTime"
)
CHARTS_DRAWN = """() => {
  const c = document.querySelectorAll("[data-testid='stPlotlyChart']");
  return c.length > 0 && [...c].every(x => x.querySelector('svg.main-svg'));
}"""


def test_a_page_without_charts_loads_the_component_for_the_next_page(server, page):
    chunk = preload.plotly_chunk()
    page.goto(f"{server}/Data?{FROZEN}")
    page.locator("h1", has_text="Data").wait_for(timeout=60_000)
    wait_idle(page, timeout=60_000)
    drawn_at = page.evaluate("performance.now()")
    # the import waits until the page has drawn and stayed unchanged, then runs when idle
    page.wait_for_function(f"() => !!window.{preload.FLAG}", timeout=30_000)
    assert page.evaluate(LOADED) is True  # the promise resolves: the module was evaluated
    assert page.evaluate(FETCHES, chunk) == 1
    started = page.evaluate(STARTED, chunk)
    assert started > drawn_at, (started, drawn_at)  # not while the page was drawing
    assert page.locator("[data-testid='stPlotlyChart']").count() == 0
    # the preload's element takes no room in the sidebar: its container is hidden
    hidden = page.locator(f"[data-testid='stElementContainer']:has(#{preload.MARKER})")
    assert hidden.count() == 1 and hidden.evaluate("e => getComputedStyle(e).display") == "none"

    page.locator("[data-testid='stSidebar'] a", has_text="Handle time").first.click()
    page.locator("h1", has_text="Handle time").wait_for(timeout=60_000)
    wait_idle(page, timeout=60_000)
    page.wait_for_function(CHARTS_DRAWN, timeout=30_000)
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 5
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.evaluate(FETCHES, chunk) == 1  # the charts used the module already loaded


def test_a_page_with_charts_fetches_the_component_once(server, page):
    chunk = preload.plotly_chunk()
    page.goto(f"{server}/Live_workload?{FROZEN}")
    page.locator("h1", has_text="Live workload").wait_for(timeout=60_000)
    wait_idle(page, timeout=60_000)
    page.wait_for_function(CHARTS_DRAWN, timeout=30_000)
    assert page.evaluate(LOADED) is True
    assert page.evaluate(FETCHES, chunk) == 1
    assert page.locator("[data-testid='stException']").count() == 0
