"""C3: ~75% faster asyncio on Python 3.12+, in two parts: does the cited benchmark reproduce, does the workflow move.

The figure is the 3.12 What's New highlight, which traces to zero-copy socket writes (gh-91166),
measured with large loopback stream writes: C3a replicates that shape (benchmarks/micro.py). C3b
asks what a user of this workflow would see, on what an interpreter can change: the zero-latency
run (all framework cost) and, at default latency, the overhead above the critical-path bound (the
mock's waits are the same on every interpreter, so whole wall time could never move 1.5x).
Interpreters are compared process slot by process slot: the drivers alternate 3.11, 3.12, 3.13.
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
    from_comparison,
    from_counts,
    headline_of,
    labels,
    not_measured,
    support,
    unmeasured_primary,
    version,
    where,
)
from benchmarks.claims.plot import errors, mark_too_few
from benchmarks.compare import compare
from benchmarks.results import RunResults
from benchmarks.stats import HIERARCHICAL

SPEEDUP = 1.5  # "~75% faster", read generously
BASELINE = "3.11"
STREAM_WRITE = "asyncio_stream_write"
CONTEXT_MICRO = ("asyncio_stream_write_small", "asyncio_task_create_await")
WORKFLOW_ZERO = "report-5@zero"
WORKFLOW_DEFAULT = "report-5"
QUOTE = "Confirm ~75% speed improvement with Python 3.12+ asyncio"
SOURCE = f"{TRACKER}, task 5.5 Python 3.12+ Performance Validation; Success Metrics 6"
RULE = (
    "A primary speed-up supports the claim when its whole 95% interval is at or above 1.5x and contradicts it "
    "when wholly below. Ladder: holds / refuted / conditional (split between interpreters or measures) / "
    "inconclusive. Needs Python 3.11 and a newer interpreter in the same run."
)

CITED = Claim(
    id="C3a",
    title="The cited asyncio benchmark is ~75% faster on 3.12+",
    quote=QUOTE,
    source=SOURCE,
    metric="loopback stream writes, 20 MiB in 10 MiB write()+drain() (the shape behind the 3.12 figure)",
    comparison="3.11 / 3.12 (and 3.13) per value, paired by process slot and position",
    primary="asyncio_stream_write per newer interpreter (small writes and task create/await are context)",
    rule=RULE,
)
WORKFLOW = Claim(
    id="C3b",
    title="The workflow's asyncio variant is ~75% faster on 3.12+",
    quote=QUOTE,
    source=SOURCE,
    metric="taskgroup: a zero-latency run (all framework cost), and the overhead above the critical-path bound "
    "at default latency",
    comparison="3.11 / 3.12 (and 3.13), paired by process slot and round",
    primary="report-5@zero wall time and report-5 overhead above its bound, taskgroup, per newer interpreter",
    rule=RULE,
)


def _newer(results: RunResults) -> list[str] | None:
    newer = [p for p in results.pythons if version(p) >= (3, 12)]
    return newer if BASELINE in results.pythons and newer else None


def _missing(results: RunResults) -> str:
    return f"needs Python 3.11 and 3.12+ in one run; this run has: {', '.join(results.pythons) or 'none'}"


def _builds(results: RunResults) -> str:
    builds = sorted({str(env["python_build"]) for env in results.environments.values() if env.get("python_build")})
    return f"interpreters built with: {' / '.join(builds)}" if builds else ""


def decide_cited(results: RunResults) -> Verdict:
    newer = _newer(results)
    if newer is None:
        return not_measured(CITED, _missing(results))
    evidence: list[Evidence] = []
    for name in (STREAM_WRITE, *CONTEXT_MICRO):
        baseline = results.micro.get(BASELINE, {}).get(name)
        for python in newer:
            current = results.micro.get(python, {}).get(name)
            if baseline is None or current is None:
                continue
            facts = {"measure": name, "kind": "micro"}
            row = from_comparison(
                name, python, compare(baseline, current), lambda e: support(e, SPEEDUP), facts, name == STREAM_WRITE
            )
            if row is not None:
                evidence.append(row)
    if not any(e.primary for e in evidence):
        return not_measured(CITED, "the asyncio stream-write microbenchmark was not measured on 3.11 and 3.12+")
    headline = headline_of(evidence, lambda e: e.python == "3.12")
    figure_text = f"{STREAM_WRITE}: {headline.value:.2f}x from {BASELINE} to {headline.python}"
    builds = _builds(results)
    conditions: dict[Outcome, str] = {
        "holds": f"large loopback stream writes are 1.5x or more faster: {labels(where(evidence, 'yes'))}",
        "refuted": f"large loopback stream writes did not move 1.5x: {labels(where(evidence, 'no'))}",
        "conditional": f"1.5x only on {labels(where(evidence, 'yes'))}; not on {labels(where(evidence, 'no'))}",
        "inconclusive": "the intervals straddle 1.5x",
    }
    return decided(CITED, evidence, headline, figure_text, conditions, HIERARCHICAL, builds)


def decide_workflow(results: RunResults) -> Verdict:
    newer = _newer(results)
    if newer is None:
        return not_measured(WORKFLOW, _missing(results))
    gap = unmeasured_primary(
        results, lambda scenario, variant: scenario in (WORKFLOW_ZERO, WORKFLOW_DEFAULT) and variant == "taskgroup"
    )
    if gap:
        return not_measured(WORKFLOW, gap)
    evidence: list[Evidence] = []
    for scenario, label in ((WORKFLOW_ZERO, "zero-latency run"), (WORKFLOW_DEFAULT, "overhead above the bound")):
        old = results.find(scenario, "taskgroup", BASELINE)
        for python in newer:
            new = results.find(scenario, "taskgroup", python)
            if old is None or new is None:
                continue
            above = 0.0 if scenario == WORKFLOW_ZERO else old.critical_path_s
            facts = {"measure": label, "kind": "workflow", "scenario": scenario}
            row = from_comparison(
                f"{scenario} {label}", python, compare(old, new, above=above), lambda e: support(e, SPEEDUP), facts
            )
            if row is not None:
                evidence.append(row)
    if not evidence:
        return not_measured(WORKFLOW, "report-5 (zero or default latency) taskgroup was not measured on 3.11 and 3.12+")
    counted_before = results.instructions.get(BASELINE)
    for python in newer:
        counted_now = results.instructions.get(python)
        name = f"{WORKFLOW_ZERO}/taskgroup"
        if counted_before is None or counted_now is None or name not in counted_before.cases:
            continue
        if name in counted_now.cases:
            facts = {"measure": "instructions per zero-latency run", "scenario": WORKFLOW_ZERO}
            before, now = counted_before.cases[name].instructions, counted_now.cases[name].instructions
            label = f"{WORKFLOW_ZERO} instructions per run (work, not time)"
            evidence.append(from_counts(label, python, before, now, lambda e: support(e, SPEEDUP), facts))
    headline = headline_of(evidence, lambda e: e.facts["scenario"] == WORKFLOW_ZERO and e.python == "3.12")
    figure_text = f"{headline.label}: {headline.value:.2f}x from {BASELINE} to {headline.python}"
    conditions: dict[Outcome, str] = {
        "holds": f"the workflow's own cost is 1.5x or more lower: {labels(where(evidence, 'yes'))}",
        "refuted": f"the workflow did not move 1.5x: {labels(where(evidence, 'no'))}",
        "conditional": f"1.5x only in {labels(where(evidence, 'yes'))}; not in {labels(where(evidence, 'no'))}",
        "inconclusive": "the intervals straddle 1.5x",
    }
    return decided(WORKFLOW, evidence, headline, figure_text, conditions, HIERARCHICAL, _builds(results))


def draw(axes: Axes, verdict: Verdict, _: RunResults) -> None:
    measures = sorted({str(r.facts["measure"]) for r in verdict.evidence})
    pythons = sorted({r.python for r in verdict.evidence}, key=version)
    width = 0.8 / max(len(pythons), 1)
    for index, python in enumerate(pythons):
        rows = [next((r for r in verdict.evidence if r.python == python and r.facts["measure"] == m), None)
                for m in measures]  # fmt: skip
        present = [(i, r) for i, r in enumerate(rows) if r is not None]
        axes.bar([i + index * width for i, _ in present], [r.value for _, r in present], width,
                 yerr=errors([r for _, r in present]), capsize=3, label=f"Python {python} vs 3.11")  # fmt: skip
        mark_too_few(axes, [(i + index * width, r.value, r) for i, r in present])
    axes.axhline(1.75, color="tab:green", linestyle=":", label="claimed 1.75x")
    axes.axhline(SPEEDUP, color="tab:orange", linestyle="--", label=f"threshold {SPEEDUP}x")
    axes.axhline(1, color="grey", linewidth=0.8)
    axes.set_xticks([i + width * (len(pythons) - 1) / 2 for i in range(len(measures))],
                    [m.replace("asyncio_", "").replace("_", " ").replace(" above", "\nabove") for m in measures],
                    fontsize="small")  # fmt: skip
    axes.set_ylabel("speed-up over Python 3.11")
    axes.set_title(f"{verdict.claim.id}: what moved from 3.11 to 3.12+")
    axes.legend(fontsize="small")
