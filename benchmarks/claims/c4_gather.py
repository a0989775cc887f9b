"""C4: TaskGroup performs equal to or better than asyncio.gather.

"Equal or better" is a non-inferiority question with a margin: taskgroup is no more than 5% slower.
It is decided where the two can differ at all, the zero-latency run (all framework cost; at default
latency a 50% difference in overhead is a few % of wall time), per interpreter: the upper end of the
95% interval of taskgroup / gather at or below 1.05 supports it (non-inferior), the lower end above
1.05 contradicts it. Other cases measured for both are context. The smallest difference the run
could have detected (80% power) is stated with the verdict.
"""

from __future__ import annotations

from dataclasses import replace

from matplotlib.axes import Axes

from benchmarks.claims.base import (
    TRACKER,
    Claim,
    Evidence,
    Outcome,
    Verdict,
    decided,
    from_comparison,
    headline_of,
    labels,
    not_measured,
    support,
    unmeasured_primary,
    where,
)
from benchmarks.claims.plot import horizontal_ratios
from benchmarks.compare import compare
from benchmarks.results import RunResults
from benchmarks.stats import HIERARCHICAL

MARGIN = 1.05  # "equal": within 5%
PRIMARY_SCENARIO = "report-5@zero"
CLAIM = Claim(
    id="C4",
    title="TaskGroup performs equal to or better than asyncio.gather",
    quote="TaskGroup shows equal or better performance than gather",
    source=f"{TRACKER}, task 5.7 TaskGroup vs asyncio.gather() Performance",
    metric="wall time of a validated zero-latency run (all framework cost)",
    comparison="taskgroup / gather, paired by process and round, same interpreter",
    primary="report-5 at zero latency, per interpreter (every other case measured for both is context)",
    rule="Non-inferiority with a 5% margin: a primary comparison supports the claim when the upper end of its 95% "
    "interval is at or below 1.05, contradicts it when the lower end is above 1.05. Ladder: holds / refuted / "
    "conditional (interpreters split) / inconclusive (intervals straddle 1.05: the run could not tell).",
)


def decide(results: RunResults) -> Verdict:
    gap = unmeasured_primary(
        results, lambda scenario, variant: scenario == PRIMARY_SCENARIO and variant in ("taskgroup", "gather")
    )
    if gap:
        return not_measured(CLAIM, gap)
    evidence: list[Evidence] = []
    for case in results.cases:
        gather = results.find(case.scenario, "gather", case.python)
        if case.variant != "taskgroup" or gather is None or case.injected_failures:
            continue  # under a failure they do different work on purpose (C7)
        facts = {"scenario": case.scenario}
        row = from_comparison(
            case.scenario,
            case.python,
            compare(case, gather),
            lambda e: support(e, MARGIN, at_or_above=False),
            facts,
            case.scenario == PRIMARY_SCENARIO,
        )
        if row is not None:
            evidence.append(row)
    if not any(e.primary for e in evidence):
        return not_measured(CLAIM, f"{PRIMARY_SCENARIO} was not measured for both taskgroup and gather")
    headline = headline_of(evidence)
    figure_text = f"taskgroup / gather = {headline.value:.3f} at zero latency, Python {headline.python}"
    conditions: dict[Outcome, str] = {
        "holds": f"within 5% or faster: {labels(where(evidence, 'yes'))}",
        "refuted": f"taskgroup is more than 5% slower: {labels(where(evidence, 'no'))}",
        "conditional": f"within 5% on {labels(where(evidence, 'yes'))}; slower on {labels(where(evidence, 'no'))}",
        "inconclusive": "the intervals straddle 1.05: the run cannot tell a 5% difference",
    }
    verdict = decided(CLAIM, evidence, headline, figure_text, conditions, HIERARCHICAL)
    if verdict.min_detectable_effect is not None:
        detectable = f"the smallest difference this run could detect is about {verdict.min_detectable_effect:.1%}"
        return replace(verdict, reason=f"{verdict.reason}; {detectable}")
    return verdict


def draw(axes: Axes, verdict: Verdict, _: RunResults) -> None:
    rows = sorted(verdict.evidence, key=lambda r: (not r.primary, r.python, r.label))
    horizontal_ratios(axes, rows, "taskgroup time / gather time (below 1: taskgroup faster)")
    axes.axvline(MARGIN, color="tab:orange", linestyle="--", label="5% margin")
    axes.set_title("C4: taskgroup against gather (zero latency decides)")
    axes.legend(fontsize="small")
