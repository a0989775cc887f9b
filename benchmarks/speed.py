"""The speed suite: every case measured in interleaved, paired rounds, across interpreters.

    python -m benchmarks.speed --bench-profile quick --run-dir reports/<run-id> \\
        --python 3.11=/path/to/python3.11 --python 3.12=... [--scenario N] [--variant V]

Why not one pyperf worker per case: importing agno and openai costs ~2 s per process, and cases
measured one after another are minutes apart, so a burst of CPU steal on this shared machine lands
on one side of a comparison and makes a confident, wrong ratio. Instead a few worker processes per
interpreter each import once and run every case of the profile in rounds: one value per case per
round, in an order shuffled per round with a seeded RNG. Cases of one scenario (the variants a
verdict compares) stay next to each other within a round, so a burst lands on both; a value's
partner is the other case's value from the same process and round. A zero-latency run takes tens of
milliseconds and varies ~15% from run to run, so those cases run 4 times per round (paired by repeat).
Processes alternate between interpreters (3.11, 3.12, 3.13, 3.11, ...) so cross-interpreter
comparisons are interleaved too.

Each worker first runs every case once at zero latency (warm-up: the same code paths, imports and
caches, without paying the mock's waits), then its rounds. A round in which some value ran under
more than 10% CPU steal, or waited more than 10% of its time in the run queue (benchmarks/steal.py),
is kept (its values are real, validated runs) but another round is run in its place, up to half as
many again, so the paired comparisons keep their number of rounds.

Every value is one validated workflow run (every turn, from the first event requested to the last
received); a run that fails validation stops the suite naming the case, except over loopback, where that
case alone is dropped (no value at all) and its reason written to `raw/<python>.failures.json`. The driver writes each
interpreter's values as an ordinary pyperf suite, `raw/<python>.json` (one Benchmark per case, one
Run per worker process), and the context of every value (worker, round, first chunk, steal) to
`raw/<python>.samples.jsonl`, both atomically after every worker, so `python -m pyperf stats`,
`compare_to` and `hist` work as ever and an interrupted run keeps its finished workers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyperf
from rich.console import Console

from benchmarks.environment import environment
from benchmarks.interpreters import newest as newest_python
from benchmarks.matrix import (
    POOLED_VARIANTS,
    PROFILES,
    BenchCase,
    Profile,
    expand,
    on_interpreter,
    pool_workers,
    with_latency,
    without_sweeps,
)
from benchmarks.pyperf_runner import suite_progress
from benchmarks.run_dir import PLAN_FILE, atomic_write_json, atomic_write_text, raw_dir, write_pyperf_suite
from benchmarks.steal import DISTURBED_ABOVE, StealMeter
from benchmarks.suites import SPEED, openai_label
from scenarios import own_scenarios, shipped_scenarios
from scenarios.critical_path import critical_path, pool_limited_seconds
from scenarios.mock import add_transport_option
from scenarios.model import calls_per_run
from scenarios.runner import Execution, ScenarioSession
from scenarios.validate import VALIDATION_EXIT_CODE, ValidationFailed, validate

WORKER_STARTUP_S = 2.5  # importing agno and openai dominates a worker's start
SEED = 20261123
WARMUP = "one run of every case at zero latency per process, before its rounds; not recorded"
ZERO_LATENCY_REPEATS = 4  # a zero-latency run varies ~15% here: C4's 5% margin needs tens of pairs


@dataclass(frozen=True)
class Plan:
    """How hard the speed suite works: processes per interpreter, rounds per process, and the seed."""

    processes: int
    rounds: int
    seed: int = SEED

    @property
    def max_extra_rounds(self) -> int:
        """Rounds a process may add in place of rounds disturbed by CPU steal or run-queue delay."""
        return max(1, self.rounds // 2)

    @classmethod
    def of(cls, profile: Profile) -> Plan:
        return cls(profile.processes, profile.rounds)


def repeats(case: BenchCase) -> int:
    """Values per round: zero-latency runs take tens of ms, so they are taken several times (paired by repeat)."""
    return ZERO_LATENCY_REPEATS if case.params.get("latency") == "zero" else 1


def round_order(cases: Sequence[BenchCase], seed: int, worker: int, round_index: int) -> list[tuple[BenchCase, int]]:
    """The order of one round, as (case, repeat): scenarios shuffled, the variants within each scenario shuffled
    (afresh for each repeat), so every case comes `repeats` times and the cases a verdict compares run back to back."""
    rng = random.Random(f"{seed}:{worker}:{round_index}")
    groups: dict[str, list[BenchCase]] = {}
    for case in cases:
        groups.setdefault(case.scenario.name, []).append(case)
    order = list(groups.values())
    rng.shuffle(order)
    planned: list[tuple[BenchCase, int]] = []
    for group in order:
        for repeat in range(max(repeats(case) for case in group)):
            rng.shuffle(group)
            planned += [(case, repeat) for case in group]
    return planned


# --- the worker: one process, every case, in rounds -----------------------------------------


def work(cases: Sequence[BenchCase], plan: Plan, worker: int, emit: Callable[[dict[str, Any]], None]) -> None:
    """Warm up every case, then run rounds until `plan.rounds` undisturbed ones (or the extra rounds run out),
    calling `emit(record)` for every measured value and at the end of every round. A run that fails validation
    stops the worker, except over loopback, where real sockets can fail under load (a pool wait, a broken
    connection): that case is reported failed with its reason and left out of the remaining rounds."""
    failed: set[str] = set()

    def run(case: BenchCase, warmup: bool = False) -> Execution | None:
        try:
            return _run_validated(case, warmup)
        except ValidationFailed as exc:
            what = f"benchmark {case.name}{' (warm-up)' if warmup else ''}: {exc}"
            if case.runs_over != "loopback":
                print(what, file=sys.stderr, flush=True)
                sys.exit(VALIDATION_EXIT_CODE)
            failed.add(case.name)
            emit({"kind": "case_failed", "case": case.name, "reason": what})
            return None

    for case in cases:
        run(case, warmup=True)
    clean = 0
    round_index = 0
    while clean < plan.rounds and round_index < plan.rounds + plan.max_extra_rounds:
        worst = 0.0
        for case, repeat in round_order(cases, plan.seed, worker, round_index):
            if case.name in failed:
                continue
            with StealMeter() as steal:
                execution = run(case)
            if execution is None:
                continue
            emit(
                {
                    "kind": "value",
                    "case": case.name,
                    "round": round_index,
                    "repeat": repeat,
                    "wall_s": execution.wall_s,
                    "first_chunk_s": execution.turns[0].first_chunk_s,
                    "cpu_s": execution.cpu_s,
                    "server_cpu_s": execution.server_cpu_s,
                    "steal": steal.fraction,
                    "run_queue": steal.run_queue,
                }
            )
            worst = max(worst, steal.fraction or 0.0, steal.run_queue or 0.0)
        disturbed = worst > DISTURBED_ABOVE
        clean += not disturbed
        emit({"kind": "round", "round": round_index, "disturbed": disturbed})
        round_index += 1


def _run_validated(case: BenchCase, warmup: bool = False) -> Execution:
    """One run, validated (ValidationFailed if it fails)."""
    scenario = with_latency(case.scenario, "zero") if warmup else case.scenario
    with ScenarioSession(scenario, case.variant, transport=case.transport) as session:
        if session.is_async:
            loop = asyncio.new_event_loop()
            try:
                execution = loop.run_until_complete(session.arun())
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())  # as asyncio.run() would
                loop.close()
        else:
            execution = session.run()
    validate(execution)
    return execution


def _worker_main(args: argparse.Namespace) -> int:
    profile = PROFILES[args.bench_profile]
    own = own_scenarios(args.scenario_file or ())
    cases = expand(profile, shipped_scenarios(), args.scenario, args.variant, own)
    cases = on_interpreter(profile, cases, args.newest)
    cases = without_sweeps(cases) if args.no_sweeps else cases
    plan = Plan(args.processes, args.rounds, args.seed)

    def emit(record: dict[str, Any]) -> None:
        print(json.dumps(record), flush=True)

    # Case metadata comes from the worker: the pool a case really gets depends on the interpreter (3.13 counts
    # the CPUs the process may use).
    emit({"kind": "start", "metadata": environment(), "cases": {case.name: case_metadata(case) for case in cases}})
    work(cases, plan, args.worker, emit)
    emit({"kind": "end"})
    return 0


# --- the driver: workers interleaved across interpreters, results as pyperf suites ----------


class SpeedSuiteFailed(Exception):
    """A worker failed (its message is above): the suite stops; finished workers are kept. `label`: whose worker."""

    def __init__(self, message: str, label: str = "") -> None:
        super().__init__(message)
        self.label = label


@dataclass
class InterpreterResults:
    """What the workers of one interpreter measured so far: values per case per worker, with their context."""

    python: str
    metadata: dict[str, str | int] = field(default_factory=dict)
    case_metadata: dict[str, dict[str, str | int | float]] = field(default_factory=dict)
    runs: dict[str, list[pyperf.Run]] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # case -> why its runs failed (loopback): no number

    def add_worker(self, worker: int, records: list[dict[str, Any]], run_meta: dict[str, Any]) -> None:
        """One worker's records: its start (metadata of the interpreter and of every case), values, rounds."""
        by_case: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            if record["kind"] == "start":
                self.metadata, self.case_metadata = record["metadata"], record["cases"]
            elif record["kind"] == "value":
                by_case.setdefault(record["case"], []).append(record)
            elif record["kind"] == "case_failed":
                self.failed.setdefault(record["case"], f"worker {worker + 1}: {record['reason']}")
        for name in self.failed:  # a failed case keeps no value, from this worker or an earlier one
            self.runs.pop(name, None)
            self.samples = [sample for sample in self.samples if sample["benchmark"] != name]
        for name in self.case_metadata:
            if name in self.failed:
                continue
            values = by_case.get(name, [])
            if not values:
                raise SpeedSuiteFailed(f"worker {worker + 1} on Python {self.python} returned no value for {name}")
            metadata = {
                **self.metadata,
                **run_meta,
                **self.case_metadata[name],
                "name": name,
                "loops": 1,
                "unit": "second",
                "bench_worker": worker,
            }
            run = pyperf.Run([v["wall_s"] for v in values], metadata=metadata, collect_metadata=False)
            self.runs.setdefault(name, []).append(run)
            self.samples += [
                {
                    "benchmark": name,
                    "worker": worker,
                    "round": v["round"],
                    "repeat": v.get("repeat", 0),
                    "wall_s": v["wall_s"],
                    "first_chunk_s": v["first_chunk_s"],
                    "cpu_s": v.get("cpu_s"),
                    "server_cpu_s": v.get("server_cpu_s"),
                    "steal_fraction": v["steal"],
                    "run_queue_share": v.get("run_queue"),
                }
                for v in values
            ]

    def write(self, run_dir: Path) -> Path:
        path = SPEED.path(run_dir, self.python)
        write_pyperf_suite(path, [pyperf.Benchmark(runs) for runs in self.runs.values()])
        lines = "".join(json.dumps(sample) + "\n" for sample in self.samples)
        atomic_write_text(SPEED.samples_path(run_dir, self.python), lines)
        if self.failed:
            atomic_write_json(SPEED.failures_path(run_dir, self.python), self.failed)
        return path


@dataclass(frozen=True)
class Side:
    """How a label's workers run when not as this checkout's interpreters do: from another folder (the gate's
    baseline: another commit's workflow), with more environment, or on fewer cases (a second openai line)."""

    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    worker_options: tuple[str, ...] = ()


def measure(
    pythons: dict[str, str],
    cases: dict[str, list[BenchCase]],
    plan: Plan,
    run_dir: Path,
    options: dict[str, Any],
    console: Console,
    sides: dict[str, Side] | None = None,
) -> dict[str, InterpreterResults]:
    """Run plan.processes workers per label, alternating labels, writing each suite after every worker. A label is an
    interpreter ("3.12") or, for the gate, an interpreter on one side ("3.12@baseline", run as `sides` says).
    `cases` per label; the interpreter with every case of the profile is the run's newest."""
    for python in pythons:  # this invocation owns these files: a re-used run id starts them afresh
        for name in SPEED.files(python):
            (raw_dir(run_dir) / name).unlink(missing_ok=True)
    # What the suite set out to measure, so a run stopped half-way is never read as a whole one.
    expected = {"profile": options["profile"], "cases": {python: [c.name for c in cases[python]] for python in pythons}}
    atomic_write_json(raw_dir(run_dir) / PLAN_FILE, expected)
    results = {python: InterpreterResults(python) for python in pythons}
    newest = newest_python(interpreter_of(label) for label in pythons)
    per_worker = {python: estimate_worker_s(cases[python], plan) for python in pythons}
    run_meta = {
        "bench_profile": options["profile"],
        "bench_options": json.dumps(options, sort_keys=True),
        "bench_processes": plan.processes,
        "bench_rounds": plan.rounds,
        "bench_seed": plan.seed,
        "bench_warmup": WARMUP,
    }
    slots = [(worker, python) for worker in range(plan.processes) for python in pythons]
    by_name = {case.name: case for python in pythons for case in cases[python]}
    with suite_progress(console, "speed") as progress:
        task = progress.add_task("starting", total=sum(per_worker[python] for _, python in slots))
        for index, (worker, python) in enumerate(slots, start=1):
            done = progress.tasks[0].completed
            progress.update(task, description=f"[{index}/{len(slots)}] Python {python}, process {worker + 1}")
            records = []
            side = (sides or {}).get(python)
            try:
                for record in _spawn(pythons[python], worker, plan, options, interpreter_of(python) == newest, side):
                    records.append(record)
                    if record["kind"] == "value":
                        progress.advance(task, _case_estimate_s(by_name[record["case"]]))
            except SpeedSuiteFailed as exc:
                raise SpeedSuiteFailed(f"{python}: {exc}", python) from exc
            results[python].add_worker(worker, records, run_meta)
            results[python].write(run_dir)
            progress.update(task, completed=done + per_worker[python])
    return results


def _beside(pythons: dict[str, str], after: str, label: str, executable: str) -> dict[str, str]:
    """The labels in the order their workers alternate, `label` right after `after` (what it is compared with)."""
    ordered: dict[str, str] = {}
    for python, path in pythons.items():
        ordered[python] = path
        if python == after:
            ordered[label] = executable
    return ordered


def hash_seed(seed: int, worker: int) -> int:
    """PYTHONHASHSEED of process slot `worker`: the same on every interpreter and side, different per slot."""
    return random.Random(f"{seed}:hash:{worker}").randrange(1, 2**32 - 1)


def interpreter_of(label: str) -> str:
    """ "3.12@baseline" -> "3.12"."""
    return label.split("@", 1)[0]


def _spawn(
    python: str, worker: int, plan: Plan, options: dict[str, Any], newest: bool, side: Side | None = None
) -> Iterator[dict[str, Any]]:
    command = [python, "-m", "benchmarks.speed", "--worker", str(worker), "--bench-profile", options["profile"]]
    if newest:
        command.append("--newest")
    command += ["--processes", str(plan.processes), "--rounds", str(plan.rounds), "--seed", str(plan.seed)]
    for name in options.get("scenario") or ():
        command += ["--scenario", name]
    for variant in options.get("variant") or ():
        command += ["--variant", variant]
    for path in options.get("scenario_file") or ():
        command += ["--scenario-file", path]
    command += side.worker_options if side else ()
    # Process slot k of every interpreter and side gets the same hash seed, different from slot k+1's: the values a
    # pair compares ran with the same string hashing (dict and set layouts), and the slots still average over seeds.
    env = {**os.environ, **(side.env if side else {}), "PYTHONHASHSEED": str(hash_seed(plan.seed, worker))}
    cwd = side.cwd if side else None
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=cwd, env=env) as process:  # stderr shown
        assert process.stdout is not None
        ended = False
        for line in process.stdout:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # something else wrote to the worker's stdout: shown, not parsed
                print(f"worker {worker + 1} ({python}): {line.rstrip()}", file=sys.stderr, flush=True)
                continue
            ended = ended or record["kind"] == "end"
            yield record
        code = process.wait()
    if code != 0 or not ended:
        raise SpeedSuiteFailed(f"worker {worker + 1} ({python}) exited with code {code}; its message is above")


def case_metadata(case: BenchCase) -> dict[str, str | int | float]:
    """What a case is, in pyperf metadata: scenario, its hash and file, variant, pool, fan-out and bound."""
    connections = case.connection_limit
    bound = critical_path(case.scenario, connections)
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
        "bench_transport": case.runs_over,
        "bench_calls": sum(calls_per_run(case.scenario)),  # what the summary's CPU per call divides by
    }
    if connections is not None:
        metadata["bench_max_connections"] = connections
    if case.variant in POOLED_VARIANTS:
        workers = pool_workers(case.scenario.thread_pool_size, case.scenario.fanout)
        metadata["bench_max_workers"] = workers
        at_once = min(workers, connections) if connections else workers  # threads wait on whichever is smaller
        metadata["bench_pool_limited_s"] = pool_limited_seconds(case.scenario, at_once)
    if bound.first_chunk_s is not None:
        metadata["bench_critical_path_first_chunk_s"] = bound.first_chunk_s
    return metadata


def _case_estimate_s(case: BenchCase) -> float:
    if case.variant in POOLED_VARIANTS:
        run_s = pool_limited_seconds(case.scenario, pool_workers(case.scenario.thread_pool_size, case.scenario.fanout))
    else:
        run_s = critical_path(case.scenario, case.connection_limit).wall_s
    return max(run_s * 1.3, 0.05)  # framework overhead on top of the waits


def estimate_worker_s(cases: Sequence[BenchCase], plan: Plan) -> float:
    """Seconds one worker should take, for the progress bar's estimate of time left."""
    per_round = sum(_case_estimate_s(case) * repeats(case) for case in cases)
    return WORKER_STARTUP_S + 0.05 * len(cases) + plan.rounds * per_round


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--bench-profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--run-dir", type=Path, help="reports/<run-id> (the driver)")
    parser.add_argument("--python", action="append", default=[], metavar="X.Y=PATH", help="interpreter (repeatable)")
    parser.add_argument("--scenario", action="append", help="narrow to a scenario or sweep point (repeatable)")
    parser.add_argument("--variant", action="append", help="narrow to a variant (repeatable)")
    parser.add_argument("--scenario-file", action="append", help="also measure your own scenario file (repeatable)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    parser.add_argument("--newest", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-sweeps", action="store_true", help=argparse.SUPPRESS)
    add_transport_option(parser)
    args = parser.parse_args(argv)
    if args.worker is not None:
        return _worker_main(args)
    if args.run_dir is None:
        parser.error("--run-dir is required")
    pythons = dict(spec.split("=", 1) for spec in args.python) or {
        f"{sys.version_info[0]}.{sys.version_info[1]}": sys.executable
    }
    return run_suite(pythons, args.bench_profile, args.run_dir, args.scenario, args.variant, args.scenario_file)


def run_suite(
    pythons: dict[str, str],
    profile_name: str,
    run_dir: Path,
    scenarios: list[str] | None,
    variants: list[str] | None,
    scenario_files: list[str] | None = None,
    openai_compared: tuple[str, str] | None = None,
) -> int:
    """The speed suite on every interpreter given: 0 when every worker finished, 2 nothing to run, 3 one failed.
    `openai_compared` (line, python): an environment of the newest interpreter with another openai SDK line, whose
    workers measure that interpreter's workloads (not the sweeps) interleaved with its own, as `3.13@openai-3`."""
    console = Console(stderr=True)
    profile = PROFILES[profile_name]
    own = own_scenarios(scenario_files or ())
    every_case = expand(profile, shipped_scenarios(), scenarios, variants, own)
    newest = newest_python(pythons)
    cases = {python: on_interpreter(profile, every_case, python == newest) for python in pythons}
    if not every_case:
        console.print(f"no case of profile {profile.name!r} matches --scenario {scenarios} --variant {variants}")
        return 2
    labels, sides = dict(pythons), {}
    if openai_compared is not None:
        line, executable = openai_compared
        compared = openai_label(newest, line)
        labels = _beside(pythons, newest, compared, executable)
        cases[compared] = without_sweeps(cases[newest])
        sides[compared] = Side(worker_options=("--no-sweeps",))
    plan = Plan.of(profile)
    options = {"profile": profile_name, "scenario": scenarios, "variant": variants, "scenario_file": scenario_files}
    started = time.perf_counter()
    try:
        measure(labels, cases, plan, run_dir, options, console, sides)
    except SpeedSuiteFailed as exc:
        kept = [path.name for label in labels if (path := raw_dir(run_dir) / f"{label}.json").exists()]
        where = f"kept in {raw_dir(run_dir)}: {', '.join(kept)}" if kept else "none: no worker finished"
        console.print(f"[red]speed suite stopped: {exc}. Finished workers' values are {where}.[/]")
        return VALIDATION_EXIT_CODE
    counts = ", ".join(f"{len(cases[label])} on {label}" for label in labels)
    console.print(
        f"speed: cases {counts}, x {plan.processes} processes x {plan.rounds} rounds "
        f"in {time.perf_counter() - started:.0f} s; wrote {raw_dir(run_dir)}/<python>.json"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
