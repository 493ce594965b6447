"""The pandas script equivalent of ``tsdash metrics NAME``: prints one of the six default tables
as CSV. Run as ``python benchmarks/pandas_cli.py NAME --source FOLDER --from D --to D --tz TZ
--as-of ISO``. It imports pandas (and pyarrow through it) and nothing from tsdash; the SLA
targets and the QA pass mark come from tsdash.toml, read with the standard library.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.pandas_ref import DEFAULT_TARGETS, TABLES, Params  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("metric", choices=list(TABLES))
    ap.add_argument("--source", required=True)
    ap.add_argument("--from", dest="start", required=True)
    ap.add_argument("--to", dest="end", required=True)
    ap.add_argument("--tz", default="UTC")
    ap.add_argument("--as-of", dest="as_of", required=True)
    a = ap.parse_args(argv)
    cfg = tomllib.loads((ROOT / "tsdash.toml").read_text())
    sla = cfg.get("sla", {})
    p = Params(
        Path(a.source),
        dt.date.fromisoformat(a.start),
        dt.date.fromisoformat(a.end),
        a.tz,
        dt.datetime.fromisoformat(a.as_of),
        targets={**DEFAULT_TARGETS, **{k: float(v) for k, v in sla.get("targets_hours", {}).items()}},
        other_hours=float(sla.get("other_hours", 48.0)),
        queue_overrides={
            q: {k: float(v) for k, v in per.items()} for q, per in sla.get("queues", {}).items()
        },
        pass_mark=float(cfg.get("qa", {}).get("pass_mark", 80.0)),
    )
    TABLES[a.metric](p).to_csv(sys.stdout, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
