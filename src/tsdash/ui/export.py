"""CSV downloads that a spreadsheet opens safely. Pure (no Streamlit).

A text cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return, which
some spreadsheets skip before reading a formula) gets a leading apostrophe, so that Excel,
LibreOffice and Google Sheets show it as text instead of running it as a formula (OWASP "CSV
injection"). Numbers stay numbers: only text columns are touched.

>>> import polars as pl
>>> csv_bytes(pl.DataFrame({"reason": ["=HYPERLINK(\\"x\\")", "ok"], "n": [-1, 2]})).decode()
'reason,n\\n"\\'=HYPERLINK(""x"")",-1\\nok,2\\n'
"""

from __future__ import annotations

import polars as pl

from tsdash.ui.fmt import text_column

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str | None) -> str | None:
    """One cell: prefix an apostrophe when a spreadsheet would read it as a formula.

    >>> [neutralise(v) for v in ["=1+2", "+49 30", "-x", "@SUM(A1)", "a=b", "", None]]
    ["'=1+2", "'+49 30", "'-x", "'@SUM(A1)", 'a=b', '', None]
    """
    if value is None or value == "":
        return value
    if value.startswith(FORMULA_START) or value.lstrip(" ").startswith(FORMULA_START[:4]):
        return "'" + value
    return value


def _neutralise_expr(col: str) -> pl.Expr:
    c = pl.col(col)
    risky = c.str.replace(r"^ +", "").str.contains(r"^[=+\-@]") | c.str.contains(r"^[\t\r]")
    return pl.when(risky).then(pl.lit("'") + c).otherwise(c).alias(col)


def safe_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Text columns neutralised; nested and categorical columns turned into text first."""
    exprs = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.List | pl.Array):
            e = pl.col(name).arr.to_list() if isinstance(dtype, pl.Array) else pl.col(name)
            exprs.append(e.cast(pl.List(pl.String)).list.join("; ").alias(name))
        elif isinstance(dtype, pl.Struct):
            exprs.append(pl.col(name).struct.json_encode().alias(name))
        elif isinstance(dtype, pl.Categorical | pl.Enum):
            exprs.append(pl.col(name).cast(pl.String).alias(name))
        elif isinstance(dtype, pl.Object):
            exprs.append(text_column(df, name, str).alias(name))  # not map_elements: see text_column
        else:
            exprs.append(pl.col(name))
    out = df.select(exprs) if exprs else df
    text_cols = [n for n, t in out.schema.items() if t == pl.String]
    return out.with_columns(_neutralise_expr(c) for c in text_cols) if text_cols else out


def csv_bytes(df: pl.DataFrame) -> bytes:
    """UTF-8 CSV of ``df`` with formula cells neutralised (see module doc)."""
    return safe_frame(df).write_csv().encode("utf-8")
