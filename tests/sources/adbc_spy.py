"""A spy on ADBC table reads, shared by the two-halves tests of PostgreSQL and SQLite."""

from __future__ import annotations

import re
import threading

import polars as pl

import tsdash.sources.read as R


class Spy:
    """Records every ADBC table read: (sql, connection id, thread name); ``before`` runs first."""

    def __init__(self, monkeypatch, before=None):
        self.calls: list[tuple[str, int, str]] = []
        self.conns: list = []  # every connection a table was read on
        self.before = before
        real = R._fetch_adbc

        def fetch(conn, sql, params=()):
            self.calls.append((sql, id(conn), threading.current_thread().name))
            self.conns.append(conn)
            if self.before is not None:
                self.before(conn, sql)
            return real(conn, sql, params)

        monkeypatch.setattr(R, "_fetch_adbc", fetch)

    def all_closed(self) -> bool:
        return bool(self.conns) and all(c._closed for c in self.conns)

    def cases(self) -> list[tuple[str, int, str]]:
        return [c for c in self.calls if re.search(r"FROM \S*cases\b", c[0])]


def assert_the_writes_are_seen(after: dict, want: dict, low_id: str, high_id: str, gone_id: str) -> None:
    """The writes the commit tests make (an update of ``low_id``, a copy of ``high_id``, a delete
    of ``gone_id``, a review added, the criteria deleted) are all in ``after``, a later read."""
    c = after["cases"].frame
    assert c.filter(pl.col("case_id") == low_id)["queue"].to_list() == ["updated"]
    assert c.filter(pl.col("case_id") == high_id).height == 2
    assert c.filter(pl.col("case_id") == gone_id).height == 0
    assert after["qa_reviews"].frame.height == want["qa_reviews"].frame.height + 1
    assert after["qa_criteria"].frame.height == 0
