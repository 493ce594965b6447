"""The live simulator (tsdash.simulate, `tsdash simulate`) against real SQLite files and PostgreSQL.

Most tests drive :class:`Simulator` with a clock of their own (ticks of 30-60 s starting two hours
ago), so half an hour of activity takes a fraction of a second and every timestamp stays in the
past; the wall-clock loop (:func:`run`) and the command (with SIGINT/SIGTERM) are tested for real
on short runs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

import polars as pl
import pytest

from tests.conftest import ROOT
from tsdash.config import Settings, SourceConfig
from tsdash.demo import CRITERIA, ESCALATION_REASONS, QUEUE_NAMES, generate_to
from tsdash.metrics import Filter, backlog_now
from tsdash.simulate import SimulateError, Simulator, parse_duration, run
from tsdash.sources import data_version, load_dataset

UTC = dt.UTC
WALL = dt.datetime.now(UTC).replace(microsecond=0)
T0 = WALL - dt.timedelta(hours=2)  # the demo ends here; the simulated clock starts here


def _settings(url: str, schema: str | None = None) -> Settings:
    return Settings(source=SourceConfig(location=url, db_schema=schema))


def _demo(path, now=T0, agents=12) -> str:
    url = f"sqlite:///{path}"
    generate_to(url, days=10, agents=agents, seed=5, now=now)
    return url


def _open_counts(ds) -> tuple[int, int]:
    """(open, unassigned) at the real current time, through the metrics engine."""
    f = Filter(WALL.date() - dt.timedelta(days=7), WALL.date(), as_of=dt.datetime.now(UTC))
    t = backlog_now(ds, f)
    return int(t["open"].sum()), int(t["unassigned"].sum())


def _num(case_id: str) -> int:
    return int(case_id[1:])


def _tick_for(sim: Simulator, minutes: float, step_s: float, start=T0) -> dt.datetime:
    t = start
    for _ in range(int(minutes * 60 / step_s)):
        t += dt.timedelta(seconds=step_s)
        assert sim.tick(t)
    return t


# --------------------------------------------------------------------------- the model, SQLite


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A demo database, its dataset before, 45 simulated minutes at 6 cases/min, and after."""
    path = tmp_path_factory.mktemp("sim") / "demo.sqlite"
    url = _demo(path)
    s = _settings(url)
    before = load_dataset(s)
    version_before = data_version(s)
    sim = Simulator(url, rate=6, seed=11, now=T0)
    end = _tick_for(sim, 45, 30)
    sim.close()
    return {
        "url": url,
        "path": path,
        "before": before,
        "after": load_dataset(s),
        "summary": sim.summary,
        "version_before": version_before,
        "version_after": data_version(s),
        "end": end,
    }


def test_new_cases_continue_the_ids_and_validate_clean(simulated):
    before, after, summary = simulated["before"], simulated["after"], simulated["summary"]
    old_max = max(_num(c) for c in before.cases["case_id"])
    new = after.cases.filter(~pl.col("case_id").is_in(before.cases["case_id"].implode()))
    # 6 per minute for 45 minutes: Poisson mean 270, sd 16.4; the bounds are 4 sd out, since the
    # draws change with the wall clock the fixture starts at (300 start times gave 224-310)
    assert 200 <= summary.created <= 340
    assert new.height == summary.created
    assert sorted(_num(c) for c in new["case_id"]) == list(range(old_max + 1, old_max + 1 + summary.created))
    assert all(len(c) == len(before.cases["case_id"][0]) for c in new["case_id"])  # C0000001 style kept
    # every row written passes validation: nothing quarantined, no warning, nothing fatal
    assert after.report.issues == []
    assert sum(after.report.quarantined_rows.values()) == 0
    assert new["created_at"].min() > T0 and new["created_at"].max() <= simulated["end"]
    assert set(new["queue"]) <= set(QUEUE_NAMES)
    assert new["status"].is_in(["open", "pending", "resolved"]).all()


def test_open_and_unassigned_counts_move_by_exactly_what_was_written(simulated):
    before, after, s = simulated["before"], simulated["after"], simulated["summary"]
    open0, unassigned0 = _open_counts(before)
    open1, unassigned1 = _open_counts(after)
    assert s.resolved > 20 and s.assigned > 20
    assert open1 - open0 == s.created - s.resolved  # every new case is open until the simulator resolves it
    assert unassigned1 - unassigned0 == s.created - s.assigned  # each assignment takes one unassigned case
    assert open1 != open0
    assert simulated["version_after"] != simulated["version_before"]


def test_resolutions_escalations_and_events_are_consistent(simulated):
    before, after, s = simulated["before"], simulated["after"], simulated["summary"]
    was_open = before.cases.filter(pl.col("resolved_at").is_null())["case_id"]
    resolved_now = after.cases.filter(
        pl.col("resolved_at").is_not_null()
        & (
            pl.col("case_id").is_in(was_open.implode())
            | ~pl.col("case_id").is_in(before.cases["case_id"].implode())
        )
    )
    assert resolved_now.height == s.resolved
    assert resolved_now["assigned_agent_id"].null_count() == 0
    assert resolved_now["handle_seconds"].null_count() == 0 and resolved_now["outcome"].null_count() == 0
    assert (resolved_now["handle_seconds"] >= 20).all()
    assert (resolved_now["status"] == "resolved").all()
    assert (resolved_now["resolved_at"] > T0).all()
    touched = after.cases.filter(pl.col("created_at") > T0)
    assert (touched["first_response_at"] >= touched["created_at"]).fill_null(True).all()
    assert (touched["resolved_at"] >= touched["first_response_at"]).fill_null(True).all()
    assert touched.filter(pl.col("resolved_at").is_not_null())["first_response_at"].null_count() == 0
    esc = after.cases.filter(pl.col("escalated_at") > T0)
    assert esc.height == s.escalated
    assert set(esc["escalation_reason"]) <= set(ESCALATION_REASONS)
    # events: one per step, at the times on the case rows
    ev = after.events.filter(pl.col("ts") > T0)
    counts = dict(ev.group_by("event_type").len().iter_rows())
    assert counts["created"] == s.created
    assert counts["assigned"] == s.assigned
    assert counts["first_response"] == s.responded
    assert counts["resolved"] == s.resolved
    assert counts.get("escalated", 0) == s.escalated
    res_ev = ev.filter(pl.col("event_type") == "resolved").join(resolved_now, on="case_id")
    assert res_ev.height == s.resolved
    assert (res_ev["ts"] == res_ev["resolved_at"]).all()
    assert (res_ev["agent_id"] == res_ev["assigned_agent_id"]).all()
    created_ev = ev.filter(pl.col("event_type") == "created").join(after.cases, on="case_id")
    assert (created_ev["ts"] == created_ev["created_at"]).all()


def test_reviews_score_resolved_cases_with_the_demo_criteria(simulated):
    before, after, s = simulated["before"], simulated["after"], simulated["summary"]
    new = after.qa_reviews.filter(~pl.col("review_id").is_in(before.qa_reviews["review_id"].implode()))
    # 8.5 % of 6 per minute for 45 min: Poisson mean 23, sd 4.8. The draws change with the wall clock
    # the fixture starts at: 300 start times gave 9-31 and one CI run 8, so 4 is the bound (P < 1e-5)
    assert new.height == s.reviews and s.reviews >= 4
    old_max = max(_num(r) for r in before.qa_reviews["review_id"])
    assert sorted(_num(r) for r in new["review_id"]) == list(range(old_max + 1, old_max + 1 + s.reviews))
    assert new["case_id"].n_unique() == new.height
    assert not new["case_id"].is_in(before.qa_reviews["case_id"].implode()).any()  # never reviewed twice
    joined = new.join(after.cases, on="case_id")
    assert joined.height == new.height
    assert (joined["agent_id"] == joined["assigned_agent_id"]).all()
    assert (joined["reviewed_at"] > joined["resolved_at"]).all()
    crit = after.qa_criteria.filter(pl.col("review_id").is_in(new["review_id"].implode()))
    assert crit.height == 4 * new.height
    assert set(crit["criterion"]) == set(CRITERIA)
    means = (
        crit.group_by("review_id").agg(pl.col("score").mean().round(1).alias("m")).join(new, on="review_id")
    )
    assert (means["m"] == means["score"]).all()
    assert ((new["score"] >= 0) & (new["score"] <= 100)).all()


def test_escalation_share_and_determinism(tmp_path):
    """Cases are escalated with their queue's demo probability (about 8 % overall); the same seed and
    clock write the same rows."""
    from tsdash.demo import QUEUES

    urls = [_demo(tmp_path / f"d{i}.sqlite", agents=36) for i in range(2)]
    sims = [Simulator(u, rate=4, seed=3, now=T0) for u in urls]
    for sim in sims:
        _tick_for(sim, 180, 60)
        sim.close()
    s = sims[0].summary
    assert s == sims[1].summary
    ds = [load_dataset(_settings(u)) for u in urls]
    assert ds[0].cases.filter(pl.col("created_at") > T0).equals(ds[1].cases.filter(pl.col("created_at") > T0))
    assert ds[0].events.filter(pl.col("ts") > T0).equals(ds[1].events.filter(pl.col("ts") > T0))
    # cases the simulator assigned and whose work is over (escalated, resolved or waiting on the customer)
    worked = ds[0].events.filter((pl.col("ts") > T0) & (pl.col("event_type") == "assigned"))["case_id"]
    done = ds[0].cases.filter(
        pl.col("case_id").is_in(worked.implode())
        & (
            pl.col("escalated_at").is_not_null()
            | pl.col("resolved_at").is_not_null()
            | (pl.col("status") == "pending")
        )
    )
    assert done.height > 400
    p = {q.name: q.escalation for q in QUEUES}
    by_queue = done.group_by("queue").agg(pl.len().alias("n"), pl.col("escalated").sum().alias("x"))
    expected = sum(n * p[q] for q, n, _ in by_queue.iter_rows())
    sd = sum(n * p[q] * (1 - p[q]) for q, n, _ in by_queue.iter_rows()) ** 0.5
    observed = int(by_queue["x"].sum())
    assert abs(observed - expected) <= 4 * sd, (observed, expected, sd)
    assert 0.03 <= observed / done.height <= 0.13


def test_a_restart_continues_after_the_ids_written_before(simulated):
    url = simulated["url"]
    sim = Simulator(url, rate=30, seed=2, now=simulated["end"])
    _tick_for(sim, 2, 30, start=simulated["end"])
    sim.close()
    ds = load_dataset(_settings(url))
    ids = sorted(_num(c) for c in ds.cases["case_id"])
    assert ids == list(range(1, len(ids) + 1))  # no gap, no repeat across the two runs
    assert sim.summary.created > 0 and ds.report.issues == []


# --------------------------------------------------------------------------- transactions


def test_a_tick_is_all_or_nothing_and_a_failed_tick_is_written_with_the_next(tmp_path):
    path = tmp_path / "demo.sqlite"
    url = _demo(path)
    sim = Simulator(url, rate=6, seed=4, now=T0)
    con = sqlite3.connect(path)
    n0 = con.execute("select count(*) from cases").fetchone()[0]
    r0 = con.execute("select count(*) from qa_reviews").fetchone()[0]
    # make the last insert of the tick fail (after cases, events and reviews went in)
    con.execute("alter table qa_criteria rename to qa_criteria_away")
    con.commit()
    assert sim.tick(T0 + dt.timedelta(minutes=30)) is False
    assert "qa_criteria" in sim.last_error
    assert con.execute("select count(*) from cases").fetchone()[0] == n0  # nothing of the tick
    assert con.execute("select count(*) from qa_reviews").fetchone()[0] == r0
    assert sim.summary.created == 0 and sim.summary.failed_ticks == 1
    con.execute("alter table qa_criteria_away rename to qa_criteria")
    con.commit()
    assert sim.tick(T0 + dt.timedelta(minutes=31)) is True
    s = sim.summary
    sim.close()
    assert s.created > 100 and s.reviews > 0 and s.uncommitted == 0
    assert con.execute("select count(*) from cases").fetchone()[0] == n0 + s.created
    assert con.execute("select count(*) from qa_reviews").fetchone()[0] == r0 + s.reviews
    con.close()
    assert load_dataset(_settings(url)).report.issues == []


def test_the_writer_waits_for_a_lock_and_retries(tmp_path, monkeypatch):
    import tsdash.simulate as simulate

    monkeypatch.setattr(simulate, "SQLITE_BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "demo.sqlite"
    url = _demo(path)
    sim = Simulator(url, rate=6, seed=4, now=T0)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    assert sim.tick(T0 + dt.timedelta(minutes=5)) is False
    assert "locked" in sim.last_error
    other.execute("COMMIT")
    assert sim.tick(T0 + dt.timedelta(minutes=6)) is True
    sim.close()
    n = other.execute("select count(*) from cases where created_at > ?", (T0.strftime("%Y-%m-%d %H:%M:%S"),))
    assert n.fetchone()[0] == sim.summary.created > 0
    assert other.execute("pragma journal_mode").fetchone()[0] == "wal"
    other.close()


# --------------------------------------------------------------------------- wall clock


def test_run_with_readers_polling_the_database(tmp_path):
    """The simulator on the wall clock, in its own process as `make simulate` runs it, while a
    reader loads the database read-only again and again.

    Its own process, not a thread: the reader reads rows through the ADBC driver, which carries
    its own copy of SQLite, besides Python's. Two copies of SQLite in one process do not see
    each other's POSIX locks, and closing a file in one drops the other's locks (SQLite's "How
    To Corrupt An SQLite Database File", 2.2.1): with the writer as a thread of the reader's
    process, one run in ten lost committed cases (their events stayed) or died of SIGBUS."""
    path = tmp_path / "demo.sqlite"
    url = _demo(path, now=dt.datetime.now(UTC) - dt.timedelta(minutes=1))
    s = _settings(url)
    n0 = load_dataset(s).cases.height
    v0 = data_version(s)
    cmd = [sys.executable, "-m", "tsdash.cli", "simulate", "--source", str(path)]
    cmd += ["--rate", "600", "--seed", "8", "--tick", "100ms", "--duration", "4s"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    loads, heights = 0, []
    try:
        while proc.poll() is None or loads < 4:
            ds = load_dataset(s)  # never raises: WAL readers do not block or see half a tick
            assert ds.report.issues == []
            heights.append(ds.cases.height)
            loads += 1
    finally:
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    m = re.search(r"stopped: (\d+) cases created, .*\((\d+) transactions", out)
    assert m, out
    created, ticks = int(m.group(1)), int(m.group(2))
    assert created > 5 and ticks > 5
    assert loads >= 4 and heights == sorted(heights)  # each reader saw a consistent, growing database
    assert heights[-1] > n0  # the reader saw new cases while the simulator ran
    after = load_dataset(s)
    assert after.cases.height == n0 + created
    assert after.report.issues == []
    assert data_version(s) != v0


def test_run_stops_after_the_duration(tmp_path):
    url = _demo(tmp_path / "demo.sqlite", now=dt.datetime.now(UTC) - dt.timedelta(minutes=1))
    lines: list[str] = []
    t = time.monotonic()
    summary = run(url, rate=60, duration_s=1.0, seed=1, tick_s=0.25, report=lines.append, report_every_s=0.3)
    assert 1.0 <= time.monotonic() - t < 5.0
    assert 1.0 <= summary.seconds < 5.0
    assert lines[0].startswith(f"simulating on {url}: 60 new cases per minute, ")
    assert "open cases taken over" in lines[0] and "one transaction every 0.25 s" in lines[0]
    progress = [x for x in lines[1:] if re.match(r"\[\d+ s\] \d+ cases created", x)]
    assert 2 <= len(progress) <= 4  # every 0.3 s of a 1 s run


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_stops_cleanly_on_a_signal(tmp_path, sig):
    path = tmp_path / "demo.sqlite"
    _demo(path, now=dt.datetime.now(UTC) - dt.timedelta(minutes=1))
    n0 = sqlite3.connect(path).execute("select count(*) from cases").fetchone()[0]
    out = tmp_path / "out.txt"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    with out.open("w") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tsdash.cli",
                "simulate",
                "--source",
                str(path),
                "--rate",
                "300",
                "--tick",
                "0.2s",
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 30
            while "simulating on" not in out.read_text() and time.monotonic() < deadline:
                assert proc.poll() is None, out.read_text()
                time.sleep(0.1)
            time.sleep(2.5)
            proc.send_signal(sig)
            rc = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = out.read_text()
    assert rc == 0, text
    assert "Traceback" not in text
    m = re.search(
        r"stopped: (\d+) cases created, (\d+) assigned, (\d+) resolved, (\d+) escalated, (\d+) reviews", text
    )
    assert m, text
    created = int(m.group(1))
    assert created > 0
    con = sqlite3.connect(path)
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert con.execute("select count(*) from cases").fetchone()[0] == n0 + created
    con.close()
    assert load_dataset(_settings(f"sqlite:///{path}")).report.issues == []


def test_cli_never_imports_streamlit_or_plotly():
    code = "import sys, tsdash.cli, tsdash.simulate; print(sorted(m for m in ('streamlit', 'plotly') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- bad input


def test_cli_explains_bad_targets_and_arguments(tmp_path):
    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "tsdash.cli", "simulate", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )

    r = cli("--source", str(tmp_path / "missing.sqlite"), "--duration", "1s")
    assert r.returncode == 1 and "does not exist" in r.stderr and "tsdash demo --out" in r.stderr
    assert "Traceback" not in r.stderr
    r = cli("--source", str(tmp_path), "--duration", "1s")
    assert r.returncode == 2 and "folder" in r.stderr and "database" in r.stderr
    r = cli("--source", str(tmp_path / "x.sqlite"), "--duration", "soon")
    assert r.returncode == 2 and "'soon' is not a duration" in r.stderr
    r = cli("--source", str(tmp_path / "x.sqlite"), "--rate", "0")
    assert r.returncode == 2 and "--rate must be more than 0" in r.stderr


def test_bad_databases_get_clear_messages(tmp_path):
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).execute("create table other (x)").connection.commit()
    with pytest.raises(SimulateError, match=r"table agents is missing.*tsdash demo --out"):
        Simulator(f"sqlite:///{empty}")
    future = tmp_path / "future.sqlite"
    url = _demo(future, now=WALL + dt.timedelta(days=1))
    with pytest.raises(SimulateError, match="after the current time"):
        Simulator(url)
    with pytest.raises(SimulateError, match="cases per minute"):
        Simulator(_demo(tmp_path / "ok.sqlite"), rate=0)


def test_parse_duration():
    assert parse_duration("30s") == 30.0
    assert parse_duration("10m") == 600.0
    assert parse_duration("1h") == 3600.0
    assert parse_duration("500ms") == 0.5
    assert parse_duration("90") == 90.0
    for bad in ("", "0s", "-1m", "10 minutes", "1d"):
        with pytest.raises(ValueError):
            parse_duration(bad)


# --------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_postgres_simulation_in_a_temporary_schema(pg_url):
    from sqlalchemy import create_engine, text

    schema = f"tsdash_sim_{uuid.uuid4().hex[:8]}"
    generate_to(pg_url, days=10, agents=12, seed=5, now=T0, schema=schema)
    try:
        s = _settings(pg_url, schema)
        before = load_dataset(s)
        v0 = data_version(s)
        sim = Simulator(pg_url, rate=6, seed=11, schema=schema, now=T0)
        end = _tick_for(sim, 30, 30)
        sim.close()
        summ = sim.summary
        after = load_dataset(s)
        assert after.report.issues == []
        assert summ.created > 100 and summ.resolved > 10
        old_max = max(_num(c) for c in before.cases["case_id"])
        new = after.cases.filter(pl.col("created_at") > T0)
        assert sorted(_num(c) for c in new["case_id"]) == list(range(old_max + 1, old_max + 1 + summ.created))
        assert new["created_at"].max() <= end
        open0, _ = _open_counts(before)
        open1, _ = _open_counts(after)
        assert open1 - open0 == summ.created - summ.resolved
        assert data_version(s) != v0
        eng = create_engine(pg_url)
        with eng.connect() as c:
            kinds = dict(
                c.execute(
                    text(
                        "select column_name, data_type from information_schema.columns "
                        "where table_schema = :s and table_name = 'cases'"
                    ),
                    {"s": schema},
                ).all()
            )
            # a simulated timestamp reads back as the instant written, whatever the session zone
            c.execute(text("set time zone 'America/New_York'"))
            first = c.execute(
                text(f'select min(created_at) from "{schema}".cases where case_id = :id'),
                {"id": f"C{old_max + 1:07d}"},
            ).scalar_one()
        eng.dispose()
        assert kinds["created_at"] == "timestamp with time zone" and kinds["escalated"] == "boolean"
        assert first == new.sort("case_id")["created_at"][0]
    finally:
        eng = create_engine(pg_url)
        with eng.begin() as c:
            c.execute(text(f'drop schema if exists "{schema}" cascade'))
        eng.dispose()
