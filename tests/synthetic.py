"""Synthetic speed results shaped like the speed suite's: values per worker process and round, with steal."""

from __future__ import annotations

import json
import random
import zlib
from pathlib import Path
from typing import Any

from benchmarks.layer_map import KINDS, LAYERS
from benchmarks.results import CaseResult, MicroResult, RunResults, Sample
from benchmarks.speed import InterpreterResults
from benchmarks.suite_results import parse_equivalence, parse_memory
from benchmarks.suites import LAYERS as LAYERS_SUITE

WORKERS = 2


def _stable_seed(*parts: str) -> int:
    """The same synthetic values in every process (hash() of a string changes with PYTHONHASHSEED)."""
    return zlib.crc32("/".join(parts).encode())


ROUNDS = 6


def samples(
    scale: float,
    *,
    noise: float = 0.01,
    seed: int = 0,
    workers: int = WORKERS,
    rounds: int = ROUNDS,
    steal: float | None = 0.0,
    run_queue: float | None = 0.0,
    first_chunk: float | None = None,
    burst: float = 0.0,
    idle: float | None = 0.001,
) -> tuple[Sample, ...]:
    """Values around `scale` with relative `noise`; `burst` slows each round alike (a host burst hits both sides);
    `idle` seconds of each value are not CPU time (+-20%), the rest is (None: no CPU time recorded)."""
    rng = random.Random(seed)
    taken = []
    for worker in range(workers):
        for round_index in range(rounds):
            common = 1 + burst * ((worker * rounds + round_index) % 3)  # shared by every case of the round
            value = scale * common * (1 + rng.gauss(0, noise))
            chunk = None if first_chunk is None else first_chunk * common * (1 + rng.gauss(0, noise))
            waited = None if idle is None else idle * (1 + rng.uniform(-0.2, 0.2))
            cpu = None if waited is None else value * (1 - (run_queue or 0.0)) - waited
            taken.append(Sample(worker, round_index, value, chunk, steal, run_queue=run_queue, cpu_s=cpu))
    return tuple(taken)


def case(
    scenario: str,
    variant: str,
    scale: float,
    python: str = "3.12",
    *,
    noise: float = 0.01,
    seed: int | None = None,
    fanout: int = 20,
    pool: str = "default",
    max_workers: int | None = 6,
    failures: int = 0,
    first_chunk: float | None = None,
    latency: str = "default",
    group: str | None = None,
    bound: float = 0.1,
    **sample_options: Any,
) -> CaseResult:
    taken = samples(
        scale,
        noise=noise,
        seed=_stable_seed(scenario, variant, python) if seed is None else seed,
        first_chunk=first_chunk,
        **sample_options,
    )
    return CaseResult(
        name=f"{scenario}/{variant}",
        python=python,
        scenario=scenario,
        variant=variant,
        group=group or ("fanout" if scenario.startswith("fanout-") else "scenario"),
        params={"latency": latency},
        values_s=tuple(s.wall_s for s in taken),
        first_chunk_s=tuple(s.first_chunk_s for s in taken if s.first_chunk_s is not None),
        critical_path_s=bound,
        critical_path_first_chunk_s=bound / 2,
        scenario_hash="ab",
        fanout=fanout,
        thread_pool_size=pool,
        injected_failures=failures,
        samples=taken,
        max_workers=max_workers if variant in ("threads", "legacy") else None,
    )


def micro(name: str, python: str, scale: float, noise: float = 0.02) -> MicroResult:
    return MicroResult(name, python, samples(scale, noise=noise, seed=_stable_seed(name, python), workers=3, rounds=4))


def run(cases: list[CaseResult] | tuple[()] = (), **suites: Any) -> RunResults:
    """A run of these cases; `memory` and `equivalence` given as their raw files' JSON, per interpreter."""
    environments = {c.python: {"python_version": c.python} for c in cases}
    for python in suites.get("memory", {}) | suites.get("equivalence", {}) | suites.get("micro", {}):
        environments.setdefault(python, {"python_version": python})
    memory = {p: parse_memory(data, "<synthetic>", p) for p, data in suites.pop("memory", {}).items()}
    equivalence = {p: parse_equivalence(data, "<synthetic>") for p, data in suites.pop("equivalence", {}).items()}
    return RunResults(
        Path("/nonexistent/run"),
        {"profile": "test"},
        environments,
        list(cases),
        memory=memory,
        equivalence=equivalence,
        **suites,
    )


def case_metadata(result: CaseResult) -> dict[str, str | int | float]:
    """What the speed worker would report for this case (benchmarks/speed.py case_metadata)."""
    metadata: dict[str, str | int | float] = {
        "bench_scenario": result.scenario,
        "bench_scenario_hash": result.scenario_hash,
        "bench_scenario_source": "<synthetic>",
        "bench_variant": result.variant,
        "bench_group": result.group,
        "bench_params": json.dumps(result.params, sort_keys=True),
        "bench_thread_pool_size": result.thread_pool_size,
        "bench_fanout": result.fanout,
        "bench_injected_failures": result.injected_failures,
        "bench_critical_path_s": result.critical_path_s,
    }
    if result.critical_path_first_chunk_s is not None:
        metadata["bench_critical_path_first_chunk_s"] = result.critical_path_first_chunk_s
    if result.max_workers is not None:
        metadata["bench_max_workers"] = result.max_workers
    if result.calls is not None:
        metadata["bench_calls"] = result.calls
    return metadata


def write_speed_suite(
    run_dir: Path, python: str, cases: list[CaseResult], metadata: dict[str, str] | None = None
) -> None:
    """raw/<python>.json and .samples.jsonl exactly as the speed driver writes them, from synthetic cases;
    `metadata` adds to the worker's environment metadata (e.g. version_openai)."""
    suite = InterpreterResults(python)
    workers = sorted({s.worker for c in cases for s in c.samples})
    start = {
        "kind": "start",
        "metadata": {"python_version": python, "python_build": "synthetic", "git_commit": "abc", **(metadata or {})},
        "cases": {c.name: case_metadata(c) for c in cases},
    }
    for worker in workers:
        records: list[dict[str, Any]] = [start]
        for c in cases:
            records += [
                {
                    "kind": "value",
                    "case": c.name,
                    "round": s.round,
                    "repeat": s.repeat,
                    "wall_s": s.wall_s,
                    "first_chunk_s": s.first_chunk_s,
                    "cpu_s": s.cpu_s,
                    "steal": s.steal,
                    "run_queue": s.run_queue,
                }
                for s in c.samples
                if s.worker == worker
            ]
        suite.add_worker(worker, records, {"bench_profile": "quick", "bench_options": "{}"})
    suite.write(run_dir)


def write_instructions(
    run_dir: Path, python: str, counts: dict[str, list[int]], unavailable: str | None = None
) -> None:
    """raw/<python>.instructions.json as benchmarks/instructions.py writes it: variant -> counts of report-5@zero."""
    cases = {
        f"report-5@zero/{variant}": {
            "scenario": "report-5@zero",
            "variant": variant,
            "scenario_hash": "ab",
            "instructions": runs,
            "warmups": 1,
        }
        for variant, runs in counts.items()
    }
    data = {
        "schema": 1,
        "python": python,
        "profile": "default",
        "metadata": {},
        "method": "counted",
        "unavailable": unavailable,
        "cases": cases,
    }
    (run_dir / "raw").mkdir(parents=True, exist_ok=True)
    (run_dir / "raw" / f"{python}.instructions.json").write_text(json.dumps(data))


def layers_case(counts: dict[str, dict[str, int]], cpu_s: float = 0.1, wall_s: float = 0.3) -> dict[str, Any]:
    """One case of a layers file (fanout-10/taskgroup), its samples by layer and kind as given (the rest zero)."""
    full = {layer.key: {kind: counts.get(layer.key, {}).get(kind, 0) for kind in KINDS} for layer in LAYERS}
    samples = sum(sum(kinds.values()) for kinds in full.values())
    return {
        "scenario": "fanout-10",
        "variant": "taskgroup",
        "scenario_hash": "h",
        "transport": "respx",
        "thread_pool_size": "default",
        "fanout": 40,
        "calls": {"llm": 12, "market_data": 40},
        "bound_s": 0.1,
        "timed": [{"wall_s": wall_s, "cpu_s": cpu_s}] * 3,
        "profiled": {"runs": 5, "wall_s": 5 * wall_s * 1.1, "cpu_s": 5 * cpu_s, "samples": samples, "rate": 500},
        "layers": full,
        "rest_sources": {},
        "files": {"flamegraph": "layers/3.13/x.svg", "folded": "layers/3.13/x.folded.gz"},
    }


def write_layers(run_dir: Path, cases: dict[str, dict[str, Any]], python: str = "3.13") -> Path:
    data = {
        "schema": 1,
        "python": python,
        "profile": "default",
        "metadata": {},
        "method": "m",
        "unavailable": None,
        "rate": 500,
        "cases": cases,
        "failures": {},
    }
    path = LAYERS_SUITE.path(run_dir, python)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path
