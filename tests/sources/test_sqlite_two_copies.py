"""Two copies of SQLite in one process: Python's (SQLAlchemy: the catalogue, the row-wise
fallback) and the ADBC driver's (the rows). POSIX locks belong to the process, so a close by one
copy drops the locks the other holds on the same file -- a WAL reader's read mark among them.
So a read must not overlap a close by the other copy (src/tsdash/sources/read.py,
``_SQLITE_READS``):

* no Python SQLite connection outlives a read (one left in a pool is closed whenever a garbage
  collection gets to it, in any thread, in the middle of a later read);
* two SQLite reads in two threads do not overlap: the second opens nothing before the first is
  over.

Real files; the spies call through to the real functions. Linux (/proc/self/fd) for the first.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import threading
import time
from pathlib import Path

import pytest

import tsdash.sources.read as R
from tsdash.config import SourceConfig
from tsdash.demo import generate
from tsdash.sources.read import read_source
from tsdash.sources.write import write_tables

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    t = generate(days=20, agents=6, seed=3, now=NOW)
    path = tmp_path_factory.mktemp("copies") / "two_copies.sqlite"
    write_tables({k: t[k] for k in ("agents", "cases", "qa_reviews")}, f"sqlite:///{path}")
    return path


def _open_files(path: Path) -> list[str]:
    """The process's open descriptors of the database and its -wal and -shm files."""
    names = {str(path), f"{path}-wal", f"{path}-shm"}
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target in names:
            out.append(target)
    return out


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc/self/fd")
def test_no_sqlite_connection_outlives_a_read(db):
    cfg = SourceConfig(location=f"sqlite:///{db}")
    assert _open_files(db) == []
    gc.disable()  # what a garbage collection would close later must not be open now
    try:
        raw = read_source(cfg, tables=("agents", "cases"))
        assert raw["agents"].frame.height == 6
        assert raw["cases"].frame.height > 0
        assert _open_files(db) == []
    finally:
        gc.enable()


def test_two_sqlite_reads_do_not_overlap(db, monkeypatch):
    """Thread A's first fetch waits until thread B has started its read and 0.5 s more; B must
    not create its engine (its first step) before A's read is over."""
    cfg = SourceConfig(location=f"sqlite:///{db}")
    b_started = threading.Event()
    times: dict[str, float] = {}
    real_fetch, real_engine = R._fetch_adbc, R.make_engine
    held = []

    def fetch(conn, sql, params=()):
        if threading.current_thread().name == "reader-a" and not held:
            held.append(True)
            assert b_started.wait(30)
            time.sleep(0.5)  # B, if not held back, creates its engine and reads meanwhile
        return real_fetch(conn, sql, params)

    def make_engine(c):
        times.setdefault(threading.current_thread().name, time.perf_counter())
        return real_engine(c)

    monkeypatch.setattr(R, "_fetch_adbc", fetch)
    monkeypatch.setattr(R, "make_engine", make_engine)
    results: dict[str, dict] = {}

    def reader(name: str) -> None:
        if name == "reader-b":
            b_started.set()
        results[name] = read_source(cfg, tables=("agents", "cases"))
        times[name + " done"] = time.perf_counter()

    a = threading.Thread(target=reader, args=("reader-a",), name="reader-a")
    a.start()
    while not held:  # A is inside its first fetch
        time.sleep(0.01)
    b = threading.Thread(target=reader, args=("reader-b",), name="reader-b")
    b.start()
    a.join(60)
    b.join(60)
    assert set(results) == {"reader-a", "reader-b"}
    assert times["reader-b"] > times["reader-a done"] - 0.05  # B's engine: after A's read
    assert times["reader-b"] > times["reader-a"] + 0.5
    for t in ("agents", "cases"):
        assert results["reader-a"][t].frame.equals(results["reader-b"][t].frame)
