"""tsdash.metrics.cases_as_of: the view's cases for a few case ids, picked before the as-of
masking (what drill-down lists and a case's detail look up), by hand on the example dataset
and against ``view(ds, f).cases`` for any as-of, filter and ids (hypothesis)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from tests.metrics.test_metrics_properties import SETTINGS

from tsdash.dataset import normalize
from tsdash.metrics import Filter, cases_as_of, view
from tsdash.metrics.example import example_dataset, example_tables

UTC = dt.UTC
COLUMNS = [
    "case_id",
    "created_at",
    "resolved_at",
    "first_response_at",
    "escalated",
    "escalated_at",
    "agent_id",
]


def _rows(lf: pl.LazyFrame) -> list[tuple]:
    return sorted(lf.select(COLUMNS).collect().rows(), key=repr)


def test_by_hand_on_the_example():
    ds = example_dataset()
    f = Filter(dt.date(2026, 3, 2), dt.date(2026, 3, 8), as_of=dt.datetime(2026, 3, 3, tzinfo=UTC))
    got = cases_as_of(ds, f, ["c01", "c03", "c03", "c10", None, "nope"]).collect()
    # c01 was resolved 2 Mar 09:00, before as-of; c03 was escalated 2 Mar 11:00 and resolved
    # 3 Mar 09:00, after as-of (not known yet); c10 was created 5 Mar, after as-of: no row
    assert got.select("case_id", "resolved_at", "escalated").rows() == [
        ("c01", dt.datetime(2026, 3, 2, 9, tzinfo=UTC), False),
        ("c03", None, True),
    ]
    # a time at as-of is not known yet; a minute later it is
    at = f.with_(as_of=dt.datetime(2026, 3, 3, 9, tzinfo=UTC))
    assert cases_as_of(ds, at, ["c03"]).collect()["resolved_at"].to_list() == [None]
    later = f.with_(as_of=dt.datetime(2026, 3, 3, 9, 1, tzinfo=UTC))
    assert cases_as_of(ds, later, ["c03"]).collect()["resolved_at"].to_list() == [
        dt.datetime(2026, 3, 3, 9, tzinfo=UTC)
    ]
    # the filter's dimensions apply, as in the view
    assert cases_as_of(ds, f.with_(queues=("nope",)), ["c01", "c03"]).collect().height == 0


def test_a_repeated_case_id_keeps_every_row():
    tables = example_tables()
    cases = tables["cases"]
    tables["cases"] = pl.concat([cases, cases.filter(pl.col("case_id") == "c02")])
    ds = normalize(tables)
    f = Filter(dt.date(2026, 3, 2), dt.date(2026, 3, 8), as_of=dt.datetime(2026, 3, 9, tzinfo=UTC))
    assert cases_as_of(ds, f, ["c02"]).collect().height == 2


@SETTINGS
@given(
    hours=st.integers(min_value=-24, max_value=10 * 24),
    minute=st.sampled_from([0, 1, 59]),
    ids=st.one_of(
        st.just([f"c{i:02d}" for i in range(1, 16)]),  # every case (and two ids not in the data)
        st.lists(st.sampled_from([f"c{i:02d}" for i in range(1, 16)] + ["x", ""]), max_size=8),
    ),
    queues=st.sampled_from([(), ("fraud",), ("disputes", "policy")]),
    agents=st.sampled_from([(), ("a1",), ("a2", "a3")]),
)
def test_the_views_rows_of_those_cases(hours, minute, ids, queues, agents):
    ds = example_dataset()
    as_of = dt.datetime(2026, 2, 28, tzinfo=UTC) + dt.timedelta(hours=hours, minutes=minute)
    f = Filter(
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 8),
        tz="Europe/Berlin",
        as_of=as_of,
        queues=queues,
        agents=agents,
    )
    want = view(ds, f).cases.join(
        pl.LazyFrame({"case_id": ids}, schema={"case_id": pl.String}), on="case_id", how="semi"
    )
    assert _rows(cases_as_of(ds, f, ids)) == _rows(want)
