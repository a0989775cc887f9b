"""C1: TaskGroup is 2-5x faster than ThreadPoolExecutor.

Decided where the planning document sets it: its `ThreadPoolExecutor()` (the standard library's
default pool) on the shipped report workloads at their own latency, threads against taskgroup, per
interpreter. Fan-out 1, or a pool at least as large as the fan-out, is ~1x by construction, so the
fan-out and pool sweep does not vote: it is stated as a fitted relation, the speed-up against calls
per pool thread, beside what the pool alone would predict (pool-limited bound / critical-path bound).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from matplotlib.axes import Axes

from benchmarks.claims.agno_aside import c1_aside
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
    where,
)
from benchmarks.claims.plot import errors, mark_too_few
from benchmarks.compare import compare
from benchmarks.results import CaseResult, RunResults
from benchmarks.stats import HIERARCHICAL

PAIR = ("threads", "taskgroup")
THRESHOLD = 2.0  # "2-5x": the low end
CLAIM = Claim(
    id="C1",
    title="TaskGroup is 2-5x faster than ThreadPoolExecutor",
    quote="2-5x performance improvement with TaskGroup vs ThreadPoolExecutor",
    source=f"{TRACKER}, task 5.4 Performance Benchmarking; Success Metrics 3",
    metric="wall time of one validated workflow run",
    comparison="threads / taskgroup, paired by process and round, same case and interpreter",
    primary="the shipped report scenarios (report-5, report-25) at their own latency with the standard library's "
    "default pool (the planning document's `ThreadPoolExecutor()`), per interpreter; the fan-out and pool sweep "
    "is context, stated as a fitted relation",
    rule="A primary comparison supports the claim when its whole 95% interval is at or above 2x and contradicts it "
    "when wholly below. Holds: some support, none contradicts. Refuted: some contradict, none supports. "
    "Conditional: the primary comparisons split. Inconclusive: none is clear (or none was measured).",
)


SHIPPED_REPORTS = ("report-5", "report-25")


def decide(results: RunResults) -> Verdict:
    gap = unmeasured_primary(results, lambda scenario, variant: scenario in SHIPPED_REPORTS and variant in PAIR)
    if gap:
        return not_measured(CLAIM, gap)
    evidence: list[Evidence] = []
    for case in results.cases:
        reference = results.find(case.scenario, "taskgroup", case.python)
        if case.variant != "threads" or reference is None or case.injected_failures:
            continue
        if case.params.get("latency") != "default":
            continue
        # Only the named primaries decide: alone (4 calls) and chat (none) cannot queue on a default pool, and a
        # user's own scenario is context.
        primary = case.scenario in SHIPPED_REPORTS and case.group == "scenario" and case.thread_pool_size == "default"
        workers = case.max_workers or 1
        facts = {
            "scenario": case.scenario,
            "fanout": case.fanout,
            "pool": case.thread_pool_size or "default",
            "max_workers": case.max_workers,
            "calls_per_thread": case.fanout / workers,
            "pool_model_ratio": _pool_model(case),
            "transport": case.transport,
            "max_connections": case.max_connections,
            "threads_limit": threads_limit(workers, case.max_connections),
            "taskgroup_limit": taskgroup_limit(case.fanout, case.max_connections),
        }
        connections = f", {case.max_connections} connections" if case.max_connections else ""
        over = f" [{case.transport}]" if case.transport != "respx" or case.params.get("transport") else ""
        sizes = f"{case.fanout} calls, {case.max_workers} threads{connections}"
        label = f"{case.scenario}, pool {facts['pool']} ({sizes}){over}"
        row = from_comparison(
            label, case.python, compare(case, reference), lambda e: support(e, THRESHOLD), facts, primary
        )
        if row is not None:
            evidence.append(row)
    if not any(e.primary for e in evidence):
        return not_measured(CLAIM, "no shipped report scenario measured both threads (default pool) and taskgroup")
    for python, measured in sorted(results.instructions.items()):
        threads, taskgroup = (measured.cases.get(f"report-5@zero/{variant}") for variant in PAIR)
        if threads is not None and taskgroup is not None:
            facts = {"scenario": "report-5@zero", "measure": "instructions per zero-latency run"}
            label = "report-5@zero, instructions per run (CPU work, no waiting)"
            evidence.append(
                from_counts(
                    label, python, threads.instructions, taskgroup.instructions, lambda e: support(e, THRESHOLD), facts
                )
            )
    headline = headline_of(evidence, lambda e: e.facts["scenario"] == "report-5")
    figure_text = f"threads / taskgroup = {headline.value:.2f}x on {headline.label}, Python {headline.python}"
    sweep = sweep_relation(evidence)
    conditions: dict[Outcome, str] = {
        "holds": f"2x or more with the default pool: {labels(where(evidence, 'yes'))}",
        "refuted": f"below 2x with the default pool: {labels(where(evidence, 'no'))}",
        "conditional": f"2x or more only in {labels(where(evidence, 'yes'))}; below in {labels(where(evidence, 'no'))}",
        "inconclusive": "no primary comparison is clear of 2x (intervals straddle it, or too few values)",
    }
    if sweep:
        conditions = {outcome: f"{text}. Sweep: {sweep}" for outcome, text in conditions.items()}
    limits = limits_text(evidence)
    conditions = {outcome: f"{text}. {limits}" for outcome, text in conditions.items()}
    above_five = [e for e in where(evidence, "yes") if e.low is not None and e.low > 5]
    extra = f"{len(above_five)} primary comparison(s) exceed 5x" if above_five else ""
    verdict = decided(CLAIM, evidence, headline, figure_text, conditions, HIERARCHICAL, extra)
    return replace(verdict, aside=c1_aside(results, tuple(reversed(SHIPPED_REPORTS))))


def threads_limit(workers: int, connections: int | None) -> str:
    """What bounds the calls threads has waiting at once: its thread pool, or the connection pool if smaller."""
    if connections is not None and connections < workers:
        return f"the connection pool ({connections})"
    return f"the thread pool ({workers})"


def taskgroup_limit(fanout: int, connections: int | None) -> str:
    """What bounds taskgroup's calls at once: the connection pool when the fan-out exceeds it, else nothing."""
    if connections is not None and fanout > connections:
        return f"the connection pool ({connections})"
    return "nothing (every call at once)"


def limits_text(evidence: list[Evidence]) -> str:
    """Which limit bounded each variant in the primary comparisons (and, where it differs, the sweep)."""
    timed = [e for e in evidence if e.facts.get("kind") != "instructions" and "threads_limit" in e.facts]
    primary = [e for e in timed if e.primary] or timed

    def named(key: str, rows: list[Evidence]) -> str:
        return " or ".join(sorted({str(e.facts[key]).split(" (")[0] for e in rows}))

    text = f"Bounded by: threads, {named('threads_limit', primary)}; taskgroup, {named('taskgroup_limit', primary)}"
    pooled = [e for e in timed if "connection pool" in str(e.facts["taskgroup_limit"])]
    if pooled:
        text += f"; the connection pool bounded taskgroup too in {labels(pooled)}"
    return text


def _pool_model(case: CaseResult) -> float | None:
    """What the pool alone predicts: the pool-limited bound over the critical-path bound (overhead left out)."""
    if case.pool_limited_s is None or case.critical_path_s <= 0:
        return None
    return case.pool_limited_s / case.critical_path_s


def sweep_relation(evidence: list[Evidence]) -> str:
    """The speed-up as a power law of calls per pool thread, fitted over every default-latency comparison; one fit
    per transport when the run measured the sweep over both (their costs differ: they are not one population)."""
    timed = [e for e in evidence if e.facts.get("kind") != "instructions" and not math.isnan(e.value)]
    transports = sorted({str(e.facts.get("transport", "respx")) for e in timed})
    if len(transports) < 2:
        return _fitted(timed)
    fits = [(t, _fitted([e for e in timed if e.facts.get("transport", "respx") == t])) for t in transports]
    return "; ".join(f"over {t}: {text}" for t, text in fits if text)


def _fitted(timed: list[Evidence]) -> str:
    points = [(e.facts["calls_per_thread"], e.value) for e in timed if e.facts["calls_per_thread"] > 0]
    if len({x for x, _ in points}) < 3:
        return ""
    slope, intercept = np.polyfit([math.log(x) for x, _ in points], [math.log(y) for _, y in points], 1)
    text = f"speed-up ≈ {math.exp(intercept):.2f} × (calls per pool thread)^{slope:.2f} over {len(points)} cases"
    if slope > 0:
        crossing = math.exp((math.log(THRESHOLD) - intercept) / slope)
        text += f", reaching 2x at about {crossing:.1f} calls per pool thread"
    models = [e.facts["pool_model_ratio"] for e in timed if e.facts.get("pool_model_ratio")]
    if models:
        text += f" (the pool-limited model predicts {min(models):.2f}x to {max(models):.2f}x over these cases)"
    return text


def draw(axes: Axes, verdict: Verdict, _: RunResults) -> None:
    series: dict[tuple[str, str], list[Evidence]] = {}
    for row in verdict.evidence:
        if row.facts.get("kind") == "instructions":
            continue
        series.setdefault((str(row.facts["pool"]), row.python), []).append(row)
    for (pool, python), rows in sorted(series.items()):
        rows.sort(key=lambda r: r.facts["calls_per_thread"])
        xs = [r.facts["calls_per_thread"] for r in rows]
        axes.errorbar(xs, [r.value for r in rows], yerr=errors(rows), marker="o", capsize=3,
                      label=f"pool {pool}, Python {python}")  # fmt: skip
        mark_too_few(axes, [(x, r.value, r) for x, r in zip(xs, rows, strict=True)])
    modelled = sorted((r.facts["calls_per_thread"], r.facts["pool_model_ratio"]) for r in verdict.evidence
                      if r.facts.get("pool_model_ratio"))  # fmt: skip
    if modelled:
        axes.plot([x for x, _ in modelled], [y for _, y in modelled], "k:", label="pool-limited model")
    axes.axhspan(2, 5, color="tab:green", alpha=0.12, label="claimed 2-5x")
    axes.axhline(1, color="grey", linewidth=0.8)
    axes.set_xscale("log")
    axes.set_xlabel("market-data calls per pool thread (log scale)")
    axes.set_ylabel("threads time / taskgroup time")
    axes.set_title("C1: speed-up of taskgroup over threads")
    axes.legend(fontsize="x-small")
