"""Variant `gather-plain`: async `arun()`, independent work with `asyncio.gather()` as most code writes it.

`return_exceptions` is left False: the first failure is raised to the step at once, and the
siblings still in flight are neither cancelled nor awaited: they run on, their results lost
(the RunError lists them as orphaned). When nothing fails it runs exactly like `gather`.
The orphans are awaited when the workflow closes, as a long-lived service's loop would let them
finish, so their requests complete on an open client and the mock accounts for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from workflow.calls import CallFailed, StepFailed
from workflow.config import WorkflowConfig
from workflow.events import CallFailure
from workflow.flow import AsyncFinancialAssistant
from workflow.steps import Job

T = TypeVar("T")


class PlainGatherFinancialAssistant(AsyncFinancialAssistant):
    def __init__(self, config: WorkflowConfig) -> None:
        super().__init__(config)
        self.orphans: set[asyncio.Future[Any]] = set()

    async def fan_out(self, step: str, jobs: Sequence[Job[Awaitable[T]]]) -> list[T]:
        tasks = [asyncio.ensure_future(job.start()) for job in jobs]
        try:
            return list(await asyncio.gather(*tasks))
        except CallFailed as error:
            running = [(job, task) for job, task in zip(jobs, tasks, strict=True) if not task.done()]
            self.orphans.update(task for _, task in running)
            completed = tuple(job.call for job, task in zip(jobs, tasks, strict=True) if _succeeded(task))
            orphaned = tuple(job.call for job, _ in running)
            raise StepFailed(
                step, (CallFailure(error.call, error.error),), completed=completed, orphaned=orphaned
            ) from error

    async def aclose(self) -> None:
        if self.orphans:  # gather retrieves their exceptions itself: none goes unreported to the loop
            await asyncio.gather(*self.orphans, return_exceptions=True)
        await super().aclose()


def _succeeded(task: asyncio.Future[Any]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None
