"""`tsdash metrics` reads only its window (with the history before it the reports need) and
only the tables the report reads (docs/PERFORMANCE.md remedy F): every report prints exactly
what it prints on the whole dataset."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import sqlite3

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tsdash.cli import main
from tsdash.config import Settings, SourceConfig
from tsdash.demo import generate_to
from tsdash.metrics import cli as mcli
from tsdash.metrics.core import MetricError
from tsdash.metrics.filters import Filter
from tsdash.metrics.registry import TABLES
from tsdash.sources import Scope, SourceError, load_dataset
from tsdash.sources.scope import INPUT_CASE_COLUMNS, UNREADABLE_CASE_COLUMNS

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
TZ = "Europe/Berlin"
# 240 days of history; the window is its last three weeks, so the scope (the window, 130 days
# before it, rounded down to a month) leaves out about two months of old cases
WINDOW = ["--from", "2026-11-02", "--to", "2026-11-22", "--tz", TZ, "--as-of", NOW.isoformat()]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli") / "demo"
    generate_to(str(d), days=240, agents=10, seed=11, now=NOW, fmt="parquet")
    return Settings(source=SourceConfig(location=str(d)))


@pytest.fixture(scope="module")
def full(source):
    return load_dataset(source)


def _run(settings, argv, loader, pushdown):
    parser = argparse.ArgumentParser()
    mcli.add_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    rc = mcli.run(parser.parse_args(argv), loader, settings, stdout=out, stderr=err, pushdown=pushdown)
    assert rc == 0 and err.getvalue() == "", err.getvalue()
    return out.getvalue()


def _same_csv(got: str, want: str) -> None:
    """Same rows, columns and values; floats to 1e-12 (the engine sums floats in parallel, so the
    last bit of a mean may differ between two runs on the same data)."""
    if got == want:
        return
    a, b = (pl.read_csv(io.StringIO(t), infer_schema_length=None) for t in (got, want))
    assert_frame_equal(a, b, rel_tol=1e-12, abs_tol=0)


def test_the_scope_is_a_strict_part_of_the_history(source, full):
    f = Filter(dt.date(2026, 11, 2), dt.date(2026, 11, 22), tz=TZ, as_of=NOW)
    scope, tables = mcli.load_plan("flow", f)
    assert tables == ("cases", "agents")
    ds = load_dataset(source, scope, tables)
    assert 0 < ds.cases.height < 0.8 * full.cases.height
    assert ds.read_tables == frozenset({"cases", "agents"}) and ds.events.height == 0


EXTRAS = {
    "all": [],
    "queue": ["--queue", "payments_fraud"],
    "case_type": ["--case-type", "chargeback_abuse"],
    "channel": ["--channel", "livestream"],
    "priority": ["--priority", "urgent"],
    "team": ["--team", "Buyer & Live"],
    "agent": ["--agent", "A03"],
}
# the informational columns no report shows: never read by `tsdash metrics`
INFORMATIONAL = ("escalation_reason", "outcome", "status")
# the reports that read no input column (priority, the assignee, the team) unless grouped or
# filtered by one: a plain load of them leaves all three out
NO_INPUTS = (
    "flow",
    "handle-time",
    "escalations",
    "first-response",
    "resolution-time",
    "reopens",
    "escalation-turnaround",
    "arrivals",
)


def _want_inputs(name: str, extra: list[str], by: set[str]) -> set[str]:
    """The input columns a plan must read, written out from the rule (not from the code's
    own ``case_inputs_for``): what the report reads itself, priority for a priority filter or
    grouping, the assignee for an agent filter or grouping, the assignee and the team for a
    team's."""
    want = set() if name in NO_INPUTS else set(INPUT_CASE_COLUMNS)
    if "--priority" in extra or "priority" in by:
        want.add("priority")
    if "--agent" in extra or "agent_id" in by:
        want.add("assigned_agent_id")
    if "--team" in extra or "team" in by:
        want |= {"assigned_agent_id", "team"}
    return want


@pytest.mark.parametrize("name", list(TABLES))
@pytest.mark.parametrize("extra", list(EXTRAS))
def test_every_report_is_the_same_with_pushdown(source, full, name, extra):
    """Every report, with no filter, a queue, a case type, a channel, a priority, a team and an
    agent: the plan's rows, tables and columns give what a load of everything gives. The
    columns no report looks at are not read: a case type or channel only when it filters,
    priority, the assignee and the team only when the report needs them."""
    seen = {}
    extra = EXTRAS[extra]

    def scoped(src, tz, scope, tables):
        seen["scope"], seen["tables"] = scope, tables
        return load_dataset(source, scope, tables)

    argv = [name, *WINDOW, *extra]
    want = _run(source, argv, lambda src, tz: full, pushdown=False)
    got = _run(source, argv, scoped, pushdown=True)
    _same_csv(got, want)
    assert want.count("\n") > 1  # a header and rows
    assert seen["scope"].since is not None and seen["tables"] == mcli.TABLES_READ[name]
    filtered = {"--case-type": "case_type", "--channel": "channel"}.get(extra[0] if extra else "")
    by = set(TABLES[name].default_by)
    want_unread = {c for c in UNREADABLE_CASE_COLUMNS if c != filtered and c not in by}
    want_unread |= set(INPUT_CASE_COLUMNS) - _want_inputs(name, extra, by)
    assert set(seen["scope"].unread) == want_unread and set(INFORMATIONAL) <= want_unread


@pytest.mark.parametrize("name", NO_INPUTS)
@pytest.mark.parametrize("key", ["team", "agent_id", "priority"])
def test_grouped_by_team_agent_or_priority_reads_its_input(source, full, name, key):
    """A report that needs neither input column reads the one its grouping needs, and gives
    what a load of everything gives."""
    if key not in TABLES[name].allowed_by:
        pytest.skip(f"{name} cannot be grouped by {key}")
    seen = {}

    def scoped(src, tz, scope, tables):
        seen["scope"] = scope
        return load_dataset(source, scope, tables)

    argv = [name, *WINDOW, "--by", f"{key},week" if "week" in TABLES[name].allowed_by else key]
    want = _run(source, argv, lambda src, tz: full, pushdown=False)
    got = _run(source, argv, scoped, pushdown=True)
    _same_csv(got, want)
    needed = {"priority": {"priority"}, "agent_id": {"assigned_agent_id"}}.get(
        key, {"assigned_agent_id", "team"}
    )
    assert not needed & set(seen["scope"].unread)
    assert set(INPUT_CASE_COLUMNS) - needed <= set(seen["scope"].unread)


def test_a_load_without_an_input_column_holds_nulls_not_made_up_values(source, full):
    """Without priority the due time is unknown (null, not created + the default target);
    without the assignee, or with the team left underived, the team is null; every other value and every row is the full
    load's, and a table that needs a left-out column refuses the dataset."""
    f = Filter(dt.date(2026, 11, 2), dt.date(2026, 11, 22), tz=TZ, as_of=NOW)
    scope, tables = mcli.load_plan("escalations", f, inputs=())
    assert set(INPUT_CASE_COLUMNS) <= set(scope.unread)
    narrow = load_dataset(source, scope, tables)
    assert narrow.unread == frozenset(scope.unread)
    wide = load_dataset(source, dataclasses.replace(scope, unread=()), tables)
    assert narrow.cases.height == wide.cases.height > 0
    for c in ("priority", "assigned_agent_id", "due_at", "team"):
        assert narrow.cases[c].null_count() == narrow.cases.height, c
    # by agent: the assignee is read, the team is not derived
    by_agent = load_dataset(
        source, mcli.load_plan("handle-time", f, inputs=("assigned_agent_id",))[0], tables
    )
    assert by_agent.unread >= {"priority", "team"} and "assigned_agent_id" not in by_agent.unread
    assert by_agent.cases["assigned_agent_id"].null_count() < by_agent.cases.height
    assert by_agent.cases["team"].null_count() == by_agent.cases.height
    assert_frame_equal(TABLES["handle-time"].compute(by_agent, f), TABLES["handle-time"].compute(wide, f))
    assert wide.cases["due_at"].null_count() == 0 and wide.cases["team"].null_count() < wide.cases.height
    rest = [c for c in wide.cases.columns if c not in (*scope.unread, "due_at", "team")]
    assert_frame_equal(narrow.cases.select(rest), wide.cases.select(rest))
    # the tables: one that reads neither is the same; one that needs one refuses
    assert_frame_equal(TABLES["escalations"].compute(narrow, f), TABLES["escalations"].compute(wide, f))
    with pytest.raises(MetricError, match="sla needs the cases' assigned_agent_id, priority, team"):
        TABLES["sla"].compute(narrow, f)
    with pytest.raises(MetricError, match="escalations needs the cases' assigned_agent_id, team, which"):
        TABLES["escalations"].compute(narrow, f, ("team", "week"))
    with pytest.raises(MetricError, match="escalations needs the cases' team, which"):
        TABLES["escalations"].compute(by_agent, dataclasses.replace(f, teams=("Buyer & Live",)))
    with pytest.raises(MetricError, match="escalations needs the cases' priority"):
        TABLES["escalations"].compute(narrow, dataclasses.replace(f, priorities=("urgent",)))


@pytest.mark.parametrize(
    "name", [n for n, t in TABLES.items() if {"case_type", "channel"} <= set(t.allowed_by)]
)
def test_grouped_by_case_type_or_channel_reads_that_column(source, full, name):
    """--by case_type (or channel) reads that column and prints what a load of everything
    prints; the other unreadable columns are still left out."""
    seen = {}

    def scoped(src, tz, scope, tables):
        seen["scope"] = scope
        return load_dataset(source, scope, tables)

    for key in ("case_type", "channel"):
        argv = [name, *WINDOW, "--by", key]
        got = _run(source, argv, scoped, pushdown=True)
        _same_csv(got, _run(source, argv, lambda src, tz: full, pushdown=False))
        assert got.count("\n") > 2, (name, key)  # a header and several groups
        want = set(UNREADABLE_CASE_COLUMNS) - {key}
        assert set(seen["scope"].unread) == want | (set(INPUT_CASE_COLUMNS) - _want_inputs(name, [], {key}))


def test_unread_columns_are_not_read_and_hold_nulls(source, full):
    """A load that leaves out the unreadable columns has the same rows and every other value, and
    nulls in those columns, from Parquet and from SQLite."""
    f = Filter(dt.date(2026, 11, 2), dt.date(2026, 11, 22), tz=TZ, as_of=NOW)
    scope, tables = mcli.load_plan("escalations", f, case_dims=False, case_filters=False, case_columns=())
    assert scope.unread == UNREADABLE_CASE_COLUMNS
    wide = load_dataset(source, dataclasses.replace(scope, unread=()), tables)
    narrow = load_dataset(source, scope, tables)
    assert narrow.cases.columns == wide.cases.columns
    assert narrow.cases.height == wide.cases.height > 1000
    for c in UNREADABLE_CASE_COLUMNS:
        assert wide.cases[c].null_count() < wide.cases.height  # the demo fills them in
        assert narrow.cases[c].null_count() == narrow.cases.height, c
    rest = [c for c in wide.cases.columns if c not in UNREADABLE_CASE_COLUMNS]
    assert_frame_equal(narrow.cases.select(rest), wide.cases.select(rest))


def test_unread_columns_with_a_column_mapping_from_sqlite_and_csv(tmp_path):
    """With [columns.cases] mapping: an unread contract column mapped from a source column
    (status = "state") leaves that column out without a "mapped column missing" error; a source
    column that a column which is read comes from (queue = "outcome") is read though its name is
    an unread contract column's. SQLite (the SELECT) and CSV (read whole, then cut)."""
    t0 = NOW - dt.timedelta(days=3)
    cases = pl.DataFrame(
        {
            "case_id": ["c1", "c2", "c3"],
            "created_at": [t0, t0, t0 + dt.timedelta(hours=1)],
            "resolved_at": [t0 + dt.timedelta(hours=2), None, t0 + dt.timedelta(hours=3)],
            "outcome": ["payments_fraud", "payments_fraud", "counterfeit"],  # the queue, mapped
            "state": ["closed", "open", "closed"],  # the status, mapped
            "channel": ["app", "web", "app"],
            "escalated_at": [None, t0 + dt.timedelta(minutes=30), None],
        }
    )
    agents = pl.DataFrame({"agent_id": ["a1"], "name": ["Ann"], "team": ["T"]})
    mapping = {"cases": {"queue": "outcome", "status": "state"}}
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    cases.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(csv_dir / "cases.csv")
    agents.write_csv(csv_dir / "agents.csv")
    db = tmp_path / "m.sqlite"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE cases (case_id TEXT, created_at TEXT, resolved_at TEXT, outcome TEXT, state TEXT, channel TEXT, escalated_at TEXT)"
    )
    con.executemany(
        "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?)",
        cases.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S")).rows(),
    )
    con.execute("CREATE TABLE agents (agent_id TEXT, name TEXT, team TEXT)")
    con.execute("INSERT INTO agents VALUES ('a1', 'Ann', 'T')")
    con.commit()
    con.close()
    f = Filter(dt.date(2026, 11, 16), dt.date(2026, 11, 22), tz=TZ, as_of=NOW)
    for location in (str(csv_dir), f"sqlite:///{db}"):
        settings = Settings(source=SourceConfig(location=location, columns=mapping))
        scope, tables = mcli.load_plan("escalations", f, case_columns=())
        ds = load_dataset(settings, scope, tables)
        assert ds.report.fatal == [], location
        assert ds.cases.sort("case_id")["queue"].to_list() == [
            "payments_fraud",
            "payments_fraud",
            "counterfeit",
        ]
        assert ds.cases["status"].null_count() == 3 and ds.cases["channel"].null_count() == 3
        assert ds.cases["escalated"].sum() == 1
        everything = load_dataset(settings)
        assert everything.cases.sort("case_id")["status"].to_list() == ["closed", "open", "closed"]
        by_queue = mcli.TABLES["escalations"].compute(ds, f, ("queue",))
        assert by_queue.sort("queue").select("queue", "created", "escalated").rows() == [
            ("counterfeit", 1, 0),
            ("payments_fraud", 2, 1),
        ]


def test_a_scope_cannot_leave_out_a_column_it_needs():
    with pytest.raises(ValueError, match="must be read"):
        Scope(unread=("queue",))
    with pytest.raises(ValueError, match="filters on channel"):
        Scope(channels=("app",), unread=("channel",))


@pytest.mark.parametrize("name", sorted(mcli.OPEN_CASES_ONLY))
def test_open_case_snapshots_read_only_the_cases_open_at_as_of(source, full, name):
    """backlog-now, workload and open-age read the cases open at as-of (at the data's end and ten
    days before it, when most of the cases then open were resolved later) and print what a load
    of every case prints, by their default keys, another grouping and an agent; a queue filter
    (checked against the cases read) reads by time."""
    seen = {}

    def scoped(src, tz, scope, tables):
        seen["scope"], seen["ds"] = scope, load_dataset(source, scope, tables)
        return seen["ds"]

    by = {"backlog-now": "team", "workload": "team", "open-age": "case_type"}[name]
    for as_of in (NOW, NOW - dt.timedelta(days=10)):
        f = Filter(as_of.date(), as_of.date(), tz=TZ, as_of=as_of)
        open_at = full.cases.filter(
            (pl.col("created_at") < as_of)
            & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= as_of))
        )
        for extra, narrow in (
            ([], True),
            (["--by", by], True),
            (["--agent", "A03"], True),
            (["--queue", "payments_fraud"], False),
        ):
            argv = [name, "--tz", TZ, "--as-of", as_of.isoformat(), *extra]
            got = _run(source, argv, scoped, pushdown=True)
            _same_csv(got, _run(source, argv, lambda src, tz: full, pushdown=False))
            assert got.count("\n") > 1, (name, extra)
            scope = seen["scope"]
            plan = mcli.load_plan(name, f, case_filters=False)[0]
            assert (dataclasses.replace(scope, unread=()) == plan) is narrow
            if narrow:
                assert (scope.since, scope.until) == (as_of, as_of + dt.timedelta(days=1))
                ids = set(seen["ds"].cases["case_id"])
                assert set(open_at["case_id"]) <= ids  # every case open at as-of is read
                assert len(ids) < 0.2 * full.cases.height  # and few others


def test_the_shell_command_uses_the_plan(source, full, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no tsdash.toml: default settings, as `source`
    loads = []
    import tsdash.sources as S

    real = S.load_dataset

    def spy(settings, scope=None, tables=None):
        loads.append((scope, tables))
        return real(settings, scope, tables)

    monkeypatch.setattr(S, "load_dataset", spy)
    rc = main(["metrics", "handle-time", "--source", source.source.location, *WINDOW])
    out = capsys.readouterr().out
    assert rc == 0
    _same_csv(out, _run(source, ["handle-time", *WINDOW], lambda src, tz: full, pushdown=False))
    [(scope, tables)] = loads
    assert tables == ("cases", "agents")
    assert scope.since == dt.datetime(2026, 5, 31, tzinfo=dt.UTC)  # Nov 2 - 130 d = Jun 25: Jun 1 - 1 d
    # handle time by agent reads the assignee; it needs no priority (no due time) and no team
    assert scope.unread == (*UNREADABLE_CASE_COLUMNS, "priority", "team")


def test_a_queue_with_only_older_cases_is_named_as_outside_the_cases_read(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    pl.DataFrame({"agent_id": ["a1"], "name": ["Ann"], "team": ["T"]}).write_parquet(
        folder / "agents.parquet"
    )
    t_old, t_new = NOW - dt.timedelta(days=300), NOW - dt.timedelta(days=3)
    pl.DataFrame(
        {
            "case_id": ["c_old", "c_new"],
            "created_at": [t_old, t_new],
            "resolved_at": [t_old + dt.timedelta(hours=2), None],
            "queue": ["retired_queue", "payments_fraud"],
        }
    ).write_parquet(folder / "cases.parquet")
    settings = Settings(source=SourceConfig(location=str(folder)))
    parser = argparse.ArgumentParser()
    mcli.add_arguments(parser)

    def loader(_source, _tz, scope=None, tables=None):
        return load_dataset(settings, scope, tables)

    out, err = io.StringIO(), io.StringIO()
    args = parser.parse_args(["flow", *WINDOW, "--queue", "retired_queue"])
    assert mcli.run(args, loader, settings, stdout=out, stderr=err, pushdown=True) == 2
    # the window starts 2 Nov: the scope starts 130 days before, rounded down to 1 Jun, less a day
    assert (
        "unknown queue 'retired_queue' in the cases read (open or resolved since 2026-05-31)"
        in err.getvalue()
    )
    assert "known: payments_fraud" in err.getvalue()
    # without pushdown the queue is known (all of it is read) and the table prints
    out, err = io.StringIO(), io.StringIO()
    assert mcli.run(args, loader, settings, stdout=out, stderr=err, pushdown=False) == 0


def test_the_shell_command_from_parquet_imports_no_pyarrow_streamlit_or_plotly(source):
    """The CLI's start-up stays lean (docs/PERFORMANCE.md): Polars reads the Parquet files, so
    PyArrow (and the NumPy it brings, ~80 ms) is not imported; nor are Streamlit and Plotly."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tsdash.cli import main\n"
        f"rc = main(['metrics', 'flow', '--source', {source.source.location!r}, *{WINDOW!r}])\n"
        "assert rc == 0, rc\n"
        "print(sorted(m for m in ('pyarrow', 'numpy', 'streamlit', 'plotly') if m in sys.modules), file=sys.stderr)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1 + 21, lines[:3]  # a header and the window's 21 days
    assert res.stderr.strip().splitlines()[-1] == "[]"


def test_quality_without_case_dimensions_reads_no_case_rows(source, full):
    """quality by agent and week reads no case rows (its numbers come from the reviews and the
    agents), only the cases' columns, and prints what a load of every case prints; the reviews
    are not reported as of unknown cases, the empty cases not as an empty table. With a queue
    (a case dimension) it reads the cases by time."""
    f = Filter(dt.date(2026, 11, 2), dt.date(2026, 11, 22), tz=TZ, as_of=NOW)
    scope, tables = mcli.load_plan("quality", f, case_dims=False)
    assert scope.no_case_rows and tables == ("cases", "agents", "qa_reviews")
    ds = load_dataset(source, scope, tables)
    assert ds.cases.height == 0 and ds.qa_reviews.height > 0
    by_time = load_dataset(source, mcli.load_plan("quality", f)[0], tables)
    assert ds.cases.columns == by_time.cases.columns
    assert ds.qa_reviews.equals(by_time.qa_reviews)
    assert [i.rule for i in ds.report.issues if i.rule in ("unknown_case", "empty_table")] == []

    seen = {}

    def scoped(src, tz, scope, tables):
        seen["scope"] = scope
        return load_dataset(source, scope, tables)

    for extra, narrowed in (
        ([], True),
        (["--by", "team,week"], True),
        (["--agent", "A03"], True),
        (["--team", "Payments & Risk"], True),
        (["--queue", "payments_fraud"], False),
        (["--by", "queue"], False),
    ):
        argv = ["quality", *WINDOW, *extra]
        got = _run(source, argv, scoped, pushdown=True)
        assert got.count("\n") > 1, extra  # a header and rows
        _same_csv(got, _run(source, argv, lambda src, tz: full, pushdown=False))
        assert seen["scope"].no_case_rows is narrowed, extra


def test_quality_from_sqlite_reads_no_case_rows(source, full, tmp_path):
    """The same in SQL (``WHERE false`` on the cases), same output; the cases' columns are still
    checked against the contract."""
    db = tmp_path / "demo.sqlite"
    generate_to(f"sqlite:///{db}", days=240, agents=10, seed=11, now=NOW)
    settings = Settings(source=SourceConfig(location=f"sqlite:///{db}"))
    f = Filter(dt.date(2026, 11, 2), dt.date(2026, 11, 22), tz=TZ, as_of=NOW)
    scope, tables = mcli.load_plan("quality", f, case_dims=False)
    ds = load_dataset(settings, scope, tables)
    assert ds.cases.height == 0 and ds.qa_reviews.height > 0
    assert [i.rule for i in ds.report.issues if i.rule in ("unknown_case", "empty_table")] == []
    argv = ["quality", *WINDOW]
    got = _run(
        settings, argv, lambda src, tz, scope, tables: load_dataset(settings, scope, tables), pushdown=True
    )
    _same_csv(got, _run(source, argv, lambda src, tz: full, pushdown=False))
    assert load_dataset(settings, Scope(no_case_rows=True), tables).cases.height == 0
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE cases RENAME COLUMN created_at TO opened_at")
    con.commit()
    con.close()
    with pytest.raises(SourceError, match="required column 'created_at' is missing"):
        load_dataset(settings, scope, tables)


def test_input_columns_left_out_from_sqlite(source, full, tmp_path):
    """SQLite: the SELECT leaves out priority and the assignee (and the team is not derived)
    where the report needs none of them; every report here prints what a load of everything
    prints, with and without a team or priority filter."""
    db = tmp_path / "demo.sqlite"
    generate_to(f"sqlite:///{db}", days=240, agents=10, seed=11, now=NOW)
    settings = Settings(source=SourceConfig(location=f"sqlite:///{db}"))
    seen = []

    def scoped(src, tz, scope, tables):
        seen.append(set(scope.unread) & set(INPUT_CASE_COLUMNS))
        return load_dataset(settings, scope, tables)

    for name, extra, unread in [
        ("escalations", [], {"priority", "assigned_agent_id", "team"}),
        ("escalations", ["--team", "Buyer & Live"], {"priority"}),
        ("escalations", ["--priority", "urgent"], {"assigned_agent_id", "team"}),
        ("handle-time", [], {"priority", "team"}),
        ("flow", ["--agent", "A03"], {"priority", "team"}),
        ("sla", [], set()),
    ]:
        argv = [name, *WINDOW, *extra]
        _same_csv(
            _run(settings, argv, scoped, pushdown=True),
            _run(source, argv, lambda src, tz: full, pushdown=False),
        )
        assert seen[-1] == unread, (name, extra)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_quality_without_a_reviews_table_or_from_csv(tmp_path, fmt):
    """No case rows from a Parquet folder (none read) or a CSV folder (read whole, then cut),
    with or without a reviews table: the cases' columns are kept and checked, nothing is
    reported of the cases, and the report counts the reviews."""
    folder = tmp_path / f"q_{fmt}"
    folder.mkdir()
    frames = {
        "agents": pl.DataFrame({"agent_id": ["a1"], "name": ["Ann"], "team": ["T"]}),
        "cases": pl.DataFrame(
            {"case_id": ["c1"], "created_at": [NOW - dt.timedelta(days=3)], "queue": ["payments_fraud"]}
        ),
    }
    settings = Settings(source=SourceConfig(location=str(folder)))
    f = Filter(dt.date(2026, 11, 2), dt.date(2026, 11, 22), tz=TZ, as_of=NOW)
    scope, tables = mcli.load_plan("quality", f, case_dims=False)
    for with_reviews in (False, True):
        if with_reviews:
            frames["qa_reviews"] = pl.DataFrame(
                {
                    "review_id": ["r1", "r2"],
                    "case_id": ["c1", "c9"],  # c9: not a case (not checked without case rows)
                    "agent_id": ["a1", "a1"],
                    "reviewed_at": [NOW - dt.timedelta(days=2), NOW - dt.timedelta(days=1)],
                    "score": [90.0, 70.0],
                }
            )
        for name, frame in frames.items():
            if fmt == "parquet":
                frame.write_parquet(folder / f"{name}.parquet")
            else:
                frame.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(
                    folder / f"{name}.csv"
                )
        ds = load_dataset(settings, scope, tables)
        assert ds.cases.height == 0 and "queue" in ds.cases.columns
        assert [i.rule for i in ds.report.issues if i.table in ("cases", "qa_reviews")] == []
        assert ds.qa_reviews.height == (2 if with_reviews else 0)
    # without time bounds too (a scope of no case rows is never "everything")
    assert load_dataset(settings, Scope(no_case_rows=True), tables).cases.height == 0
    out = _run(
        settings, ["quality", *WINDOW], lambda src, tz, sc, tb: load_dataset(settings, sc, tb), pushdown=True
    )
    rows = pl.read_csv(io.StringIO(out))
    assert rows["reviews"].sum() == 2 and rows["mean_score"].mean() == 80.0


def test_unread_columns_from_postgresql(source, full, pg_url):
    """PostgreSQL: the SELECT leaves the columns out; escalations (by queue, by case type, for a
    team and a priority), handle time (by agent, by team) and SLA print what a load of every
    column prints."""
    import uuid

    from sqlalchemy import create_engine, text

    from tsdash.schema import CONTRACT
    from tsdash.sources.write import write_tables

    schema = f"tsdash_unread_{uuid.uuid4().hex[:8]}"
    cases = full.cases.select(CONTRACT["cases"].names)
    write_tables({"cases": cases, "agents": full.agents}, pg_url, schema=schema)
    eng = create_engine(pg_url)
    try:
        settings = Settings(source=SourceConfig(location=pg_url, db_schema=schema))
        f = Filter(dt.date(2026, 11, 2), dt.date(2026, 11, 22), tz=TZ, as_of=NOW)
        scope, tables = mcli.load_plan("escalations", f, case_dims=False, case_filters=False, case_columns=())
        narrow = load_dataset(settings, scope, tables)
        assert narrow.cases.height > 1000 and narrow.report.fatal == []
        assert all(narrow.cases[c].null_count() == narrow.cases.height for c in UNREADABLE_CASE_COLUMNS)
        assert narrow.cases["queue"].null_count() == 0
        for name, extra in [
            ("escalations", []),
            ("escalations", ["--by", "queue,week"]),
            ("escalations", ["--by", "case_type"]),
            # priority, the assignee and the team left out, or read for a filter or grouping
            ("escalations", ["--team", "Buyer & Live"]),
            ("escalations", ["--priority", "urgent"]),
            ("handle-time", []),
            ("handle-time", ["--by", "team,week"]),
            ("sla", []),
        ]:
            argv = [name, *WINDOW, *extra]
            got = _run(settings, argv, lambda src, tz, sc, tb: load_dataset(settings, sc, tb), pushdown=True)
            _same_csv(got, _run(source, argv, lambda src, tz: full, pushdown=False))
            assert got.count("\n") > 2, extra
    finally:
        with eng.begin() as c:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        eng.dispose()
