"""The regression gate's decisions: thresholds, one finding per measure and case, and how they are written.

A change is a regression only when it is both significant (the 95% interval of now / baseline lies
wholly above 1) and large (the ratio itself is above 1 + the measure's threshold). Significant but
small passes, as "slower, within threshold"; large but not significant passes too and is reported
("not significant"): on a noisy machine that is what chance looks like. A comparison with too few
undisturbed pairs for an interval decides nothing, and the gate says it could not decide (exit 2)
rather than pass it silently. Thresholds come from pyproject.toml, [tool.agno-bench.gate].
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

from benchmarks.stats import Estimate

Decision = Literal["regression", "slower, within threshold", "not significant", "no change", "faster", "undecided"]
EXIT_PASS, EXIT_REGRESSION, EXIT_UNUSABLE = 0, 1, 2
MEASURES = {
    "wall": "wall time per run at default latency",
    "overhead": "zero-latency run (all overhead: no waiting)",
    "first_chunk": "time to the first content chunk",
    "instructions": "instructions per zero-latency run (callgrind)",
}


class GateConfigError(ValueError):
    """pyproject.toml's gate table cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Thresholds:
    """Largest slow-down let through, per measure, as a fraction (0.10: 10%)."""

    wall: float = 0.10
    overhead: float = 0.15  # zero-latency runs vary ~15% run to run here: a smaller margin needs more values
    first_chunk: float = 0.10
    instructions: float = 0.05  # counts repeat within 0.1-0.4%: a small threshold is safe here
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
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 10:
            raise GateConfigError(f"{where}: expected a fraction such as 0.10, got {value!r}")
        values[key] = float(value)
    return Thresholds(**values)


@dataclass(frozen=True)
class Finding:
    """One gated comparison: now / baseline for a measure of one case on one interpreter."""

    measure: str
    case: str
    python: str
    baseline_s: float | None  # medians, for the table
    now_s: float | None
    ratio: float | None
    low: float | None
    high: float | None
    threshold: float
    decision: Decision
    method: str
    pairs: int
    note: str = ""
    unit: str = "s"  # "s" (baseline_s and now_s in seconds) or "instructions" (counts)
    gating: bool = True  # False: shown and decided, but it does not fail the gate (Thresholds.advisory)

    @property
    def fails(self) -> bool:
        return self.gating and self.decision == "regression"

    @property
    def change(self) -> str:
        return "-" if self.ratio is None else f"{self.ratio - 1:+.1%}"


def judge(estimate: Estimate | None, threshold: float) -> Decision:
    """The decision table (see the module docstring)."""
    if estimate is None or estimate.low is None or estimate.high is None:
        return "undecided"
    significant_slower = estimate.low > 1.0
    large = estimate.value > 1.0 + threshold
    if significant_slower:
        return "regression" if large else "slower, within threshold"
    if large:
        return "not significant"
    if estimate.high < 1.0 and estimate.value < 1.0 - threshold:
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
    return f"{value / 1e6:,.1f} M" if unit == "instructions" else f"{value * 1000:.1f} ms"


def markdown(findings: list[Finding], baseline: str, candidate: str) -> str:
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
        interval = "-" if f.low is None or f.high is None else f"{f.low - 1:+.1%} to {f.high - 1:+.1%}"
        decision = f"**{f.decision}**" if f.fails else f.decision + ("" if f.gating else " (advisory)")
        lines.append(
            f"| {MEASURES[f.measure]} | {f.case} | {f.python} | {amount(f.baseline_s, f.unit)} "
            f"| {amount(f.now_s, f.unit)} | {f.change} "
            f"| {interval} | +{f.threshold:.0%} | {decision} | {f.method}{'; ' + f.note if f.note else ''} |"
        )
    lines += [
        "",
        "A regression is significant (the whole interval of now / baseline above 1) and larger than its threshold; "
        "an advisory measure is shown and decided but does not fail the gate.",
        "",
    ]
    return "\n".join(lines)


def to_json(findings: list[Finding], baseline: str, candidate: str) -> dict[str, Any]:
    return {
        "baseline": baseline,
        "candidate": candidate,
        "exit_code": exit_code(findings),
        "verdict": verdict_line(findings),
        "findings": [asdict(f) | {"change": f.change} for f in findings],
    }


def dumps(findings: list[Finding], baseline: str, candidate: str) -> str:
    return json.dumps(to_json(findings, baseline, candidate), indent=2) + "\n"
