"""Instructions per zero-latency workflow run, counted by valgrind's callgrind: a cost CPU steal cannot move.

    python -m benchmarks.instructions --bench-profile quick --run-dir reports/<run-id> [--variant V ...]

Why: wall times on this shared VM swing with CPU steal and it has no hardware perf counters, but callgrind
counts the instructions a process executes whatever the host does. The same run in two processes agrees
within ~0.03%, so differences between variants or interpreters show from a few runs. Counted: one whole
run of `report-5` with every wait zero (building the workflow, every turn, the mock's work), all threads
summed (callgrind serializes them; `threads` runs a pool). Not counted: start-up, imports, warm-ups,
validation, the heap collection before each run (without it a full collection lands in whichever run
crosses the threshold, +3% for that run). An instruction count hides cache misses and waiting; it is a
cost measure, not a time.

One valgrind process per interpreter, every variant in turn: start-up and imports take ~12 s under
callgrind, a run 5-7 s (legacy ~15 s), so one start-up is paid once. It starts with
instrumentation off and switches it on just before each measured run and off just after with a valgrind
client request issued from Python (valgrind.h's no-op instruction sequence on an executable page), then
dumps and reads back the count. That is synchronous with the code it brackets; `callgrind_control` from a
child of the target works here too, but counts the child's spawn (+1.2 M, spread 0.1%) and relies on vgdb
ptracing its own parent, which Yama's usual scope forbids. PYTHONHASHSEED is fixed, though it moved
counts by only 0.01%. Every run, warm-ups too, is validated; a failure stops that variant and the master
exits non-zero naming it. Writes `raw/<python>.instructions.json` atomically; without a working valgrind
it records why (`unavailable`) and no counts.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import mmap
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console
from rich.markup import escape

from benchmarks.environment import environment, python_tag
from benchmarks.matrix import EVERYDAY_VARIANTS, PROFILES, Profile
from benchmarks.run_dir import atomic_write_json
from benchmarks.suites import INSTRUCTIONS
from scenarios.mock import add_transport_option

if TYPE_CHECKING:
    from scenarios import Scenario

T = TypeVar("T")
SCHEMA = 1
SCENARIO = "report-5"
LATENCY = "zero"
HASH_SEED = "0"
INSTRUMENTED_RUN_TIMEOUT_S = 900.0  # callgrind runs Python ~50x slower: a run's usual limit would not hold


# --- reading results ------------------------------------------------------------------------


class InstructionsFileError(ValueError):
    """An instructions file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class InstructionCase:
    name: str
    python: str
    scenario: str
    variant: str
    scenario_hash: str
    instructions: tuple[int, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.instructions)


@dataclass(frozen=True)
class InstructionResults:
    python: str
    unavailable: str | None
    method: str
    cases: dict[str, InstructionCase]


def read_instructions(path: Path) -> InstructionResults:
    """A raw instructions file, checked: InstructionsFileError (a ValueError) names the file and the fault."""

    def fault(what: str) -> InstructionsFileError:
        return InstructionsFileError(f"{path}: {what}")

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fault(f"not readable as JSON: {exc}") from exc
    try:
        python, unavailable, method, raw_cases = data["python"], data["unavailable"], data["method"], data["cases"]
        if data["schema"] != SCHEMA:
            raise fault(f"schema {data['schema']!r}, expected {SCHEMA}")
        if not isinstance(unavailable, str | None) or not isinstance(raw_cases, dict):
            raise fault("'unavailable' must be null or text and 'cases' an object")
        cases: dict[str, InstructionCase] = {}
        for name, case in raw_cases.items():
            counts = case["instructions"]
            if not isinstance(counts, list) or not counts:
                raise fault(f"case {name}: no instruction counts")
            for count in counts:
                if type(count) is not int or count <= 0:
                    raise fault(f"case {name}: count {count!r} is not a positive integer")
            scenario, variant, scenario_hash = (str(case[key]) for key in ("scenario", "variant", "scenario_hash"))
            cases[name] = InstructionCase(name, str(python), scenario, variant, scenario_hash, tuple(counts))
    except (KeyError, TypeError, AttributeError) as exc:
        raise fault(f"missing or malformed field: {exc!r}") from exc
    return InstructionResults(str(python), unavailable, str(method), cases)


def parse_callgrind_totals(text: str) -> int:
    """The Ir total of one callgrind dump: its `totals:` line (else `summary:`), in the column `events:` gives Ir."""
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if colon and key in ("events", "totals", "summary"):
            fields.setdefault(key, value.split())
    events = fields.get("events", ["Ir"])
    values = fields.get("totals", fields.get("summary"))
    if "Ir" not in events or values is None:
        raise ValueError("callgrind output has no Ir total (no 'events: Ir' with a 'totals:' or 'summary:' line)")
    column = events.index("Ir")
    return int(values[column]) if column < len(values) else 0  # callgrind drops trailing zero columns


# --- the worker: counting runs inside valgrind ----------------------------------------------


class Callgrind:
    """Valgrind client requests from Python, so switching is synchronous with the code it brackets."""

    # valgrind.h's amd64 magic sequence (rotations that add up to 128 bits: a no-op natively) wrapped as
    # `size_t request(size_t args[6])`: args in rax, default 0 in rdx, valgrind's answer back in rdx.
    CODE = bytes.fromhex("4889f8 31d2 48c1c703 48c1c70d 48c1c73d 48c1c733 4887db 4889d0 c3")
    RUNNING_ON_VALGRIND = 0x1001
    BASE = ord("C") << 24 | ord("T") << 16  # callgrind.h: DUMP, ZERO, TOGGLE, DUMP_AT, START, STOP
    DUMP, ZERO, START, STOP = BASE, BASE + 1, BASE + 4, BASE + 5

    def __init__(self, out_file: Path) -> None:
        if platform.machine() not in ("x86_64", "AMD64"):
            raise OSError(f"client requests are only implemented for x86_64, not {platform.machine()}")
        self.out_file = out_file  # valgrind's --callgrind-out-file; dump n goes to <out_file>.<n>
        self.dumps = 0
        self._page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        self._page.write(self.CODE)
        address = ctypes.addressof(ctypes.c_char.from_buffer(self._page))
        self._request = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p)(address)
        self._args = (ctypes.c_size_t * 6)()

    def request(self, code: int) -> int:
        self._args[0] = code
        return self._request(ctypes.addressof(self._args))

    def count(self, run: Callable[[], T]) -> tuple[T, int]:
        """`run()` and the instructions it executed, all threads."""
        if not self.request(self.RUNNING_ON_VALGRIND):
            raise OSError("not running under valgrind: nothing would be counted")
        self.request(self.ZERO)
        self.request(self.START)
        result = run()
        self.request(self.STOP)
        self.request(self.DUMP)
        self.dumps += 1
        counted = parse_callgrind_totals(Path(f"{self.out_file}.{self.dumps}").read_text(encoding="utf-8"))
        if counted <= 0:
            raise RuntimeError(f"callgrind counted {counted} instructions for a whole run")
        return result, counted


def measure(
    run: Callable[[], T], check: Callable[[T, str], None], warmups: int, runs: int, callgrind: Callgrind
) -> list[int]:
    """Instructions of each measured run after uncounted warm-ups; `check(result, label)` vets every one."""
    for index in range(1, warmups + 1):
        check(run(), f"warm-up {index}")
    counts: list[int] = []
    for index in range(1, runs + 1):
        # Every run starts from a collected heap: otherwise a full collection falls in whichever run crosses
        # its threshold (+3% for that one run), and how many runs a profile takes would move the median.
        gc.collect()
        result, counted = callgrind.count(run)
        check(result, f"run {index}")  # outside the count: validation is not the workflow's cost
        counts.append(counted)
    return counts


def measure_case(scenario: Scenario, variant: str, warmups: int, runs: int, callgrind: Callgrind) -> list[int]:
    """A scenario's validated runs with one variant, on one event loop across runs for the async ones."""
    import asyncio

    from scenarios.runner import Execution, ScenarioSession
    from scenarios.validate import validate_or_exit

    case = f"{scenario.name}/{variant}"

    def check(execution: Execution, label: str) -> None:
        validate_or_exit(execution, f"instructions {case} ({label})")

    with ScenarioSession(scenario, variant, timeout_s=INSTRUMENTED_RUN_TIMEOUT_S) as session:
        if not session.is_async:
            return measure(session.run, check, warmups, runs, callgrind)
        loop = asyncio.new_event_loop()
        try:
            return measure(lambda: loop.run_until_complete(session.arun()), check, warmups, runs, callgrind)
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


def _worker(variants: Sequence[str], warmups: int, runs: int, out_file: Path) -> int:
    """Every variant in this one valgrind process (start-up under callgrind costs more than a run): a line each."""
    from benchmarks.matrix import with_latency
    from scenarios import shipped_scenarios

    scenario = with_latency(shipped_scenarios()[SCENARIO], LATENCY)
    callgrind = Callgrind(out_file)
    for variant in variants:
        started = time.perf_counter()
        counts = measure_case(scenario, variant, warmups, runs, callgrind)
        run_s = (time.perf_counter() - started) / (warmups + runs)
        record = {"variant": variant, "scenario": scenario.name, "hash": scenario.content_hash, "counts": counts}
        print(json.dumps({**record, "run_s": run_s}), flush=True)
    return 0


# --- the master: one valgrind process per interpreter, every variant in it ---------------------


def callgrind_command(out_file: Path, *args: str) -> list[str]:
    """This interpreter under callgrind, instrumentation off until a client request turns it on."""
    return ["valgrind", "--tool=callgrind", "--instr-atstart=no", "-q", f"--callgrind-out-file={out_file}", *args]


def unavailable_reason() -> str | None:
    """Why callgrind cannot count here, or None; tried on a light process (~2 s) before paying for agno's imports."""
    if shutil.which("valgrind") is None:
        return "valgrind not found on PATH: apt-get install valgrind"
    with tempfile.TemporaryDirectory(prefix="callgrind-") as scratch:
        out_file = Path(scratch) / "callgrind.out"
        command = callgrind_command(out_file, sys.executable, "-m", "benchmarks.instructions", "--probe", str(out_file))
        try:
            probe = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"callgrind failed to start: {exc}"
    return None if probe.returncode == 0 else f"callgrind failed to start or count: {_tail(probe.stderr)}"


def _probe(out_file: Path) -> int:
    try:
        Callgrind(out_file).count(lambda: None)
    except (OSError, ValueError, RuntimeError) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def run_variants(
    variants: Sequence[str], profile: Profile, cwd: Path | None = None, extra_env: dict[str, str] | None = None
) -> tuple[dict[str, dict[str, Any]], str]:
    """One valgrind process for report-5@zero with every variant in turn: the cases it counted, and why the rest
    have none (empty when every variant was counted). `cwd`/`extra_env`: where it runs from (the gate's baseline)."""
    runs = profile.instruction_warmups + profile.instruction_runs
    per_run = 60 * runs * len(variants)  # generous: a legacy run takes ~17 s under load
    timeout = 300 + per_run
    with tempfile.TemporaryDirectory(prefix="callgrind-") as scratch:
        out_file = Path(scratch) / "callgrind.out"
        worker = ["--worker", *(arg for v in variants for arg in ("--variant", v)), "--out-file", str(out_file)]
        worker += ["--warmups", str(profile.instruction_warmups), "--runs", str(profile.instruction_runs)]
        command = callgrind_command(out_file, sys.executable, "-m", "benchmarks.instructions", *worker)
        env = {**os.environ, **(extra_env or {}), "PYTHONHASHSEED": HASH_SEED}
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            done = subprocess.CompletedProcess(command, -1, exc.stdout or "", f"no result within {timeout} s")
    cases: dict[str, dict[str, Any]] = {}
    for line in str(done.stdout).splitlines():
        try:
            result = json.loads(line)
        except json.JSONDecodeError:
            continue
        keys = {"scenario": result["scenario"], "variant": result["variant"], "scenario_hash": result["hash"]}
        case = {
            **keys,
            "instructions": result["counts"],
            "warmups": profile.instruction_warmups,
            "run_s": result["run_s"],
        }
        cases[f"{SCENARIO}@{LATENCY}/{result['variant']}"] = case
    why = "" if len(cases) == len(variants) else f"worker exited with {done.returncode}: {_tail(str(done.stderr), 3)}"
    return cases, why


def _tail(text: str, lines: int = 1) -> str:
    return " | ".join(text.strip().splitlines()[-lines:]) or "(no message)"


def valgrind_version() -> str:
    if shutil.which("valgrind") is None:
        return "valgrind not found"
    return subprocess.run(["valgrind", "--version"], capture_output=True, text=True, check=False).stdout.strip()


def measure_all(profile_name: str, run_dir: Path, variants: Sequence[str], console: Console) -> int:
    """Every variant of the profile (or those named); rewrites the raw file after each; 1 if a case failed."""
    path = INSTRUCTIONS.path(run_dir, python_tag())
    path.unlink(missing_ok=True)  # a re-used run id must not keep an old result
    profile, tag, version = PROFILES[profile_name], python_tag(), valgrind_version()
    chosen = tuple(variants) or EVERYDAY_VARIANTS
    cases: dict[str, dict[str, Any]] = {}
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "python": tag,
        "profile": profile_name,
        "metadata": {**environment(), "valgrind_version": version},
        "method": (
            f"instructions executed (callgrind Ir, {version}), summed over all threads, in one whole run of "
            f"{SCENARIO} at zero latency: workflow construction and every turn; every run validated; "
            f"instrumentation switched on by a client request just before each run and off just after; "
            f"{profile.instruction_warmups} uncounted warm-up(s), the heap collected before each run, "
            f"PYTHONHASHSEED={HASH_SEED}"
        ),
        "unavailable": unavailable_reason(),
        "cases": cases,
    }
    if data["unavailable"]:
        console.print(f"[yellow]instructions (Python {tag}): not measured: {escape(data['unavailable'])}")
        atomic_write_json(path, data)
        return 0
    console.print(
        f"instructions (Python {tag}, {profile_name}): {len(chosen)} variant(s) x "
        f"({profile.instruction_warmups} warm-up + {profile.instruction_runs} run(s)) in one process under callgrind"
    )
    started = time.perf_counter()
    counted, why = run_variants(chosen, profile)
    cases.update(counted)
    for name, case in counted.items():
        counts: list[int] = case["instructions"]
        spread = f", spread {(max(counts) - min(counts)) / min(counts):.2%}" if len(counts) > 1 else ""
        console.print(
            f"{name}: {statistics.median(counts):,.0f} instructions (median of {len(counts)}{spread}); "
            f"{case.pop('run_s'):.1f} s per run under callgrind"
        )
    atomic_write_json(path, data)
    failed = [f"{SCENARIO}@{LATENCY}/{v}" for v in chosen if f"{SCENARIO}@{LATENCY}/{v}" not in cases]
    console.print(f"instructions: wrote {path} in {time.perf_counter() - started:.0f} s")
    if failed:
        console.print(f"[red]instructions: no result for {', '.join(failed)}: {escape(why)}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    counting = sorted(name for name, profile in PROFILES.items() if profile.instruction_runs > 0)
    parser.add_argument("--bench-profile", choices=counting, default="default")
    parser.add_argument("--run-dir", type=Path)
    parser.add_argument("--variant", action="append", choices=EVERYDAY_VARIANTS, default=[])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warmups", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--out-file", type=Path, help=argparse.SUPPRESS)
    add_transport_option(parser)
    args = parser.parse_args(argv)
    if args.probe:
        return _probe(args.probe)
    if args.worker:
        return _worker(args.variant, args.warmups, args.runs, args.out_file)
    if args.run_dir is None:
        parser.error("--run-dir is required")
    return measure_all(args.bench_profile, args.run_dir, args.variant, Console(stderr=True, soft_wrap=True))


if __name__ == "__main__":
    sys.exit(main())
