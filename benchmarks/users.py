"""Concurrent users: K workflow runs at once in one process, for each variant.

    python -m benchmarks.users --bench-profile quick --run-dir reports/<run-id> [--variant V]

One worker process per variant runs the levels in ascending order on the `alone` scenario
and prints one JSON line per level: throughput and per-run p50/p99, peak threads, RSS.
`threads` and `legacy` get one thread per user; `gather` and `taskgroup` one task per user on
one event loop. All K runs share one workflow instance, as a server would. Every run is
validated; a level the variant cannot sustain (no more threads, memory over the limit, over
its time budget) is recorded with why, and higher levels are not tried.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
from scenarios.runner import ScenarioSession
from scenarios.validate import VALIDATION_EXIT_CODE, ValidationFailed, validate_runs
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


def level_record(users: int, wall_s: float, latencies: Sequence[float], peak_threads: int, rss: int) -> dict[str, Any]:
    return {
        "users": users,
        "wall_s": wall_s,
        "throughput_runs_per_s": users / wall_s if wall_s > 0 else None,
        "p50_s": percentile(latencies, 0.50),
        "p99_s": percentile(latencies, 0.99),
        "peak_threads": peak_threads,
        "rss_bytes": rss,
        "stopped": None,
    }


# --- worker -----------------------------------------------------------------------------


def run_levels(scenario: Scenario, variant: str, levels: Sequence[int]) -> None:
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
    if isinstance(workflow, SyncFinancialAssistant):
        wall_s, latencies, events, peak = _threads_level(workflow, message, users)
    else:
        assert isinstance(workflow, AsyncFinancialAssistant)
        wall_s, latencies, events, peak = asyncio.run(_tasks_level(workflow, message, users))
    log = session.mock.log
    try:
        validate_runs(session.scenario, session.variant, [[e] for e in events], log.requests, session.mock.escapes)
    except ValidationFailed as exc:
        print(f"users level {users}, {session.variant}: {exc}", file=sys.stderr, flush=True)
        sys.exit(VALIDATION_EXIT_CODE)
    return level_record(users, wall_s, latencies, peak, psutil.Process().memory_info().rss)


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


def measure_variant(variant: str, levels: Sequence[int], console: Console) -> list[dict[str, Any]]:
    """Run one variant's levels in a fresh process; returns its level records (stops included)."""
    command = [sys.executable, "-m", "benchmarks.users", "--worker", "--variant", variant]
    command += ["--levels", ",".join(str(level) for level in levels)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    records = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
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
    args = parser.parse_args(argv)
    scenario = shipped_scenarios()[USERS_SCENARIO]
    if args.worker:
        run_levels(scenario, args.variant[0], [int(level) for level in args.levels.split(",")])
        return 0
    if args.run_dir is None:
        parser.error("--run-dir is required")
    levels = PROFILES[args.bench_profile].users
    if not levels:
        print(f"profile {args.bench_profile} measures no concurrent users; nothing written", file=sys.stderr)
        return 0
    variants = args.variant or list(PROFILES[args.bench_profile].users_variants)
    console = Console(stderr=True)
    results: dict[str, list[dict[str, Any]]] = {}
    columns = (TextColumn("[bold]Python " + python_tag()), TextColumn("{task.description}"), BarColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("concurrent users", total=len(variants))
        for variant in variants:
            progress.update(task, description=f"concurrent users {list(levels)}: {variant}")
            try:
                results[variant] = measure_variant(variant, levels, console)
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
            "variants": results,
            "environment": environment(),
        },
    )
    console.print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
