"""What should I do? The report's opening answer, computed from the run: which shape to use, and when it matters.

At most five plain sentences, each computed from this run's results or verdicts (never a hand-written
number) and each pointing at the evidence below it in the report:

1. the everyday workload: which variant was fastest on the largest shipped report, by how much (#C1);
2. fan-out against the pool: how the gap moves at the largest fan-out the sweep measured (#C1);
3. streaming: whether collecting the answer before yielding delayed the first chunk (#C5);
4. failures: which shape reported a failed call sooner, and whether it cancelled the rest (#C7);
5. memory at scale: what one more operation in flight costs with threads and with tasks (#C2b).

A sentence whose data the run lacks is left out, not guessed. Ratios read "x as long" against the
fastest, with their 95% paired interval; a runner-up whose interval reaches 1 is called indistinguishable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.claims import Evidence, Verdict
from benchmarks.compare import compare
from benchmarks.interpreters import version_key
from benchmarks.results import CaseResult, RunResults
from benchmarks.stats import Estimate
from workflow.variants import REGISTRY as VARIANTS

MAX_SENTENCES = 5


@dataclass(frozen=True)
class Sentence:
    topic: str  # workload, fan-out, streaming, failures, memory
    text: str
    evidence: str  # the report's anchor it follows from, e.g. "C1"

    def to_json(self) -> dict[str, str]:
        return {"topic": self.topic, "text": self.text, "evidence": self.evidence}


def advise(results: RunResults, verdicts: Sequence[Verdict]) -> list[Sentence]:
    by_id = {verdict.claim.id: verdict for verdict in verdicts}
    found = [
        workload_sentence(results),
        fanout_sentence(results),
        streaming_sentence(by_id.get("C5")),
        failure_sentence(by_id.get("C7")),
        memory_sentence(by_id.get("C2b")),
    ]
    return [sentence for sentence in found if sentence is not None][:MAX_SENTENCES]


def _interval(estimate: Estimate | Evidence) -> str:
    if estimate.low is None or estimate.high is None:
        return "(too few values for an interval)"
    return f"[{estimate.low:.2f}-{estimate.high:.2f}]"


def _newest_with_speed(results: RunResults) -> str | None:
    pythons = sorted({case.python for case in results.cases}, key=version_key)
    return pythons[-1] if pythons else None


def _everyday(case: CaseResult, python: str) -> bool:
    variant = VARIANTS.get(case.variant)
    return (
        case.python == python
        and variant is not None
        and not variant.failure_only
        and not case.injected_failures
        and case.params.get("latency") == "default"
        and case.thread_pool_size in ("", "default")
    )


def workload_sentence(results: RunResults) -> Sentence | None:
    """The largest shipped report on the newest interpreter: the fastest variant and every other's paired ratio."""
    python = _newest_with_speed(results)
    if python is None:
        return None
    by_scenario: dict[str, list[CaseResult]] = {}
    for case in results.cases:
        if _everyday(case, python) and case.group == "scenario" and case.scenario.startswith("report-"):
            by_scenario.setdefault(case.scenario, []).append(case)
    measured = {name: cases for name, cases in by_scenario.items() if len(cases) >= 2}
    if not measured:
        return None
    scenario = max(measured, key=lambda name: (measured[name][0].fanout, name))
    cases = measured[scenario]
    fastest = min(cases, key=lambda case: case.median_s)
    others = []
    for case in sorted(cases, key=lambda case: case.median_s):
        if case is fastest:
            continue
        estimate = compare(case, fastest).estimate
        if estimate is not None:
            others.append((case.variant, estimate))
    if not others:
        return None
    where = f"On {scenario} ({cases[0].fanout} market-data calls at the scenario's latency, Python {python})"
    runner_up, closest = others[0]
    if closest.low is None or closest.low <= 1:
        lead = (
            f"{where}, {fastest.variant} and {runner_up} were indistinguishable "
            f"({runner_up} {closest.value:.2f}x as long {_interval(closest)})"
        )
        rest = others[1:]
    else:
        lead = f"{where}, {fastest.variant} was fastest"
        rest = others
    tail = "; ".join(f"{variant} took {e.value:.2f}x as long {_interval(e)}" for variant, e in rest)
    return Sentence("workload", f"{lead}{': ' + tail if tail else ''}.", "C1")


def fanout_sentence(results: RunResults) -> Sentence | None:
    """At the largest fan-out of the sweep: the default thread pool and a pool sized to the fan-out, against tasks."""
    python = _newest_with_speed(results)
    sweep = [case for case in results.cases if case.python == python and case.group == "fanout"]
    pooled = [case for case in sweep if case.variant == "threads" and case.thread_pool_size == "default"]
    if not pooled:
        return None
    transport = str(results.manifest.get("transport", "respx"))  # over loopback the sweep has respx twins too
    widest = max(pooled, key=lambda case: (case.fanout, case.transport == transport))
    tasks = _named(results, f"{widest.scenario}/taskgroup", widest.python)
    if tasks is None:
        return None
    default = compare(widest, tasks).estimate
    if default is None:
        return None
    threads = widest.max_workers or 0
    limit = f", {widest.max_connections} connections" if widest.max_connections else ""
    text = (
        f"The gap depends on fan-out against pool size: at {widest.fanout} calls per step, the default thread pool "
        f"({threads} threads{limit}) took {default.value:.2f}x taskgroup's time {_interval(default)}"
    )
    sized = _named(results, f"{widest.scenario}/threads@pool-fanout", widest.python)
    sized_estimate = None if sized is None else compare(sized, tasks).estimate
    if sized_estimate is not None:
        text += f", a pool sized to the fan-out {sized_estimate.value:.2f}x {_interval(sized_estimate)}"
    return Sentence("fan-out", text + ".", "C1")


def _named(results: RunResults, name: str, python: str) -> CaseResult | None:
    return next((case for case in results.cases if case.name == name and case.python == python), None)


def _primary(verdict: Verdict | None) -> Evidence | None:
    """The verdict's primary comparison with an interval on the newest interpreter it was measured on."""
    rows = [] if verdict is None else [e for e in verdict.evidence if e.primary and e.low is not None]
    return max(rows, key=lambda e: version_key(e.python), default=None)


def streaming_sentence(verdict: Verdict | None) -> Sentence | None:
    """C5: legacy's first chunk against taskgroup's (later / earlier)."""
    row = _primary(verdict)
    if row is None or row.high is None or row.low is None:
        return None
    where = f"({row.facts.get('scenario', '?')}, Python {row.python})"
    interval = _interval(row)
    if row.low > 1:
        text = (
            f"Stream the answer as it arrives: collecting it before yielding (legacy) showed the first chunk "
            f"{row.value:.2f}x later than taskgroup {interval} {where}."
        )
    else:
        text = (
            f"Collecting the answer before yielding (legacy) did not delay the first chunk measurably "
            f"({row.value:.2f}x taskgroup's {interval}) {where}."
        )
    return Sentence("streaming", text, "C5")


def failure_sentence(verdict: Verdict | None) -> Sentence | None:
    """C7: how soon taskgroup reports a failed call against gather(return_exceptions=True), and cancellation."""
    row = _primary(verdict)
    if row is None or row.high is None or row.low is None:
        return None
    cancels = " and cancels the calls still in flight" if row.facts.get("cancels_siblings") else ""
    interval = _interval(row)
    if row.high < 1:
        text = (
            f"When a call fails, taskgroup reports it in {row.value:.2f}x the time gather(return_exceptions=True) "
            f"takes {interval}{cancels} (Python {row.python})."
        )
    else:
        text = (
            f"When a call fails, taskgroup was not quicker to report it than gather(return_exceptions=True) "
            f"({row.value:.2f}x {interval}, Python {row.python})."
        )
    return Sentence("failures", text, "C7")


def memory_sentence(verdict: Verdict | None) -> Sentence | None:
    """C2b's RSS row: bytes per operation in flight with threads and with tasks."""
    if verdict is None:
        return None
    rows = [e for e in verdict.evidence if e.primary and e.facts.get("metric") == "rss"]
    row = max(rows, key=lambda e: version_key(e.python), default=None)
    if row is None:
        return None
    threads: Any = row.facts.get("threads_per_operation")
    tasks: Any = row.facts.get("taskgroup_per_operation")
    if not isinstance(threads, int | float) or not isinstance(tasks, int | float) or tasks <= 0:
        return None
    cheaper = "tasks" if threads > tasks else "threads"
    return Sentence(
        "memory",
        f"At scale, memory favours {cheaper}: each operation in flight added {threads / 1024:.1f} KiB of RSS with "
        f"threads and {tasks / 1024:.1f} KiB with taskgroup (Python {row.python}).",
        "C2b",
    )
