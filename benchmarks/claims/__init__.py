"""The claims under test, one registration each: the claim's record, its decision, its figure.

Each module holds a claim's quote, source, threshold, primary comparisons, rule and figure together
(benchmarks/claims/base.py has what they share, including the one decision ladder). Verdicts are
computed from a run's data only; the report prints each claim's rule beside its verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.axes import Axes

from benchmarks.claims import c1_threads_speedup, c2_memory, c3_python312, c4_gather, c5_streaming, c6_c7_behaviour
from benchmarks.claims.base import Claim, Evidence, Outcome, Verdict
from benchmarks.results import RunResults

Drawer = Callable[[Axes, Verdict, RunResults], None]


@dataclass(frozen=True)
class Registered:
    claim: Claim
    decide: Callable[[RunResults], Verdict]
    draw: Drawer | None = None


REGISTRY: tuple[Registered, ...] = (
    Registered(c1_threads_speedup.CLAIM, c1_threads_speedup.decide, c1_threads_speedup.draw),
    Registered(c2_memory.PER_OPERATION, c2_memory.decide_per_operation),
    Registered(c2_memory.REDUCTION_CLAIM, c2_memory.decide_reduction, c2_memory.draw),
    Registered(c3_python312.CITED, c3_python312.decide_cited, c3_python312.draw),
    Registered(c3_python312.WORKFLOW, c3_python312.decide_workflow, c3_python312.draw),
    Registered(c4_gather.CLAIM, c4_gather.decide, c4_gather.draw),
    Registered(c5_streaming.CLAIM, c5_streaming.decide, c5_streaming.draw),
    Registered(c6_c7_behaviour.IDENTICAL, c6_c7_behaviour.decide_identical),
    Registered(c6_c7_behaviour.STRUCTURED, c6_c7_behaviour.decide_structured, c6_c7_behaviour.draw_structured),
)
CLAIMS: tuple[Claim, ...] = tuple(entry.claim for entry in REGISTRY)
CLAIMS_BY_ID = {claim.id: claim for claim in CLAIMS}


def decide_all(results: RunResults) -> list[Verdict]:
    return [entry.decide(results) for entry in REGISTRY]


__all__ = ["CLAIMS", "CLAIMS_BY_ID", "REGISTRY", "Claim", "Evidence", "Outcome", "Registered", "Verdict", "decide_all"]
