"""Variant `taskgroup`: async `arun()`, independent work in an `asyncio.TaskGroup`.

The first failure cancels the siblings still in flight; `except*` turns the exception
group into a StepFailed naming the failed, completed and cancelled calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from workflow.calls import CallFailed, StepFailed
from workflow.events import CallFailure
from workflow.flow import AsyncFinancialAssistant
from workflow.steps import Job

T = TypeVar("T")


class TaskGroupFinancialAssistant(AsyncFinancialAssistant):
    async def fan_out(self, step: str, jobs: Sequence[Job[Awaitable[T]]]) -> list[T]:
        cancelled: list[str] = []

        async def tracked(job: Job[Awaitable[T]]) -> T:
            try:
                return await job.start()
            except asyncio.CancelledError:
                cancelled.append(job.call)
                raise

        tasks: list[asyncio.Task[T]] = []
        failure: StepFailed | None = None
        try:
            async with asyncio.TaskGroup() as group:
                tasks.extend(group.create_task(tracked(job)) for job in jobs)
        except* CallFailed as failed:
            completed = tuple(job.call for job, task in zip(jobs, tasks, strict=True) if _succeeded(task))
            calls = tuple(CallFailure(e.call, e.error) for e in failed.exceptions if isinstance(e, CallFailed))
            failure = StepFailed(step, calls, completed=completed, cancelled=tuple(cancelled))
        if failure is not None:
            raise failure
        return [task.result() for task in tasks]


def _succeeded(task: asyncio.Task[object]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None
