"""The frame's Plotly preload (tsdash.ui.preload): the script names Streamlit's real Plotly
component file, loads it at once on pages with charts and when idle on pages without, and is
left out when the file cannot be found. The browser side (the module loaded once, a page switch
drawing its charts without fetching it again) is in tests/browser/test_preload.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.ui.conftest import APP, TIMEOUT, run_page
from tsdash.ui import preload

STATIC_JS = Path(st.__file__).parent / "static" / "static" / "js"
LIVE = str(ROOT / "pages" / "1_Live_workload.py")
DATA = str(ROOT / "pages" / "9_Data.py")
CASES = str(ROOT / "pages" / "7_Cases.py")
# the other pages draw Plotly charts (the scorecard once an agent is picked, Quality with reviews)
CHART_PAGES = [str(p) for p in sorted((ROOT / "pages").glob("*.py")) if str(p) not in (DATA, CASES)]


def preload_bodies(at) -> list[str]:
    return [h.proto.body for h in at.sidebar.get("html") if preload.MARKER in h.proto.body]


def test_the_chunk_is_the_one_streamlit_imports_for_plotly_charts():
    chunk = preload.plotly_chunk()
    assert chunk is not None and re.fullmatch(r"PlotlyChart\.[\w-]+\.js", chunk)
    assert (STATIC_JS / chunk).stat().st_size > 1_000_000  # plotly.js itself, not a stub
    # Streamlit's front end imports this very file (relative to its own chunks) for the element
    importers = [p.name for p in STATIC_JS.glob("*.js") if f"./{chunk}" in p.read_text(errors="ignore")]
    assert importers, f"no Streamlit chunk imports ./{chunk}"


def test_the_script_loads_the_chunk_beside_streamlits_index_now_or_when_idle():
    now = preload.preload_script("PlotlyChart.abc.js", when="now")
    idle = preload.preload_script("PlotlyChart.abc.js", when="idle")
    for body in (now, idle):
        assert 'new URL("PlotlyChart.abc.js", index.src)' in body
        assert f"window.{preload.FLAG}" in body and "import(url)" in body
        assert f'<span id="{preload.MARKER}">' in body and f":has(#{preload.MARKER})" in body
    assert "if (true) { load(); return; }" in now
    assert "if (false) { load(); return; }" in idle
    # a file name is written as a JavaScript string, whatever it holds
    odd = preload.preload_script('x"); alert(1); ("', when="now")
    assert json.dumps('x"); alert(1); ("') in odd and 'new URL("x"); alert' not in odd


@pytest.mark.parametrize(
    ("script", "when"),
    [(APP, "idle"), (DATA, "idle"), (CASES, "idle"), *((page, "now") for page in CHART_PAGES)],
)
def test_every_page_adds_one_preload_in_the_sidebar(fixture_source, script, when):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if script != APP:
        at.switch_page(script)
    at.run()
    assert not at.exception
    bodies = preload_bodies(at)
    assert len(bodies) == 1
    assert json.dumps(preload.plotly_chunk()) in bodies[0]
    assert f"if ({'true' if when == 'now' else 'false'})" in bodies[0]
    assert not [h for h in at.main.get("html") if preload.MARKER in h.proto.body]  # not in the page
    if when == "idle":  # right only for a page whose first run draws no Plotly chart
        assert not at.get("plotly_chart")


def test_no_preload_when_streamlit_has_no_such_file(fixture_source, monkeypatch):
    monkeypatch.setattr(preload, "plotly_chunk", lambda: None)
    at = run_page(LIVE)
    assert not at.exception
    assert preload_bodies(at) == []
    assert at.get("plotly_chart")  # the charts are drawn as before
