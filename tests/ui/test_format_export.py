"""Pure UI helpers: units, escaping, CSV neutralisation, chart point counting."""

from __future__ import annotations

import datetime as dt
import math

import plotly.graph_objects as go
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsdash.ui.charts import count_points, style
from tsdash.ui.export import csv_bytes, neutralise, safe_frame
from tsdash.ui.fmt import axis_unit, duration_unit, fmt_duration, fmt_number, fmt_pct, md_escape, md_lines


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (59.6, "60 s"),
        (60, "1.0 min"),
        (750, "12.5 min"),
        (90 * 60, "90.0 min"),  # under 2 h stays in minutes
        (2 * 3600, "2.0 h"),
        (11_520, "3.2 h"),
        (71 * 3600, "71.0 h"),
        (3 * 86400, "3.0 d"),
        (-750, "-12.5 min"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_fmt_duration(seconds, text):
    assert fmt_duration(seconds) == text


def test_axis_unit_uses_the_median():
    assert axis_unit([30, 40, 50]) == (60.0, "min")  # seconds-sized values still read best in minutes
    assert axis_unit([3 * 3600, 4 * 3600, 60]) == (3600.0, "h")
    assert axis_unit([None, float("nan")]) == (60.0, "min")
    assert duration_unit(4 * 86400) == (86400.0, "d")


def test_numbers_and_percentages():
    assert fmt_number(12345.6) == "12,346"
    assert fmt_number(0.25, 2) == "0.25"
    assert fmt_pct(0.8734) == "87.3%"
    assert fmt_pct(None) == "–" and fmt_number(math.inf) == "–"


def test_md_escape_neutralises_markdown_html_and_directives():
    hostile = (
        "<script>x</script> **b** [l](javascript:x) ![i](http://e/x.png) :red[r] :material/home: $x$ `c`"
    )
    out = md_escape(hostile)
    for ch in "<>*[]()!:$`":
        # every special character is preceded by a backslash
        assert all(out[i - 1] == "\\" for i, c in enumerate(out) if c == ch), ch
    assert md_escape("line1\nline2") == "line1 line2"
    assert md_lines("a_b\nc") == "a\\_b  \nc"
    assert md_escape(None) == ""


@given(st.text(max_size=50))
def test_md_escape_only_adds_backslashes(s):
    out = md_escape(s)
    assert out.replace("\\", "") == s.replace("\\", "").replace("\r\n", " ").replace("\n", " ").replace(
        "\r", " "
    )


def test_neutralise_cells():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+1") == "'+1"
    assert neutralise("-1") == "'-1"
    assert neutralise("@SUM(A1:A2)") == "'@SUM(A1:A2)"
    assert neutralise("\t=1") == "'\t=1"
    assert neutralise("\r=1") == "'\r=1"
    assert neutralise("  =1") == "'  =1"
    assert neutralise("a=1") == "a=1" and neutralise("") == "" and neutralise(None) is None


def test_csv_neutralises_text_only():
    df = pl.DataFrame(
        {
            "agent": ['=HYPERLINK("http://evil","x")', "Ann", "@cmd", None],
            "delta": [-1.5, 2.0, None, 3.0],
            "day": [dt.date(2026, 3, 1)] * 4,
            "tags": [["-a", "b"], [], None, ["c"]],
        }
    )
    text = csv_bytes(df).decode()
    lines = text.splitlines()
    assert lines[0] == "agent,delta,day,tags"
    assert lines[1] == '"\'=HYPERLINK(""http://evil"",""x"")",-1.5,2026-03-01,\'-a; b'
    assert lines[2] == 'Ann,2.0,2026-03-01,""'  # an empty list is an empty string, not null
    assert lines[3] == "'@cmd,,2026-03-01,"
    assert lines[4] == ",3.0,2026-03-01,c"


@settings(max_examples=300)
@given(st.lists(st.text(max_size=12) | st.none(), min_size=1, max_size=20))
def test_frame_neutralisation_matches_cell_rule(values):
    out = safe_frame(pl.DataFrame({"v": values}, schema={"v": pl.String})).get_column("v").to_list()
    assert out == [neutralise(v) for v in values]
    for v in out:
        assert v is None or not v.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_count_points():
    fig = go.Figure(
        [
            go.Bar(x=list("abc"), y=[1, 2, 3]),
            go.Heatmap(z=[[1, 2, 3], [4, 5, 6]], x=[1, 2, 3], y=["a", "b"]),
            go.Pie(labels=["a", "b"], values=[1, 2]),
        ]
    )
    assert count_points(fig) == 3 + 6 + 2
    assert count_points(go.Figure()) == 0


def test_style_sets_selection_mode():
    fig = style(go.Figure(go.Bar(x=[1], y=[1])), selectable=True, height=300)
    assert fig.layout.dragmode == "select" and fig.layout.height == 300
    assert fig.layout.template.layout.paper_bgcolor is not None
