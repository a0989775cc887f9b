"""Memory: what each variant costs per concurrent operation, in every metric.

    python -m benchmarks.memory --bench-profile quick --run-dir reports/<run-id> [--variant V]

For each variant a fresh worker process holds K market-data calls in flight at once (a
report over ceil(K/4) tickers whose market data waits 300 ms, pool sized to the fan-out) and,
at the moment the K-th call arrives at the mock, samples the process: RSS, USS and VMS
(psutil) and thread count, each as growth over a baseline taken just before the run (after
gc and glibc's malloc_trim, so memory freed by an earlier run is not mistaken for growth).
The same K is then run under tracemalloc (peak traced heap) and under memray's Tracker
(peak heap and allocation count). Marginal memory per operation = least-squares slope over
K, with a 95% bootstrap interval, per metric and variant. Each worker also records the
whole-process peak RSS of one report-25 run, the thread stack reservation, and a memray
flamegraph of its largest K. Every run is validated.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import functools
import gc
import json
import math
import resource
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import memray
import psutil
from rich.console import Console
from rich.table import Table

from benchmarks.environment import environment, python_tag
from benchmarks.matrix import PROFILES, VARIANTS, with_fanout
from benchmarks.run_dir import atomic_write_json, raw_dir
from benchmarks.stats import slope_estimate
from scenarios import Scenario, shipped_scenarios
from scenarios.model import MARKET_DATA_KINDS, Distribution, LatencyModel, load_scenario
from scenarios.runner import Execution, ScenarioSession
from scenarios.validate import ValidationFailed, validate

BASE_FILE = Path(__file__).resolve().parent.parent / "scenarios" / "sweeps" / "memory.toml"
PROCESS_METRICS = ("rss", "uss", "vms")
HEAP_METRICS = ("tracemalloc_peak", "memray_peak", "memray_allocations")
VALIDATION_EXIT_CODE = 3


HOLD_PER_OPERATION_MS = 3.0  # starting 1000 threads and their requests takes well over a second here


def scenario_for(operations: int) -> Scenario:
    """A report whose fetch holds at least `operations` market-data calls (4 per ticker) at once.

    Market data waits the file's base time plus a little per operation, so the last call still
    finds the first ones waiting however long the variant takes to start them all."""
    base = load_scenario(BASE_FILE)
    hold_ms = base.latency_for("quote").ttft.value + HOLD_PER_OPERATION_MS * operations
    held = LatencyModel(ttft=Distribution(value=hold_ms))
    latency = {**base.latency, **{kind: held for kind in MARKET_DATA_KINDS}}
    return with_fanout(replace(base, latency=latency), math.ceil(operations / 4))


def marginal_per_operation(samples: Sequence[dict[str, Any]], metric: str) -> dict[str, float | None]:
    """Slope of a metric over the number of operations in flight, with its 95% interval."""
    points = [(s["operations"], s[metric]) for s in samples if s.get(metric) is not None]
    if len({x for x, _ in points}) < 2:
        return {"bytes_per_operation": None, "low": None, "high": None}
    estimate = slope_estimate([x for x, _ in points], [y for _, y in points])
    return {"bytes_per_operation": estimate.value, "low": estimate.low, "high": estimate.high}


def leak_slope(run_once: Callable[[], object], runs: int, warmups: int = 2) -> dict[str, float | None]:
    """Run-after-run series: traced bytes still held after each run (after a full collection,
    so garbage awaiting the cycle collector is not counted). An interval wholly above zero is a leak."""
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    try:
        for _ in range(warmups):
            run_once()
        series: list[float] = []
        for _ in range(runs):
            run_once()
            gc.collect()
            series.append(float(tracemalloc.get_traced_memory()[0]))
    finally:
        if started_here:
            tracemalloc.stop()
    estimate = slope_estimate(list(range(runs)), series)
    return {"bytes_per_run": estimate.value, "low": estimate.low, "high": estimate.high}


# --- worker -----------------------------------------------------------------------------


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, looked up once (find_library runs ldconfig); None elsewhere."""
    libc_name = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(libc_name), "malloc_trim", None) if libc_name else None


def _release_freed_memory() -> None:
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _validated_run(session: ScenarioSession) -> Execution:
    execution = asyncio.run(session.arun()) if session.is_async else session.run()
    try:
        validate(execution)
    except ValidationFailed as exc:
        print(f"memory {session.variant}: {exc}", file=sys.stderr, flush=True)
        sys.exit(VALIDATION_EXIT_CODE)
    return execution


def _process_sample(session: ScenarioSession, operations: int) -> dict[str, int]:
    """Growth of RSS, USS, VMS and threads from just before the run to when all calls wait."""
    process = psutil.Process()
    _release_freed_memory()
    base = process.memory_full_info()
    base_threads = threading.active_count()
    peak: dict[str, int] = {}

    def on_arrival(pending: int) -> None:
        if pending >= operations and not peak:
            info = process.memory_full_info()
            peak.update(rss=info.rss, uss=info.uss, vms=info.vms, threads=threading.active_count())

    session.mock.on_arrival = on_arrival
    try:
        _validated_run(session)
    finally:
        session.mock.on_arrival = None
    if not peak:
        raise RuntimeError(f"{session.variant}: never had {operations} calls in flight at once")
    return {
        "rss": peak["rss"] - base.rss,
        "uss": peak["uss"] - base.uss,
        "vms": peak["vms"] - base.vms,
        "threads": peak["threads"] - base_threads,
    }


def _tracemalloc_peak(session: ScenarioSession) -> int:
    _release_freed_memory()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        _validated_run(session)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def _memray_sample(session: ScenarioSession, capture: Path) -> tuple[int, int]:
    capture.unlink(missing_ok=True)
    _release_freed_memory()
    with memray.Tracker(str(capture)):
        _validated_run(session)
    metadata = memray.FileReader(str(capture)).metadata
    return metadata.peak_memory, metadata.total_allocations


def run_worker(variant: str, levels: Sequence[int], samples: int, capture_dir: Path) -> None:
    capture_dir.mkdir(parents=True, exist_ok=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    with ScenarioSession(shipped_scenarios()["report-25"], variant) as session:
        _validated_run(session)
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux reports KiB
    print(
        json.dumps(
            {
                "kind": "process",
                "report25_peak_rss_bytes": peak_rss_kib * 1024,
                "stack_rlimit_soft": None if soft == resource.RLIM_INFINITY else soft,
                "stack_rlimit_hard": None if hard == resource.RLIM_INFINITY else hard,
                "threading_stack_size": threading.stack_size(),
            }
        ),
        flush=True,
    )
    for requested in levels:
        scenario = scenario_for(requested)
        with ScenarioSession(scenario, variant) as session:
            _validated_run(session)  # warm-up at this size: lazy imports, first-call costs
            for sample in range(samples):
                record: dict[str, Any] = {"kind": "sample", "operations": scenario.fanout, "sample": sample}
                record.update(_process_sample(session, scenario.fanout))
                record["tracemalloc_peak"] = _tracemalloc_peak(session)
                capture = capture_dir / f"{variant}-{scenario.fanout}.bin"
                record["memray_peak"], record["memray_allocations"] = _memray_sample(session, capture)
                print(json.dumps(record), flush=True)


# --- master -----------------------------------------------------------------------------


def measure_variant(variant: str, levels: Sequence[int], samples: int, capture_dir: Path) -> list[dict[str, Any]]:
    command = [sys.executable, "-m", "benchmarks.memory", "--worker", "--variant", variant]
    command += ["--levels", ",".join(map(str, levels)), "--samples", str(samples), "--capture-dir", str(capture_dir)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    records = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0:
        last_words = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        raise ValidationFailed("memory", variant, [f"worker exited {completed.returncode}: {last_words}"])
    return records


def flamegraph(capture: Path, html: Path) -> None:
    """memray's own reporter, beside the results."""
    command = [sys.executable, "-m", "memray", "flamegraph", "--force", "-o", str(html), str(capture)]
    subprocess.run(command, check=True, capture_output=True)


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    samples = [r for r in records if r.get("kind") == "sample"]
    process = next((r for r in records if r.get("kind") == "process"), {})
    marginal = {metric: marginal_per_operation(samples, metric) for metric in (*PROCESS_METRICS, *HEAP_METRICS)}
    threads = marginal_per_operation(samples, "threads")
    return {"process": process, "samples": samples, "marginal": marginal, "threads_per_operation": threads}


def render(results: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="Memory per concurrent operation: slope over K, [95% bootstrap interval]")
    table.add_column("variant")
    for metric in (*PROCESS_METRICS, "tracemalloc_peak", "memray_peak"):
        table.add_column(metric, justify="right")
    table.add_column("threads/op", justify="right")
    table.add_column("report-25 peak RSS", justify="right")
    for variant, result in results.items():
        cells = [_kib(result["marginal"][m]) for m in (*PROCESS_METRICS, "tracemalloc_peak", "memray_peak")]
        per_op = result["threads_per_operation"]["bytes_per_operation"]
        peak = result["process"].get("report25_peak_rss_bytes")
        table.add_row(variant, *cells, "-" if per_op is None else f"{per_op:.2f}", "-" if peak is None else _mib(peak))
    return table


def _kib(estimate: dict[str, float | None]) -> str:
    value, low, high = estimate["bytes_per_operation"], estimate["low"], estimate["high"]
    if value is None:
        return "-"
    if low is None or high is None:
        return f"{value / 1024:.1f} KiB"
    return f"{value / 1024:.1f} KiB [{low / 1024:.1f}–{high / 1024:.1f}]"


def _mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--bench-profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--run-dir", type=Path)
    parser.add_argument("--variant", action="append", choices=VARIANTS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--levels", help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--capture-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.variant[0], [int(v) for v in args.levels.split(",")], args.samples, args.capture_dir)
        return 0
    if args.run_dir is None:
        parser.error("--run-dir is required")
    profile = PROFILES[args.bench_profile]
    console = Console(stderr=True)
    memray_dir = args.run_dir / "memray" / python_tag()
    results: dict[str, dict[str, Any]] = {}
    variants = args.variant or list(profile.memory_variants)
    with console.status("memory") as status:
        for variant in variants:
            status.update(f"Python {python_tag()} memory, K={list(profile.memory_levels)}: {variant}")
            try:
                records = measure_variant(variant, profile.memory_levels, profile.memory_samples, memray_dir)
            except ValidationFailed as exc:
                console.print(f"[red]stopped: {exc}[/]")
                return VALIDATION_EXIT_CODE
            results[variant] = summarise(records)
            largest = max(r["operations"] for r in results[variant]["samples"])
            capture = memray_dir / f"{variant}-{largest}.bin"
            flamegraph(capture, memray_dir / f"{variant}-flamegraph.html")
            for leftover in memray_dir.glob(f"{variant}-*.bin"):
                leftover.unlink()
    path = raw_dir(args.run_dir) / f"{python_tag()}.memory.json"
    atomic_write_json(
        path,
        {
            "python": python_tag(),
            "levels_requested": list(profile.memory_levels),
            "samples_per_level": profile.memory_samples,
            "variants": results,
            "environment": environment(),
        },
    )
    out = Console() if sys.stdout.isatty() else Console(width=160)
    out.print(render(results))
    console.print(f"wrote {path} and memray flamegraphs in {memray_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
