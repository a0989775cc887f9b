"""Comparing two measured cases: their values paired by worker process and round, disturbed rounds dropped.

The speed suite runs every case once per round (zero-latency ones a few times, by repeat) in each
worker process (benchmarks/speed.py), and processes of different interpreters alternate, so the
value of case A and the value of case B from the same process slot, round and repeat were taken
seconds apart: a pair. A pair in which either value ran
under more than 10% CPU steal (or has no steal record) is dropped and counted, not the whole case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from benchmarks.results import Sample
from benchmarks.stats import MIN_PAIRS, Estimate, paired_difference, paired_ratio

Measure = Literal["wall", "first_chunk", "idle"]
_MEASURES: dict[Measure, Callable[[Sample], float | None]] = {
    "wall": lambda s: s.wall_s,
    "first_chunk": lambda s: s.first_chunk_s,
    "idle": lambda s: s.idle_s,
}


class Measured(Protocol):
    """A speed case or a microbenchmark on one interpreter: values with their process and round."""

    @property
    def samples(self) -> tuple[Sample, ...]: ...


@dataclass(frozen=True)
class Comparison:
    """numerator / denominator over their paired values."""

    estimate: Estimate | None  # None: no pair survived, or the two are not comparable
    pairs: int
    dropped: int  # pairs left out because one side ran under heavy CPU steal (or unrecorded steal)
    mismatch: str = ""  # why the two may not be compared at all

    @property
    def too_few(self) -> bool:
        return self.estimate is None or not self.estimate.has_interval

    def describe(self) -> str:
        """Why there is no interval, for tables and verdict reasons."""
        if self.mismatch:
            return f"not comparable: {self.mismatch}"
        steal = f", {self.dropped} dropped as disturbed: CPU steal or run-queue wait over 10%" if self.dropped else ""
        return f"too few values ({self.pairs} pairs{steal}; at least {MIN_PAIRS} needed)"


def compare(
    numerator: Measured,
    denominator: Measured,
    measure: Measure = "wall",
    above: float = 0.0,
    across_commits: bool = False,
    difference: bool = False,
) -> Comparison:
    """The paired ratio numerator / denominator, its hierarchical bootstrap interval, and what was dropped.
    `above` is taken off both values first: the overhead above a bound (e.g. the critical path) is compared.
    With `difference`, numerator - denominator instead (for a measure near zero, such as idle time).
    Cases measured at different commits are not compared, unless that is the point (`across_commits`: the gate)."""
    hashes = {getattr(side, "scenario_hash", None) for side in (numerator, denominator)}
    if len(hashes) > 1:  # the same scenario name from two different files (or derivations): different work
        return Comparison(
            None, 0, 0, "their scenario files differ (content hashes " + " vs ".join(map(str, hashes)) + ")"
        )
    commits = {getattr(side, "commit", "") for side in (numerator, denominator)}
    # Different commits: a reused run folder, or a checkout changed mid-run, measured different code.
    if len(commits) > 1 and not across_commits:
        return Comparison(None, 0, 0, "measured at different commits (" + " vs ".join(sorted(commits)) + ")")
    value_of = _MEASURES[measure]
    other = {s.key: s for s in denominator.samples}
    groups: dict[int, list[float]] = {}
    dropped = 0
    for sample in numerator.samples:
        partner = other.get(sample.key)
        if partner is None:
            continue
        top, bottom = value_of(sample), value_of(partner)
        if top is None or bottom is None:
            continue
        top, bottom = top - above, bottom - above
        if not difference and (bottom <= 0 or top <= 0):
            continue
        if sample.disturbed or partner.disturbed:
            dropped += 1
            continue
        groups.setdefault(sample.worker, []).append(top - bottom if difference else top / bottom)
    pairs = sum(len(group) for group in groups.values())
    if not pairs:
        return Comparison(None, 0, dropped)
    estimate = (paired_difference if difference else paired_ratio)(list(groups.values()))
    return Comparison(estimate, pairs, dropped)
