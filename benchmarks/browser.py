"""Browser timings: from navigation to every chart drawn, and from a filter change to the
redrawn page, in Chromium (Debian's /usr/bin/chromium through Playwright) against a Streamlit
server on the 1M-case benchmark data.

    .venv/bin/python benchmarks/browser.py [--size 1m] [--reps 3]

For each page (Overview, Live workload, and Handle time once its page exists):

* cold: a fresh server, the first visit (the data is loaded on that visit);
* warm, new view: the data is loaded, but the page has not computed this view yet (a frozen
  as-of one minute earlier, so Streamlit's per-view caches miss);
* warm, repeat: the same view again in a new browser session (the page's caches hit);
* warm, switch: in an open app (the Data page of a view not computed yet), a click on the page's
  sidebar link -- no page load, Streamlit's scripts are already in the browser; the Data page
  draws no Plotly chart: it loads Streamlit's Plotly component (4.7 MB of script) once it has
  drawn and stayed unchanged for 1 s (tsdash.ui.preload), so the click, 1.5 s after the page
  was drawn, comes while that load is under way;
* warm, switch from a chart page (the pages with Plotly charts): the same click from Backlog &
  flow, whose Plotly charts have loaded that component already (a lead moving between trend
  pages); Overview draws no Plotly chart, so a switch from it is the first kind;
* the "new view" and "repeat" visits open a new browser session each time, so they include
  loading and starting Streamlit's front end (the Data page, which computes little, shows that
  floor);
* warm, new tab in a returning browser: a new tab (a new view) in a browser profile that has
  opened the app before (its Handle time, Data and Live pages, each once), so Streamlit's static
  files come from the browser's cache (they are served immutable) and the browser may reuse the
  compiled code of the scripts it ran before -- a lead opening the dashboard again in the
  browser they use every day;
* filter change (Overview): the queue payments_fraud picked in the sidebar until the page is
  redrawn.

"Drawn" is the moment the page reached its final state: the script run is over, every Plotly
chart has its SVG, and nothing on the page changes for 1.5 s afterwards (polled every 50 ms; the
time reported is that of the last change, not the end of the quiet period).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser.server import CHROMIUM_ARGS as ARGS  # noqa: E402
from tests.browser.server import start_server  # noqa: E402

from benchmarks import data as D  # noqa: E402

CHROMIUM = os.environ.get("TSDASH_CHROMIUM", "/usr/bin/chromium")
PAGES = {"overview": "", "live": "Live_workload", "handle-time": "Handle_time", "data": "Data"}
LABELS = {"overview": "Overview", "live": "Live workload", "handle-time": "Handle time", "data": "Data"}
DEFAULT_PAGES = ("overview", "live", "handle-time")
QUIET_S = 1.5

_STATE_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  const charts = document.querySelectorAll("[data-testid='stPlotlyChart']");
  let drawn = 0;
  charts.forEach(c => { if (c.querySelector('svg.main-svg')) drawn++; });
  const main = document.querySelector("[data-testid='stMain']");
  return {
    state: app ? app.getAttribute('data-test-script-state') : null,
    charts: charts.length, drawn: drawn,
    nodes: main ? main.querySelectorAll('*').length : 0,
    error: document.querySelectorAll("[data-testid='stException']").length,
  };
}"""


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_drawn(page, t0: float, timeout: float = 120.0) -> dict:
    """Poll until the page is final; returns the time of its last change after ``t0``."""
    last_sig, last_change = None, time.perf_counter()
    deadline = t0 + timeout
    while time.perf_counter() < deadline:
        s = page.evaluate(_STATE_JS)
        sig = (s["state"], s["charts"], s["drawn"], s["nodes"])
        now = time.perf_counter()
        if sig != last_sig:
            last_sig, last_change = sig, now
        done = s["state"] == "notRunning" and s["drawn"] == s["charts"] and s["nodes"] > 0
        if done and now - last_change >= QUIET_S:
            return {"secs": last_change - t0, "charts": s["charts"], "errors": s["error"]}
        page.wait_for_timeout(50)
    raise TimeoutError(f"page not drawn within {timeout} s: {last_sig}")


def query(as_of: dt.datetime) -> str:
    stamp = as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"preset=last_28&tz=Europe%2FBerlin&asof={stamp}"


def visit(browser, url: str) -> dict:
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = ctx.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(url)
        return wait_drawn(page, t0)
    finally:
        ctx.close()


def returning_tabs(p, base: str, path: str, as_ofs: list[dt.datetime], tmp: Path) -> list[dict]:
    """A new tab per as-of in one browser profile that has opened the app before (its pages
    with Plotly charts and the Data page, each once, so its cache holds Streamlit's scripts)."""
    ctx = p.chromium.launch_persistent_context(
        str(tmp / f"profile-{time.monotonic_ns()}"),
        executable_path=CHROMIUM,
        args=ARGS,
        viewport={"width": 1500, "height": 1000},
    )
    try:
        for key in ("handle-time", "data", "live"):
            page = ctx.new_page()
            page.goto(f"{base}/{PAGES[key]}?{query(D.ANCHOR - dt.timedelta(hours=1))}")
            wait_drawn(page, time.perf_counter())
            page.close()
        out = []
        for as_of in as_ofs:
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(f"{base}/{path}?{query(as_of)}")
            out.append(wait_drawn(page, t0))
            page.close()
        return out
    finally:
        ctx.close()


def switch(browser, base: str, key: str, q: str, origin: str = "Data") -> dict:
    """Open the page ``origin`` (a path: "Data", "Backlog_and_flow"), then click the sidebar link
    to page ``key``: a page switch inside an open app (no page load, the browser already holds
    Streamlit's scripts). The Data page draws no Plotly chart (nor does Overview: its tiles'
    sparklines are Streamlit's own) and loads Streamlit's Plotly component once drawn and idle
    (tsdash.ui.preload), which the click may overtake; from Backlog & flow, whose charts are
    Plotly's, it is loaded already."""
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = ctx.new_page()
    try:
        page.goto(f"{base}/{origin}?{q}")
        wait_drawn(page, time.perf_counter())
        link = page.locator("[data-testid='stSidebar'] a", has_text=LABELS[key]).first
        t0 = time.perf_counter()
        link.click()
        return wait_drawn(page, t0)
    finally:
        ctx.close()


def filter_change(browser, url: str) -> dict:
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = ctx.new_page()
    try:
        page.goto(url)
        wait_drawn(page, time.perf_counter())
        box = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']", has_text="Queue").first
        box.locator("input").click()
        option = page.get_by_role("option", name="payments_fraud", exact=True)
        for _ in range(20):  # the list opens on the click, or else on the arrow key
            if option.count():
                break
            page.keyboard.press("ArrowDown")
            page.wait_for_timeout(100)
        option.wait_for()
        t0 = time.perf_counter()
        option.click()
        page.keyboard.press("Escape")
        return wait_drawn(page, t0)
    finally:
        ctx.close()


def page_exists(key: str) -> bool:
    if key == "overview":
        return True
    return any(p.stem.split("_", 1)[-1] == PAGES[key] for p in (ROOT / "pages").glob("*.py"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1m", choices=["100k", "1m", "10m"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--pages", default=",".join(DEFAULT_PAGES), help=f"comma-separated: {', '.join(PAGES)}")
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    n = D.SIZES[a.size]
    folder = D.parquet_dir(n)
    pages = [k for k in a.pages.split(",") if k in PAGES and page_exists(k)]
    results: dict = {"size": a.size, "pages": {}, "load_before": os.getloadavg()}
    print(f"# Browser timings, {a.size} cases (Parquet), pages: {', '.join(pages)}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for key in pages:
            path = PAGES[key]
            r: dict = {
                "cold": [],
                "warm_new_view": [],
                "warm_repeat": [],
                "warm_new_tab_returning": [],
                "warm_switch": [],
                "warm_switch_from_charts": [],
                "filter_change": [],
            }
            for rep in range(a.reps):
                proc, base = start_server(str(folder), Path(tmp))
                try:
                    url = f"{base}/{path}?{query(D.ANCHOR)}"
                    r["cold"].append(visit(browser, url))
                    r["warm_repeat"].append(visit(browser, url))
                    earlier = D.ANCHOR - dt.timedelta(minutes=rep + 1)
                    r["warm_new_view"].append(visit(browser, f"{base}/{path}?{query(earlier)}"))
                    tabs = [D.ANCHOR - dt.timedelta(minutes=rep * 3 + i + 30) for i in range(2)]
                    r["warm_new_tab_returning"] += returning_tabs(p, base, path, tabs, Path(tmp))
                    if key != "data":
                        later = D.ANCHOR - dt.timedelta(minutes=rep + 10)
                        r["warm_switch"].append(switch(browser, base, key, query(later)))
                    if key not in ("data", "overview"):
                        later = D.ANCHOR - dt.timedelta(minutes=rep + 20)
                        r["warm_switch_from_charts"].append(
                            switch(browser, base, key, query(later), origin="Backlog_and_flow")
                        )
                    if key == "overview":
                        r["filter_change"].append(filter_change(browser, url))
                finally:
                    stop(proc)
            summary = {k: statistics.median(x["secs"] for x in v) for k, v in r.items() if v}
            results["pages"][key] = {"runs": r, "median": summary}
            print(
                f"  {key:12s} "
                + "  ".join(
                    f"{k} {v * 1000:.0f} ms" if v < 1 else f"{k} {v:.2f} s" for k, v in summary.items()
                ),
                flush=True,
            )
        browser.close()
    results["load_after"] = os.getloadavg()
    out = D.BENCH_DIR / f"browser-{a.size}.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"saved to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
