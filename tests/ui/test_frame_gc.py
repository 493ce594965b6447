"""The frame keeps Streamlit's collection after each script run short: Streamlit runs a full
garbage collection after every run (``runner.postScriptGC``), which walks every object the
collector tracks while holding the GIL, so the run's last messages wait for it. The frame
freezes the long-lived objects (``gc.freeze``) once enough have gathered; garbage is never
frozen."""

from __future__ import annotations

import gc
import weakref

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import APP, TIMEOUT
from tsdash.ui.frame import GC_FREEZE_AT


class _Node:
    pass


def test_long_lived_objects_are_frozen_and_garbage_is_not(fixture_source):
    gc.unfreeze()  # this test process may have frozen before
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    # garbage in a reference cycle made before a run is collected, not frozen
    node = _Node()
    node.me = node
    ref = weakref.ref(node)
    del node
    at.run()
    assert not at.exception
    assert ref() is None
    # the modules, Streamlit, Polars and the loaded data are frozen; the collection after a run
    # walks at most GC_FREEZE_AT long-lived objects (a run's own objects besides)
    assert gc.get_freeze_count() > GC_FREEZE_AT
    assert len(gc.get_objects(generation=2)) <= GC_FREEZE_AT
    # the page is the same as without freezing: the tiles are there
    assert {"Open backlog now", "Breached (open)"} <= {m.label for m in at.metric}
