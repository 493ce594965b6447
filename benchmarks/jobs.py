"""One measurement in a fresh process: ``python -m benchmarks.jobs '<json>'`` prints one JSON line.

Each job imports what it needs first (imports are not timed), then times its work with
``time.perf_counter`` and reports the process's peak resident set size (``ru_maxrss``: the
high-water mark of the whole process, native Polars/DuckDB/Arrow memory included, which
``tracemalloc`` cannot see) and the resident size after the imports.

Kinds:

* ``table``: one default table from the files -- tsdash (what ``tsdash metrics`` does:
  ``load_plan`` -- the window's Scope and the report's tables -- then ``load_dataset`` and the
  table), pandas (``pd.read_parquet`` of the needed columns + the table) or DuckDB (SQL over
  ``read_parquet``); ``tsdash-all`` is the path before the load plan (``load_dataset`` of every
  table, then the table); ``tsdash-lean`` is an experiment, not a tsdash path: the engine on the
  metric columns read with ``pl.read_parquet`` and ``normalize``d without validation (what the
  engine costs from files when loading is as lean as the pandas script's; ``read_secs`` is the
  bare Parquet read of those columns).
* ``memory``: the data already in memory (tsdash Dataset, pandas frames, DuckDB tables); first
  checks that the three give the same tables, then times the six tables, interleaving the
  engines in each repetition.
* ``read``: the bare ``pl.read_parquet`` of given columns (benchmarks/floor.py).
* ``page``: a page's engine calls; ``cold`` includes loading the data as the app does
  (``history_scope`` of the view and every table but events), ``warm`` repeats them on data in
  memory.

Repetitions on data in memory move the as-of back by a microsecond each time: tsdash remembers
a table per dataset and pinned filter (one page asks for the same table several times), and a
repetition must compute, as a new view of a live page does.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path


def _imports(engine: str) -> None:
    import polars  # noqa: F401

    if engine in ("tsdash", "tsdash-all", "tsdash-lean", "all"):
        import tsdash.metrics  # noqa: F401
        import tsdash.sources  # noqa: F401
        import tsdash.validate  # noqa: F401
    if engine in ("pandas", "all"):
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        import benchmarks.pandas_ref  # noqa: F401
    if engine in ("duckdb", "all"):
        import duckdb  # noqa: F401

        import benchmarks.duckdb_ref  # noqa: F401


LEAN_CASE_COLUMNS = (
    "case_id",
    "created_at",
    "queue",
    "case_type",
    "priority",
    "channel",
    "assigned_agent_id",
    "first_response_at",
    "resolved_at",
    "handle_seconds",
    "escalated",
    "escalated_at",
    "escalation_resolved_at",
    "sla_due_at",
    "reopened_count",
)


def _fresh_as_of(f):
    """The filter with its as-of moved back by 0, 1, 2... microseconds (never the same view twice)."""
    import datetime as dt

    k = 0
    while True:
        yield f.with_(as_of=f.as_of - dt.timedelta(microseconds=k))
        k += 1


def job_table(spec: dict) -> dict:
    from benchmarks import common as C

    engine, name, folder = spec["engine"], spec["table"], Path(spec["folder"])
    _imports(engine)
    settings = C.settings_for(folder)
    window = C.table_window()
    f = C.tsdash_filter(window)
    base = C.rss_now_mb()
    t0 = time.perf_counter()
    extra = {}
    if engine == "tsdash":
        from tsdash.metrics import TABLES
        from tsdash.metrics.cli import load_plan
        from tsdash.sources import load_dataset

        # the default table, no case dimension asked for: the plan `tsdash metrics NAME` uses
        scope, tables = load_plan(
            name,
            f,
            case_dims=False,
            case_filters=False,
            case_columns=TABLES[name].default_by,
            inputs=TABLES[name].case_inputs_for(None, f),
        )
        ds = load_dataset(settings, scope, tables)
        t1 = time.perf_counter()
        out = TABLES[name].compute(ds, f, pass_mark=settings.qa_pass_mark)
        rows = out.height
    elif engine == "tsdash-all":
        from tsdash.metrics import TABLES
        from tsdash.sources import load_dataset

        ds = load_dataset(settings)
        t1 = time.perf_counter()
        out = TABLES[name].compute(ds, f, pass_mark=settings.qa_pass_mark)
        rows = out.height
    elif engine == "pandas":
        from benchmarks.pandas_ref import TABLES

        t1 = t0
        out = TABLES[name](C.pandas_params(folder, window, settings))
        rows = len(out)
    elif engine == "tsdash-lean":
        import polars as pl

        from tsdash.dataset import normalize
        from tsdash.metrics import TABLES

        tables = {"cases": pl.read_parquet(folder / "cases.parquet", columns=list(LEAN_CASE_COLUMNS))}
        tables["agents"] = pl.read_parquet(folder / "agents.parquet")
        if name == "quality":
            tables["qa_reviews"] = pl.read_parquet(folder / "qa_reviews.parquet")
        extra["read_secs"] = time.perf_counter() - t0
        ds = normalize(tables, sla=settings.sla)
        t1 = time.perf_counter()
        out = TABLES[name].compute(ds, f, pass_mark=settings.qa_pass_mark)
        rows = out.height
    else:
        from benchmarks.duckdb_ref import sql_tables

        t1 = t0
        out = sql_tables(folder, f, settings.qa_pass_mark, sla=settings.sla, names=(name,), flow="cumsum")[
            name
        ]
        rows = out.height
    t2 = time.perf_counter()
    return {
        "secs": t2 - t0,
        "load_secs": t1 - t0,
        "rows": rows,
        "peak_mb": C.peak_rss_mb(),
        "base_mb": base,
        **extra,
    }


def job_memory(spec: dict) -> dict:
    """The six tables on data in memory, all three engines in this process, interleaved."""
    from benchmarks import common as C

    _imports("all")
    from benchmarks import duckdb_ref as D
    from benchmarks import pandas_ref as P
    from tsdash.metrics import TABLES
    from tsdash.sources import load_dataset

    folder = Path(spec["folder"])
    reps = int(spec.get("reps", 5))
    windows = {"table": C.table_window(), "page": C.page_window()}
    window = windows[spec.get("window", "table")]
    settings = C.settings_for(folder)
    f = C.tsdash_filter(window)
    pm = settings.qa_pass_mark
    ds = load_dataset(settings)
    frames = P.read_all(folder)
    pp = C.pandas_params(None, window, settings, frames=frames)
    con = D.load_tables(folder)
    D.connect(con, f, settings.sla)

    fresh = _fresh_as_of(f)

    def whole(name: str):
        # each call a whole table, as pandas and DuckDB compute: a new Dataset object (its
        # frames shallow copies) has no remembered table or settled part (tsdash.metrics.core
        # derived, keyed on the frames' identity), and a new as-of
        again = dataclasses.replace(ds, cases=ds.cases.clone(), agents=ds.agents.clone())
        return TABLES[name].compute(again, next(fresh), pass_mark=pm)

    runs = {
        "tsdash": whole,
        "pandas": lambda name: P.TABLES[name](pp),
        "duckdb": lambda name: D.table(con, name, f, pm, flow="cumsum"),
    }
    problems = []
    for name in C.SIX:
        ours = runs["tsdash"](name)
        for other, conv in (("pandas", C.pandas_to_polars), ("duckdb", lambda x: x)):
            diff = C.check_same(name, ours, conv(runs[other](name)))
            if diff:
                problems.append(f"{other}: {diff}")
    times: dict[str, dict[str, list[float]]] = {e: {n: [] for n in C.SIX} for e in runs}
    for _ in range(reps):
        for name in C.SIX:
            for engine, fn in runs.items():
                t0 = time.perf_counter()
                fn(name)
                times[engine][name].append(time.perf_counter() - t0)
    return {"problems": problems, "times": times, "peak_mb": C.peak_rss_mb()}


def job_page(spec: dict) -> dict:
    from benchmarks import common as C

    _imports("tsdash")
    from benchmarks.pages import PAGES
    from tsdash.metrics.history import history_scope
    from tsdash.sources import load_dataset

    try:  # the tables the app's pages read (every table but events)
        from tsdash.ui.frame import PAGE_TABLES
    except ImportError:  # pragma: no cover
        PAGE_TABLES = None

    settings = C.settings_for(spec["source"], spec.get("db_schema"))
    f = C.tsdash_filter(C.page_window(spec.get("days", 28)))
    pm = settings.qa_pass_mark
    # A cold cache in the running app (the first view of a scope, a reload after new data) is in
    # a server that has imported its libraries: the database drivers with its first load,
    # PyArrow with its first table drawn. They are imported before the clock and their time
    # reported apart (``imports_secs``): the first load after a server start pays them once.
    t_imp = time.perf_counter()
    _source_libraries(spec["source"])
    imports_s = time.perf_counter() - t_imp
    pages = spec.get("pages") or list(PAGES)
    # the app's load for a view (tsdash.ui.frame): history_scope and the pages' tables
    scope = history_scope(f)
    base = C.rss_now_mb()
    t0 = time.perf_counter()
    ds = load_dataset(settings, scope, PAGE_TABLES)
    load_s = time.perf_counter() - t0
    out: dict = {"load_secs": load_s, "rows": ds.cases.height, "base_mb": base, "imports_secs": imports_s}
    if spec.get("cold"):
        # the first visit: load, then the page (one page per process: each is a fresh start)
        (page,) = pages
        t1 = time.perf_counter()
        PAGES[page](ds, f, pm)
        out["page_secs"] = time.perf_counter() - t1
        out["secs"] = time.perf_counter() - t0
    else:
        reps = int(spec.get("reps", 5))
        secs = {p: [] for p in pages}
        fresh = _fresh_as_of(f)
        for p in pages:  # first call: per-dataset derived frames, thread pools
            PAGES[p](ds, next(fresh), pm)
        for _ in range(reps):
            for p in pages:
                fp = next(fresh)
                t1 = time.perf_counter()
                PAGES[p](ds, fp, pm)
                secs[p].append(time.perf_counter() - t1)
        out["secs"] = secs
        out["median"] = {p: statistics.median(v) for p, v in secs.items()}
    out["peak_mb"] = C.peak_rss_mb()
    return out


def _source_libraries(location: str) -> None:
    """Import what the app's server has imported by the time its data cache is cold again:
    PyArrow (Streamlit's tables) and, for a database, SQLAlchemy and the ADBC driver's DB-API
    layer (which imports ``pyarrow.dataset`` and with it pandas: ~0.4 s in a fresh process)."""
    import pyarrow  # noqa: F401

    if "://" in location:
        import adbc_driver_manager.dbapi  # noqa: F401
        import sqlalchemy  # noqa: F401

        if location.startswith("sqlite"):
            import adbc_driver_sqlite.dbapi  # noqa: F401
        elif location.startswith("postgresql"):
            import adbc_driver_postgresql.dbapi  # noqa: F401


def job_read(spec: dict) -> dict:
    """The bare Polars read of some columns of some tables (no validation, no table)."""
    import polars as pl

    from benchmarks import common as C

    folder = Path(spec["folder"])
    base = C.rss_now_mb()
    t0 = time.perf_counter()
    rows = 0
    for table, columns in spec["columns"].items():
        rows += pl.read_parquet(folder / f"{table}.parquet", columns=columns).height
    return {"secs": time.perf_counter() - t0, "rows": rows, "peak_mb": C.peak_rss_mb(), "base_mb": base}


JOBS = {"table": job_table, "memory": job_memory, "page": job_page, "read": job_read}


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    result = JOBS[spec["kind"]](spec)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
