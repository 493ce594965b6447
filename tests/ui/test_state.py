"""The view state and its URL form (tsdash.ui.state): presets, validation of every URL value,
round trips, and that no query can make it raise."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsdash.dataset import normalize
from tsdash.metrics.filters import Filter
from tsdash.ui.state import (
    FILTER_KEYS,
    MAX_RANGE_DAYS,
    Options,
    ViewState,
    age_text,
    check_dimensions,
    default_state,
    latest_activity,
    options_from_dataset,
    parse_asof,
    parse_query,
    preset_window,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 4, 10, 30, tzinfo=UTC)  # a Wednesday
OPTS = Options(
    teams=("Moderation", "Payments"),
    queues=("buyer_disputes", "payments_fraud"),
    priorities=("urgent", "high", "normal", "low"),
    case_types=("chargeback",),
    channels=("api", "report"),
    agents={"A1": "Ann Lee", "A2": "Bo Chen"},
)
D = dt.date


def parse(query, *, tz="UTC", now=NOW, options=OPTS):
    return parse_query(query, default_tz=tz, now=now, options=options)


# ------------------------------------------------------------------ defaults and presets


def test_empty_query_is_the_default_view():
    state, notices = parse({})
    assert notices == []
    assert state == default_state("UTC")
    assert state.preset == "last_7" and not state.frozen and not state.has_dimension_filters()
    assert state.window(NOW) == (D(2026, 2, 26), D(2026, 3, 4))


def test_default_tz_comes_from_settings():
    state, notices = parse({}, tz="Europe/Berlin")
    assert state.tz == "Europe/Berlin" and notices == []


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("today", (D(2026, 3, 4), D(2026, 3, 4))),
        ("last_7", (D(2026, 2, 26), D(2026, 3, 4))),
        ("last_28", (D(2026, 2, 5), D(2026, 3, 4))),
        ("last_90", (D(2025, 12, 5), D(2026, 3, 4))),
        ("this_week", (D(2026, 3, 2), D(2026, 3, 4))),
        ("last_week", (D(2026, 2, 23), D(2026, 3, 1))),
    ],
)
def test_rolling_presets(preset, expected):
    state, notices = parse({"preset": preset})
    assert notices == []
    assert state.window(NOW) == expected
    f = state.to_filter(NOW)
    assert (f.start, f.end) == expected
    assert f.days == (expected[1] - expected[0]).days + 1


def test_presets_follow_the_display_zone_day():
    # 23:30 UTC on Wednesday is already Thursday in Tokyo and still Wednesday in New York
    late = dt.datetime(2026, 3, 4, 23, 30, tzinfo=UTC)
    tokyo, _ = parse({"preset": "today", "tz": "Asia/Tokyo"})
    ny, _ = parse({"preset": "today", "tz": "America/New_York"})
    assert tokyo.window(late) == (D(2026, 3, 5), D(2026, 3, 5))
    assert ny.window(late) == (D(2026, 3, 4), D(2026, 3, 4))
    # the Filter's UTC window is Tokyo midnight to midnight: 15:00 UTC the day before
    assert tokyo.to_filter(late).window_utc() == (
        dt.datetime(2026, 3, 4, 15, tzinfo=UTC),
        dt.datetime(2026, 3, 5, 15, tzinfo=UTC),
    )


def test_this_week_on_a_monday_is_one_day():
    monday = dt.datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert preset_window("this_week", monday.date()) == (D(2026, 3, 2), D(2026, 3, 2))
    assert preset_window("last_week", monday.date()) == (D(2026, 2, 23), D(2026, 3, 1))


def test_frozen_link_keeps_its_window_and_as_of_tomorrow():
    state, notices = parse({"preset": "last_7", "asof": "2026-02-10T09:15:00Z"})
    assert notices == []
    tomorrow = NOW + dt.timedelta(days=1)
    assert state.window(tomorrow) == (D(2026, 2, 4), D(2026, 2, 10))
    f = state.to_filter(tomorrow)
    assert f.as_of == dt.datetime(2026, 2, 10, 9, 15, tzinfo=UTC)
    assert f.resolved_as_of() == dt.datetime(2026, 2, 10, 9, 15, tzinfo=UTC)


def test_live_filter_pins_as_of_to_now():
    state, _ = parse({})
    assert state.to_filter(NOW).as_of == NOW


def test_custom_range_and_filter():
    state, notices = parse({"from": "2026-01-05", "to": "2026-01-11", "tz": "Europe/Berlin"})
    assert notices == []
    assert state.preset == "custom"
    f = state.to_filter(NOW)
    assert f == Filter(D(2026, 1, 5), D(2026, 1, 11), tz="Europe/Berlin", as_of=NOW)
    # Berlin is UTC+1 in January: the window starts at 23:00 UTC the evening before
    assert f.window_utc()[0] == dt.datetime(2026, 1, 4, 23, tzinfo=UTC)


def test_rolling_preset_wins_over_dates():
    state, notices = parse({"preset": "today", "from": "2026-01-05", "to": "2026-01-11"})
    assert notices == [] and state.preset == "today" and state.start is None


def test_dimensions_are_kept_sorted_and_deduplicated():
    state, notices = parse({"agent": ["A2", "A1", "A2"], "team": "Payments", "queue": ["payments_fraud"]})
    assert notices == []
    assert state.agents == ("A1", "A2") and state.teams == ("Payments",)
    f = state.to_filter(NOW)
    assert f.agents == ("A1", "A2") and f.teams == ("Payments",) and f.queues == ("payments_fraud",)


# ------------------------------------------------------------------ hostile values


def keys(notices):
    return [n.key for n in notices]


def test_unknown_agent_is_dropped_with_a_notice_naming_it():
    state, notices = parse({"agent": ["A1", "Z9"], "team": ["Nope"]})
    assert state.agents == ("A1",) and state.teams == ()
    assert keys(notices) == ["team", "agent"]
    assert "Z9" in notices[1].message and "agent" in notices[1].message
    assert "Nope" in notices[0].message


@pytest.mark.parametrize(
    "bad",
    [
        "2026-13-01",
        "2026-02-30",
        "yesterday",
        "2026/03/01",
        "20260301",
        "0001-01-01",
        "9999-12-31",
        "2026-3-1",
    ],
)
def test_malformed_start_date(bad):
    state, notices = parse({"from": bad, "to": "2026-03-01"})
    assert state == default_state("UTC")
    assert keys(notices) == ["from"]
    assert bad in notices[0].message and "last 7 days" in notices[0].message


def test_both_dates_malformed_are_both_named():
    state, notices = parse({"from": "x", "to": "y"})
    assert state.preset == "last_7" and keys(notices) == ["from", "to"]


def test_inverted_range_is_dropped():
    state, notices = parse({"from": "2026-03-09", "to": "2026-03-01"})
    assert state.preset == "last_7" and state.start is None
    assert keys(notices) == ["from"] and "ends before it starts" in notices[0].message


def test_half_range_is_dropped():
    state, notices = parse({"from": "2026-03-01"})
    assert state.preset == "last_7" and keys(notices) == ["to"]
    state, notices = parse({"preset": "custom"})
    assert state.preset == "last_7" and len(notices) == 1


def test_too_long_range_is_shortened():
    state, notices = parse({"from": "2000-01-01", "to": "2026-03-01"})
    assert state.preset == "custom" and state.end == D(2026, 3, 1)
    assert (state.end - state.start).days + 1 == MAX_RANGE_DAYS
    assert keys(notices) == ["from"]


def test_unknown_tz_falls_back_to_default():
    for bad in ("Mars/Olympus", "../../etc/passwd", "utc", "", "Europe/Berlin/../x"):
        state, notices = parse({"tz": bad}, tz="Europe/Berlin")
        assert state.tz == "Europe/Berlin"
        assert len(notices) == (0 if bad.strip() == "" else 1)


def test_bad_or_future_asof_is_dropped():
    for bad in ("tomorrow", "2026-02-30T10:00:00Z", "1900-01-01T00:00:00Z", "x" * 100):
        state, notices = parse({"asof": bad})
        assert not state.frozen and keys(notices) == ["asof"], bad
    state, notices = parse({"asof": "2026-03-05T10:00:00Z"})
    assert not state.frozen and "future" in notices[0].message


def test_asof_formats():
    assert parse_asof("2026-03-02T14:05:09Z") == dt.datetime(2026, 3, 2, 14, 5, 9, tzinfo=UTC)
    assert parse_asof("2026-03-02T15:05:09+01:00") == dt.datetime(2026, 3, 2, 14, 5, 9, tzinfo=UTC)
    # a '+' that reached us as a space (unencoded in a hand-made link)
    assert parse_asof("2026-03-02T15:05:09 01:00") == dt.datetime(2026, 3, 2, 14, 5, 9, tzinfo=UTC)
    assert parse_asof("2026-03-02T14:05:09") == dt.datetime(2026, 3, 2, 14, 5, 9, tzinfo=UTC)  # naive = UTC
    assert parse_asof("2026-03-02T14:05:09.999Z") == dt.datetime(2026, 3, 2, 14, 5, 9, tzinfo=UTC)


def test_unknown_preset_is_dropped():
    state, notices = parse({"preset": "last_1000"})
    assert state.preset == "last_7" and keys(notices) == ["preset"]


def test_overlong_values_are_dropped_without_lookup():
    state, notices = parse({"agent": "A" * 1000}, options=None)
    assert state.agents == () and keys(notices) == ["agent"]
    assert len(notices[0].message) < 200  # the value is shortened in the message


def test_without_options_dimensions_are_kept_for_later_checking():
    state, notices = parse({"agent": ["Z9"]}, options=None)
    assert state.agents == ("Z9",) and notices == []
    checked, notices = check_dimensions(state, OPTS)
    assert checked.agents == () and keys(notices) == ["agent"]


def test_empty_values_are_ignored_silently():
    state, notices = parse({"agent": ["", "A1"], "from": "", "to": "", "tz": ""})
    assert state.agents == ("A1",) and state.preset == "last_7" and notices == []


# ------------------------------------------------------------------ properties

dates = st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 1, 1))
zones = st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham"])


@st.composite
def view_states(draw):
    preset = draw(
        st.sampled_from(["today", "last_7", "last_28", "last_90", "this_week", "last_week", "custom"])
    )
    start = end = None
    if preset == "custom":
        start = draw(dates)
        end = start + dt.timedelta(days=draw(st.integers(0, MAX_RANGE_DAYS - 1)))
    as_of = draw(
        st.none()
        | st.datetimes(
            min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2026, 3, 4), timezones=st.just(UTC)
        )
    )
    return ViewState(
        preset=preset,
        start=start,
        end=end,
        tz=draw(zones),
        as_of=as_of,
        teams=tuple(draw(st.lists(st.sampled_from(OPTS.teams)))),
        priorities=tuple(draw(st.lists(st.sampled_from(OPTS.priorities)))),
        agents=tuple(draw(st.lists(st.sampled_from(list(OPTS.agents))))),
    )


@settings(max_examples=200, deadline=None)
@given(view_states())
def test_url_round_trip(state):
    query = state.to_query()
    assert all(isinstance(v, str | list) for v in query.values())
    back, notices = parse(query)
    assert notices == []
    assert back == state
    assert back.to_filter(NOW) == state.to_filter(NOW)


text_values = st.text(max_size=30) | st.sampled_from(
    [
        "2026-03-01",
        "2026-02-30",
        "today",
        "custom",
        "UTC",
        "Europe/Berlin",
        "A1",
        "2026-03-01T00:00:00Z",
        "9999-12-31",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*FILTER_KEYS, "case", "junk"]) | st.text(max_size=5),
        text_values | st.lists(text_values, max_size=4) | st.none(),
        max_size=10,
    ),
    st.booleans(),
)
def test_arbitrary_queries_never_raise(query, with_options):
    state, notices = parse(query, options=OPTS if with_options else None)
    f = state.to_filter(NOW)  # always a valid Filter
    assert f.start <= f.end
    assert all(n.message for n in notices)
    if with_options:
        assert set(state.agents) <= set(OPTS.agents) and set(state.teams) <= set(OPTS.teams)


# ------------------------------------------------------------------ options from data


def _ds():
    t = lambda h: dt.datetime(2026, 3, 1, h, tzinfo=UTC)  # noqa: E731
    return normalize(
        {
            "agents": pl.DataFrame(
                {"agent_id": ["A1", "A2", "A3"], "name": ["Ann", "Bo", "Ann"], "team": ["T2", "T1", None]}
            ),
            "cases": pl.DataFrame(
                {
                    "case_id": ["c1", "c2", "c3"],
                    "created_at": [t(1), t(2), t(3)],
                    "queue": ["q2", "q1", "q1"],
                    "priority": ["low", "urgent", "p9"],
                    "channel": [None, "api", "api"],
                    "assigned_agent_id": ["A1", "GHOST", None],
                    "resolved_at": [t(5), None, None],
                }
            ),
        }
    )


def test_options_from_dataset():
    o = options_from_dataset(_ds())
    assert o.teams == ("T1", "T2")
    assert o.queues == ("q1", "q2")
    assert o.priorities == ("urgent", "low", "p9")  # SLA order, then others
    assert o.channels == ("api",) and o.case_types == ()
    # duplicate names get their id; an assigned id missing from agents is offered under its id
    assert o.agents == {"A1": "Ann (A1)", "A3": "Ann (A3)", "A2": "Bo", "GHOST": "GHOST"}
    assert o.label("agent", "A2") == "Bo" and o.label("team", "T1") == "T1"


def test_options_of_empty_data():
    o = options_from_dataset(
        normalize(
            {
                "agents": pl.DataFrame({"agent_id": [], "name": [], "team": []}),
                "cases": pl.DataFrame({"case_id": [], "created_at": [], "queue": []}),
            }
        )
    )
    assert o == Options()
    state, notices = parse({"agent": "A1"}, options=o)
    assert state.agents == () and keys(notices) == ["agent"]


def test_latest_activity_is_the_latest_timestamp_anywhere():
    assert latest_activity(_ds()) == dt.datetime(2026, 3, 1, 5, tzinfo=UTC)  # c1 resolved at 05:00


def test_age_text():
    assert [age_text(s) for s in (-5, 0, 59, 60, 3599, 3600, 47 * 3600, 48 * 3600)] == [
        "in the future",
        "just now",
        "just now",
        "1 min ago",
        "59 min ago",
        "1 h ago",
        "47 h ago",
        "2 days ago",
    ]
