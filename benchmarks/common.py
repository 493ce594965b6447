"""What every benchmark shares: settings, windows, the three engines behind one call, equality
checks and the measurement helpers (peak RSS)."""

from __future__ import annotations

import datetime as dt
import resource
from pathlib import Path

from benchmarks.data import ANCHOR, DAYS

SIX = ("flow", "handle-time", "quality", "escalations", "sla", "backlog-now")
TZ = "Europe/Berlin"


def settings_for(location: str | Path, db_schema: str | None = None):
    """The project's settings (tsdash.toml: SLA targets with the livestream overrides, QA pass
    mark, display zone) with the source replaced, as ``tsdash metrics --source`` does."""
    from dataclasses import replace

    from tsdash.config import load_settings

    s = load_settings(env={"TSDASH_SOURCE": str(location)})
    if db_schema:
        s = replace(s, source=replace(s.source, db_schema=db_schema))
    return s


def table_window() -> tuple[dt.date, dt.date]:
    """The tables' window: the whole history of the demo (every case, every day)."""
    last = ANCHOR.astimezone(_zone()).date()
    return last - dt.timedelta(days=DAYS), last


def page_window(days: int = 28) -> tuple[dt.date, dt.date]:
    """The pages' window: the app's "Last 28 days" ending on the as-of day."""
    last = ANCHOR.astimezone(_zone()).date()
    return last - dt.timedelta(days=days - 1), last


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(TZ)


def tsdash_filter(window: tuple[dt.date, dt.date]):
    from tsdash.metrics import Filter

    return Filter(window[0], window[1], tz=TZ, as_of=ANCHOR)


def pandas_params(folder: Path | None, window, settings, frames=None):
    from benchmarks.pandas_ref import Params

    return Params(
        folder,
        window[0],
        window[1],
        TZ,
        ANCHOR,
        targets=dict(settings.sla.targets_hours),
        other_hours=settings.sla.other_hours,
        queue_overrides={q: dict(p) for q, p in settings.sla.queue_overrides.items()},
        pass_mark=settings.qa_pass_mark,
        frames=frames,
    )


def pandas_to_polars(df):
    """A pandas table as Polars with the engine's dtypes (dates, Int64 counts)."""
    import polars as pl

    out = pl.from_pandas(df)
    casts = []
    for c, t in out.schema.items():
        if t == pl.Object:
            casts.append(pl.col(c).map_elements(lambda v: v, return_dtype=pl.Date))
        elif t.is_integer():
            casts.append(pl.col(c).cast(pl.Int64))
    return out.with_columns(casts) if casts else out


def check_same(name: str, ours, theirs) -> str | None:
    """None when equal (floats to 1e-9 relative), else the first difference."""
    from benchmarks.duckdb_ref import assert_same

    try:
        assert_same(name, ours, theirs)
    except AssertionError as exc:
        return f"{name}: {str(exc)[:300]}"
    return None


def peak_rss_mb() -> float:
    """This process's resident-set high-water mark (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_now_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")
