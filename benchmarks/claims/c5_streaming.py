"""C5: collecting async responses before yielding defeats streaming.

`legacy` collects the writer's stream into a list before yielding; taskgroup streams. Per shipped
streaming scenario and interpreter, legacy's time to first content chunk against taskgroup's (paired
by process and round), and legacy's first chunk as a share of its run: streaming is defeated when the
first chunk comes clearly later and at the end of the run (90% of it or more).
"""

from __future__ import annotations

import statistics

from matplotlib.axes import Axes

from benchmarks.claims.base import (
    SUMMARY,
    Claim,
    Evidence,
    Outcome,
    Support,
    Verdict,
    decided,
    from_comparison,
    headline_of,
    labels,
    not_measured,
    unmeasured_primary,
    where,
)
from benchmarks.compare import compare
from benchmarks.matrix import EVERYDAY_VARIANTS
from benchmarks.results import RunResults
from benchmarks.stats import HIERARCHICAL, Estimate

SHARE = 0.9  # the first chunk at least 90% of the way through the run: nothing streamed before the end
NOT_LATER = 1.05
CLAIM = Claim(
    id="C5",
    title="Collecting async responses before yielding defeats streaming",
    quote="Inefficient Streaming: _collect_async_responses() defeats streaming purpose",
    source=f"{SUMMARY}, Key Issues Identified 1",
    metric="time to first content chunk of validated streaming runs",
    comparison="legacy (collects) / taskgroup (streams), paired by process and round; and legacy's first chunk as a "
    "share of its run",
    primary="every shipped streaming scenario at its own latency (no injected failure), per interpreter",
    rule="A primary comparison supports the claim when legacy's first chunk comes at 90% or more of its run and the "
    "whole 95% interval of the ratio is above 1; it contradicts it when the interval is at or below 1.05 (no later "
    "than streaming). Ladder: holds / refuted / conditional (split) / inconclusive.",
)


def _primary_case(scenario: str, variant: str) -> bool:
    """A shipped scenario at its own latency, without an injected failure, for legacy or taskgroup."""
    shipped = "@" not in scenario and not scenario.startswith("fanout-") and not scenario.endswith("-failure")
    return shipped and variant in ("legacy", "taskgroup")


def decide(results: RunResults) -> Verdict:
    gap = unmeasured_primary(results, _primary_case)
    if gap:
        return not_measured(CLAIM, gap)
    evidence: list[Evidence] = []
    for legacy in results.cases:
        streaming = results.find(legacy.scenario, "taskgroup", legacy.python)
        if legacy.variant != "legacy" or streaming is None or legacy.injected_failures:
            continue
        if not legacy.first_chunk_s or not streaming.first_chunk_s or legacy.params.get("latency") == "zero":
            continue
        share = statistics.median(legacy.first_chunk_s) / legacy.median_s
        facts = {
            "scenario": legacy.scenario,
            "legacy_first_chunk_s": statistics.median(legacy.first_chunk_s),
            "taskgroup_first_chunk_s": statistics.median(streaming.first_chunk_s),
            "legacy_share_of_run": share,
            "taskgroup_share_of_run": statistics.median(streaming.first_chunk_s) / streaming.median_s,
            "bound_first_chunk_s": legacy.critical_path_first_chunk_s,
        }

        def supports(estimate: Estimate, share: float = share) -> Support:
            if estimate.high is not None and estimate.high <= NOT_LATER:
                return "no"
            return "yes" if estimate.low is not None and estimate.low > 1 and share >= SHARE else "unclear"

        row = from_comparison(
            legacy.scenario,
            legacy.python,
            compare(legacy, streaming, "first_chunk"),
            supports,
            facts,  # type: ignore[arg-type]
            legacy.group == "scenario",
        )
        if row is not None:
            evidence.append(row)
    if not any(e.primary for e in evidence):
        return not_measured(CLAIM, "no streaming scenario measured time to first chunk for both legacy and taskgroup")
    headline = headline_of(evidence, lambda e: e.facts["scenario"] == "report-5")
    facts = headline.facts
    figure_text = (
        f"first chunk {headline.value:.1f}x later with legacy ({facts['legacy_first_chunk_s'] * 1000:.0f} ms, "
        f"{facts['legacy_share_of_run']:.0%} of its run) than taskgroup ({facts['taskgroup_first_chunk_s'] * 1000:.0f}"
        f" ms, {facts['taskgroup_share_of_run']:.0%}), {headline.label}, Python {headline.python}"
    )
    conditions: dict[Outcome, str] = {
        "holds": "the user sees nothing until the answer is complete: " + labels(where(evidence, "yes")),
        "refuted": "collecting did not delay the first chunk: " + labels(where(evidence, "no")),
        "conditional": f"only in {labels(where(evidence, 'yes'))}; not in {labels(where(evidence, 'no'))}",
        "inconclusive": "too noisy, or the first chunk came later without coming at the end",
    }
    return decided(CLAIM, evidence, headline, figure_text, conditions, HIERARCHICAL)


def draw(axes: Axes, verdict: Verdict, results: RunResults) -> None:
    rows = sorted(verdict.evidence, key=lambda r: (r.python, r.label))
    groups = [(r.python, str(r.facts["scenario"])) for r in rows]
    width = 0.8 / len(EVERYDAY_VARIANTS)
    for index, variant in enumerate(EVERYDAY_VARIANTS):
        xs, ys = [], []
        for position, (python, scenario) in enumerate(groups):
            case = results.find(scenario, variant, python)
            if case is not None and case.first_chunk_median_s is not None:
                xs.append(position + index * width)
                ys.append(case.first_chunk_median_s * 1000)
        axes.bar(xs, ys, width, label=variant)
    for position, row in enumerate(rows):
        bound = row.facts.get("bound_first_chunk_s")
        if bound:
            axes.hlines(bound * 1000, position - width / 2, position + 0.8, colors="black", linestyles=":")
    axes.set_xticks([p + 0.4 - width / 2 for p in range(len(groups))], [f"{s}\n{p}" for p, s in groups])
    axes.set_ylabel("time to first content chunk, ms (median)")
    axes.set_title("C5: when the user sees the first words (dotted: critical-path bound)")
    axes.legend(fontsize="small")
