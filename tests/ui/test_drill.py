"""The drill-down component: the case table (hand-computed on the UI fixture), chart selections,
and the list in AppTest (selecting a row opens the case with the filters kept)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import ANCHOR, APP, HOSTILE_NAME, TIMEOUT, fixture_tables, write_sqlite
from tsdash.dataset import normalize
from tsdash.metrics import Filter
from tsdash.ui.drill import case_rows, selected_points, selected_row

CASES_PAGE = "pages/7_Cases.py"
NAMES = {"A1": "Ann Lee (A1)", "A2": "Bo Chen", "A3": HOSTILE_NAME, "A4": "Ann Lee (A4)"}


def _t(days_before: float, hours: float = 0) -> dt.datetime:
    return ANCHOR - dt.timedelta(days=days_before) + dt.timedelta(hours=hours)


def _tables():
    tables = fixture_tables()
    tables["qa_reviews"] = pl.DataFrame(
        {
            "review_id": ["R1", "R2"],
            "case_id": ["C1", "C5"],
            "agent_id": ["A1", "A4"],
            "reviewed_at": [_t(7), _t(0, -1)],
            "score": [85.0, 60.0],
        }
    )
    return tables


@pytest.fixture(scope="module")
def ds():
    return normalize(_tables())


def _filter(as_of: dt.datetime, tz: str = "UTC", **dims) -> Filter:
    return Filter(ANCHOR.date() - dt.timedelta(days=9), ANCHOR.date(), tz=tz, as_of=as_of, **dims)


def test_case_rows_at_the_anchor(ds):
    ids = pl.DataFrame({"case_id": ["C6", "C1", "C2", "C3", "C4", "C5"]})
    out = case_rows(ds, _filter(ANCHOR), ids, NAMES)
    assert out.columns == [
        "Case",
        "Created",
        "Queue",
        "Priority",
        "Agent",
        "Status",
        "Hours",
        "SLA",
        "Escalated",
    ]
    rows = {r["Case"]: r for r in out.iter_rows(named=True)}
    assert out["Case"].to_list() == ["C6", "C1", "C2", "C3", "C4", "C5"]  # input order kept
    # C1 high (24 h target) resolved exactly 24 h after creation: met (resolved <= due)
    assert (rows["C1"]["Status"], rows["C1"]["Hours"], rows["C1"]["SLA"]) == ("resolved", 24.0, "met")
    # C2 urgent (4 h) resolved after 24 h: missed; C5 urgent resolved after 12 h: missed
    assert (rows["C2"]["Hours"], rows["C2"]["SLA"]) == (24.0, "missed")
    assert (rows["C5"]["Hours"], rows["C5"]["SLA"]) == (12.0, "missed")
    # C3 normal (48 h), open 72 h: breached; C4 low (120 h), open 48 h: on track, unassigned
    assert (rows["C3"]["Status"], rows["C3"]["Hours"], rows["C3"]["SLA"]) == ("open", 72.0, "breached")
    assert (rows["C4"]["Agent"], rows["C4"]["Hours"], rows["C4"]["SLA"]) == ("(unassigned)", 48.0, "on track")
    assert (rows["C6"]["Hours"], rows["C6"]["SLA"]) == (2.0, "on track")
    assert rows["C3"]["Agent"] == HOSTILE_NAME and rows["C1"]["Agent"] == "Ann Lee (A1)"
    assert rows["C6"]["Created"] == (ANCHOR - dt.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    assert rows["C1"]["Queue"] == "payments_fraud" and rows["C2"]["Priority"] == "urgent"
    assert not any(out["Escalated"].to_list())


def test_case_rows_due_soon_and_display_zone(ds):
    # C6 (normal, created anchor - 2 h) is due at anchor + 46 h
    due = ANCHOR + dt.timedelta(hours=46)
    soon = case_rows(ds, _filter(due - dt.timedelta(minutes=30)), pl.DataFrame({"case_id": ["C6"]}))
    later = case_rows(ds, _filter(due - dt.timedelta(hours=3)), pl.DataFrame({"case_id": ["C6"]}))
    assert soon["SLA"].to_list() == ["due < 1 h"] and soon["Hours"].to_list() == [47.5]
    assert later["SLA"].to_list() == ["due < 4 h"]
    tokyo = case_rows(ds, _filter(ANCHOR, tz="Asia/Tokyo"), pl.DataFrame({"case_id": ["C6"]}))
    assert tokyo["Created"].to_list() == [(ANCHOR + dt.timedelta(hours=7)).strftime("%Y-%m-%d %H:%M")]
    assert tokyo["Agent"].to_list() == ["A1"]  # no names given: the id


def test_case_rows_as_of_masks_later_facts(ds):
    # one hour before C2 was resolved: C2 is open (23 h old) and past its urgent 4 h target;
    # C3..C6 do not exist yet (their fields are empty, the id is kept); dimension filters do not hide rows
    as_of = _t(5, -1)
    out = case_rows(
        ds, _filter(as_of, queues=("buyer_disputes",)), pl.DataFrame({"case_id": ["C2", "C6", "NOPE"]})
    )
    c2, c6, nope = out.iter_rows(named=True)
    assert (c2["Status"], c2["Hours"], c2["SLA"]) == ("open", 23.0, "breached")
    assert c6["Case"] == "C6" and c6["Status"] is None and c6["Created"] is None and c6["Agent"] is None
    assert nope["Case"] == "NOPE" and nope["SLA"] is None


def test_case_rows_of_reviews_and_criteria(ds):
    reviews = ds.qa_reviews.select("review_id", "case_id", "agent_id", "reviewed_at", "score", "comment")
    out = case_rows(ds, _filter(ANCHOR), reviews, NAMES)
    assert out.columns[-2:] == ["Reviewed", "QA score"]
    assert out.select("Case", "QA score").rows() == [("C1", 85.0), ("C5", 60.0)]
    assert out["Reviewed"][0] == _t(7).strftime("%Y-%m-%d %H:%M")
    criteria = pl.DataFrame({"review_id": ["R2", "R1"], "criterion": ["documentation", "documentation"]})
    assert case_rows(ds, _filter(ANCHOR), criteria)["Case"].to_list() == ["C5", "C1"]
    with pytest.raises(ValueError, match="case_id"):
        case_rows(ds, _filter(ANCHOR), pl.DataFrame({"x": [1]}))


def test_case_rows_empty_input(ds):
    out = case_rows(ds, _filter(ANCHOR), pl.DataFrame({"case_id": []}, schema={"case_id": pl.String}))
    assert out.height == 0 and "SLA" in out.columns


def test_selected_points():
    pts = [
        {
            "x": "2026-03-02",
            "y": 4,
            "curve_number": 0,
            "point_index": 0,
            "customdata": ["2026-03-02", "fraud"],
        },
        {
            "x": "2026-03-02",
            "y": 4,
            "curve_number": 1,
            "point_index": 0,
            "customdata": ["2026-03-02", "fraud"],
        },
        {"x": "2026-03-09", "y": 2, "curve_number": 0, "point_index": 1, "customdata": ["2026-03-09", None]},
        {"x": "2026-03-16", "y": 1, "curve_number": 0, "point_index": 2},  # no customdata
    ]
    event = {"selection": {"points": pts, "point_indices": [0, 1, 2]}}
    assert selected_points(event, keys=("week", "queue")) == [
        {"week": "2026-03-02", "queue": "fraud"},
        {"week": "2026-03-09", "queue": None},
    ]
    assert selected_points(event, keys=("week",)) == [{"week": "2026-03-02"}, {"week": "2026-03-09"}]
    raw = selected_points(SimpleNamespace(selection=SimpleNamespace(points=pts)))
    assert len(raw) == 4 and raw[3] == {
        "x": "2026-03-16",
        "y": 1,
        "curve_number": 0,
        "point_index": 2,
        "customdata": [],
    }
    assert selected_points({"points": pts[:1]}, keys=("week",)) == [
        {"week": "2026-03-02"}
    ]  # the selection itself
    single = {"selection": {"points": [{"customdata": "A07"}]}}
    assert selected_points(single, keys=("agent_id",)) == [{"agent_id": "A07"}]
    assert selected_points(None) == [] and selected_points({"selection": {"points": []}}) == []


def test_selected_row():
    assert selected_row({"selection": {"rows": [3], "columns": []}}) == 3
    assert selected_row(SimpleNamespace(selection=SimpleNamespace(rows=[]))) is None
    assert selected_row(None) is None


def test_case_list_selection_opens_the_case_with_the_filters(source_env, tmp_path):
    source_env(write_sqlite(tmp_path / "drill.sqlite", _tables()))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["preset"] = "last_28"
    at.query_params["tz"] = "Europe/Berlin"
    at.switch_page(CASES_PAGE)
    at.run()
    assert not at.exception
    table = at.dataframe(key="cases_list").value
    assert table["Case"].tolist()[:1] and set(table["Case"]) == {"C1", "C2", "C3", "C4", "C5", "C6"}
    pos = table["Case"].tolist().index("C3")
    at.session_state["cases_list"] = {"selection": {"rows": [pos], "columns": []}}
    at.run()
    assert not at.exception
    assert at.query_params["case"] == "C3"
    assert (at.query_params["preset"], at.query_params["tz"]) == ("last_28", "Europe/Berlin")
    assert at.session_state["tsdash_view"].tz == "Europe/Berlin"


def test_case_rows_extra_columns(ds):
    cases = pl.DataFrame({"case_id": ["C4", "C3"], "Reason": ["=cmd|' /C calc'!A0", None]})
    out = case_rows(ds, _filter(ANCHOR), cases, extra=("Reason",))
    assert out.columns[-1] == "Reason" and out.select("Case", "Reason").rows() == [
        ("C4", "=cmd|' /C calc'!A0"),
        ("C3", None),
    ]


@pytest.fixture(scope="module")
def demo_ds():
    from tsdash.demo import generate

    return normalize(generate(days=21, agents=8, seed=5, now=ANCHOR))


@pytest.mark.parametrize("hours_back", [0, 5, 30, 200])
@pytest.mark.parametrize(
    "dims", [{}, {"queues": ("payments_fraud", "counterfeit")}, {"teams": ("Payments & Risk",)}]
)
def test_the_rows_of_the_view_are_the_rows_looked_up(demo_ds, hours_back, dims):
    """The lists Overview and Live show from the view's own rows (``as_of_rows=True``) hold what
    a look-up of their cases gives, with or without a dimension filter, for open and resolved
    cases, escalations and the due-soonest list."""
    from tsdash import metrics as m
    from tsdash.metrics import live_extra as lx
    from tsdash.metrics import quality_extra as qx

    f = _filter(ANCHOR - dt.timedelta(hours=hours_back), tz="Europe/Berlin", **dims)
    measures = ("breached", "due_within_4h", "open_escalations", "unassigned", None)
    frames = dict(m.cases_behind_each(demo_ds, f, "backlog-now", measures))
    frames["escalations"] = qx.open_escalations(demo_ds, f)
    frames["due"] = lx.due_soonest(frames[None], f.resolved_as_of(), limit=25)
    frames["resolved"] = m.cases_behind(demo_ds, f, "handle-time")
    assert frames[None].height >= 5 and frames["resolved"].height >= 20
    if not dims:
        assert frames["escalations"].height and frames["breached"].height
    for name, cases in frames.items():
        cases = cases.sample(fraction=1.0, shuffle=True, seed=1)  # any order is kept
        own = case_rows(demo_ds, f, cases, NAMES, as_of_rows=True)
        looked_up = case_rows(demo_ds, f, cases, NAMES)
        assert own.equals(looked_up), name
    with pytest.raises(ValueError, match="lack due_at"):
        case_rows(demo_ds, f, frames[None].drop("due_at"), as_of_rows=True)
