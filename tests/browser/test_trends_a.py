"""Backlog & flow and Handle time in a real browser: a frozen link over the demo data, a box
dragged over a bar (Plotly's select mode; a plain click only hovers) lists the cases behind it,
and a row of that list opens the case. Screenshots in tests/artifacts/."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.conftest import DEMO_NOW, shot, wait_idle
from tsdash.demo import describe

pytestmark = pytest.mark.browser

START = dt.date(2026, 9, 28)
QUERY = f"from={START}&to={DEMO_NOW.date()}&asof={DEMO_NOW:%Y-%m-%dT%H:%M:%SZ}&tz=Europe/Berlin"


def tall(page, height: int) -> None:
    """Streamlit scrolls inside the app, so a full-page screenshot needs a tall viewport."""
    page.set_viewport_size({"width": 1500, "height": height})
    page.wait_for_timeout(600)


def box_select(page, chart, element) -> None:
    """Drag a select box just around ``element`` (a bar or marker) of a Plotly ``chart``."""
    chart.scroll_into_view_if_needed()
    bb = element.bounding_box()
    assert bb, "element not drawn"
    x0, y0 = bb["x"] - 4, bb["y"] - 6
    x1, y1 = bb["x"] + bb["width"] + 4, bb["y"] + bb["height"] + 4
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)
    page.mouse.up()
    page.wait_for_timeout(800)
    wait_idle(page)


def charts(page):
    return page.locator("[data-testid='stPlotlyChart']")


def test_backlog_box_select_lists_cases_and_opens_one(server, page):
    page.goto(f"{server}/Backlog_and_flow?{QUERY}")
    page.wait_for_selector("[data-testid='stPlotlyChart']")
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    tall(page, 4300)
    shot(page, "trends_a_backlog")
    page.set_viewport_size({"width": 1500, "height": 1000})
    # the fraud wave's week: its "Created" bar in the flow chart
    wave = describe(days=60, now=DEMO_NOW)["fraud_wave"][0].date()
    week = wave - dt.timedelta(days=wave.weekday())
    idx = (week - START).days // 7
    flow = charts(page).first
    created = flow.locator("g.trace.bars").first.locator(".point path")
    box_select(page, flow, created.nth(idx))
    title = page.get_by_text(f"Cases created, week of {week.day} {week:%b}")
    title.wait_for()
    assert page.locator("[data-testid='stDataFrame']").count() >= 2  # the case list + time to clear
    shot(page, "trends_a_backlog_drill")
    # a row of the list opens the case on the Cases page
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    gb = grid.bounding_box()
    page.mouse.click(gb["x"] + 18, gb["y"] + 36 + 17)  # the first data row's selection cell
    page.wait_for_url("**/Cases?**case=*", timeout=30_000)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, "trends_a_backlog_case")


def test_handle_time_box_select_lists_cases(server, page):
    page.goto(f"{server}/Handle_time?{QUERY}")
    page.wait_for_selector("[data-testid='stPlotlyChart']")
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    tall(page, 5300)
    shot(page, "trends_a_handle_time")
    page.set_viewport_size({"width": 1500, "height": 1000})
    # the new hire's dot in the per-agent chart (slowest on top): box-select it
    agents = charts(page).nth(3)
    agents.scroll_into_view_if_needed()
    labels = agents.locator("g.ytick text")
    assert labels.count() > 5
    dots = agents.locator("g.trace.scatter").first.locator(".points path")
    box_select(page, agents, dots.first)
    page.get_by_text("Cases resolved by").first.wait_for()
    heading = page.get_by_text("Cases resolved by").first.inner_text()
    assert "(A" in heading
    shot(page, "trends_a_handle_time_drill")
