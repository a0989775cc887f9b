"""Where agno's own Workflow variants change a claim's picture: a computed paragraph beside the verdict.

They never vote (the claims are about hand-written threads, gather and TaskGroup); the paragraph says how
`agno-sync` (agno's sync `Parallel`: a ThreadPoolExecutor sized to the branch count) and `agno-async` (its
async `Parallel`: asyncio.gather(return_exceptions=True)) compare with taskgroup on the claim's own workload.
"""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.compare import Measure, compare
from benchmarks.interpreters import version_key
from benchmarks.results import RunResults
from workflow.variants import REGISTRY

AGNO_VARIANTS = tuple(name for name in REGISTRY if name.startswith("agno-"))


def ratios_to_taskgroup(results: RunResults, scenarios: Sequence[str], measure: Measure = "wall") -> str:
    """ "agno-sync 1.02x [0.99-1.05], agno-async ... on report-25 (Python 3.13)" on the newest interpreter and the
    first of `scenarios` both agno variants were measured on; "" when neither was."""
    pythons = sorted({case.python for case in results.cases}, key=version_key, reverse=True)
    for python in pythons:
        for scenario in scenarios:
            reference = results.find(scenario, "taskgroup", python)
            if reference is None:
                continue
            parts = []
            for variant in AGNO_VARIANTS:
                case = results.find(scenario, variant, python)
                estimate = None if case is None else compare(case, reference, measure).estimate
                if estimate is None:
                    continue
                interval = "" if estimate.low is None else f" [{estimate.low:.2f}-{estimate.high:.2f}]"
                parts.append(f"{variant} {estimate.value:.2f}x{interval}")
            if parts:
                return f"{', '.join(parts)} taskgroup's time on {scenario} (Python {python})"
    return ""


def cancelled_siblings(results: RunResults) -> dict[str, int]:
    """Per agno variant: siblings its validated RunErrors named cancelled, over every interpreter's equivalence."""
    found: dict[str, int] = {}
    for equivalence in results.equivalence.values():
        for scenario in equivalence.scenarios.values():
            for variant in AGNO_VARIANTS:
                run = scenario.variants.get(variant)
                if run is not None and run.validated and run.run_errors:
                    found[variant] = found.get(variant, 0) + sum(len(error.cancelled) for error in run.run_errors)
    return found


def c1_aside(results: RunResults, scenarios: Sequence[str]) -> str:
    measured = ratios_to_taskgroup(results, scenarios)
    if not measured:
        return ""
    return (
        f"agno's Workflow: {measured}. agno's sync Parallel starts one thread per branch, so it never queues in "
        "waves as a fixed pool does; what it adds is agno's own per-step work."
    )


def c7_aside(results: RunResults, scenario: str) -> str:
    measured = ratios_to_taskgroup(results, [scenario])
    cancelled = cancelled_siblings(results)
    if not measured and not cancelled:
        return ""
    said = [f"time to report the failure: {measured}"] if measured else []
    said += [f"{name}'s RunErrors named {count} cancelled sibling(s)" for name, count in sorted(cancelled.items())]
    return (
        f"agno's Workflow: {'; '.join(said)}. agno's Parallel waits for every branch (a thread pool in the sync "
        "path, gather(return_exceptions=True) in the async one), so neither cancels siblings."
    )
