"""Where the time goes: each profiled case's CPU by layer (agno, openai, httpx, pydantic, ...), sampled by py-spy.

    python -m benchmarks.layers --bench-profile default --run-dir reports/<run-id> [--variant V ...] [--elsewhere]

Per case (the profile's `profiled` scenarios: a zero-latency run, where a run is all overhead, and the fan-out
sweep's high points, where the async variants turn CPU-bound), one worker process: warm-ups, then unprofiled
timed runs (the case's wall and CPU per run), then py-spy attaches and samples the profiled runs only
(benchmarks/sampler.py). Every run is validated; a case with a failed run keeps no profile. Each sample counts
for one layer and one kind of work (benchmarks/layer_map.py); with the timed runs' CPU per run and the calls a
run makes, that gives each layer's cost per run and per call, and with the bound its share of the gap to the
critical path (benchmarks/layer_results.py). Writes `raw/<python>.layers.json` atomically after each case,
and per case `layers/<python>/<case>.svg` (a flame graph coloured by layer, no script) and `.folded.gz` (the
samples in the collapsed format flamegraph.pl and speedscope read, once gunzipped).

Not attributed: instructions. callgrind counts the interpreter's C functions, not Python frames (every Python
function runs inside _PyEval_EvalFrameDefault); the instruction suite gives a run's total.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from benchmarks.environment import environment, python_tag
from benchmarks.flamegraph import write_flamegraph
from benchmarks.layer_map import BY_KEY, LAYERS, REST, attribute, layer_of_stack, short_frame
from benchmarks.matrix import EVERYDAY_VARIANTS, PROFILES, BenchCase, Profile, expand, on_interpreter
from benchmarks.run_dir import atomic_write_bytes, atomic_write_json
from benchmarks.sampler import Profiled, SamplingError, Stack, profile_worker, py_spy, serve
from benchmarks.suites import LAYERS as SUITE
from scenarios import shipped_scenarios
from scenarios.critical_path import critical_path
from scenarios.mock import add_transport_option
from scenarios.model import calls_per_run

SCHEMA = 1


def profiled_cases(profile: Profile, variants: Sequence[str] = (), elsewhere: bool = False) -> list[BenchCase]:
    """The cases a profile samples (its speed suite's names, so the two join), optionally narrowed to variants;
    `elsewhere`: on an interpreter that is not the run's newest, only those the profile measures everywhere."""
    cases = expand(replace(profile, narrowed=()), shipped_scenarios())
    chosen = [
        case
        for case in cases
        if case.scenario.name in profile.profiled
        and case.variant in (variants or profile.profiled_variants)
        and case.params.get("pool", "default") in profile.profiled_pools
        and not case.params.get("transport")  # over loopback the sweep's respx reference is the speed suite's
    ]
    return on_interpreter(profile, chosen, newest=not elsewhere)


def slug(case_name: str) -> str:
    """A case name as a file name: "fanout-100/threads@pool-default" -> "fanout-100--threads@pool-default"."""
    return case_name.replace("/", "--")


# --- the worker ------------------------------------------------------------------------------


def worker(profile: Profile, case_name: str) -> int:
    from scenarios.runner import Execution, ScenarioSession
    from scenarios.validate import ValidationFailed, validate

    case = next((c for c in profiled_cases(profile) if c.name == case_name), None)
    if case is None:
        print(f"no profiled case {case_name!r} in profile {profile.name}", file=sys.stderr)
        return 2

    def check(execution: Execution) -> str | None:
        try:
            validate(execution)
        except ValidationFailed as exc:
            return str(exc)
        return None

    with ScenarioSession(case.scenario, case.variant) as session:
        if not session.is_async:
            return serve(session.run, check, profile.sampling)
        loop = asyncio.new_event_loop()  # one loop across runs, as a service keeps one
        try:
            run: Callable[[], Execution] = lambda: loop.run_until_complete(session.arun())  # noqa: E731
            return serve(run, check, profile.sampling)
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


# --- the master ------------------------------------------------------------------------------


def case_record(case: BenchCase, profiled: Profiled, rate: int, files: dict[str, str]) -> dict[str, Any]:
    """What the layers file keeps of a case: how it was run, the timed runs, the samples by layer and kind."""
    llm, market_data = calls_per_run(case.scenario)
    attribution = attribute(profiled.stacks)
    rest = sorted(attribution.rest_sources.items(), key=lambda item: -item[1])[:10]
    return {
        "scenario": case.scenario.name,
        "variant": case.variant,
        "scenario_hash": case.scenario.content_hash,
        "transport": case.runs_over,
        "thread_pool_size": str(case.scenario.thread_pool_size),
        "fanout": case.scenario.fanout,
        "calls": {"llm": llm, "market_data": market_data},
        "bound_s": critical_path(case.scenario, case.connection_limit).wall_s,
        "timed": list(profiled.timed),
        "profiled": {
            "runs": profiled.runs,
            "wall_s": profiled.wall_s,
            "cpu_s": profiled.cpu_s,
            "samples": attribution.samples,
            "rate": rate,
        },
        "layers": attribution.by_layer,
        "rest_sources": dict(rest),
        "files": files,
    }


def write_views(run_dir: Path, case: BenchCase, stacks: Sequence[Stack]) -> dict[str, str]:
    """The case's flame graph (coloured by layer) and its samples in collapsed form, paths relative to the run."""
    folder = Path("layers") / python_tag()
    svg, folded = folder / f"{slug(case.name)}.svg", folder / f"{slug(case.name)}.folded.gz"
    lines = "".join(f"{';'.join(short_frame(frame) for frame in frames)} {count}\n" for frames, count in stacks)
    atomic_write_bytes(run_dir / folded, gzip.compress(lines.encode("utf-8"), mtime=0))  # ~20x smaller
    write_flamegraph(
        run_dir / svg,
        stacks,
        f"{case.name} on Python {python_tag()}: where its CPU goes (py-spy samples, coloured by layer)",
        color_of=lambda frames: BY_KEY[layer_of_stack(frames)].color,
        legend=[(layer.title, layer.color) for layer in LAYERS],
        label_of=short_frame,
    )
    return {"flamegraph": str(svg), "folded": str(folded)}


def unavailable_reason() -> str | None:
    return None if py_spy() else "py-spy not found beside the interpreter or on PATH (it is a project dependency)"


def measure_all(profile_name: str, run_dir: Path, variants: Sequence[str], elsewhere: bool, console: Console) -> int:
    """Every profiled case in turn; the raw file rewritten after each. 1 if a case has no profile."""
    profile, tag = PROFILES[profile_name], python_tag()
    path = SUITE.path(run_dir, tag)
    path.unlink(missing_ok=True)  # a re-used run id must not keep an old result, nor its flame graphs
    shutil.rmtree(run_dir / "layers" / tag, ignore_errors=True)
    cases = profiled_cases(profile, variants, elsewhere)
    records: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    budget = profile.sampling
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "python": tag,
        "profile": profile_name,
        "metadata": environment(),
        "method": (
            f"py-spy samples at {budget.rate}/s of the thread holding the GIL (--gil), during the profiled runs "
            f"only (at least {budget.profiled_runs} runs and {budget.profiled_s:g} s), after {budget.warmups} "
            f"warm-up(s) and {budget.timed_runs} unprofiled timed runs (the wall and CPU per run); every run "
            "validated; a sample counts for the innermost frame of a named layer (other standard-library frames "
            "count for their caller)"
        ),
        "unavailable": unavailable_reason(),
        "rate": budget.rate,
        "cases": records,
        "failures": failures,
    }
    if data["unavailable"]:
        console.print(f"[yellow]layers (Python {tag}): not measured: {escape(data['unavailable'])}")
        atomic_write_json(path, data)
        return 0
    console.print(f"layers (Python {tag}, {profile_name}): {len(cases)} case(s) sampled by py-spy at {budget.rate}/s")
    started = time.perf_counter()
    for index, case in enumerate(cases, 1):
        command = [sys.executable, "-m", "benchmarks.layers", "--worker", "--bench-profile", profile_name]
        command += ["--case", case.name]
        log = run_dir / "logs" / "layers" / f"{tag}-{slug(case.name)}.log"
        try:
            profiled = profile_worker(command, budget.rate, log, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        except SamplingError as exc:
            failures[case.name] = str(exc)
            console.print(f"[red]layers {case.name}: no profile: {escape(str(exc))}")
        else:
            records[case.name] = case_record(case, profiled, budget.rate, write_views(run_dir, case, profiled.stacks))
            console.print(_progress(case.name, records[case.name], index, len(cases), started))
        atomic_write_json(path, data)
    console.print(f"layers: wrote {path} in {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


def _progress(name: str, record: dict[str, Any], index: int, total: int, started: float) -> str:
    elapsed = time.perf_counter() - started
    left = elapsed / index * (total - index)
    cpu_ms = statistics.median(run["cpu_s"] for run in record["timed"]) * 1000
    samples = record["profiled"]["samples"]
    layers: dict[str, dict[str, int]] = record["layers"]
    top = max(layers, key=lambda key: sum(layers[key].values()))
    share = sum(layers[top].values()) / samples
    rest = sum(layers[REST].values()) / samples
    return (
        f"layers [{index}/{total}] {name}: {cpu_ms:.0f} ms CPU per run, {samples:,} samples over "
        f"{record['profiled']['runs']} runs; largest layer {BY_KEY[top].title} {share:.0%}, the rest {rest:.0%}; "
        f"~{left:.0f} s left"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.layers", description=__doc__)
    sampling = sorted(name for name, profile in PROFILES.items() if profile.profiled)
    parser.add_argument("--bench-profile", choices=sampling, default="default")
    parser.add_argument("--run-dir", type=Path)
    parser.add_argument("--variant", action="append", choices=EVERYDAY_VARIANTS, default=[])
    parser.add_argument("--elsewhere", action="store_true", help="not the run's newest interpreter: fewer cases")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    add_transport_option(parser)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(PROFILES[args.bench_profile], args.case)
    if args.run_dir is None:
        parser.error("--run-dir is required")
    console = Console(stderr=True, soft_wrap=True)
    return measure_all(args.bench_profile, args.run_dir, args.variant, args.elsewhere, console)


if __name__ == "__main__":
    sys.exit(main())
