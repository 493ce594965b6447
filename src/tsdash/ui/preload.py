"""Load Streamlit's Plotly component in the browser before the first chart needs it.

Streamlit's front end loads the script that draws ``st.plotly_chart`` (4.7 MB in Streamlit
1.67, ~0.3 s to fetch from a busy server and ~0.7 s to evaluate on a 2-core machine) only when
the first Plotly chart of a browser tab arrives, at the end of that page's first script run.
:func:`preload_plotly` imports the same module from a small script in the page instead:

* on a page with charts (``when="now"``), as soon as the frame is drawn, so that the script is
  fetched and evaluated while the server still computes the page;
* on a page without Plotly charts (Overview, Data, Cases; ``when="idle"``), once the page has
  drawn and the browser is idle, so that the page a lead opens next draws its charts at once
  without slowing this one.

The browser keeps one instance of a module per URL: Streamlit's own lazy import of the
component then finds it loaded (nothing is fetched or evaluated twice). When the component's
file cannot be found (another Streamlit build), nothing is added; when the import fails, the
charts load the component themselves as before.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Literal

import streamlit as st

#: the global flag the script sets, so that a page switch does not import twice
FLAG = "__tsdashPlotly"

#: on a page without charts, the import waits until the page has not changed for this long
QUIET_MS = 1000

#: the marker element, whose element container the style hides (no gap in the sidebar)
MARKER = "tsdash-preload-plotly"

_SCRIPT = """<span id="%(marker)s"></span>
<style>[data-testid="stElementContainer"]:has(#%(marker)s) { display: none; }</style>
<script>
(() => {
  if (window.%(flag)s) return;
  const index = document.querySelector('script[type="module"][src*="/static/js/index."]');
  if (!index) return;
  const url = new URL(%(chunk)s, index.src).href;
  const load = () => {
    if (window.%(flag)s) return;
    window.%(flag)s = import(url).then(() => "loaded", () => { window.%(flag)s = null; });
  };
  if (%(now)s) { load(); return; }
  // once the page has drawn: the script run is over (Streamlit marks the app "notRunning") and
  // the page has not changed for a while (charts and tables draw after the run), then when idle
  const start = performance.now();
  let last = start;
  const seen = new MutationObserver(() => { last = performance.now(); });
  seen.observe(document.body, {subtree: true, childList: true, attributes: true});
  const wait = () => {
    const now = performance.now();
    const app = document.querySelector("[data-testid='stApp']");
    const run = app && app.getAttribute("data-test-script-state") === "notRunning";
    if ((run && now - last > %(quiet_ms)d) || now - start > 20000) {
      seen.disconnect();
      (window.requestIdleCallback || ((f) => setTimeout(f, 100)))(load, {timeout: 5000});
    } else {
      setTimeout(wait, 200);
    }
  };
  setTimeout(wait, 200);
})();
</script>"""


@functools.cache
def plotly_chunk() -> str | None:
    """The file name of Streamlit's Plotly component script (``PlotlyChart.<hash>.js``), or None
    when this Streamlit build has no such single file."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    found = sorted(folder.glob("PlotlyChart.*.js"))
    return found[0].name if len(found) == 1 else None


def preload_script(chunk: str, *, when: Literal["now", "idle"]) -> str:
    """The ``<script>`` that imports ``chunk`` (a file beside Streamlit's ``index.*.js``)."""
    return _SCRIPT % {
        "marker": MARKER,
        "flag": FLAG,
        "chunk": json.dumps(chunk),
        "now": "true" if when == "now" else "false",
        "quiet_ms": QUIET_MS,
    }


def preload_plotly(*, when: Literal["now", "idle"]) -> None:
    """Add the script that loads the Plotly component (see the module's docstring)."""
    chunk = plotly_chunk()
    if chunk is None:
        return
    st.html(preload_script(chunk, when=when), unsafe_allow_javascript=True)
