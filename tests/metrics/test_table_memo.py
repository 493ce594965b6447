"""The per-dataset table memo (tsdash.metrics.core.memo_table) on the worked example: a call
through the registry and a direct call that leaves the defaults out share one table; different
arguments, or a filter without an as-of, are never served another call's table."""

from __future__ import annotations

import datetime as dt

import pytest

from tsdash.metrics import TABLES, handle_time
from tsdash.metrics.core import _LRU, TABLE_MEMO_SIZE, derived
from tsdash.metrics.example import EXAMPLE_FILTER as F
from tsdash.metrics.example import example_dataset

MON = dt.date(2026, 3, 2)
# handle time by week, by hand (see tests/metrics/test_metrics_definitions.py): the six cases
# resolved in the window with a handle time, 600 900 1200 1500 2000 3000 -> mean 1533.33,
# median (1200 + 1500) / 2 = 1350, p90 at 1 + 0.9 * 5 = 5.5: 2000 + 0.5 * 1000 = 2500
BY_WEEK = [(MON, 6, pytest.approx(9200 / 6), 1350.0, 2500.0)]


@pytest.fixture
def ds():
    return example_dataset()  # a new dataset each test: an empty memo


def memo_keys(ds) -> list[tuple]:
    """The memo's handle-time tables for the example's filter (the example's as-of is after its
    window, so handle time also keeps its table as of the window's end: tests/metrics/test_settled.py)."""
    memo = derived(ds, "table_memo", lambda _ds: _LRU(TABLE_MEMO_SIZE))  # as memo_table makes it
    return [k for k in memo.items if k[0] == "handle_time" and k[1] == F]


def test_a_registry_call_and_a_direct_call_share_one_table(ds):
    direct = handle_time(ds, F, ("week",))
    via_registry = TABLES["handle-time"].compute(ds, F, ["week"])  # passes detail=False
    assert direct.rows() == via_registry.rows() == BY_WEEK
    assert len(memo_keys(ds)) == 1
    (key,) = memo_keys(ds)
    assert key[2] == ("week",) and dict(key[3]) == {"detail": False, "values": None}


def test_other_arguments_are_other_tables(ds):
    plain = handle_time(ds, F, ("week",))
    detail = handle_time(ds, F, ("week",), detail=True)
    aht_only = handle_time(ds, F, ("week",), values=["aht_s"])  # a list is keyed as a tuple
    assert plain.columns == ["week", "cases", "aht_s", "median_s", "p90_s"]
    assert detail.columns == [*plain.columns, "aht_ci_low", "aht_ci_high"]
    assert aht_only.columns == ["week", "cases", "aht_s"]
    assert aht_only.rows() == [(MON, 6, pytest.approx(9200 / 6))]
    assert len(memo_keys(ds)) == 3
    assert handle_time(ds, F, ("week",), values=("aht_s",)).rows() == aht_only.rows()
    assert len(memo_keys(ds)) == 3  # the tuple finds the list's table


def test_a_filter_without_as_of_is_never_remembered(ds):
    live = F.with_(as_of=None)  # reads the clock: the example's window is long over
    handle_time(ds, live, ("week",))
    assert memo_keys(ds) == []


def test_a_table_handed_out_is_a_copy(ds):
    first = handle_time(ds, F, ("week",))
    first.drop_in_place("p90_s")
    assert handle_time(ds, F, ("week",)).rows() == BY_WEEK
