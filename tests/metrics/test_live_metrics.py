"""Hand-computed fixtures for tsdash.metrics.live_extra (the open-age and agent-load reports and
the case lists of the Live workload page). Every expected number is derived in the comments."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsdash.dataset import normalize
from tsdash.metrics import DEFINITIONS, TABLES, Filter, backlog_now, cases_behind, workload
from tsdash.metrics import live_extra as lx
from tsdash.metrics.example import EXAMPLE_FILTER, example_dataset

UTC = dt.UTC
# 09:00 UTC = 10:00 in Berlin (CET, UTC+1): "today" is Tue 10 March, from Mon 23:00 UTC
AS_OF = dt.datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TZ = "Europe/Berlin"
F = Filter(dt.date(2026, 3, 4), dt.date(2026, 3, 10), tz=TZ, as_of=AS_OF)
PAY, LIVE = "Payments & Risk", "Buyer & Live"


def h(hours: float) -> dt.datetime:
    return AS_OF - dt.timedelta(hours=hours)


def at(day: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hh, mm, tzinfo=UTC)


def _case(cid, created, prio, agent, resolved=None, handle=None):
    return (cid, created, "q", prio, agent, resolved, handle)


def live_tables() -> dict[str, pl.DataFrame]:
    agents = pl.DataFrame(
        {
            "agent_id": ["p1", "p2", "p3", "p4", "p5", "p6", "b1", "b2"],
            "name": ["Zoë O'Brien", "P Two", "P Three", "P Four", "P Five", "P Six", "B One", "B Two"],
            "team": [PAY, PAY, PAY, PAY, PAY, PAY, LIVE, LIVE],
            "active": [True, True, True, True, True, False, True, True],  # p6 left
        }
    )
    rows = [
        # p1: one open (created 07:00, resolved 09:30 = after as-of, so still open), two resolved
        # today (00:30 and 09:00 Berlin), one resolved yesterday 23:30 Berlin (22:30 UTC)
        _case("p1-open", h(2), "low", "p1", at(10, 9, 30), 100.0),
        _case("p1-r1", h(20), "low", "p1", at(9, 23, 30), 600.0),
        _case("p1-r2", h(20), "low", "p1", at(10, 8), 1200.0),
        _case("p1-r0", h(30), "low", "p1", at(9, 22, 30), 3000.0),
        # p2: urgent (4 h) created 5 h ago -> breached; urgent created 1 h ago -> due in 3 h
        _case("p2-a", h(5), "urgent", "p2"),
        _case("p2-b", h(1), "urgent", "p2"),
        # p3: three fresh low cases; one resolved today at 06:00 Berlin without a handle time
        *[_case(f"p3-{i}", h(1), "low", "p3") for i in range(3)],
        _case("p3-r", h(10), "low", "p3", at(10, 5), None),
        # p4: normal (48 h) created 45 h ago -> due in 3 h; four low created 100 h ago (due in 20 h)
        _case("p4-a", h(45), "normal", "p4"),
        *[_case(f"p4-{i}", h(100), "low", "p4") for i in range(4)],
        # p5: twelve fresh low cases
        *[_case(f"p5-{i:02d}", h(0.5), "low", "p5") for i in range(12)],
        # p6 (left): nine low cases created 200 h ago -> due 80 h ago, breached
        *[_case(f"p6-{i}", h(200), "low", "p6") for i in range(9)],
        # b1: high (24 h) created exactly 24 h ago -> due exactly at as-of: not breached, due within
        # 4 h; two low created exactly 4 h ago
        _case("b1-a", h(24), "high", "b1"),
        _case("b1-b", h(4), "low", "b1"),
        _case("b1-c", h(4), "low", "b1"),
        # unassigned, 3 h old
        _case("u1", h(3), "low", None),
    ]
    cases = pl.DataFrame(
        rows,
        schema={
            "case_id": pl.String,
            "created_at": pl.Datetime("us", "UTC"),
            "queue": pl.String,
            "priority": pl.String,
            "assigned_agent_id": pl.String,
            "resolved_at": pl.Datetime("us", "UTC"),
            "handle_seconds": pl.Float64,
        },
        orient="row",
    )
    return {"agents": agents, "cases": cases}


@pytest.fixture(scope="module")
def ds():
    return normalize(live_tables())


def by_agent(df: pl.DataFrame) -> dict[str, dict]:
    return {r["agent_id"]: r for r in df.iter_rows(named=True)}


# ---------------------------------------------------------------------------------------------
# normal-load limit
# ---------------------------------------------------------------------------------------------


def test_normal_load_limit_by_hand():
    # sorted 1 2 3 5 12: median 3; Q1 at position 1 + 0.25 * 4 = 2 -> 2; Q3 at 4 -> 5; 3 + 1.5 * 3
    assert lx.normal_load_limit([12, 1, 5, 3, 2]) == 7.5
    # four agents 0 0 2 10: median 1; Q1 at position 1.75 -> 0; Q3 at 3.25 -> 2 + 0.25 * 8 = 4
    assert lx.normal_load_limit([0, 0, 2, 10]) == 1 + 1.5 * 4
    # everybody equal: IQR 0, the limit is the common load
    assert lx.normal_load_limit([4, 4, 4, 4, 4]) == 4.0
    # fewer than 4 active agents: no limit
    assert lx.normal_load_limit([1, 50, 2]) is None
    assert lx.normal_load_limit([]) is None


# ---------------------------------------------------------------------------------------------
# agent-load
# ---------------------------------------------------------------------------------------------


def test_agent_load_by_hand(ds):
    got = lx.agent_load(ds, F, detail=True)
    assert got.columns[:7] == list(TABLES["agent-load"].columns)
    rows = by_agent(got)
    # b2 (active, nothing open, nothing resolved today) is left out of the report
    assert list(rows) == ["b1", "p1", "p2", "p3", "p4", "p5", "p6"]
    expect = {
        # open, at_risk, resolved_today, aht_today_s, limit, above
        "p1": (1, 0, 2, 900.0, 7.5, False),  # today: p1-r1 600 + p1-r2 1200; p1-r0 was yesterday
        "p2": (2, 2, 0, None, 7.5, False),  # p2-a breached + p2-b due in 3 h
        "p3": (3, 0, 1, None, 7.5, False),  # p3-r resolved today without a handle time
        "p4": (5, 1, 0, None, 7.5, False),  # p4-a due in 3 h
        "p5": (12, 0, 0, None, 7.5, True),  # 12 > 7.5
        "p6": (9, 9, 0, None, 7.5, True),  # left, but compared with the team's limit
        "b1": (3, 1, 0, None, None, None),  # team of 2 active agents: no limit
    }
    for a, (n_open, risk, done, aht, limit, above) in expect.items():
        r = rows[a]
        assert (r["open"], r["at_risk"], r["resolved_today"]) == (n_open, risk, done), a
        assert r["aht_today_s"] == aht, a
        assert r["normal_load_limit"] == limit, a
        assert r["above_normal_load"] == above, a
    # the team's norm: its five active agents (p6 left and does not count): 1 2 3 5 12
    assert (rows["p1"]["team_agents"], rows["p1"]["team_median"], rows["p1"]["team_iqr"]) == (5, 3.0, 3.0)
    assert (rows["b1"]["team_agents"], rows["b1"]["team_median"]) == (2, 1.5)  # b1 3, b2 0
    assert rows["p2"]["breached"] == 1 and rows["p2"]["due_within_4h"] == 1
    assert rows["p6"]["active"] is False and rows["p6"]["oldest_age_s"] == 200 * 3600.0


def test_agent_load_agrees_with_the_workload_table(ds):
    load = by_agent(lx.agent_load(ds, F, all_agents=True))
    w = by_agent(workload(ds, F))
    assert set(load) == set(w)  # all_agents lists the workload table's agents (b2 with 0)
    for a, r in w.items():
        assert load[a]["open"] == r["open"]
        assert load[a]["at_risk"] == r["breached"] + r["due_within_4h"]
    assert load["b2"]["open"] == 0 and load["b2"]["above_normal_load"] is None


def test_agent_filter_keeps_the_whole_team_as_the_norm(ds):
    got = by_agent(lx.agent_load(ds, F.with_(agents=("p5",))))
    assert list(got) == ["p5"]
    assert got["p5"]["normal_load_limit"] == 7.5 and got["p5"]["above_normal_load"] is True


def test_team_filter(ds):
    got = by_agent(lx.agent_load(ds, F.with_(teams=(LIVE,))))
    assert list(got) == ["b1"] and got["b1"]["normal_load_limit"] is None


def test_case_filters_apply_to_the_norm(ds):
    # urgent cases only: p1 0, p2 2, p3 0, p4 0, p5 0 -> median 0, IQR 0, limit 0: p2 is above
    got = by_agent(lx.agent_load(ds, F.with_(priorities=("urgent",))))
    assert list(got) == ["p2"]
    assert (got["p2"]["open"], got["p2"]["normal_load_limit"], got["p2"]["above_normal_load"]) == (
        2,
        0.0,
        True,
    )


def test_today_is_the_local_as_of_day(ds):
    assert lx.today(F) == dt.date(2026, 3, 10)
    # in UTC, p1-r0 (22:30 UTC on the 9th) is yesterday as well, and "today" starts at 00:00 UTC
    got = by_agent(lx.agent_load(ds, F.with_(tz="UTC")))
    assert got["p1"]["resolved_today"] == 1 and got["p1"]["aht_today_s"] == 1200.0
    # in Tokyo (UTC+9) it is 18:00 on the 10th; today began at 15:00 UTC on the 9th: all three
    got = by_agent(lx.agent_load(ds, F.with_(tz="Asia/Tokyo")))
    assert got["p1"]["resolved_today"] == 3 and got["p1"]["aht_today_s"] == (600 + 1200 + 3000) / 3


def test_agent_load_on_the_worked_example():
    got = by_agent(lx.agent_load(example_dataset(), EXAMPLE_FILTER))
    # a1: c09 (due Thu 22:00), c11 (due Fri 10:00): 0; a2: c10 due 13:00: 1; a3: c05 breached: 1
    assert {a: (r["open"], r["at_risk"]) for a, r in got.items()} == {
        "a1": (2, 0),
        "a2": (1, 1),
        "a3": (1, 1),
    }
    # T1 has two active agents, T2 one: no limits, no flags; nothing resolved on Thu before 12:00
    assert all(r["normal_load_limit"] is None and r["above_normal_load"] is None for r in got.values())
    assert all(r["resolved_today"] == 0 for r in got.values())


# ---------------------------------------------------------------------------------------------
# open-age
# ---------------------------------------------------------------------------------------------


def test_age_bucket_bounds():
    hour, day = 3600.0, 86400.0
    ages = [0.0, 4 * hour - 1, 4 * hour, day - 1, day, 3 * day, 7 * day - 1, 7 * day, 400 * day]
    got = pl.DataFrame({"age_s": ages}).select(lx.age_bucket())["age_bucket"].to_list()
    assert got == ["< 4 h", "< 4 h", "4-24 h", "4-24 h", "1-3 d", "3-7 d", "3-7 d", ">= 7 d", ">= 7 d"]


def test_open_age_by_hand(ds):
    got = lx.open_age(ds, F, ("age_bucket",))
    # < 4 h: p1-open 2 h, p2-b 1 h, p3 x3 1 h, p5 x12 0.5 h, u1 3 h = 18
    # 4-24 h: p2-a 5 h, b1-b and b1-c exactly 4 h = 3;  1-3 d: p4-a 45 h, b1-a exactly 24 h = 2
    # 3-7 d: p4 x4 100 h = 4;  >= 7 d: p6 x9 200 h = 9
    assert got.rows() == [("< 4 h", 18), ("4-24 h", 3), ("1-3 d", 2), ("3-7 d", 4), (">= 7 d", 9)]
    assert got["open"].sum() == backlog_now(ds, F)["open"].sum() == 36


def test_open_age_by_priority_on_the_worked_example():
    got = lx.open_age(example_dataset(), EXAMPLE_FILTER)
    assert got.columns == list(TABLES["open-age"].columns)
    assert got.rows() == [
        ("< 4 h", "urgent", 1),  # c10, 3 h
        ("4-24 h", "high", 1),  # c09, 14 h
        ("1-3 d", "normal", 1),  # c11, 26 h
        ("3-7 d", "low", 1),  # c05, 144 h
        ("3-7 d", "normal", 1),  # c04, 74 h
    ]


def test_in_age_bucket_lists_the_cases_behind_a_bar(ds):
    open_cases = cases_behind(ds, F, "backlog-now")
    assert sorted(lx.in_age_bucket(open_cases, "1-3 d")["case_id"]) == ["b1-a", "p4-a"]
    assert lx.in_age_bucket(open_cases, ">= 7 d").height == 9
    with pytest.raises(ValueError, match="unknown age bucket"):
        lx.in_age_bucket(open_cases, "ancient")


# ---------------------------------------------------------------------------------------------
# case lists
# ---------------------------------------------------------------------------------------------


def test_due_soonest(ds):
    got = lx.due_soonest(cases_behind(ds, F, "backlog-now"), AS_OF, limit=7)
    # not breached, soonest due first: b1-a due at as-of (0 s); p2-b and p4-a both in 3 h (by id);
    # the four p4 low cases in 20 h; b1-b, b1-c in 116 h
    assert got["case_id"].to_list() == ["b1-a", "p2-b", "p4-a", "p4-0", "p4-1", "p4-2", "p4-3"]
    assert got["due_in_s"].to_list() == [0.0, 3 * 3600.0, 3 * 3600.0] + [20 * 3600.0] * 4
    everything = lx.due_soonest(cases_behind(ds, F, "backlog-now"), AS_OF)
    # 36 open minus p2-a and the nine p6 cases (breached)
    assert everything.height == 26 and not everything["breached"].any()


def test_oldest_first_unassigned(ds):
    got = lx.oldest_first(cases_behind(ds, F, "backlog-now", "unassigned"))
    assert got["case_id"].to_list() == ["u1"] and got["age_s"].to_list() == [3 * 3600.0]
    mine = lx.oldest_first(cases_behind(ds, F, "workload", agent_id="b1"), limit=2)
    assert mine["case_id"].to_list() == ["b1-a", "b1-b"]


# ---------------------------------------------------------------------------------------------
# definitions and properties
# ---------------------------------------------------------------------------------------------


def test_definitions_are_registered():
    for key, table, column in (
        ("open_by_age", "open-age", "open"),
        ("at_risk", "agent-load", "at_risk"),
        ("above_normal_load", "agent-load", "above_normal_load"),
    ):
        d = DEFINITIONS[key]
        assert (d.table, d.column) == (table, column)
        assert not TABLES[table].windowed
    assert "median + 1.5 x IQR" in DEFINITIONS["above_normal_load"].description
    assert "fewer than 4 active agents" in DEFINITIONS["above_normal_load"].description


@settings(max_examples=40, deadline=None)
@given(
    ages=st.lists(st.integers(min_value=1, max_value=20 * 86400), min_size=0, max_size=25),
    prios=st.lists(st.sampled_from(["urgent", "high", "normal", "low"]), min_size=25, max_size=25),
    agents=st.lists(st.sampled_from(["p1", "p2", "p3", "p4", "p5", "b1", None]), min_size=25, max_size=25),
)
def test_buckets_and_load_add_up(ages, prios, agents):
    tables = live_tables()
    rows = [
        (f"x{i}", AS_OF - dt.timedelta(seconds=a), "q", prios[i], agents[i], None, None)
        for i, a in enumerate(ages)
    ]
    cases = pl.DataFrame(rows, schema=tables["cases"].schema, orient="row")
    d = normalize({"agents": tables["agents"], "cases": cases})
    total = backlog_now(d, F)["open"].sum()
    assert lx.open_age(d, F, ("age_bucket",))["open"].sum() == total
    assert lx.open_age(d, F)["open"].sum() == total
    load = lx.agent_load(d, F, all_agents=True)
    assigned = sum(1 for r in rows if r[4] is not None)
    assert load["open"].sum() == assigned
    assert (load["at_risk"] <= load["open"]).all()
    # a flag only where there is a limit, and then exactly open > limit
    for r in load.iter_rows(named=True):
        if r["normal_load_limit"] is None:
            assert r["above_normal_load"] is None
        else:
            assert r["above_normal_load"] == (r["open"] > r["normal_load_limit"])
