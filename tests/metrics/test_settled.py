"""Handle time, first response, resolution time, SLA attainment and flow (without a dimension)
from settled parts (tsdash.metrics.core.settled_parts): a table by week is
computed from the weeks before as-of's week, as of the moment that week began (shared through
the table memo by every later as-of in it), and the current week at as-of. The rows are the
table's own: by hand on a small fixture, and against the table computed at once for any data,
window, zone and as-of (hypothesis), trends included."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from tests.metrics.test_metrics_properties import SETTINGS, ZONES

from tsdash.dataset import normalize
from tsdash.metrics import Filter, first_response, flow, handle_time, resolution_time, sla, trend
from tsdash.metrics import tables as t
from tsdash.metrics.core import settled_parts

UTC = dt.UTC
W1, W2 = dt.date(2026, 3, 2), dt.date(2026, 3, 9)  # two Mondays
A1 = dt.datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # Wednesday of the second week
A2 = dt.datetime(2026, 3, 12, 12, 0, tzinfo=UTC)  # a day later, same week


def _t(day: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hh, mm, tzinfo=UTC)


# case_id, created, resolved, handle seconds
CASES = [
    ("h1", _t(2, 9), _t(2, 10), 100.0),  # week 1
    ("h2", _t(3, 9), _t(4, 10), 200.0),  # week 1
    ("h3", _t(5, 9), _t(8, 23, 59), 600.0),  # week 1, Sunday late
    ("h4", _t(8, 20), _t(9, 0), 50.0),  # resolved at Monday 00:00 exactly: week 2
    ("h5", _t(9, 9), _t(10, 8), 150.0),  # week 2
    ("h6", _t(10, 9), _t(11, 13), 999.0),  # week 2, resolved after A1 (12:00), before A2
    ("h10", _t(11, 7), _t(11, 9), 250.0),  # week 2, on A1's day before A1
    ("h7", _t(11, 11), None, None),  # open
    ("h8", _t(1, 9), _t(1, 23), 5000.0),  # resolved before the window
    ("h9", _t(2, 9), _t(3, 9), None),  # no handle time
]
# by hand, linear quantiles at (n - 1) * q:
# week 1 at any as-of: 100 200 600 -> 3 cases, mean 300, median 200, p90 at 1.8: 200 + 0.8 * 400 = 520
# week 2 at A1: 50 150 250 -> 3, mean 150, median 150, p90 at 1.8: 150 + 0.8 * 100 = 230
# week 2 at A2: 50 150 250 999 -> 4, mean 362.25, median (150 + 250) / 2 = 200,
#   p90 at 2.7: 250 + 0.7 * 749 = 774.3
WEEK1 = (W1, 3, 300.0, 200.0, 520.0)
WEEK2_A1 = (W2, 3, 150.0, 150.0, 230.0)
WEEK2_A2 = (W2, 4, 362.25, 200.0, pytest.approx(774.3))


def tables() -> dict[str, pl.DataFrame]:
    ts = pl.Datetime("us", "UTC")
    return {
        "agents": pl.DataFrame({"agent_id": ["a1"], "name": ["A"], "team": ["T1"]}),
        "cases": pl.DataFrame(
            [
                # answered half-way to the resolution (the fixture for first response's rows)
                {"case_id": i, "created_at": c, "queue": "q1", "assigned_agent_id": "a1", "resolved_at": r,
                 "handle_seconds": h, "first_response_at": c + (r - c) / 2 if r else None}
                for i, c, r, h in CASES
            ],
            schema={
                "case_id": pl.String,
                "created_at": ts,
                "queue": pl.String,
                "assigned_agent_id": pl.String,
                "resolved_at": ts,
                "handle_seconds": pl.Float64,
                "first_response_at": ts,
            },
        ),
    }  # fmt: skip


def window(as_of: dt.datetime, tz: str = "UTC") -> Filter:
    return Filter(W1, dt.date(2026, 3, 15), tz=tz, as_of=as_of)


@pytest.fixture
def views(monkeypatch) -> list[tuple]:
    """The (start, end, as-of) of every population handle time computes from."""
    seen: list[tuple] = []
    real = t.view

    def counting(ds, f):
        seen.append((f.start, f.end, f.resolved_as_of()))
        return real(ds, f)

    monkeypatch.setattr(t, "view", counting)
    return seen


def test_the_weeks_before_as_ofs_week_are_one_part_as_of_its_monday():
    past, recent = settled_parts(window(A1), ("week",))
    assert (past.start, past.end, past.as_of) == (W1, dt.date(2026, 3, 8), _t(9, 0))
    assert (recent.start, recent.end, recent.as_of) == (W2, dt.date(2026, 3, 15), A1)
    by_day = settled_parts(window(A1), ("date", "queue"))
    assert [(p.start, p.end, p.as_of) for p in by_day] == [
        (W1, dt.date(2026, 3, 10), _t(11, 0)),
        (dt.date(2026, 3, 11), dt.date(2026, 3, 15), A1),
    ]


def test_the_cut_is_the_local_monday_across_a_dst_change():
    # Berlin moves to summer time on Sun 2026-03-29: Mon 30 March begins at 22:00 UTC on the 29th
    f = Filter(
        dt.date(2026, 3, 23),
        dt.date(2026, 4, 5),
        tz="Europe/Berlin",
        as_of=dt.datetime(2026, 4, 1, 10, tzinfo=UTC),
    )
    past, recent = settled_parts(f, ("week",))
    assert past.end == dt.date(2026, 3, 29) and recent.start == dt.date(2026, 3, 30)
    assert past.as_of == dt.datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    # as-of late on Sunday UTC is Monday already in Berlin
    f = f.with_(as_of=dt.datetime(2026, 3, 29, 22, 30, tzinfo=UTC))
    assert settled_parts(f, ("week",))[1].start == dt.date(2026, 3, 30)


def test_no_parts_where_nothing_settles():
    assert settled_parts(window(A1).with_(as_of=None), ("week",)) is None  # the clock: never memoized
    assert settled_parts(window(A1), ("queue",)) is None  # a table over the whole window
    assert settled_parts(window(_t(4, 12)), ("week",)) is None  # as-of in the window's first week
    end = dt.datetime(2026, 3, 16, 0, 0, tzinfo=UTC)
    assert settled_parts(window(end), ("week",)) is None  # as-of at the window's end: it is settled
    (whole,) = settled_parts(window(end + dt.timedelta(days=3)), ("queue",))
    assert whole.as_of == end and (whole.start, whole.end) == (W1, dt.date(2026, 3, 15))


def test_by_week_the_numbers_by_hand_and_the_past_computed_once(views):
    ds = normalize(tables())
    assert handle_time(ds, window(A1), ("week",)).rows() == [WEEK1, WEEK2_A1]
    assert views == [(W1, dt.date(2026, 3, 15), A1)]  # the first view: the whole table, once
    views.clear()
    # a day later: the case resolved in between counts; the weeks before A1's week are the
    # first view's rows, and only the current week is computed
    assert handle_time(ds, window(A2), ("week",)).rows() == [WEEK1, WEEK2_A2]
    assert views == [(W2, dt.date(2026, 3, 15), A2)]
    views.clear()
    # what the first view left is the past part as of its Monday
    assert handle_time.recall(
        ds, window(A1).with_(end=dt.date(2026, 3, 8), as_of=_t(9, 0)), ("week",)
    ).rows() == [WEEK1]
    # a week later, over three weeks: another cut, nothing to share, the whole table again
    three = Filter(W1, dt.date(2026, 3, 22), as_of=_t(16, 1))
    assert handle_time(ds, three, ("week",)).rows() == [WEEK1, WEEK2_A2]
    assert views == [(W1, dt.date(2026, 3, 22), _t(16, 1))]


def test_a_window_that_ended_is_computed_as_of_its_end_once(views):
    ds = normalize(tables())
    later = [dt.datetime(2026, 3, 20, 9, tzinfo=UTC), dt.datetime(2026, 4, 2, 17, tzinfo=UTC)]
    for as_of in later:
        out = handle_time(ds, window(as_of), ("agent_id",))
        # all seven handled cases of the window, sorted: 50 100 150 200 250 600 999 -> mean
        # 2349 / 7, median 200, p90 at 5.4: 600 + 0.4 * 399 = 759.6
        assert out.rows() == [("a1", 7, pytest.approx(2349 / 7), 200.0, pytest.approx(759.6))]
    assert views == [(W1, dt.date(2026, 3, 15), dt.datetime(2026, 3, 16, tzinfo=UTC))]


# case_id, created, first response (the same fixture's first four weeks' cases)
RESPONSES = [
    ("r1", _t(2, 9), _t(2, 9, 10)),  # week 1: 600 s
    ("r2", _t(6, 9), _t(8, 23, 59)),  # week 1, answered Sunday 23:59: 2 days 14:59 = 226,740 s
    ("r3", _t(8, 23), _t(9, 0)),  # answered Monday 00:00 exactly: week 2, 3,600 s
    ("r4", _t(10, 9), _t(11, 13)),  # week 2, answered after A1 (12:00), before A2: 100,800 s
    # week 2 at A2: (3,600 + 100,800) / 2 = 52,200 s
    ("r5", _t(11, 11), None),  # not answered
]


def _responses() -> dict[str, pl.DataFrame]:
    ts = pl.Datetime("us", "UTC")
    rows = [{"case_id": i, "created_at": c, "queue": "q1", "first_response_at": r} for i, c, r in RESPONSES]
    schema = {"case_id": pl.String, "created_at": ts, "queue": pl.String, "first_response_at": ts}
    return {"cases": pl.DataFrame(rows, schema=schema)}


def test_first_response_by_week_by_hand_and_the_past_computed_once(views):
    ds = normalize(_responses())
    cols = ("week", "cases", "mean_s")
    week1 = (W1, 2, (600 + 226_740) / 2)  # 113,670 s
    assert first_response(ds, window(A1), ("week",)).select(cols).rows() == [week1, (W2, 1, 3600.0)]
    assert views == [(W1, dt.date(2026, 3, 15), A1)]
    views.clear()
    # a day later r4's answer is known; week 1 comes from the first view
    assert first_response(ds, window(A2), ("week",)).select(cols).rows() == [week1, (W2, 2, 52_200.0)]
    assert views == [(W2, dt.date(2026, 3, 15), A2)]
    views.clear()
    # resolution time shares the rule (none of these cases is resolved: empty weeks)
    assert resolution_time(ds, window(A2), ("week",)).height == 0


def test_sla_by_week_by_hand_and_the_past_computed_once(views):
    ds = normalize(tables())  # no priority: due 48 h after creation (the default "other" target)
    # week 1: h1, h2, h9 resolved within 48 h, h3 after 3 days 14:59 h: 3 of 4
    # week 2 at A1: h4, h5, h10 within: 3 of 3; at A2 h6 too (resolved after 28 h): 4 of 4
    assert sla(ds, window(A1), ("week",)).rows() == [(W1, 4, 3, 0.75), (W2, 3, 3, 1.0)]
    assert views == [(W1, dt.date(2026, 3, 15), A1)]
    views.clear()
    assert sla(ds, window(A2), ("week",)).rows() == [(W1, 4, 3, 0.75), (W2, 4, 4, 1.0)]
    assert views == [(W2, dt.date(2026, 3, 15), A2)]


def test_flow_by_week_by_hand_and_the_past_computed_once(views):
    ds = normalize(tables())
    # week 1 (2-8 March): created h1 h2 h3 h4 h9 (5); resolved h1 h2 h3 h9 (4; h8 on 1 March is
    # before the window, h4 at Monday 00:00 is week 2); opening backlog on 2 March: none (h8 was
    # created and resolved on the 1st), so 1 open at the end of week 1 (h4)
    # week 2 at A1 (Wed 11 March 12:00): created h5 h6 h10 h7 (4); resolved h4 h5 h10 (3), h6 at
    # 13:00 not yet: backlog 1 + 4 - 3 = 2 (h6 h7); at A2: h6 resolved too, backlog 1
    assert flow(ds, window(A1), ("week",)).rows() == [(W1, 5, 4, 1), (W2, 4, 3, 2)]
    assert views == [(W1, dt.date(2026, 3, 15), A1)]
    views.clear()
    assert flow(ds, window(A2), ("week",)).rows() == [(W1, 5, 4, 1), (W2, 4, 4, 1)]
    assert views == [(W2, dt.date(2026, 3, 15), A2)]
    views.clear()


def test_flow_by_queue_is_not_settled(views):
    """A queue first seen after the cut adds zero rows to the weeks before it: by a dimension
    every view computes the whole table."""
    data = tables()
    n1 = {"case_id": "n1", "created_at": _t(11, 12, 30), "queue": "q2", "assigned_agent_id": "a1"}
    data["cases"] = pl.concat(
        [data["cases"], pl.DataFrame([n1], schema_overrides=data["cases"].schema)], how="diagonal"
    )
    ds = normalize(data)
    assert flow(ds, window(A1), ("week", "queue")).rows() == [(W1, "q1", 5, 4, 1), (W2, "q1", 4, 3, 2)]
    views.clear()
    # n1 was created between A1 and A2: its queue has a row in week 1 too
    assert flow(ds, window(A2), ("week", "queue")).rows() == [
        (W1, "q1", 5, 4, 1),
        (W1, "q2", 0, 0, 0),
        (W2, "q1", 4, 4, 1),
        (W2, "q2", 1, 0, 1),
    ]
    assert views == [(W1, dt.date(2026, 3, 15), A2)]


def test_the_same_rows_as_the_table_at_once_on_the_fixture(monkeypatch):
    split_ds = normalize(tables())
    fns = (handle_time, first_response, resolution_time, sla, flow)
    got = {
        (fn, a, by): fn(split_ds, window(a), by, detail=True)
        for fn in fns
        for a in (A1, A2, _t(9, 0), _t(16, 0), _t(20, 0))
        for by in (("week",), ("date",), ("week", "queue"), ("agent_id",))
    }
    monkeypatch.setattr(t, "settled_parts", lambda f, by: None)
    once_ds = normalize(tables())  # its own memo
    for (fn, a, by), table in got.items():
        assert_frame_equal(table, fn(once_ds, window(a), by, detail=True))


# Resolutions in the three weeks around as-of (which is on a whole UTC hour): at any minute,
# on whole hours (local midnights in most zones) or a minute before one, where the cuts lie.
_back = st.one_of(
    st.integers(min_value=-12 * 60, max_value=12 * 60),  # around as-of: today's cases
    st.integers(min_value=-3 * 24 * 60, max_value=21 * 24 * 60),
    st.integers(min_value=-3 * 24, max_value=21 * 24).map(lambda h: 60 * h),
    st.integers(min_value=-3 * 24, max_value=21 * 24).map(lambda h: 60 * h + 1),
)
_case = st.tuples(
    _back,  # resolved this many minutes before as-of (negative: after it)
    st.integers(min_value=0, max_value=3 * 24 * 60),  # created this many minutes before that
    st.sampled_from(("q1", "q2")),
    st.sampled_from(("a1", "a2", None)),
    st.one_of(st.none(), st.floats(min_value=0, max_value=7200, allow_nan=False)),
    # first answered (None: not answered) this many minutes after creation, after the
    # resolution too, or at this fraction of the way from creation to resolution (answered
    # before a cut or as-of, resolved after it)
    st.one_of(
        st.none(),
        st.integers(min_value=0, max_value=4 * 24 * 60),
        st.integers(0, 24).map(lambda h: 60 * h),
        st.sampled_from((0.0, 0.1, 0.5, 0.9, 1.0)),
    ),
)


def _answered(created: dt.datetime, resolved: dt.datetime, fr: int | float | None) -> dt.datetime | None:
    if fr is None:
        return None
    if isinstance(fr, float):
        return created + (resolved - created) * fr
    return created + dt.timedelta(minutes=fr)


def _around(as_of: dt.datetime, cases: list[tuple]) -> dict[str, pl.DataFrame]:
    m = dt.timedelta(minutes=1)
    rows = [
        {"case_id": f"c{i:03d}", "created_at": as_of - (back + age) * m, "queue": q,
         "assigned_agent_id": agent, "resolved_at": as_of - back * m, "handle_seconds": h,
         "first_response_at": _answered(as_of - (back + age) * m, as_of - back * m, fr)}
        for i, (back, age, q, agent, h, fr) in enumerate(cases)
    ]  # fmt: skip
    ts = pl.Datetime("us", "UTC")
    schema = {"case_id": pl.String, "created_at": ts, "queue": pl.String, "assigned_agent_id": pl.String,
              "resolved_at": ts, "handle_seconds": pl.Float64, "first_response_at": ts}  # fmt: skip
    agents = pl.DataFrame({"agent_id": ["a1", "a2"], "name": ["A", "B"], "team": ["T1", "T2"]})
    return {"agents": agents, "cases": pl.DataFrame(rows, schema=schema)}


@SETTINGS
@given(
    cases=st.lists(_case, min_size=0, max_size=40),
    zone=st.sampled_from(ZONES),
    hour=st.integers(min_value=0, max_value=30 * 24),
    back=st.integers(min_value=0, max_value=25),
    days=st.integers(min_value=0, max_value=30),
    later=st.one_of(
        st.integers(min_value=0, max_value=6 * 60), st.integers(min_value=0, max_value=4 * 24 * 60)
    ),
    by=st.sampled_from([("week",), ("date",), ("week", "queue"), ("date", "agent_id"), ("queue",), ()]),
)
# a window (18 Feb) that ended before as-of (1 March): a case resolved in it at 14:00 and first
# answered after it (20 Feb): a table whose rows read the answer would not be settled
@example(
    cases=[(15000, 60, "q1", "a1", None, 2880)], zone="UTC", hour=0, back=11, days=0, later=0, by=("week",)
)
def test_the_same_rows_as_the_table_at_once(cases, zone, hour, back, days, later, by):
    """Two as-ofs in a row on one dataset (the second may reuse the first's past part), against a
    dataset without the split: handle time, first response, resolution time, SLA attainment
    (with their detail columns) and flow; the trends of the AHT, the median and the p90 too."""
    as_of = dt.datetime(2026, 3, 1, tzinfo=UTC) + dt.timedelta(hours=hour)
    data = _around(as_of, cases)
    split_ds, once_ds = normalize(data), normalize(data)
    start = as_of.date() - dt.timedelta(days=back)
    fs = [
        Filter(start, start + dt.timedelta(days=days), tz=zone, as_of=a)
        for a in (as_of, as_of + dt.timedelta(minutes=later))
    ]
    fns = (handle_time, first_response, resolution_time, sla, flow)
    got = [(fn, f, fn(split_ds, f, by, detail=True)) for f in fs for fn in fns]
    trends = [trend(split_ds, f, k) for f in fs for k in ("aht", "handle_median", "handle_p90")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(t, "settled_parts", lambda f, by: None)
        for fn, f, table in got:
            assert_frame_equal(table, fn(once_ds, f, by, detail=True), rel_tol=1e-12, abs_tol=0)
        once = [trend(once_ds, f, k) for f in fs for k in ("aht", "handle_median", "handle_p90")]
        for a, b in zip(trends, once, strict=True):
            assert_frame_equal(a, b, rel_tol=1e-12, abs_tol=0)
