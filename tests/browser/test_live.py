"""Live workload in a real browser (Chromium via Playwright).

1. On the shared demo server with a frozen link: the headline numbers are the engine's, the
   tables and charts render, a row of the queue table lists its cases and a row of that list opens
   the case's detail.
2. On a server of its own over a copy of a demo database, refreshing every 5 s, with ten pages
   open: a case written to the database by another connection appears on every page by itself
   (no click), and the server read the database once for the change, not once per viewer; its
   version probes are shared too. Calls are counted inside the server process by a
   ``sitecustomize`` that wraps ``tsdash.sources.read_source`` and ``data_version`` (still
   reading the real SQLite file).

Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import polars as pl
import pytest

from tests.browser.conftest import DEMO_NOW, shot, start_server, wait_idle
from tsdash import metrics as m
from tsdash.metrics import Filter
from tsdash.metrics import live_extra as lx

pytestmark = pytest.mark.browser

UTC = dt.UTC
ASOF = DEMO_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
TALL = {"width": 1500, "height": 4200}  # Streamlit scrolls inside the page: a tall viewport shows more
VIEWERS = 10
INTERVAL = 15  # seconds (TSDASH_REFRESH_SECONDS). Each tick costs about 0.25 s of server and 0.45 s of
# Chromium CPU per open tab (measured with one and with ten tabs): ten tabs every 5 s kept two cores
# busy enough that a newly opened tab never went idle, and every 10 s a slower CI machine once could
# not load the tenth tab within two minutes; every 15 s leaves half of the two cores free

COUNTING = """
import os, time
_log = os.environ.get("TSDASH_TEST_CALLS")
if _log:
    import tsdash.sources as _s

    def _wrap(name):
        real = getattr(_s, name)

        def counted(*args, **kwargs):
            with open(_log, "a") as fh:
                fh.write(f"{time.time():.3f} {name}\\n")
            return real(*args, **kwargs)

        setattr(_s, name, counted)

    _wrap("read_source")
    _wrap("data_version")
"""


def settings_for(source: str):
    from tsdash.config import load_settings

    return load_settings(env={**os.environ, "TSDASH_SOURCE": source})


def tile(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']", has=page.get_by_text(label, exact=True)).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def open_live(page, url: str) -> None:
    # "commit", not "load": the metrics below are the readiness test; the load event also waits for
    # every lazily fetched script, which a busy machine serves last
    page.goto(url, wait_until="commit")
    page.wait_for_function(
        "document.querySelectorAll(\"[data-testid='stMetricValue']\").length >= 7", timeout=120_000
    )
    wait_idle(page, timeout=120_000)
    assert page.locator("[data-testid='stException']").count() == 0


def click_first_row(page, frame) -> None:
    """Tick the selection box of the first row of an st.dataframe (drawn on a canvas)."""
    frame.scroll_into_view_if_needed()
    b = frame.bounding_box()
    page.mouse.click(b["x"] + 15, b["y"] + 35 + 17)


def test_live_page_numbers_tables_charts_and_drill_down(server, page, demo_db):
    from tsdash.sources import load_dataset

    settings = settings_for(demo_db)
    ds = load_dataset(settings)
    f = Filter(DEMO_NOW.date(), DEMO_NOW.date(), tz=settings.display_tz, as_of=DEMO_NOW)
    total = m.backlog_now(ds, f, (), detail=True).row(0, named=True)
    page.set_viewport_size(TALL)
    open_live(page, f"{server}/Live_workload?asof={ASOF}")
    assert page.locator("h1").first.inner_text() == "Live workload"
    assert tile(page, "Open") == f"{total['open']:,}"
    assert tile(page, "Unassigned") == f"{total['unassigned']:,}"
    assert tile(page, "Breached") == f"{total['breached']:,}"
    assert page.locator("[data-testid='stDataFrame']").count() >= 5  # queues, agents, three lists
    # Plotly draws after the script run ends (its JS loads lazily): wait for the three charts
    page.wait_for_function(
        "document.querySelectorAll(\"[data-testid='stPlotlyChart'] .barlayer\").length >= 3", timeout=60_000
    )
    assert page.locator("[data-testid='stPlotlyChart']").count() == 3  # queues, ages, agents
    assert page.locator("[data-testid='stPlotlyChart'] .barlayer .point").count() > 10
    assert "frozen link" in page.locator("[data-testid='stMain']").inner_text()
    shot(page, "live_workload")

    # the queue table's CSV, written when the button is clicked (a callable): the engine's counts
    with page.expect_download(timeout=60_000) as info:
        page.locator("[data-testid='stDownloadButton'] button").first.click()
    download = info.value
    assert download.suggested_filename == "open_cases_by_queue_and_priority.csv"
    csv = pl.read_csv(download.path())
    assert {"Queue", "Priority", "Open", "Unassigned", "Breached"} <= set(csv.columns)
    assert csv["Open"].sum() == total["open"]
    assert csv["Unassigned"].sum() == total["unassigned"]
    assert csv["Breached"].sum() == total["breached"]
    wait_idle(page)

    # a queue x priority row -> its open cases -> the first (oldest) case's detail
    click_first_row(page, page.locator("[data-testid='stDataFrame']").first)
    title = page.locator(
        "[data-testid='stMarkdownContainer']",
        has_text=re.compile(r"Open cases in \S+, \S+ priority, oldest first"),
    ).first
    title.wait_for(timeout=30_000)
    wait_idle(page)
    text = title.inner_text()
    queue, prio = re.search(r"Open cases in (\S+), (\S+) priority", text).groups()
    cases = lx.oldest_first(m.cases_behind(ds, f, "backlog-now", queue=queue, priority=prio))
    assert f"· {cases.height:,} case" in text
    shot(page, "live_workload_drill")
    lists = page.locator("[data-testid='stDataFrame']")
    click_first_row(page, lists.nth(1))  # the case list right under the queue table
    page.wait_for_function("() => location.search.includes('case=')", timeout=30_000)
    first = cases["case_id"][0]
    page.locator("h3", has_text=f"Case {first}").wait_for(timeout=30_000)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert f"case={first}" in page.url and f"asof={ASOF.replace(':', '%3A')}" in page.url
    shot(page, "live_workload_case")


def _calls(log: Path) -> list[tuple[float, str]]:
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        t, name = line.split()
        out.append((float(t), name))
    return out


def test_ten_viewers_refresh_by_themselves_on_one_load(browser, tmp_path):
    from tsdash.demo import generate_to

    # a small demo (fast ticks for ten viewers on two cores) ending a few minutes ago
    now = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    db = tmp_path / "live.sqlite"
    generate_to(f"sqlite:///{db}", days=7, agents=8, seed=3, now=now)
    # the first reader of a WAL database creates an empty -wal file (which changes the file-based
    # data version once); read once before the server starts, as a running system would have
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.execute("SELECT count(*) FROM cases").fetchone()
    con.close()
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(COUNTING)
    log = tmp_path / "calls.log"
    proc, base = start_server(
        f"sqlite:///{db}",
        tmp_path,
        {
            "TSDASH_REFRESH_SECONDS": str(INTERVAL),
            "TSDASH_TEST_CALLS": str(log),
            "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]),
        },
    )
    ctx = browser.new_context(viewport={"width": 1000, "height": 700})  # small: cheap redraws
    writer = sqlite3.connect(db)  # another application's connection, kept open
    try:
        pages, opened = [], []
        for _ in range(VIEWERS):
            pg = ctx.new_page()
            pg.set_default_timeout(120_000)
            t = time.monotonic()
            open_live(pg, f"{base}/Live_workload")
            opened.append(round(time.monotonic() - t, 1))
            pages.append(pg)
        print("seconds to open each tab:", opened)
        assert f"refreshes every {INTERVAL} s" in pages[0].locator("[data-testid='stMain']").inner_text()
        before = {pg: int(tile(pg, "Open").replace(",", "")) for pg in pages}
        assert len(set(before.values())) == 1, before  # everyone sees the same numbers
        n0 = next(iter(before.values()))
        loads0 = sum(1 for _, name in _calls(log) if name == "read_source")
        assert loads0 == 1, _calls(log)  # ten sessions, one load

        # let everyone tick with nothing new: no load at all
        pages[0].wait_for_timeout(2 * INTERVAL * 1000)
        assert sum(1 for _, name in _calls(log) if name == "read_source") == 1
        t0 = time.time()
        created = dt.datetime.now(UTC) - dt.timedelta(seconds=30)
        writer.execute(
            "INSERT INTO cases (case_id, created_at, queue, case_type, priority, channel, escalated,"
            " reopened_count, status) VALUES ('C9990001', ?, 'payments_fraud', 'card_testing', 'urgent',"
            " 'user_report', 0, 0, 'open')",
            (created.strftime("%Y-%m-%d %H:%M:%S.%f"),),
        )
        writer.commit()
        deadline = time.monotonic() + 20 * INTERVAL
        for pg in pages:  # no click, no reload: the fragment refreshes by itself
            while int(tile(pg, "Open").replace(",", "")) != n0 + 1:
                assert time.monotonic() < deadline, "the page did not refresh by itself"
                pg.wait_for_timeout(500)
        t1 = time.time()
        calls = _calls(log)
        loads = [t for t, name in calls if name == "read_source"]
        assert len(loads) == 2, calls  # one more load for the change, for all ten viewers
        probes = [t for t, name in calls if name == "data_version" and t0 <= t <= t1]
        # ten sessions ticking every INTERVAL s would probe 10 x (t1 - t0) / INTERVAL times unshared;
        # shared, one probe serves everyone for 0.9 x INTERVAL s
        ticks = (t1 - t0) / INTERVAL
        assert len(probes) <= ticks / 0.9 + 2, (len(probes), t1 - t0)
        assert len(probes) < VIEWERS * ticks / 2
        pages[0].set_viewport_size(TALL)
        wait_idle(pages[0])
        shot(pages[0], "live_workload_live")
        for pg in pages:
            assert pg.locator("[data-testid='stException']").count() == 0
    finally:
        writer.close()
        ctx.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(hook, ignore_errors=True)
