"""`nox -s bench` in one driver process: every suite on every interpreter, then the summary and the report.

    python -m benchmarks.bench --bench-profile quick --run-dir reports/<run-id> \\
        --python 3.11=.nox/bench_env-3-11/bin/python --python 3.12=... [--scenario N] [--variant V]

nox prepares one environment per interpreter (session `bench_env`) and this driver, run with one of
them, spawns the workers of all of them, so that what a verdict compares across interpreters is
measured interleaved: speed workers alternate 3.11, 3.12, 3.13, 3.11, ... (benchmarks/speed.py) and
so do the asyncio microbenchmark processes. With `--openai-compared 3=PATH` (session `sdk_env`: the
newest interpreter with another openai SDK line) the speed suite's workers alternate with it too
(3.13, 3.13@openai-3, ...) on the workloads, not the sweeps; every other suite runs the first line.
Suites whose figures depend on timing (speed, micro, users) run alone on the machine; the ones that
do not (memory, equivalence, instruction counts) run afterwards four at a time. Every suite's output
is kept in `logs/<suite>-<python>.log`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console

from benchmarks import micro, report, speed, summary
from benchmarks.interpreters import newest as newest_python
from benchmarks.matrix import PROFILES
from benchmarks.run_dir import point_latest
from benchmarks.suites import DRIVEN, Suite
from scenarios.mock import add_transport_option

SHARED_JOBS = 4  # suites that do not depend on timing, at once (memory runs two workers of its own)


def run_micro(pythons: dict[str, str], profile: str, run_dir: Path, console: Console) -> list[str]:
    """The asyncio microbenchmarks, one pyperf process per interpreter in turn, appended to each suite."""
    failures: list[str] = []
    processes = micro.PROFILES[profile].processes
    started = time.perf_counter()
    for slot in range(processes):
        for python, executable in pythons.items():
            if f"micro on Python {python}" in failures:
                continue
            command = [executable, "-m", "benchmarks.micro", "--bench-profile", profile, "--run-dir", str(run_dir)]
            command += ["--slot", str(slot)]
            log = run_dir / "logs" / f"micro-{python}-{slot + 1}.log"
            if not run_logged(command, log, console, f"micro: Python {python}, process {slot + 1}/{processes}"):
                failures.append(f"micro on Python {python}")
    console.print(f"micro: {processes} processes per interpreter in {time.perf_counter() - started:.0f} s")
    return failures


def run_logged(command: list[str], log: Path, console: Console, what: str) -> bool:
    """Run a command with its output in `log`; say how it went, with the log's end if it failed."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as stream:
        code = subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT, check=False).returncode
    elapsed = time.perf_counter() - started
    if code == 0:
        console.print(f"{what}: done in {elapsed:.0f} s")
        return True
    tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
    console.print(f"[red]{what}: failed (exit {code}); end of {log}:[/]\n{tail}")
    return False


def suite_command(
    suite: Suite,
    executable: str,
    profile: str,
    run_dir: Path,
    variants: Sequence[str],
    newest: bool,
    scenario_files: Sequence[str] = (),
) -> list[str]:
    command = [executable, "-m", f"benchmarks.{suite.name}", "--bench-profile", profile, "--run-dir", str(run_dir)]
    if not variants and not newest and PROFILES[profile].everywhere is not None:
        variants = suite.elsewhere_variants
    if suite.narrows_elsewhere and not newest and PROFILES[profile].everywhere is not None:
        command.append("--elsewhere")
    if suite.narrowable:
        command += [arg for variant in variants if suite.measures(variant) for arg in ("--variant", variant)]
    if suite.own_scenarios:
        command += [arg for path in scenario_files for arg in ("--scenario-file", path)]
    return command


def run_job(job: Job, run_dir: Path, console: Console) -> str | None:
    """One suite on one interpreter, logged to logs/<suite>-<python>.log; what failed, or None."""
    suite, python, command = job
    ok = run_logged(command, run_dir / "logs" / f"{suite.name}-{python}.log", console, f"{suite.name}: Python {python}")
    return None if ok else f"{suite.name} on Python {python}"


Job = tuple[Suite, str, list[str]]  # the suite, the interpreter, the command


def plan_jobs(
    pythons: dict[str, str], profile: str, run_dir: Path, variants: Sequence[str], scenario_files: Sequence[str] = ()
) -> tuple[list[Job], list[Job]]:
    """The per-interpreter suites of a profile: those that run alone (timing), then those that share the machine,
    memory (the longest) first, so the lighter suites fill the gaps instead of one memory run finishing alone."""
    newest = newest_python(pythons)
    everywhere = PROFILES[profile].everywhere is None
    jobs = [
        (suite, python, suite_command(suite, executable, profile, run_dir, variants, python == newest, scenario_files))
        for python, executable in pythons.items()
        for suite in DRIVEN
        if suite.needed(PROFILES[profile])
        and (everywhere or not suite.breadth or python == newest)
        and (not variants or any(suite.measures(variant) for variant in variants))
    ]
    timed = [job for job in jobs if job[0].timing]
    shared = sorted((job for job in jobs if not job[0].timing), key=lambda job: job[0].name != "memory")
    return timed, shared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--bench-profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--python", action="append", required=True, metavar="X.Y=PATH", help="(repeatable)")
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--scenario-file", action="append", default=[])
    parser.add_argument("--openai-compared", metavar="LINE=PATH", help="newest interpreter, other openai line")
    add_transport_option(parser)
    args = parser.parse_args(argv)
    pythons = dict(spec.split("=", 1) for spec in args.python)
    line, _, path = (args.openai_compared or "").partition("=")
    compared = (line, path) if args.openai_compared else None
    console = Console(stderr=True)
    profile = args.bench_profile
    started = time.perf_counter()

    code = speed.run_suite(
        pythons, profile, args.run_dir, args.scenario or None, args.variant or None, args.scenario_file, compared
    )
    failures = [] if code == 0 else ["speed"]
    if not args.scenario:  # the other suites have their own workloads; a --scenario narrowing skips them
        failures += run_micro(pythons, profile, args.run_dir, console)
        timed, shared = plan_jobs(pythons, profile, args.run_dir, args.variant, args.scenario_file)
        for job in timed:
            failures += [failed for failed in [run_job(job, args.run_dir, console)] if failed]
        with ThreadPoolExecutor(max_workers=SHARED_JOBS) as pool:
            done = pool.map(lambda job: run_job(job, args.run_dir, console), shared)
            failures += [failed for failed in done if failed]

    rendering = time.perf_counter()
    summary.main([str(args.run_dir)])
    rendered = report.main([str(args.run_dir)])
    if rendered == 0:
        point_latest(args.run_dir)  # reports/latest moves only to a whole report
    console.print(f"summary and report: {time.perf_counter() - rendering:.0f} s")
    console.print(f"bench: Python {', '.join(pythons)}, profile {profile}, in {time.perf_counter() - started:.0f} s")
    if rendered != 0:
        console.print(f"[red]the report was not written (exit {rendered}); reports/latest was left where it was[/]")
        return rendered
    if failures:
        console.print(f"[red]failed: {', '.join(failures)}; the report states what is missing[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
