"""The Data page (``pages/9_Data.py``): where the numbers come from. The source (password
masked), the tables with row counts, date coverage and freshness, the validation report
(problems that stop tsdash, rows set aside by rule with a CSV of them, warnings) and the data
contract.

The table builders (:func:`table_summary`, :func:`rule_counts`, :func:`issue_rows`) are pure
and unit-tested; :func:`render_data` draws the page.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from tsdash.dataset import Dataset, ValidationReport
from tsdash.schema import CONTRACT, TABLE_NAMES, contract_markdown
from tsdash.ui.components import download_csv, heading, text
from tsdash.ui.fmt import fmt_number, md_escape
from tsdash.ui.state import age_text

if TYPE_CHECKING:
    from tsdash.config import Settings
    from tsdash.ui.frame import Context

log = logging.getLogger(__name__)

# the timestamp that says when a table's rows happened (date coverage, freshness)
MAIN_TIME: dict[str, str | None] = {
    "agents": None,
    "cases": "created_at",
    "qa_reviews": "reviewed_at",
    "qa_criteria": None,
    "events": "ts",
    "shifts": "start",
}
SEVERITY_ORDER = {"fatal": 0, "quarantine": 1, "warning": 2}
SEVERITY_TEXT = {
    "fatal": "stops tsdash (fix the source)",
    "quarantine": "row set aside (left out of every number)",
    "warning": "kept, but check",
}
ISSUE_COLUMNS = ["severity", "table", "rule", "row", "id", "column", "value", "message"]


def _rule_text(rule: str) -> str:
    from tsdash.validate import RULE_TEXT

    return RULE_TEXT.get(rule, rule.replace("_", " "))


def table_summary(ds: Dataset, tz: str, now: dt.datetime) -> pl.DataFrame:
    """One row per contract table: Table, Kind (required/optional), Present, Rows (loaded),
    Set aside (quarantined rows), Time column, First, Last (``YYYY-MM-DD HH:MM`` in ``tz``),
    Latest (how long before ``now`` the last one was)."""
    rep = ds.report
    rows = []
    for name in TABLE_NAMES:
        spec = CONTRACT[name]
        frame = ds.table(name)
        col = MAIN_TIME[name]
        first = last = latest = None
        if col is not None and frame.height and col in frame.columns:
            lo, hi = frame.select(pl.col(col).min().alias("lo"), pl.col(col).max().alias("hi")).row(0)
            if lo is not None:
                first = lo.astimezone(dt.UTC)
                last = hi.astimezone(dt.UTC)
                latest = age_text((now - last).total_seconds())
        rows.append(
            {
                "Table": name,
                "Kind": "required" if spec.required_table else "optional",
                "Present": ds.has(name),
                "Rows": frame.height,
                "Set aside": int(rep.quarantined_rows.get(name, 0)),
                "Time column": col or "–",
                "First": first,
                "Last": last,
                "Latest": latest or "–",
            }
        )
    out = pl.DataFrame(
        rows,
        schema={
            "Table": pl.String,
            "Kind": pl.String,
            "Present": pl.Boolean,
            "Rows": pl.Int64,
            "Set aside": pl.Int64,
            "Time column": pl.String,
            "First": pl.Datetime("us", "UTC"),
            "Last": pl.Datetime("us", "UTC"),
            "Latest": pl.String,
        },
    )
    local = lambda c: pl.col(c).dt.convert_time_zone(tz).dt.strftime("%Y-%m-%d %H:%M").fill_null("–")  # noqa: E731
    return out.with_columns(local("First"), local("Last"))


def rule_counts(report: ValidationReport) -> pl.DataFrame:
    """Findings per (severity, table, rule), exact even when the list is capped: Severity,
    Table, Rule, What, Count, Listed (how many are listed below)."""
    listed: dict[tuple[str, str, str], int] = {}
    for i in report.issues:
        key = (i.severity, i.table, i.rule)
        listed[key] = listed.get(key, 0) + 1
    counts = report.counts()
    keys = sorted(counts, key=lambda k: (SEVERITY_ORDER.get(k[0], 9), k[1], k[2]))
    return pl.DataFrame(
        {
            "Severity": [k[0] for k in keys],
            "Table": [k[1] for k in keys],
            "Rule": [k[2] for k in keys],
            "What": [_rule_text(k[2]) for k in keys],
            "Count": [counts[k] for k in keys],
            "Listed": [listed.get(k, 0) for k in keys],
        },
        schema={
            "Severity": pl.String,
            "Table": pl.String,
            "Rule": pl.String,
            "What": pl.String,
            "Count": pl.Int64,
            "Listed": pl.Int64,
        },
    )


def issue_rows(report: ValidationReport, severity: str) -> pl.DataFrame:
    """The listed findings of one severity, by table, rule and row."""
    return report.frame().filter(pl.col("severity") == severity).sort("table", "rule", "row", nulls_last=True)


def contract_text() -> str:
    """docs/DATA_CONTRACT.md without its title when the repository has it, else the contract's
    tables generated from :mod:`tsdash.schema` (the same tables; a test keeps them equal)."""
    path = Path(__file__).resolve().parents[3] / "docs" / "DATA_CONTRACT.md"
    try:
        doc = path.read_text(encoding="utf-8")
    except OSError:
        return contract_markdown()
    lines = doc.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join(lines).strip() + "\n"


# --------------------------------------------------------------------------- rendering


@st.cache_resource(max_entries=2, show_spinner="Checking the data…", ttl=300)
def _report_for_error(key: tuple, _settings: Settings) -> tuple[ValidationReport | None, str | None]:
    """When the data could not be loaded: validate again to list every fatal problem with its
    table, column and row (the banner has the messages only)."""
    from tsdash.sources import SourceError, validate_source

    try:
        return validate_source(_settings).report, None
    except SourceError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - shown, never raised
        log.exception("validating the source failed")
        return None, f"{exc.__class__.__name__}: {exc}"


def _source(ctx: Context) -> None:
    heading("Source")
    text(ctx.source_label)
    cfg = ctx.settings.source
    facts = [f"Naive timestamps in the source are read as {cfg.timezone}."]
    if cfg.tables:
        facts.append(
            "Table names mapped: " + ", ".join(f"{k} ← {v}" for k, v in sorted(cfg.tables.items())) + "."
        )
    if cfg.columns:
        n = sum(len(v) for v in cfg.columns.values())
        facts.append(f"{n} column names mapped (tsdash.toml).")
    if ctx.settings.config_path:
        facts.append(f"Settings from {ctx.settings.config_path}.")
    for fact in facts:
        text(fact)
    if ctx.ds is not None:
        now = dt.datetime.now(dt.UTC)
        loaded = ctx.ds.loaded_at
        latest = (
            f"latest record {ctx.fmt_time(ctx.latest)} ({age_text((now - ctx.latest).total_seconds())})"
            if ctx.latest is not None
            else "no records yet"
        )
        st.caption(
            md_escape(
                f"Loaded {ctx.fmt_time(loaded)} ({age_text((now - loaded).total_seconds())}); {latest}."
            )
        )


def _tables(ctx: Context) -> None:
    ds = ctx.ds
    heading(
        "Tables",
        help="Rows: rows tsdash uses. Set aside: rows excluded by validation (listed below). First/Last: the "
        "earliest and latest value of the table's time column, in the display time zone.",
    )
    scope = ctx.scope
    if scope is not None and scope.since is not None:
        until = f" and before {ctx.fmt_time(scope.until)}" if scope.until is not None else ""
        st.caption(
            md_escape(
                f"Read for this view: the cases that were open at some time since "
                f"{ctx.fmt_time(scope.since)}{until} (every case still open, whatever its age), the QA "
                "reviews and shifts of that time, and their events; the whole agents table. Rows, "
                "set-aside rows and the validation report below cover these rows; "
                "`tsdash validate` checks the whole source."
            )
        )
    summary = table_summary(ds, ctx.filter.tz, dt.datetime.now(dt.UTC))
    st.dataframe(
        summary,
        hide_index=True,
        key="data_tables",
        column_config={
            "Rows": st.column_config.NumberColumn("Rows", format="localized"),
            "Set aside": st.column_config.NumberColumn("Set aside", format="localized"),
            "Present": st.column_config.CheckboxColumn("Present", help="The source has this table."),
        },
    )
    missing = [t for t in TABLE_NAMES if not ds.has(t)]
    if missing:
        st.caption(
            md_escape(
                "Optional tables not in the source: "
                + ", ".join(missing)
                + ". The pages that need them say so; everything else works without them."
            )
        )


def _report(ctx: Context, report: ValidationReport) -> None:
    heading("Validation report", help="Every rule is described in the data contract below.")
    counts = rule_counts(report)
    if counts.height == 0:
        st.success("Every row passed validation.", icon=":material/check_circle:")
        return
    fatal = int(counts.filter(pl.col("Severity") == "fatal")["Count"].sum())
    quarantined = sum(report.quarantined_rows.values())
    warned = int(counts.filter(pl.col("Severity") == "warning")["Count"].sum())
    c = st.columns(3)
    c[0].metric("Problems that stop tsdash", fmt_number(fatal), help=SEVERITY_TEXT["fatal"], border=True)
    c[1].metric(
        "Rows set aside",
        fmt_number(quarantined),
        help="Distinct rows excluded from every number (a row may break several rules).",
        border=True,
    )
    c[2].metric("Warnings", fmt_number(warned), help=SEVERITY_TEXT["warning"], border=True)
    left, right = st.columns([6, 1], vertical_alignment="bottom")
    with left:
        st.markdown("**Findings per rule**")
    with right:
        download_csv(
            report.frame(),
            "validation_report",
            key="data_report_csv",
            help=f"Download every listed finding ({fmt_number(len(report.issues))} rows) as CSV.",
        )
    st.dataframe(counts, hide_index=True, key="data_rules")
    if (counts["Count"] > counts["Listed"]).any():
        st.caption("Long lists are capped per rule; the counts are exact.")
    for severity, title in (
        ("fatal", "Problems that stop tsdash"),
        ("quarantine", "Rows set aside"),
        ("warning", "Warnings"),
    ):
        rows = issue_rows(report, severity)
        if rows.height == 0:
            continue
        heading(f"{title} ({fmt_number(rows.height)} listed)", help=SEVERITY_TEXT[severity])
        st.dataframe(
            rows.select("table", "row", "id", "rule", "column", "value", "message"),
            hide_index=True,
            key=f"data_issues_{severity}",
            column_config={"row": st.column_config.NumberColumn("row", format="%d", help="1-based data row")},
        )


def render_data(ctx: Context) -> None:
    """The Data page body (after :func:`tsdash.ui.frame` with ``require_data=False``)."""
    _source(ctx)
    if ctx.ds is not None:
        _tables(ctx)
        _report(ctx, ctx.ds.report)
    elif ctx.error is not None:
        from tsdash.ui.frame import source_id

        report, error = _report_for_error((source_id(ctx.settings), ctx.error), ctx.settings)
        if report is not None and report.issues:
            st.info(
                "tsdash cannot use this data until the problems marked fatal below are fixed. "
                "Each message names the table, the column, the row and the fix.",
                icon=":material/build:",
            )
            _report(ctx, report)
        else:
            st.info(
                "The source itself could not be opened, so there is no validation report. Check the location "
                "in tsdash.toml or TSDASH_SOURCE, and that the database or folder is reachable.",
                icon=":material/build:",
            )
            if error:
                text(error)
    with st.expander("Data contract: the tables and columns tsdash reads", icon=":material/description:"):
        st.markdown(contract_text())
