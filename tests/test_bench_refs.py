"""The benchmark baselines compute the same numbers as tsdash, and the engine's speed-ups compute
the same numbers as the plain way.

* benchmarks/pandas_ref.py (the pandas baseline) and benchmarks/duckdb_ref.py reading Parquet
  files (the DuckDB reference, flow both counted directly and by running sums) equal tsdash's six
  default tables on a small generated demo
  written to Parquet, with the SLA overrides of tsdash.toml, over a window with a DST change and
  a short frozen window;
* the window-offset local dates equal a per-value time-zone conversion in zones with odd DST rules;
* derived per-dataset frames are rebuilt when a dataset's frames change.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from benchmarks import common as C
from benchmarks import duckdb_ref as D
from benchmarks import pandas_ref as P

from tsdash.config import Settings, SLAConfig
from tsdash.demo import generate
from tsdash.metrics import TABLES, Filter
from tsdash.metrics import core as M
from tsdash.sources import load_dataset
from tsdash.sources.write import write_tables

UTC = dt.UTC
NOW = dt.datetime(2026, 4, 8, 13, 20, tzinfo=UTC)
SLA = SLAConfig(queue_overrides={"livestream_moderation": {"urgent": 0.25, "high": 1.0}})


@pytest.fixture(scope="module")
def bench_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench") / "demo"
    write_tables(generate(days=30, agents=8, cases=6000, seed=11, now=NOW), str(folder))
    settings = Settings(sla=SLA).with_source(str(folder))
    return folder, settings, load_dataset(settings)


WINDOWS = {
    # the whole history, across the end of daylight saving in Europe (2026-03-29)
    "all-berlin": (dt.date(2026, 3, 9), dt.date(2026, 4, 8), "Europe/Berlin", NOW),
    # a short window frozen in the past, another zone
    "frozen-ny": (dt.date(2026, 3, 20), dt.date(2026, 3, 27), "America/New_York", dt.datetime(2026, 3, 26, 17, 5, tzinfo=UTC)),
}  # fmt: skip


def _params(folder, start, end, tz, as_of):
    return P.Params(
        folder,
        start,
        end,
        tz,
        as_of,
        targets=dict(SLA.targets_hours),
        other_hours=SLA.other_hours,
        queue_overrides=SLA.queue_overrides,
    )


@pytest.mark.parametrize("window", list(WINDOWS))
def test_pandas_and_duckdb_refs_equal_tsdash(bench_data, window):
    folder, settings, ds = bench_data
    start, end, tz, as_of = WINDOWS[window]
    f = Filter(start, end, tz=tz, as_of=as_of)
    p = _params(folder, start, end, tz, as_of)
    sql = D.sql_tables(folder, f, sla=SLA)
    sql_cumsum = D.sql_tables(folder, f, sla=SLA, names=("flow",), flow="cumsum")
    for name in C.SIX:
        ours = TABLES[name].compute(ds, f)
        assert ours.height > 0, name
        D.assert_same(name, ours, C.pandas_to_polars(P.TABLES[name](p)))
        D.assert_same(name, ours, sql[name])
    D.assert_same("flow", TABLES["flow"].compute(ds, f), sql_cumsum["flow"])


def test_pandas_ref_in_memory_equals_from_files(bench_data):
    folder, _, _ = bench_data
    start, end, tz, as_of = WINDOWS["all-berlin"]
    from_files = _params(folder, start, end, tz, as_of)
    in_memory = P.Params(**{**from_files.__dict__, "folder": None, "frames": P.read_all(folder)})
    for name in C.SIX:
        a, b = P.TABLES[name](from_files), P.TABLES[name](in_memory)
        assert a.equals(b), name


@pytest.mark.parametrize(
    "tz",
    ["Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns", "UTC"],
)
def test_window_local_dates_equal_time_zone_conversion(tz):
    lo, hi = dt.datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC)
    trans, offsets = M.utc_offsets(tz, lo, hi)
    assert len(offsets) == len(trans) + 1
    rng = np.random.default_rng(3)
    lo_us, hi_us = int(lo.timestamp() * 1e6), int(hi.timestamp() * 1e6)
    edges = [int(t.timestamp() * 1e6) + d for t in trans for d in (-1, 0, 1)]
    us = np.concatenate([rng.integers(lo_us, hi_us, 20_000), edges, [lo_us, hi_us - 1]])
    df = pl.DataFrame({"t": pl.Series(us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")})
    df = df.with_columns(M.local_date("t", tz).alias("a"), M.local_date_between("t", tz, lo, hi).alias("b"))
    assert df.filter(pl.col("a") != pl.col("b")).height == 0
    if tz != "UTC" and tz != "Asia/Kathmandu":
        assert trans  # the zone changes its offset in these two years


def test_derived_frames_follow_the_dataset(bench_data):
    _, _, ds = bench_data
    calls = []

    def build(d):
        calls.append(1)
        return d.cases.height

    assert M.derived(ds, "test-height", build) == ds.cases.height
    assert M.derived(ds, "test-height", build) == ds.cases.height
    assert len(calls) == 1  # built once per dataset
    from dataclasses import replace

    smaller = replace(ds, cases=ds.cases.head(10))
    assert M.derived(smaller, "test-height", build) == 10  # another frame: rebuilt
    assert len(calls) == 2
