"""Quality and Escalations in a real browser: each page opens on the demo data, a chart element is
box-selected with the mouse (the charts are in select mode: a single click does not select in
Streamlit 1.67 when dragmode is "select") and the cases behind it are listed. Screenshots go to
tests/artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import DEMO_NOW, shot, wait_idle

pytestmark = pytest.mark.browser

ASOF = DEMO_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
WINDOW = f"from=2026-09-28&to=2026-11-23&asof={ASOF}&tz=UTC"
TALL = {"width": 1500, "height": 6400}  # Streamlit scrolls inside the page: a tall viewport shows it all


def open_page(page, url: str, tiles: int) -> None:
    """Open ``url`` and wait until the page has drawn its ``tiles`` headline numbers and finished."""
    page.goto(url)
    page.wait_for_function(
        f"document.querySelectorAll(\"[data-testid='stMetricValue']\").length >= {tiles}", timeout=60_000
    )
    wait_idle(page)


def box_select(page, chart, point, *, whole_bar: bool = False) -> None:
    """Drag a small selection box around ``point`` (a locator of a marker or bar) inside ``chart``.
    Plotly selects a bar only when the box covers it from top to bottom (``whole_bar``)."""
    chart.scroll_into_view_if_needed()
    b = point.bounding_box()
    cx, cy = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
    y0, y1 = (b["y"] - 4, b["y"] + b["height"] + 4) if whole_bar else (cy - 6, cy + 6)
    page.mouse.move(cx - 12, y0)
    page.mouse.down()
    page.mouse.move(cx, (y0 + y1) / 2, steps=4)
    page.mouse.move(cx + 12, y1, steps=4)
    page.mouse.up()


def test_quality_page_drills_from_the_agents_chart(server, page):
    page.set_viewport_size(TALL)
    open_page(page, f"{server}/Quality?{WINDOW}", 5)
    assert page.locator("[data-testid='stException']").count() == 0
    # the slipping agent is named in words at the top
    flags = page.locator("[data-testid='stAlertContentWarning']").all_inner_texts()
    assert flags and "(A06)" in flags[0] and "fell" in flags[0]
    assert page.locator("[data-testid='stMetricValue']").count() == 5
    shot(page, "trends_b_quality")

    chart = page.locator("[data-testid='stPlotlyChart']", has_text="Shrunk toward the team").first
    # the shrunk estimates (second trace); the first row on top is the lowest
    diamond = chart.locator(".scatterlayer .trace").nth(1).locator("path.point").first
    box_select(page, chart, diamond)
    page.get_by_text("QA reviews of", exact=False).first.wait_for(timeout=30_000)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    heading = page.locator("[data-testid='stMarkdownContainer']", has_text="QA reviews of").first.inner_text()
    assert re.search(r"QA reviews of .+ · [\d,]+ reviews", heading), heading
    assert page.locator("[data-testid='stDataFrame']").count() >= 3  # the case list, the table, the reviews
    shot(page, "trends_b_quality_drill")


def test_escalations_page_drills_from_the_reasons_chart(server, page):
    page.set_viewport_size(TALL)
    open_page(page, f"{server}/Escalations?{WINDOW}", 4)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stMetricValue']").count() == 4
    shot(page, "trends_b_escalations")

    chart = page.locator("[data-testid='stPlotlyChart']", has_text="policy_unclear").first  # by reason
    # the bottom segment (most frequent reason) of a whole week in the middle of the window
    bar = chart.locator(".barlayer .trace").first.locator("path").nth(4)
    box_select(page, chart, bar, whole_bar=True)
    page.get_by_text("Escalated for", exact=False).first.wait_for(timeout=30_000)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    heading = page.locator("[data-testid='stMarkdownContainer']", has_text="Escalated for").first.inner_text()
    assert re.search(r"Escalated for \w+ in the week of .+ · [\d,]+ cases", heading), heading
    shot(page, "trends_b_escalations_drill")
