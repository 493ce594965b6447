"""The standalone scorecard report (tsdash.report) and ``tsdash report agent ...``.

Uses the hand-built team of tests/test_scorecard.py (a1: AHT 1000 s = 16.7 min over 3 cases, team
median 800 s = 13.3 min; SLA 2/3; QA mean 80 over 2 reviews ...).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile

import polars as pl
import pytest

from tests.conftest import ROOT
from tests.test_scorecard import AS_OF, F, tables
from tsdash import report
from tsdash import scorecard as sc
from tsdash.dataset import normalize
from tsdash.metrics import DEFINITIONS

HOSTILE = '<script>alert("x")</script> =HYPERLINK("http://evil") **bold**'


def hostile_tables() -> dict[str, pl.DataFrame]:
    t = tables()
    t["qa_reviews"] = t["qa_reviews"].with_columns(
        pl.when(pl.col("review_id") == "r2")
        .then(pl.lit(HOSTILE))
        .otherwise(pl.col("comment"))
        .alias("comment")
    )
    t["agents"] = t["agents"].with_columns(
        pl.when(pl.col("agent_id") == "a1")
        .then(pl.lit("Ann <b>O'Neil</b>"))
        .otherwise(pl.col("name"))
        .alias("name")
    )
    return t


@pytest.fixture(scope="module")
def card():
    return sc.build(normalize(hostile_tables()), F, "a1")


@pytest.fixture(scope="module")
def page(card):
    return report.render_html(
        card, frozen=True, source="fixture", link="http://localhost:8501/Agent_scorecard?agent=a1"
    )


def tile_values(doc: str) -> dict[str, str]:
    """metric -> the agent's value shown in the report's headline table."""
    return dict(
        re.findall(r'<tr data-metric="([a-z_]+)"><td>[^<]*</td><td class="value num">([^<]*)</td>', doc)
    )


def test_headline_numbers(page):
    assert tile_values(page) == {
        "throughput": "3",
        "aht": "16.7 min",
        "first_response": "20.0 min",
        "sla_attainment": "66.7%",
        "qa_mean": "80.0",
        "qa_pass_rate": "50.0%",
        "escalation_rate": "25.0%",
        "reopen_rate": "0.0%",
        "utilization": "10.4%",  # 3000 / 28800
    }
    assert '<td class="num team">13.3 min (3 agents)</td>' in page  # team median AHT 800 s


def test_scope_as_of_filters_and_definitions(page):
    assert "Tue 3 Mar 2026" not in page.split("<h2")[0]  # the header shows the period, not random days
    assert "Mon 2 Mar 2026 to Sun 8 Mar 2026 (7 days, UTC)" in page
    assert "Mon 9 Mar 2026 12:00 (frozen)" in page
    assert "<th>Filters</th><td>none</td>" in page
    for key in sc.TILE_KEYS:
        assert f"<dt>{DEFINITIONS[key].label}</dt>" in page
    assert "Team median: the median, over the team" in page
    assert f"at least {sc.CRITICAL_MIN} QA reviews with a critical error" in page.replace(
        "At least", "at least"
    )


def test_talking_points_are_in_the_report(page, card):
    assert len(card.talking_points) == 5
    for p in card.talking_points:
        assert report.html.escape(p.text, quote=True) in page


def test_plotly_is_inlined_once_and_nothing_is_fetched(page, card):
    assert page.count("* plotly.js v") == 1
    assert page.count("Plotly.newPlot(") == len(report.figures(card)) > 0
    # no external script, stylesheet, image, frame or font reference
    refs = re.findall(r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*>", page, flags=re.I)
    for tag in refs:
        assert not re.search(r"""(?:src|href|data)\s*=\s*["']?(?:https?:)?//""", tag, flags=re.I), tag
    assert not re.search(r"""@import\s+url\(\s*["']?(?:https?:)?//""", page)
    assert "cdn.plot.ly/plotly" not in page.split("* plotly.js v")[0]  # nothing before the bundle


def test_data_text_is_escaped(page):
    assert HOSTILE not in page and "<b>O'Neil</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "Ann &lt;b&gt;O&#x27;Neil&lt;/b&gt; (a1)" in page


def test_report_without_qa_or_shifts():
    t = tables()
    for name in ("qa_reviews", "qa_criteria", "shifts"):
        del t[name]
    card = sc.build(normalize(t), F, "a1")
    doc = report.render_html(card)
    assert "No QA data: the source has no qa_reviews table." in doc
    assert set(tile_values(doc)) == {
        "throughput",
        "aht",
        "first_response",
        "sla_attainment",
        "escalation_rate",
        "reopen_rate",
    }
    assert "trend_qa_mean" not in [f.key for f in report.figures(card)]


def test_csv_bundle(card):
    z = zipfile.ZipFile(io.BytesIO(report.csv_bundle(card, frozen=True)))
    names = z.namelist()
    assert names[0] == "README.txt"
    assert sorted(names[1:]) == sorted(f"{n}.csv" for n in card.tables())
    readme = z.read("README.txt").decode()
    assert "As of: Mon 9 Mar 2026 12:00 (frozen)" in readme
    tiles = pl.read_csv(z.read("tiles.csv"))
    row = tiles.filter(pl.col("metric") == "aht").row(0, named=True)
    assert (row["value"], row["n"], row["team_median"], row["previous"]) == (1000.0, 3, 800.0, 1200.0)
    reviews = z.read("qa_recent_reviews.csv").decode()
    assert "'=HYPERLINK" not in reviews  # the comment starts with '<', not a formula
    crit = pl.read_csv(z.read("qa_criteria.csv"))
    assert crit.select("criterion", "gap").rows() == [("documentation", -15.0), ("policy_accuracy", 5.0)]


def test_csv_bundle_neutralises_formulas():
    t = tables()
    t["qa_reviews"] = t["qa_reviews"].with_columns(
        pl.when(pl.col("review_id") == "r2")
        .then(pl.lit("=1+2"))
        .otherwise(pl.col("comment"))
        .alias("comment")
    )
    card = sc.build(normalize(t), F, "a1")
    z = zipfile.ZipFile(io.BytesIO(report.csv_bundle(card)))
    assert "'=1+2" in z.read("qa_recent_reviews.csv").decode()


def test_report_name(card):
    assert report.report_name(card) == "scorecard_a1_2026-03-02_2026-03-08.html"
    assert report.report_name(card, "zip").endswith(".zip")


# ------------------------------------------------------------------------------ CLI


@pytest.fixture
def source(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    for name, df in tables().items():
        df.write_parquet(folder / f"{name}.parquet")
    monkeypatch.setenv("TSDASH_ROOT", str(tmp_path))
    monkeypatch.setenv("TSDASH_DISPLAY_TZ", "UTC")
    monkeypatch.delenv("TSDASH_SOURCE", raising=False)
    return str(folder)


def _run(*args: str) -> tuple[int, str, str]:
    from tsdash.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def test_cli_writes_the_same_report(source, tmp_path, card):
    out = tmp_path / "a1.html"
    z = tmp_path / "a1.zip"
    code, stdout, stderr = _run(
        "report", "agent", "a1", "--from", "2026-03-02", "--to", "2026-03-08", "--source", source,
        "--as-of", AS_OF.isoformat(), "--out", str(out), "--csv", str(z),
    )  # fmt: skip
    assert (code, stderr) == (0, "")
    assert stdout.strip() == f"report written to {out} and {z}"
    doc = out.read_text(encoding="utf-8")
    assert tile_values(doc)["aht"] == "16.7 min" and tile_values(doc)["sla_attainment"] == "66.7%"
    assert "Mon 9 Mar 2026 12:00 (frozen)" in doc
    assert "tiles.csv" in zipfile.ZipFile(z).namelist()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("zz", "--from", "2026-03-02", "--to", "2026-03-08"),
            "unknown agent 'zz'; known agents: a1, a2, a3, a4, b1",
        ),
        (("a1", "--from", "2026-03-32", "--to", "2026-03-08"), "--from '2026-03-32' is not a date"),
        (("a1", "--from", "2026-03-09", "--to", "2026-03-08"), "--from 2026-03-09 is after --to 2026-03-08"),
        (
            ("a1", "--from", "2026-03-02", "--to", "2026-03-08", "--tz", "Mars/Base"),
            "--tz 'Mars/Base' is not a known",
        ),
        (
            ("a1", "--from", "2026-03-02", "--to", "2026-03-08", "--as-of", "yesterday"),
            "--as-of 'yesterday' is not",
        ),
    ],
)
def test_cli_usage_errors_exit_2_with_one_line(source, tmp_path, args, message):
    out = tmp_path / "x.html"
    code, stdout, stderr = _run("report", "agent", *args, "--source", source, "--out", str(out))
    assert code == 2
    assert stderr.count("\n") == 1 and message in stderr
    assert not out.exists()


def test_cli_bad_out_path(source, tmp_path):
    code, _, stderr = _run(
        "report", "agent", "a1", "--from", "2026-03-02", "--to", "2026-03-08", "--source", source,
        "--out", str(tmp_path / "missing" / "x.html"),
    )  # fmt: skip
    assert code == 2 and "does not exist" in stderr


def test_cli_report_path_imports_no_streamlit(source, tmp_path):
    out = tmp_path / "r.html"
    code = (
        "import sys; from tsdash.cli import main; "
        f"rc = main(['report', 'agent', 'a1', '--from', '2026-03-02', '--to', '2026-03-08', '--source', {source!r}, "
        f"'--as-of', '{AS_OF.isoformat()}', '--out', {str(out)!r}]); "
        "assert rc == 0, rc; assert 'streamlit' not in sys.modules, 'streamlit imported'; print('ok')"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("ok")
