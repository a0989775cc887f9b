"""False alarms: run `nox -s gate` N times on unchanged code and count how often it cries wolf.

    python scripts/false_alarms.py [--runs 20] [--rotate 3.11,3.12,3.13] [--out reports/false-alarms.json]
    python scripts/false_alarms.py --rejudge reports/false-alarms.json    (today's thresholds, no measuring)

Run it in a clean checkout (a fresh clone, so nothing changes under it): each run gates the checkout
against its own HEAD, an A/A comparison where every "regression" is a false alarm. The bench
environments must exist (`nox -s bench_env` once); runs use `nox -R`. After every run the tally is
rewritten to --out (JSON), so an interrupted series keeps what it measured. The summary names, per
measure, the false alarms (gating), the alarms an advisory measure would have raised, and the widest
95% interval seen. --rotate gives run i one interpreter, in turn (three times as many runs in the same
time, every interpreter covered). --rejudge decides a stored series again with pyproject.toml's thresholds
as they are now (a threshold changed after a series is then stated, not hidden). Exits 1 if any gating
false alarm occurred.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def one_run(index: int, gate_options: list[str]) -> dict[str, Any]:
    run_id = f"false-alarm-{time.strftime('%Y%m%d-%H%M%S')}-{index:02d}"
    command = ["nox", "-R", "-s", "gate", "--", "--against", "HEAD", *gate_options]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "BENCH_RUN_ID": run_id}, check=False)
    elapsed = time.monotonic() - started
    gate_json = ROOT / "reports" / f"{run_id}-gate" / "gate.json"
    record: dict[str, Any] = {"run": index, "run_id": run_id, "exit_code": done.returncode, "seconds": round(elapsed)}
    if gate_json.exists():
        document = json.loads(gate_json.read_text(encoding="utf-8"))
        record["verdict"] = document["verdict"]
        record["findings"] = document["findings"]
    else:
        record["verdict"] = f"no gate.json (exit {done.returncode})"
        record["findings"] = []
    return record


def rejudge(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same findings decided with today's thresholds and advisory list (pyproject.toml)."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.gate_rules import ABSOLUTE, judge, load_thresholds
    from benchmarks.stats import Estimate

    thresholds = load_thresholds(ROOT / "pyproject.toml")
    decided = []
    for run in runs:
        findings = []
        for f in run["findings"]:
            estimate = None if f["ratio"] is None else Estimate(f["ratio"], f["low"], f["high"])
            threshold = thresholds.of(f["measure"])
            origin = 0.0 if f["measure"] in ABSOLUTE else 1.0
            decision = judge(estimate, threshold, origin)
            findings.append(
                f | {"decision": decision, "threshold": threshold, "gating": thresholds.gating(f["measure"])}
            )
        fails = any(f["gating"] and f["decision"] == "regression" for f in findings)
        undecided = any(f["gating"] and f["decision"] == "undecided" for f in findings)
        decided.append(run | {"findings": findings, "exit_code": 1 if fails else 2 if undecided else 0})
    return decided


def tally(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per measure: comparisons, gating false alarms, would-be alarms of advisory measures, widest interval."""
    measures: dict[str, dict[str, Any]] = {}
    for run in runs:
        for f in run["findings"]:
            entry = measures.setdefault(
                f["measure"], {"comparisons": 0, "false_alarms": 0, "advisory_alarms": 0, "widest": None}
            )
            entry["comparisons"] += 1
            if f["decision"] == "regression":
                entry["false_alarms" if f["gating"] else "advisory_alarms"] += 1
            if f["low"] is not None and f["high"] is not None:
                width = f["high"] - f["low"]
                if entry["widest"] is None or width > entry["widest"]["width"]:
                    entry["widest"] = {
                        "width": round(width, 4),
                        "low": round(f["low"], 4),
                        "high": round(f["high"], 4),
                        "case": f["case"],
                        "python": f["python"],
                        "run": run["run"],
                    }
    return {
        "runs": len(runs),
        "failed_runs": sum(1 for run in runs if run["exit_code"] == 1),
        "unusable_runs": sum(1 for run in runs if run["exit_code"] not in (0, 1)),
        "seconds": sorted(run["seconds"] for run in runs),
        "measures": measures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "false-alarms.json")
    parser.add_argument("--rotate", help="comma-separated interpreters: run i gates on the i-th, in turn")
    parser.add_argument("--rejudge", type=Path, metavar="SERIES", help="decide a stored series with today's thresholds")
    parser.add_argument("gate_options", nargs="*", help="passed to the gate after --")
    args = parser.parse_args(argv)
    if args.rejudge:
        runs = rejudge(json.loads(args.rejudge.read_text(encoding="utf-8"))["runs"])
        result = tally(runs)
        print(json.dumps(result, indent=2))
        return 1 if result["failed_runs"] else 0
    rotation = args.rotate.split(",") if args.rotate else []
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    runs: list[dict[str, Any]] = []
    for index in range(1, args.runs + 1):
        print(f"false alarms: run {index} of {args.runs}", flush=True)
        chosen = ["--python", rotation[(index - 1) % len(rotation)]] if rotation else []
        runs.append(one_run(index, [*args.gate_options, *chosen]))
        summary = {"commit": commit.stdout.strip(), "summary": tally(runs), "runs": runs}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        partial = args.out.with_suffix(".tmp")
        partial.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        partial.replace(args.out)
        print(f"false alarms: run {index}: exit {runs[-1]['exit_code']}, {runs[-1]['verdict']}", flush=True)
    result = tally(runs)
    print(json.dumps(result["measures"], indent=2))
    print(f"{result['failed_runs']} of {result['runs']} runs failed; run times {result['seconds']} s")
    return 1 if result["failed_runs"] else 0


if __name__ == "__main__":
    sys.exit(main())
