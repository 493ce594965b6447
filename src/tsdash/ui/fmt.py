r"""Formatting for display: durations with sensible units, numbers, and escaping of text from
the data or the URL so that Streamlit's Markdown never interprets it. Pure (no Streamlit).

>>> fmt_duration(750)
'12.5 min'
>>> fmt_duration(11_520)
'3.2 h'
>>> print(md_escape("**Ann** [x](javascript:go)"))
\*\*Ann\*\* \[x\]\(javascript\:go\)
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterable

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0

# (divisor, short unit) from small to large; a duration is shown in the largest unit it reaches
# (hours from 2 h, days from 3 days) so that "90 min" stays in minutes.
_UNITS = ((1.0, "s"), (MINUTE, "min"), (HOUR, "h"), (DAY, "d"))
_THRESHOLDS = {"s": 0.0, "min": MINUTE, "h": 2 * HOUR, "d": 3 * DAY}


def duration_unit(seconds: float) -> tuple[float, str]:
    """The (divisor, unit) to show a duration of ``seconds`` in.

    >>> duration_unit(45), duration_unit(90 * 60), duration_unit(5 * 3600), duration_unit(4 * 86400)
    ((1.0, 's'), (60.0, 'min'), (3600.0, 'h'), (86400.0, 'd'))
    """
    a = abs(seconds)
    best = _UNITS[0]
    for div, unit in _UNITS:
        if a >= _THRESHOLDS[unit]:
            best = (div, unit)
    return best


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def fmt_duration(seconds: float | None, digits: int = 1) -> str:
    """A duration in words-sized units: '45 s', '12.5 min', '3.2 h', '4.1 d'; '–' when missing."""
    if _missing(seconds):
        return "–"
    seconds = float(seconds)  # type: ignore[arg-type]
    div, unit = duration_unit(seconds)
    if unit == "s":
        return f"{seconds:.0f} s"
    return f"{seconds / div:.{digits}f} {unit}"


def axis_unit(values: Iterable[float | None]) -> tuple[float, str]:
    """One unit for a chart axis of durations (seconds): chosen from the median of the values.

    >>> axis_unit([600, 900, 40_000])
    (60.0, 'min')
    """
    vals = sorted(abs(float(v)) for v in values if not _missing(v))
    if not vals:
        return MINUTE, "min"
    median = vals[len(vals) // 2]
    div, unit = duration_unit(median)
    return (MINUTE, "min") if unit == "s" and median >= 1 else (div, unit)


UNIT_WORDS = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days"}


def fmt_number(value: float | None, digits: int = 0) -> str:
    """Thousands separators: ``fmt_number(12345.6)`` -> '12,346'; '–' when missing."""
    if _missing(value):
        return "–"
    return f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def fmt_pct(share: float | None, digits: int = 1) -> str:
    """A share 0..1 as a percentage: ``fmt_pct(0.8734)`` -> '87.3%'; '–' when missing."""
    if _missing(share):
        return "–"
    return f"{100 * float(share):.{digits}f}%"  # type: ignore[arg-type]


_MD_SPECIAL = set(string.punctuation)


def md_escape(text: object) -> str:
    """Escape every ASCII punctuation character (CommonMark allows a backslash before any), so
    that Markdown, HTML, links, images, ``:color[...]`` directives, ``:material/...:`` icons
    and ``$math$`` in data or URL text are shown literally. Newlines become spaces."""
    s = "" if text is None else str(text)
    s = s.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)


def md_lines(text: object) -> str:
    """Like :func:`md_escape` but keeps line breaks (as Markdown hard breaks)."""
    s = "" if text is None else str(text)
    return "  \n".join(md_escape(line) for line in s.replace("\r\n", "\n").split("\n"))


def text_column(df, col: str, fn, *, skip_nulls: bool = True, null: str | None = None):
    """``fn`` of each value of ``df[col]`` as a text column of the same length: an expression
    for ``df.select`` / ``df.with_columns``, computed here, in the calling thread.

    Not ``Expr.map_elements``: Polars calls the function back from its own thread pool, and
    where several sessions compute at once one thread can hold the GIL while it waits for the
    pool and the pool's threads wait for the GIL, and the whole server hangs (a ten-viewer
    browser test of the Live page stopped refreshing). The frames formatted for display are
    short lists. Nulls stay null (or become ``null``) unless ``skip_nulls`` is False.

    >>> import polars as pl
    >>> df = pl.DataFrame({"s": [90.0, None]})
    >>> df.select(text_column(df, "s", lambda v: f"{v / 60:.1f} min", null="–"))["s"].to_list()
    ['1.5 min', '–']
    """
    import polars as pl

    values = [null if v is None and skip_nulls else fn(v) for v in df[col].to_list()]
    return pl.lit(pl.Series(col, values, dtype=pl.String))
