"""The gate's memory measures, per variant, for zero-latency report-5 runs in one process: load-independent.

    python -m benchmarks.gate_memory --variant V [--variant ...]     (one JSON line per variant on stdout)

Under tracemalloc, after uncounted warm-ups, each of RUNS validated runs gives
- the **peak heap of a run**: the traced heap's peak during the run over what it held just before (the memory
  the run's operations hold at once: report-5's 20 market-data calls and 5 analyses in flight), and
- the **heap retained per run**: after each run and a full collection, what the traced heap still holds; the
  least-squares slope over the runs, with its t interval, is what each run leaves behind (a leak).
Each run is validated after its peak is read (validation's own allocations are not the run's). tracemalloc
counts bytes Python allocates, so neither moves with the machine's load: one process per side
suffices, and it runs beside the instruction counts. PYTHONHASHSEED is fixed. A run that fails validation
stops the worker (exit 3) naming the variant.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
SCENARIO = "report-5"
LATENCY = "zero"
WARMUPS = 3
RUNS = 12
HASH_SEED = "0"
TIMEOUT_S = 600.0


def trace_runs(
    run_once: Callable[[], T], runs: int, warmups: int, check: Callable[[T], object] = lambda result: None
) -> tuple[list[int], list[int]]:
    """(peak heap growth of each run, heap held after each run and a full collection), under tracemalloc.
    `check` vets each run's result after its peak is read, so validation is not counted as the run's memory."""
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    try:
        for _ in range(warmups):
            check(run_once())
        gc.collect()
        peaks: list[int] = []
        held: list[int] = []
        for _ in range(runs):
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            result = run_once()
            peaks.append(tracemalloc.get_traced_memory()[1] - before)
            check(result)
            del result
            gc.collect()
            held.append(tracemalloc.get_traced_memory()[0])
    finally:
        if started_here:
            tracemalloc.stop()
    return peaks, held


def measure_variant(variant: str) -> dict[str, Any]:
    from benchmarks.matrix import with_latency
    from benchmarks.stats import slope_estimate
    from scenarios import shipped_scenarios
    from scenarios.runner import Execution, ScenarioSession
    from scenarios.validate import validate_or_exit

    scenario = with_latency(shipped_scenarios()[SCENARIO], LATENCY)

    def check(execution: Execution) -> None:
        validate_or_exit(execution, f"gate memory {scenario.name}/{variant}")

    with ScenarioSession(scenario, variant, timeout_s=TIMEOUT_S) as session:
        if session.is_async:
            loop = asyncio.new_event_loop()
            try:
                peaks, held = trace_runs(lambda: loop.run_until_complete(session.arun()), RUNS, WARMUPS, check)
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
        else:
            peaks, held = trace_runs(session.run, RUNS, WARMUPS, check)
    retained = slope_estimate(list(range(len(held))), [float(value) for value in held])
    return {
        "variant": variant,
        "scenario": scenario.name,
        "hash": scenario.content_hash,
        "heap_peak": peaks,
        "retained": {"bytes_per_run": retained.value, "low": retained.low, "high": retained.high},
    }


# --- the master side ----------------------------------------------------------------------------


@dataclass
class Pending:
    """A memory worker started with `start`, read with `finish` (it runs while the instruction counts run)."""

    process: subprocess.Popen[str]
    variants: tuple[str, ...]


def start(variants: Sequence[str], cwd: Path | None = None, extra_env: dict[str, str] | None = None) -> Pending:
    command = [sys.executable, "-m", "benchmarks.gate_memory", *(arg for v in variants for arg in ("--variant", v))]
    env = {**os.environ, **(extra_env or {}), "PYTHONHASHSEED": HASH_SEED}
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )  # stderr kept for the message
    return Pending(process, tuple(variants))


def finish(pending: Pending) -> tuple[dict[str, dict[str, Any]], str]:
    """The cases measured ("report-5@zero/<variant>" -> measures) and why the others are missing ("" if none)."""
    try:
        out, err = pending.process.communicate(timeout=TIMEOUT_S * len(pending.variants))
    except subprocess.TimeoutExpired:
        pending.process.kill()
        out, err = pending.process.communicate()
        err += f"\nno result within {TIMEOUT_S * len(pending.variants):.0f} s"
    cases: dict[str, dict[str, Any]] = {}
    for line in out.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        cases[f"{SCENARIO}@{LATENCY}/{record['variant']}"] = record
    missing = len(cases) < len(pending.variants)
    tail = " | ".join(err.strip().splitlines()[-3:]) or "(no message)"
    return cases, f"worker exited with {pending.process.returncode}: {tail}" if missing else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gate_memory", description=__doc__)
    parser.add_argument("--variant", action="append", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("AGNO_TELEMETRY", "false")
    for variant in args.variant:
        print(json.dumps(measure_variant(variant)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
