"""C6 (the async variants behave like the sync one) and C7 (TaskGroup + except* gives structured errors).

Both read the equivalence suite (benchmarks/equivalence.py): every variant against threads per shipped
scenario. C6 is about what a user observes: final answers, events, calls made. Under an injected
failure taskgroup cancels siblings in flight that the others let finish: that is C7's point, so C6
reports it as a caveat rather than a second strike. A run that failed validation decides neither
claim: it is shown, as unclear. C7 adds time to the failure, taskgroup against
`gather(return_exceptions=True)` (variant gather, which waits for every sibling by design), paired;
and, as context that does not decide, against a plain `gather()` (variant gather-plain: the first
exception is raised at once and the siblings are left running), which is as quick to report and
differs in what becomes of the siblings.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from matplotlib.axes import Axes

from benchmarks.claims.agno_aside import c7_aside
from benchmarks.claims.base import (
    TRACKER,
    Claim,
    Evidence,
    Outcome,
    Support,
    Verdict,
    ci_text,
    decided,
    from_comparison,
    headline_of,
    labels,
    not_measured,
    support,
    unmeasured_primary,
    version,
    where,
)
from benchmarks.compare import compare
from benchmarks.matrix import VARIANTS
from benchmarks.results import RunResults
from benchmarks.stats import HIERARCHICAL

FAILURE_SCENARIO = "report-5-failure"
PLAIN_GATHER = "gather-plain"
EQUALLY_QUICK = 1.05  # context only: plain gather and taskgroup both report at the first failure
IDENTICAL = Claim(
    id="C6",
    title="The async variants behave identically to the sync one",
    quote="All async methods work identically to sync versions",
    source=f"{TRACKER}, tasks 5.2 and 5.3 Functional Testing",
    metric="final answers, workflow events and calls made per shipped scenario (benchmarks/equivalence.py)",
    comparison="every variant against threads (the sync implementation), validated runs only",
    primary="every shipped scenario in the run's equivalence suite, per variant and interpreter",
    rule="A run supports the claim when its answers, events and calls equal threads', contradicts it when they "
    "differ; a run that failed validation is unclear. Ladder: holds / refuted / conditional (some scenarios "
    "differ) / inconclusive. The work done (requests answered, failed, cancelled) is a caveat, not a vote.",
)
STRUCTURED = Claim(
    id="C7",
    title="TaskGroup + except* gives structured error handling",
    quote="Exception groups handled properly with structured error responses",
    source=f"{TRACKER}, tasks 2.5 and 2.6 (TaskGroup, Exception Group Handling)",
    metric="under an injected failure (report-5-failure): the RunError's contents, sibling calls cancelled, and "
    "time to the failure",
    comparison="taskgroup / gather(return_exceptions=True), paired by process and round; context: taskgroup / "
    "plain gather() (first exception raised, siblings left running)",
    primary="report-5-failure per interpreter: names the failed call and cancels its siblings (equivalence "
    "suite) and reports the failure sooner than gather",
    rule="A primary comparison supports the claim when taskgroup's RunError names the failed call, the siblings in "
    "flight were cancelled and the whole 95% interval of the time ratio is below 1; it contradicts it when "
    "nothing was cancelled or the interval is wholly above 1. Ladder: holds / refuted / conditional / inconclusive.",
)


def decide_identical(results: RunResults) -> Verdict:
    if not results.equivalence:
        return not_measured(IDENTICAL, "the equivalence suite did not run")
    evidence: list[Evidence] = []
    caveats: list[str] = []
    for python, equivalence in sorted(results.equivalence.items(), key=lambda item: version(item[0])):
        for scenario, result in sorted(equivalence.scenarios.items()):
            reference = result.variants[equivalence.reference]
            for variant, run in result.variants.items():
                if variant == equivalence.reference:
                    continue  # not a comparison
                found = result.differences.get(variant, [])
                validated = run.validated and reference.validated
                supports: Support = "unclear" if not validated else "no" if found else "yes"
                if validated and run.outcomes != reference.outcomes:
                    caveats.append(f"{scenario}/{variant} on {python}: requests {_outcomes(run.outcomes)}")
                facts = {"scenario": scenario, "variant": variant, "outcomes": run.outcomes, "differences": found}
                note = "" if validated else "failed validation: not counted"
                evidence.append(
                    Evidence(
                        f"{scenario}/{variant}", python, float(not found), None, None, supports, note=note, facts=facts
                    )
                )
    same = sum(e.supports == "yes" for e in evidence)
    headline = Evidence("runs matching threads", "", same / max(len(evidence), 1), None, None, "yes")
    figure_text = f"{same} of {len(evidence)} runs match threads in answers, events and calls"
    differing = [f"{e.label} on {e.python}: {'; '.join(e.facts['differences'])}" for e in where(evidence, "no")]
    conditions: dict[Outcome, str] = {
        "holds": "identical answers, events and calls in every scenario",
        "refuted": "differs: " + " | ".join(differing[:5]),
        "conditional": "differs in some scenarios: " + " | ".join(differing[:5]),
        "inconclusive": "no run could be compared (failed validation)",
    }
    if caveats:
        caveat = "; the work done differs (C7): " + " | ".join(caveats[:3])
        conditions = {outcome: text + caveat for outcome, text in conditions.items()}
    return decided(IDENTICAL, evidence, headline, figure_text, conditions, "equality of observed runs")


def _outcomes(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))


def _cancels_siblings(results: RunResults) -> dict[str, bool]:
    """Per interpreter: did taskgroup's RunError name a failed call and cancel siblings (validated runs only)?"""
    cancels: dict[str, bool] = {}
    for python, equivalence in results.equivalence.items():
        for result in equivalence.scenarios.values():
            taskgroup = result.variants.get("taskgroup")
            if taskgroup is None or not taskgroup.validated:
                continue
            for error in taskgroup.run_errors:
                cancels[python] = cancels.get(python, True) and bool(error.failed) and bool(error.cancelled)
    return cancels


def decide_structured(results: RunResults) -> Verdict:
    gap = unmeasured_primary(
        results, lambda scenario, variant: scenario == FAILURE_SCENARIO and variant in ("taskgroup", "gather")
    )
    if gap:
        return not_measured(STRUCTURED, gap)
    cancels = _cancels_siblings(results)
    evidence: list[Evidence] = []
    plain: list[Evidence] = []
    for case in results.cases:
        gather = results.find(case.scenario, "gather", case.python)
        if case.variant != "taskgroup" or not case.injected_failures or gather is None:
            continue
        plain_gather = results.find(case.scenario, PLAIN_GATHER, case.python)
        if plain_gather is not None:
            facts = {"scenario": case.scenario, "versus": PLAIN_GATHER, "plain_gather_s": plain_gather.median_s}
            row = from_comparison(
                case.scenario, case.python, compare(case, plain_gather), _within_5_percent, facts, primary=False
            )
            plain += [row] if row is not None else []
        cancelled = cancels.get(case.python)
        threads = results.find(case.scenario, "threads", case.python)
        facts = {
            "scenario": case.scenario,
            "taskgroup_s": case.median_s,
            "gather_s": gather.median_s,
            "threads_s": None if threads is None else threads.median_s,
            "cancels_siblings": cancelled,
        }

        def supports(estimate: Any, cancelled: bool | None = cancelled) -> Support:
            if cancelled is False:
                return "no"
            faster = support(estimate, 1.0, at_or_above=False)
            return "unclear" if cancelled is None and faster == "yes" else faster

        row = from_comparison(case.scenario, case.python, compare(case, gather), supports, facts)
        if row is not None:
            evidence.append(row)
    if not evidence:
        return not_measured(STRUCTURED, "not measured: time to failure (report-5-failure taskgroup and gather)")
    evidence += plain
    if not cancels:
        return not_measured(STRUCTURED, "not measured: the equivalence suite (what taskgroup cancelled)")
    headline = headline_of(evidence)
    facts = headline.facts
    figure_text = (
        f"taskgroup reports the failure in {facts['taskgroup_s'] * 1000:.0f} ms vs gather "
        f"{facts['gather_s'] * 1000:.0f} ms ({headline.value:.2f}x), Python {headline.python}"
    )
    conditions: dict[Outcome, str] = {
        "holds": "the RunError names the failed call, the siblings in flight are cancelled, and the failure is "
        "reported sooner than gather(return_exceptions=True), which waits for every sibling",
        "refuted": f"taskgroup did not cancel its siblings or failed later: {labels(where(evidence, 'no'))}",
        "conditional": f"only on {labels(where(evidence, 'yes'))}; not on {labels(where(evidence, 'no'))}",
        "inconclusive": "siblings cancelled, but failing sooner than gather is not clear",
    }
    reason = f"cancels siblings on {sum(cancels.values())} of {len(cancels)} interpreters"
    if plain:
        context = _against_plain_gather(plain, _orphans(results))
        conditions = {outcome: f"{text}. {context}" for outcome, text in conditions.items()}
    verdict = decided(STRUCTURED, evidence, headline, figure_text, conditions, HIERARCHICAL, reason)
    return replace(verdict, aside=c7_aside(results, FAILURE_SCENARIO))


def _within_5_percent(estimate: Any) -> Support:
    """Context only: is taskgroup as quick as plain gather to report (the interval inside 0.95-1.05)?"""
    if estimate.low is None or estimate.high is None:
        return "unclear"
    inside = estimate.low >= 1 / EQUALLY_QUICK and estimate.high <= EQUALLY_QUICK
    outside = estimate.high < 1 / EQUALLY_QUICK or estimate.low > EQUALLY_QUICK
    return "yes" if inside else "no" if outside else "unclear"


def _orphans(results: RunResults) -> dict[str, int]:
    """Per interpreter: siblings plain gather left running when it reported the failure (validated runs only)."""
    left: dict[str, int] = {}
    for python, equivalence in results.equivalence.items():
        result = equivalence.scenarios.get(FAILURE_SCENARIO)
        run = None if result is None else result.variants.get(PLAIN_GATHER)
        if run is not None and run.validated:
            left[python] = sum(len(error.orphaned) for error in run.run_errors)
    return left


def _against_plain_gather(rows: list[Evidence], orphans: dict[str, int]) -> str:
    """Which gather each statement is about: the context sentence on plain gather()."""
    newest = max(rows, key=lambda e: version(e.python))
    ratio = f"{newest.value:.2f}x{ci_text(newest)}" if not math.isnan(newest.value) else newest.note
    as_quick = {"yes": "as quick to report", "no": "not as quick to report", "unclear": "about as quick to report"}
    text = (
        f"Against a plain gather() (the first exception raised at once), taskgroup is {as_quick[newest.supports]} "
        f"(time ratio {ratio}, Python {newest.python})"
    )
    if orphans:
        counts = sorted(set(orphans.values()))
        text += (
            f"; plain gather leaves {' or '.join(map(str, counts))} sibling(s) running after it reports, "
            "neither awaited nor cancelled"
        )
    return text


def draw_structured(axes: Axes, verdict: Verdict, results: RunResults) -> None:
    rows = sorted(verdict.evidence, key=lambda r: version(r.python))
    width = 0.8 / len(VARIANTS)
    for index, variant in enumerate(VARIANTS):
        xs, ys, spread = [], [], [[], []]
        for position, row in enumerate(rows):
            case = results.find(str(row.facts["scenario"]), variant, row.python)
            if case is None:
                continue
            q1, q3 = case.quartiles_s
            xs.append(position + index * width)
            ys.append(case.median_s * 1000)
            spread[0].append((case.median_s - q1) * 1000)
            spread[1].append((q3 - case.median_s) * 1000)
        axes.bar(xs, ys, width, yerr=spread, capsize=3, label=variant)
    axes.set_xticks([p + 0.4 - width / 2 for p in range(len(rows))], [f"{r.label}\n{r.python}" for r in rows])
    axes.set_ylabel("time to the RunError, ms (median, IQR)")
    axes.set_title("C7: time to report an injected failure")
    axes.legend(fontsize="small")
