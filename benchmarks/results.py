"""Reading a run folder back: every interpreter's pyperf suite, samples, users and memory, merged into one view."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyperf

from benchmarks.instructions import InstructionResults, InstructionsFileError, read_instructions
from benchmarks.interpreters import version_key
from benchmarks.layer_results import LayerResults, LayersFileError, read_layers
from benchmarks.run_dir import MANIFEST, PLAN_FILE, raw_dir
from benchmarks.steal import DISTURBED_ABOVE
from benchmarks.suite_results import EquivalenceResult, MemoryResult, ResultsError, parse_equivalence, parse_memory
from benchmarks.suites import MICRO, OPENAI_COMPARED, REGISTRY, SPEED

__all__ = ["CaseResult", "MicroResult", "ResultsError", "RunResults", "Sample", "load_run"]

RUN_KEYS = (
    "bench_profile",
    "bench_options",
    "bench_processes",
    "bench_rounds",
    "bench_seed",
    "bench_warmup",
)  # per run


@dataclass(frozen=True)
class Sample:
    """One measured value and where it was taken: worker process and round (benchmarks/speed.py)."""

    worker: int
    round: int
    wall_s: float
    first_chunk_s: float | None
    steal: float | None  # share of the machine's CPU stolen while it ran; None: not recorded (untrusted)
    repeat: int = 0  # cheap cases run several times per round
    run_queue: float | None = None  # share of the value's time its thread waited for a CPU (None: not recorded)
    cpu_s: float | None = None  # the process's CPU time over the run, every thread (None: not recorded)
    server_cpu_s: float | None = None  # the loopback server's CPU time over the run (None: respx, or not recorded)

    @property
    def idle_s(self) -> float | None:
        """Wall time neither computing nor queued for a CPU: at zero latency, what the code itself waited
        (sleeps, locks, a pool's hand-offs). None without a CPU time or a run-queue record."""
        if self.cpu_s is None or self.run_queue is None:
            return None
        return self.wall_s * (1.0 - self.run_queue) - self.cpu_s

    @property
    def key(self) -> tuple[int, int, int]:
        """What pairs two cases' values: the same process, round and repeat."""
        return self.worker, self.round, self.repeat

    @property
    def disturbed(self) -> bool:
        """Taken while the host or another process held the CPU it wanted; a value without a steal record is
        not trusted either."""
        return self.steal is None or self.steal > DISTURBED_ABOVE or (self.run_queue or 0.0) > DISTURBED_ABOVE


@dataclass(frozen=True)
class MicroResult:
    """An asyncio microbenchmark on one interpreter: every value, by process (worker) and position (round)."""

    name: str
    python: str
    samples: tuple[Sample, ...]


@dataclass(frozen=True)
class CaseResult:
    name: str
    python: str
    scenario: str
    variant: str
    group: str
    params: dict[str, Any]
    values_s: tuple[float, ...]
    first_chunk_s: tuple[float, ...]
    critical_path_s: float
    critical_path_first_chunk_s: float | None
    scenario_hash: str
    fanout: int = 0  # market-data calls in the fetch
    thread_pool_size: str = ""  # "default", "fanout" or a number (threads and legacy use it)
    injected_failures: int = 0
    samples: tuple[Sample, ...] = ()  # every value with its worker, round, first chunk and steal
    max_workers: int | None = None  # threads the pool may start (threads, legacy), as measured
    pool_limited_s: float | None = None  # the bound for that pool: calls queue in waves of max_workers
    commit: str = ""  # the checkout its workers ran ("a, b" if they ran different ones; "" unrecorded)
    transport: str = "respx"  # how its runs reached the mock (respx, loopback)
    max_connections: int | None = None  # the client's connection limit, where the transport has one (loopback)
    calls: int | None = None  # LLM and market-data calls a run makes (None: recorded before it was)

    @property
    def steal_fractions(self) -> tuple[float, ...]:
        return tuple(s.steal for s in self.samples if s.steal is not None)

    @property
    def max_steal(self) -> float | None:
        return max(self.steal_fractions) if self.steal_fractions else None

    @property
    def disturbed_values(self) -> int:
        """Values taken while the host took a large share of the machine's CPUs (or with no steal record)."""
        return sum(s.disturbed for s in self.samples)

    @property
    def median_s(self) -> float:
        return statistics.median(self.values_s)

    @property
    def quartiles_s(self) -> tuple[float, float]:
        """25th and 75th percentiles (the values themselves when there are fewer than two)."""
        if len(self.values_s) < 2:
            only = self.median_s
            return only, only
        q1, _, q3 = statistics.quantiles(self.values_s, n=4, method="inclusive")
        return q1, q3

    @property
    def efficiency(self) -> float:
        """critical-path bound / median: 1.0 would be a variant with zero overhead."""
        return self.critical_path_s / self.median_s if self.median_s > 0 else float("nan")

    @property
    def cpu_median_s(self) -> float | None:
        """Median CPU time of a run in the measuring process (every thread); None if not recorded."""
        return _median_recorded(s.cpu_s for s in self.samples)

    @property
    def cpu_per_call_s(self) -> float | None:
        """The client's CPU per call: a run's median CPU over the calls it makes (the framework's cost per call)."""
        cpu = self.cpu_median_s
        return None if cpu is None or not self.calls else cpu / self.calls

    @property
    def server_cpu_median_s(self) -> float | None:
        """Median CPU time of the loopback server over a run; None over respx (the mock runs in the client)."""
        return _median_recorded(s.server_cpu_s for s in self.samples)

    @property
    def first_chunk_median_s(self) -> float | None:
        return statistics.median(self.first_chunk_s) if self.first_chunk_s else None


@dataclass(frozen=True)
class ComparedLine:
    """The speed values of an interpreter's environment with a second openai SDK line (raw/3.13@openai-3.json)."""

    label: str
    python: str  # the interpreter, whose own values (the first line) they pair with
    environment: dict[str, Any]
    cases: list[CaseResult]


@dataclass
class RunResults:
    run_dir: Path
    manifest: dict[str, Any]
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)  # python -> metadata
    cases: list[CaseResult] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # python -> raw/<python>.users.json
    memory: dict[str, MemoryResult] = field(default_factory=dict)  # python -> raw/<python>.memory.json
    equivalence: dict[str, EquivalenceResult] = field(default_factory=dict)  # python -> raw/<python>.equivalence.json
    micro: dict[str, dict[str, MicroResult]] = field(default_factory=dict)  # python -> benchmark -> result
    speed_plan: dict[str, Any] = field(default_factory=dict)  # raw/speed-plan.json: what speed set out to measure
    instructions: dict[str, InstructionResults] = field(default_factory=dict)  # python -> raw/<python>.instructions
    layers: dict[str, LayerResults] = field(default_factory=dict)  # python -> raw/<python>.layers.json
    notes: list[str] = field(default_factory=list)  # what was skipped while reading, in words (shown as gaps)
    openai_compared: dict[str, ComparedLine] = field(default_factory=dict)  # "3.13@openai-3" -> its speed values

    def expected_cases(self) -> set[tuple[str, str]]:
        """(case name, python) the speed suite set out to measure: with what was measured, what is missing (the
        interpreters' own cases; a second openai line's are read apart, in `openai_compared`)."""
        planned: dict[str, list[str]] = self.speed_plan.get("cases", {})
        return {(name, python) for python, names in planned.items() if "@" not in python for name in names}

    def of_suite(self, name: str) -> dict[str, Any]:
        """Interpreter -> that suite's results (speed: the interpreters with a speed suite, by their metadata)."""
        by_suite: dict[str, dict[str, Any]] = {
            "speed": self.environments,
            "users": self.users,
            "memory": self.memory,
            "equivalence": self.equivalence,
            "micro": self.micro,
            "instructions": self.instructions,
            "layers": self.layers,
        }
        return by_suite[name]

    @property
    def pythons(self) -> list[str]:
        """Every interpreter with any result, oldest first."""
        found = {*self.environments, *self.memory, *self.equivalence, *self.micro, *self.instructions, *self.layers}
        return sorted(found, key=version_key)

    @property
    def missing(self) -> list[str]:
        return list(self.manifest.get("interpreters_missing", []))

    def why_missing(self, python: str) -> str:
        """Why an interpreter was not found, as the probe recorded it (run.json), or a plain statement."""
        probed = self.manifest.get("interpreters", {}).get(python, {})
        reason = probed.get("missing") if isinstance(probed, dict) else None
        return f"not found: {reason}" if reason else "not found on this machine"

    def find(self, scenario: str, variant: str, python: str) -> CaseResult | None:
        return next(
            (c for c in self.cases if c.scenario == scenario and c.variant == variant and c.python == python), None
        )


def load_run(run_dir: Path) -> RunResults:
    """All of a run's speed results; ResultsError names any file that cannot be used."""
    if not run_dir.is_dir():
        raise ResultsError(f"{run_dir}: not a run folder (expected reports/<run-id>/)")
    manifest_path = run_dir / MANIFEST
    manifest = _read_json(manifest_path) if manifest_path.exists() else {"run_id": run_dir.name}
    results = RunResults(run_dir=run_dir, manifest=manifest)
    plan_path = raw_dir(run_dir) / PLAN_FILE
    if plan_path.exists():
        results.speed_plan = _read_json(plan_path)
        if not isinstance(results.speed_plan.get("cases"), dict):
            raise ResultsError(f"{plan_path}: no 'cases' per interpreter (not a speed plan)")
    for suite in REGISTRY.values():
        for label, path in suite.found(run_dir):
            READERS[suite.name](results, label, path)
    for label, path in SPEED.found(run_dir, OPENAI_COMPARED):
        _note_failures(results, label)
        samples = _read_speed_samples(SPEED.samples_path(run_dir, label), results.notes)
        environment, cases = _read_suite(path, label, samples)
        results.openai_compared[label] = ComparedLine(label, label.split("@", 1)[0], environment, cases)
    return results


def _note_failures(results: RunResults, label: str) -> None:
    """Cases whose runs failed (over loopback a failing case is dropped, its reason written beside the values)."""
    failures = SPEED.failures_path(results.run_dir, label)
    if failures.exists():
        for case, why in sorted(_read_json(failures).items()):
            results.notes.append(f"speed: {case} on Python {label} has no number: a run failed validation ({why})")


def _load_speed(results: RunResults, python: str, path: Path) -> None:
    _note_failures(results, python)
    samples = _read_speed_samples(SPEED.samples_path(results.run_dir, python), results.notes)
    environment, cases = _read_suite(path, python, samples)
    results.environments[python] = environment
    results.cases.extend(cases)


def _load_users(results: RunResults, python: str, path: Path) -> None:
    results.users[python] = _read_json(path)


def _load_memory(results: RunResults, python: str, path: Path) -> None:
    results.memory[python] = parse_memory(_read_json(path), str(path), python)


def _load_equivalence(results: RunResults, python: str, path: Path) -> None:
    results.equivalence[python] = parse_equivalence(_read_json(path), str(path))


def _load_instructions(results: RunResults, python: str, path: Path) -> None:
    try:
        results.instructions[python] = read_instructions(path)
    except InstructionsFileError as exc:
        raise ResultsError(str(exc)) from exc


def _load_layers(results: RunResults, python: str, path: Path) -> None:
    try:
        measured = results.layers[python] = read_layers(path)
    except LayersFileError as exc:
        raise ResultsError(str(exc)) from exc
    if measured.unavailable:
        results.notes.append(f"Python {python}: the layer breakdown was not measured: {measured.unavailable}")
    for case, why in sorted(measured.failures.items()):
        results.notes.append(f"layers: {case} on Python {python} has no profile: {why}")


def _load_micro(results: RunResults, python: str, path: Path) -> None:
    steal = _read_micro_steal(MICRO.samples_path(results.run_dir, python), results.notes)
    results.micro[python] = _read_micro(path, python, steal)


# How each registered suite's file is read into a RunResults (benchmarks/suites.py owns the file names).
READERS: dict[str, Callable[[RunResults, str, Path], None]] = {
    "speed": _load_speed,
    "users": _load_users,
    "memory": _load_memory,
    "equivalence": _load_equivalence,
    "instructions": _load_instructions,
    "micro": _load_micro,
    "layers": _load_layers,
}


def _read_micro(
    path: Path, python: str, steal: dict[str, list[tuple[float | None, float | None]]]
) -> dict[str, MicroResult]:
    """Each value keeps its process and position, so interpreters' processes pair up like speed rounds;
    steal per value comes from the samples file, in the same order (none if the counts disagree)."""
    try:
        suite = pyperf.BenchmarkSuite.load(str(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResultsError(f"{path}: not a readable pyperf result file ({exc})") from exc
    results = {}
    for bench in suite.get_benchmarks():
        name = bench.get_name()
        runs = [run.values for run in bench.get_runs() if run.values]
        stolen = steal.get(name, [])
        flat = sum(len(values) for values in runs)
        steal_of = iter(stolen if len(stolen) == flat else [(None, None)] * flat)
        samples = []
        for worker, values in enumerate(runs):
            for position, value in enumerate(values):
                fraction, waited = next(steal_of)
                samples.append(Sample(worker, position, value, None, fraction, run_queue=waited))
        results[name] = MicroResult(name, python, tuple(samples))
    return results


def _commits(bench: pyperf.Benchmark) -> str:
    """The commit(s) a case's worker processes ran, from each run's metadata."""
    return ", ".join(sorted({str(run.get_metadata().get("git_commit", "")) for run in bench.get_runs()}))


def _read_suite(path: Path, python: str, samples: dict[str, list[Sample]]) -> tuple[dict[str, Any], list[CaseResult]]:
    try:
        suite = pyperf.BenchmarkSuite.load(str(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResultsError(f"{path}: not a readable pyperf result file ({exc})") from exc
    cases: list[CaseResult] = []
    environment: dict[str, Any] = {}
    for bench in suite.get_benchmarks():
        metadata = bench.get_metadata()
        name = bench.get_name()
        taken = tuple(samples.get(name, ()))
        if [s.wall_s for s in taken] != list(bench.get_values()):
            raise ResultsError(
                f"{path}: benchmark {name!r} has {bench.get_nvalue()} values but its samples file has "
                f"{len(taken)} that do not match them (written by another run?)"
            )
        try:
            first_chunk_bound = metadata.get("bench_critical_path_first_chunk_s")
            cases.append(
                CaseResult(
                    name=bench.get_name(),
                    python=python,
                    scenario=metadata["bench_scenario"],
                    variant=metadata["bench_variant"],
                    group=metadata["bench_group"],
                    params=json.loads(metadata["bench_params"]),
                    values_s=tuple(bench.get_values()),
                    first_chunk_s=tuple(s.first_chunk_s for s in taken if s.first_chunk_s is not None),
                    critical_path_s=float(metadata["bench_critical_path_s"]),
                    critical_path_first_chunk_s=None if first_chunk_bound is None else float(first_chunk_bound),
                    scenario_hash=metadata["bench_scenario_hash"],
                    fanout=int(metadata.get("bench_fanout", 0)),
                    thread_pool_size=str(metadata.get("bench_thread_pool_size", "")),
                    injected_failures=int(metadata.get("bench_injected_failures", 0)),
                    samples=taken,
                    max_workers=_optional(metadata.get("bench_max_workers"), int),
                    pool_limited_s=_optional(metadata.get("bench_pool_limited_s"), float),
                    commit=_commits(bench),
                    transport=str(metadata.get("bench_transport", "respx")),
                    max_connections=_optional(metadata.get("bench_max_connections"), int),
                    calls=_optional(metadata.get("bench_calls"), int),
                )
            )
        except (KeyError, ValueError) as exc:
            raise ResultsError(f"{path}: benchmark {bench.get_name()!r} lacks harness metadata ({exc})") from exc
        environment = {k: v for k, v in metadata.items() if not k.startswith("bench_") or k in RUN_KEYS}
    return environment, cases


def read_speed_suite(run_dir: Path, label: str) -> list[CaseResult]:
    """One label's speed cases (raw/<label>.json and its samples), e.g. the gate's "3.12@baseline"."""
    samples = _read_speed_samples(SPEED.samples_path(run_dir, label), [])
    return _read_suite(SPEED.path(run_dir, label), label, samples)[1]


def _read_speed_samples(path: Path, notes: list[str]) -> dict[str, list[Sample]]:
    """The speed suite's samples file: per benchmark, every value with its worker, round, first chunk and steal."""
    samples: dict[str, list[Sample]] = {}
    for number, record in _jsonl(path, notes):
        try:
            sample = Sample(
                worker=int(record["worker"]),
                round=int(record["round"]),
                wall_s=float(record["wall_s"]),
                first_chunk_s=None if record["first_chunk_s"] is None else float(record["first_chunk_s"]),
                steal=None if record["steal_fraction"] is None else float(record["steal_fraction"]),
                repeat=int(record.get("repeat", 0)),
                run_queue=_optional(record.get("run_queue_share"), float),
                cpu_s=_optional(record.get("cpu_s"), float),
                server_cpu_s=_optional(record.get("server_cpu_s"), float),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsError(f"{path}:{number}: not a speed samples record ({exc})") from exc
        samples.setdefault(str(record["benchmark"]), []).append(sample)
    return samples


def _read_micro_steal(path: Path, notes: list[str]) -> dict[str, list[tuple[float | None, float | None]]]:
    """The microbenchmarks' samples file: (CPU steal, run-queue share) per value, per benchmark."""
    steal: dict[str, list[tuple[float | None, float | None]]] = {}
    for number, record in _jsonl(path, notes):
        try:
            fraction, waited = record.get("steal_fraction"), record.get("run_queue_share")
            steal.setdefault(str(record["benchmark"]), []).append(
                (None if fraction is None else float(fraction), None if waited is None else float(waited))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsError(f"{path}:{number}: not a samples record ({exc})") from exc
    return steal


def _jsonl(path: Path, notes: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """Records of a JSON-lines file. A cut-off last line (no newline: a worker interrupted mid-write) is skipped and
    noted; any other bad line is a ResultsError."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines) and not text.endswith("\n"):
                notes.append(f"{path}:{number}: a cut-off last line (an interrupted worker) was skipped")
                continue
            raise ResultsError(f"{path}:{number}: not a JSON line ({exc})") from exc
        if not isinstance(record, dict):
            raise ResultsError(f"{path}:{number}: expected a JSON object")
        records.append((number, record))
    return records


def _median_recorded(values: Iterable[float | None]) -> float | None:
    """The median of the values that were recorded; None if none was."""
    recorded = [value for value in values if value is not None]
    return statistics.median(recorded) if recorded else None


def _optional(value: Any, kind: type[int] | type[float]) -> Any:
    return None if value is None else kind(value)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: unreadable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    return data
