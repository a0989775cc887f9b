"""Variant `gather`: async `arun()`, independent work with `asyncio.gather(return_exceptions=True)`.

On a failure every sibling still runs to completion; the RunError lists them as partial results.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from workflow.flow import AsyncFinancialAssistant
from workflow.steps import Job, results_or_step_failed

T = TypeVar("T")


class GatherFinancialAssistant(AsyncFinancialAssistant):
    async def fan_out(self, step: str, jobs: Sequence[Job[Awaitable[T]]]) -> list[T]:
        outcomes = await asyncio.gather(*(job.start() for job in jobs), return_exceptions=True)
        return results_or_step_failed(step, jobs, outcomes)  # type: ignore[return-value]
