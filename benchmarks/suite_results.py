"""The memory and equivalence suites' raw files, read into typed values (and checked while reading).

`raw/<python>.memory.json` (benchmarks/memory.py) and `raw/<python>.equivalence.json`
(benchmarks/equivalence.py) are nested JSON; the claims and the summary read these values instead,
so a file of the wrong shape is named when it is loaded, not deep inside a decision rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ResultsError(Exception):
    """A result file is missing or unreadable; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Slope:
    """Bytes per concurrent operation with its 95% interval (None: not measured / no interval)."""

    per_operation: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class MemoryVariant:
    samples: tuple[dict[str, float], ...]  # one per worker process: "operations" and each metric
    marginal: dict[str, Slope]  # metric -> bytes per operation
    threads_per_operation: Slope
    process: dict[str, Any] = field(default_factory=dict)  # report-25 peak RSS, stack reservation
    own_peak_rss_bytes: dict[str, int] = field(default_factory=dict)  # a user's scenario -> one run's peak RSS

    def points(self, metric: str) -> list[tuple[float, float]]:
        """(K, value) of every sample that measured `metric`."""
        return [(s["operations"], s[metric]) for s in self.samples if s.get(metric) is not None]

    def slope(self, metric: str) -> Slope:
        return self.marginal.get(metric, Slope(None))


@dataclass(frozen=True)
class MemoryResult:
    python: str
    variants: dict[str, MemoryVariant]
    environment: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunErrorRecord:
    step: str
    failed: tuple[str, ...]
    completed: tuple[str, ...]
    cancelled: tuple[str, ...]
    orphaned: tuple[str, ...] = ()  # siblings left running when the failure was reported (plain gather)


@dataclass(frozen=True)
class ObservedRun:
    """What one variant's run did, as the equivalence suite observed it."""

    validated: bool
    outcomes: dict[str, int]  # requests answered / failed / cancelled
    run_errors: tuple[RunErrorRecord, ...] = ()


@dataclass(frozen=True)
class ScenarioEquivalence:
    variants: dict[str, ObservedRun]
    differences: dict[str, list[str]]  # variant -> how it departs from the reference (absent: it does not)


@dataclass(frozen=True)
class EquivalenceResult:
    reference: str
    scenarios: dict[str, ScenarioEquivalence]


def parse_memory(data: dict[str, Any], source: str, python: str) -> MemoryResult:
    try:
        variants = {name: _memory_variant(variant) for name, variant in data["variants"].items()}
        return MemoryResult(python, variants, dict(data.get("environment", {})))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultsError(f"{source}: not a memory suite result ({type(exc).__name__}: {exc})") from exc


def _memory_variant(data: dict[str, Any]) -> MemoryVariant:
    return MemoryVariant(
        samples=tuple(dict(sample) for sample in data["samples"]),
        marginal={metric: _slope(estimate) for metric, estimate in data["marginal"].items()},
        threads_per_operation=_slope(data.get("threads_per_operation", {})),
        process=dict(data.get("process", {})),
        own_peak_rss_bytes={str(name): int(peak) for name, peak in data.get("own_peak_rss_bytes", {}).items()},
    )


def _slope(data: dict[str, Any]) -> Slope:
    def number(key: str) -> float | None:
        value = data.get(key)
        return None if value is None else float(value)

    return Slope(number("bytes_per_operation"), number("low"), number("high"))


def parse_equivalence(data: dict[str, Any], source: str) -> EquivalenceResult:
    try:
        scenarios = {
            name: ScenarioEquivalence(
                variants={variant: _observed(run) for variant, run in result["variants"].items()},
                differences={variant: list(found) for variant, found in result.get("differences", {}).items()},
            )
            for name, result in data["scenarios"].items()
        }
        return EquivalenceResult(str(data.get("reference", "threads")), scenarios)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultsError(f"{source}: not an equivalence result ({type(exc).__name__}: {exc})") from exc


def _observed(data: dict[str, Any]) -> ObservedRun:
    errors = tuple(
        RunErrorRecord(
            step=str(error.get("step", "")),
            failed=tuple(error["failed"]),
            completed=tuple(error.get("completed", ())),
            cancelled=tuple(error["cancelled"]),
            orphaned=tuple(error.get("orphaned", ())),
        )
        for error in data.get("run_errors", ())
    )
    return ObservedRun(bool(data["validated"]), {k: int(v) for k, v in data["outcomes"].items()}, errors)
