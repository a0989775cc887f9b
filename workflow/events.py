"""Typed events a workflow run yields, in the spirit of agno's run events.

Every event of one run carries the same `run_id`. `key()` is what must agree across
variants for the same scenario: it leaves out what legitimately differs (ids, which
sibling calls were cancelled or completed after a failure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    message: str

    def key(self) -> tuple[Any, ...]:
        return ("run_started", self.message)


@dataclass(frozen=True)
class StepStarted:
    run_id: str
    step: str

    def key(self) -> tuple[Any, ...]:
        return ("step_started", self.step)


@dataclass(frozen=True)
class StepCompleted:
    run_id: str
    step: str
    detail: str = ""

    def key(self) -> tuple[Any, ...]:
        return ("step_completed", self.step, self.detail)


@dataclass(frozen=True)
class ContentChunk:
    run_id: str
    content: str

    def key(self) -> tuple[Any, ...]:
        return ("content", self.content)


@dataclass(frozen=True)
class RunCompleted:
    run_id: str
    subflow: str
    content: str

    def key(self) -> tuple[Any, ...]:
        return ("run_completed", self.subflow, self.content)


@dataclass(frozen=True)
class CallFailure:
    call: str
    error: str


@dataclass(frozen=True)
class RunError:
    """A structured failure: the step, each failed call, and what became of the siblings."""

    run_id: str
    step: str
    failures: tuple[CallFailure, ...]
    completed: tuple[str, ...] = field(default=())  # siblings that finished (partial results)
    cancelled: tuple[str, ...] = field(default=())  # siblings cancelled while in flight
    orphaned: tuple[str, ...] = field(default=())  # siblings left running, neither awaited nor cancelled

    def key(self) -> tuple[Any, ...]:
        return ("run_error", self.step, tuple(sorted(f.call for f in self.failures)))


WorkflowEvent = RunStarted | StepStarted | StepCompleted | ContentChunk | RunCompleted | RunError
