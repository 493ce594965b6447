"""Demo data: determinism, the contract, time invariants, the stories every page relies on, and
writing to SQLite, PostgreSQL, Parquet and CSV (read back and compared)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tsdash import demo
from tsdash.dataset import normalize
from tsdash.schema import CONTRACT, TABLE_NAMES
from tsdash.sources.write import WriteError, write_tables

NOW = dt.datetime(2026, 3, 20, 14, 37, tzinfo=dt.UTC)
SMALL = {"days": 14, "agents": 8, "seed": 3, "now": NOW}
QUEUES = {
    "payments_fraud",
    "seller_policy",
    "buyer_disputes",
    "livestream_moderation",
    "account_security",
    "counterfeit",
}
REASONS = {"legal", "payments_team", "policy_unclear", "high_value_seller", "law_enforcement"}
CRITERIA = {"policy_accuracy", "action_correctness", "documentation", "communication"}


@pytest.fixture(scope="module")
def small() -> dict[str, pl.DataFrame]:
    return demo.generate(**SMALL)


@pytest.fixture(scope="module")
def full() -> dict[str, pl.DataFrame]:
    """The default demo (36 agents, 90 days) anchored at NOW."""
    return demo.generate(now=NOW)


def resolved(cases: pl.DataFrame) -> pl.DataFrame:
    return cases.filter(pl.col("resolved_at").is_not_null())


# --------------------------------------------------------------------------- contract & determinism


def test_same_seed_same_frames_and_other_seed_differs(small):
    again = demo.generate(**SMALL)
    for name in TABLE_NAMES:
        assert_frame_equal(small[name], again[name])
    other = demo.generate(**{**SMALL, "seed": 4})
    assert not other["cases"].equals(small["cases"])
    assert not other["qa_reviews"].equals(small["qa_reviews"])


@pytest.mark.parametrize("which", ["small", "full"])
def test_tables_have_exactly_the_contract_columns_and_dtypes(which, request):
    tables = request.getfixturevalue(which)
    assert set(tables) == set(TABLE_NAMES)
    for name, frame in tables.items():
        assert frame.schema == pl.Schema(CONTRACT[name].dtypes), name
        assert frame.height > 0, name


def test_normalize_accepts_the_output_unchanged(small):
    ds = normalize(small)
    assert ds.present == frozenset(TABLE_NAMES)
    assert ds.cases.height == small["cases"].height
    assert ds.cases["due_at"].null_count() == 0
    # escalated is given explicitly and agrees with escalated_at
    assert ds.cases["escalated"].to_list() == small["cases"]["escalated_at"].is_not_null().to_list()
    assert ds.cases["team"].null_count() == small["cases"]["assigned_agent_id"].null_count()


def test_ids_are_zero_padded_unique_and_in_creation_order(full):
    cases = full["cases"]
    assert cases["case_id"].str.contains(r"^C\d{7}$").all()
    assert cases["case_id"].n_unique() == cases.height
    assert cases["case_id"].is_sorted()
    assert cases["created_at"].is_sorted()
    reviews = full["qa_reviews"]
    assert reviews["review_id"].str.contains(r"^R\d{6}$").all()
    assert reviews["review_id"].n_unique() == reviews.height
    assert full["agents"]["agent_id"].to_list()[:3] == ["A01", "A02", "A03"]


def test_case_count_follows_cases_argument_and_default_volume(full):
    assert demo.generate(**{**SMALL, "cases": 3_000})["cases"].height == 3_000
    per_agent_day = full["cases"].height / (36 * 90)
    assert 25 <= per_agent_day <= 30


def test_zero_cases_gives_empty_tables_with_the_contract_schema():
    t = demo.generate(**{**SMALL, "cases": 0})
    for name in ("cases", "qa_reviews", "qa_criteria", "events"):
        assert t[name].height == 0
        assert t[name].schema == pl.Schema(CONTRACT[name].dtypes)
    assert t["agents"].height == 8


@pytest.mark.parametrize("kwargs", [{"days": 0}, {"agents": 0}, {"cases": -1}])
def test_bad_arguments_raise_a_clear_error(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        demo.generate(**{**SMALL, **kwargs})


def test_naive_now_is_read_as_utc():
    naive = demo.generate(**{**SMALL, "now": NOW.replace(tzinfo=None), "cases": 500})
    aware = demo.generate(**{**SMALL, "cases": 500})
    assert_frame_equal(naive["cases"], aware["cases"])


# --------------------------------------------------------------------------- time invariants


@pytest.mark.parametrize("which", ["small", "full"])
def test_nothing_happens_after_now_and_cases_start_in_the_window(which, request):
    tables = request.getfixturevalue(which)
    days = 14 if which == "small" else 90
    for name, frame in tables.items():
        for col in CONTRACT[name].time_columns():
            if col == "sla_due_at":  # a due time may lie in the future
                continue
            latest = frame[col].max()
            assert latest is None or latest <= NOW, (name, col, latest)
    start = NOW - dt.timedelta(days=days)
    assert tables["cases"]["created_at"].min() >= start
    assert tables["shifts"]["start"].min() >= start


@pytest.mark.parametrize("which", ["small", "full"])
def test_case_timestamps_are_ordered(which, request):
    c = request.getfixturevalue(which)["cases"]
    bad = c.filter(
        (pl.col("first_response_at") < pl.col("created_at"))
        | (pl.col("resolved_at") < pl.col("first_response_at"))
        | (pl.col("resolved_at") < pl.col("created_at"))
        | (pl.col("escalated_at") < pl.col("first_response_at"))
        | (pl.col("escalated_at") > pl.col("resolved_at"))
        | (pl.col("escalation_resolved_at") < pl.col("escalated_at"))
        | (pl.col("escalation_resolved_at") > pl.col("resolved_at"))
        | (pl.col("resolved_at").is_not_null() & pl.col("first_response_at").is_null())
        | (pl.col("first_response_at").is_not_null() & pl.col("assigned_agent_id").is_null())
        | (pl.col("escalation_resolved_at").is_not_null() & pl.col("escalated_at").is_null())
    )
    assert bad.height == 0, bad.head()


def test_columns_agree_with_each_other(full):
    c = full["cases"]
    is_res = pl.col("resolved_at").is_not_null()
    assert c.filter(is_res != (pl.col("status") == "resolved")).height == 0
    assert c.filter(is_res != pl.col("handle_seconds").is_not_null()).height == 0
    assert c.filter(is_res != pl.col("outcome").is_not_null()).height == 0
    assert c.filter(pl.col("escalated") != pl.col("escalated_at").is_not_null()).height == 0
    assert c.filter(pl.col("escalated") != pl.col("escalation_reason").is_not_null()).height == 0
    assert set(c["escalation_reason"].drop_nulls().unique()) == REASONS
    assert set(c["status"].unique()) == {"open", "pending", "resolved"}
    assert c["handle_seconds"].min() >= 20
    # open cases waiting on an escalation are "pending"
    assert c.filter(pl.col("escalated") & pl.col("escalation_resolved_at").is_null())[
        "status"
    ].unique().to_list() == ["pending"]


def test_events_match_the_case_timeline(full):
    c, ev = full["cases"], full["events"]
    assert set(ev["event_type"].unique()) == {
        "created",
        "assigned",
        "first_response",
        "escalated",
        "escalation_resolved",
        "resolved",
        "reopened",
    }
    created = ev.filter(pl.col("event_type") == "created").select("case_id", pl.col("ts").alias("created_at"))
    assert created.height == c.height
    assert_frame_equal(created.sort("case_id"), c.select("case_id", "created_at"))
    counts = ev.group_by("event_type").len().to_dict(as_series=False)
    counts = dict(zip(counts["event_type"], counts["len"], strict=True))
    assert counts["assigned"] == c["assigned_agent_id"].drop_nulls().len()
    assert counts["first_response"] == c["first_response_at"].drop_nulls().len()
    assert counts["escalated"] == c["escalated"].sum()
    assert counts["reopened"] == c.filter(pl.col("reopened_count") > 0).height
    last_resolved = ev.filter(pl.col("event_type") == "resolved").group_by("case_id").agg(pl.col("ts").max())
    joined = resolved(c).join(last_resolved, on="case_id", how="left")
    assert joined.filter(pl.col("ts") != pl.col("resolved_at")).height == 0
    assert joined["ts"].null_count() == 0
    # the acting agent is the assigned one
    acted = ev.filter(pl.col("event_type").is_in(["assigned", "first_response", "resolved"])).join(
        c.select("case_id", "assigned_agent_id"), on="case_id"
    )
    assert acted.filter(pl.col("agent_id") != pl.col("assigned_agent_id")).height == 0
    # events come sorted by case, then time
    assert ev["case_id"].is_sorted()


# --------------------------------------------------------------------------- shape of the data


def test_agents_teams_leads_and_names(full):
    a = full["agents"]
    assert a.height == 36
    assert a["team"].n_unique() == 3
    assert a.group_by("team").agg(pl.col("lead").n_unique())["lead"].to_list() == [1, 1, 1]
    assert a["name"].n_unique() == 36
    names = a["name"].to_list()
    assert "Zoë O'Brien" in names
    assert any(not n.isascii() for n in names) and any("'" in n for n in names)
    assert a.filter(~pl.col("active"))["agent_id"].to_list() == [demo.ROLES["leaver"]]


def test_queues_types_priorities_channels(full):
    c = full["cases"]
    assert set(c["queue"].unique()) == QUEUES
    types = c.group_by("queue").agg(pl.col("case_type").n_unique())
    assert types["case_type"].is_between(2, 3).all()
    assert set(c["priority"].unique()) == {"urgent", "high", "normal", "low"}
    assert set(c["channel"].unique()) == {
        "user_report",
        "automated_detection",
        "api",
        "livestream",
        "support_escalation",
    }
    live = c.filter(pl.col("queue") == "livestream_moderation")
    assert live["priority"].is_in(["urgent", "high"]).mean() > 0.8
    assert c.filter(pl.col("queue") != "livestream_moderation")["priority"].is_in(["urgent"]).mean() < 0.2


def test_arrivals_have_daily_and_weekly_seasonality(full):
    c = full["cases"].with_columns(local=pl.col("created_at").dt.convert_time_zone("Europe/Berlin"))
    live = c.filter(pl.col("queue") == "livestream_moderation")
    by_hour = live.group_by(pl.col("local").dt.hour().alias("h")).len()
    evening = by_hour.filter(pl.col("h").is_between(19, 22))["len"].mean()
    morning = by_hour.filter(pl.col("h").is_between(6, 9))["len"].mean()
    assert evening > 3 * morning
    weekend = live.filter(pl.col("local").dt.weekday() >= 6).height / 2
    weekday = live.filter(pl.col("local").dt.weekday() <= 5).height / 5
    assert weekend > 1.3 * weekday
    other = c.filter(pl.col("queue") == "seller_policy")
    night = other.filter(pl.col("local").dt.hour() <= 4).height
    day = other.filter(pl.col("local").dt.hour().is_between(10, 14)).height
    assert day > 4 * night


@pytest.mark.parametrize("which", ["small", "full"])
def test_escalation_and_qa_shares(which, request):
    t = request.getfixturevalue(which)
    c = t["cases"]
    assert 0.06 <= c["escalated"].mean() <= 0.10
    share = t["qa_reviews"].height / resolved(c).height
    assert 0.05 <= share <= 0.10
    assert 0.01 <= (c["reopened_count"] > 0).mean() <= 0.05


def test_escalations_mostly_resolved(full):
    esc = full["cases"].filter(pl.col("escalated"))
    assert esc["escalation_resolved_at"].is_not_null().mean() > 0.9


def test_sla_due_at_is_set_for_a_small_share(full):
    due = full["cases"]["sla_due_at"]
    assert 0 < due.is_not_null().mean() < 0.05


def test_qa_reviews_criteria_and_timing(full):
    c, r, k = full["cases"], full["qa_reviews"], full["qa_criteria"]
    j = r.join(c.select("case_id", "assigned_agent_id", "resolved_at"), on="case_id", how="left")
    assert j["resolved_at"].null_count() == 0
    assert (j["agent_id"] == j["assigned_agent_id"]).all()
    lag = (j["reviewed_at"] - j["resolved_at"]).dt.total_seconds() / 86400
    assert lag.min() >= 1 and lag.max() <= 5
    assert r["score"].is_between(0, 100).all() and k["score"].is_between(0, 100).all()
    assert set(k["criterion"].unique()) == CRITERIA
    per = k.group_by("review_id").agg(pl.len(), pl.col("score").mean().round(1).alias("mean"))
    assert (per["len"] == 4).all()
    chk = r.join(per, on="review_id")
    assert chk.height == r.height
    assert (chk["score"] - chk["mean"]).abs().max() < 1e-9
    assert 0.015 <= r["critical_error"].mean() <= 0.05
    comments = r["comment"].drop_nulls()
    assert comments.len() > 0.5 * r.height
    assert comments.str.contains("<b>", literal=True).any()
    assert comments.str.contains("$", literal=True).any()
    assert comments.str.contains("*", literal=True).any()


def test_open_backlog_at_now(full):
    c = normalize(full).cases
    open_ = c.filter(pl.col("resolved_at").is_null())
    assert 100 <= open_.height <= 3000
    assert open_["assigned_agent_id"].null_count() > 0  # unassigned
    assert open_.filter(pl.col("escalated")).height > 0  # escalated, still open
    assert open_.filter(pl.col("due_at") < NOW).height > 0  # breached
    assert open_.filter(pl.col("status") == "pending").height > 0


# --------------------------------------------------------------------------- stories


def _daily_fraud(cases: pl.DataFrame) -> pl.DataFrame:
    local = pl.col("created_at").dt.convert_time_zone("Europe/Berlin")
    first, last = cases["created_at"].min(), NOW
    return (
        cases.filter(pl.col("queue") == "payments_fraud")
        .filter(
            pl.col("created_at") >= first + dt.timedelta(days=1),
            pl.col("created_at") < last - dt.timedelta(days=1),
        )
        .group_by(local.dt.date().alias("day"))
        .len()
        .sort("day")
    )


def test_fraud_wave_triples_inflow_builds_a_backlog_and_recovers(full):
    info = demo.describe(now=NOW)
    wave_start, wave_end = info["fraud_wave"]
    assert dt.timedelta(weeks=3) <= NOW - wave_start <= dt.timedelta(weeks=5)
    assert dt.timedelta(days=5) <= wave_end - wave_start <= dt.timedelta(days=7)
    daily = _daily_fraud(full["cases"])
    assert daily["len"].max() / daily["len"].median() >= 2.5
    peak_day = daily.filter(pl.col("len") == pl.col("len").max())["day"][0]
    assert wave_start.date() <= peak_day <= wave_end.date()

    cases = normalize(full).cases.filter(pl.col("queue") == "payments_fraud")

    def backlog(at: dt.datetime) -> tuple[int, int]:
        b = cases.filter(
            pl.col("created_at") <= at, pl.col("resolved_at").is_null() | (pl.col("resolved_at") > at)
        )
        return b.height, b.filter(pl.col("due_at") < at).height

    before, breached_before = backlog(wave_start - dt.timedelta(days=7))
    during, _ = backlog(wave_end - dt.timedelta(days=1))
    _, breached_after_peak = backlog(wave_end + dt.timedelta(days=1))
    after, _ = backlog(wave_end + dt.timedelta(days=14))
    assert during > 5 * before
    assert breached_after_peak > 5 * max(breached_before, 1)
    assert after < 2 * before


def test_sla_attainment_is_realistic_and_drops_in_the_wave(full):
    wave_start, wave_end = demo.describe(now=NOW)["fraud_wave"]
    c = normalize(full).cases.filter(pl.col("due_at") <= NOW)
    met = pl.col("resolved_at").is_not_null() & (pl.col("resolved_at") <= pl.col("due_at"))
    quiet = c.filter(
        (pl.col("created_at") < wave_start - dt.timedelta(days=1))
        | (pl.col("created_at") > wave_end + dt.timedelta(days=10))
    )
    assert 0.85 <= quiet.select(met.mean()).item() <= 0.95
    wave = c.filter(
        pl.col("queue") == "payments_fraud", pl.col("created_at").is_between(wave_start, wave_end)
    )
    assert wave.select(met.mean()).item() < 0.75


def _agent_cases(full, agent_id: str) -> pl.DataFrame:
    return resolved(full["cases"]).filter(pl.col("assigned_agent_id") == agent_id)


def test_new_hire_learns_week_by_week_and_takes_fewer_cases(full):
    nh = demo.ROLES["new_hire"]
    hired = full["agents"].filter(pl.col("agent_id") == nh)["hired_on"][0]
    assert dt.timedelta(weeks=6) <= NOW.date() - hired <= dt.timedelta(weeks=8)
    mine = _agent_cases(full, nh).with_columns(
        week=((pl.col("first_response_at").dt.date() - pl.lit(hired)).dt.total_days() // 7)
    )
    weekly = mine.group_by("week").agg(pl.col("handle_seconds").mean()).sort("week")
    full_weeks = weekly.filter(pl.col("week") < (NOW.date() - hired).days // 7)
    assert full_weeks.height >= 6
    first2 = mine.filter(pl.col("week") <= 1)["handle_seconds"].mean()
    last2 = mine.filter(pl.col("week").is_in(full_weeks["week"].tail(2).to_list()))["handle_seconds"].mean()
    assert last2 <= 0.7 * first2
    # fewer cases per shift hour than any tenured teammate
    hours = (
        full["shifts"]
        .group_by("agent_id")
        .agg(((pl.col("end") - pl.col("start")).dt.total_seconds().sum() / 3600).alias("h"))
    )
    rate = (
        resolved(full["cases"])
        .group_by(pl.col("assigned_agent_id").alias("agent_id"))
        .len()
        .join(hours, on="agent_id")
    )
    rate = rate.with_columns(per_hour=pl.col("len") / pl.col("h"))
    team = full["agents"].filter(pl.col("agent_id") == nh)["team"][0]
    mates = full["agents"].filter(pl.col("team") == team, pl.col("agent_id") != nh)["agent_id"]
    mine_rate = rate.filter(pl.col("agent_id") == nh)["per_hour"][0]
    assert mine_rate < 0.8 * rate.filter(pl.col("agent_id").is_in(mates.to_list()))["per_hour"].min()


def test_slow_accurate_and_fast_error_prone_agents(full):
    aht = resolved(full["cases"]).group_by("assigned_agent_id", "queue").agg(pl.col("handle_seconds").mean())
    # compare within queues so the queue mix does not matter: ratio to the queue's median agent
    ratio = aht.with_columns(
        (pl.col("handle_seconds") / pl.col("handle_seconds").median().over("queue")).alias("r")
    )
    by_agent = ratio.group_by("assigned_agent_id").agg(pl.col("r").median())
    r = dict(zip(by_agent["assigned_agent_id"], by_agent["r"], strict=True))
    slow, fast = demo.ROLES["slow_accurate"], demo.ROLES["fast_error_prone"]
    assert r[slow] >= 1.3
    assert r[fast] <= 0.7
    qa = full["qa_reviews"].group_by("agent_id").agg(pl.col("score").mean(), pl.col("critical_error").mean())
    q = {row[0]: row[1:] for row in qa.iter_rows()}
    assert q[slow][0] >= 92 and q[fast][0] <= 78
    overall = full["qa_reviews"]["critical_error"].mean()
    assert q[fast][1] >= 3 * overall


def test_slipping_agent_drops_ten_points_mostly_in_documentation(full):
    ag = demo.ROLES["slipping"]
    r = full["qa_reviews"].filter(pl.col("agent_id") == ag)
    recent = pl.col("reviewed_at") > NOW - dt.timedelta(weeks=4)
    before, after = r.filter(~recent)["score"].mean(), r.filter(recent)["score"].mean()
    assert before >= 85
    assert after <= before - 10
    k = full["qa_criteria"].join(r.select("review_id", recent.alias("recent")), on="review_id")
    drop = k.group_by("criterion").agg(
        (
            pl.col("score").filter(~pl.col("recent")).mean() - pl.col("score").filter(pl.col("recent")).mean()
        ).alias("d")
    )
    d = dict(zip(drop["criterion"], drop["d"], strict=True))
    assert max(d, key=d.get) == "documentation"
    assert d["documentation"] >= 25


def test_leaver_stops_working_when_they_leave(full):
    leaver = demo.ROLES["leaver"]
    left = demo.describe(now=NOW)["leaver_left"]
    shifts = full["shifts"].filter(pl.col("agent_id") == leaver)
    assert shifts.height > 0 and shifts["start"].max().date() <= left
    picked = full["events"].filter(pl.col("event_type") == "assigned", pl.col("agent_id") == leaver)
    assert picked["ts"].max().date() <= left


def test_shifts_cover_every_agent_evenings_and_fit_the_work(full):
    sh = full["shifts"]
    assert sh["agent_id"].n_unique() == 36
    hours = (sh["end"] - sh["start"]).dt.total_seconds() / 3600
    assert hours.filter(sh["end"] < NOW).is_between(8, 10).all()  # 9 h; DST nights 8 or 10
    local_start = sh["start"].dt.convert_time_zone("Europe/Berlin").dt.hour()
    assert (local_start == 14).mean() > 0.2  # late shifts staff the evening peak
    per_week = sh.group_by("agent_id", pl.col("start").dt.week().alias("w")).len()["len"]
    assert per_week.max() <= 7 and per_week.median() == 5
    # utilisation: handle time / shift time, per agent
    work = (
        resolved(full["cases"])
        .group_by(pl.col("assigned_agent_id").alias("agent_id"))
        .agg(pl.col("handle_seconds").sum())
    )
    shift_s = sh.group_by("agent_id").agg(
        (pl.col("end") - pl.col("start")).dt.total_seconds().sum().alias("s")
    )
    util = work.join(shift_s, on="agent_id").with_columns(u=pl.col("handle_seconds") / pl.col("s"))["u"]
    assert 0.6 <= util.median() <= 0.85
    assert util.max() <= 0.95


def test_small_windows_still_tell_the_stories(small):
    info = demo.describe(days=14, now=NOW)
    ws, we = info["fraud_wave"]
    assert NOW - dt.timedelta(days=14) < ws < we < NOW
    assert set(demo.ROLES.values()) <= set(small["agents"]["agent_id"])


# --------------------------------------------------------------------------- writing


def _first_resolved(tables) -> tuple[str, dt.datetime]:
    row = resolved(tables["cases"]).row(0, named=True)
    return row["case_id"], row["resolved_at"]


def test_sqlite_round_trip(small, tmp_path):
    path = tmp_path / "demo.sqlite"
    write_tables(small, f"sqlite:///{path}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.sqlite"]  # no temp / WAL files left
    con = sqlite3.connect(path)
    try:
        for name, frame in small.items():
            assert con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == frame.height
        case_id, ts = _first_resolved(small)
        (text,) = con.execute("SELECT resolved_at FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        assert text == ts.strftime("%Y-%m-%d %H:%M:%S.%f")  # naive UTC text, microseconds
        assert dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC) == ts
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert set(con.execute("SELECT DISTINCT escalated FROM cases").fetchall()) == {(0,), (1,)}
        hired = small["agents"]["hired_on"][0]
        assert (
            con.execute("SELECT hired_on FROM agents WHERE agent_id = 'A01'").fetchone()[0]
            == hired.isoformat()
        )
        indexes = {r[0] for r in con.execute("SELECT sql FROM sqlite_master WHERE type = 'index'")}
        for table, col in [
            ("cases", "created_at"),
            ("cases", "resolved_at"),
            ("qa_reviews", "reviewed_at"),
            ("events", "case_id"),
        ]:
            assert any(f'ON "{table}" ("{col}")' in s for s in indexes), (table, col)
    finally:
        con.close()
    # and through polars + ADBC: every frame comes back equal once text is parsed as UTC
    back = pl.read_database_uri("SELECT * FROM cases", f"sqlite:///{path}", engine="adbc")
    back = back.with_columns(
        pl.col(c).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC")
        for c in CONTRACT["cases"].time_columns()
    ).with_columns(pl.col("escalated").cast(pl.Boolean))
    assert_frame_equal(back, small["cases"], check_dtypes=False)


def test_sqlite_path_without_url_and_replace_is_atomic(small, tmp_path):
    path = tmp_path / "sub" / "demo.db"
    write_tables(small, str(path))
    with pytest.raises(WriteError, match="already exists"):
        write_tables(small, str(path), if_exists="fail")
    # a failing write leaves the previous database intact and no temporary file behind
    broken = {**small, "cases": small["cases"].with_columns(bad=pl.lit([1, 2]))}
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
        write_tables(broken, str(path))
    assert sorted(p.name for p in path.parent.iterdir()) == ["demo.db"]
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == small["cases"].height
    finally:
        con.close()
    # replacing while a reader holds the old file open works; new readers see the new data
    reader = sqlite3.connect(path)
    reader.execute("SELECT count(*) FROM cases").fetchone()
    fewer = {**small, "cases": small["cases"].head(10)}
    write_tables(fewer, str(path))
    reader.close()
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == 10
    finally:
        con.close()


def test_parquet_folder_round_trip_is_exact(small, tmp_path):
    out = tmp_path / "pq"
    write_tables(small, str(out))
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in TABLE_NAMES)
    for name, frame in small.items():
        assert_frame_equal(pl.read_parquet(out / f"{name}.parquet"), frame)


def test_csv_folder_round_trip(small, tmp_path):
    out = tmp_path / "csv"
    write_tables(small, str(out), fmt="csv")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.csv" for t in TABLE_NAMES)
    cases = pl.read_csv(out / "cases.csv", infer_schema=False)
    assert cases.height == small["cases"].height
    case_id, ts = _first_resolved(small)
    text = cases.filter(pl.col("case_id") == case_id)["resolved_at"][0]
    assert text.endswith("Z")
    assert dt.datetime.fromisoformat(text) == ts
    assert set(cases["escalated"].unique()) == {"true", "false"}
    names = pl.read_csv(out / "agents.csv")["name"].to_list()
    assert "Zoë O'Brien" in names
    # switching the folder to Parquet removes the CSV files (never two versions of a table)
    write_tables(small, str(out), fmt="parquet")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in TABLE_NAMES)


def test_naive_timestamps_are_written_as_utc(tmp_path):
    frame = pl.DataFrame(
        {"agent_id": ["A1"], "start": [dt.datetime(2026, 1, 1, 8)], "end": [dt.datetime(2026, 1, 1, 17)]}
    )
    write_tables({"shifts": frame}, str(tmp_path / "x.sqlite"))
    con = sqlite3.connect(tmp_path / "x.sqlite")
    try:
        assert con.execute("SELECT start FROM shifts").fetchone()[0] == "2026-01-01 08:00:00.000000"
    finally:
        con.close()
    write_tables({"shifts": frame}, str(tmp_path / "pq"))
    back = pl.read_parquet(tmp_path / "pq" / "shifts.parquet")
    assert back["start"][0] == dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("out", "kw", "match"),
    [
        ("mysql://u@h/db", {}, "only sqlite"),
        ("sqlite:///:memory:", {}, "in-memory"),
        ("folder", {"fmt": "xlsx"}, "fmt"),
        ("folder", {"if_exists": "append"}, "if_exists"),
    ],
)
def test_bad_targets_get_a_clear_error(small, tmp_path, out, kw, match):
    target = out if "://" in out else str(tmp_path / out)
    with pytest.raises(WriteError, match=match):
        write_tables({"agents": small["agents"]}, target, **kw)


def test_generate_to_writes_and_counts(tmp_path):
    counts = demo.generate_to(str(tmp_path / "d.sqlite"), **{**SMALL, "cases": 800})
    assert counts["cases"] == 800
    con = sqlite3.connect(tmp_path / "d.sqlite")
    try:
        for name, n in counts.items():
            assert con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == n
    finally:
        con.close()
    counts = demo.generate_to(str(tmp_path / "csv"), fmt="csv", **{**SMALL, "cases": 800})
    assert (tmp_path / "csv" / "cases.csv").exists()


@pytest.mark.postgres
def test_postgres_round_trip(small, pg_url):
    import psycopg

    schema = f"demo_{uuid.uuid4().hex[:10]}"
    libpq = pg_url.replace("postgresql+psycopg://", "postgresql://")
    try:
        write_tables(small, pg_url, schema=schema)
        with psycopg.connect(libpq) as con:
            for name, frame in small.items():
                assert con.execute(f'SELECT count(*) FROM {schema}."{name}"').fetchone()[0] == frame.height
            case_id, ts = _first_resolved(small)
            got = con.execute(
                f"SELECT resolved_at FROM {schema}.cases WHERE case_id = %s", (case_id,)
            ).fetchone()[0]
            assert got == ts  # aware datetimes compare as instants
            kind = con.execute(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = 'cases' "
                "AND column_name = 'resolved_at'",
                (schema,),
            ).fetchone()[0]
            assert kind == "timestamp with time zone"
        with pytest.raises(WriteError, match="already exist"):
            write_tables(small, pg_url, schema=schema, if_exists="fail")
        write_tables({"cases": small["cases"].head(5)}, pg_url, schema=schema)  # replace
        with psycopg.connect(libpq) as con:
            assert con.execute(f"SELECT count(*) FROM {schema}.cases").fetchone()[0] == 5
    finally:
        with psycopg.connect(libpq, autocommit=True) as con:
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


# --------------------------------------------------------------------------- property test


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    days=st.integers(1, 21),
    agents=st.integers(1, 12),
    seed=st.integers(0, 2**31),
    now=st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2027, 12, 31), timezones=st.just(dt.UTC)),
)
def test_invariants_hold_for_any_small_configuration(days, agents, seed, now):
    t = demo.generate(days=days, agents=agents, seed=seed, now=now)
    for name, frame in t.items():
        assert frame.schema == pl.Schema(CONTRACT[name].dtypes)
        for col in CONTRACT[name].time_columns():
            latest = frame[col].max()
            assert col == "sla_due_at" or latest is None or latest <= now, (name, col)
    c = t["cases"]
    assert c["created_at"].min() >= now - dt.timedelta(days=days)
    assert c["case_id"].n_unique() == c.height
    bad = c.filter(
        (pl.col("first_response_at") < pl.col("created_at"))
        | (pl.col("resolved_at") < pl.col("first_response_at"))
        | (pl.col("escalated_at") > pl.col("resolved_at"))
        | (pl.col("escalation_resolved_at") < pl.col("escalated_at"))
        | (pl.col("resolved_at").is_not_null() != (pl.col("status") == "resolved"))
    )
    assert bad.height == 0
    assert set(c["assigned_agent_id"].drop_nulls().unique()) <= set(t["agents"]["agent_id"])
    assert t["qa_reviews"]["case_id"].is_in(c["case_id"].implode()).all()
    assert t["events"].height >= c.height
    normalize(t)
