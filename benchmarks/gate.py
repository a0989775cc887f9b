"""`nox -s gate`: is the working tree slower or fatter than a baseline? Measured A/B, interleaved, in one run,
or against a stored baseline of the load-independent measures.

    python -m benchmarks.gate --run-dir reports/<run-id> --python 3.12=PATH [--python ...] [--against REF]
    python -m benchmarks.gate --run-dir reports/<run-id> --python 3.11=PATH --baseline FILE [--update-baseline]

The baseline is another commit's workflow code (`workflow/`, the system under test), checked out in
a git worktree under `.nox/gate/`; the harness (`benchmarks/`, `scenarios/`, their scenarios and mock)
is the working tree's for both sides, as in asv, so both run the same workload under the same
checks. Baseline workers run from `.nox/gate/shadow/<sha>/`, a folder whose `workflow` is the
worktree's and whose `benchmarks` and `scenarios` are this checkout's; the environment (installed
dependencies) is the candidate's, so a change of dependencies is not what this gate measures.

Per interpreter, candidate and baseline worker processes alternate (3.12, 3.12@baseline, 3.13,
3.13@baseline, ...) and run the gate profile in rounds, so a value and its partner from the other
side were taken one worker process apart: the same paired comparison as every verdict here
(benchmarks/compare.py). Then both sides' instruction counts and heap measures, which do not move with
the load (benchmarks/gate_deterministic.py); with --baseline FILE only those, against the file.
Decisions: benchmarks/gate_rules.py. Writes `gate.md` and `gate.json` in
the run folder and appends the table to `$GITHUB_STEP_SUMMARY` when set. Exit 0 no regression,
1 a regression (or the candidate failed validation), 2 unusable input (a ref that does not exist,
a baseline this harness cannot run, a stored baseline from another interpreter or scenario, too few
values to decide).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import instructions
from benchmarks.compare import compare
from benchmarks.environment import COMMIT_OVERRIDE, git_commit, python_tag
from benchmarks.gate_deterministic import (
    BaselineFileError,
    Measured,
    SideFailed,
    check_usable,
    compare_sides,
    measure_side,
    read_baseline,
    write_baseline,
)
from benchmarks.gate_rules import (
    EXIT_PASS,
    EXIT_REGRESSION,
    EXIT_UNUSABLE,
    Finding,
    GateConfigError,
    Thresholds,
    amount,
    dumps,
    exit_code,
    load_thresholds,
    markdown,
    verdict_line,
)
from benchmarks.matrix import PROFILES, expand
from benchmarks.results import CaseResult, ResultsError, read_speed_suite
from benchmarks.run_dir import atomic_write_text
from benchmarks.speed import Plan, Side, SpeedSuiteFailed, measure
from benchmarks.terminal import table_console
from scenarios import shipped_scenarios
from scenarios.transport import select_transport

ROOT = Path(__file__).resolve().parent.parent
GATE_DIR = ROOT / ".nox" / "gate"  # git-ignored, and skipped by ruff and pyright like every nox environment
BASELINE = "baseline"
PROFILE = "gate"
HARNESS = ("benchmarks", "scenarios")  # the candidate's, on both sides
SYSTEM_UNDER_TEST = "workflow"  # the baseline's on the baseline side


class GateInputError(Exception):
    """The gate cannot compare (exit 2); the message says what is wrong."""


class CandidateFailed(Exception):
    """The working tree's runs failed validation (exit 1: worse than slower)."""


def _git(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise GateInputError(f"git {' '.join(args)}: {(done.stderr.strip().splitlines() or ['failed'])[-1]}")
    return done.stdout.strip()


def default_ref() -> str:
    """HEAD when the tree has uncommitted changes (they are the candidate), else the merge-base with main."""
    if _git("status", "--porcelain", "--untracked-files=no"):
        return "HEAD"
    try:
        return _git("merge-base", "main", "HEAD")
    except GateInputError:
        return "HEAD~1"


def resolve(ref: str) -> str:
    """The commit a ref names, or GateInputError saying it does not exist."""
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GateInputError as exc:
        raise GateInputError(f"--against {ref}: no such commit in this repository") from exc


def prepare_baseline(sha: str) -> Path:
    """The baseline's checkout (a detached git worktree, made once per commit) and the folder its workers run from."""
    worktree = GATE_DIR / "worktrees" / sha
    if not (worktree / SYSTEM_UNDER_TEST).is_dir():
        GATE_DIR.mkdir(parents=True, exist_ok=True)
        _git("worktree", "prune")
        _git("worktree", "add", "--detach", "--force", str(worktree), sha)
    if not (worktree / SYSTEM_UNDER_TEST / "variants.py").exists():
        raise GateInputError(
            f"the baseline {sha[:12]} predates the variant registry (workflow/variants.py): this harness cannot run "
            "its workflow; gate against a later commit"
        )
    shadow = GATE_DIR / "shadow" / sha
    shadow.mkdir(parents=True, exist_ok=True)
    links = {name: ROOT / name for name in HARNESS} | {SYSTEM_UNDER_TEST: worktree / SYSTEM_UNDER_TEST}
    for name, target in links.items():
        link = shadow / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target, target_is_directory=True)
    return shadow


def findings(run_dir: Path, pythons: list[str], thresholds: Thresholds) -> list[Finding]:
    """Every timed comparison of the run: now / baseline per case, measure and interpreter."""
    found: list[Finding] = []
    for python in pythons:
        now = {case.name: case for case in read_speed_suite(run_dir, python)}
        before = {case.name: case for case in read_speed_suite(run_dir, f"{python}@{BASELINE}")}
        for name, case in sorted(now.items()):
            baseline = before.get(name)
            if baseline is None:
                continue
            zero = case.params.get("latency") == "zero"
            for gated in ("overhead", "idle") if zero else ("wall", "first_chunk"):
                if gated == "first_chunk" and not case.first_chunk_s:
                    continue
                found.append(_timed_finding(gated, case, baseline, python, thresholds))
    return found


def _timed_finding(
    measure: str, case: CaseResult, baseline: CaseResult, python: str, thresholds: Thresholds
) -> Finding:
    chunk, idle = measure == "first_chunk", measure == "idle"
    sample_measure = "first_chunk" if chunk else "idle" if idle else "wall"
    comparison = compare(case, baseline, sample_measure, across_commits=True, difference=idle)
    values: tuple[Sequence[float], Sequence[float]]
    if idle:
        values = (_idle_times(baseline), _idle_times(case))
    else:
        values = (baseline.first_chunk_s, case.first_chunk_s) if chunk else (baseline.values_s, case.values_s)
    before_s, now_s = (statistics.median(v) if v else None for v in values)
    method = f"paired {'difference' if idle else 'ratio'}, hierarchical bootstrap"
    note = comparison.describe() if comparison.too_few else ""
    return Finding.of(
        measure, case.name, python, (before_s, now_s), comparison.estimate, thresholds, method, comparison.pairs, note
    )


def _idle_times(case: CaseResult) -> list[float]:
    return [s.idle_s for s in case.samples if s.idle_s is not None]


def measured_side(
    variants: list[str],
    side: str,
    no_callgrind: str | None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Measured:
    """A side's deterministic measures; a failure is the candidate's (exit 1) or an unusable baseline (exit 2)."""
    try:
        return measure_side(variants, PROFILES[PROFILE], no_callgrind, cwd=cwd, extra_env=env)
    except SideFailed as exc:
        if side == BASELINE:
            raise GateInputError(f"the baseline's {exc} (with this harness)") from exc
        raise CandidateFailed(str(exc)) from exc


def publish(run_dir: Path, found: list[Finding], baseline: str, candidate: str, notes: list[str]) -> str:
    """gate.md and gate.json in the run folder, and the table in GitHub's job summary when there is one."""
    table = markdown(found, baseline, candidate, notes)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "gate.md", table)
    atomic_write_text(run_dir / "gate.json", dumps(found, baseline, candidate, notes))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as stream:
            stream.write(table + "\n")
    return table


def table(found: list[Finding], baseline: str) -> Table:
    """The gate's findings for a terminal."""
    shown = Table(title=f"Regression gate against {baseline}: now against baseline, [95% interval]")
    for column in ("measure", "case", "python", "baseline", "now", "change", "interval", "threshold", "decision"):
        shown.add_column(column, justify="right" if column in ("baseline", "now", "change", "threshold") else "left")
    for f in found:
        colour = {"regression": "red", "undecided": "yellow"}.get(f.decision, "") if f.gating else ""
        label = f.decision if f.gating else f"{f.decision} (advisory)"
        decision = f"[{colour}]{label}[/]" if colour else label
        before, now = (amount(value, f.unit) for value in (f.baseline_s, f.now_s))
        shown.add_row(f.measure, f.case, f.python, before, now, f.change, f.interval, f.limit, decision)
    return shown


def gated_variants() -> list[str]:
    """The variants the gate profile measures at zero latency: those the deterministic measures cover."""
    cases = expand(PROFILES[PROFILE], shipped_scenarios())
    return sorted({case.variant for case in cases if case.params["latency"] == "zero"})


def run_against(pythons: dict[str, str], run_dir: Path, against: str | None, console: Console) -> int:
    """A/B: the working tree and a baseline commit measured interleaved, then their deterministic measures."""
    thresholds = load_thresholds(ROOT / "pyproject.toml")
    ref = against or default_ref()
    sha = resolve(ref)
    shadow = prepare_baseline(sha)
    baseline, candidate = f"{ref} ({sha[:12]})", f"the working tree ({git_commit()[:12]}...)"
    labels: dict[str, str] = {}
    sides: dict[str, Side] = {}
    for python, executable in pythons.items():
        labels[python] = executable
        labels[f"{python}@{BASELINE}"] = executable
        sides[f"{python}@{BASELINE}"] = Side(shadow, {COMMIT_OVERRIDE: sha})
    profile = PROFILES[PROFILE]
    cases = expand(profile, shipped_scenarios())
    console.print(f"gate: {candidate} against {baseline}, Python {', '.join(pythons)}; {profile.description}")
    try:
        measure(labels, dict.fromkeys(labels, cases), Plan.of(profile), run_dir, {"profile": PROFILE}, console, sides)
        found = findings(run_dir, list(pythons), thresholds)
        variants = gated_variants()
        console.print(f"gate: instructions and heap (Python {python_tag()}) for {', '.join(variants)}, both sides")
        # Load-independent measures: both sides at once (counts and traced bytes do not move with the load).
        no_callgrind = instructions.unavailable_reason()  # probed once for both sides
        with ThreadPoolExecutor(max_workers=2) as pool:
            candidate_side = pool.submit(measured_side, variants, "candidate", no_callgrind)
            baseline_side = pool.submit(measured_side, variants, BASELINE, no_callgrind, shadow, {COMMIT_OVERRIDE: sha})
            now, before = candidate_side.result(), baseline_side.result()
    except SpeedSuiteFailed as exc:
        if exc.label.endswith(f"@{BASELINE}"):
            raise GateInputError(f"the baseline could not be measured with this harness: {exc}") from exc
        console.print(f"[red]gate: the candidate failed: {exc}[/]")
        return EXIT_REGRESSION
    except CandidateFailed as exc:
        console.print(f"[red]gate: the candidate failed: {exc}[/]")
        return EXIT_REGRESSION
    found += compare_sides(now, before, python_tag(), thresholds)
    return conclude(run_dir, found, baseline, candidate, sorted(set(now.notes + before.notes)), console)


def run_stored(path: Path, run_dir: Path, update: bool, console: Console) -> int:
    """Against a stored baseline: the deterministic measures only, on the driver's interpreter, no baseline build.
    With `update`, measure the working tree and write it as the new baseline instead."""
    thresholds = load_thresholds(ROOT / "pyproject.toml")
    stored = None if update else read_baseline(path)  # a bad file is named before anything is measured
    variants = gated_variants()
    console.print(f"gate: instructions and heap (Python {python_tag()}) for {', '.join(variants)}, the working tree")
    try:
        now = measured_side(variants, "candidate", instructions.unavailable_reason())
    except CandidateFailed as exc:
        console.print(f"[red]gate: the candidate failed: {exc}[/]")
        return EXIT_REGRESSION
    if stored is None:
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
        write_baseline(path, now, git_commit() + (" plus uncommitted changes" if dirty else ""))
        console.print(f"gate: wrote the baseline {path} ({len(now.cases)} cases; commit it)")
        return EXIT_PASS
    notes = check_usable(stored, now) + now.notes
    found = compare_sides(now, stored.measured, python_tag(), thresholds)
    baseline = f"{path} (commit {stored.commit[:12]}{stored.commit[40:]})"
    return conclude(run_dir, found, baseline, f"the working tree ({git_commit()[:12]}...)", notes, console)


def conclude(
    run_dir: Path, found: list[Finding], baseline: str, candidate: str, notes: list[str], console: Console
) -> int:
    publish(run_dir, found, baseline, candidate, notes)
    out = table_console()
    out.print(table(found, baseline))
    for note in notes:
        console.print(f"[yellow]gate: {note}[/]")
    console.print(f"gate: {verdict_line(found)}; wrote {run_dir / 'gate.md'} and gate.json")
    return exit_code(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gate", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--python", action="append", required=True, metavar="X.Y=PATH", help="(repeatable)")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--against", help="the baseline commit (default: merge-base with main; HEAD if uncommitted)")
    chosen.add_argument("--baseline", type=Path, help="a stored baseline (deterministic measures only)")
    parser.add_argument("--update-baseline", action="store_true", help="write --baseline from the working tree")
    args = parser.parse_args(argv)
    select_transport("respx")  # the gate's workload and its stored baseline are respx runs, whatever the shell says
    if args.update_baseline and args.baseline is None:
        parser.error("--update-baseline needs --baseline FILE (where to write it)")
    pythons = dict(spec.split("=", 1) for spec in args.python)
    console = Console(stderr=True)
    try:
        if args.baseline is not None:
            return run_stored(args.baseline, args.run_dir, args.update_baseline, console)
        return run_against(pythons, args.run_dir, args.against, console)
    except (GateInputError, GateConfigError, ResultsError, BaselineFileError) as exc:
        console.print(f"[red]gate: unusable input: {exc}[/]")
        return EXIT_UNUSABLE
    except OSError as exc:  # a folder that cannot be made, a disk that is full
        console.print(f"[red]gate: cannot prepare or write {exc.filename or args.run_dir}: {exc.strerror or exc}[/]")
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
