"""Memory: what each variant costs per concurrent operation, in every metric.

    python -m benchmarks.memory --bench-profile quick --run-dir reports/<run-id> [--variant V] [--transport loopback]

Each sample is a fresh worker process, so no earlier run at the same size has already grown
the heap the sample reads. The worker warms up at K=4 (imports, first-call costs), then runs a
report over ceil(K/4) tickers whose market-data calls the mock holds until all K are in flight
(thread pool sized to the fan-out). While all K wait it samples RSS, USS and VMS (psutil) and
thread count, each as growth over a baseline taken just before the run (after gc and glibc's
malloc_trim). The same K is then run under tracemalloc (peak traced heap) and under memray's
Tracker (peak heap and allocation count). Marginal memory per operation = least-squares slope
over K, with a 95% bootstrap interval, per metric and variant. One more process per variant
records the whole-process peak RSS of one report-25 run and the thread stack reservation; the
largest K's memray capture becomes a flamegraph. Every run is validated. Memory does not depend
on timing, so two workers run at once.

It measures over the transport `--transport` selects (respx by default), and its results record it.
Over respx the gate and the sampler run in this process, at the K-th call's arrival. Over loopback
the calls wait in the mock server, which this process asks when all K wait, samples itself, then
lets them go (benchmarks/memory_peak.py); its sockets and HTTP connections are then part of what
is sampled. So that K calls can be in flight at once over real sockets, the memory scenarios' httpx
connection limit (`max_connections`, 100 by default) is raised to their fan-out over loopback, and a
worker raises its open-file limit to the hard limit first. Each loopback sample also records the
server process's RSS and USS growth to the peak (`server_rss`, `server_uss`): tracemalloc and
memray trace this (client) process only.
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
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import memray
import psutil
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from benchmarks.environment import environment, python_tag
from benchmarks.gate_memory import trace_runs
from benchmarks.matrix import EVERYDAY_VARIANTS, PROFILES, with_fanout
from benchmarks.memory_peak import held_at_peak
from benchmarks.run_dir import atomic_write_json
from benchmarks.stats import slope_estimate
from benchmarks.suite_results import parse_memory
from benchmarks.suites import MEMORY
from benchmarks.summary import render_memory_table
from benchmarks.terminal import table_console
from benchmarks.users import raise_open_file_limit
from scenarios import Scenario, ScenarioFilesError, own_scenarios, shipped_scenarios
from scenarios.mock import Transport, add_transport_option, selected_transport
from scenarios.mock.loopback import LoopbackMock
from scenarios.model import load_scenario
from scenarios.runner import Execution, ScenarioSession
from scenarios.validate import VALIDATION_EXIT_CODE, ValidationFailed, validate

BASE_FILE = Path(__file__).resolve().parent.parent / "scenarios" / "sweeps" / "memory.toml"
PROCESS_METRICS = ("rss", "uss", "vms")
SERVER_METRICS = ("server_rss", "server_uss")  # the loopback server process's growth (loopback samples only)
HEAP_METRICS = ("tracemalloc_peak", "memray_peak", "memray_allocations")


WARM_UP_OPERATIONS = 4
TRACED_RUN_TIMEOUT_S = 600.0  # up to 1000 calls in flight under tracemalloc and memray: far slower than a run
PARALLEL_WORKERS = 2


def scenario_for(operations: int, transport: Transport | None = None) -> Scenario:
    """A report whose fetch makes at least `operations` market-data calls (4 per ticker); run it within
    `held_at_peak(session, scenario.fanout)` so they all wait together. Over loopback (None: --transport's)
    its httpx clients may open a connection per call, so all of them can be in flight at once."""
    scenario = with_fanout(load_scenario(BASE_FILE), math.ceil(operations / 4))
    if (transport or selected_transport()) != "loopback":
        return scenario
    return replace(scenario, max_connections=max(scenario.max_connections, scenario.fanout))


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
    _, held = trace_runs(run_once, runs, warmups)
    estimate = slope_estimate(list(range(runs)), [float(value) for value in held])
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
    """One validated run (a failed validation ends the worker with VALIDATION_EXIT_CODE)."""
    execution = asyncio.run(session.arun()) if session.is_async else session.run()
    try:
        validate(execution)
    except ValidationFailed as exc:
        print(f"memory {session.variant}: {exc}", file=sys.stderr, flush=True)
        sys.exit(VALIDATION_EXIT_CODE)
    return execution


def _gated_run(session: ScenarioSession) -> Execution:
    """One validated run whose market data the mock holds until all of it is in flight together."""
    with held_at_peak(session, session.scenario.fanout):
        return _validated_run(session)


def _server_process(session: ScenarioSession) -> psutil.Process | None:
    """The loopback mock's server process (None over respx, where the mock is this process)."""
    mock = session.mock
    return psutil.Process(mock.pid) if isinstance(mock, LoopbackMock) and mock.pid is not None else None


def _process_sample(session: ScenarioSession, operations: int) -> dict[str, int]:
    """Growth of RSS, USS, VMS and threads from just before the run to when all calls wait (over loopback also
    the server's RSS and USS)."""
    process, server = psutil.Process(), _server_process(session)
    peak: dict[str, int] = {}

    def on_peak() -> None:
        info = process.memory_full_info()
        peak.update(rss=info.rss, uss=info.uss, vms=info.vms, threads=threading.active_count())
        if server is not None:
            served = server.memory_full_info()
            peak.update(server_rss=served.rss, server_uss=served.uss)

    with held_at_peak(session, operations, on_peak) as held:  # before the baseline: it may start a thread
        _release_freed_memory()
        base = process.memory_full_info()
        base_threads = threading.active_count()
        server_base = server.memory_full_info() if server is not None else None
        _validated_run(session)
    if not held.reached or not peak:
        raise RuntimeError(f"{session.variant}: never had {operations} calls in flight at once")
    sample = {
        "rss": peak["rss"] - base.rss,
        "uss": peak["uss"] - base.uss,
        "vms": peak["vms"] - base.vms,
        "threads": peak["threads"] - base_threads,
    }
    if server_base is not None:
        sample |= {
            "server_rss": peak["server_rss"] - server_base.rss,
            "server_uss": peak["server_uss"] - server_base.uss,
        }
    return sample


def _tracemalloc_peak(session: ScenarioSession) -> int:
    _release_freed_memory()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        _gated_run(session)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def _memray_sample(session: ScenarioSession, capture: Path) -> tuple[int, int]:
    capture.unlink(missing_ok=True)
    _release_freed_memory()
    with memray.Tracker(str(capture)):
        _gated_run(session)
    metadata = memray.FileReader(str(capture)).metadata
    return metadata.peak_memory, metadata.total_allocations


def sample_worker(variant: str, operations: int, capture: Path | None) -> dict[str, Any]:
    """One sample at K operations in this (fresh) process: warm up small, then the process sample first, then (with a
    memray capture file) the traced heap under tracemalloc and memray."""
    with ScenarioSession(scenario_for(WARM_UP_OPERATIONS), variant, timeout_s=TRACED_RUN_TIMEOUT_S) as warm_up:
        _gated_run(warm_up)
    scenario = scenario_for(operations)
    record: dict[str, Any] = {"kind": "sample", "operations": scenario.fanout}
    with ScenarioSession(scenario, variant, timeout_s=TRACED_RUN_TIMEOUT_S) as session:
        record.update(_process_sample(session, scenario.fanout))
        if capture is not None:
            record["tracemalloc_peak"] = _tracemalloc_peak(session)
            record["memray_peak"], record["memray_allocations"] = _memray_sample(session, capture)
    return record


def own_worker(variant: str, scenario_file: str) -> dict[str, Any]:
    """Whole-process peak RSS of one run of a user's scenario (--scenario-file) in a fresh process."""
    (scenario,) = own_scenarios([scenario_file])
    with ScenarioSession(scenario, variant, timeout_s=TRACED_RUN_TIMEOUT_S) as session:
        _validated_run(session)
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux reports KiB
    return {"kind": "own", "scenario": scenario.name, "peak_rss_bytes": peak_rss_kib * 1024}


def process_worker(variant: str) -> dict[str, Any]:
    """Whole-process peak RSS of one report-25 run in a fresh process, and the thread stack reservation."""
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    with ScenarioSession(shipped_scenarios()["report-25"], variant) as session:
        _validated_run(session)  # the shipped scenario as a user runs it, ungated
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux reports KiB
    return {
        "kind": "process",
        "report25_peak_rss_bytes": peak_rss_kib * 1024,
        "stack_rlimit_soft": None if soft == resource.RLIM_INFINITY else soft,
        "stack_rlimit_hard": None if hard == resource.RLIM_INFINITY else hard,
        "threading_stack_size": threading.stack_size(),
    }


# --- master -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One worker process: a sample of `variant` at `operations` calls in flight, or (None) its report-25 run."""

    variant: str
    operations: int | None
    capture: Path | None = None
    scenario_file: str | None = None  # a run of a user's own scenario instead

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "benchmarks.memory", "--worker", "--variant", self.variant]
        if self.scenario_file is not None:
            command += ["--scenario-file", self.scenario_file]
        if self.operations is not None:
            command += ["--operations", str(self.operations)]
        if self.capture is not None:
            command += ["--capture", str(self.capture)]
        return command


class WorkerFailed(Exception):
    """A worker process failed; the message names the job and the worker's last words."""


def plan(
    variants: Sequence[str],
    levels: Sequence[int],
    samples: int,
    capture_dir: Path,
    extras: bool = True,
    scenario_files: Sequence[str] = (),
) -> list[Job]:
    """Every worker process, samples of one size spread over the variants (largest first, as they take longest).
    With `extras`, each sample also traces the heap (tracemalloc, memray) and each variant gets a report-25 run;
    each of a user's scenario files gets one run per variant (its whole-process peak)."""
    jobs = [Job(variant, None, None, path) for path in scenario_files for variant in variants]
    jobs += [Job(variant, None) for variant in variants] if extras else []
    for sample in range(samples):
        for operations in sorted(levels, reverse=True):
            for variant in variants:
                capture = capture_dir / f"{variant}-{operations}-{sample}.bin" if extras else None
                jobs.append(Job(variant, operations, capture))
    return jobs


def run_job(job: Job) -> dict[str, Any]:
    completed = subprocess.run(job.command(), capture_output=True, text=True, check=False)
    records = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or len(records) != 1:
        last_words = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        what = f"K={job.operations}" if job.operations is not None else job.scenario_file or "report-25 run"
        raise WorkerFailed(f"{job.variant} {what}: worker exited {completed.returncode}: {last_words}")
    return records[0]


def run_jobs(jobs: Sequence[Job], console: Console) -> dict[str, list[dict[str, Any]]]:
    """Run the workers two at a time with a progress bar; the first failure stops the rest."""
    records: dict[str, list[dict[str, Any]]] = {job.variant: [] for job in jobs}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(f"Python {python_tag()} memory", total=len(jobs))
        with ThreadPoolExecutor(PARALLEL_WORKERS) as pool:
            futures = {pool.submit(run_job, job): job for job in jobs}
            try:
                for future in as_completed(futures):
                    records[futures[future].variant].append(future.result())
                    progress.advance(task)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    return records


def flamegraph(capture: Path, html: Path) -> None:
    """memray's own reporter, beside the results."""
    command = [sys.executable, "-m", "memray", "flamegraph", "--force", "-o", str(html), str(capture)]
    subprocess.run(command, check=True, capture_output=True)


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    samples = [r for r in records if r.get("kind") == "sample"]
    process = next((r for r in records if r.get("kind") == "process"), {})
    own = {r["scenario"]: r["peak_rss_bytes"] for r in records if r.get("kind") == "own"}
    server = tuple(metric for metric in SERVER_METRICS if any(metric in sample for sample in samples))
    marginal = {
        metric: marginal_per_operation(samples, metric) for metric in (*PROCESS_METRICS, *HEAP_METRICS, *server)
    }
    threads = marginal_per_operation(samples, "threads")
    summary = {"process": process, "samples": samples, "marginal": marginal, "threads_per_operation": threads}
    return summary | {"own_peak_rss_bytes": own}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--bench-profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--run-dir", type=Path)
    parser.add_argument("--variant", action="append", choices=EVERYDAY_VARIANTS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--operations", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--capture", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scenario-file", action="append", default=[], help="also your own scenario (repeatable)")
    add_transport_option(parser)  # the workers inherit it (and the results' environment records it)
    args = parser.parse_args(argv)
    if args.worker:
        if selected_transport() == "loopback":
            raise_open_file_limit()  # a socket per call in flight, here and in the server (which inherits it)
        variant = args.variant[0]
        if args.scenario_file:
            record = own_worker(variant, args.scenario_file[0])
        elif args.operations is None:
            record = process_worker(variant)
        else:
            record = sample_worker(variant, args.operations, args.capture)
        print(json.dumps(record), flush=True)
        return 0
    if args.run_dir is None:
        parser.error("--run-dir is required")
    profile = PROFILES[args.bench_profile]
    try:
        own_scenarios(args.scenario_file)  # a bad file stops here, before any worker
    except ScenarioFilesError as exc:
        parser.error(f"bad scenario file(s):\n{exc}")
    console = Console(stderr=True)
    memray_dir = args.run_dir / "memray" / python_tag()
    variants = args.variant or list(profile.memory_variants)
    if profile.memory_extras:
        memray_dir.mkdir(parents=True, exist_ok=True)
    path = MEMORY.path(args.run_dir, python_tag())
    path.unlink(missing_ok=True)  # a re-used run id, or a failure below, must not leave an earlier result standing
    jobs = plan(
        variants, profile.memory_levels, profile.memory_samples, memray_dir, profile.memory_extras, args.scenario_file
    )
    try:
        records = run_jobs(jobs, console)
        results = {variant: summarise(records[variant]) for variant in variants}
        for variant in variants if profile.memory_extras else ():
            largest = max(job.operations or 0 for job in jobs if job.variant == variant)
            flamegraph(memray_dir / f"{variant}-{largest}-0.bin", memray_dir / f"{variant}-flamegraph.html")
    except WorkerFailed as exc:
        console.print(f"[red]memory stopped: {exc}[/]")
        return VALIDATION_EXIT_CODE
    finally:  # also on Ctrl-C: no capture file, and no empty folder, is left behind
        for capture in memray_dir.glob("*.bin"):
            capture.unlink()
        if memray_dir.is_dir() and not any(memray_dir.iterdir()):
            memray_dir.rmdir()
    document = {
        "python": python_tag(),
        "levels_requested": list(profile.memory_levels),
        "samples_per_level": profile.memory_samples,
        "variants": results,
        "environment": environment(),
    }
    atomic_write_json(path, document)
    out = table_console()
    out.print(render_memory_table({python_tag(): parse_memory(document, str(path), python_tag())}))
    console.print(f"wrote {path}" + (f" and memray flamegraphs in {memray_dir}" if memray_dir.is_dir() else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
