"""Where loading time goes: ``load_dataset`` split into reading (per table) and validation (per
step and table), with the peak memory.

    .venv/bin/python benchmarks/profile_load.py SOURCE [--scope] [--tables agents,cases,...] [--schema S]

SOURCE is a Parquet folder, a SQLite file or a SQLAlchemy URL; ``--scope`` pushes the pages'
28-day window down (benchmarks/pages.py ``scope_for``). ``--tables`` reads and validates only
those tables and the ones they need (``load_dataset(..., tables=...)``). The steps are timed by
wrapping the functions of tsdash.sources.read and tsdash.validate in this process only (nothing
is changed on disk).
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("--scope", action="store_true")
    ap.add_argument("--schema", default=None, help="database schema (e.g. bench_1m_s7 in PostgreSQL)")
    ap.add_argument("--tables", default="", help="comma-separated contract tables to read")
    a = ap.parse_args(argv)

    import tsdash.sources.read as R
    import tsdash.validate as V
    from benchmarks import common as C

    src = a.source
    if "://" not in src and src.endswith((".sqlite", ".db")):
        src = f"sqlite:///{Path(src).resolve()}"
    settings = C.settings_for(src, a.schema)
    scope = None
    if a.scope:
        from benchmarks import pages as PG

        scope = PG.scope_for(C.tsdash_filter(C.page_window()))
    spent: dict[tuple[str, str], float] = defaultdict(float)

    def wrap(module, fn: str, label) -> None:
        orig = getattr(module, fn)

        def timed(*args, **kw):
            if threading.current_thread().name.startswith(("tsdash-pg-half", "tsdash-sqlite-half")):
                return orig(*args, **kw)  # a half of a two-halves read: timed as a whole below
            t0 = time.perf_counter()
            try:
                return orig(*args, **kw)
            finally:
                spent[(fn, label(args))] += time.perf_counter() - t0

        setattr(module, fn, timed)

    wrap(R, "_scan_parquet", lambda a: f"read {a[1]}")
    wrap(R, "_reviewed_cases", lambda a: "add cases reviewed in the window (files)")
    wrap(R, "_keep_children", lambda a: f"keep {a[2]} of kept cases")
    wrap(R, "_fetch_adbc", lambda a: "read (ADBC) " + re.search(r"\sFROM\s+(\S+)", a[1]).group(1).strip('"'))
    wrap(R, "_pg_read_halves", lambda a: "read (ADBC, two halves on two connections) cases")
    wrap(R, "_sqlite_read_halves", lambda a: "read (ADBC, two halves on two connections) cases")
    wrap(V, "_prepare", lambda a: a[0].raw.name)
    wrap(V, "_typed", lambda a: a[0].raw.name)
    wrap(V, "_quarantine", lambda a: a[0].raw.name)
    wrap(V, "_warn_unknown", lambda a: f"{a[1]}.{a[4]}")
    wrap(V, "normalize", lambda a: "all")

    from tsdash.sources import load_dataset

    t0 = time.perf_counter()
    ds = load_dataset(settings, scope, a.tables.split(",") if a.tables else None)
    total = time.perf_counter() - t0
    only = f", tables {a.tables}" if a.tables else ""
    print(f"load_dataset({src}{', scope' if scope else ''}{only}): {total:.2f} s, {ds.cases.height:,} cases")
    for (fn, label), secs in sorted(spent.items(), key=lambda kv: -kv[1]):
        if secs >= 0.005:
            print(f"  {secs:7.2f} s  {fn:22s} {label}")
    print(f"peak RSS {C.peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
