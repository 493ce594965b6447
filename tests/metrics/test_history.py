"""The app's pushdown is exact: every table, trend, scorecard and live figure a page shows over a
window equals the same figure on all history, when computed on the rows
:func:`tsdash.metrics.history.history_scope` loads (from Parquet: the reviewed-cases rule and the
lazy predicates run for real)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tsdash import metrics as m
from tsdash import scorecard as sc
from tsdash.config import Settings, SourceConfig
from tsdash.demo import generate
from tsdash.metrics import flow_extra as fx
from tsdash.metrics import live_extra as lx
from tsdash.metrics import quality_extra as qx
from tsdash.metrics.history import HISTORY_DAYS, covers, history_scope, history_start
from tsdash.sources import Scope, load_dataset
from tsdash.sources.write import write_tables

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
TZ = "Europe/Berlin"


def _f(start, end, as_of=None, **dims) -> m.Filter:
    return m.Filter(start, end, tz=TZ, as_of=as_of, **dims)


# (the filter the app's scope is computed from, the same filter pinned for the numbers)
LAST7 = _f(dt.date(2026, 11, 17), dt.date(2026, 11, 23))
LAST28 = _f(dt.date(2026, 10, 27), dt.date(2026, 11, 23))
JUNE_LIVE = _f(dt.date(2026, 6, 1), dt.date(2026, 6, 30))  # a past window, live as-of
JUNE_FROZEN = _f(dt.date(2026, 6, 1), dt.date(2026, 6, 30), as_of=dt.datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
VIEWS = {"last7": LAST7, "last28": LAST28, "june_live": JUNE_LIVE, "june_frozen": JUNE_FROZEN}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """All history (400 days) and the folder it is written to."""
    tables = generate(days=400, agents=12, seed=11, now=NOW)
    folder = tmp_path_factory.mktemp("history") / "pq"
    write_tables(tables, str(folder), fmt="parquet")
    settings = Settings(source=SourceConfig(location=str(folder)))
    return settings, load_dataset(settings)


def _pinned(f: m.Filter) -> m.Filter:
    return f if f.as_of is not None else f.with_(as_of=NOW)


def _eq(a: pl.DataFrame, b: pl.DataFrame, what: str) -> None:
    try:
        assert_frame_equal(a, b)
    except AssertionError as exc:
        raise AssertionError(f"{what}: {exc}") from None


def _same(a, b, what: str) -> None:
    """Equal, floats to 1e-9 (a mean summed in another order differs in the last digit)."""
    if isinstance(a, pl.DataFrame):
        _eq(a, b, what)
    elif dataclasses.is_dataclass(a):
        for field in dataclasses.fields(a):
            _same(getattr(a, field.name), getattr(b, field.name), f"{what}.{field.name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), what
        for k in a:
            _same(a[k], b[k], f"{what}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), what
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{what}[{i}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-9, nan_ok=True), what
    else:
        assert a == b, what


def _figures(ds, f: m.Filter) -> dict[str, pl.DataFrame]:
    """What the pages compute over ``f`` (tables, trends, extras), by name."""
    out: dict[str, pl.DataFrame] = {}
    for name, td in m.TABLES.items():
        out[f"table:{name}"] = td.compute(ds, f, detail=True)
        if "week" in td.allowed_by and td.windowed:
            out[f"table:{name}:week"] = td.compute(ds, f, ("week",), detail=True)
    for key, md in m.DEFINITIONS.items():
        if md.table in m.TABLES and "week" in m.TABLES[md.table].allowed_by:
            out[f"trend:{key}"] = m.trend(ds, f, key)
    out["kpis"] = pl.DataFrame([{"key": k, **dataclasses.asdict(v)} for k, v in m.kpis(ds, f).items()])
    out["workload_agents"] = m.workload_agents(ds, f)
    out["workload_queues"] = m.workload_queues(ds, f)
    out["tenure"] = fx.tenure_aht(ds, f)
    out["clear"] = fx.time_to_clear(ds, f)
    out["agent_load"] = lx.agent_load(ds, f, detail=True, all_agents=True)
    out["open_age"] = lx.open_age(ds, f)
    out["qa_agents"] = qx.qa_agents(ds, f)
    out["criterion_gaps"] = qx.criterion_gaps(ds, f)
    out["reasons"] = qx.escalations_by_reason(ds, f)
    return out


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("dims", [{}, {"queues": ("payments_fraud", "counterfeit")}, {"agents": ("A04",)}])
def test_pages_on_the_history_scope_equal_pages_on_all_history(sources, view, dims):
    settings, full = sources
    f = VIEWS[view]
    scope = history_scope(f)
    scoped = load_dataset(settings, scope)
    assert scoped.cases.height < full.cases.height  # the scope is a strict part of 400 days
    pf = _pinned(f).with_(**dims)
    a, b = _figures(full, pf), _figures(scoped, pf)
    assert a.keys() == b.keys()
    for name in a:
        _eq(a[name], b[name], f"{view} {dims} {name}")
    # the scorecard of the agent under review (trend, talking points) and of a new hire
    for aid in ("A04", "A05"):
        _same(sc.build(full, pf, aid), sc.build(scoped, pf, aid), f"{view} {dims} scorecard {aid}")


def test_the_figures_are_not_vacuous(sources):
    _, full = sources
    f = _pinned(LAST28)
    assert m.TABLES["quality"].compute(full, f)["reviews"].sum() > 20
    assert m.TABLES["backlog-now"].compute(full, f)["open"].sum() > 10
    assert fx.tenure_aht(full, f).height > 0  # the demo's new hire


def test_history_start_and_scope_bounds():
    # Tue 17 Nov - Mon 23 Nov 2026: previous period from 10 Nov; 9 weeks before Monday 16 Nov =
    # 14 Sep; 130 days before 17 Nov = 10 Jul (the earliest) -> from 1 Jul (UTC), less a day.
    assert (
        history_start(LAST7)
        == dt.date(2026, 11, 17) - dt.timedelta(days=HISTORY_DAYS)
        == dt.date(2026, 7, 10)
    )
    s = history_scope(LAST7)
    assert s.since == dt.datetime(2026, 6, 30, tzinfo=UTC)
    assert s.until is None  # live: no upper bound
    # a long custom window: its previous period is the earliest need
    year = _f(dt.date(2026, 1, 1), dt.date(2026, 11, 23))
    assert history_start(year) == dt.date(2026, 1, 1) - dt.timedelta(days=327)
    # frozen: up to two days after the later of the window end and the as-of
    assert history_scope(JUNE_FROZEN).until == dt.datetime(2026, 7, 3, tzinfo=UTC)
    # the next days share a load (one a month); "last 28"'s load serves "last 7" (see covers)
    assert history_scope(LAST7) == history_scope(_f(dt.date(2026, 11, 24), dt.date(2026, 11, 30)))
    assert covers(history_scope(LAST28), history_scope(LAST7))


def test_covers():
    a = Scope(since=dt.datetime(2026, 6, 30, tzinfo=UTC))
    b = Scope(since=dt.datetime(2026, 7, 30, tzinfo=UTC), until=dt.datetime(2026, 9, 1, tzinfo=UTC))
    assert covers(a, b) and not covers(b, a)
    assert covers(Scope(), a)
    assert not covers(a, Scope())
    assert not covers(a, Scope(case_ids=("C1",)))
    assert covers(a, dataclasses.replace(b, queues=("q",)))
