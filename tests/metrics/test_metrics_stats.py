"""Intervals and control limits against hand-computed and independently computed values."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsdash.metrics.stats import (
    median_interval,
    median_with_interval,
    t_quantile_975,
    week_over_week,
    wilson,
)


def _t_cdf(x: float, v: int, n: int = 4000) -> float:
    """Student-t CDF by Simpson integration of the density (independent of the table)."""
    c = math.exp(math.lgamma((v + 1) / 2) - math.lgamma(v / 2)) / math.sqrt(v * math.pi)

    def pdf(t: float) -> float:
        return c * (1 + t * t / v) ** (-(v + 1) / 2)

    h = x / n
    s = pdf(0) + pdf(x) + sum((4 if i % 2 else 2) * pdf(i * h) for i in range(1, n))
    return 0.5 + s * h / 3


@pytest.mark.parametrize("df", [1, 2, 5, 10, 29, 30, 31, 45, 120, 1000])
def test_t_quantile_matches_numeric_cdf(df):
    q = t_quantile_975(df)
    assert _t_cdf(q, df, n=20000 if df < 3 else 4000) == pytest.approx(0.975, abs=2e-6)


def test_wilson_by_hand():
    # x = 8, n = 10, z = 1.959964: p = 0.8, z^2 = 3.841459
    # centre = (0.8 + 0.192073) / 1.384146 = 0.716740; half = 1.959964 * sqrt(0.016 + 0.009604) / 1.384146
    lo, hi = wilson(8, 10)
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    assert (lo, hi) == pytest.approx((centre - half, centre + half))
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)


def test_wilson_edges():
    assert wilson(0, 0) == (None, None)
    lo, hi = wilson(0, 5)
    assert lo == 0.0 and 0 < hi < 1
    lo, hi = wilson(5, 5)
    assert 0 < lo < 1 and hi == 1.0


def test_median_interval():
    # n = 10: half = 1.96 * sqrt(10) / 2 = 3.099; j = floor(5 - 3.099) = 1; k = ceil(1 + 5 + 3.099) = 10
    assert median_interval(pl.Series([float(i) for i in range(1, 11)])) == (1.0, 10.0)
    # n = 100: half = 9.8; j = floor(40.2) = 40; k = ceil(60.8) = 61
    assert median_interval(pl.Series([float(i) for i in range(1, 101)])) == (40.0, 61.0)
    assert median_interval(pl.Series([1.0, 2.0, 3.0])) == (None, None)


def test_median_with_interval_by_hand():
    # n = 10 (even): the median is the mean of the 5th and 6th smallest, (5 + 6) / 2 = 5.5
    assert median_with_interval(pl.Series([float(i) for i in range(10, 0, -1)])) == (5.5, 1.0, 10.0)
    # n = 7 (odd), shuffled, with a null dropped: the 4th smallest is 40;
    # half = 1.96 * sqrt(7) / 2 = 2.593; j = max(1, floor(3.5 - 2.593)) = 1; k = min(7, ceil(7.093)) = 7
    s = pl.Series([70.0, 10.0, None, 40.0, 20.0, 60.0, 30.0, 50.0])
    assert median_with_interval(s) == (40.0, 10.0, 70.0)
    # under 6 values: the median, no interval; no values: nothing
    assert median_with_interval(pl.Series([3.0, 1.0, 2.0])) == (2.0, None, None)
    assert median_with_interval(pl.Series([None], dtype=pl.Float64)) == (None, None, None)


@given(
    st.lists(
        st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64)),
        max_size=60,
    )
)
def test_median_with_interval_matches_sort(values):
    """The median equals Series.median to the last bit; the bounds are the j-th and k-th
    smallest of the sorted values (the definition in median_interval's docstring)."""
    s = pl.Series(values, dtype=pl.Float64)
    med, lo, hi = median_with_interval(s)
    assert med == s.median()
    assert (lo, hi) == median_interval(s)
    v = sorted(x for x in values if x is not None)
    n = len(v)
    if n < 6:
        assert (lo, hi) == (None, None)
    else:
        half = 1.959963984540054 * math.sqrt(n) / 2
        j, k = max(1, math.floor(n / 2 - half)), min(n, math.ceil(1 + n / 2 + half))
        assert (lo, hi) == (v[j - 1], v[k - 1])


W0 = dt.date(2026, 1, 5)  # a Monday


def _weeks(values, start=W0, keys=None):
    d = {"week": [start + dt.timedelta(weeks=i) for i in range(len(values))], "v": values}
    if keys:
        d |= keys
    return pl.DataFrame(d)


def test_week_over_week_control_limits_by_hand():
    # weeks 0..9: 10 12 11 13 12 14 13 15 14 30
    # week 9: previous 14, change 16; ranges in weeks 2..8 (both weeks within 1..8):
    #   |11-12| |13-11| |12-13| |14-12| |13-14| |15-13| |14-15| = 1 2 1 2 1 2 1 -> MR-bar 10/7
    #   limit 3.267 * 10/7 = 4.667; |16| > 4.667 -> flagged
    df = _weeks([10.0, 12, 11, 13, 12, 14, 13, 15, 14, 30])
    got = week_over_week(df, "v").row(9, named=True)
    assert got["previous"] == 14 and got["change"] == 16
    assert got["mr_bar"] == pytest.approx(10 / 7)
    assert got["change_limit"] == pytest.approx(3.267 * 10 / 7)
    assert got["lower"] == pytest.approx(14 - 3.267 * 10 / 7)
    assert got["upper"] == pytest.approx(14 + 3.267 * 10 / 7)
    assert got["flag"] is True
    # week 8: 15 -> 14, change -1; ranges of weeks 1..7: 2 1 2 1 2 1 2 -> 11/7; not flagged
    row8 = week_over_week(df, "v").row(8, named=True)
    assert row8["change"] == -1 and row8["mr_bar"] == pytest.approx(11 / 7) and row8["flag"] is False


def test_week_over_week_needs_history_and_consecutive_weeks():
    df = _weeks([10.0, 12, 11])
    got = week_over_week(df, "v")
    # week 0: no previous; weeks 1, 2: fewer than 3 moving ranges before them -> no limits
    assert got["change"].to_list() == [None, 2.0, -1.0]
    assert got["flag"].to_list() == [None, None, None]
    # a missing week breaks the chain: no previous value, no change
    gap = pl.DataFrame({"week": [W0, W0 + dt.timedelta(weeks=2)], "v": [1.0, 5.0]})
    assert week_over_week(gap, "v")["previous"].to_list() == [None, None]


def test_week_over_week_per_group():
    a = _weeks([1.0, 2, 3, 4, 5, 6], keys={"agent_id": ["a"] * 6})
    b = _weeks([10.0, 10, 10, 10, 10, 50], keys={"agent_id": ["b"] * 6})
    got = week_over_week(pl.concat([b, a]), "v", keys=["agent_id"])
    assert got["agent_id"].to_list() == ["a"] * 6 + ["b"] * 6
    # a: steady +1 per week: MR-bar 1, limit 3.267, change 1: not flagged
    assert got.filter(pl.col("agent_id") == "a")["flag"].to_list()[-1] is False
    # b: flat then +40: MR-bar 0 -> any change is outside
    last_b = got.row(11, named=True)
    assert last_b["mr_bar"] == 0 and last_b["flag"] is True
