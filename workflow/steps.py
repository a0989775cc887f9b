"""Pieces every variant's flow uses: a job of a fan-out, collecting its outcomes, run ids, sessions."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from agno.db.base import BaseDb
from agno.db.in_memory import InMemoryDb
from agno.db.sqlite import SqliteDb

from workflow.calls import MARKET_DATA_KINDS, CallFailed, StepFailed
from workflow.config import WorkflowConfig
from workflow.events import CallFailure

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Job(Generic[T_co]):
    """One independent unit of a fan-out step: the call it makes and how to make it."""

    call: str
    start: Callable[[], T_co]


def new_run_id() -> str:
    return str(uuid.uuid4())


def results_or_step_failed(step: str, jobs: Sequence[Job[object]], outcomes: Sequence[object]) -> list[object]:
    """Results in job order, or StepFailed naming every failed call and the ones that finished.

    Only CallFailed counts as a failure of the workload; any other exception is a bug
    in the harness or the framework and is re-raised as it is.
    """
    failures: list[CallFailure] = []
    completed: list[str] = []
    for job, outcome in zip(jobs, outcomes, strict=True):
        if isinstance(outcome, CallFailed):
            failures.append(CallFailure(outcome.call, outcome.error))
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            completed.append(job.call)
    if failures:
        raise StepFailed(step, tuple(failures), completed=tuple(completed))
    return list(outcomes)


def market_data_by_ticker(tickers: Sequence[str], texts: Sequence[str]) -> dict[str, dict[str, str]]:
    """Regroup the flat fetch results (ticker-major, kind-minor) per ticker."""
    per_ticker = len(MARKET_DATA_KINDS)
    return {
        ticker: dict(zip(MARKET_DATA_KINDS, texts[i * per_ticker : (i + 1) * per_ticker], strict=True))
        for i, ticker in enumerate(tickers)
    }


def open_session_db(config: WorkflowConfig) -> BaseDb:
    """agno session storage: a SQLite file by default, in memory when no file is given."""
    if config.session_db_file is None:
        return InMemoryDb()
    return SqliteDb(db_file=str(config.session_db_file))


def close_session_db(db: BaseDb) -> None:
    if isinstance(db, SqliteDb):
        db.close()
