"""Benchmark data: ``tsdash demo`` output generated once into ``data/bench/`` and reused.

Every dataset is keyed by its size and seed and anchored at a fixed instant (:data:`ANCHOR`), so
that runs on different days measure the same rows and produce the same numbers::

    data/bench/parquet-1m-s7/        cases.parquet, agents.parquet, ... (tsdash demo --out FOLDER)
    data/bench/sqlite-1m-s7.sqlite   the same tables in SQLite (1M only)

A dataset is written to a temporary name and renamed when complete, so an interrupted run never
leaves a half-written dataset that a later run would reuse.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "data" / "bench"
SEED = 7
# A Friday afternoon in Berlin: the live pages have a working day in progress.
ANCHOR = dt.datetime(2026, 5, 29, 14, 0, tzinfo=dt.UTC)
DAYS = 90  # the demo's default history
LONG_DAYS = 730  # two years: 10M cases is ~5M a year, a large T&S organisation
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def label(n: int) -> str:
    for k, v in SIZES.items():
        if v == n:
            return k
    return str(n)


def _generate(out: str, n: int, seed: int, days: int = DAYS) -> float:
    from tsdash.demo import generate_to

    t0 = time.perf_counter()
    generate_to(out, cases=n, seed=seed, now=ANCHOR, days=days)
    return time.perf_counter() - t0


def parquet_dir(n: int, seed: int = SEED, log=print, days: int = DAYS) -> Path:
    """The Parquet folder of the demo with ``n`` cases over ``days`` days (generated on first use)."""
    path = BENCH_DIR / (f"parquet-{label(n)}-s{seed}" + (f"-{days}d" if days != DAYS else ""))
    if (path / "cases.parquet").exists():
        return path
    tmp = BENCH_DIR / f".tmp-{path.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log(f"generating {n:,} demo cases over {days} days as Parquet into {path.relative_to(ROOT)} ...")
    secs = _generate(str(tmp), n, seed, days)
    log(f"  done in {secs:.1f} s")
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
    return path


def sqlite_file(n: int, seed: int = SEED, log=print) -> Path:
    """The SQLite file of the demo with ``n`` cases (generated on first use)."""
    path = BENCH_DIR / f"sqlite-{label(n)}-s{seed}.sqlite"
    if path.exists():
        return path
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    tmp = BENCH_DIR / f".tmp-{path.stem}-{os.getpid()}.sqlite"
    tmp.unlink(missing_ok=True)
    log(f"generating {n:,} demo cases as SQLite into {path.relative_to(ROOT)} ...")
    secs = _generate(str(tmp), n, seed)
    log(f"  done in {secs:.1f} s")
    tmp.rename(path)
    return path


def pg_schema(n: int, seed: int = SEED, log=print) -> str | None:
    """A PostgreSQL schema in database ``test`` holding the demo with ``n`` cases, or None when
    no server answers at 127.0.0.1:5432. The schema name carries size and seed; a marker table
    ``bench_complete`` is written last, so an interrupted load is redone."""
    schema = f"bench_{label(n)}_s{seed}"
    try:
        import sqlalchemy as sa

        eng = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            done = conn.execute(
                sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f"{schema}.bench_complete"}
            ).scalar()
    except Exception:
        return None
    if not done:
        from tsdash.demo import generate
        from tsdash.sources.write import write_tables

        log(f"generating {n:,} demo cases into PostgreSQL schema {schema} ...")
        t0 = time.perf_counter()
        write_tables(generate(cases=n, seed=seed, now=ANCHOR, days=DAYS), PG_URL, schema=schema)
        with eng.begin() as conn:
            conn.execute(sa.text(f'CREATE TABLE "{schema}".bench_complete (ok int)'))
        log(f"  done in {time.perf_counter() - t0:.1f} s")
    eng.dispose()
    return schema
