"""The gate's load-independent measures, and the stored baseline (`--baseline FILE`) that holds them.

Instructions per zero-latency run (callgrind, benchmarks/instructions.py) and the heap a run peaks at and
leaves behind (tracemalloc, benchmarks/gate_memory.py) do not move with the machine's load, so they need
no interleaving: one process per side on the driver's interpreter, the memory worker running beside the
valgrind one. The same numbers, written once by `--update-baseline`, make a stored baseline
(`benchmarks/baselines/<name>.json`, committed) that a later run compares against without building the
baseline commit. A stored baseline is used only on the interpreter, scenario and measures it was taken with:
anything else is unusable input (exit 2), named.
"""

from __future__ import annotations

import json
import platform
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import gate_memory, instructions
from benchmarks.environment import package_versions, python_tag
from benchmarks.gate_rules import Finding, Thresholds
from benchmarks.matrix import Profile
from benchmarks.run_dir import atomic_write_text
from benchmarks.stats import Estimate, difference, ratio_of_medians

BASELINE_FORMAT = "agno-bench gate baseline, version 1"


class SideFailed(Exception):
    """A side's deterministic measures could not be taken; the message says which worker and why."""


class BaselineFileError(Exception):
    """A stored baseline that cannot be used here (exit 2); the message names the file and what differs."""


@dataclass
class Measured:
    """One side's deterministic measures: case -> {"instructions": [...], "heap_peak": [...], "retained": {...}}."""

    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was not measured, and why

    def scenario_hashes(self) -> dict[str, str]:
        return {name: case["scenario_hash"] for name, case in self.cases.items()}


def measure_side(
    variants: list[str],
    profile: Profile,
    no_callgrind: str | None,
    cwd: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> Measured:
    """Instructions (unless `no_callgrind` says why callgrind cannot count here: instructions.unavailable_reason,
    probed once by the caller for both sides) and heap measures of report-5@zero for each variant, one side."""
    memory = gate_memory.start(variants, cwd=cwd, extra_env=extra_env)
    measured = Measured()
    counts: dict[str, dict[str, Any]] = {}
    if no_callgrind:
        measured.notes.append(f"instructions not measured: {no_callgrind}")
    else:
        counts, failed = instructions.run_variants(variants, profile, cwd=cwd, extra_env=extra_env)
        if failed:
            memory.process.kill()
            raise SideFailed(f"instruction counts: {failed}")
    heaps, failed = gate_memory.finish(memory)
    if failed:
        raise SideFailed(f"heap measures: {failed}")
    for name, heap in heaps.items():
        case = {"scenario_hash": heap["hash"], "heap_peak": heap["heap_peak"], "retained": heap["retained"]}
        if name in counts:
            case["instructions"] = counts[name]["instructions"]
        measured.cases[name] = case
    return measured


def compare_sides(now: Measured, before: Measured, python: str, thresholds: Thresholds) -> list[Finding]:
    """A finding per case and deterministic measure both sides have."""
    found: list[Finding] = []
    for name in sorted(now.cases.keys() & before.cases.keys()):
        current, earlier = now.cases[name], before.cases[name]
        if "instructions" in current and "instructions" in earlier:
            counts, base = current["instructions"], earlier["instructions"]
            value = statistics.median(counts) / statistics.median(base)
            bounded = Estimate(value, min(counts) / max(base), max(counts) / min(base))
            sides = (statistics.median(base), statistics.median(counts))
            method = (
                "ratio of medians, bounded by the runs' extremes"
                if len(counts) > 1 or len(base) > 1
                else "ratio of one count per side (callgrind counts repeat within 0.6%)"
            )
            found.append(Finding.of("instructions", name, python, sides, bounded, thresholds, method, len(counts)))
        peaks, base_peaks = current["heap_peak"], earlier["heap_peak"]
        peak = ratio_of_medians(peaks, base_peaks)
        sides = (statistics.median(base_peaks), statistics.median(peaks))
        found.append(Finding.of("heap_peak", name, python, sides, peak, thresholds, peak.method, peak.n))
        slopes = [_slope(case["retained"], len(case["heap_peak"])) for case in (current, earlier)]
        change = difference(slopes[0], slopes[1])
        method = "difference of least-squares slopes, t intervals combined"
        sides = (slopes[1].value, slopes[0].value)
        found.append(Finding.of("retained", name, python, sides, change, thresholds, method, change.n))
    return found


def _slope(retained: dict[str, float | None], runs: int) -> Estimate:
    value = retained["bytes_per_run"]
    if value is None:
        raise BaselineFileError("a retained-heap slope without a value")
    return Estimate(value, retained["low"], retained["high"], runs)


# --- the stored baseline ---------------------------------------------------------------------------


def identity() -> dict[str, Any]:
    """What a stored baseline must share with the run comparing against it (the packages are reported, not required)."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "valgrind": instructions.valgrind_version(),
    }


def write_baseline(path: Path, measured: Measured, commit: str) -> None:
    document = {
        "format": BASELINE_FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "python_tag": python_tag(),
        **identity(),
        "packages": package_versions(),
        "scenario_hashes": measured.scenario_hashes(),
        "notes": measured.notes,
        "cases": measured.cases,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


@dataclass(frozen=True)
class StoredBaseline:
    path: Path
    commit: str
    measured: Measured
    packages: dict[str, str]
    identity: dict[str, Any]


def read_baseline(path: Path) -> StoredBaseline:
    """The stored baseline at `path`, or BaselineFileError naming the file and what is wrong with it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BaselineFileError(f"{path}: no such baseline file (write one with --update-baseline)") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineFileError(f"{path}: not a readable JSON baseline ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != BASELINE_FORMAT:
        raise BaselineFileError(f"{path}: not a gate baseline (expected format {BASELINE_FORMAT!r})")
    try:
        cases = document["cases"]
        for name, case in cases.items():
            if not isinstance(case.get("heap_peak"), list) or "bytes_per_run" not in case.get("retained", {}):
                raise BaselineFileError(f"{path}: case {name} lacks heap_peak or retained")
        measured = Measured(cases, list(document.get("notes", [])))
        taken = {key: document[key] for key in identity()}
        return StoredBaseline(path, str(document["commit"]), measured, dict(document["packages"]), taken)
    except (KeyError, AttributeError, TypeError) as exc:
        raise BaselineFileError(f"{path}: malformed baseline ({exc!r} missing or of the wrong kind)") from exc


def check_usable(stored: StoredBaseline, now: Measured) -> list[str]:
    """Raise BaselineFileError if `stored` was taken on another interpreter or scenario; return notes on what
    differs but does not forbid the comparison (package versions, valgrind's version)."""
    here = identity()
    for key in ("python", "implementation", "machine"):
        if stored.identity[key] != here[key]:
            raise BaselineFileError(
                f"{stored.path}: taken with {key} {stored.identity[key]}, this run has {here[key]}; "
                "compare on the same interpreter, or write a new baseline with --update-baseline"
            )
    hashes = stored.measured.scenario_hashes()
    for name, digest in now.scenario_hashes().items():
        if name in hashes and hashes[name] != digest:
            raise BaselineFileError(
                f"{stored.path}: {name} was measured on a different scenario (hash {hashes[name][:12]}, "
                f"now {digest[:12]}); write a new baseline with --update-baseline"
            )
    if not now.cases.keys() & stored.measured.cases.keys():
        raise BaselineFileError(f"{stored.path}: no case in common with this run ({sorted(stored.measured.cases)})")
    notes = []
    if stored.identity["valgrind"] != here["valgrind"]:
        notes.append(f"valgrind was {stored.identity['valgrind']}, now {here['valgrind']}")
    installed = package_versions()
    moved = {
        name: (version, installed.get(name))
        for name, version in stored.packages.items()
        if installed.get(name) != version
    }
    if moved:
        listed = ", ".join(f"{name} {old} -> {new}" for name, (old, new) in sorted(moved.items()))
        notes.append(f"packages differ from the baseline's ({listed}): their change is part of what is compared")
    return notes
