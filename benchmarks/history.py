"""Runs distilled to what a history needs, filed where results accumulate, read back, and split into series.

    python -m benchmarks.history reports/<run-id> [...] [--results results]   (nox -s publish does this first)

One small JSON file per run (a few hundred KiB at most, so a `gh-pages` branch can keep years of them):

    results/<machine>/<commit[:12]>-<profile>-<run-id>.json

holding the run's identity (commit and its date, profile, machine, transport, openai line, interpreters asked for and
missing, verdict per claim) and, per case, interpreter and measure, the value with its interval or its raw values
(what `nox -s compare` resamples). A series is one measure of one case on one interpreter, from the runs of one
machine, transport and profile, in commit order: runs from different machines or transports never share one.
A run that lacks a value (an interpreter missing, a case not measured) leaves a gap in the series, never a zero.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.claims import decide_all
from benchmarks.results import ResultsError, RunResults, load_run
from benchmarks.run_dir import atomic_write_json
from benchmarks.summary import ratio_to_taskgroup

SCHEMA = 1
RESULTS_ROOT = Path("results")


@dataclass(frozen=True)
class Measure:
    key: str
    title: str
    unit: str  # "s", "bytes", "" (a count or a ratio)
    threshold: str  # the gate's threshold (pyproject.toml [tool.agno-bench.gate]) a comparison is judged by


# One registry: what a run is distilled to, what the site draws, what compare judges.
MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure("wall", "wall time per run (median)", "s", "wall"),
        Measure("first_chunk", "time to the first chunk (median)", "s", "first_chunk"),
        Measure("instructions", "instructions per zero-latency run (callgrind)", "", "instructions"),
        Measure("memory_per_op", "RSS per concurrent operation (slope over K)", "bytes", "heap_peak"),
        Measure("ratio_to_taskgroup", "× taskgroup (paired ratio)", "", "wall"),
    )
}


@dataclass(frozen=True)
class Value:
    value: float
    low: float | None = None  # its 95% interval, where the run computed one
    high: float | None = None
    samples: tuple[float, ...] = ()  # the raw values behind it, where there are several


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    commit: str
    commit_date: str  # ISO 8601; "" if unknown (ordered by run id then)
    profile: str
    machine: str
    transport: str
    openai: str
    pythons: tuple[str, ...]  # interpreters with results
    missing: tuple[str, ...]  # interpreters asked for and not found
    verdicts: dict[str, str]  # claim id -> verdict
    values: dict[tuple[str, str, str], Value] = field(default_factory=dict)  # (case, python, measure) -> value
    path: Path | None = None  # the file it was read from

    @property
    def order(self) -> tuple[str, str]:
        return (self.commit_date, self.run_id)

    @property
    def group(self) -> tuple[str, str, str]:
        """What a series never mixes: machine, transport, profile."""
        return (self.machine, self.transport, self.profile)

    @property
    def filename(self) -> str:
        return f"{self.commit[:12]}-{self.profile}-{self.run_id}.json"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "commit": self.commit,
            "commit_date": self.commit_date,
            "profile": self.profile,
            "machine": self.machine,
            "transport": self.transport,
            "openai": self.openai,
            "pythons": list(self.pythons),
            "missing": list(self.missing),
            "verdicts": self.verdicts,
            "values": [
                {"case": case, "python": python, "measure": measure, "value": v.value, "low": v.low, "high": v.high}
                | ({"samples": list(v.samples)} if v.samples else {})
                for (case, python, measure), v in sorted(self.values.items())
            ],
        }


class HistoryError(Exception):
    """A stored run file cannot be used; the message names the file and what is wrong."""


def distill(run_dir: Path) -> RunRecord:
    """A run folder's identity and values (ResultsError if the run cannot be read)."""
    results = load_run(run_dir)
    if not results.pythons:
        raise ResultsError(f"{run_dir}: no results in raw/ (not a run folder, or no suite finished)")
    manifest = results.manifest
    return RunRecord(
        run_id=str(manifest.get("run_id", run_dir.name)),
        commit=str(manifest.get("commit") or _commit_of(results)),
        commit_date=str(manifest.get("commit_date", "")),
        profile=str(manifest.get("profile", "unknown")),
        machine=str(manifest.get("machine") or "unknown-machine"),
        transport=str(manifest.get("transport", "respx")),
        openai=str(manifest.get("openai_line", "2")),
        pythons=tuple(results.pythons),
        missing=tuple(results.missing),
        verdicts={verdict.claim.id: verdict.verdict for verdict in decide_all(results)},
        values=_values(results),
    )


def _commit_of(results: RunResults) -> str:
    """A run from before the manifest recorded its commit: the commit its workers reported, if they agree."""
    commits = {str(env.get("git_commit")) for env in results.environments.values() if env.get("git_commit")}
    return commits.pop() if len(commits) == 1 else "unknown"


def _values(results: RunResults) -> dict[tuple[str, str, str], Value]:
    values: dict[tuple[str, str, str], Value] = {}
    for case in results.cases:
        if case.values_s:
            values[case.name, case.python, "wall"] = Value(case.median_s, samples=tuple(case.values_s))
        chunk = case.first_chunk_median_s
        if chunk is not None:
            values[case.name, case.python, "first_chunk"] = Value(chunk, samples=tuple(case.first_chunk_s))
        ratio = ratio_to_taskgroup(results, case)
        if ratio is not None and ratio.estimate is not None:
            estimate = ratio.estimate
            values[case.name, case.python, "ratio_to_taskgroup"] = Value(estimate.value, estimate.low, estimate.high)
    for python, counted in results.instructions.items():
        for name, case in counted.cases.items():
            if case.instructions:
                values[name, python, "instructions"] = Value(case.median, samples=tuple(map(float, case.instructions)))
    for python, memory in results.memory.items():
        for variant, measured in memory.variants.items():
            slope = measured.slope("rss")
            if slope.per_operation is not None:
                values[f"memory/{variant}", python, "memory_per_op"] = Value(slope.per_operation, slope.low, slope.high)
    return values


def write_record(record: RunRecord, root: Path = RESULTS_ROOT) -> Path:
    """results/<machine>/<commit>-<profile>-<run-id>.json, atomically; a run filed again replaces its file."""
    path = root / slug(record.machine) / record.filename
    atomic_write_json(path, record.to_json())
    return path


def slug(text: str) -> str:
    """A name as a file or anchor name: anything but letters, digits, '.', '_' and '-' becomes '-'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "unknown"


def read_record(path: Path) -> RunRecord:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HistoryError(f"{path}: not readable as JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise HistoryError(f"{path}: not a distilled run of schema {SCHEMA}")
    try:
        values = {
            (str(v["case"]), str(v["python"]), str(v["measure"])): Value(
                float(v["value"]),
                _number(v.get("low")),
                _number(v.get("high")),
                tuple(map(float, v.get("samples", ()))),
            )
            for v in data["values"]
        }
        return RunRecord(
            run_id=str(data["run_id"]),
            commit=str(data["commit"]),
            commit_date=str(data.get("commit_date", "")),
            profile=str(data["profile"]),
            machine=str(data["machine"]),
            transport=str(data["transport"]),
            openai=str(data.get("openai", "2")),
            pythons=tuple(map(str, data["pythons"])),
            missing=tuple(map(str, data.get("missing", ()))),
            verdicts={str(k): str(v) for k, v in data.get("verdicts", {}).items()},
            values=values,
            path=path,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise HistoryError(f"{path}: {type(exc).__name__}: {exc} (a field is missing or of the wrong type)") from exc


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def load_records(root: Path = RESULTS_ROOT) -> tuple[list[RunRecord], list[str]]:
    """Every stored run under root, in history order, and a message per file that could not be used (skipped)."""
    records: list[RunRecord] = []
    problems: list[str] = []
    for path in sorted(root.glob("*/*.json")):
        try:
            records.append(read_record(path))
        except HistoryError as exc:
            problems.append(str(exc))
    return sorted(records, key=lambda r: r.order), problems


@dataclass(frozen=True)
class SeriesKey:
    machine: str
    transport: str
    profile: str
    python: str
    case: str
    measure: str


Point = tuple[RunRecord, Value | None]  # None: that run has no value here (a gap)


def series(records: Sequence[RunRecord]) -> dict[SeriesKey, list[Point]]:
    """Every (machine, transport, profile, python, case, measure) with its points in history order, one per run of
    that machine, transport and profile: a run without the value is a gap (None), never left out or a zero."""
    by_group: dict[tuple[str, str, str], list[RunRecord]] = {}
    for record in sorted(records, key=lambda r: r.order):
        by_group.setdefault(record.group, []).append(record)
    found: dict[SeriesKey, list[Point]] = {}
    for (machine, transport, profile), runs in by_group.items():
        keys = sorted({key for run in runs for key in run.values})
        for case, python, measure in keys:
            found[SeriesKey(machine, transport, profile, python, case, measure)] = [
                (run, run.values.get((case, python, measure))) for run in runs
            ]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.history", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR")
    parser.add_argument("--results", type=Path, default=RESULTS_ROOT, help="where distilled runs accumulate")
    args = parser.parse_args(argv)
    failed = 0
    for run_dir in args.run_dirs:
        try:
            print(write_record(distill(run_dir), args.results))
        except ResultsError as exc:
            print(f"history: {run_dir} skipped: {exc}", file=sys.stderr)
            failed += 1
    return 2 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
