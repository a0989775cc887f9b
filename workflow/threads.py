"""Variant `threads`: sync calls only, independent work on a ThreadPoolExecutor. No event loop.

On a failure the error surfaces once every submitted job has finished: running threads
cannot be interrupted, and leaving the `with` block waits for queued jobs too (the idiom's
`shutdown(wait=True)`). The RunError lists the siblings that completed.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from workflow.flow import SyncFinancialAssistant
from workflow.steps import Job, results_or_step_failed

T = TypeVar("T")


class ThreadsFinancialAssistant(SyncFinancialAssistant):
    def fan_out(self, step: str, jobs: Sequence[Job[T]]) -> list[T]:
        with ThreadPoolExecutor(max_workers=self.config.thread_pool_size) as pool:
            futures = [pool.submit(job.start) for job in jobs]
        return results_or_step_failed(step, jobs, [_outcome(f) for f in futures])  # type: ignore[return-value]


def _outcome(future: Future[T]) -> T | BaseException:
    error = future.exception()
    return future.result() if error is None else error
