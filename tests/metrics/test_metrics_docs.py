"""docs/METRICS.md is generated from the registry and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from tsdash.metrics import DEFINITIONS, TABLES
from tsdash.metrics.docs import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "METRICS.md"


def test_doc_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/METRICS.md is stale: run `.venv/bin/python -m tsdash.metrics.docs`"
    )


def test_doc_lists_every_metric_with_its_definition_and_example():
    text = DOC.read_text(encoding="utf-8")
    for m in DEFINITIONS.values():
        assert f"(`{m.key}`)" in text, m.key
        assert m.description in text, m.key
        assert m.example, f"{m.key} has no worked example"
        assert m.example in text, m.key


def test_doc_lists_every_report_with_its_columns():
    text = DOC.read_text(encoding="utf-8")
    for td in TABLES.values():
        assert f"| `{td.name}` | {', '.join(td.columns)} |" in text, td.name


def test_doc_states_the_documented_choices():
    text = DOC.read_text(encoding="utf-8")
    assert "any team or agent filter excludes it" in text  # unassigned cases
    assert "previous 8 weeks" in text and "3.267" in text  # control limits
    assert "Partial weeks" in text
