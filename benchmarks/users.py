"""Concurrent users: K workflow runs at once in one process, for each variant.

    python -m benchmarks.users --bench-profile quick --run-dir reports/<run-id> [--variant V]

One worker process per variant runs the levels in ascending order on the `alone` scenario
and prints one JSON line per level: throughput and per-run p50/p99, peak threads, peak RSS and
open file descriptors (sampled every 20 ms), and, over loopback, the mock server's CPU time.
Over loopback the levels go up to 10,000 users (`Profile.loopback_users`): every run shares the
workflow's httpx clients, so its connection limit (100) is what they queue on; the worker raises
its open-file limit to the hard limit first and records both.
`threads` and `legacy` get one thread per user; `gather` and `taskgroup` one task per user on
one event loop. All K runs share one workflow instance, as a server would. Every run is
validated; a level the variant cannot sustain (no more threads, memory over the limit, over
its time budget, and over loopback runs that failed: a pool or a socket gave out) is recorded
with why, and higher levels are not tried. Over respx a run that fails validation is a bug and
stops the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from benchmarks.environment import environment, python_tag
from benchmarks.matrix import EVERYDAY_VARIANTS, PROFILES
from benchmarks.run_dir import atomic_write_json
from benchmarks.suites import USERS
from scenarios import Scenario, shipped_scenarios
from scenarios.mock import add_transport_option
from scenarios.runner import ScenarioSession
from scenarios.transport import selected_transport
from scenarios.validate import VALIDATION_EXIT_CODE, ValidationFailed, validate_runs
from workflow.events import RunCompleted
from workflow.flow import AsyncFinancialAssistant, SyncFinancialAssistant

USERS_SCENARIO = "alone"
MEMORY_LIMIT_BYTES = 4 * 1024**3
LEVEL_BUDGET_S = 120.0

Events = tuple[object, ...]


class LevelStopped(Exception):
    """This level cannot be sustained; the message says why."""


def percentile(values: Sequence[float], fraction: float) -> float:
    """Inclusive-method percentile; a single value is every percentile of itself."""
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[round(fraction * 100) - 1]


def level_record(
    users: int,
    wall_s: float,
    latencies: Sequence[float],
    peak_threads: int,
    rss: int,
    peak_fds: int | None = None,
    server_cpu_s: float | None = None,
) -> dict[str, Any]:
    return {
        "users": users,
        "wall_s": wall_s,
        "throughput_runs_per_s": users / wall_s if wall_s > 0 else None,
        "p50_s": percentile(latencies, 0.50),
        "p99_s": percentile(latencies, 0.99),
        "peak_threads": peak_threads,
        "rss_bytes": rss,
        "peak_fds": peak_fds,
        "server_cpu_s": server_cpu_s,
        "stopped": None,
    }


class PeakSampler:
    """Peak RSS and open file descriptors of this process while a level runs, sampled every 20 ms (its own thread
    is one of the level's peak threads)."""

    def __init__(self, interval_s: float = 0.02) -> None:
        self.interval_s = interval_s
        self.rss = 0
        self.fds = 0
        self._process = psutil.Process()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self._sample_once()
            if self._done.wait(self.interval_s):
                return

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self._sample_once()

    def _sample_once(self) -> None:
        self.rss = max(self.rss, self._process.memory_info().rss)
        self.fds = max(self.fds, self._process.num_fds())


def raise_open_file_limit() -> tuple[int, int]:
    """The soft limit on open files raised to the hard one (thousands of sockets at 10,000 users): (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# --- worker -----------------------------------------------------------------------------


def run_levels(scenario: Scenario, variant: str, levels: Sequence[int]) -> None:
    soft, hard = raise_open_file_limit()
    print(json.dumps({"limits": {"open_files_soft": soft, "open_files_hard": hard}}), flush=True)
    with ScenarioSession(scenario, variant) as session:
        _run_level(session, 1)  # untimed: lazy imports and first-call costs
        for users in levels:
            try:
                record = _run_level(session, users)
            except LevelStopped as stop:
                print(json.dumps({"users": users, "stopped": str(stop)}), flush=True)
                # User threads may still be running; leave now rather than remove the mock under them.
                os._exit(0)
            print(json.dumps(record), flush=True)
            if record["rss_bytes"] > MEMORY_LIMIT_BYTES:
                print(json.dumps({"users": None, "stopped": f"RSS {record['rss_bytes']} B over the limit"}), flush=True)
                return


def _run_level(session: ScenarioSession, users: int) -> dict[str, Any]:
    workflow = session.new_workflow()
    message = session.scenario.messages[0]
    with PeakSampler() as peaks:
        if isinstance(workflow, SyncFinancialAssistant):
            wall_s, latencies, events, threads = _threads_level(workflow, message, users)
        else:
            assert isinstance(workflow, AsyncFinancialAssistant)
            wall_s, latencies, events, threads = asyncio.run(_tasks_level(workflow, message, users))
    log = session.mock.finish_run()
    try:
        runs = [[e] for e in events]
        mock = session.mock
        validate_runs(session.scenario, session.variant, runs, log.requests, mock.escapes, mock.problems)
    except ValidationFailed as exc:
        if session.transport == "loopback":  # a pool, a socket or the server gave out: this level's limit
            failed = sum(1 for turn in events if not turn or not isinstance(turn[-1], RunCompleted))
            # The first run's own error says why (a timeout, a broken connection); the request tally says how many.
            first = next((r for r in exc.reasons if "failed at" in r), exc.reasons[0] if exc.reasons else "no reason")
            raise LevelStopped(f"{failed} of {users} runs failed validation, e.g. {first}") from exc
        print(f"users level {users}, {session.variant}: {exc}", file=sys.stderr, flush=True)
        sys.exit(VALIDATION_EXIT_CODE)
    return level_record(users, wall_s, latencies, threads, peaks.rss, peaks.fds, session.mock.server_cpu_s())


def _threads_level(
    workflow: SyncFinancialAssistant, message: str, users: int
) -> tuple[float, list[float], list[Events], int]:
    latencies = [0.0] * users
    events: list[Events] = [()] * users
    go = threading.Event()

    def user(index: int) -> None:
        go.wait()
        started = time.perf_counter()
        events[index] = tuple(workflow.run(message))
        latencies[index] = time.perf_counter() - started

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    started_threads: list[threading.Thread] = []
    with workflow:
        try:
            for thread in threads:
                thread.start()
                started_threads.append(thread)
        except RuntimeError as exc:  # "can't start new thread"
            go.set()
            for thread in started_threads:
                thread.join()
            raise LevelStopped(f"thread limit: started {len(started_threads)} of {users} user threads ({exc})") from exc
        peak = threading.active_count()
        started = time.perf_counter()
        go.set()
        deadline = started + LEVEL_BUDGET_S
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.perf_counter()))
        if any(thread.is_alive() for thread in threads):
            raise LevelStopped(f"over the {LEVEL_BUDGET_S:.0f} s budget for one level")
        wall_s = time.perf_counter() - started
        peak = max(peak, threading.active_count())
    return wall_s, latencies, events, peak


async def _tasks_level(
    workflow: AsyncFinancialAssistant, message: str, users: int
) -> tuple[float, list[float], list[Events], int]:
    latencies = [0.0] * users
    events: list[Events] = [()] * users

    async def user(index: int) -> None:
        started = time.perf_counter()
        events[index] = tuple([event async for event in workflow.arun(message)])
        latencies[index] = time.perf_counter() - started

    async with workflow:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.gather(*(user(i) for i in range(users))), timeout=LEVEL_BUDGET_S)
        except TimeoutError as exc:
            raise LevelStopped(f"over the {LEVEL_BUDGET_S:.0f} s budget for one level") from exc
        wall_s = time.perf_counter() - started
    return wall_s, latencies, events, threading.active_count()


# --- master -----------------------------------------------------------------------------


def measure_variant(
    variant: str, levels: Sequence[int], console: Console, limits: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    """Run one variant's levels in a fresh process; returns its level records (stops included). The worker's
    open-file limits land in `limits` when given."""
    command = [sys.executable, "-m", "benchmarks.users", "--worker", "--variant", variant]
    command += ["--levels", ",".join(str(level) for level in levels)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    records = [line for line in lines if "limits" not in line]
    if limits is not None:
        for line in lines:
            limits.update(line.get("limits", {}))
    last_words = (completed.stderr.strip().splitlines() or ["no message"])[-1]
    if completed.returncode == VALIDATION_EXIT_CODE:
        console.print(completed.stderr)
        raise ValidationFailed(USERS_SCENARIO, variant, [last_words])
    if completed.returncode != 0:
        reached = {r["users"] for r in records}
        next_level = next((level for level in levels if level not in reached), None)
        stopped = f"worker died with exit code {completed.returncode}: {last_words}"
        records.append({"users": next_level, "stopped": stopped})
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.users", description=__doc__)
    parser.add_argument("--bench-profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--run-dir", type=Path)
    parser.add_argument("--variant", action="append", choices=EVERYDAY_VARIANTS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--levels", help=argparse.SUPPRESS)
    add_transport_option(parser)
    args = parser.parse_args(argv)
    scenario = shipped_scenarios()[USERS_SCENARIO]
    if args.worker:
        run_levels(scenario, args.variant[0], [int(level) for level in args.levels.split(",")])
        return 0
    if args.run_dir is None:
        parser.error("--run-dir is required")
    transport = selected_transport()
    profile = PROFILES[args.bench_profile]
    levels = profile.loopback_users if transport == "loopback" else profile.users
    if not levels:
        print(f"profile {args.bench_profile} measures no concurrent users; nothing written", file=sys.stderr)
        return 0
    variants = args.variant or list(PROFILES[args.bench_profile].users_variants)
    console = Console(stderr=True)
    results: dict[str, list[dict[str, Any]]] = {}
    limits: dict[str, int] = {}
    columns = (TextColumn("[bold]Python " + python_tag()), TextColumn("{task.description}"), BarColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("concurrent users", total=len(variants))
        for variant in variants:
            progress.update(task, description=f"concurrent users {list(levels)}: {variant}")
            try:
                results[variant] = measure_variant(variant, levels, console, limits)
            except ValidationFailed as exc:
                console.print(f"[red]stopped: {exc}[/]")
                return VALIDATION_EXIT_CODE
            progress.advance(task)
    path = USERS.path(args.run_dir, python_tag())
    atomic_write_json(
        path,
        {
            "python": python_tag(),
            "scenario": scenario.name,
            "scenario_hash": scenario.content_hash,
            "levels": list(levels),
            "transport": transport,
            "max_connections": scenario.max_connections,
            "limits": limits,
            "variants": results,
            "environment": environment(),
        },
    )
    console.print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
