"""Local dates and weeks computed by arithmetic equal Polars' time-zone conversion and truncation."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsdash.metrics import core as M

UTC = dt.UTC


def test_week_of_by_hand():
    # 1970-01-01 was a Thursday: its Monday is 1969-12-29 (before the epoch: floor modulo)
    d = pl.Series(
        "d",
        [dt.date(1970, 1, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 8), dt.date(1969, 12, 28), None],
    )
    got = pl.select(M.week_of(pl.lit(d))).to_series().to_list()
    assert got == [
        dt.date(1969, 12, 29),
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 2),
        dt.date(1969, 12, 22),
        None,
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.dates(dt.date(1700, 1, 1), dt.date(2300, 12, 31))), max_size=50))
def test_week_of_equals_truncate(dates):
    s = pl.Series("d", dates, dtype=pl.Date)
    got = pl.select(M.week_of(pl.lit(s))).to_series()
    assert got.equals(s.dt.truncate("1w"))


@pytest.mark.parametrize("years", [1, 12])  # a few transitions (steps) and many (the lookup)
@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "UTC"])
def test_local_date_between_both_paths_equal_conversion(tz, years):
    lo = dt.datetime(2020, 1, 1, tzinfo=UTC)
    hi = lo.replace(year=2020 + years)
    trans, _ = M.utc_offsets(tz, lo, hi)
    if tz != "UTC":
        # the two paths are both exercised: a year has 2 changes, twelve years 24
        assert (len(trans) > M._STEP_TRANSITIONS) == (years == 12)
    edges = [t + d for t in trans for d in (-dt.timedelta(microseconds=1), dt.timedelta(0))]
    step = (hi - lo) / 5000
    instants = [lo + i * step for i in range(5000)] + edges + [None]
    df = pl.DataFrame({"t": pl.Series(instants, dtype=pl.Datetime("us", "UTC"))})
    got = df.select(
        M.local_date("t", tz).alias("a"),
        M.local_date_between("t", tz, lo, hi).alias("b"),
    )
    assert got["a"].null_count() == 1
    assert got.filter(pl.col("a").ne_missing(pl.col("b"))).height == 0
