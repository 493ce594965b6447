"""``tsdash metrics METRIC``: print a metric table (CSV, JSON or a text table) without the app.

The ``tsdash`` entry point wires this with::

    p = sub.add_parser("metrics", help="print a metric table")
    tsdash.metrics.cli.add_arguments(p)
    ...
    return tsdash.metrics.cli.run(args, ds_loader)   # ds_loader(source, tz) -> Dataset

With ``pushdown=True`` the loader is called as ``ds_loader(source, tz, scope, tables)``: only the
rows the report's window needs (:func:`load_plan`) and only the tables the report reads.

Exit codes: 0 table printed (possibly with no rows); 2 a usage error (unknown metric, bad date,
``--from`` after ``--to``, unknown agent/team/queue/...), one line on stderr; 1 the data could not
be loaded. Imports stay light: no Streamlit or Plotly on this path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from tsdash.dataset import Dataset
from tsdash.metrics.core import MetricError
from tsdash.metrics.filters import Filter
from tsdash.metrics.registry import TABLES

FORMATS = ("csv", "json", "table")

# --option -> (Filter field, what, how to list the known values)
_DIM_OPTIONS: dict[str, tuple[str, str]] = {
    "team": ("teams", "team"),
    "queue": ("queues", "queue"),
    "priority": ("priorities", "priority"),
    "agent": ("agents", "agent"),
    "case_type": ("case_types", "case type"),
    "channel": ("channels", "channel"),
}


class UsageError(Exception):
    """One line for stderr; exit 2."""


_CASES = ("cases", "agents")
# The source tables each report reads (tsdash.sources.needed_tables adds what validation needs).
# A report not listed here loads every table. tests/test_load_cli.py checks every report's output
# on these tables against the output on all of them.
TABLES_READ: dict[str, tuple[str, ...]] = {
    **{name: _CASES for name in TABLES},
    "quality": (*_CASES, "qa_reviews"),
    "qa-agents": (*_CASES, "qa_reviews"),
    "qa-coverage": (*_CASES, "qa_reviews"),
    "qa-criteria": (*_CASES, "qa_reviews", "qa_criteria"),
    "throughput": (*_CASES, "shifts"),
}
# Reports whose load reads no case rows when no case dimension is asked for (see load_plan);
# tests/test_load_cli.py checks their output against a load of every case.
NO_CASE_ROWS = frozenset({"quality"})
# Snapshots of the cases open at as-of and nothing else (each row's own fields: age, due time,
# escalation): without a case-dimension filter (whose values are checked against the cases
# read), their load reads only the cases open at as-of. Not agent-load (resolved today, the
# team's normal load) nor time-to-clear (the last 7 days' pace).
OPEN_CASES_ONLY = frozenset({"backlog-now", "workload", "open-age"})
_CASE_DIM_OPTIONS = ("queue", "priority", "case_type", "channel")


def load_plan(
    metric: str,
    f: Filter,
    *,
    case_dims: bool = True,
    case_filters: bool = True,
    case_columns: Iterable[str] | None = None,
    inputs: Iterable[str] | None = None,
):
    """(scope, tables) a load for ``metric`` over ``f`` needs: the rows of the window and of the
    history the app keeps before it (:func:`tsdash.metrics.history.history_scope`: the previous
    period, the trend weeks, 130 days for tenure and pace; every case that exists from then on),
    and the tables the report reads.

    ``case_columns``: of the case columns a load may leave out
    (:data:`tsdash.sources.scope.UNREADABLE_CASE_COLUMNS`: case type, channel, escalation reason,
    outcome, status), those the report filters or groups by; the others are not read (no table
    of :data:`TABLES` shows them; tests/test_load_cli.py checks every report against a load of
    every column). None reads them all.

    ``inputs``: of the case columns a derived column reads or is
    (:data:`tsdash.sources.scope.INPUT_CASE_COLUMNS`: priority, the assignee, the team), those
    the report needs (:meth:`tsdash.metrics.registry.TableDef.case_inputs_for`); the others are
    not read (the team not derived) and the dataset holds nulls in them and, without priority,
    in ``due_at`` (and names them in ``Dataset.unread``, which the table then checks). None
    reads them all.

    ``quality`` without the case's dimensions (``case_dims=False``: no queue, priority, case type
    or channel to filter or group by) reads no case rows, only the cases table's columns (still
    checked against the contract): its numbers come from the reviews and the agents alone. The
    reviews are then not checked against the cases (a warning this command does not print;
    ``tsdash validate`` and the Data page check every table).

    ``backlog-now``, ``workload`` and ``open-age`` without a queue, priority, case type or
    channel filter (``case_filters=False``) read the cases open at as-of (now, when ``f`` has
    none): created before it and not resolved before it (the scope's bounds only narrow the
    read; the engine selects the open cases as always)."""
    import dataclasses

    from tsdash.metrics.history import history_scope
    from tsdash.sources.scope import INPUT_CASE_COLUMNS, UNREADABLE_CASE_COLUMNS

    keep = set(UNREADABLE_CASE_COLUMNS if case_columns is None else case_columns)
    keep |= set(INPUT_CASE_COLUMNS if inputs is None else inputs)
    unread = tuple(c for c in (*UNREADABLE_CASE_COLUMNS, *INPUT_CASE_COLUMNS) if c not in keep)
    scope = dataclasses.replace(history_scope(f), unread=unread)
    if metric in NO_CASE_ROWS and not case_dims:
        scope = dataclasses.replace(scope, no_case_rows=True)
    if metric in OPEN_CASES_ONLY and not case_filters:
        from tsdash.sources.scope import Scope

        at = (f.as_of or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        # resolved at or after `at` (or never), created before `at` + 1 day: a later as-of of
        # the engine (now, a moment after this) still finds every case open at it
        scope = Scope(since=at, until=at + dt.timedelta(days=1), unread=unread)
    return scope, TABLES_READ.get(metric)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``tsdash metrics`` arguments to ``parser``."""
    names = ", ".join(TABLES)
    parser.add_argument("metric", metavar="METRIC", help=f"one of: {names}")
    parser.add_argument("--source", default=None, help="data source (default: the configured one)")
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="last day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--tz", default=None, help="display time zone (default: the configured one)")
    parser.add_argument(
        "--as-of",
        dest="as_of",
        metavar="ISO",
        help="evaluate as of this instant (ISO 8601; without offset: in --tz). Default: now",
    )
    parser.add_argument(
        "--by", default=None, metavar="KEYS", help="grouping keys, comma-separated, e.g. queue,week"
    )
    for opt, (_field, what) in _DIM_OPTIONS.items():
        parser.add_argument(
            f"--{opt.replace('_', '-')}",
            dest=opt,
            action="append",
            default=[],
            metavar="VALUE",
            help=f"keep only this {what} (repeatable)",
        )
    parser.add_argument("--format", default="csv", metavar="FORMAT", help="csv (default), json or table")


def _err(stream: TextIO, message: str) -> None:
    print(f"tsdash metrics: {message}", file=stream)


def _date(value: str | None, opt: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{opt} {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-02") from None


def _as_of(value: str | None, tz: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            f"--as-of {value!r} is not an ISO time; use e.g. 2026-03-05T12:00 or 2026-03-05T12:00+00:00"
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo(tz))
    return t


def _tz(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz {value!r} is not a known time zone; use an IANA name such as Europe/Berlin"
        ) from None
    return value


def _by(value: str | None, metric: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    keys = tuple(k.strip() for k in value.split(",") if k.strip())
    allowed = TABLES[metric].allowed_by
    for k in keys:
        if k not in allowed:
            raise UsageError(f"--by: {metric} cannot be grouped by {k!r}; use any of: {', '.join(allowed)}")
    return keys


def _known(ds: Dataset, opt: str) -> set[str]:
    if opt == "agent":
        return set(ds.agents["agent_id"].drop_nulls().to_list())
    if opt == "team":
        return set(ds.agents["team"].drop_nulls().to_list())
    col = {"queue": "queue", "priority": "priority", "case_type": "case_type", "channel": "channel"}[opt]
    known = set(ds.cases[col].drop_nulls().unique().to_list())
    if opt == "priority":
        known |= ds.sla.known_priorities()
    return known


def _check_dims(
    ds: Dataset, args: argparse.Namespace, since: dt.datetime | None = None
) -> dict[str, tuple[str, ...]]:
    """The dimension options, each value known to the data (``since``: the data read starts
    then, so a queue whose cases are all older is not in it)."""
    out: dict[str, tuple[str, ...]] = {}
    for opt, (field, what) in _DIM_OPTIONS.items():
        values = tuple(v.strip() for v in (getattr(args, opt, None) or []))
        if not values:
            continue
        known = _known(ds, opt)
        for v in values:
            if v not in known:
                shown = sorted(known)
                hint = ", ".join(shown[:12]) + (", ..." if len(shown) > 12 else "")
                where = (
                    f" in the cases read (open or resolved since {since.date()})"
                    if since is not None and opt not in ("agent", "team")
                    else ""
                )
                raise UsageError(f"unknown {what} {v!r}{where}; known: {hint or '(none in the data)'}")
        out[field] = values
    return out


def _write(df: pl.DataFrame, fmt: str, out: TextIO) -> None:
    if fmt == "csv":
        out.write(df.write_csv())
    elif fmt == "json":
        rows: list[dict[str, Any]] = df.with_columns(
            pl.col(c).cast(pl.String) for c, t in df.schema.items() if t == pl.Date
        ).to_dicts()
        out.write(json.dumps(rows, ensure_ascii=False) + "\n")
    else:
        with pl.Config(
            tbl_rows=-1,
            tbl_cols=-1,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
            tbl_width_chars=10_000,
            fmt_str_lengths=200,
            float_precision=None,
        ):
            out.write(f"{df}\n")


def run(
    args: argparse.Namespace,
    ds_loader: Callable[[str | None, str], Dataset],
    settings: Any | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    pushdown: bool = False,
) -> int:
    """Run ``tsdash metrics`` for parsed ``args``. ``ds_loader(source, tz)`` returns the dataset
    (with ``pushdown``: ``ds_loader(source, tz, scope, tables)``, see :func:`load_plan`);
    ``settings`` (a :class:`tsdash.config.Settings`) gives the default time zone and the QA pass
    mark and is loaded from the configuration when omitted."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        metric = args.metric
        if metric not in TABLES:
            raise UsageError(f"unknown metric {metric!r}; choose one of: {', '.join(TABLES)}")
        td = TABLES[metric]
        fmt = (args.format or "csv").lower()
        if fmt not in FORMATS:
            raise UsageError(f"--format {args.format!r} is not supported; use csv, json or table")
        if settings is None:
            from tsdash.config import ConfigError, load_settings

            try:
                settings = load_settings()
            except ConfigError as exc:
                raise UsageError(str(exc)) from None
        tz = _tz(args.tz or settings.display_tz)
        start, end = _date(args.date_from, "--from"), _date(args.date_to, "--to")
        as_of = _as_of(args.as_of, tz)
        by = _by(args.by, metric)
        if td.windowed and (start is None or end is None):
            raise UsageError(f"{metric} needs a window: --from DATE --to DATE (YYYY-MM-DD)")
        if start is not None and end is not None and start > end:
            raise UsageError(f"--from {start} is after --to {end}")
        if start is None or end is None:  # a snapshot: the window is irrelevant
            day = (as_of or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(tz)).date()
            start = start or end or day
            end = end or start
            if end < start:
                start, end = end, start
    except UsageError as exc:
        _err(err, str(exc))
        return 2

    try:
        if pushdown:
            case_dims = any(getattr(args, o, None) for o in _CASE_DIM_OPTIONS) or any(
                k in _CASE_DIM_OPTIONS for k in (by or ())
            )
            case_filters = any(getattr(args, o, None) for o in _CASE_DIM_OPTIONS)
            used = {o for o in _CASE_DIM_OPTIONS if getattr(args, o, None)} | set(by or td.default_by)
            asked = Filter(
                start,
                end,
                tz=tz,
                as_of=as_of,
                **{field: tuple(getattr(args, opt, None) or ()) for opt, (field, _) in _DIM_OPTIONS.items()},
            )
            scope, tables = load_plan(
                metric,
                Filter(start, end, tz=tz, as_of=as_of),
                case_dims=case_dims,
                case_filters=case_filters,
                case_columns=used,
                inputs=td.case_inputs_for(by, asked),
            )
            ds = ds_loader(args.source, tz, scope, tables)
        else:
            ds = ds_loader(args.source, tz)
    except SystemExit:
        raise
    except Exception as exc:  # the loader's message names the source and the fix
        _err(err, f"cannot load the data: {exc}")
        return 1

    try:
        dims = _check_dims(ds, args, scope.since if pushdown and scope is not None else None)
        f = Filter(start, end, tz=tz, as_of=as_of, **dims)
        pass_mark = float(getattr(settings, "qa_pass_mark", 80.0))
        df = td.compute(ds, f, by, pass_mark=pass_mark)
    except (UsageError, MetricError) as exc:
        _err(err, str(exc))
        return 2
    _write(df, fmt, out)
    return 0
