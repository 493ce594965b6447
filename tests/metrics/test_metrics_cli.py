"""`tsdash metrics`: output format, columns, ordering and exit code 2 for usage errors."""

from __future__ import annotations

import argparse
import csv
import io
import json

import pytest

from tsdash.config import Settings
from tsdash.metrics import cli
from tsdash.metrics.example import example_dataset

SIX = {
    "flow": ["date", "inflow", "outflow", "backlog"],
    "handle-time": ["agent_id", "week", "cases", "aht_s", "median_s", "p90_s"],
    "quality": ["agent_id", "week", "reviews", "mean_score", "pass_rate", "critical_errors"],
    "escalations": ["week", "created", "escalated", "escalation_rate"],
    "sla": ["week", "resolved", "within_sla", "sla_attainment"],
    "backlog-now": ["queue", "priority", "open", "unassigned", "breached", "oldest_age_s"],
}
WINDOW = ["--from", "2026-03-02", "--to", "2026-03-04", "--as-of", "2026-03-05T12:00:00+00:00"]


@pytest.fixture(scope="module")
def ds():
    return example_dataset()


def call(ds, argv, settings=None):
    parser = argparse.ArgumentParser(prog="tsdash metrics")
    cli.add_arguments(parser)
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    seen = {}

    def loader(source, tz):
        seen["source"], seen["tz"] = source, tz
        return ds

    rc = cli.run(args, loader, settings or Settings(), stdout=out, stderr=err)
    return rc, out.getvalue(), err.getvalue(), seen


@pytest.mark.parametrize("name", list(SIX))
def test_six_tables_have_exact_columns(ds, name):
    rc, out, err, _ = call(ds, [name, *WINDOW])
    assert rc == 0 and err == ""
    reader = list(csv.reader(io.StringIO(out)))
    assert reader[0] == SIX[name]
    assert len(reader) > 1


def test_flow_csv(ds):
    rc, out, _, _ = call(ds, ["flow", *WINDOW])
    assert out == "date,inflow,outflow,backlog\n2026-03-02,4,2,4\n2026-03-03,2,3,3\n2026-03-04,3,2,4\n"


def test_numbers_unrounded_and_weeks_as_monday(ds):
    _, out, _, _ = call(ds, ["escalations", *WINDOW])
    assert out.splitlines()[1] == "2026-03-02,9,4,0.4444444444444444"
    _, out, _, _ = call(ds, ["backlog-now", "--as-of", "2026-03-05T12:00:00Z"])
    assert out.splitlines()[4] == "policy,low,1,0,1,518400.0"


def test_rows_sorted_by_keys(ds):
    _, out, _, _ = call(ds, ["sla", *WINDOW, "--by", "queue,agent_id"])
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["queue", "agent_id", "resolved", "within_sla", "sla_attainment"]
    keys = [tuple(r[:2]) for r in rows[1:]]
    assert keys == sorted(keys)
    assert keys == [
        ("disputes", "a1"),
        ("fraud", "a1"),
        ("fraud", "a2"),
        ("fraud", "a3"),
        ("policy", "a2"),
        ("policy", "a3"),
    ]


def test_filters_repeatable(ds):
    _, out, _, _ = call(ds, ["handle-time", *WINDOW, "--agent", "a1", "--agent", "a3", "--by", "agent_id"])
    assert [r.split(",")[0] for r in out.splitlines()[1:]] == ["a1", "a3"]
    _, out, _, _ = call(ds, ["flow", *WINDOW, "--team", "T1"])
    assert out.splitlines()[1:] == ["2026-03-02,2,2,1", "2026-03-03,1,2,0", "2026-03-04,3,1,2"]
    _, out, _, _ = call(ds, ["escalations", *WINDOW, "--queue", "policy", "--priority", "normal"])
    assert out.splitlines()[1] == "2026-03-02,2,1,0.5"  # c04, c13 (escalated)


def test_json_and_table_formats(ds):
    _, out, _, _ = call(ds, ["quality", *WINDOW, "--format", "json"])
    data = json.loads(out)
    assert data[0] == {
        "agent_id": "a1",
        "week": "2026-03-02",
        "reviews": 2,
        "mean_score": 90.0,
        "pass_rate": 0.5,
        "critical_errors": 1,
    }
    _, out, _, _ = call(ds, ["quality", *WINDOW, "--format", "table"])
    assert "agent_id" in out and "2026-03-02" in out and "a3" in out


def test_empty_window_prints_header_only(ds):
    rc, out, err, _ = call(ds, ["sla", "--from", "2020-01-01", "--to", "2020-01-31"])
    assert (rc, out, err) == (0, "week,resolved,within_sla,sla_attainment\n", "")
    rc, out, _, _ = call(ds, ["sla", "--from", "2020-01-01", "--to", "2020-01-31", "--format", "json"])
    assert json.loads(out) == []


def test_tz_and_naive_as_of(ds):
    # --as-of without offset is read in --tz: 13:00 Berlin = 12:00 UTC = the example's as-of
    _, out, _, seen = call(
        ds, ["backlog-now", "--tz", "Europe/Berlin", "--as-of", "2026-03-05T13:00", "--by", "queue"]
    )
    assert seen["tz"] == "Europe/Berlin"
    assert out.splitlines()[1:] == ["disputes,1,0,0,50400.0", "fraud,2,0,0,93600.0", "policy,2,1,2,518400.0"]


def test_default_tz_from_settings(ds):
    _, _, _, seen = call(ds, ["flow", *WINDOW], settings=Settings(display_tz="Asia/Tokyo"))
    assert seen["tz"] == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bogus", *WINDOW], "unknown metric 'bogus'"),
        (["flow", "--from", "2026-03-32", "--to", "2026-04-01"], "--from '2026-03-32' is not a date"),
        (
            ["flow", "--from", "2026-03-05", "--to", "2026-03-01"],
            "--from 2026-03-05 is after --to 2026-03-01",
        ),
        (["flow", "--to", "2026-03-01"], "flow needs a window"),
        (["flow", *WINDOW, "--agent", "zz"], "unknown agent 'zz'; known: a1, a2, a3"),
        (["flow", *WINDOW, "--team", "Nope"], "unknown team 'Nope'"),
        (["flow", *WINDOW, "--queue", "nope"], "unknown queue 'nope'"),
        (["flow", *WINDOW, "--by", "colour"], "flow cannot be grouped by 'colour'"),
        (["flow", *WINDOW, "--by", "date,week"], "date or by week"),
        (["flow", *WINDOW, "--tz", "Mars/Base"], "--tz 'Mars/Base' is not a known time zone"),
        (["flow", "--from", "2026-03-02", "--to", "2026-03-04", "--as-of", "tomorrow"], "--as-of 'tomorrow'"),
        (["flow", *WINDOW, "--format", "xml"], "--format 'xml' is not supported"),
    ],
)
def test_usage_errors_exit_2_with_one_line(ds, argv, message):
    rc, out, err, _ = call(ds, argv)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("tsdash metrics: ") and message in err


def test_loader_failure_exits_1(ds):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    err = io.StringIO()

    def loader(source, tz):
        raise OSError("cannot open /nowhere: no such folder")

    rc = cli.run(parser.parse_args(["flow", *WINDOW]), loader, Settings(), stdout=io.StringIO(), stderr=err)
    assert rc == 1 and "cannot open /nowhere" in err.getvalue()


def test_priority_known_from_config(ds):
    # "low" is a configured priority even where no case has it; "critical" is unknown
    assert call(ds, ["sla", *WINDOW, "--priority", "low"])[0] == 0
    assert call(ds, ["sla", *WINDOW, "--priority", "critical"])[0] == 2


def test_tsdash_metrics_end_to_end_on_demo_folder(tmp_path, capsys):
    """Through the real `tsdash` entry point: demo data written to a folder, the six tables printed."""
    import datetime as dt

    from tsdash.cli import main
    from tsdash.demo import generate_to

    generate_to(
        str(tmp_path / "demo"), days=14, agents=6, seed=5, now=dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)
    )
    for name, cols in SIX.items():
        argv = [
            "metrics",
            name,
            "--source",
            str(tmp_path / "demo"),
            "--from",
            "2026-03-11",
            "--to",
            "2026-03-19",
        ]
        rc = main([*argv, "--tz", "Europe/Berlin", "--as-of", "2026-03-20T12:00:00Z"])
        out = capsys.readouterr().out
        assert rc == 0, name
        lines = list(csv.reader(io.StringIO(out)))
        assert lines[0] == cols and len(lines) > 1, name
    assert (
        main(
            [
                "metrics",
                "flow",
                "--source",
                str(tmp_path / "demo"),
                "--from",
                "2026-03-19",
                "--to",
                "2026-03-11",
            ]
        )
        == 2
    )
    assert "is after --to" in capsys.readouterr().err
