"""The regression gate's decisions: thresholds, one finding per measure and case, and how they are written.

A change is a regression only when it is both significant (the 95% interval of now / baseline lies
wholly above 1) and large (the ratio itself is above 1 + the measure's threshold). Significant but
small passes, as "slower, within threshold"; large but not significant passes too and is reported
("not significant"): on a noisy machine that is what chance looks like. A comparison with too few
undisturbed pairs for an interval decides nothing, and the gate says it could not decide (exit 2)
rather than pass it silently. Thresholds come from pyproject.toml, [tool.agno-bench.gate]: a fraction for
the measures compared as ratios, bytes per run for `retained` (compared as a difference: its baseline is near 0).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

from benchmarks.stats import Estimate

Decision = Literal["regression", "slower, within threshold", "not significant", "no change", "faster", "undecided"]
EXIT_PASS, EXIT_REGRESSION, EXIT_UNUSABLE = 0, 1, 2
MEASURES = {
    "wall": "wall time per run at default latency",
    "overhead": "zero-latency run (all overhead: no waiting)",
    "idle": "idle time of a zero-latency run (wall - CPU - queued)",
    "first_chunk": "time to the first content chunk",
    "instructions": "instructions per zero-latency run (callgrind)",
    "heap_peak": "peak heap of a zero-latency run (tracemalloc)",
    "retained": "heap retained per run (tracemalloc slope)",
}
ABSOLUTE = ("retained", "idle")  # compared as now - baseline; thresholds in bytes per run and seconds
UNITS = {"wall": "s", "overhead": "s", "idle": "s", "first_chunk": "s", "instructions": "instructions"} | {
    "heap_peak": "bytes",
    "retained": "bytes/run",
}


class GateConfigError(ValueError):
    """pyproject.toml's gate table cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Thresholds:
    """Largest slow-down let through, per measure, as a fraction (0.10: 10%)."""

    wall: float = 0.10
    overhead: float = 0.15  # zero-latency runs vary ~15% run to run here: a smaller margin needs more values
    first_chunk: float = 0.10
    # Seconds a zero-latency run spends neither computing nor queued for a CPU: ~0-1 ms for the async variants,
    # 2-4 ms for threads (pool hand-offs), whose per-process median moves ~3 ms; a sleep or blocking wait added
    # per call shows here whatever the load
    idle: float = 0.005
    instructions: float = 0.05  # counts repeat within 0.1-0.4%: a small threshold is safe here
    heap_peak: float = 0.10  # threads' peak moves ~5% with scheduling; the async variants' ~2%
    retained: float = 16384  # bytes per run: ~3 KiB/run is the harness's own per-run record, +-1 KiB by process
    # Measures shown and decided but not failing the gate: zero-latency runs gave false alarms in an A/A run
    advisory: tuple[str, ...] = ("overhead",)

    def of(self, measure: str) -> float:
        return float(getattr(self, measure))

    def gating(self, measure: str) -> bool:
        return measure not in self.advisory


def load_thresholds(pyproject: Path) -> Thresholds:
    """[tool.agno-bench.gate] in pyproject.toml, e.g. `wall = 0.10`; missing keys keep their defaults."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise GateConfigError(f"{pyproject}: not readable TOML ({exc})") from exc
    table = data.get("tool", {}).get("agno-bench", {}).get("gate", {})
    known = {f.name for f in fields(Thresholds)} - {"advisory"}
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{pyproject}: [tool.agno-bench.gate] {key}"
        if key == "advisory":
            if not isinstance(value, list) or not all(item in known for item in value):
                raise GateConfigError(f"{where}: expected a list of measures from {sorted(known)}, got {value!r}")
            values[key] = tuple(value)
            continue
        if key not in known:
            raise GateConfigError(f"{where}: unknown measure; expected one of {sorted(known)}")
        if key == "retained":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise GateConfigError(f"{where}: expected bytes per run such as 16384, got {value!r}")
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 10:
            raise GateConfigError(f"{where}: expected a fraction such as 0.10, got {value!r}")
        values[key] = float(value)
    return Thresholds(**values)


@dataclass(frozen=True)
class Finding:
    """One gated comparison: now / baseline (now - baseline for an ABSOLUTE measure) of one case on one interpreter."""

    measure: str
    case: str
    python: str
    baseline_s: float | None  # the figure each side is summarised by (medians; a slope for retained), in `unit`
    now_s: float | None
    ratio: float | None  # now / baseline; for an ABSOLUTE measure, now - baseline in `unit`
    low: float | None
    high: float | None
    threshold: float
    decision: Decision
    method: str
    pairs: int
    note: str = ""
    unit: str = "s"  # UNITS[measure]: s, instructions, bytes or bytes/run
    gating: bool = True  # False: shown and decided, but it does not fail the gate (Thresholds.advisory)

    @classmethod
    def of(
        cls,
        measure: str,
        case: str,
        python: str,
        sides: tuple[float | None, float | None],
        estimate: Estimate | None,
        thresholds: Thresholds,
        method: str,
        pairs: int,
        note: str = "",
    ) -> Finding:
        """The finding for `estimate` (of now/baseline, or now - baseline for an ABSOLUTE measure), decided."""
        threshold = thresholds.of(measure)
        return cls(
            measure=measure,
            case=case,
            python=python,
            baseline_s=sides[0],
            now_s=sides[1],
            ratio=None if estimate is None else estimate.value,
            low=None if estimate is None else estimate.low,
            high=None if estimate is None else estimate.high,
            threshold=threshold,
            decision=judge(estimate, threshold, origin=0.0 if measure in ABSOLUTE else 1.0),
            method=method,
            pairs=pairs,
            note=note,
            unit=UNITS[measure],
            gating=thresholds.gating(measure),
        )

    @property
    def absolute(self) -> bool:
        return self.measure in ABSOLUTE

    @property
    def fails(self) -> bool:
        return self.gating and self.decision == "regression"

    @property
    def change(self) -> str:
        if self.ratio is None:
            return "-"
        return self._difference(self.ratio) if self.absolute else f"{self.ratio - 1:+.1%}"

    @property
    def interval(self) -> str:
        if self.low is None or self.high is None:
            return "-"
        if self.absolute:
            return f"{self._difference(self.low)} to {self._difference(self.high)}"
        return f"{self.low - 1:+.1%} to {self.high - 1:+.1%}"

    @property
    def limit(self) -> str:
        return self._difference(self.threshold) if self.absolute else f"+{self.threshold:.0%}"

    def _difference(self, value: float) -> str:
        return f"{value * 1000:+.1f} ms" if self.unit == "s" else f"{value / 1024:+,.1f} KiB/run"


def judge(estimate: Estimate | None, threshold: float, origin: float = 1.0) -> Decision:
    """The decision table (see the module docstring); `origin` is "no change": 1 for a ratio, 0 for a difference."""
    if estimate is None or estimate.low is None or estimate.high is None:
        return "undecided"
    significant_slower = estimate.low > origin
    large = estimate.value > origin + threshold
    if significant_slower:
        return "regression" if large else "slower, within threshold"
    if large:
        return "not significant"
    if estimate.high < origin and estimate.value < origin - threshold:
        return "faster"
    return "no change"


def exit_code(findings: list[Finding]) -> int:
    if any(f.fails for f in findings):
        return EXIT_REGRESSION
    if not findings or any(f.gating and f.decision == "undecided" for f in findings):
        return EXIT_UNUSABLE
    return EXIT_PASS


def verdict_line(findings: list[Finding]) -> str:
    regressions = [f for f in findings if f.fails]
    if regressions:
        named = "; ".join(f"{f.case} on {f.python}: {MEASURES[f.measure]} {f.change}" for f in regressions)
        return f"regression: {named}"
    undecided = [f for f in findings if f.gating and f.decision == "undecided"]
    if undecided or not findings:
        named = ", ".join(f"{f.measure} {f.case} on {f.python}" for f in undecided) or "nothing was compared"
        return f"could not decide: {named} (too few undisturbed values; run the gate again)"
    return f"no regression in {len(findings)} comparisons"


def amount(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "instructions":
        return f"{value / 1e6:,.1f} M"
    if unit in ("bytes", "bytes/run"):
        return f"{value / 1024:,.1f} KiB" + ("/run" if unit == "bytes/run" else "")
    return f"{value * 1000:.1f} ms"


def markdown(findings: list[Finding], baseline: str, candidate: str, notes: Sequence[str] = ()) -> str:
    """The gate's table for people (and GitHub's job summary)."""
    lines = [
        f"## Regression gate: {candidate} against {baseline}",
        "",
        f"**{verdict_line(findings)}**",
        "",
        "| measure | case | python | baseline | now | change | 95% interval | threshold | decision | method |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in findings:
        decision = f"**{f.decision}**" if f.fails else f.decision + ("" if f.gating else " (advisory)")
        lines.append(
            f"| {MEASURES[f.measure]} | {f.case} | {f.python} | {amount(f.baseline_s, f.unit)} "
            f"| {amount(f.now_s, f.unit)} | {f.change} "
            f"| {f.interval} | {f.limit} | {decision} | {f.method}{'; ' + f.note if f.note else ''} |"
        )
    lines += [
        "",
        "A regression is significant (the whole interval of now / baseline above 1; of now - baseline above 0 for "
        "the heap retained per run) and larger than its threshold; an advisory measure is shown and decided but does "
        "not fail the gate.",
        "",
    ]
    lines += [f"- {note}" for note in notes] + ([""] if notes else [])
    return "\n".join(lines)


def to_json(findings: list[Finding], baseline: str, candidate: str, notes: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "baseline": baseline,
        "candidate": candidate,
        "notes": list(notes),
        "exit_code": exit_code(findings),
        "verdict": verdict_line(findings),
        "findings": [asdict(f) | {"change": f.change} for f in findings],
    }


def dumps(findings: list[Finding], baseline: str, candidate: str, notes: Sequence[str] = ()) -> str:
    return json.dumps(to_json(findings, baseline, candidate, notes), indent=2) + "\n"
