"""C2, split as the planning document makes it: "~32 KB vs 8 MB per operation" and "~95% less memory".

The first half is a claim about what a thread costs: is its 8 MB memory or only address space? A
thread reserves its 8 MiB stack as virtual memory (VMS), but only the pages it touches become
resident. So C2a asks whether threads cost ~8 MB per operation in memory a user pays for (RSS, USS),
and shows VMS beside it. C2b asks whether taskgroup needs ~95% less of that memory (RSS, USS).
tracemalloc and memray never see thread stacks, so they are shown, never counted.
"""

from __future__ import annotations

from matplotlib.axes import Axes

from benchmarks.claims.base import (
    TRACKER,
    Claim,
    Evidence,
    Outcome,
    Verdict,
    decided,
    headline_of,
    labels,
    not_measured,
    support,
    version,
    where,
)
from benchmarks.results import RunResults
from benchmarks.stats import Estimate, slope_ratio_estimate
from benchmarks.suite_results import MemoryVariant

PAID_METRICS = ("rss", "uss")  # memory a user pays for: resident, and unique to the process
CONTEXT_METRICS = ("vms", "tracemalloc_peak", "memray_peak")
THREAD_COST_KIB = 4096  # "8 MB per operation", read generously: half of it (4 MiB)
REDUCTION = 0.90  # "~95%", read generously
METHOD = "least-squares slope over K calls in flight, 95% bootstrap resampling within each K"
SOURCE = f"{TRACKER}, task 5.6 Memory Usage Benchmarking"
QUOTE = "~95% memory reduction vs ThreadPoolExecutor (~32KB vs 8MB per operation)"

PER_OPERATION = Claim(
    id="C2a",
    title="A thread costs ~8 MB per operation (asyncio ~32 KB)",
    quote=QUOTE,
    source=SOURCE,
    metric="threads' memory per concurrent operation, KiB: slope of RSS and USS growth over K calls in flight "
    "(VMS shown)",
    comparison="threads' bytes per operation against 8 MB",
    primary="threads' RSS and USS per operation, per interpreter",
    rule="A primary figure supports the claim when its whole 95% interval is at or above 4 MiB (half the claimed "
    "8 MB) and contradicts it when wholly below. Ladder: holds / refuted / conditional (split) / inconclusive.",
)
REDUCTION_CLAIM = Claim(
    id="C2b",
    title="~95% less memory than ThreadPoolExecutor",
    quote=QUOTE,
    source=SOURCE,
    metric="memory per concurrent operation: slope of RSS and USS growth over K calls in flight",
    comparison="reduction = 1 - taskgroup slope / threads slope, per metric and interpreter",
    primary="the RSS and USS reductions, per interpreter (VMS, tracemalloc and memray are context)",
    rule="A primary reduction supports the claim when its whole 95% interval is at or above 90% and contradicts it "
    "when wholly below. Ladder: holds / refuted / conditional (split) / inconclusive.",
)


def decide_per_operation(results: RunResults) -> Verdict:
    evidence = []
    for python, variants in _paired_variants(results):
        for metric in (*PAID_METRICS, "vms"):
            estimate = _slope_kib(variants["threads"], metric)
            if estimate is None:
                continue
            facts = {"metric": metric, "taskgroup_per_operation": _marginal(variants["taskgroup"], metric)}
            supports = support(estimate, THREAD_COST_KIB)
            evidence.append(
                Evidence(
                    metric,
                    python,
                    estimate.value,
                    estimate.low,
                    estimate.high,
                    supports,
                    metric in PAID_METRICS,
                    facts=facts,
                )
            )
    if not any(e.primary for e in evidence):
        return not_measured(PER_OPERATION, "no memory results with threads and taskgroup at two or more K")
    headline = headline_of(evidence, lambda e: e.label == "rss")
    vms = [e for e in evidence if e.label == "vms"]
    vms_text = f"; VMS (address space) {vms[-1].value / 1024:.2f} MiB per operation" if vms else ""
    figure_text = f"threads cost {headline.value:.1f} KiB RSS per operation, Python {headline.python}{vms_text}"
    conditions: dict[Outcome, str] = {
        "holds": f"threads cost 4 MiB or more per operation in memory: {_kib_labels(where(evidence, 'yes'))}",
        "refuted": "the 8 MB is address space (VMS), not memory: threads cost "
        f"{_kib_labels(where(evidence, 'no'))} per operation",
        "conditional": f"only in {_kib_labels(where(evidence, 'yes'))}; not in {_kib_labels(where(evidence, 'no'))}",
        "inconclusive": "intervals straddle 4 MiB per operation",
    }
    return decided(PER_OPERATION, evidence, headline, figure_text, conditions, METHOD)


def decide_reduction(results: RunResults) -> Verdict:
    evidence = []
    for python, variants in _paired_variants(results):
        for metric in (*PAID_METRICS, *CONTEXT_METRICS):
            threads, taskgroup = variants["threads"].points(metric), variants["taskgroup"].points(metric)
            if len({x for x, _ in threads}) < 2 or len({x for x, _ in taskgroup}) < 2:
                continue
            try:
                ratio = slope_ratio_estimate(taskgroup, threads)
            except ZeroDivisionError:
                continue
            low = None if ratio.high is None else 1 - ratio.high
            high = None if ratio.low is None else 1 - ratio.low
            reduction = Estimate(1 - ratio.value, low, high)
            facts = {
                "metric": metric,
                "threads_per_operation": _marginal(variants["threads"], metric),
                "taskgroup_per_operation": _marginal(variants["taskgroup"], metric),
                "threads_per_operation_ci": _marginal_ci(variants["threads"], metric),
                "taskgroup_per_operation_ci": _marginal_ci(variants["taskgroup"], metric),
            }
            evidence.append(
                Evidence(
                    metric,
                    python,
                    reduction.value,
                    low,
                    high,
                    support(reduction, REDUCTION),
                    metric in PAID_METRICS,
                    facts=facts,
                )
            )
    if not any(e.primary for e in evidence):
        return not_measured(REDUCTION_CLAIM, "no memory results with threads and taskgroup at two or more K")
    headline = headline_of(evidence, lambda e: e.label == "rss")
    per_op = headline.facts
    figure_text = (
        f"{headline.label.upper()} {headline.value:.0%} less (threads {_kib(per_op['threads_per_operation'])} vs "
        f"taskgroup {_kib(per_op['taskgroup_per_operation'])} per operation), Python {headline.python}"
    )
    conditions: dict[Outcome, str] = {
        "holds": f"90% or more less memory in {_names(where(evidence, 'yes'))}",
        "refuted": f"less than 90% less memory in {_names(where(evidence, 'no'))}",
        "conditional": f"90% or more only in {_names(where(evidence, 'yes'))}; not in {_names(where(evidence, 'no'))}",
        "inconclusive": "the reductions' intervals straddle 90%",
    }
    return decided(REDUCTION_CLAIM, evidence, headline, figure_text, conditions, METHOD)


def _paired_variants(results: RunResults) -> list[tuple[str, dict[str, MemoryVariant]]]:
    found = []
    for python, memory in sorted(results.memory.items(), key=lambda item: version(item[0])):
        if "threads" in memory.variants and "taskgroup" in memory.variants:
            found.append((python, memory.variants))
    return found


def _slope_kib(variant: MemoryVariant, metric: str) -> Estimate | None:
    slope = variant.slope(metric)
    if slope.per_operation is None:
        return None
    low, high = slope.low, slope.high
    return Estimate(
        slope.per_operation / 1024, None if low is None else low / 1024, None if high is None else high / 1024
    )


def _marginal(variant: MemoryVariant, metric: str) -> float | None:
    return variant.slope(metric).per_operation


def _marginal_ci(variant: MemoryVariant, metric: str) -> list[float] | None:
    slope = variant.slope(metric)
    return None if slope.low is None or slope.high is None else [slope.low, slope.high]


def _kib(value: float | None) -> str:
    return "?" if value is None else f"{value / 1024:.1f} KiB"


def _kib_labels(evidence: list[Evidence]) -> str:
    return "; ".join(f"{e.label} on {e.python}: {e.value:.1f} KiB" for e in evidence) or "none"


def _names(evidence: list[Evidence]) -> str:
    return labels(evidence) if evidence else "none"


def draw(axes: Axes, verdict: Verdict, _: RunResults) -> None:
    """Per-operation cost by metric, threads beside taskgroup, on the newest interpreter (C2b's evidence)."""
    newest = max((r.python for r in verdict.evidence), key=version)
    rows = [r for r in verdict.evidence if r.python == newest and "threads_per_operation" in r.facts]
    if not rows:
        return
    positions = range(len(rows))
    width = 0.38
    for offset, key, name in ((-width / 2, "threads_per_operation", "threads"),
                              (width / 2, "taskgroup_per_operation", "taskgroup")):  # fmt: skip
        values = [max(float(r.facts[key] or 0) / 1024, 0.01) for r in rows]
        intervals = [r.facts.get(f"{key}_ci") or [v * 1024, v * 1024] for r, v in zip(rows, values, strict=True)]
        spread = [[max(v - low / 1024, 0) for v, (low, _) in zip(values, intervals, strict=True)],
                  [max(high / 1024 - v, 0) for v, (_, high) in zip(values, intervals, strict=True)]]  # fmt: skip
        axes.bar([p + offset for p in positions], values, width, yerr=spread, capsize=3, label=name)
    axes.set_yscale("log")
    axes.set_xticks(list(positions), [str(r.facts["metric"]) for r in rows])
    axes.set_ylabel("KiB per concurrent operation (log scale)")
    axes.axhline(32, color="tab:green", linestyle=":", label="claimed async ~32 KB")
    axes.axhline(8 * 1024, color="tab:red", linestyle=":", label="claimed threads ~8 MB")
    axes.set_title(f"C2: memory per operation by metric, Python {newest} (RSS, USS decide)")
    axes.legend(fontsize="small")
