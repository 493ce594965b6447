"""The read floor of the "from files" budgets: what the pandas script reads, what any loader
that validates the cases must read, and the pandas script's whole time, in interleaved fresh
processes (medians).

    .venv/bin/python benchmarks/floor.py [--size 1m|10m] [--reps 5]

The budget asks tsdash to be 5x faster than the pandas script from the files. The pandas
script reads 2-5 columns of one file and validates nothing. tsdash validates every case it
loads (docs/DATA_CONTRACT.md: a repeated id, a required value missing, a resolution before
creation... exclude the row from every metric), so it reads at least the columns those rules
look at -- ``VALIDATED`` below -- plus the report's own. If the bare read of those columns
alone (no validation, no table) takes more than a fifth of the pandas script's total, no
loader that validates can meet the budget, whatever it does after reading.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import common as C  # noqa: E402
from benchmarks import data as D  # noqa: E402
from benchmarks.run import fmt_ratio, fmt_s, print_table, run_job  # noqa: E402

# the cases columns the row rules of validation read (null_required, duplicate_id, the
# before-created rules, the escalation order, negative handle time)
VALIDATED = (
    "case_id",
    "created_at",
    "queue",
    "resolved_at",
    "first_response_at",
    "escalated_at",
    "escalation_resolved_at",
    "handle_seconds",
)
# the columns benchmarks/pandas_ref.py reads for each table
PANDAS = {
    "flow": {"cases": ["created_at", "resolved_at"]},
    "handle-time": {"cases": ["created_at", "resolved_at", "assigned_agent_id", "handle_seconds"]},
    "quality": {"qa_reviews": ["agent_id", "reviewed_at", "score", "critical_error"]},
    "escalations": {"cases": ["created_at", "escalated", "escalated_at"]},
    "sla": {"cases": ["created_at", "resolved_at", "queue", "priority", "sla_due_at"]},
    "backlog-now": {
        "cases": ["created_at", "resolved_at", "queue", "priority", "assigned_agent_id", "sla_due_at"]
    },
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1m", choices=list(D.SIZES))
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args(argv)
    folder = str(D.parquet_dir(D.SIZES[a.size], log=print))
    times: dict = {}
    for _ in range(a.reps):
        for name in C.SIX:
            validated = {"cases": sorted(set(VALIDATED) | set(PANDAS[name].get("cases", [])))}
            if "qa_reviews" in PANDAS[name]:
                validated["qa_reviews"] = PANDAS[name]["qa_reviews"]
            for key, spec in (
                ("pandas", {"kind": "table", "engine": "pandas", "table": name, "folder": folder}),
                ("read_pandas_cols", {"kind": "read", "folder": folder, "columns": PANDAS[name]}),
                ("read_validated", {"kind": "read", "folder": folder, "columns": validated}),
            ):
                times.setdefault((name, key), []).append(run_job(spec)["secs"])
    rows = []
    for name in C.SIX:
        m = {k: statistics.median(times[(name, k)]) for k in ("pandas", "read_pandas_cols", "read_validated")}
        rows.append(
            [
                name,
                fmt_s(m["pandas"]),
                fmt_s(m["pandas"] / 5),
                fmt_s(m["read_pandas_cols"]),
                fmt_s(m["read_validated"]),
                fmt_ratio(m["read_validated"] / (m["pandas"] / 5)),
            ]
        )
    print_table(
        [
            "table",
            "pandas script (read + table)",
            "budget: pandas / 5",
            "Polars read of pandas' columns",
            "Polars read of the validated columns",
            "validated read / budget",
        ],
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
