"""The examples in the core's docstrings run and print what they say (``tsdash.ui`` aside: it
needs a Streamlit session). A docstring example is documentation a reader trusts."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import tsdash

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(tsdash.__path__, "tsdash.")
    if not m.name.startswith("tsdash.ui") and m.name != "tsdash.__main__"
)


def test_the_core_modules_are_found():
    assert {"tsdash.metrics.core", "tsdash.metrics.registry", "tsdash.dataset"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} examples in {name} failed (see the output)"
    )
