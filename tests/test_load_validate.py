"""The validation shortcuts of the loading path (docs/PERFORMANCE.md remedies C, D, E) give
exactly what the plain rules give: unknown ids warned with the same rows and counts, blank text
in typed sources still missing, text timestamps read to the same instants."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tsdash.validate as V
from tsdash.config import Settings, SourceConfig
from tsdash.sources import validate_source

UTC = dt.UTC
AGENTS = "agent_id,name,team\nA1,Ann,T1\nA2,Bob,T2\n"
CASES = (
    "case_id,created_at,queue,priority,assigned_agent_id\n"
    "C1,2026-01-01 10:00:00,q,high,A1\n"
    "C2,2026-01-02 10:00:00,q,low,A2\n"
)


def _settings(path: Path | str, **kw) -> Settings:
    return Settings(source=SourceConfig(location=str(path), **kw))


def _warnings(ds, table: str, rule: str) -> list[tuple[int | None, str | None, str]]:
    return [(i.row, i.value, i.message) for i in ds.report.issues if i.table == table and i.rule == rule]


# ---------------------------------------------------------------- C: unknown ids


def test_unknown_case_ids_in_events_and_reviews_warn_with_rows_and_counts(tmp_path):
    d = tmp_path / "src"
    d.mkdir()
    (d / "agents.csv").write_text(AGENTS)
    (d / "cases.csv").write_text(CASES)
    # events rows: 1 C1, 2 X9, 3 C2, 4 X9, 5 X8, 6 X9
    (d / "events.csv").write_text(
        "case_id,ts,event_type,agent_id\n"
        "C1,2026-01-01 10:00:00,created,\n"
        "X9,2026-01-01 11:00:00,created,\n"
        "C2,2026-01-02 10:00:00,created,\n"
        "X9,2026-01-01 12:00:00,assigned,A1\n"
        "X8,2026-01-01 12:00:00,created,A7\n"
        "X9,2026-01-01 13:00:00,resolved,A1\n"
    )
    (d / "qa_reviews.csv").write_text(
        "review_id,case_id,agent_id,reviewed_at,score\n"
        "R1,C1,A1,2026-01-03 10:00:00,90\n"
        "R2,X5,A2,2026-01-03 11:00:00,70\n"
        "R3,C2,A2,2026-01-03 12:00:00,80\n"
    )
    ds = validate_source(_settings(d))
    assert _warnings(ds, "events", "unknown_case") == [
        (2, "X9", "events.csv, row 2 (line 3): case_id 'X9' is not in cases (3 rows); kept."),
        (5, "X8", "events.csv, row 5 (line 6): case_id 'X8' is not in cases (1 row); kept."),
    ]
    assert _warnings(ds, "events", "unknown_agent") == [
        (5, "A7", "events.csv, row 5 (line 6): agent_id 'A7' is not in agents (1 row); kept."),
    ]
    assert _warnings(ds, "qa_reviews", "unknown_case") == [
        (2, "X5", "qa_reviews.csv, row 2 (line 3): case_id 'X5' is not in cases (1 row); kept."),
    ]
    assert ds.events.height == 6 and ds.qa_reviews.height == 3  # warnings keep the rows
    assert ds.report.counts()[("warning", "events", "unknown_case")] == 2


def test_unknown_ids_beyond_the_listed_cap_are_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(V, "MAX_LISTED", 2)
    d = tmp_path / "src"
    d.mkdir()
    (d / "agents.csv").write_text(AGENTS)
    (d / "cases.csv").write_text(CASES)
    rows = "".join(f"X{i},2026-01-01 11:00:00,created,\n" for i in (5, 3, 5, 4, 1))
    (d / "events.csv").write_text("case_id,ts,event_type,agent_id\n" + rows)
    ds = validate_source(_settings(d))
    # four unknown ids, listed in order of first row: X5 (row 1), X3 (2), X4 (4), X1 (5)
    assert [(r, v) for r, v, _ in _warnings(ds, "events", "unknown_case")] == [(1, "X5"), (2, "X3")]
    assert ds.report.counts()[("warning", "events", "unknown_case")] == 4


# ---------------------------------------------------------------- D: blank text


def _write_parquet(d: Path, **tables: pl.DataFrame) -> None:
    d.mkdir(exist_ok=True)
    for name, df in tables.items():
        df.write_parquet(d / f"{name}.parquet")


def test_blank_strings_in_parquet_text_columns_are_missing(tmp_path):
    d = tmp_path / "pq"
    t = dt.datetime(2026, 1, 1, 10, tzinfo=UTC)
    _write_parquet(
        d,
        agents=pl.DataFrame({"agent_id": ["A1", "A2"], "name": ["Ann", "Bob"], "team": ["T1", "T2"]}),
        cases=pl.DataFrame(
            {
                "case_id": ["C1", "C2", "C3", "C4", "C5"],
                "created_at": [t] * 5,
                # required: "" and white space (ASCII and not) are missing -> quarantined
                "queue": ["q", "", "   ", "\u00a0", "q"],
                # optional: a blank agent is unassigned, not an unknown agent
                "assigned_agent_id": ["A1", " ", "A2", "A1", "\t\u3000"],
                "priority": ["high", "high", "high", "high", "n/a "],
            }
        ),
    )
    ds = validate_source(_settings(d, null_values=("n/a",)))
    nulls = [(i.row, i.column) for i in ds.report.issues if i.rule == "null_required"]
    assert nulls == [(2, "queue"), (3, "queue"), (4, "queue")]
    assert ds.report.quarantined_rows["cases"] == 3
    assert ds.cases.select("case_id", "assigned_agent_id", "priority").rows() == [
        ("C1", "A1", "high"),
        ("C5", None, None),
    ]
    assert not [i for i in ds.report.issues if i.rule == "unknown_agent"]


def test_parquet_text_without_blanks_is_kept_as_is(tmp_path):
    d = tmp_path / "pq"
    t = dt.datetime(2026, 1, 1, 10, tzinfo=UTC)
    _write_parquet(
        d,
        agents=pl.DataFrame({"agent_id": ["A1"], "name": ["Ängel"], "team": ["T1"]}),
        cases=pl.DataFrame(
            {
                "case_id": ["C1", "C2"],
                "created_at": [t, t],
                "queue": ["q x ", "NA"],
                "priority": ["high", "low"],
            }
        ),
    )
    ds = validate_source(_settings(d))
    assert ds.report.issues == []
    assert ds.cases["queue"].to_list() == ["q x ", "NA"]  # "NA" is a value unless listed in null_values
    assert ds.agents["name"].to_list() == ["Ängel"]


def test_every_character_strip_removes_is_outside_the_skip_bounds():
    """_may_hold_blanks relies on white space being <= U+0020 or >= U+0085."""
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    s = pl.Series(chars)
    stripped = s.filter(s.str.strip_chars() == "").to_list()
    assert len(stripped) >= 25  # Unicode White_Space
    assert all(c <= " " or c >= "\u0085" for c in stripped)


TEXT = st.lists(
    st.text(
        alphabet=st.sampled_from(["a", "N", "A", "/", "n", " ", "\t", "\u00a0", "\u3000", "é", "!"]),
        max_size=5,
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(values=TEXT, nulls=st.sampled_from([(), ("NA",), ("n/a", "N/A"), (" NA",)]))
def test_skipped_text_columns_would_not_change(values, nulls):
    df = pl.DataFrame({"c": values})
    full = df.with_columns(
        pl.when(pl.col("c").str.strip_chars().is_in(["", *nulls]))
        .then(None)
        .otherwise(pl.col("c"))
        .alias("c")
    )
    if V._may_hold_blanks(df, ["c"], list(nulls)) == []:
        assert full["c"].to_list() == values


# ---------------------------------------------------------------- E: text timestamps


def _chain(values: list[str | None], tz: str, epoch: bool = False) -> list:
    """``epoch``: microseconds since 1970 (Python's datetime has no year before 1)."""
    cfg = SourceConfig(location="x", timezone=tz)
    out = pl.DataFrame({"created_at": values}, schema={"created_at": pl.String}).select(
        V._timestamp_expr("created_at", cfg)
    )["created_at"]
    return (out.dt.epoch("us") if epoch else out).to_list()


def _typed(values: list[str | None], tz: str, epoch: bool = False) -> list:
    from tsdash.sources.read import RawTable

    cfg = SourceConfig(location="x", timezone=tz)
    df = pl.DataFrame({"created_at": values}, schema={"created_at": pl.String}).with_row_index(
        V.ROW, offset=1
    )
    from tsdash.dataset import ValidationReport

    ctx = V._Ctx(RawTable("cases", "t", df), cfg, ValidationReport("t"))
    res = V._typed(ctx, df.with_columns(pl.col(V.ROW).cast(pl.Int64)))
    if res is None:  # no value readable (fatal): every one of them read as null
        assert ctx.report.fatal
        return [None] * len(values)
    typed, _bad = res
    return (typed["created_at"].dt.epoch("us") if epoch else typed["created_at"]).to_list()


STAMPS = [
    "2026-01-01 10:00:00",
    "2026-01-01 10:00:00.250000",
    "2026-01-01 10:00:00.5",
    " 2026-01-01 10:00:00 ",
    "2026-01-01T10:00:00Z",
    "2026-01-01T10:00:00.123+02:00",
    "2026-01-01 10:00:00+0530",
    "2026-01-01 10:00",
    "2026-01-01",
    "2026-03-29 02:30:00",  # Europe/Berlin: does not exist (clocks jump 02:00 -> 03:00)
    "2026-10-25 02:30:00",  # Europe/Berlin: happens twice (the earliest is taken)
    "01/02/2026 10:00",
    "yesterday",
    "",
    None,
]


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_text_timestamps_read_as_the_fallback_chain_reads_them(tz):
    assert _typed(STAMPS, tz) == _chain(STAMPS, tz)
    got = dict(zip(STAMPS, _typed(STAMPS, "Europe/Berlin"), strict=True))
    assert got["2026-01-01 10:00:00.250000"] == dt.datetime(2026, 1, 1, 9, 0, 0, 250000, tzinfo=UTC)
    assert got["2026-01-01T10:00:00.123+02:00"] == dt.datetime(2026, 1, 1, 8, 0, 0, 123000, tzinfo=UTC)
    assert got["2026-03-29 02:30:00"] is None
    assert got["2026-10-25 02:30:00"] == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


PIECES = st.sampled_from(
    [
        "2026",
        "-",
        "01",
        "12",
        "31",
        "29",
        "02",
        " ",
        "T",
        ":",
        "00",
        "59",
        "30",
        ".",
        "5",
        "123456",
        "Z",
        "+02:00",
        "x",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.lists(PIECES, max_size=12).map("".join), min_size=1, max_size=6))
def test_random_text_timestamps_read_as_the_chain_reads_them(values):
    assert _typed(values, "Europe/Berlin") == _chain(values, "Europe/Berlin")


def _writer_like(draw) -> str:
    """Text in or near the writer's shape ``YYYY-MM-DD HH:MM:SS.ffffff``: mostly that shape with
    fields in or just out of range (month 0-13, day 0-32, hour 0-25, ...), sometimes a field of
    other digits, another separator, a fraction of 0-9 digits or none, a blank, sign or suffix."""

    def mostly(clean, *odd):
        return draw(st.one_of(*([clean] * 6), *odd))

    digits = st.text("0123456789", min_size=1, max_size=5)
    year = st.sampled_from(["2026", "2024", "2023", "1999", "2100", "1900", "0001"])
    parts = [mostly(st.just(""), st.sampled_from([" ", "+", "-"])), mostly(year, digits)]
    for sep, top in zip(["-", "-", " ", ":", ":"], [13, 32, 25, 61, 61], strict=True):
        parts.append(mostly(st.just(sep), st.sampled_from(["T", "/", ".", ""])))
        parts.append(mostly(st.integers(0, top).map("{:02d}".format), digits))
    six = st.text("0123456789", min_size=6, max_size=6)
    parts.append(
        mostly(six.map(".{}".format), st.just(""), st.text("0123456789", max_size=9).map(".{}".format))
    )
    parts.append(mostly(st.just(""), st.sampled_from([" ", "Z", "x", "+01:00"])))
    return "".join(parts)


writer_like = st.composite(_writer_like)
# the writer's own text for instants from 1900 to 2100 (leap days, the turn of a century)
written = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 12, 31)).map(
    lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f")
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.one_of(written, writer_like()), min_size=1, max_size=40))
def test_fixed_width_pass_reads_what_the_naive_format_reads(values):
    """FIXED_TS_FORMAT is a fast first pass: every value it reads must get the instant
    NAIVE_TS_FORMAT gives it, and the whole read must stay the fallback chain's. (About half
    the values drawn are in the writer's shape; a probe of 400 examples: 1,080 of 2,371.)"""
    s = pl.Series(values, dtype=pl.String)
    fixed = s.str.to_datetime(V.FIXED_TS_FORMAT, strict=False, time_unit="us", cache=False)
    naive = s.str.to_datetime(V.NAIVE_TS_FORMAT, strict=False, time_unit="us")
    for v, f, n in zip(values, fixed.dt.epoch("us"), naive.dt.epoch("us"), strict=True):
        assert f is None or f == n, v
    assert _typed(values, "Europe/Berlin", epoch=True) == _chain(values, "Europe/Berlin", epoch=True)


def test_fixed_width_pass_then_the_odd_values_alone():
    """Eleven values in the writer's shape and one without a fraction (read on its own by the
    naive format, put in place) and one with an offset (the chain): every one as the chain
    reads it, the instants as written (UTC source)."""
    values = [f"2026-03-{d:02d} 08:15:30.{d:06d}" for d in range(1, 12)]
    values += ["2026-03-12 08:15:30", "2026-03-13T08:15:30+02:00"]
    got = _typed(values, "UTC")
    assert got == _chain(values, "UTC")
    assert got[0] == dt.datetime(2026, 3, 1, 8, 15, 30, 1, tzinfo=UTC)
    assert got[10] == dt.datetime(2026, 3, 11, 8, 15, 30, 11, tzinfo=UTC)
    assert got[11] == dt.datetime(2026, 3, 12, 8, 15, 30, tzinfo=UTC)
    assert got[12] == dt.datetime(2026, 3, 13, 6, 15, 30, tzinfo=UTC)
    # mostly without a fraction: the naive format reads the whole column again
    seconds = [f"2026-03-{d:02d} 08:15:30" for d in range(1, 12)] + ["2026-03-12 08:15:30.000250"]
    got = _typed(seconds, "Europe/Berlin")
    assert got == _chain(seconds, "Europe/Berlin")
    assert got[0] == dt.datetime(2026, 3, 1, 7, 15, 30, tzinfo=UTC)
    assert got[11] == dt.datetime(2026, 3, 12, 7, 15, 30, 250, tzinfo=UTC)


def test_sqlite_text_timestamps_of_the_writer_and_others(tmp_path):
    db = tmp_path / "t.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE agents (agent_id TEXT, name TEXT, team TEXT)")
    con.execute("INSERT INTO agents VALUES ('A1','Ann','T1')")
    con.execute("CREATE TABLE cases (case_id TEXT, created_at TEXT, queue TEXT, resolved_at TEXT)")
    con.executemany(
        "INSERT INTO cases VALUES (?,?,?,?)",
        [
            ("C1", "2026-01-01 10:00:00.000000", "q", "2026-01-01 11:30:00.500000"),
            ("C2", "2026-01-01T10:00:00+01:00", "q", None),
            ("C3", "2026-01-01 10:00", "q", "not a time"),
        ],
    )
    con.commit()
    con.close()
    ds = validate_source(_settings(f"sqlite:///{db}"))
    assert ds.cases.select("case_id", "created_at", "resolved_at").rows() == [
        (
            "C1",
            dt.datetime(2026, 1, 1, 10, tzinfo=UTC),
            dt.datetime(2026, 1, 1, 11, 30, 0, 500000, tzinfo=UTC),
        ),
        ("C2", dt.datetime(2026, 1, 1, 9, tzinfo=UTC), None),
    ]
    [bad] = [i for i in ds.report.issues if i.rule == "unreadable_value"]
    assert (bad.row, bad.column, bad.value) == (3, "resolved_at", "not a time")


# ---------------------------------------------------------------- B: repeated ids


IDS = st.lists(st.one_of(st.none(), st.sampled_from(["C1", "C2", "C3", "C10", "c2"])), max_size=12)


@settings(max_examples=300, deadline=None)
@given(ids=IDS, order=st.sampled_from(["as is", "ascending", "descending"]))
def test_repeat_mask_is_every_non_first_occurrence(ids, order):
    if order != "as is":
        ids = sorted((i for i in ids if i is not None), reverse=order == "descending")
    df = pl.DataFrame({"id": ids}, schema={"id": pl.String})
    got = df.select(V._repeat_mask(df["id"]))["id"].to_list()
    seen: set[str] = set()
    want = []
    for i in ids:
        want.append(i is not None and i in seen)
        if i is not None:
            seen.add(i)
    assert got == want


@pytest.mark.parametrize("ids", [["C1", "C2", "C2", "C3", "C2"], ["C1", "C2", "C2", "C2", "C3"]])
def test_repeated_case_ids_quarantined_sorted_or_not(tmp_path, ids):
    d = tmp_path / "pq"
    t = dt.datetime(2026, 1, 1, 10, tzinfo=UTC)
    _write_parquet(
        d,
        agents=pl.DataFrame({"agent_id": ["A1"], "name": ["Ann"], "team": ["T1"]}),
        cases=pl.DataFrame({"case_id": ids, "created_at": [t] * 5, "queue": ["q"] * 5}),
    )
    ds = validate_source(_settings(d))
    dup = [(i.row, i.record_id, i.message) for i in ds.report.issues if i.rule == "duplicate_id"]
    rows = [r for r in range(2, 6) if ids[r - 1] in ids[: r - 1]]
    assert dup == [
        (
            r,
            ids[r - 1],
            f"cases.parquet, row {r} (id {ids[r - 1]}): repeated id (first occurrence kept) "
            f"(case_id = {ids[r - 1]!r}); row excluded. Fix: give every row its own id, or remove the "
            "repeated row.",
        )
        for r in rows
    ]
    assert ds.cases["case_id"].to_list() == ["C1", "C2", "C3"]
