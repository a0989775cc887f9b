"""The speed suite under pyperf: one benchmark per case, each value a validated workflow run.

    python -m benchmarks.speed --bench-profile quick --run-dir reports/<run-id> [--scenario N] [--variant V]

pyperf owns the worker processes, warm-ups, loop calibration and statistics; this module
owns what a value is. A value is the wall time of `loops` workflow runs (every turn, from
the first event requested to the last received), each run validated before it counts. Mock
installation, workflow construction, event-loop start-up and validation are outside it.
Async variants keep one event loop across the loops of a value, as `bench_async_func` does.
The master writes `raw/<python>.json` (a pyperf suite) after every case, atomically, and
workers append first-chunk times to `raw/<python>.samples.jsonl`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pyperf
from rich.console import Console

from benchmarks.cli import preparse_profile
from benchmarks.environment import python_tag
from benchmarks.matrix import POOLED_VARIANTS, PROFILES, BenchCase, expand, pool_workers
from benchmarks.pyperf_runner import suite_progress, suite_runner
from benchmarks.run_dir import raw_dir, write_pyperf_suite
from benchmarks.steal import StealMeter
from scenarios import shipped_scenarios
from scenarios.critical_path import critical_path, pool_limited_seconds
from scenarios.runner import Execution, ScenarioSession
from scenarios.validate import ValidationFailed, validate

WORKER_STARTUP_S = 2.5  # importing agno and openai dominates a worker's start
VALIDATION_EXIT_CODE = 3


def main() -> int:
    profile_name = preparse_profile(sys.argv[1:], PROFILES)
    profile = PROFILES[profile_name]
    sizes = (profile.processes, profile.values, profile.warmups)
    runner = suite_runner("benchmarks.speed", profile_name, PROFILES, sizes, _forward_our_arguments)
    parser = runner.argparser
    parser.add_argument("--scenario", action="append", help="narrow to a scenario or sweep point (repeatable)")
    parser.add_argument("--variant", action="append", help="narrow to a variant (repeatable)")
    args = runner.parse_args()

    cases = expand(profile, shipped_scenarios(), args.scenario, args.variant)
    if not cases:
        print(f"no case of profile {profile.name!r} matches --scenario {args.scenario} --variant {args.variant}")
        return 2
    runner.metadata["bench_options"] = json.dumps({"scenario": args.scenario, "variant": args.variant})
    samples_path = raw_dir(args.run_dir) / f"{python_tag()}.samples.jsonl"

    if args.worker:
        for case in cases:  # pyperf picks the case matching --worker-task
            _bench(runner, case, samples_path, args)
        return 0
    return _master(runner, cases, samples_path, args)


def _bench(
    runner: pyperf.Runner, case: BenchCase, samples_path: Path, args: argparse.Namespace
) -> pyperf.Benchmark | None:
    """The master spawns workers for the case; the matching worker runs the time function."""
    return runner.bench_time_func(case.name, _time_function(case, samples_path, args), metadata=_case_metadata(case))


def _master(runner: pyperf.Runner, cases: list[BenchCase], samples_path: Path, args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    suite_path = raw_dir(args.run_dir) / f"{python_tag()}.json"
    # This invocation owns this interpreter's suite and samples; a re-used run id starts them afresh.
    samples_path.unlink(missing_ok=True)
    estimates = [_estimate_s(case, args) for case in cases]
    benchmarks: list[pyperf.Benchmark] = []
    with suite_progress(console) as progress:
        task = progress.add_task("starting", total=sum(estimates))
        for index, (case, estimate) in enumerate(zip(cases, estimates, strict=True), start=1):
            progress.update(task, description=f"[{index}/{len(cases)}] {case.name}")
            try:
                bench = _bench(runner, case, samples_path, args)
            except RuntimeError as exc:
                progress.stop()
                console.print(
                    f"[red]stopped at {case.name}: a worker failed ({exc}); its message is above. "
                    f"{len(benchmarks)} earlier case(s) are kept in {suite_path}.[/]"
                )
                return VALIDATION_EXIT_CODE
            assert bench is not None
            benchmarks.append(bench)
            write_pyperf_suite(suite_path, benchmarks)
            progress.advance(task, estimate)
    console.print(f"wrote {suite_path} ({len(benchmarks)} benchmarks)")
    return 0


def _time_function(case: BenchCase, samples_path: Path, args: argparse.Namespace) -> Callable[[int], float]:
    """pyperf calls this with `loops`; it returns the seconds those validated runs took."""
    record_samples = not (args.calibrate_loops or args.recalibrate_loops)
    calls = 0

    def time_runs(loops: int) -> float:
        nonlocal calls
        calls += 1
        with StealMeter() as steal:
            executions = _run_validated(case, loops)
        if record_samples and calls > args.warmups:
            _append_samples(samples_path, case, executions, steal.fraction)
        return sum(execution.wall_s for execution in executions)

    return time_runs


def _run_validated(case: BenchCase, loops: int) -> list[Execution]:
    executions: list[Execution] = []
    with ScenarioSession(case.scenario, case.variant) as session:
        loop = asyncio.new_event_loop() if session.is_async else None
        try:
            for _ in range(loops):
                execution = loop.run_until_complete(session.arun()) if loop else session.run()
                try:
                    validate(execution)
                except ValidationFailed as exc:
                    print(f"benchmark {case.name}: {exc}", file=sys.stderr, flush=True)
                    sys.exit(VALIDATION_EXIT_CODE)
                executions.append(execution)
        finally:
            if loop is not None:
                loop.run_until_complete(loop.shutdown_asyncgens())  # as asyncio.run() would
                loop.close()
    return executions


def _append_samples(path: Path, case: BenchCase, executions: list[Execution], steal: float | None) -> None:
    line = {
        "benchmark": case.name,
        "pid": os.getpid(),
        "wall_s": [e.wall_s for e in executions],
        "first_chunk_s": [e.turns[0].first_chunk_s for e in executions],
        "steal_fraction": steal,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as stream:  # workers run one at a time
        stream.write(json.dumps(line) + "\n")


def _case_metadata(case: BenchCase) -> dict[str, str | int | float]:
    bound = critical_path(case.scenario)
    metadata: dict[str, str | int | float] = {
        "bench_scenario": case.scenario.name,
        "bench_scenario_hash": case.scenario.content_hash,
        "bench_scenario_source": case.scenario.source,
        "bench_variant": case.variant,
        "bench_group": case.group,
        "bench_params": json.dumps(case.params, sort_keys=True),
        "bench_thread_pool_size": str(case.scenario.thread_pool_size),
        "bench_fanout": case.scenario.fanout,
        "bench_injected_failures": len(case.scenario.failures),
        "bench_critical_path_s": bound.wall_s,
    }
    if bound.first_chunk_s is not None:
        metadata["bench_critical_path_first_chunk_s"] = bound.first_chunk_s
    return metadata


def _estimate_s(case: BenchCase, args: argparse.Namespace) -> float:
    """Seconds a case should take, for the progress bar's estimate of time left."""
    if case.variant in POOLED_VARIANTS:
        workers = pool_workers(case.scenario.thread_pool_size, case.scenario.fanout)
        run_s = pool_limited_seconds(case.scenario, workers)
    else:
        run_s = critical_path(case.scenario).wall_s
    per_run = max(run_s * 1.3, 0.05)  # framework overhead on top of the waits
    return args.processes * (WORKER_STARTUP_S + (args.warmups + args.values) * per_run)


def _forward_our_arguments(cmd: list[str], args: argparse.Namespace) -> None:
    """Workers must expand the same case list, so they get the same options."""
    cmd.extend(["--bench-profile", args.bench_profile, "--run-dir", str(args.run_dir)])
    for name in args.scenario or ():
        cmd.extend(["--scenario", name])
    for variant in args.variant or ():
        cmd.extend(["--variant", variant])


if __name__ == "__main__":
    sys.exit(main())
