"""Reading a run folder back: every interpreter's pyperf suite, samples, users and memory, merged into one view."""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyperf

from benchmarks.run_dir import MANIFEST, raw_dir
from benchmarks.steal import DISTURBED_ABOVE

RUN_KEYS = ("bench_profile", "bench_options")  # per-run, not per-case, metadata
SUITE_NAME = re.compile(r"^\d+\.\d+\.json$")  # raw/3.12.json; not raw/3.12.users.json


class ResultsError(Exception):
    """A result file is missing or unreadable; the message names the file and what is wrong."""


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
    steal_fractions: tuple[float, ...] = ()  # CPU steal while each value ran (benchmarks/steal.py)

    @property
    def max_steal(self) -> float | None:
        return max(self.steal_fractions) if self.steal_fractions else None

    @property
    def disturbed(self) -> bool:
        """Some value ran while the host took a large share of the machine's CPUs."""
        return self.max_steal is not None and self.max_steal > DISTURBED_ABOVE

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
    def first_chunk_median_s(self) -> float | None:
        return statistics.median(self.first_chunk_s) if self.first_chunk_s else None


@dataclass
class RunResults:
    run_dir: Path
    manifest: dict[str, Any]
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)  # python -> metadata
    cases: list[CaseResult] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # python -> raw/<python>.users.json
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)  # python -> raw/<python>.memory.json
    equivalence: dict[str, dict[str, Any]] = field(default_factory=dict)  # python -> raw/<python>.equivalence.json
    micro: dict[str, dict[str, tuple[float, ...]]] = field(default_factory=dict)  # python -> benchmark -> values
    micro_steal: dict[str, dict[str, float]] = field(default_factory=dict)  # python -> benchmark -> worst steal

    @property
    def pythons(self) -> list[str]:
        """Every interpreter with any result, oldest first."""
        found = {*self.environments, *self.memory, *self.equivalence, *self.micro}
        return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))

    @property
    def missing(self) -> list[str]:
        return list(self.manifest.get("interpreters_missing", []))

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
    for suite_path in sorted(p for p in raw_dir(run_dir).glob("*.json") if SUITE_NAME.match(p.name)):
        python = suite_path.name.removesuffix(".json")
        samples = _read_samples(raw_dir(run_dir) / f"{python}.samples.jsonl")
        environment, cases = _read_suite(suite_path, python, samples)
        results.environments[python] = environment
        results.cases.extend(cases)
    for users_path in sorted(raw_dir(run_dir).glob("*.users.json")):
        results.users[users_path.name.removesuffix(".users.json")] = _read_json(users_path)
    for memory_path in sorted(raw_dir(run_dir).glob("*.memory.json")):
        memory = _read_json(memory_path)
        if not isinstance(memory.get("variants"), dict):
            raise ResultsError(f"{memory_path}: no 'variants' object (not a memory suite result)")
        results.memory[memory_path.name.removesuffix(".memory.json")] = memory
    for equivalence_path in sorted(raw_dir(run_dir).glob("*.equivalence.json")):
        equivalence = _read_json(equivalence_path)
        if not isinstance(equivalence.get("scenarios"), dict):
            raise ResultsError(f"{equivalence_path}: no 'scenarios' object (not an equivalence result)")
        results.equivalence[equivalence_path.name.removesuffix(".equivalence.json")] = equivalence
    for micro_path in sorted(raw_dir(run_dir).glob("*.micro.json")):
        python = micro_path.name.removesuffix(".micro.json")
        results.micro[python] = _read_micro(micro_path)
        steal = _read_samples(raw_dir(run_dir) / f"{python}.micro.samples.jsonl", first_chunks=False).steal
        results.micro_steal[python] = {name: max(values) for name, values in steal.items() if values}
    return results


def _read_micro(path: Path) -> dict[str, tuple[float, ...]]:
    try:
        suite = pyperf.BenchmarkSuite.load(str(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResultsError(f"{path}: not a readable pyperf result file ({exc})") from exc
    return {bench.get_name(): tuple(bench.get_values()) for bench in suite.get_benchmarks()}


def _read_suite(path: Path, python: str, samples: Samples) -> tuple[dict[str, Any], list[CaseResult]]:
    try:
        suite = pyperf.BenchmarkSuite.load(str(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResultsError(f"{path}: not a readable pyperf result file ({exc})") from exc
    cases: list[CaseResult] = []
    environment: dict[str, Any] = {}
    for bench in suite.get_benchmarks():
        metadata = bench.get_metadata()
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
                    first_chunk_s=tuple(samples.first_chunk_s.get(bench.get_name(), ())),
                    critical_path_s=float(metadata["bench_critical_path_s"]),
                    critical_path_first_chunk_s=None if first_chunk_bound is None else float(first_chunk_bound),
                    scenario_hash=metadata["bench_scenario_hash"],
                    fanout=int(metadata.get("bench_fanout", 0)),
                    thread_pool_size=str(metadata.get("bench_thread_pool_size", "")),
                    injected_failures=int(metadata.get("bench_injected_failures", 0)),
                    steal_fractions=tuple(samples.steal.get(bench.get_name(), ())),
                )
            )
        except (KeyError, ValueError) as exc:
            raise ResultsError(f"{path}: benchmark {bench.get_name()!r} lacks harness metadata ({exc})") from exc
        environment = {k: v for k, v in metadata.items() if not k.startswith("bench_") or k in RUN_KEYS}
    return environment, cases


@dataclass
class Samples:
    """Per benchmark: first-chunk times (runs without a chunk, e.g. failures, skipped) and steal per value."""

    first_chunk_s: dict[str, list[float]] = field(default_factory=dict)
    steal: dict[str, list[float]] = field(default_factory=dict)


def _read_samples(path: Path, first_chunks: bool = True) -> Samples:
    """A samples file: the speed suite's carry first-chunk times (required), the microbenchmarks' only steal."""
    samples = Samples()
    if not path.exists():
        return samples
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            record = json.loads(line)
            values = [v for v in (record["first_chunk_s"] if first_chunks else ()) if v is not None]
            samples.first_chunk_s.setdefault(record["benchmark"], []).extend(values)
            if record.get("steal_fraction") is not None:
                samples.steal.setdefault(record["benchmark"], []).append(float(record["steal_fraction"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ResultsError(f"{path}:{number}: not a samples record ({exc})") from exc
    return samples


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: unreadable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    return data
