"""Validation with quarantine: raw source tables in, a clean :class:`~tsdash.dataset.Dataset`
and a :class:`~tsdash.dataset.ValidationReport` out.

Three outcomes (docs/DATA_CONTRACT.md):

* **fatal** — the data cannot be used: a missing required table or column, an unreadable or
  empty file, a column in which no value can be read as its type. The message names the
  file/table, the column, the first offending row and value, and the fix.
* **quarantine** — one row is excluded from every metric, counted and listed (table, row
  number, id, rule): a null required value, an unreadable value, a repeated id (the first
  occurrence is kept), a timestamp before ``created_at``, a negative handle time, a QA score
  outside 0-100, a shift that ends before it starts.
* **warning** — kept: an id the other table does not know, an unknown priority.

Row numbers are 1-based data rows in source order (for CSV files the message adds the line
number, which counts the header).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from tsdash.config import SLAConfig, SourceConfig
from tsdash.dataset import Dataset, Issue, ValidationReport, normalize
from tsdash.schema import CONTRACT, REQUIRED_TABLES, TABLE_NAMES, Column
from tsdash.sources.read import RawTable

ROW = "__tsdash_row"
MAX_LISTED = 1000  # per (table, rule); counts stay exact

RULE_TEXT = {
    "missing_table": "required table missing",
    "unreadable_file": "file or table cannot be read",
    "empty_table": "required table has no rows (usable, but empty)",
    "escalation_resolved_before_escalated": "escalation_resolved_at before escalated_at",
    "missing_column": "required column missing",
    "unreadable_column": "no value in the column can be read as its type",
    "null_required": "required value is empty",
    "unreadable_value": "value cannot be read as the column's type",
    "duplicate_id": "repeated id (first occurrence kept)",
    "resolved_before_created": "resolved_at before created_at",
    "first_response_before_created": "first_response_at before created_at",
    "escalated_before_created": "escalated_at before created_at",
    "negative_handle_time": "negative handle_seconds",
    "score_out_of_range": "score outside 0-100",
    "shift_end_before_start": "shift end before start",
    "unknown_agent": "agent id not in agents",
    "unknown_case": "case id not in cases",
    "unknown_review": "review id not in qa_reviews",
    "unknown_priority": "priority without an SLA target (default target used)",
}

_KIND_WORD = {
    "datetime": "a timestamp",
    "date": "a date",
    "float": "a number",
    "int": "a whole number",
    "bool": "true/false",
    "str": "text",
}

_TRUE = ("true", "t", "yes", "y", "1", "1.0")
_FALSE = ("false", "f", "no", "n", "0", "0.0")


@dataclass
class _Ctx:
    raw: RawTable
    cfg: SourceConfig
    report: ValidationReport

    def where(self, row: int | None = None) -> str:
        if row is None:
            return self.raw.origin
        if self.raw.first_row_line != 1:
            return f"{self.raw.origin}, row {row} (line {row + self.raw.first_row_line - 1})"
        return f"{self.raw.origin}, row {row}"

    def fatal(self, rule: str, message: str, column: str | None = None, row: int | None = None, value=None):
        self.report.issues.append(
            Issue(
                self.raw.name,
                rule,
                "fatal",
                message,
                column,
                row,
                None,
                None if value is None else str(value),
            )
        )


# ------------------------------------------------------------------ parsing


# The first naive format of the fallback chain below; tsdash's SQLite writer writes this
# (sources/write.py SQLITE_TS_FORMAT), so text timestamps are parsed with it first (see _typed).
NAIVE_TS_FORMAT = "%Y-%m-%d %H:%M:%S%.f"
# The same format with a fixed six-digit fraction, which is exactly what the writer writes (and
# SQLAlchemy's SQLite DATETIME). Polars parses a fixed-width format ~6x faster than one with the
# variable ``%.f`` (1M values: 38 vs 236 ms). A value it reads gets the instant NAIVE_TS_FORMAT
# gives it (tested on random text); a value it cannot read (no fraction, fewer or more digits)
# is read with NAIVE_TS_FORMAT, as before (see _typed).
FIXED_TS_FORMAT = "%Y-%m-%d %H:%M:%S.%6f"


def _naive_to_utc(e: pl.Expr, cfg: SourceConfig) -> pl.Expr:
    return e.dt.replace_time_zone(
        cfg.timezone, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")


def _timestamp_expr(col: str, cfg: SourceConfig) -> pl.Expr:
    t = pl.col(col).str.strip_chars().str.replace("T", " ", literal=True).str.replace(r"[Zz]$", "+00:00")

    def naive_to_utc(e: pl.Expr) -> pl.Expr:
        return _naive_to_utc(e, cfg)

    if cfg.timestamp_format:
        fmt = cfg.timestamp_format
        if "%z" in fmt or "%:z" in fmt:
            return (
                pl.col(col)
                .str.strip_chars()
                .str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
            )
        return naive_to_utc(pl.col(col).str.strip_chars().str.to_datetime(fmt, strict=False, time_unit="us"))
    aware = t.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%z", strict=False, time_unit="us", time_zone="UTC")
    naive = pl.coalesce(
        t.str.to_datetime(NAIVE_TS_FORMAT, strict=False, time_unit="us"),
        t.str.to_datetime("%Y-%m-%d %H:%M", strict=False, time_unit="us"),
        t.str.to_datetime("%Y-%m-%d", strict=False, time_unit="us"),
    )
    return pl.coalesce(aware, naive_to_utc(naive))


def _parse_expr(column: Column, dtype: pl.DataType, cfg: SourceConfig) -> pl.Expr:
    """An expression turning the source column into the canonical dtype; unreadable -> null."""
    name, kind = column.name, column.kind
    c = pl.col(name)
    if dtype == pl.String:
        if kind == "str":
            return c
        if kind == "datetime":
            return _timestamp_expr(name, cfg)
        if kind == "date":
            fmt = cfg.timestamp_format.split(" ")[0] if cfg.timestamp_format else None
            if fmt:
                return c.str.strip_chars().str.to_date(fmt, strict=False)
            return pl.coalesce(
                c.str.strip_chars().str.to_date("%Y-%m-%d", strict=False),
                _timestamp_expr(name, cfg).dt.date(),
            )
        if kind in ("float", "int"):
            num = c.str.strip_chars().cast(pl.Float64, strict=False)
            if kind == "int":
                return pl.when(num == num.round(0)).then(num).otherwise(None).cast(pl.Int64, strict=False)
            return num
        if kind == "bool":
            low = c.str.strip_chars().str.to_lowercase()
            return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False).otherwise(None)
    if kind == "str":
        return c.cast(pl.String)
    if kind == "datetime":
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                return (
                    c.cast(pl.Datetime("us"))
                    .dt.replace_time_zone(cfg.timezone, ambiguous="earliest", non_existent="null")
                    .dt.convert_time_zone("UTC")
                )
            return c.dt.convert_time_zone("UTC").cast(pl.Datetime("us", "UTC"))
        if dtype == pl.Date:
            return c.cast(pl.Datetime("us")).dt.replace_time_zone(cfg.timezone).dt.convert_time_zone("UTC")
        return pl.lit(None, dtype=pl.Datetime("us", "UTC"))  # numbers etc.: not a timestamp
    if kind == "date":
        if isinstance(dtype, pl.Datetime):
            return c.dt.date()
        if dtype == pl.Date:
            return c
        return pl.lit(None, dtype=pl.Date)
    if kind in ("float", "int"):
        if dtype.is_numeric() or dtype == pl.Boolean:
            return c.cast(column.dtype, strict=False)
        return pl.lit(None, dtype=column.dtype)
    if kind == "bool":
        if dtype == pl.Boolean:
            return c
        if dtype.is_numeric():
            return c != 0
        return pl.lit(None, dtype=pl.Boolean)
    return c.cast(column.dtype, strict=False)


def _fix_hint(column: Column, sample: str, raw: RawTable) -> str:
    if column.kind in ("datetime", "date"):
        return (
            f"write timestamps as ISO 8601 (2026-01-31 14:05:00, optionally with +00:00), or set "
            f'[source] timestamp_format (e.g. "%d/%m/%Y %H:%M") in tsdash.toml so {sample!r} can be read'
        )
    if column.kind in ("float", "int"):
        return "write plain numbers (e.g. 312.5) without units or thousands separators, or list placeholders like 'n/a' in [source] null_values"
    if column.kind == "bool":
        return "write true/false (or 1/0, yes/no)"
    return "check the column's contents"


# ------------------------------------------------------------------ one table


def _prepare(ctx: _Ctx) -> pl.DataFrame | None:
    raw, cfg = ctx.raw, ctx.cfg
    spec = CONTRACT[raw.name]
    if raw.frame is None:
        ctx.fatal(
            "unreadable_file",
            f"{raw.origin} {raw.error}. Fix: export it again as UTF-8 CSV (comma-separated, header row) or Parquet.",
        )
        return None
    df = raw.frame
    # column mapping: [columns.<table>] contract = "source name"
    mapping = cfg.columns.get(raw.name, {})
    renames = {}
    for contract_col, source_col in mapping.items():
        if contract_col not in spec.names or contract_col in raw.unread:  # left out on purpose
            continue
        if source_col in df.columns:
            renames[source_col] = contract_col
        else:
            ctx.fatal(
                "missing_column",
                f"{raw.origin}: column {source_col!r}, mapped to {contract_col!r} by [columns.{raw.name}] in "
                f"tsdash.toml, is not in the file. Columns found: {', '.join(df.columns[:20])}. "
                "Fix: correct the mapping to one of the columns found.",
                column=contract_col,
            )
            return None
    if renames:
        clash = [c for c in renames.values() if c in df.columns and c not in renames]
        df = df.drop(clash).rename(renames)
    if df.width == 0 or (df.height == 0 and df.width <= 1 and not set(spec.required) <= set(df.columns)):
        if raw.name in REQUIRED_TABLES or df.width == 0:
            ctx.fatal(
                "unreadable_file",
                f"{raw.origin} is empty (no header, no rows). Fix: export the {raw.name} table again with a header row.",
            )
            return None
    missing = [c for c in spec.required if c not in df.columns]
    if missing:
        one = df.columns[0] if df.width == 1 else ""
        hint = ""
        if ";" in one or "\t" in one:
            hint = " The header looks semicolon- or tab-delimited: save the file comma-separated."
        for col in missing:
            ctx.fatal(
                "missing_column",
                f"{raw.origin}: required column {col!r} is missing. Columns found: "
                f"{', '.join(df.columns[:20])}.{hint} Fix: add the column, or map your column to it in "
                f'tsdash.toml: [columns.{raw.name}] {col} = "<your column>".',
                column=col,
            )
        return None
    if df.height == 0 and raw.name in REQUIRED_TABLES and raw.rows_read:
        # a new deployment may have no cases yet: usable, every page shows its empty state
        ctx.report.issues.append(
            Issue(
                raw.name,
                "empty_table",
                "warning",
                f"{raw.origin} has a header but no rows: the dashboard will be empty. If that is unexpected, "
                f"export the {raw.name} table again with its data.",
            )
        )
    df = df.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    # null placeholders in text (SQLite text, Parquet strings): strip, empty -> null
    text_cols = [c.name for c in spec.columns if c.name in df.columns and df.schema[c.name] == pl.String]
    nulls = list(cfg.null_values)
    text_cols = _may_hold_blanks(df, text_cols, nulls)
    if text_cols:
        df = df.with_columns(
            pl.when(pl.col(c).str.strip_chars().is_in(["", *nulls])).then(None).otherwise(pl.col(c)).alias(c)
            for c in text_cols
        )
    return df


def _may_hold_blanks(df: pl.DataFrame, cols: list[str], nulls: list[str]) -> list[str]:
    """The text columns in which some value, stripped of white space, may be empty or one of
    ``nulls``; the others cannot change in the text-null pass, which is skipped for them.

    Such a value is empty, starts with white space or contains a placeholder. Every white-space
    character is <= U+0020 or >= U+0085 (Unicode White_Space, what ``strip_chars`` removes), and
    strings compare by code point, so a column with no value < "!" and none >= U+0085 holds no
    empty value and none that starts with white space. Comparing with a constant reads only the
    start of each value: ~5 ms per million values against ~17 ms for stripping them (and no
    column is rewritten)."""
    if not cols:
        return cols
    marks = [n for n in nulls if n.strip()]
    exprs = []
    for c in cols:
        e = (pl.col(c) < "!") | (pl.col(c) >= "\u0085")
        for n in marks:
            e = e | pl.col(c).str.contains(n, literal=True)
        exprs.append(e.any().alias(c))
    found = df.select(exprs).row(0)
    return [c for c, hit in zip(cols, found, strict=True) if hit]


def _typed(ctx: _Ctx, df: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[str, pl.DataFrame]]] | None:
    """Parse contract columns; returns typed frame and per-column unreadable rows."""
    spec = CONTRACT[ctx.raw.name]
    present = [c for c in spec.columns if c.name in df.columns]
    # Text timestamps without a configured format: the writer's naive format first, the
    # fallback chain of _timestamp_expr only on the values it could not read. A value that
    # parses with NAIVE_TS_FORMAT as it is gets the same instant from the chain (which strips,
    # tries an offset -- there is none -- and then this format first); tested on random text.
    quick = {
        c.name
        for c in present
        if c.kind == "datetime" and df.schema[c.name] == pl.String and not ctx.cfg.timestamp_format
    }
    parsed = df.select(
        pl.col(ROW),
        *[
            pl.col(c.name).str.to_datetime(FIXED_TS_FORMAT, strict=False, time_unit="us", cache=False)
            if c.name in quick
            else _parse_expr(c, df.schema[c.name], ctx.cfg).alias(c.name)
            for c in present
        ],
    )
    if quick:
        # what the fixed format could not read: the naive format (the whole column again when
        # more than a quarter missed), then, after the zone, the fallback chain
        for c in sorted(quick):
            parsed = _read_unread(parsed, df, c, _naive_text, whole_above=df.height // 4)
        parsed = parsed.with_columns(_naive_to_utc(pl.col(c), ctx.cfg) for c in quick)
        for c in sorted(quick):
            parsed = _read_unread(
                parsed, df, c, lambda s: s.to_frame().select(_timestamp_expr(s.name, ctx.cfg)).to_series()
            )
    bad: list[tuple[str, pl.DataFrame]] = []
    for c in present:
        mask = df[c.name].is_not_null() & parsed[c.name].is_null()
        if not mask.any():
            continue
        nonnull = int(df[c.name].is_not_null().sum())
        rows = df.filter(mask).select(ROW, pl.col(c.name).cast(pl.String).alias("value"))
        if int(mask.sum()) == nonnull:
            first = rows.row(0)
            ctx.fatal(
                "unreadable_column",
                f"{ctx.where(first[0])}: column {c.name!r}: no value can be read as {_KIND_WORD[c.kind]} "
                f"(first: {first[1]!r}). Fix: {_fix_hint(c, first[1], ctx.raw)}.",
                column=c.name,
                row=first[0],
                value=first[1],
            )
            return None
        bad.append((c.name, rows))
    extras = [c for c in df.columns if c not in spec.names and c != ROW]
    typed = parsed.hstack(df.select(extras)) if extras else parsed
    return typed, bad


def _naive_text(values: pl.Series) -> pl.Series:
    return values.str.to_datetime(NAIVE_TS_FORMAT, strict=False, time_unit="us")


def _read_unread(
    parsed: pl.DataFrame, df: pl.DataFrame, c: str, read, *, whole_above: int | None = None
) -> pl.DataFrame:
    """``parsed`` with the values of column ``c`` it holds no value for (the text ``df[c]`` is not
    empty) read by ``read`` (text Series -> timestamps) and put in place; with more than
    ``whole_above`` of them, ``read`` reads the whole column instead (a value read before gets
    the same instant from ``read``: see FIXED_TS_FORMAT)."""
    idx = (parsed[c].is_null() & df[c].is_not_null()).arg_true()
    if not idx.len():
        return parsed
    if whole_above is not None and idx.len() > whole_above:
        again = read(df[c])
    else:
        again = parsed[c].scatter(idx, read(df[c].gather(idx)))
    return parsed.with_columns(again.alias(c))


def _rules(table: str, df: pl.DataFrame) -> list[tuple[str, str | None, pl.Expr]]:
    """(rule, column, mask) for the row rules of a table; mask True = row breaks the rule."""
    spec = CONTRACT[table]
    rules: list[tuple[str, str | None, pl.Expr]] = [
        ("null_required", c, pl.col(c).is_null()) for c in spec.required if c in df.columns
    ]
    if spec.key:
        rules.append(("duplicate_id", spec.key, _repeat_mask(df[spec.key])))
    if table == "cases":
        for rule, col in (
            ("resolved_before_created", "resolved_at"),
            ("first_response_before_created", "first_response_at"),
            ("escalated_before_created", "escalated_at"),
        ):
            if col in df.columns:
                rules.append((rule, col, (pl.col(col) < pl.col("created_at")).fill_null(False)))
        if "escalation_resolved_at" in df.columns:
            base = pl.col("escalated_at") if "escalated_at" in df.columns else pl.col("created_at")
            rules.append(
                (
                    "escalation_resolved_before_escalated",
                    "escalation_resolved_at",
                    (pl.col("escalation_resolved_at") < base).fill_null(False),
                )
            )
        if "handle_seconds" in df.columns:
            rules.append(
                ("negative_handle_time", "handle_seconds", (pl.col("handle_seconds") < 0).fill_null(False))
            )
    if table in ("qa_reviews", "qa_criteria"):
        rules.append(("score_out_of_range", "score", (~pl.col("score").is_between(0, 100)).fill_null(False)))
    if table == "shifts":
        rules.append(("shift_end_before_start", "end", (pl.col("end") < pl.col("start")).fill_null(False)))
    return rules


def _repeat_mask(ids: pl.Series) -> pl.Expr:
    """True for every occurrence of an id after its first (a non-first occurrence is a repeat by
    definition). Ids in order (exports and the demo usually are; checking costs ~5 ms per
    million) hold equal ids next to each other, so a repeat is an id equal to the one before: no
    hash of every id (1M case ids: ~10 ms instead of ~280 ms)."""
    k = pl.col(ids.name)
    if ids.len() and ids.null_count() == 0 and (ids.is_sorted() or ids.is_sorted(descending=True)):
        return (k == k.shift(1)).fill_null(False)
    return k.is_not_null() & ~k.is_first_distinct()


def _add_listed(
    report: ValidationReport, table: str, rule: str, severity: str, rows: pl.DataFrame, message_of
) -> None:
    """Append issues for ``rows`` (columns: row, id, column, value), at most MAX_LISTED."""
    n = rows.height
    for r in rows.head(MAX_LISTED).iter_rows(named=True):
        report.issues.append(
            Issue(
                table, rule, severity, message_of(r), r.get("column"), r["row"], r.get("id"), r.get("value")
            )
        )
    if n > MAX_LISTED:
        report.unlisted[(severity, table, rule)] = (
            report.unlisted.get((severity, table, rule), 0) + n - MAX_LISTED
        )


def _rule_message(where: str, rule: str, col: str | None, r: dict) -> str:
    ident = f" (id {r['id']})" if r.get("id") else ""
    if rule == "null_required":
        return f"{where}{ident}: required column {col!r} is empty; row excluded. Fix: fill in {col}."
    value = f" ({col} = {r['value']!r})" if r.get("value") is not None else ""
    fix = {
        "duplicate_id": "give every row its own id, or remove the repeated row",
        "score_out_of_range": "scores must be between 0 and 100",
        "negative_handle_time": "handle_seconds must be 0 or more",
    }.get(rule, "check the timestamps of this row (time zone or swapped columns?)")
    return f"{where}{ident}: {RULE_TEXT[rule]}{value}; row excluded. Fix: {fix}."


def _quarantine(ctx: _Ctx, typed: pl.DataFrame, bad: list[tuple[str, pl.DataFrame]], raw_df: pl.DataFrame):
    table = ctx.raw.name
    spec = CONTRACT[table]
    key = spec.key
    ids = typed.select(ROW, (pl.col(key) if key else pl.lit(None, dtype=pl.String)).alias("id"))
    out_rows: set[int] = set()

    def where(r):
        return ctx.where(r["row"])

    for col, rows in bad:
        rows = (
            rows.join(ids, on=ROW, how="left").rename({ROW: "row"}).with_columns(pl.lit(col).alias("column"))
        )
        kind = _KIND_WORD[spec.column(col).kind]
        _add_listed(
            ctx.report,
            table,
            "unreadable_value",
            "quarantine",
            rows,
            lambda r, kind=kind, col=col: (
                f"{where(r)}: {col} {r['value']!r} cannot be read as {kind}; row excluded. "
                f"Fix the value, or leave it empty if unknown."
            ),
        )
        out_rows.update(rows["row"].to_list())
    # rule checks on rows whose values were readable for the checked column; every rule's count
    # in one pass first (the rules run in parallel), then the rows of a rule that some row breaks
    # (10M cases, no row breaking a rule: 0.23 -> 0.20 s for the cases, one profile each)
    rules = _rules(table, typed)
    counts = (
        typed.select(mask.sum().alias(f"r{i}") for i, (_, _, mask) in enumerate(rules)).row(0)
        if rules
        else ()
    )
    for (rule, col, mask), broken in zip(rules, counts, strict=True):
        if not broken:
            continue
        hit = typed.filter(mask)
        if col is not None and rule == "null_required":
            unread = {r for c, rows in bad if c == col for r in rows[ROW].to_list()}
            if unread:
                hit = hit.filter(~pl.col(ROW).is_in(list(unread)))
        if hit.height == 0:
            continue
        val = (
            raw_df.select(ROW, pl.col(col).cast(pl.String).alias("value")) if col in raw_df.columns else None
        )
        rows = hit.select(
            pl.col(ROW).alias("row"), (pl.col(key) if key else pl.lit(None, pl.String)).alias("id")
        )
        if val is not None:
            rows = rows.join(val.rename({ROW: "row"}), on="row", how="left")
        rows = rows.with_columns(pl.lit(col).alias("column"))
        _add_listed(
            ctx.report,
            table,
            rule,
            "quarantine",
            rows,
            lambda r, rule=rule, col=col: _rule_message(where(r), rule, col, r),
        )
        out_rows.update(rows["row"].to_list())
    ctx.report.quarantined_rows[table] = len(out_rows)
    if out_rows:
        typed = typed.filter(~pl.col(ROW).is_in(sorted(out_rows)))
    return typed


# ------------------------------------------------------------------ cross-table warnings


def _warn_unknown(
    report: ValidationReport,
    table: str,
    raw: RawTable,
    df: pl.DataFrame,
    col: str,
    known: pl.Series,
    rule: str,
    other: str,
) -> None:
    if col not in df.columns:
        return
    # an anti-join (the engine hashes the smaller side) instead of ``is_in(known.implode())``,
    # which built a set of every known id for each table: 0.30 -> 0.04 s for 82k QA reviews and
    # 0.30 -> 0.20 s for 4.2M events against 1M case ids
    known_frame = known.drop_nulls().to_frame(col).lazy()
    if known_frame.collect_schema()[col] != df.schema[col]:
        known_frame = known_frame.cast({col: df.schema[col]})
    unknown = (
        df.lazy()
        .select(col, ROW)
        .filter(pl.col(col).is_not_null())
        .join(known_frame, on=col, how="anti")
        .group_by(col)
        .agg(pl.col(ROW).min().alias("row"), pl.len().alias("n"))
        .sort("row")
        .collect()
    )
    rows = unknown.select(
        "row", pl.col(col).alias("value"), pl.col(col).alias("id"), pl.lit(col).alias("column"), "n"
    )
    _add_listed(
        report,
        table,
        rule,
        "warning",
        rows,
        lambda r: (
            f"{_Ctx(raw, None, report).where(r['row'])}: {col} {r['value']!r} is not in {other} "
            f"({r['n']} row{'s' if r['n'] != 1 else ''}); kept."
        ),
    )


# ------------------------------------------------------------------ entry point


def _align_chunks(raw: RawTable) -> None:
    """Give every column of ``raw.frame`` the same memory chunks, in place.

    A Parquet scan with a predicate (the scope's window) returns the predicate's columns in
    other chunks than the rest (10M cases: ``created_at`` in 162, the others in 81, one per row
    group). On such a frame every eager Polars operation first copies the whole frame into
    aligned chunks, and throws the copy away: selecting one column took 0.2-0.7 s, conforming
    the cases 2.7 s against 1 ms, and normalising held copies of the table (docs/PERFORMANCE.md,
    fix K). Here the odd columns are cut along the chunks most columns share (a copy of those
    columns only: 10M cases, 47 ms and 75 MB); if that does not give one layout, the whole
    frame is made one chunk per column. Rows, order and values are unchanged.
    """
    frame = raw.frame
    if frame is None or frame.width < 2:
        return
    layouts = {c: tuple(len(x) for x in frame.get_column(c).get_chunks()) for c in frame.columns}
    if len(set(layouts.values())) == 1:
        return
    target = Counter(layouts.values()).most_common(1)[0][0]
    starts = [0]
    for n in target[:-1]:
        starts.append(starts[-1] + n)
    columns = []
    for name in frame.columns:
        col = frame.get_column(name)
        if layouts[name] != target:
            col = pl.concat(
                [col.slice(o, n).rechunk() for o, n in zip(starts, target, strict=True)], rechunk=False
            )
        columns.append(col)
    aligned = pl.DataFrame(columns)
    if len({tuple(len(x) for x in c.get_chunks()) for c in aligned.get_columns()}) != 1:
        aligned = frame.rechunk()
    raw.frame = aligned


def validate_tables(
    raw_tables: dict[str, RawTable],
    cfg: SourceConfig,
    sla: SLAConfig,
    source_label: str = "",
    tables: Iterable[str] | None = None,
) -> Dataset:
    """Validate raw tables into a Dataset. Fatal problems are in ``ds.report.fatal``; when there
    are any, the returned dataset holds empty frames for the affected tables.

    ``tables``: the tables that were asked for (None: all); the others are not validated and
    not reported missing (a required table is always asked for)."""
    report = ValidationReport(source_label or cfg.location)
    frames: dict[str, pl.DataFrame] = {}
    origins: dict[str, str] = {}
    wanted = TABLE_NAMES if tables is None else tuple(t for t in TABLE_NAMES if t in set(tables))
    for table in wanted:
        raw = raw_tables.get(table)
        if raw is None:
            if table in REQUIRED_TABLES:
                name = cfg.table_name(table)
                report.issues.append(
                    Issue(
                        table,
                        "missing_table",
                        "fatal",
                        f"{source_label or cfg.location}: required table {name!r} is missing. Fix: provide "
                        f"{name}.csv or {name}.parquet (or a table named {name!r}), or map yours in "
                        f'tsdash.toml: [tables] {table} = "<your table>".',
                    )
                )
            continue
        _align_chunks(raw)
        ctx = _Ctx(raw, cfg, report)
        origins[table] = raw
        df = _prepare(ctx)
        if df is None:
            continue
        res = _typed(ctx, df)
        if res is None:
            continue
        typed, bad = res
        frames[table] = _quarantine(ctx, typed, bad, df)

    # cross-table warnings (kept rows)
    if "agents" in frames:
        known_agents = frames["agents"]["agent_id"]
        if "cases" in frames:
            _warn_unknown(
                report,
                "cases",
                origins["cases"],
                frames["cases"],
                "assigned_agent_id",
                known_agents,
                "unknown_agent",
                "agents",
            )
        for t in ("qa_reviews", "shifts", "events"):
            if t in frames:
                _warn_unknown(
                    report, t, origins[t], frames[t], "agent_id", known_agents, "unknown_agent", "agents"
                )
    if "cases" in frames and origins["cases"].rows_read:  # no case rows asked for: no check
        known_cases = frames["cases"]["case_id"]
        for t in ("qa_reviews", "events"):
            if t in frames:
                _warn_unknown(
                    report, t, origins[t], frames[t], "case_id", known_cases, "unknown_case", "cases"
                )
        if "priority" in frames["cases"].columns:
            known_p = pl.Series(sorted(sla.known_priorities()), dtype=pl.String)
            _warn_unknown(
                report,
                "cases",
                origins["cases"],
                frames["cases"],
                "priority",
                known_p,
                "unknown_priority",
                "the SLA targets",
            )
    if "qa_criteria" in frames and "qa_reviews" in frames:
        _warn_unknown(
            report,
            "qa_criteria",
            origins["qa_criteria"],
            frames["qa_criteria"],
            "review_id",
            frames["qa_reviews"]["review_id"],
            "unknown_review",
            "qa_reviews",
        )

    if report.fatal:
        for t in REQUIRED_TABLES:
            frames.pop(t, None)
        if not all(t in frames for t in REQUIRED_TABLES):
            frames = {}
    clean = {t: f.drop(ROW) for t, f in frames.items()}
    read = frozenset(wanted)
    unread = frozenset(origins["cases"].unread) if "cases" in origins else frozenset()
    if not clean:
        return _empty(report, sla, read)
    return normalize(clean, sla=sla, report=report, read_tables=read, unread=unread)


def _empty(report: ValidationReport, sla: SLAConfig, read_tables: frozenset[str]) -> Dataset:
    ds = normalize({}, sla=sla, report=report, read_tables=read_tables)
    return ds


def format_report(report: ValidationReport) -> str:
    """The text report of ``tsdash validate``."""
    lines = [f"Validation of {report.source}"]
    for sev, title in (("fatal", "FATAL"), ("quarantine", "QUARANTINED"), ("warning", "WARNING")):
        items = [i for i in report.issues if i.severity == sev]
        for i in items:
            lines.append(f"{title}  [{i.table}/{i.rule}] {i.message}")
        for (s, t, r), n in report.unlisted.items():
            if s == sev:
                lines.append(f"{title}  [{t}/{r}] ... and {n} more not listed")
    lines.append("")
    lines.append("Summary (severity, table, rule: count)")
    counts = report.counts()
    if not counts:
        lines.append("  no problems found")
    for (sev, table, rule), n in counts.items():
        lines.append(f"  {sev:<10} {table:<12} {rule:<30} {n}")
    for table, n in sorted(report.quarantined_rows.items()):
        if n:
            lines.append(f"  rows excluded from {table}: {n}")
    lines.append("Result: " + ("usable" if report.usable else "NOT usable (fix the fatal problems above)"))
    return "\n".join(lines)
