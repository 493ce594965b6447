"""The benchmark suite (``make bench``; ``BENCH_SIZE=10m make bench`` for the full one).

    .venv/bin/python benchmarks/run.py [--size 1m|10m] [--reps N] [--only tables,memory,cli,pages]

Sizes: ``1m`` (default, a few minutes): tables at 100k and 1M cases, the CLI and the pages at
1M. ``10m``: the same plus 10M cases (tables from Parquet; the pages' 28-day window with the
Scope pushed down, over the demo's 90 days and over two years of history), the pages at 100k,
and from SQLite and (when a server answers) PostgreSQL at 1M.

Method (docs/PERFORMANCE.md):

* every "from files" and "cold" figure is one measurement in a fresh process
  (``benchmarks/jobs.py``); imports happen before the clock starts; the peak memory is that
  process's RSS high-water mark (``getrusage(RUSAGE_SELF).ru_maxrss``), so native Polars,
  Arrow and DuckDB memory counts;
* tsdash, pandas and DuckDB are interleaved (repetition outermost, then table, then engine), so
  that a load from other processes on the machine hits all three alike; figures are medians;
* "in memory" figures run the three engines in one process on data already loaded, interleaved;
  each tsdash call computes the whole table (no table or settled part remembered from another);
* the whole-process CLI figures time ``tsdash metrics ...`` and ``python benchmarks/pandas_cli.py``
  from the shell (imports included), interleaved.

The results are printed as tables and saved to ``data/bench/results-<size>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import common as C  # noqa: E402
from benchmarks import data as D  # noqa: E402

PY = sys.executable
ENGINES = ("tsdash", "pandas", "duckdb")
# tsdash-all: the path before the load plan (every table loaded); tsdash-lean: an experiment
# (benchmarks/jobs.py)
FILE_ENGINES = (*ENGINES, "tsdash-all", "tsdash-lean")
PAGES = ("overview", "live", "handle-time")  # benchmarks/pages.py (not imported here: it imports Streamlit)
PLANS = {
    "1m": {"tables": [100_000, 1_000_000], "reps": 3, "pages": [1_000_000], "cli": 1_000_000},
    "10m": {
        "tables": [100_000, 1_000_000, 10_000_000],
        "reps": 5,
        "pages": [100_000, 1_000_000, 10_000_000],
        "cli": 1_000_000,
        "sql": True,
    },
}


def log(msg: str) -> None:
    print(msg, flush=True)


def run_job(spec: dict, timeout: float = 1800) -> dict:
    p = subprocess.run(
        [PY, "-m", "benchmarks.jobs", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if p.returncode != 0:
        raise RuntimeError(f"job {spec} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def fmt_s(x: float) -> str:
    if x != x:
        return "-"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def fmt_ratio(x: float) -> str:
    if x != x:
        return "-"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def print_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    text = "\n".join([line, sep, *body])
    print(text, flush=True)
    return text


# ------------------------------------------------------------------------------ machine


def machine() -> dict:
    info: dict = {"nproc": os.cpu_count(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as fh:
            info["ram_gb"] = round(int(fh.readline().split()[1]) / 1024**2, 1)
    except OSError:
        pass
    info["load_before"] = os.getloadavg()
    from importlib.metadata import version

    for pkg in ("polars", "pandas", "pyarrow", "duckdb", "streamlit", "numpy"):
        try:
            info[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            info[pkg] = "?"
    return info


# ------------------------------------------------------------------------------ sections


def bench_tables(n: int, reps: int, results: dict) -> None:
    folder = D.parquet_dir(n, log=log)
    log(f"\n## Tables from files, {D.label(n)} cases ({reps} interleaved runs, each a fresh process)")
    raw: dict = {e: {t: [] for t in C.SIX} for e in FILE_ENGINES}
    for r in range(reps):
        for name in C.SIX:
            for engine in FILE_ENGINES:
                res = run_job({"kind": "table", "engine": engine, "table": name, "folder": str(folder)})
                raw[engine][name].append(res)
        log(f"  run {r + 1}/{reps} done (load average {os.getloadavg()[0]:.2f})")
    rows, summary = [], {}
    for name in C.SIX:
        t = {e: med([x["secs"] for x in raw[e][name]]) for e in FILE_ENGINES}
        load = med([x["load_secs"] for x in raw["tsdash"][name]])
        peak = {e: max(x["peak_mb"] for x in raw[e][name]) for e in FILE_ENGINES}
        base = {e: min(x["base_mb"] for x in raw[e][name]) for e in FILE_ENGINES}
        floor = med([x["read_secs"] for x in raw["tsdash-lean"][name]])
        summary[name] = {
            "secs": t,
            "tsdash_load_secs": load,
            "peak_mb": peak,
            "base_mb": base,
            "lean_read_secs": floor,
        }
        rows.append(
            [
                name,
                fmt_s(t["tsdash"]),
                fmt_s(load),
                fmt_s(t["pandas"]),
                fmt_s(t["duckdb"]),
                fmt_ratio(t["tsdash"] / t["pandas"]),
                fmt_ratio(t["tsdash"] / t["duckdb"]),
                *(f"{peak[e]:.0f}" for e in ENGINES),
                fmt_s(t["tsdash-all"]),
                fmt_s(t["tsdash-lean"]),
                fmt_ratio(t["tsdash-lean"] / t["pandas"]),
                fmt_s(floor),
            ]
        )
    text = print_table(
        [
            "table",
            "tsdash",
            "(of which load)",
            "pandas",
            "DuckDB",
            "tsdash/pandas",
            "tsdash/DuckDB",
            "peak MB tsdash",
            "pandas",
            "DuckDB",
            "all tables",
            "lean*",
            "lean*/pandas",
            "read*",
        ],
        rows,
    )
    log("  tsdash: the load plan of `tsdash metrics` (window Scope + the report's tables); all tables:")
    log("  load_dataset of every table first (the path before the load plan)")
    log("  * lean: an experiment, not a tsdash path -- the engine on the metric columns read with")
    log("    pl.read_parquet and normalised without validation (what loading as lean as pandas would give);")
    log("    read: of which the bare pl.read_parquet of those columns")
    results.setdefault("tables_files", {})[D.label(n)] = {"summary": summary, "runs": raw, "text": text}


def bench_memory(n: int, reps: int, results: dict, window: str = "table") -> None:
    folder = D.parquet_dir(n, log=log)
    log(f"\n## Tables on data in memory, {D.label(n)} cases, {window} window ({reps} interleaved runs)")
    res = run_job({"kind": "memory", "folder": str(folder), "reps": reps, "window": window})
    if res["problems"]:
        log("  DIFFERENT NUMBERS: " + "; ".join(res["problems"]))
    else:
        log("  check: pandas and DuckDB give the same numbers as tsdash on all six tables")
    rows = []
    summary = {}
    for name in C.SIX:
        t = {e: med(res["times"][e][name]) for e in ENGINES}
        summary[name] = t
        rows.append(
            [
                name,
                fmt_s(t["tsdash"]),
                fmt_s(t["pandas"]),
                fmt_s(t["duckdb"]),
                fmt_ratio(t["tsdash"] / t["pandas"]),
                fmt_ratio(t["tsdash"] / t["duckdb"]),
            ]
        )
    text = print_table(["table", "tsdash", "pandas", "DuckDB", "tsdash/pandas", "tsdash/DuckDB"], rows)
    results.setdefault(f"tables_memory_{window}", {})[D.label(n)] = {
        "summary": summary,
        "problems": res["problems"],
        "text": text,
    }


def _cli_args(name: str, folder: Path) -> list[str]:
    start, end = C.table_window()
    return [
        name,
        "--source",
        str(folder),
        "--from",
        start.isoformat(),
        "--to",
        end.isoformat(),
        "--tz",
        C.TZ,
        "--as-of",
        D.ANCHOR.isoformat(),
    ]


def _wall(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    dt_ = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr[-2000:]}")
    return dt_, p.stdout


def bench_cli(n: int, reps: int, results: dict) -> None:
    folder = D.parquet_dir(n, log=log)
    tsdash_bin = str(Path(PY).parent / "tsdash")
    _compile_bytecode()
    log(f"\n## Whole process from the shell, {D.label(n)} cases ({reps} interleaved runs)")
    times: dict = {e: {t: [] for t in C.SIX} for e in ("tsdash", "pandas")}
    same = {}
    for _ in range(reps):
        for name in C.SIX:
            a, out_t = _wall([tsdash_bin, "metrics", *_cli_args(name, folder)])
            b, out_p = _wall([PY, str(ROOT / "benchmarks" / "pandas_cli.py"), *_cli_args(name, folder)])
            times["tsdash"][name].append(a)
            times["pandas"][name].append(b)
            same[name] = _csv_equal(out_t, out_p)
    startup = [_wall([tsdash_bin, "--help"])[0] for _ in range(reps)]
    rows, summary = [], {}
    for name in C.SIX:
        t, p = med(times["tsdash"][name]), med(times["pandas"][name])
        summary[name] = {"tsdash": t, "pandas": p, "same_output": same[name]}
        rows.append([name, fmt_s(t), fmt_s(p), fmt_ratio(p / t), "yes" if same[name] else "NO"])
    text = print_table(["report", "tsdash metrics", "pandas script", "pandas/tsdash", "same CSV"], rows)
    imports = import_check()
    log(
        f"  tsdash --help: {fmt_s(med(startup))}; CLI import of tsdash.cli + metrics path: "
        f"{imports['total_ms']:.0f} ms; streamlit/plotly imported: {imports['heavy'] or 'none'}"
    )
    results["cli"] = {
        "size": D.label(n),
        "summary": summary,
        "startup_secs": med(startup),
        "imports": imports,
        "text": text,
    }


def _compile_bytecode() -> None:
    """Write tsdash's bytecode before timing whole processes, as an installed package has it.

    pip compiles a package's modules when it installs them (pandas, Polars and PyArrow arrive
    with their ``.pyc`` files), but tsdash is installed editable: its modules are compiled on
    first import and cached in ``__pycache__`` -- unless ``PYTHONDONTWRITEBYTECODE`` is set, as
    it is on some machines (this one), where every ``tsdash`` process compiled its ~20 modules
    again: 33-41 ms of a ~450 ms run. ``make install`` compiles them too."""
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src" / "tsdash")], check=True)


def _csv_equal(a: str, b: str) -> bool:
    """Same rows and cells; numbers compared to 1e-9 relative."""
    la, lb = a.strip().splitlines(), b.strip().splitlines()
    if len(la) != len(lb):
        return False
    for x, y in zip(la, lb, strict=True):
        for u, v in zip(x.split(","), y.split(","), strict=False):
            if u == v:
                continue
            try:
                fu, fv = float(u), float(v)
            except ValueError:
                return False
            if abs(fu - fv) > 1e-9 * max(abs(fu), abs(fv), 1.0):
                return False
    return True


def import_check() -> dict:
    """``python -X importtime`` of the CLI path: total import time and any Streamlit/Plotly module."""
    code = (
        "import tsdash.cli, tsdash.metrics.cli, tsdash.sources, tsdash.validate, tsdash.metrics; "
        "tsdash.cli.build_parser()"
    )
    p = subprocess.run([PY, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True, text=True)
    total_us = 0
    heavy = set()
    for line in p.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line[len("import time:") :].split("|")
        if not cumulative.strip().isdigit():
            continue  # the header line
        if not name.startswith("  "):  # top-level imports (nested ones are indented)
            total_us += int(cumulative)
        if name.strip().split(".")[0] in ("streamlit", "plotly"):
            heavy.add(name.strip().split(".")[0])
    return {"total_ms": total_us / 1000, "heavy": sorted(heavy)}


def bench_pages(
    title: str, reps: int, results: dict, sources: list[tuple[str, str, str | None]], scoped: bool = False
) -> None:
    """Page data: cold (a fresh process with the app's libraries imported: load + page; and the
    first load after a server start, their imports included) and warm (data in memory)."""

    log(f"\n## Page data, {title}, 28-day window; cold: loaded as the app loads (history_scope, no events)")
    rows, summary = [], {}
    for src_label, location, schema in sources:
        cold: dict = {p: [] for p in PAGES}
        for _ in range(max(1, reps // 2 + 1)):
            for page in PAGES:
                spec = {
                    "kind": "page",
                    "source": location,
                    "db_schema": schema,
                    "pages": [page],
                    "cold": True,
                    "scope": scoped,
                }
                cold[page].append(run_job(spec))
        warm = run_job(
            {"kind": "page", "source": location, "db_schema": schema, "reps": reps, "scope": scoped}
        )
        for page in PAGES:
            c = cold[page]
            s = {
                "cold_secs": med([x["secs"] for x in c]),
                "cold_load_secs": med([x["load_secs"] for x in c]),
                "first_start_secs": med([x["secs"] + x.get("imports_secs", 0.0) for x in c]),
                "cold_peak_mb": max(x["peak_mb"] for x in c),
                "warm_secs": warm["median"][page],
                "rows_loaded": c[0]["rows"],
            }
            summary[f"{src_label}/{page}"] = s
            rows.append(
                [
                    src_label,
                    page,
                    f"{s['rows_loaded']:,}",
                    fmt_s(s["warm_secs"]),
                    fmt_s(s["cold_secs"]),
                    fmt_s(s["cold_load_secs"]),
                    fmt_s(s["first_start_secs"]),
                    f"{s['cold_peak_mb']:.0f}",
                ]
            )
    text = print_table(
        [
            "source",
            "page",
            "cases loaded",
            "warm",
            "cold",
            "(of which load)",
            "first after start (+ imports)",
            "cold peak MB",
        ],
        rows,
    )
    results.setdefault("pages", {})[title] = {"summary": summary, "text": text}


def bench_demo_first_page(results: dict) -> None:
    """``make run`` from nothing: the default demo generated into SQLite, then the Overview data."""
    import tempfile

    log("\n## Default demo: generation + first page (fresh processes)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "tsdash.sqlite"
        gen, _ = _wall(
            [str(Path(PY).parent / "tsdash"), "demo", "--out", str(db), "--now", D.ANCHOR.isoformat()]
        )
        res = run_job({"kind": "page", "source": f"sqlite:///{db}", "pages": ["overview"], "cold": True})
    imports = res.get("imports_secs", 0.0)  # a new server imports its libraries: counted here
    total = gen + imports + res["secs"]
    log(
        f"  tsdash demo (whole process): {fmt_s(gen)}; first page (imports {fmt_s(imports)} + load "
        f"{fmt_s(res['load_secs'])} + page {fmt_s(res['page_secs'])}): {fmt_s(imports + res['secs'])}; "
        f"total {fmt_s(total)}"
    )
    results["demo_first_page"] = {"generate_secs": gen, "first_page": res, "total_secs": total}


def _generate_apart(n: int, days: int = D.DAYS) -> None:
    """Generate a dataset in a child process: the peak RSS of the jobs (``ru_maxrss``) is
    inherited from this process across fork and exec, so generating 10M cases here (7.4 GB)
    would set every later job's peak to at least that."""
    code = f"from benchmarks import data as D; D.parquet_dir({n}, days={days})"
    subprocess.run([PY, "-c", code], cwd=ROOT, check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default=os.environ.get("BENCH_SIZE", "1m"), choices=list(PLANS))
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--only", default="", help="comma-separated: tables,memory,cli,pages,demo")
    ap.add_argument("--sql", action="store_true", help="pages at 1M also from SQLite and PostgreSQL")
    a = ap.parse_args(argv)
    plan = dict(PLANS[a.size], **({"sql": True} if a.sql else {}))
    reps = a.reps or plan["reps"]
    only = set(filter(None, a.only.split(","))) or {"tables", "memory", "cli", "pages", "demo"}
    results: dict = {"size": a.size, "reps": reps, "machine": machine(), "started": time.time()}
    log(
        f"# tsdash benchmarks ({a.size}): {results['machine'].get('cpu')}, {results['machine']['nproc']} cores, "
        f"{results['machine'].get('ram_gb')} GB; load average {results['machine']['load_before'][0]:.2f}"
    )
    for n in plan["tables"]:  # data first, so that generation never overlaps a measurement
        _generate_apart(n)
    if "tables" in only:
        for n in plan["tables"]:
            bench_tables(n, reps if n < 10_000_000 else max(3, reps - 2), results)
    if "memory" in only:
        for n in plan["tables"]:
            bench_memory(n, reps, results)
    if "cli" in only:
        bench_cli(plan["cli"], reps, results)
    if "pages" in only:
        for n in plan["pages"]:
            sources = [("parquet", str(D.parquet_dir(n, log=log)), None)]
            if plan.get("sql") and n == 1_000_000:
                sources.append(("sqlite", f"sqlite:///{D.sqlite_file(n, log=log)}", None))
                schema = D.pg_schema(n, log=log)
                if schema:
                    sources.append(("postgresql", D.PG_URL, schema))
                else:
                    log("  (no PostgreSQL at 127.0.0.1:5432: skipped)")
            big = n >= 10_000_000
            bench_pages(f"{D.label(n)} cases over {D.DAYS} days", reps, results, sources, scoped=big)
            if big:
                _generate_apart(n, D.LONG_DAYS)
                long = str(D.parquet_dir(n, log=log, days=D.LONG_DAYS))
                title = f"{D.label(n)} cases over {D.LONG_DAYS} days"
                bench_pages(title, reps, results, [("parquet", long, None)], scoped=True)
    if "demo" in only:
        bench_demo_first_page(results)
    results["finished"] = time.time()
    results["load_after"] = os.getloadavg()
    suffix = "" if only == {"tables", "memory", "cli", "pages", "demo"} else "-" + "-".join(sorted(only))
    out = D.BENCH_DIR / f"results-{a.size}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str))
    log(f"\nload average after: {results['load_after'][0]:.2f}; results saved to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
