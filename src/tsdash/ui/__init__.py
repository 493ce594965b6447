"""The Streamlit user interface: the only part of tsdash that imports Streamlit.

Page scripts use::

    from tsdash import ui
    ctx = ui.frame("Handle time", page="handle_time")
    ui.chart(fig, title="Median handle time per day (minutes)", key="aht", data=frame, metric="aht")

The pure modules (:mod:`tsdash.ui.state`, :mod:`tsdash.ui.fmt`, :mod:`tsdash.ui.export`,
:mod:`tsdash.ui.charts`) import no Streamlit; the names below are loaded lazily so that
importing them does not pull Streamlit in.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "frame": "tsdash.ui.frame",
    "Context": "tsdash.ui.frame",
    "PAGES": "tsdash.ui.frame",
    "chart": "tsdash.ui.components",
    "download_csv": "tsdash.ui.components",
    "empty_state": "tsdash.ui.components",
    "empty_message": "tsdash.ui.components",
    "empty_kind": "tsdash.ui.components",
    "explain_empty": "tsdash.ui.components",
    "heading": "tsdash.ui.components",
    "metric_help": "tsdash.ui.components",
    "safe": "tsdash.ui.components",
    "text": "tsdash.ui.components",
    "csv_bytes": "tsdash.ui.export",
    "fmt_duration": "tsdash.ui.fmt",
    "fmt_number": "tsdash.ui.fmt",
    "fmt_pct": "tsdash.ui.fmt",
    "axis_unit": "tsdash.ui.fmt",
    "md_escape": "tsdash.ui.fmt",
    "count_points": "tsdash.ui.charts",
    "style": "tsdash.ui.charts",
    "case_list": "tsdash.ui.drill",
    "selected_points": "tsdash.ui.drill",
    "selected_row": "tsdash.ui.drill",
    "open_case": "tsdash.ui.drill",
}

__all__ = [
    "Context",
    "PAGES",
    "axis_unit",
    "case_list",
    "chart",
    "count_points",
    "csv_bytes",
    "download_csv",
    "empty_kind",
    "empty_message",
    "empty_state",
    "explain_empty",
    "fmt_duration",
    "fmt_number",
    "fmt_pct",
    "frame",
    "heading",
    "md_escape",
    "metric_help",
    "open_case",
    "safe",
    "selected_points",
    "selected_row",
    "style",
    "text",
]

if TYPE_CHECKING:  # pragma: no cover
    from tsdash.ui.charts import count_points, style
    from tsdash.ui.components import (
        chart,
        download_csv,
        empty_kind,
        empty_message,
        empty_state,
        explain_empty,
        heading,
        metric_help,
        safe,
        text,
    )
    from tsdash.ui.drill import case_list, open_case, selected_points, selected_row
    from tsdash.ui.export import csv_bytes
    from tsdash.ui.fmt import axis_unit, fmt_duration, fmt_number, fmt_pct, md_escape
    from tsdash.ui.frame import PAGES, Context, frame


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tsdash.ui' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """``tsdash.ui.frame`` is both a submodule and the function pages call. Importing the
    submodule first (``from tsdash.ui.frame import source_id``) makes Python set the package's
    ``frame`` to the module; the package still answers ``ui.frame`` with the function."""

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if isinstance(value, types.ModuleType) and name in _EXPORTS and _EXPORTS[name] == value.__name__:
            return getattr(value, name)
        return value


sys.modules[__name__].__class__ = _Package
