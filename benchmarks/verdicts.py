"""From a run's results to a verdict on every claim: computed from data only, never assumed.

Each `decide_cN` reads RunResults, builds the evidence (one row per comparison, each with its
figure, 95% bootstrap interval and whether it supports the claim) and applies the decision rule
stated in benchmarks/claims.py. A claim whose data is missing is inconclusive and says why.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from benchmarks.claims import CLAIMS_BY_ID, Claim
from benchmarks.matrix import pool_workers
from benchmarks.results import CaseResult, RunResults
from benchmarks.stats import Estimate, geometric_mean_ratio, median_ratio, slope_ratio_estimate
from benchmarks.steal import DISTURBED_ABOVE

Outcome = Literal["holds", "refuted", "conditional", "inconclusive"]
Support = Literal["yes", "no", "unclear"]

C1_SPEEDUP = 2.0  # "2-5x": the low end
C2_REDUCTION = 0.90  # "~95%": read generously, 90% or more
C3_SPEEDUP = 1.5  # "~75% faster": read generously, 1.5x or more
C4_MARGIN = 1.05  # "equal": within 5%
C5_SHARE = 0.9  # the first chunk at least 90% of the way through the run: nothing streamed before the end
BASELINE_PYTHON = "3.11"
MEMORY_METRICS = ("rss", "uss", "vms", "tracemalloc_peak", "memray_peak")
MICRO_STREAM = "asyncio_stream_write"
MICRO_TASKS = "asyncio_task_create_await"


@dataclass(frozen=True)
class Evidence:
    """One comparison behind a verdict: its figure, interval, and whether it supports the claim."""

    label: str
    python: str
    value: float
    low: float | None
    high: float | None
    supports: Support
    facts: dict[str, Any] = field(default_factory=dict)  # what the figures plot (fan-out, pool, metric...)


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

    def to_json(self) -> dict[str, Any]:
        claim = self.claim
        return {
            "id": claim.id,
            "title": claim.title,
            "quote": claim.quote,
            "source": claim.source,
            "metric": claim.metric,
            "comparison": claim.comparison,
            "rule": claim.rule,
            "verdict": self.verdict,
            "figure": self.figure,
            "figure_text": self.figure_text,
            "ci": None if self.ci is None else list(self.ci),
            "condition": self.condition,
            "reason": self.reason,
            "evidence": [self._evidence_json(e) for e in self.evidence],
        }

    @staticmethod
    def _evidence_json(e: Evidence) -> dict[str, Any]:
        return {"label": e.label, "python": e.python, "value": e.value, "ci": _ci(e.low, e.high), **e.facts} | {
            "supports": e.supports
        }


def support(estimate: Estimate, threshold: float, at_or_above: bool = True) -> Support:
    """Does the whole interval lie on the claim's side of the threshold, the other side, or across it?"""
    if estimate.low is None or estimate.high is None:
        return "unclear"
    if at_or_above:
        return "yes" if estimate.low >= threshold else "no" if estimate.high < threshold else "unclear"
    return "yes" if estimate.high <= threshold else "no" if estimate.low > threshold else "unclear"


def tally(evidence: Sequence[Evidence]) -> tuple[int, int, int]:
    return (
        sum(e.supports == "yes" for e in evidence),
        sum(e.supports == "no" for e in evidence),
        sum(e.supports == "unclear" for e in evidence),
    )


def decide_all(results: RunResults) -> list[Verdict]:
    return [decide(results) for decide in DECISIONS]


# --- C1 -----------------------------------------------------------------------------------


def decide_c1(results: RunResults) -> Verdict:
    claim = CLAIMS_BY_ID["C1"]
    evidence = []
    for case in _measured(results, "threads"):
        reference = results.find(case.scenario, "taskgroup", case.python)
        if reference is None or case.injected_failures or case.params.get("latency") != "default":
            continue
        estimate = median_ratio(case.values_s, reference.values_s)
        pool = case.thread_pool_size or "default"
        workers = pool_workers(pool, case.fanout)  # type: ignore[arg-type]  # "default", "fanout" or digits
        calls_per_thread = case.fanout / workers if workers else float("nan")
        label = f"{case.scenario}, pool {pool} ({case.fanout} calls, {workers} threads)"
        facts = {"scenario": case.scenario, "fanout": case.fanout, "pool": pool, "calls_per_thread": calls_per_thread}
        evidence.append(_compared(label, case.python, estimate, support(estimate, C1_SPEEDUP), facts, case, reference))
    if not evidence:
        return _not_measured(claim, "no case measured both threads and taskgroup at default latency")
    shown, evidence = evidence, _trusted(evidence)
    if not evidence:
        return _all_disturbed(claim, shown)
    yes, no, unclear = tally(evidence)
    headline = _headline(evidence, lambda e: e.facts["scenario"] == "report-5")
    figure_text = f"threads / taskgroup = {headline.value:.2f}x on {headline.label}, Python {headline.python}"
    supporting = [e for e in evidence if e.supports == "yes"]
    if yes and not no and not unclear:
        verdict: Outcome = "holds"
        condition = "in every measured case"
    elif yes:
        verdict = "conditional"
        condition = _c1_condition(supporting, [e for e in evidence if e.supports == "no"])
    elif no and not unclear:
        verdict, condition = "refuted", "in no measured case did taskgroup reach 2x"
    else:
        verdict, condition = "inconclusive", "no case reached 2x clearly; some intervals straddle it (too noisy)"
    above_five = [e for e in supporting if e.low is not None and e.low > 5]
    if above_five:
        condition += f"; {len(above_five)} case(s) exceed 5x"
    reason = f"{yes} of {len(evidence)} cases at or above 2x, {no} below, {unclear} unclear"
    return _verdict(claim, verdict, headline, figure_text, condition, reason, shown)


def _c1_condition(supporting: list[Evidence], others: list[Evidence]) -> str:
    crossover = min(e.facts["calls_per_thread"] for e in supporting)
    below_crossover = all(e.facts["calls_per_thread"] < crossover for e in others)
    if others and below_crossover and crossover > 1:
        last_below = max(e.facts["calls_per_thread"] for e in others)
        return (
            f"only where concurrent calls outnumber the thread pool: the crossover lies between {last_below:.1f} "
            f"(below 2x) and {crossover:.1f} (2x or more) calls per pool thread, e.g. {_labels(supporting)}"
        )
    return f"only in {_labels(supporting)}"


# --- C2 -----------------------------------------------------------------------------------


def decide_c2(results: RunResults) -> Verdict:
    claim = CLAIMS_BY_ID["C2"]
    evidence = []
    for python, memory in sorted(results.memory.items()):
        variants = memory.get("variants", {})
        if "threads" not in variants or "taskgroup" not in variants:
            continue
        for metric in MEMORY_METRICS:
            threads = _points(variants["threads"], metric)
            taskgroup = _points(variants["taskgroup"], metric)
            if len({x for x, _ in threads}) < 2 or len({x for x, _ in taskgroup}) < 2:
                continue
            try:
                ratio = slope_ratio_estimate(taskgroup, threads)
            except ZeroDivisionError:
                continue
            reduction = Estimate(1 - ratio.value, _opt(1, ratio.high), _opt(1, ratio.low))
            facts = {
                "metric": metric,
                "threads_per_operation": _slope_of(variants["threads"], metric),
                "taskgroup_per_operation": _slope_of(variants["taskgroup"], metric),
                "threads_per_operation_ci": _slope_ci(variants["threads"], metric),
                "taskgroup_per_operation_ci": _slope_ci(variants["taskgroup"], metric),
            }
            evidence.append(_evidence(metric, python, reduction, support(reduction, C2_REDUCTION), facts))
    if not evidence:
        return _not_measured(claim, "no memory results with both threads and taskgroup at two or more K")
    yes, no, unclear = tally(evidence)
    headline = _headline(evidence, lambda e: e.facts["metric"] == "rss")
    per_op = headline.facts
    figure_text = (
        f"RSS reduction {headline.value:.0%} (threads {_kib(per_op['threads_per_operation'])} vs taskgroup "
        f"{_kib(per_op['taskgroup_per_operation'])} per operation), Python {headline.python}"
    )
    holding = sorted({e.label for e in evidence if e.supports == "yes"})
    failing = sorted({e.label for e in evidence if e.supports == "no"})
    if yes and not no and not unclear:
        verdict: Outcome = "holds"
        condition = "in every metric"
    elif yes:
        verdict = "conditional"
        condition = f"only in {', '.join(holding)}" + (f"; not in {', '.join(failing)}" if failing else "")
        if holding == ["vms"]:
            condition += " (VMS is reserved address space, mostly the 8 MiB thread stack; not memory in use)"
    elif no and not unclear:
        verdict, condition = "refuted", f"in no metric did the reduction reach {C2_REDUCTION:.0%}"
    else:
        verdict, condition = "inconclusive", "no metric reached 90% clearly; some intervals straddle it"
    reason = f"{yes} of {len(evidence)} metric x interpreter reductions at or above 90%, {no} below, {unclear} unclear"
    return _verdict(claim, verdict, headline, figure_text, condition, reason, evidence)


def _points(variant: dict[str, Any], metric: str) -> list[tuple[float, float]]:
    return [(s["operations"], s[metric]) for s in variant.get("samples", []) if s.get(metric) is not None]


def _slope_of(variant: dict[str, Any], metric: str) -> float | None:
    return variant.get("marginal", {}).get(metric, {}).get("bytes_per_operation")


def _slope_ci(variant: dict[str, Any], metric: str) -> list[float] | None:
    estimate = variant.get("marginal", {}).get(metric, {})
    return _ci(estimate.get("low"), estimate.get("high"))


# --- C3 -----------------------------------------------------------------------------------


def decide_c3(results: RunResults) -> Verdict:
    claim = CLAIMS_BY_ID["C3"]
    newer = [p for p in results.pythons if p != BASELINE_PYTHON and _version(p) >= (3, 12)]
    if BASELINE_PYTHON not in results.pythons or not newer:
        present = ", ".join(results.pythons) or "none"
        return _not_measured(claim, f"needs Python 3.11 and 3.12+ in one run; this run has: {present}")
    measures = (
        ("asyncio stream write (microbenchmark)", "micro", MICRO_STREAM),
        ("task create/await (microbenchmark)", "micro", MICRO_TASKS),
        ("workflow overhead, zero latency", "workflow", "report-5@zero"),
        ("workflow wall time, default latency", "workflow", "report-5"),
    )
    evidence = []
    for label, kind, name in measures:
        for python in newer:
            facts = {"measure": label, "kind": kind, "baseline": BASELINE_PYTHON}
            if kind == "micro":
                baseline, current = (results.micro.get(p, {}).get(name, ()) for p in (BASELINE_PYTHON, python))
                if baseline and current:
                    estimate = median_ratio(baseline, current)
                    steals = [results.micro_steal.get(p, {}).get(name) for p in (BASELINE_PYTHON, python)]
                    verdict_support = support(estimate, C3_SPEEDUP)
                    evidence.append(_steal_checked(label, python, estimate, verdict_support, facts, steals))
                continue
            old, new = results.find(name, "taskgroup", BASELINE_PYTHON), results.find(name, "taskgroup", python)
            if old is not None and new is not None:
                estimate = median_ratio(old.values_s, new.values_s)
                verdict_support = support(estimate, C3_SPEEDUP)
                evidence.append(_compared(label, python, estimate, verdict_support, facts, old, new))
    if not evidence:
        return _not_measured(
            claim, "neither the microbenchmarks nor report-5 taskgroup were measured on 3.11 and 3.12+"
        )
    shown, evidence = evidence, _trusted(evidence)
    if not evidence:
        return _all_disturbed(claim, shown)
    workflow = [e for e in evidence if e.facts["kind"] == "workflow"]
    micro = [e for e in evidence if e.facts["kind"] == "micro"]
    headline = _headline(evidence, lambda e: e.label == "workflow overhead, zero latency" and e.python == "3.12")
    figure_text = f"{headline.label}: {headline.value:.2f}x from {BASELINE_PYTHON} to {headline.python}"
    moved = [e for e in evidence if e.supports == "yes"]
    if workflow and all(e.supports == "yes" for e in workflow):
        verdict: Outcome = "holds"
        condition = "the workflow itself is 1.5x or more faster on every newer interpreter"
    elif moved and workflow and all(e.supports == "no" for e in workflow):
        verdict = "conditional"
        condition = f"only in {_labels(moved)}; the workflow did not move that much ({_labels(workflow)})"
    elif evidence and all(e.supports == "no" for e in evidence):
        verdict, condition = "refuted", f"no measure moved 1.5x: {_labels(evidence)}"
    elif workflow and all(e.supports == "no" for e in workflow) and not moved:
        verdict, condition = "refuted", f"the workflow did not move 1.5x ({_labels(workflow)}); microbenchmarks unclear"
    else:
        verdict, condition = "inconclusive", f"intervals straddle 1.5x or measures are missing: {_labels(evidence)}"
    if not micro:
        condition += "; the asyncio microbenchmarks were not measured"
    builds = sorted({str(env.get("python_build")) for env in results.environments.values() if env.get("python_build")})
    if builds:
        condition += f"; interpreters built with: {' / '.join(builds)}"
    yes, no, unclear = tally(evidence)
    reason = f"{yes} of {len(evidence)} measure x interpreter speed-ups at or above 1.5x, {no} below, {unclear} unclear"
    return _verdict(claim, verdict, headline, figure_text, condition, reason, shown)


def _version(python: str) -> tuple[int, ...]:
    return tuple(int(part) for part in python.split("."))


# --- C4 -----------------------------------------------------------------------------------


def decide_c4(results: RunResults) -> Verdict:
    claim = CLAIMS_BY_ID["C4"]
    pairs: list[tuple[CaseResult, CaseResult]] = []
    evidence = []
    for case in _measured(results, "taskgroup"):
        gather = results.find(case.scenario, "gather", case.python)
        if gather is None or case.injected_failures:
            continue  # under a failure they do different work on purpose (C7)
        pairs.append((case, gather))
        estimate = median_ratio(case.values_s, gather.values_s)
        facts = {"scenario": case.scenario}
        verdict_support = support(estimate, C4_MARGIN, at_or_above=False)
        evidence.append(_compared(case.scenario, case.python, estimate, verdict_support, facts, case, gather))
    if not pairs:
        return _not_measured(claim, "no case measured both taskgroup and gather")
    shown, evidence = evidence, _trusted(evidence)
    pairs = [(a, b) for a, b in pairs if not (a.disturbed or b.disturbed)]
    if not pairs:
        return _all_disturbed(claim, shown)
    pooled = geometric_mean_ratio([(a.values_s, b.values_s) for a, b in pairs])
    pythons = ", ".join(sorted({a.python for a, _ in pairs}))
    figure_text = f"taskgroup / gather = {pooled.value:.3f} (geometric mean of {len(pairs)} cases, Python {pythons})"
    slower = [e for e in evidence if e.supports == "no"]
    pooled_support = support(pooled, C4_MARGIN, at_or_above=False)
    if pooled_support == "yes" and not slower:
        verdict: Outcome = "holds"
        condition = "within 5% or faster, pooled and in every case"
    elif pooled_support == "yes":
        verdict, condition = "conditional", f"pooled within 5%, but clearly slower in {_labels(slower)}"
    elif pooled_support == "no":
        verdict, condition = "refuted", "taskgroup is more than 5% slower than gather, pooled over cases"
    else:
        verdict, condition = "inconclusive", "the pooled interval straddles 1.05: too noisy to tell a 5% difference"
    yes, no, unclear = tally(evidence)
    reason = f"pooled {pooled.value:.3f} {_ci_text(pooled)}; per case: {yes} within 5%, {no} slower, {unclear} unclear"
    return _verdict(claim, verdict, pooled, figure_text, condition, reason, shown)


# --- C5 -----------------------------------------------------------------------------------


def decide_c5(results: RunResults) -> Verdict:
    claim = CLAIMS_BY_ID["C5"]
    evidence = []
    for legacy in _measured(results, "legacy"):
        streaming = results.find(legacy.scenario, "taskgroup", legacy.python)
        if streaming is None or not legacy.first_chunk_s or not streaming.first_chunk_s or legacy.injected_failures:
            continue
        estimate = median_ratio(legacy.first_chunk_s, streaming.first_chunk_s)
        share = statistics.median(legacy.first_chunk_s) / legacy.median_s
        streaming_share = statistics.median(streaming.first_chunk_s) / streaming.median_s
        verdict_support = support(estimate, 1.0)
        if verdict_support == "yes" and share < C5_SHARE:
            verdict_support = "unclear"  # later, but not at the end: something was streamed
        if support(estimate, C4_MARGIN, at_or_above=False) == "yes":
            verdict_support = "no"
        facts = {
            "scenario": legacy.scenario,
            "legacy_first_chunk_s": statistics.median(legacy.first_chunk_s),
            "taskgroup_first_chunk_s": statistics.median(streaming.first_chunk_s),
            "legacy_share_of_run": share,
            "taskgroup_share_of_run": streaming_share,
            "bound_first_chunk_s": legacy.critical_path_first_chunk_s,
        }
        evidence.append(_compared(legacy.scenario, legacy.python, estimate, verdict_support, facts, legacy, streaming))
    if not evidence:
        return _not_measured(claim, "no streaming scenario measured time to first chunk for both legacy and taskgroup")
    shown, evidence = evidence, _trusted(evidence)
    if not evidence:
        return _all_disturbed(claim, shown)
    yes, no, unclear = tally(evidence)
    headline = _headline(evidence, lambda e: e.facts["scenario"] == "report-5")
    facts = headline.facts
    figure_text = (
        f"first chunk {headline.value:.1f}x later with legacy ({facts['legacy_first_chunk_s'] * 1000:.0f} ms, "
        f"{facts['legacy_share_of_run']:.0%} of its run) than taskgroup ({facts['taskgroup_first_chunk_s'] * 1000:.0f}"
        f" ms, {facts['taskgroup_share_of_run']:.0%}), {headline.label}, Python {headline.python}"
    )
    if yes and not no and not unclear:
        verdict: Outcome = "holds"
        condition = "in every streaming scenario measured: the user sees nothing until the answer is complete"
    elif yes:
        verdict = "conditional"
        condition = f"only in {_labels([e for e in evidence if e.supports == 'yes'])}"
    elif no and not unclear:
        verdict, condition = "refuted", "collecting did not delay the first chunk"
    else:
        verdict, condition = "inconclusive", "too noisy, or the first chunk came later without coming at the end"
    reason = f"{yes} of {len(evidence)} cases: first chunk at the end and clearly later; {no} not later"
    return _verdict(claim, verdict, headline, figure_text, condition, reason, shown)


# --- C6 -----------------------------------------------------------------------------------


def decide_c6(results: RunResults) -> Verdict:
    claim = CLAIMS_BY_ID["C6"]
    if not results.equivalence:
        return _not_measured(claim, "the equivalence suite did not run")
    evidence = []
    differing: list[str] = []
    work_differs: list[str] = []
    for python, equivalence in sorted(results.equivalence.items()):
        for scenario, result in sorted(equivalence["scenarios"].items()):
            variants = result["variants"]
            reference = variants[equivalence.get("reference", "threads")]
            for variant, run in variants.items():
                found = result["differences"].get(variant, [])
                same_work = run["outcomes"] == reference["outcomes"]
                if found:
                    differing.append(f"{scenario}/{variant} on {python}: {'; '.join(found)}")
                elif not same_work:
                    work_differs.append(f"{scenario}/{variant} on {python}: requests {_outcomes(run['outcomes'])}")
                supports: Support = "no" if found else "yes"
                facts = {"scenario": scenario, "variant": variant, "outcomes": run["outcomes"], "same_work": same_work}
                evidence.append(
                    Evidence(f"{scenario}/{variant}", python, float(not found), None, None, supports, facts)
                )
    same = sum(e.supports == "yes" for e in evidence)
    figure = Estimate(same / len(evidence), None, None)
    figure_text = f"{same} of {len(evidence)} runs match threads in answers, events and calls"
    if differing:
        verdict: Outcome = "refuted"
        condition = "differs: " + " | ".join(differing[:5])
    elif work_differs:
        verdict = "conditional"
        condition = "what users see is identical everywhere; the work done differs: " + " | ".join(work_differs[:5])
    else:
        verdict, condition = "holds", "identical answers, events, calls and request outcomes in every scenario"
    reason = f"{len(differing)} runs differ in what users see, {len(work_differs)} more differ in the work done"
    return _verdict(claim, verdict, figure, figure_text, condition, reason, evidence, ci=False)


def _outcomes(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))


# --- C7 -----------------------------------------------------------------------------------


def decide_c7(results: RunResults) -> Verdict:
    claim = CLAIMS_BY_ID["C7"]
    evidence = []
    cancels: dict[str, bool] = {}
    for python, equivalence in sorted(results.equivalence.items()):
        for result in equivalence["scenarios"].values():
            taskgroup = result["variants"].get("taskgroup", {})
            for error in taskgroup.get("run_errors", []):
                cancels[python] = cancels.get(python, True) and bool(error["failed"]) and bool(error["cancelled"])
    for case in _measured(results, "taskgroup"):
        gather = results.find(case.scenario, "gather", case.python)
        if not case.injected_failures or gather is None:
            continue
        estimate = median_ratio(case.values_s, gather.values_s)
        threads = results.find(case.scenario, "threads", case.python)
        facts = {
            "scenario": case.scenario,
            "taskgroup_s": case.median_s,
            "gather_s": gather.median_s,
            "threads_s": None if threads is None else threads.median_s,
            "cancels_siblings": cancels.get(case.python),
        }
        verdict_support = support(estimate, 1.0, at_or_above=False)
        evidence.append(_compared(case.scenario, case.python, estimate, verdict_support, facts, case, gather))
    if not evidence or not cancels:
        what = "time to failure (report-5-failure speed cases)" if not evidence else "the equivalence suite"
        return _not_measured(claim, f"not measured: {what}")
    shown, evidence = evidence, _trusted(evidence)
    if not evidence:
        return _all_disturbed(claim, shown)
    yes, no, _ = tally(evidence)
    headline = _headline(evidence, lambda e: True)
    facts = headline.facts
    figure_text = (
        f"taskgroup fails in {facts['taskgroup_s'] * 1000:.0f} ms vs gather {facts['gather_s'] * 1000:.0f} ms "
        f"({headline.value:.2f}x), Python {headline.python}"
    )
    cancelled_everywhere = all(cancels.values())
    if not cancelled_everywhere or no:
        verdict: Outcome = "refuted"
        condition = (
            "taskgroup did not cancel its in-flight siblings"
            if not cancelled_everywhere
            else (f"taskgroup failed later than gather in {_labels([e for e in evidence if e.supports == 'no'])}")
        )
    elif yes == len(evidence):
        verdict = "holds"
        condition = (
            "the RunError names the failed call, the siblings in flight are cancelled, and failure is reported sooner"
        )
    else:
        verdict, condition = "conditional", "siblings are cancelled, but failing sooner than gather is not clear"
    cancelling = sum(cancels.values())
    reason = f"cancels siblings on {cancelling} of {len(cancels)} Pythons; fails sooner in {yes} of {len(evidence)}"
    return _verdict(claim, verdict, headline, figure_text, condition, reason, shown)


# --- shared -------------------------------------------------------------------------------


def _measured(results: RunResults, variant: str) -> list[CaseResult]:
    return [c for c in results.cases if c.variant == variant and c.values_s]


def _evidence(label: str, python: str, estimate: Estimate, supports: Support, facts: dict[str, Any]) -> Evidence:
    return Evidence(label, python, estimate.value, estimate.low, estimate.high, supports, facts)


def _compared(
    label: str, python: str, estimate: Estimate, supports: Support, facts: dict[str, Any], *cases: CaseResult
) -> Evidence:
    """Evidence from comparing measured cases; marked disturbed (and so not counted) if the host disturbed one."""
    return _steal_checked(label, python, estimate, supports, facts, [c.max_steal for c in cases])


def _steal_checked(
    label: str, python: str, estimate: Estimate, supports: Support, facts: dict[str, Any], steals: list[float | None]
) -> Evidence:
    steal = [s for s in steals if s is not None]
    disturbed = any(s > DISTURBED_ABOVE for s in steal)
    facts = {**facts, "max_steal": max(steal) if steal else None, "disturbed": disturbed}
    if disturbed:
        label += " [disturbed: CPU steal]"
    return _evidence(label, python, estimate, "unclear" if disturbed else supports, facts)


def _trusted(evidence: Sequence[Evidence]) -> list[Evidence]:
    """The comparisons a verdict may count: disturbed ones are shown but count neither way."""
    return [e for e in evidence if not e.facts.get("disturbed")]


def _all_disturbed(claim: Claim, shown: Sequence[Evidence]) -> Verdict:
    why = f"every comparison was disturbed (over {DISTURBED_ABOVE:.0%} CPU steal while measured): re-run"
    return Verdict(claim, "inconclusive", None, "not trusted", None, why, why, tuple(shown))


def _headline(evidence: Sequence[Evidence], preferred: Callable[[Evidence], bool]) -> Evidence:
    """The row the summary quotes: the preferred one on the newest interpreter, else the newest row."""
    newest = sorted(evidence, key=lambda e: _version(e.python), reverse=True)
    return next((e for e in newest if preferred(e)), newest[0])


def _verdict(
    claim: Claim,
    verdict: Outcome,
    headline: Evidence | Estimate,
    figure_text: str,
    condition: str,
    reason: str,
    evidence: Sequence[Evidence],
    ci: bool = True,
) -> Verdict:
    interval = (headline.low, headline.high) if ci and headline.low is not None and headline.high is not None else None
    disturbed = sum(bool(e.facts.get("disturbed")) for e in evidence)
    if disturbed:
        reason += f"; {disturbed} comparison(s) not trusted: over {DISTURBED_ABOVE:.0%} CPU steal while measured"
    return Verdict(claim, verdict, headline.value, figure_text, interval, condition, reason, tuple(evidence))


def _not_measured(claim: Claim, why: str) -> Verdict:
    return Verdict(claim, "inconclusive", None, "not measured", None, why, why)


def _labels(evidence: Sequence[Evidence], limit: int = 4) -> str:
    shown = [f"{e.label} on {e.python} ({e.value:.2f}{_ci_text(e)})" for e in evidence[:limit]]
    return "; ".join(shown) + (f"; and {len(evidence) - limit} more" if len(evidence) > limit else "")


def _ci_text(estimate: Evidence | Estimate) -> str:
    if estimate.low is None or estimate.high is None:
        return ""
    return f" [{estimate.low:.2f}-{estimate.high:.2f}]"


def _ci(low: float | None, high: float | None) -> list[float] | None:
    return None if low is None or high is None else [low, high]


def _opt(one: float, value: float | None) -> float | None:
    return None if value is None else one - value


def _kib(value: float | None) -> str:
    return "?" if value is None else f"{value / 1024:.1f} KiB"


DECISIONS: tuple[Callable[[RunResults], Verdict], ...] = (
    decide_c1,
    decide_c2,
    decide_c3,
    decide_c4,
    decide_c5,
    decide_c6,
    decide_c7,
)
