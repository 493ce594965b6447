"""The ``tsdash`` command line.

Subcommands: ``validate``, ``demo``, ``metrics``, ``simulate``, ``report``, ``run``. Imports stay lean:
Streamlit and Plotly are never imported on the CLI path (``run`` starts Streamlit in a subprocess).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from tsdash.config import ConfigError, Settings, load_settings

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _settings(source: str | None) -> Settings:
    settings = load_settings()
    if source:
        loc = source
        if "://" not in loc:
            p = Path(loc)
            if p.suffix in (".sqlite", ".db", ".sqlite3"):
                loc = f"sqlite:///{p.resolve()}"
            else:
                loc = str(p.resolve())
        settings = settings.with_source(loc)
    return settings


def cmd_validate(args: argparse.Namespace) -> int:
    from tsdash.sources import SourceError, validate_source
    from tsdash.validate import format_report

    settings = _settings(args.source)
    try:
        ds = validate_source(settings)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_DATA
    rep = ds.report
    if args.format == "json":
        doc = {
            "source": rep.source,
            "usable": rep.usable,
            "issues": [i.as_dict() for i in rep.issues],
            "counts": [
                {"severity": s, "table": t, "rule": r, "count": n} for (s, t, r), n in rep.counts().items()
            ],
            "rows": {
                t: ds.table(t).height
                for t in ("cases", "agents", "qa_reviews", "qa_criteria", "events", "shifts")
            },
            "excluded_rows": rep.quarantined_rows,
        }
        print(json.dumps(doc, indent=2, default=str))
    else:
        print(format_report(rep))
    return EXIT_OK if rep.usable else EXIT_DATA


def _parse_now(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def cmd_demo(args: argparse.Namespace) -> int:
    from tsdash.demo import generate_to

    out = args.out or load_settings().source.location
    if "://" not in out and Path(out).suffix in (".sqlite", ".db", ".sqlite3"):
        out = f"sqlite:///{Path(out).resolve()}"
    try:
        now = _parse_now(args.now)
    except ValueError:
        print(
            f"error: --now {args.now!r} is not an ISO timestamp (e.g. 2026-11-24T18:00:00Z)", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        counts = generate_to(
            out, days=args.days, agents=args.agents, cases=args.cases, seed=args.seed, now=now
        )
    except (ValueError, OSError) as exc:  # bad sizes, unwritable --out (WriteError is a ValueError)
        return _fail(str(exc), EXIT_USAGE)
    from tsdash.config import mask_url

    summary = ", ".join(f"{n:,} {t}" for t, n in counts.items())
    print(f"demo data written to {mask_url(out)}: {summary}")
    return EXIT_OK


def cmd_metrics(args: argparse.Namespace) -> int:
    from tsdash.metrics import cli as metrics_cli
    from tsdash.sources import SourceError, load_dataset

    settings = _settings(args.source)

    def loader(source: str | None, _tz: str | None = None, scope=None, tables=None):
        # only the report's window (with the history it needs) and its tables are read
        try:
            return load_dataset(_settings(source) if source != args.source else settings, scope, tables)
        except SourceError as exc:
            raise SystemExit(_fail(str(exc).splitlines()[0], EXIT_DATA)) from None

    return metrics_cli.run(args, loader, settings, pushdown=True)


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def cmd_simulate(args: argparse.Namespace) -> int:
    import signal
    import threading

    from tsdash.simulate import SimulateError, parse_duration, run

    try:
        duration = parse_duration(args.duration) if args.duration else None
        tick = parse_duration(args.tick)
    except ValueError as exc:
        return _fail(f"--duration/--tick: {exc}", EXIT_USAGE)
    if not args.rate > 0:
        return _fail(f"--rate must be more than 0 cases per minute, got {args.rate:g}", EXIT_USAGE)
    settings = _settings(args.source)
    url = settings.source.location
    if "://" not in url:
        return _fail(
            f"{url} is a folder of files; the simulator writes into a database: give a .sqlite file or a "
            "SQLAlchemy URL (tsdash demo --out data/tsdash.sqlite creates one).",
            EXIT_USAGE,
        )
    schema = args.schema or settings.source.db_schema
    stop = threading.Event()

    def _stop(signum, _frame):
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    until = f"for {args.duration}" if duration else "until Ctrl-C"

    def report(line: str) -> None:
        print(line if not line.startswith("simulating on") else f"{line}, {until}", flush=True)

    try:
        summary = run(
            url,
            rate=args.rate,
            duration_s=duration,
            seed=args.seed,
            stop_event=stop,
            tick_s=tick,
            schema=schema,
            report=report,
        )
    except SimulateError as exc:
        return _fail(str(exc), EXIT_DATA)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"stopped: {summary.text()}", flush=True)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from tsdash import report  # imports Plotly (the report embeds its charts); Streamlit never
    from tsdash.config import mask_url
    from tsdash.sources import SourceError, load_dataset

    settings = _settings(args.source)

    def load():
        try:
            return load_dataset(settings)
        except SourceError as exc:
            raise SystemExit(_fail(str(exc).splitlines()[0], EXIT_DATA)) from None

    return report.run_cli(
        args, load, settings.display_tz, settings.qa_pass_mark, mask_url(settings.source.location)
    )


def cmd_run(args: argparse.Namespace) -> int:
    import subprocess

    app = Path(__file__).resolve().parents[2] / "app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port)]
    return subprocess.call(cmd)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tsdash", description="Operations dashboard for Trust & Safety teams.")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a source against the data contract")
    v.add_argument(
        "--source", help="folder of CSV/Parquet files, .sqlite file or SQLAlchemy URL (default: configured)"
    )
    v.add_argument("--format", choices=("text", "json"), default="text")
    v.set_defaults(func=cmd_validate)

    d = sub.add_parser("demo", help="generate the demo dataset")
    d.add_argument("--out", help="SQLite file, SQLAlchemy URL or folder (default: the configured source)")
    d.add_argument("--days", type=int, default=90)
    d.add_argument("--agents", type=int, default=36)
    d.add_argument(
        "--cases", type=int, default=None, help="total cases (default: realistic for the agent count)"
    )
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--now", help="anchor time, ISO 8601 (default: now)")
    d.set_defaults(func=cmd_demo)

    m = sub.add_parser("metrics", help="print a metric table (CSV, JSON or a text table)")
    try:
        from tsdash.metrics import cli as metrics_cli

        metrics_cli.add_arguments(m)
    except ImportError:  # pragma: no cover - during development only
        pass
    m.set_defaults(func=cmd_metrics)

    s = sub.add_parser(
        "simulate",
        help="keep a demo database alive (new cases, assignments, resolutions, reviews)",
        description=(
            "Write live activity into a demo database (SQLite file or PostgreSQL) so the Live workload "
            "page moves: new cases arrive (Poisson, the demo's queue mix for the hour), are assigned to "
            "agents on shift (any active agent when nobody is), answered, escalated (~8%), resolved "
            "(the demo's handle times) and reviewed (QA). Timestamps are the current time. One "
            "transaction per tick; stops cleanly on Ctrl-C or SIGTERM and prints a summary."
        ),
    )
    s.add_argument(
        "--source", help=".sqlite file or SQLAlchemy URL of the demo database (default: configured)"
    )
    s.add_argument(
        "--rate",
        type=float,
        default=1.5,
        help="new cases per minute of wall-clock time, on average (Poisson arrivals; default 1.5)",
    )
    s.add_argument("--duration", help="stop after this long: 30s, 10m, 1h (default: until stopped)")
    s.add_argument("--seed", type=int, default=None, help="random seed (default: different every run)")
    s.add_argument("--tick", default="1s", help="time between transactions: 500ms, 1s, 5s (default 1s)")
    s.add_argument("--schema", help="PostgreSQL schema of the tables (default: [source] schema or public)")
    s.set_defaults(func=cmd_simulate)

    rp = sub.add_parser("report", help="write an agent's scorecard as one self-contained HTML file")
    rp.add_argument("kind", choices=("agent",), help="what to report on")
    rp.add_argument("agent_id", metavar="AGENT_ID")
    rp.add_argument("--from", dest="date_from", metavar="DATE", required=True, help="first day, YYYY-MM-DD")
    rp.add_argument("--to", dest="date_to", metavar="DATE", required=True, help="last day, YYYY-MM-DD")
    rp.add_argument("--source", help="folder, .sqlite file or SQLAlchemy URL (default: configured)")
    rp.add_argument("--tz", help="display time zone (default: the configured one)")
    rp.add_argument(
        "--as-of", dest="as_of", metavar="ISO", help="as of this instant, ISO 8601 (default: now)"
    )
    rp.add_argument("--out", required=True, metavar="FILE.html", help="the HTML file to write")
    rp.add_argument("--csv", dest="csv_out", metavar="FILE.zip", help="also write the tables as a CSV zip")
    rp.set_defaults(func=cmd_report)

    r = sub.add_parser("run", help="start the dashboard")
    r.add_argument("--port", type=int, default=8501)
    r.set_defaults(func=cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except BrokenPipeError:  # `tsdash metrics ... | head`
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
