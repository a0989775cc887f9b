"""agno's Workflow run as this project's events (workflow/events.py), for the agno-sync and agno-async variants."""

from __future__ import annotations

from collections.abc import Iterator

from agno.run.agent import RunContentEvent
from agno.run.workflow import ParallelExecutionStartedEvent, StepCompletedEvent, StepStartedEvent

from workflow import prompts
from workflow.agno_workflow import ANSWERS, FAN_OUTS, ROUTE, STEPS, RunLedger, join_name, parse_description
from workflow.calls import StepFailed
from workflow.events import CallFailure, ContentChunk, RunCompleted, RunError, StepCompleted, StepStarted, WorkflowEvent


class AgnoEvents:
    """Translates one agno Workflow run's stream into this project's events.

    StepStarted: the Step "route", "answer" or "write" starting, or the Parallel "fetch" or "analyse".
    StepCompleted: "route" (its output is the route), a fan-out's join step, "answer"/"write".
    ContentChunk: each content event of the answering agent, as agno passes it on; without streaming,
    the answering step's whole output. Everything else agno emits (the workflow's, the Router's, the
    Steps', the branches' and the join steps' own events) has no counterpart and is dropped.
    """

    def __init__(self, run_id: str, streaming: bool) -> None:
        self.run_id = run_id
        self.streaming = streaming
        self.route: prompts.Route | None = None
        self.parts: list[str] = []

    def translate(self, event: object) -> Iterator[WorkflowEvent]:
        started = event.step_name if isinstance(event, StepStartedEvent | ParallelExecutionStartedEvent) else None
        if started is not None and started in STEPS:
            yield StepStarted(self.run_id, started)
        elif isinstance(event, RunContentEvent) and self.streaming and isinstance(event.content, str):
            self.parts.append(event.content)
            yield ContentChunk(self.run_id, event.content)
        elif isinstance(event, StepCompletedEvent):
            yield from self._completed(event.step_name or "", event.content)

    def _completed(self, step: str, content: object) -> Iterator[WorkflowEvent]:
        if step == ROUTE and isinstance(content, str):
            self.route = parse_description(content)
            yield StepCompleted(self.run_id, step, content)
        elif step in (join_name(fan_out) for fan_out in FAN_OUTS):
            yield StepCompleted(self.run_id, step.partition("/")[0], str(content))
        elif step in ANSWERS:
            if not self.streaming and isinstance(content, str):
                self.parts.append(content)
                yield ContentChunk(self.run_id, content)
            yield StepCompleted(self.run_id, step)

    def finish(self, ledger: RunLedger) -> WorkflowEvent:
        """The run's last event: the ledger's failure as a RunError, else RunCompleted; a recorded bug is raised."""
        if ledger.bug is not None:
            raise ledger.bug
        if ledger.failure is not None:
            step, error = ledger.failure
            if isinstance(error, StepFailed):
                return RunError(self.run_id, step, error.failures, error.completed, error.cancelled, error.orphaned)
            return RunError(self.run_id, step, (CallFailure(error.call, error.error),))
        if self.route is None:
            raise RuntimeError("agno's workflow ended without a route and without a recorded failure")
        return RunCompleted(self.run_id, self.route.subflow, "".join(self.parts))
