"""The frame, Overview, Cases and Data in a real browser (Chromium via Playwright): every page
opens; a deep link with filters on a freshly started server shows the filters and the engine's
KPI values for the same filter and frozen as-of; a filter changed in the sidebar holds across a
page switch; a click on a case row leads to the case's detail. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time

import polars as pl
import pytest

from tests.browser.conftest import DEMO_NOW, shot, start_server, wait_idle
from tsdash import metrics as m
from tsdash.metrics import Filter
from tsdash.ui.overview import fmt_kpi_value

pytestmark = pytest.mark.browser

ASOF = DEMO_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
FROZEN = f"preset=last_28&asof={ASOF}&tz=UTC"
TALL = {"width": 1500, "height": 2600}  # Streamlit scrolls inside the page: a tall viewport shows more


@pytest.fixture(scope="module")
def demo_ds(demo_db):
    """The demo database as the server reads it (same settings: the repository's tsdash.toml)."""
    from tsdash.config import load_settings
    from tsdash.sources import load_dataset

    settings = load_settings(env={**os.environ, "TSDASH_SOURCE": demo_db})
    return load_dataset(settings), settings


def settle(page, timeout: float = 60.0) -> None:
    """Wait until the script run is over and the page stopped growing (the 'notRunning' state
    is also reported before a fresh session's first run starts)."""
    deadline = time.monotonic() + timeout
    last, stable = -1, 0
    while time.monotonic() < deadline:
        wait_idle(page, timeout=timeout * 1000)
        n = page.locator("[data-testid='stMain'] [data-testid]").count()
        stable = stable + 1 if n == last else 0
        if stable >= 3:
            return
        last = n
        page.wait_for_timeout(400)
    raise AssertionError("the page did not settle")


def goto(page, url: str) -> None:
    page.goto(url)
    page.locator("[data-testid='stSidebar']").wait_for(timeout=60_000)
    page.locator("h1").first.wait_for(timeout=60_000)
    settle(page)
    assert page.locator("[data-testid='stException']").count() == 0


def tile(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']", has=page.get_by_text(label, exact=True)).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def sidebar_widget(page, testid: str, label: str):
    return page.locator(f"[data-testid='stSidebar'] [data-testid='{testid}']", has_text=label).first


def click_first_row(page, frame) -> None:
    """Tick the selection box of the first row of an st.dataframe (drawn on a canvas)."""
    frame.scroll_into_view_if_needed()
    b = frame.bounding_box()
    page.mouse.click(b["x"] + 15, b["y"] + 35 + 17)


def test_every_page_opens(server, page, demo_ds):
    ds, _ = demo_ds
    page.set_viewport_size(TALL)
    goto(page, f"{server}/?{FROZEN}")
    assert page.locator("h1").first.inner_text() == "Overview"
    assert page.locator("[data-testid='stMetric']").count() >= 12  # 8 KPI tiles + needs attention
    shot(page, "overview")
    goto(page, f"{server}/Cases?{FROZEN}")
    assert page.locator("h1").first.inner_text() == "Cases"
    assert page.locator("[data-testid='stDataFrame']").count() == 1
    shot(page, "cases_list")
    # the list shows the newest 500 cases created in the window; its CSV, written on the click,
    # has every one of them, newest first
    f = Filter(DEMO_NOW.date() - dt.timedelta(days=27), DEMO_NOW.date(), tz="UTC", as_of=DEMO_NOW)
    created = m.cases_behind(ds, f, "flow", "inflow")["case_id"].reverse()
    assert created.len() > 500
    text = page.locator("[data-testid='stMain']").inner_text()
    assert f"Showing the first 500 of {created.len():,}" in text
    with page.expect_download(timeout=60_000) as info:
        page.locator("[data-testid='stDownloadButton'] button").first.click()
    csv = pl.read_csv(info.value.path(), schema_overrides={"Case": pl.String})
    assert csv["Case"].to_list() == created.to_list()
    settle(page)
    # a case with events, a QA review and an escalation
    cid = (
        ds.cases.filter(pl.col("escalated_at").is_not_null() & (pl.col("resolved_at") < DEMO_NOW))
        .join(ds.qa_reviews.select("case_id"), on="case_id", how="semi")
        .sort("created_at")["case_id"][-1]
    )
    goto(page, f"{server}/Cases?{FROZEN}&case={cid}")
    assert page.locator("h3", has_text=f"Case {cid}").count() == 1
    assert page.locator("[data-testid='stPlotlyChart']").count() == 1
    shot(page, "case_detail")
    goto(page, f"{server}/Data?{FROZEN}")
    assert page.locator("h1").first.inner_text() == "Data"
    assert "Every row passed validation" in page.locator("[data-testid='stAlertContentSuccess']").inner_text()
    shot(page, "data")


def test_deep_link_on_a_fresh_server(demo_db, demo_ds, browser, tmp_path):
    ds, settings = demo_ds
    proc, base = start_server(demo_db, tmp_path)
    ctx = browser.new_context(viewport={"width": 1500, "height": 1400})
    try:
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        query = (
            f"preset=custom&from=2026-10-27&to=2026-11-23&tz=Europe%2FBerlin&asof={ASOF}"
            "&queue=payments_fraud&agent=A04"
        )
        goto(page, f"{base}/?{query}")
        # the filters are shown in the sidebar
        dates = sidebar_widget(page, "stDateInput", "Dates").locator("input")
        assert [dates.nth(i).input_value() for i in range(dates.count())] == ["2026-10-27", "2026-11-23"]
        assert (
            sidebar_widget(page, "stSelectbox", "Time zone").locator("input").input_value() == "Europe/Berlin"
        )
        assert "payments_fraud" in sidebar_widget(page, "stMultiSelect", "Queue").inner_text()
        name = ds.agents.filter(pl.col("agent_id") == "A04")["name"][0]
        assert name in sidebar_widget(page, "stMultiSelect", "Agent").inner_text()
        assert "frozen" in page.locator("[data-testid='stSidebar']").inner_text()
        # the KPI values are the engine's for the same filter and as-of
        f = Filter(
            dt.date(2026, 10, 27),
            dt.date(2026, 11, 23),
            tz="Europe/Berlin",
            as_of=DEMO_NOW,
            queues=("payments_fraud",),
            agents=("A04",),
        )
        values = m.kpis(ds, f, pass_mark=settings.qa_pass_mark)
        assert values["resolved_per_day"].n > 0
        for key in ("open_backlog", "resolved_per_day", "aht", "sla_attainment"):
            assert tile(page, values[key].label) == fmt_kpi_value(values[key]), key
        # the URL keeps the view (written back by the app)
        for part in ("queue=payments_fraud", "agent=A04", "tz=Europe%2FBerlin", "from=2026-10-27"):
            assert part in page.url, part
        shot(page, "deep_link_overview")
    finally:
        ctx.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_filter_holds_across_a_page_switch(server, page, demo_ds):
    ds, settings = demo_ds
    goto(page, f"{server}/?{FROZEN}")
    queue = sidebar_widget(page, "stMultiSelect", "Queue")
    queue.locator("input").click()
    page.keyboard.type("seller_pol")  # the combobox lists matching options as one types
    page.get_by_role("option", name="seller_policy", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.search.includes('queue=seller_policy')")
    settle(page)
    # switch page through the sidebar navigation
    page.locator("[data-testid='stSidebar'] a", has_text="Data").first.click()
    page.wait_for_function("() => location.pathname.endsWith('/Data')")
    page.locator("h1", has_text="Data").wait_for()
    settle(page)
    assert "seller_policy" in sidebar_widget(page, "stMultiSelect", "Queue").inner_text()
    assert "queue=seller_policy" in page.url and f"asof={ASOF.replace(':', '%3A')}" in page.url
    # and back: the Overview counts that queue only
    page.locator("[data-testid='stSidebar'] a", has_text="Overview").first.click()
    page.wait_for_function("() => !location.pathname.endsWith('/Data')")
    page.locator("h1", has_text="Overview").wait_for()
    settle(page)
    assert "seller_policy" in sidebar_widget(page, "stMultiSelect", "Queue").inner_text()
    f = Filter(DEMO_NOW.date() - dt.timedelta(days=27), DEMO_NOW.date(), tz="UTC", as_of=DEMO_NOW,
               queues=("seller_policy",))  # fmt: skip
    backlog = m.kpis(ds, f, pass_mark=settings.qa_pass_mark)["open_backlog"]
    assert tile(page, "Open backlog now") == fmt_kpi_value(backlog)


def test_a_row_click_opens_the_case(server, page, demo_ds):
    ds, _ = demo_ds
    page.set_viewport_size(TALL)
    goto(page, f"{server}/?{FROZEN}")
    f = Filter(DEMO_NOW.date() - dt.timedelta(days=27), DEMO_NOW.date(), tz="UTC", as_of=DEMO_NOW)
    first = m.cases_behind(ds, f, "backlog-now", "breached").sort("due_at", "case_id")["case_id"][0]
    lists = page.locator("[data-testid='stDataFrame']")
    assert lists.count() >= 2
    click_first_row(page, lists.first)  # breached and due within 4 h, most overdue first
    page.wait_for_function("() => location.search.includes('case=')", timeout=30_000)
    page.locator("h3", has_text=f"Case {first}").wait_for(timeout=30_000)
    settle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert f"case={first}" in page.url and "preset=last_28" in page.url
    shot(page, "case_detail_from_overview")
