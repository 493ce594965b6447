"""The shared weekly chart (tsdash.ui.trends_a): sentences and figure on hand-built trend frames."""

from __future__ import annotations

import datetime as dt

import polars as pl

from tsdash.metrics import week_over_week
from tsdash.ui import trends_a as ta

W = [dt.date(2026, 9, 7) + dt.timedelta(weeks=i) for i in range(7)]


def _trend(values: list[float], partial_last: bool = False) -> pl.DataFrame:
    """A trend() frame from weekly values (the engine's week_over_week + a partial column)."""
    t = pl.DataFrame({"week": W[: len(values)], "value": values})
    wow = week_over_week(t, "value")
    part = [False] * len(values)
    if partial_last:
        part[-1] = True
    return wow.with_columns(pl.Series("partial", part))


def test_flag_sentence_rise_in_words():
    # AHT in seconds: 600, 610, 600, 610, 600 then 684 (+14%).
    # Moving ranges before week 6 (weeks 2..5): 10, 10, 10, 10 -> MR-bar 10, limit 32.67 s;
    # change 84 s > 32.67 -> flagged; normal range 600 ± 32.67 = 567.33 .. 632.67 s.
    tr = _trend([600, 610, 600, 610, 600, 684])
    assert tr["flag"].to_list()[-1] is True
    lines = ta.flag_sentences(tr, "aht")
    assert lines == [
        "Average handle time rose 14% — beyond normal variation (week of 12 Oct: 10.0 min → 11.4 min; "
        "normal range 9.5 min to 10.5 min)."
    ]


def test_flag_sentence_share_in_points_and_partial_week_left_out():
    # SLA 0.90, 0.92, 0.90, 0.92, 0.90, 0.80: MR-bar 0.02, limit 0.06534; change -0.10 flagged.
    tr = _trend([0.90, 0.92, 0.90, 0.92, 0.90, 0.80])
    assert ta.flag_sentences(tr, "sla_attainment") == [
        "SLA attainment fell 10.0 percentage points — beyond normal variation (week of 12 Oct: "
        "90.0% → 80.0%; normal range 83.5% to 96.5%)."
    ]
    # the same week as a partial week is not judged in words
    assert (
        ta.flag_sentences(_trend([0.90, 0.92, 0.90, 0.92, 0.90, 0.80], partial_last=True), "sla_attainment")
        == []
    )


def test_no_flag_without_history_and_counts_never_negative():
    tr = _trend([10, 50, 10])  # fewer than 3 moving ranges: no limits
    assert tr["flag"].null_count() == 3
    assert ta.flag_sentences(tr, "inflow") == []
    # counts: 10, 30, 10, 30, 10, 200: MR-bar 20, limit 65.34; lower = 10 - 65.34 < 0 shown as 0
    lines = ta.flag_sentences(_trend([10, 30, 10, 30, 10, 200]), "inflow")
    assert lines == [
        "Created rose 1900% — beyond normal variation (week of 12 Oct: 10 → 200; normal range 0 to 75)."
    ]


def test_groups_are_named_and_ordered_by_week():
    a = _trend([600, 610, 600, 610, 600, 684]).with_columns(pl.lit("q1").alias("queue"))
    b = _trend([100, 100, 100, 100, 100, 100]).with_columns(pl.lit("q2").alias("queue"))
    tr = pl.concat([a, b])
    lines = ta.flag_sentences(tr, "aht", keys=("queue",), key_label=lambda k, v: f"Queue {v}")
    assert len(lines) == 1 and lines[0].startswith("Queue q1: Average handle time rose 14%")


def test_figure_marks_flagged_weeks_with_colour_and_text():
    tr = _trend([600, 610, 600, 610, 600, 684, 650], partial_last=True)
    fig = ta.fig_weekly(tr, "aht")
    bars = fig.data[0]
    assert list(bars.marker.color[:5]) == [ta.BASE] * 5
    assert bars.marker.color[5] == ta.WORSE  # AHT up is worse
    assert bars.text[5] == "▲ +14%"
    assert bars.text[6] == ""  # partial week not judged
    assert bars.marker.opacity[6] == 0.45
    assert bars.customdata[5][0] == "2026-10-12"
    assert bars.y[5] == 684 / 60  # minutes
    assert fig.data[1].name.startswith("Normal range")
    # lines per group carry the group in customdata
    g = pl.concat(
        [
            _trend([1, 2, 1, 2, 1, 9]).with_columns(pl.lit("x").alias("queue")),
            _trend([5, 5, 5, 5, 5, 5]).with_columns(pl.lit("y").alias("queue")),
        ]
    )
    fig = ta.fig_weekly(g, "inflow", keys=("queue",), kind="line")
    assert [t.name for t in fig.data] == ["x", "y"]
    assert fig.data[0].customdata[5] == ("2026-10-12", "x") or list(fig.data[0].customdata[5]) == [
        "2026-10-12",
        "x",
    ]
    assert fig.data[0].marker.color[5] == ta.NEUTRAL_FLAG  # inflow is neutral


def test_in_window_takes_the_windows_own_value_of_a_cut_week():
    # trend() computes whole weeks: the first week (cut by the window) shows 100 created, of
    # which only 40 fall in the window's days; the window's table says 40, the chart must too.
    tr = _trend([100, 120, 110, 130, 120, 125]).with_columns(pl.col("value").cast(pl.Int64))
    table = pl.DataFrame({"week": W[2:6], "inflow": [40, 130, 120, 125]})
    got = ta.in_window(tr, table, "inflow")
    assert got["week"].to_list() == W[2:6]
    assert got["value"].to_list() == [40, 130, 120, 125]
    assert got.schema["value"] == pl.Int64
    # previous, change and limits stay trend()'s (whole weeks)
    assert got["previous"].to_list() == tr["previous"].to_list()[2:6]


def test_page_helpers_in_words():
    assert ta.hour_span("23") == "23:00–00:00" and ta.hour_span("07") == "07:00–08:00"
    assert ta.bin_label(562.341325, 749.894209) == "9.4–12.5 min"
    assert ta.bin_label(10_000.0, 13_335.2) == "2.8–3.7 h"
    clear = pl.DataFrame(
        {
            "queue": ["a", "b", "c"],
            "backlog": [30, 72, 0],
            "net_per_day": [-5.0, 3.4, 0.0],
            "status": ["shrinking", "growing", "clear"],
            "days_to_clear": [6.0, None, 0.0],
            "clear_date": [dt.date(2026, 3, 8), None, dt.date(2026, 3, 2)],
        }
    )
    assert ta.clear_sentences(clear, lambda d: f"{d:%a %d %b}") == [
        "b: growing by 3.4 cases a day (72 open).",
        "a: 30 open, shrinking by 5.0 a day — clear in 6.0 days (Sun 08 Mar).",
        "c: nothing open.",
    ]
    ten = pl.DataFrame(
        {
            "agent_id": ["n1"] * 3,
            "hired_on": [dt.date(2026, 10, 5)] * 3,
            "weeks_since_hire": [0, 1, 2],
            "aht_s": [1260.0, 900.0, 600.0],
            "partial": [False, False, True],
        }
    )
    assert ta.tenure_sentences(ten, {"n1": "Mei"}, 630.0) == [
        "Mei (n1), hired 5 Oct: AHT 21.0 min in week 0 → 15.0 min in week 1 (team median 10.5 min)."
    ]


def test_heat_grid_zero_and_unobserved_cells():
    heat = pl.DataFrame({"weekday": ["Mon"], "hour": ["09"], "arrivals": [6]})
    hours = pl.DataFrame({"weekday": ["Mon", "Mon"], "hour": ["09", "10"], "hours": [3.0, 3.0]})
    g = ta.heat_grid(heat, hours)
    assert g.height == 7 * 24
    cell = {(r["weekday"], r["hour"]): r["per_hour"] for r in g.iter_rows(named=True)}
    assert cell[("Mon", "09")] == 2.0  # 6 arrivals over 3 Monday 09:00 hours
    assert cell[("Mon", "10")] == 0.0  # observed, nobody came
    assert cell[("Tue", "09")] is None  # the window holds no Tuesday
    assert ta.busiest_hours(
        pl.DataFrame({"weekday": ["Mon", "Fri"], "hour": ["09", "19"], "per_hour": [2.0, 3.5]})
    ) == [
        ("Fri", "19", 3.5),
        ("Mon", "09", 2.0),
    ]
