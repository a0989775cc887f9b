"""The claims under test: what the planning documents say, where, and how the harness decides them.

Quotes are short and cited by seed file and section (../shared/seeds/); the decision rule is
stated in words here and implemented in benchmarks/verdicts.py, so the report can print both.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    rule: str


CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="C1",
        title="TaskGroup is 2-5x faster than ThreadPoolExecutor",
        quote="2-5x performance improvement with TaskGroup vs ThreadPoolExecutor",
        source=f"{TRACKER}, task 5.4 Performance Benchmarking; Success Metrics 3",
        metric="wall time of one validated workflow run (pyperf median)",
        comparison="threads median / taskgroup median, same case and interpreter, over the fan-out and pool sweeps "
        "and the shipped scenarios",
        rule="A case supports the claim when its whole 95% interval is at or above 2x, and contradicts it when the "
        "whole interval is below 2x. Holds: every case supports it. Refuted: every case contradicts it. "
        "Conditional: some do and some do not (the condition names where, e.g. calls per pool thread). "
        "Inconclusive otherwise.",
    ),
    Claim(
        id="C2",
        title="~95% less memory than ThreadPoolExecutor (~32 KB vs 8 MB per operation)",
        quote="~95% memory reduction vs ThreadPoolExecutor (~32KB vs 8MB per operation)",
        source=f"{TRACKER}, task 5.6 Memory Usage Benchmarking",
        metric="memory per concurrent operation: slope over K calls in flight of RSS, USS, VMS, tracemalloc peak "
        "and memray peak",
        comparison="reduction = 1 - taskgroup slope / threads slope, per metric and interpreter",
        rule="Per metric: holds when the whole 95% interval of the reduction is at or above 90%, refuted when it is "
        "wholly below. Holds: every metric holds. Refuted: every metric is refuted. Conditional: some metrics hold "
        "(named in the condition). Inconclusive otherwise.",
    ),
    Claim(
        id="C3",
        title="~75% faster asyncio on Python 3.12+",
        quote="Confirm ~75% speed improvement with Python 3.12+ asyncio",
        source=f"{TRACKER}, task 5.5 Python 3.12+ Performance Validation; Success Metrics 6",
        metric="speed-up from 3.11: asyncio loopback stream writes and task create/await (pyperf microbenchmarks, "
        "where the figure comes from), the workflow's zero-latency overhead and its default-latency wall time "
        "(taskgroup)",
        comparison="median on 3.11 / median on 3.12 (and 3.13), per measure",
        rule="A measure supports the claim when the whole 95% interval of its speed-up is at or above 1.5x, "
        "contradicts it when wholly below. Holds: the workflow measures support it on every newer interpreter. "
        "Conditional: only the microbenchmarks do. Refuted: no measure does and the workflow measures contradict "
        "it. Inconclusive: an interpreter is missing or the intervals straddle 1.5x.",
    ),
    Claim(
        id="C4",
        title="TaskGroup performs equal to or better than asyncio.gather",
        quote="TaskGroup shows equal or better performance than gather",
        source=f"{TRACKER}, task 5.7 TaskGroup vs asyncio.gather() Performance",
        metric="wall time of one validated workflow run (pyperf median), every case measured for both",
        comparison="taskgroup / gather; pooled as the geometric mean over cases and interpreters",
        rule="Equal means within 5%. Holds: the pooled 95% interval is at or below 1.05 and no single case is "
        "clearly (whole interval) above 1.05. Conditional: pooled holds but some cases are clearly slower "
        "(named). Refuted: the pooled interval is wholly above 1.05. Inconclusive otherwise.",
    ),
    Claim(
        id="C5",
        title="Collecting async responses before yielding defeats streaming",
        quote="Inefficient Streaming: _collect_async_responses() defeats streaming purpose",
        source=f"{SUMMARY}, Key Issues Identified 1",
        metric="time to first content chunk (validated streaming runs)",
        comparison="legacy (collects) / taskgroup (streams), same scenario and interpreter; and legacy's first "
        "chunk as a share of its wall time",
        rule="A scenario supports the claim when legacy's first chunk comes at least 90% of the way through its run "
        "and the whole 95% interval of the ratio is above 1; it contradicts it when the interval is at or below "
        "1.05 (no later than streaming). Holds: every scenario supports it. Conditional: some do. Refuted: every "
        "scenario contradicts it. Inconclusive: not measured, or in between.",
    ),
    Claim(
        id="C6",
        title="The async variants behave identically to the sync one",
        quote="All async methods work identically to sync versions",
        source=f"{TRACKER}, tasks 5.2 and 5.3 Functional Testing",
        metric="final answers, workflow events and calls made per shipped scenario (benchmarks/equivalence.py), "
        "and what became of each request",
        comparison="every variant against threads (the sync implementation)",
        rule="Refuted: any variant differs from threads in answers, events or calls. Holds: none differs and the "
        "work done (answered, failed, cancelled requests) is the same too. Conditional: what users see is the "
        "same but the work done differs (named). Inconclusive: not measured.",
    ),
    Claim(
        id="C7",
        title="TaskGroup + except* gives structured error handling",
        quote="Exception groups handled properly with structured error responses",
        source=f"{TRACKER}, tasks 2.5 and 2.6 (TaskGroup, Exception Group Handling)",
        metric="under an injected failure (report-5-failure): the RunError's contents, sibling calls cancelled, "
        "and time to failure",
        comparison="taskgroup against gather and threads",
        rule="Holds: taskgroup's RunError names the failed call, it cancels the in-flight siblings, and its time to "
        "failure is clearly shorter than gather's (whole 95% interval of the ratio below 1). Refuted: it cancels "
        "nothing or fails clearly later than gather. Conditional: it cancels but is not clearly faster. "
        "Inconclusive: the failure scenario was not measured.",
    ),
)

CLAIMS_BY_ID = {claim.id: claim for claim in CLAIMS}
