"""What every claim module shares: the claim's record, evidence, the verdict, and the one decision ladder.

A claim is decided on its pre-named primary comparisons (each claim module names them); other
comparisons are shown as context and never decide. Each primary comparison supports the claim,
contradicts it, or is unclear (its interval straddles the threshold, or it has too few values).
The ladder, written once here:

    some support and some contradict  -> conditional (the data split; the condition names where)
    support, none contradicts         -> holds (unclear ones are reported, they do not split it)
    contradict, none supports         -> refuted
    nothing clear, or nothing measured -> inconclusive (with why)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from benchmarks.compare import Comparison
from benchmarks.interpreters import version_key
from benchmarks.results import RunResults
from benchmarks.stats import Estimate

Outcome = Literal["holds", "refuted", "conditional", "inconclusive"]
Support = Literal["yes", "no", "unclear"]
TRACKER = "001_42466457f9613dcc.txt"  # the task tracker
SUMMARY = "000_4abaf46f2fbf34fd.txt"  # the session summary


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    quote: str
    source: str  # seed file and section
    metric: str
    comparison: str
    primary: str  # the comparisons that decide, named before anything is measured
    rule: str


@dataclass(frozen=True)
class Evidence:
    """One comparison: its figure, interval, whether it supports the claim, and whether it decides."""

    label: str
    python: str
    value: float
    low: float | None
    high: float | None
    supports: Support
    primary: bool = True
    n_pairs: int | None = None
    note: str = ""  # e.g. "too few values (4 pairs, 2 dropped as disturbed: ...)"
    facts: dict[str, Any] = field(default_factory=dict)  # what the figures plot (fan-out, pool, metric...)

    def to_json(self) -> dict[str, Any]:
        ci = None if self.low is None or self.high is None else [self.low, self.high]
        value = None if math.isnan(self.value) else self.value
        head = {"label": self.label, "python": self.python, "value": value, "ci": ci, "n_pairs": self.n_pairs}
        return head | self.facts | {"supports": self.supports, "primary": self.primary, "note": self.note}


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    verdict: Outcome
    figure: float | None
    figure_text: str
    ci: tuple[float, float] | None
    condition: str
    reason: str
    evidence: tuple[Evidence, ...] = ()
    n_pairs: int | None = None  # paired values behind the headline figure
    method: str = ""
    min_detectable_effect: float | None = None  # the smallest change the headline comparison could detect
    aside: str = ""  # context that never votes, e.g. how agno's own Workflow compares (benchmarks/claims/agno_aside)

    def to_json(self) -> dict[str, Any]:
        claim = self.claim
        return {
            "id": claim.id,
            "title": claim.title,
            "quote": claim.quote,
            "source": claim.source,
            "metric": claim.metric,
            "comparison": claim.comparison,
            "primary": claim.primary,
            "rule": claim.rule,
            "verdict": self.verdict,
            "figure": self.figure,
            "figure_text": self.figure_text,
            "ci": None if self.ci is None else list(self.ci),
            "condition": self.condition,
            "reason": self.reason,
            "n_pairs": self.n_pairs,
            "method": self.method,
            "min_detectable_effect": self.min_detectable_effect,
            "aside": self.aside,
            "evidence": [e.to_json() for e in self.evidence],
        }


def support(estimate: Estimate | None, threshold: float, at_or_above: bool = True) -> Support:
    """Does the whole interval lie on the claim's side of the threshold, the other side, or across it?"""
    if estimate is None or estimate.low is None or estimate.high is None:
        return "unclear"
    if at_or_above:
        return "yes" if estimate.low >= threshold else "no" if estimate.high < threshold else "unclear"
    return "yes" if estimate.high <= threshold else "no" if estimate.low > threshold else "unclear"


def tally(evidence: Sequence[Evidence]) -> tuple[int, int, int]:
    primary = [e for e in evidence if e.primary]
    return (
        sum(e.supports == "yes" for e in primary),
        sum(e.supports == "no" for e in primary),
        sum(e.supports == "unclear" for e in primary),
    )


def ladder(evidence: Sequence[Evidence]) -> Outcome:
    """The one decision ladder over a claim's primary comparisons (see the module docstring)."""
    yes, no, _ = tally(evidence)
    if yes and no:
        return "conditional"
    if yes:
        return "holds"
    if no:
        return "refuted"
    return "inconclusive"


def from_comparison(
    label: str,
    python: str,
    comparison: Comparison,
    supports: Callable[[Estimate], Support],
    facts: dict[str, Any],
    primary: bool = True,
) -> Evidence | None:
    """Evidence from a paired comparison; too few pairs leaves it unclear with why; None if nothing paired."""
    estimate = comparison.estimate
    if estimate is None:
        if not (comparison.dropped or comparison.mismatch):
            return None
        facts = {**facts, "pairs_dropped_for_steal": comparison.dropped}
        return Evidence(label, python, math.nan, None, None, "unclear", primary, 0, comparison.describe(), facts)
    note = comparison.describe() if comparison.too_few else ""
    verdict_support = "unclear" if comparison.too_few else supports(estimate)
    facts = {**facts, "pairs_dropped_for_steal": comparison.dropped}
    return Evidence(
        label,
        python,
        estimate.value,
        estimate.low,
        estimate.high,
        verdict_support,
        primary,
        comparison.pairs,
        note,
        facts,
    )


def from_counts(
    label: str,
    python: str,
    numerator: Sequence[int],
    denominator: Sequence[int],
    supports: Callable[[Estimate], Support],
    facts: dict[str, Any],
) -> Evidence:
    """Context from instruction counts (callgrind): the ratio of medians, bounded by the runs' extremes. Counts do
    not move with the machine's load, so this shows the CPU work a comparison is about, never decides it."""
    value = statistics.median(numerator) / statistics.median(denominator)
    low, high = min(numerator) / max(denominator), max(numerator) / min(denominator)
    estimate = Estimate(value, low, high, min(len(numerator), len(denominator)), "instructions, callgrind")
    facts = {**facts, "kind": "instructions"}
    return Evidence(label, python, value, low, high, supports(estimate), False, None, "", facts)


def decided(
    claim: Claim,
    evidence: Sequence[Evidence],
    headline: Evidence,
    figure_text: str,
    conditions: dict[Outcome, str],
    method: str,
    extra_reason: str = "",
) -> Verdict:
    """The verdict from the ladder, with the condition written for the outcome it reached."""
    outcome = ladder(evidence)
    yes, no, unclear = tally(evidence)
    primary = [e for e in evidence if e.primary]
    reason = f"{len(primary)} primary comparison(s): {yes} support, {no} contradict, {unclear} unclear"
    too_few = [e for e in primary if e.note]
    if too_few:
        reason += f" ({len(too_few)} with too few values)"
    if extra_reason:
        reason += f"; {extra_reason}"
    interval = (headline.low, headline.high) if headline.low is not None and headline.high is not None else None
    mde = Estimate(headline.value, headline.low, headline.high).min_detectable_effect
    figure = None if math.isnan(headline.value) else headline.value
    if figure is None:
        figure_text = f"{headline.label}, Python {headline.python}: {headline.note}"
    return Verdict(
        claim,
        outcome,
        figure,
        figure_text,
        interval,
        conditions[outcome],
        reason,
        tuple(evidence),
        headline.n_pairs,
        method,
        mde,
    )


def unmeasured_primary(results: RunResults, is_primary: Callable[[str, str], bool]) -> str | None:
    """Why a claim may not be decided: primary speed cases the run set out to measure (raw/speed-plan.json)
    but did not, e.g. a run stopped half-way. `is_primary(scenario, variant)`; None when none is missing."""
    expected = {(name, python) for name, python in results.expected_cases() if is_primary(*name.split("/", 1))}
    missing = sorted(expected - {(case.name, case.python) for case in results.cases})
    if not missing:
        return None
    named = ", ".join(f"{name} on {python}" for name, python in missing[:3]) + (", ..." if len(missing) > 3 else "")
    return f"not measured: {len(expected) - len(missing)} of {len(expected)} primary cases ({named} missing)"


def not_measured(claim: Claim, why: str) -> Verdict:
    return Verdict(claim, "inconclusive", None, "not measured", None, why, why)


def headline_of(evidence: Sequence[Evidence], preferred: Callable[[Evidence], bool] = lambda e: True) -> Evidence:
    """The row the summary quotes: a preferred primary one (with an interval, newest interpreter first)."""
    newest = sorted(evidence, key=lambda e: (e.primary, e.low is not None, version(e.python)), reverse=True)
    return next((e for e in newest if preferred(e) and e.primary), newest[0])


version = version_key  # claims sort interpreters oldest first


def labels(evidence: Sequence[Evidence], limit: int = 4) -> str:
    shown = [f"{e.label} on {e.python} ({e.value:.2f}{ci_text(e)})" for e in evidence[:limit]]
    return "; ".join(shown) + (f"; and {len(evidence) - limit} more" if len(evidence) > limit else "")


def ci_text(estimate: Evidence | Estimate) -> str:
    if estimate.low is None or estimate.high is None:
        return " [too few values]" if isinstance(estimate, Evidence) and estimate.note else ""
    return f" [{estimate.low:.2f}-{estimate.high:.2f}]"


def where(evidence: Sequence[Evidence], supports: Support) -> list[Evidence]:
    return [e for e in evidence if e.primary and e.supports == supports]
