"""Uncertainty and control limits, as vectorised Polars expressions.

- Proportions: Wilson score interval, 95 %.
- Means: Student-t interval, 95 % (``mean ± t(0.975, n-1) · sd / sqrt(n)``, sd with ddof=1).
- Medians (KPI tiles only): distribution-free order-statistic interval, 95 %.
- Week over week: individuals / moving-range (XmR) control limits over the previous 8 weeks;
  see :func:`week_over_week`.

>>> import polars as pl
>>> tuple(round(x, 4) for x in wilson(8, 10))
(0.4902, 0.9433)
>>> round(t_quantile_975(10), 4)
2.2281
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import polars as pl

Z95 = 1.959963984540054  # standard normal 97.5 % quantile

# Student-t 97.5 % quantiles for 1..30 degrees of freedom (exact to 9 decimals). Beyond 30 the
# Cornish-Fisher expansion below is accurate to better than 1e-7.
_T975 = {
    1: 12.706204736, 2: 4.302652730, 3: 3.182446305, 4: 2.776445105, 5: 2.570581836,
    6: 2.446911851, 7: 2.364624252, 8: 2.306004135, 9: 2.262157163, 10: 2.228138852,
    11: 2.200985160, 12: 2.178812830, 13: 2.160368656, 14: 2.144786688, 15: 2.131449546,
    16: 2.119905299, 17: 2.109815578, 18: 2.100922040, 19: 2.093024054, 20: 2.085963447,
    21: 2.079613845, 22: 2.073873068, 23: 2.068657610, 24: 2.063898562, 25: 2.059538553,
    26: 2.055529439, 27: 2.051830516, 28: 2.048407142, 29: 2.045229642, 30: 2.042272456,
}  # fmt: skip

# XmR chart constants: a moving range above D4 * mean moving range is out of control.
D4 = 3.267
LOOKBACK_WEEKS = 8
MIN_MOVING_RANGES = 3


def _cornish_fisher(v: pl.Expr | float) -> pl.Expr | float:
    z = Z95
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / v + g2 / v**2 + g3 / v**3 + g4 / v**4


def t_quantile_975(df: int) -> float:
    """97.5 % quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("df must be >= 1")
    return _T975[df] if df in _T975 else float(_cornish_fisher(float(df)))


def t_quantile_975_expr(df: pl.Expr) -> pl.Expr:
    df = df.cast(pl.Float64)
    return (
        pl.when(df < 1)
        .then(None)
        .when(df <= 30)
        .then(
            df.replace_strict({float(k): v for k, v in _T975.items()}, default=None, return_dtype=pl.Float64)
        )
        .otherwise(_cornish_fisher(df))
    )


def wilson_low(x: pl.Expr, n: pl.Expr, z: float = Z95) -> pl.Expr:
    """Lower bound of the Wilson score interval for ``x`` successes out of ``n`` (null when n = 0)."""
    return _wilson(x, n, z, -1.0)


def wilson_high(x: pl.Expr, n: pl.Expr, z: float = Z95) -> pl.Expr:
    """Upper bound of the Wilson score interval (null when n = 0)."""
    return _wilson(x, n, z, 1.0)


def _wilson(x: pl.Expr, n: pl.Expr, z: float, sign: float) -> pl.Expr:
    n = n.cast(pl.Float64)
    p = x.cast(pl.Float64) / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom
    bound = (centre + sign * half).clip(0.0, 1.0)
    # exact ends: 0 successes -> lower 0, all successes -> upper 1 (no rounding residue)
    edge = (x.cast(pl.Float64) <= 0) if sign < 0 else (x.cast(pl.Float64) >= n)
    return pl.when(n <= 0).then(None).when(edge).then(0.0 if sign < 0 else 1.0).otherwise(bound)


def wilson(x: int, n: int) -> tuple[float | None, float | None]:
    """Wilson 95 % interval for plain numbers. ``wilson(0, 0) == (None, None)``."""
    if n <= 0:
        return None, None
    row = pl.select(
        wilson_low(pl.lit(x), pl.lit(n)).alias("l"), wilson_high(pl.lit(x), pl.lit(n)).alias("h")
    ).row(0)
    return row[0], row[1]


def t_low(mean: pl.Expr, sd: pl.Expr, n: pl.Expr) -> pl.Expr:
    """Lower bound of the 95 % t interval of a mean (null when n < 2)."""
    return _t(mean, sd, n, -1.0)


def t_high(mean: pl.Expr, sd: pl.Expr, n: pl.Expr) -> pl.Expr:
    """Upper bound of the 95 % t interval of a mean (null when n < 2)."""
    return _t(mean, sd, n, 1.0)


def _t(mean: pl.Expr, sd: pl.Expr, n: pl.Expr, sign: float) -> pl.Expr:
    nf = n.cast(pl.Float64)
    half = t_quantile_975_expr(nf - 1.0) * sd / nf.sqrt()
    return pl.when(nf >= 2).then(mean + sign * half).otherwise(None)


def median_interval(values: pl.Series) -> tuple[float | None, float | None]:
    """Distribution-free 95 % interval of a median from order statistics.

    With n sorted values the bounds are the j-th and k-th smallest values,
    ``j = floor(n/2 - 1.96·sqrt(n)/2)`` and ``k = ceil(1 + n/2 + 1.96·sqrt(n)/2)`` (1-based),
    clipped to [1, n]. Null for fewer than 6 values (the interval would be the whole range).
    """
    _, lo, hi = median_with_interval(values)
    return lo, hi


def median_with_interval(values: pl.Series) -> tuple[float | None, float | None, float | None]:
    """``(median, low, high)``: the median as ``Series.median`` gives it and its
    :func:`median_interval`, from one selection pass over the values (no sort).

    >>> median_with_interval(pl.Series([float(i) for i in range(1, 11)]))
    (5.5, 1.0, 10.0)
    """
    v = values.drop_nulls()
    n = v.len()
    if n == 0:
        return None, None, None
    if n < 6:
        return v.median(), None, None
    half = Z95 * math.sqrt(n) / 2
    j = max(1, math.floor(n / 2 - half))
    k = min(n, math.ceil(1 + n / 2 + half))
    mid = ((n - 1) // 2, n // 2)  # 0-based: the middle value, or the two middle values
    import numpy as np  # here: the CLI's start-up does not need numpy

    # the j-th, middle and k-th smallest by selection (linear time) instead of a full sort
    part = np.partition(v.cast(pl.Float64).to_numpy(), sorted({j - 1, *mid, k - 1}))
    # the two middle values' mean with Polars' own arithmetic, so the value equals Series.median
    median = pl.Series([part[mid[0]], part[mid[1]]], dtype=pl.Float64).median()
    return median, float(part[j - 1]), float(part[k - 1])


def week_over_week(
    table: pl.DataFrame,
    value: str,
    *,
    keys: Sequence[str] = (),
    week: str = "week",
    lookback: int = LOOKBACK_WEEKS,
) -> pl.DataFrame:
    """Change against the previous week, with XmR control limits over the previous ``lookback`` weeks.

    For each row (a group ``keys`` and a Monday ``week``):

    - ``previous``: the value of the same group in the calendar week before (null when that week
      has no row), ``change = value - previous``;
    - ``mr_bar``: the mean moving range |x(w) - x(w-1)| over the previous ``lookback`` weeks
      (only ranges whose both weeks lie in those 8 weeks; at least 3 such ranges are needed,
      else ``mr_bar``, the limits and the flag are null);
    - ``change_limit = 3.267 · mr_bar`` (the D4 upper limit of a moving-range chart);
    - ``lower``/``upper = previous ∓ change_limit``: the band the value was expected in;
    - ``flag``: ``|change| > change_limit`` -- the change is outside the normal week-to-week
      variation of the last 8 weeks. Null when it cannot be judged.

    The current week never contributes to its own limits.
    """
    keys = list(keys)
    cols = [*keys, week, value]
    base = table.select(cols).with_columns(pl.lit(0).alias("_g"))
    jk = ["_g", *keys]
    prev = base.select(
        *jk, (pl.col(week) + dt.timedelta(days=7)).alias(week), pl.col(value).alias("previous")
    )
    x = base.join(prev, on=[*jk, week], how="left", nulls_equal=True).with_columns(
        (pl.col(value) - pl.col("previous")).alias("change")
    )
    hist = x.select(*jk, pl.col(week).alias("_hw"), pl.col("change").abs().alias("_mr"))
    lb = dt.timedelta(days=7 * (lookback - 1))
    h = (
        x.select(*jk, week)
        .join(hist, on=jk, how="inner", nulls_equal=True)
        # ranges ending in weeks w-(lookback-1) .. w-1: both of their weeks lie in w-lookback .. w-1
        .filter(
            (pl.col("_hw") < pl.col(week))
            & (pl.col("_hw") >= pl.col(week) - lb)
            & pl.col("_mr").is_not_null()
        )
        .group_by([*jk, week])
        .agg(pl.col("_mr").mean().alias("mr_bar"), pl.len().alias("_n"))
    )
    out = x.join(h, on=[*jk, week], how="left", nulls_equal=True)
    ok = pl.col("_n").fill_null(0) >= MIN_MOVING_RANGES
    limit = pl.when(ok).then(pl.col("mr_bar") * D4)
    out = out.with_columns(
        pl.when(ok).then(pl.col("mr_bar")).alias("mr_bar"), limit.alias("change_limit")
    ).with_columns(
        (pl.col("previous") - pl.col("change_limit")).alias("lower"),
        (pl.col("previous") + pl.col("change_limit")).alias("upper"),
        (pl.col("change").abs() > pl.col("change_limit")).alias("flag"),
    )
    return out.select(
        *keys, week, value, "previous", "change", "mr_bar", "change_limit", "lower", "upper", "flag"
    ).sort([*keys, week], nulls_last=True)
