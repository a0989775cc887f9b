"""The one registry of workflow variants: each variant's name, class and traits.

Every list of variants in the project (the suites' matrices, figures, tests) is derived from
`REGISTRY`; adding a variant is one entry here. Traits:

- pooled: runs its fan-outs on a thread pool, so the pool-size sweeps apply to it.
- streams: yields the answer's chunks as the model sends them (legacy collects them first).
- failure_only: runs exactly like `same_as` unless a call fails, so it is measured where a
  failure is injected (speed, equivalence) and nowhere a run cannot fail (memory, users, the
  fan-out sweep, instruction counts), where it would only re-measure `same_as`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workflow.flow import AsyncFinancialAssistant, SyncFinancialAssistant

    WorkflowClass = type[SyncFinancialAssistant] | type[AsyncFinancialAssistant]


@dataclass(frozen=True)
class Variant:
    name: str
    implementation: str  # "module:Class", imported on first use so reading the registry needs no agno
    summary: str  # how its independent work runs, in a few words (tables, the report)
    pooled: bool
    streams: bool
    is_async: bool
    failure_only: bool = False
    same_as: str | None = None  # the variant it runs exactly like when nothing fails

    @property
    def workflow(self) -> WorkflowClass:
        module, _, name = self.implementation.partition(":")
        return getattr(importlib.import_module(module), name)


REGISTRY: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant(
            "threads",
            "workflow.threads:ThreadsFinancialAssistant",
            "sync run(), ThreadPoolExecutor",
            pooled=True,
            streams=True,
            is_async=False,
        ),
        Variant(
            "gather",
            "workflow.gather:GatherFinancialAssistant",
            "async arun(), asyncio.gather(return_exceptions=True)",
            pooled=False,
            streams=True,
            is_async=True,
        ),
        Variant(
            "taskgroup",
            "workflow.taskgroup:TaskGroupFinancialAssistant",
            "async arun(), asyncio.TaskGroup",
            pooled=False,
            streams=True,
            is_async=True,
        ),
        Variant(
            "legacy",
            "workflow.legacy:LegacyFinancialAssistant",
            "sync run(), thread pool + asyncio.run() per step, stream collected",
            pooled=True,
            streams=False,
            is_async=False,
        ),
        Variant(
            "agno-sync",
            "workflow.agno_sync:AgnoSyncFinancialAssistant",
            "agno Workflow.run(), Router + Parallel (a thread per branch)",
            pooled=False,
            streams=True,
            is_async=False,
        ),
        Variant(
            "agno-async",
            "workflow.agno_async:AgnoAsyncFinancialAssistant",
            "agno Workflow.arun(), Router + Parallel (a task per branch)",
            pooled=False,
            streams=True,
            is_async=True,
        ),
        Variant(
            "gather-plain",
            "workflow.gather_plain:PlainGatherFinancialAssistant",
            "async arun(), asyncio.gather() (first exception raised, siblings run on)",
            pooled=False,
            streams=True,
            is_async=True,
            failure_only=True,
            same_as="gather",
        ),
    )
}


def variant_names(*, failing: bool = True) -> tuple[str, ...]:
    """Every registered variant, in registry order; `failing=False` leaves out those that differ only on failure."""
    return tuple(name for name, variant in REGISTRY.items() if failing or not variant.failure_only)


def pooled_names() -> tuple[str, ...]:
    return tuple(name for name, variant in REGISTRY.items() if variant.pooled)
