"""Variant `agno-sync`: agno's own Workflow (workflow/agno_workflow.py) run with sync `Workflow.run(stream=True)`.

Sync step bodies on the sync httpx client. agno's sync Parallel runs its branches on a
ThreadPoolExecutor sized to the branches (max_workers=len(steps), so `thread_pool_size` does not
apply) and, like `threads`, waits for every branch: on a failure the RunError lists the siblings
that completed. No event loop is involved.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from typing import TypeVar

from agno.run.base import RunContext
from agno.workflow import StepInput, StepOutput

from workflow import agents
from workflow import agno_workflow as agno_wf
from workflow.agno_events import AgnoEvents
from workflow.calls import CallFailed, StepFailed, analyst_call, market_call
from workflow.config import WorkflowConfig
from workflow.events import RunStarted, WorkflowEvent
from workflow.flow import SyncFinancialAssistant
from workflow.steps import Job, new_run_id

T = TypeVar("T")


class AgnoSyncFinancialAssistant(SyncFinancialAssistant):
    def __init__(self, config: WorkflowConfig) -> None:
        super().__init__(config)
        self.ledgers = agno_wf.Ledgers()
        self.workflow = agno_wf.build_workflow(config, self.sessions, self)

    def run(self, message: str) -> Iterator[WorkflowEvent]:
        run_id = new_run_id()
        yield RunStarted(run_id, message)
        events = AgnoEvents(run_id, self.config.streaming)
        with self.ledgers.open(run_id) as ledger:
            try:
                for event in self.workflow.run(message, run_id=run_id, stream=True, stream_events=True):
                    yield from events.translate(event)
            except (CallFailed, StepFailed):
                pass  # a failed top-level step (route): agno re-raises it after its error events; the ledger has it
            yield events.finish(ledger)

    def fan_out(self, step: str, jobs: Sequence[Job[T]]) -> list[T]:
        raise NotImplementedError("agno's Parallel runs this variant's fan-outs (workflow/agno_workflow.py)")

    # --- step bodies (agno_workflow.StepBodies) ---

    def route_body(self) -> agno_wf.StepExecutor:
        return self._route

    def market_data_body(self, kind: str, ticker: str) -> agno_wf.StepExecutor:
        return partial(self._market_data, kind, ticker)

    def analysis_body(self, ticker: str) -> agno_wf.StepExecutor:
        return partial(self._analysis_step, ticker)

    def answer_body(self, answer: agno_wf.Answer) -> agno_wf.StepExecutor:
        return partial(self._answer_step, answer)

    def _route(self, step_input: StepInput, run_context: RunContext) -> StepOutput:
        with self.ledgers.of(run_context).step(agno_wf.ROUTE):
            return StepOutput(content=self.route(str(step_input.input)).describe())

    def _market_data(self, kind: str, ticker: str, step_input: StepInput, run_context: RunContext) -> StepOutput:
        with self.ledgers.of(run_context).branch(market_call(kind, ticker)):
            return StepOutput(content=self.tools.get_market_data(kind, ticker))

    def _analysis_step(self, ticker: str, step_input: StepInput, run_context: RunContext) -> StepOutput:
        with self.ledgers.of(run_context).branch(analyst_call(ticker)):
            _, text = self._analysis(ticker, agno_wf.market_data(step_input, ticker))
            return StepOutput(content=text)

    def _answer_step(self, answer: agno_wf.Answer, step_input: StepInput, run_context: RunContext) -> Iterator[object]:
        """A generator, so agno streams the content events it yields out of the step as they come."""
        with self.ledgers.of(run_context).step(answer.step):
            agent = answer.make_agent(self.http)
            prompt = answer.prompt(step_input)
            if self.config.streaming:
                yield from agno_wf.content_events(agent.run(prompt, stream=True), answer.call)
            else:
                yield StepOutput(content=agents.answer_text(agent.run(prompt), answer.call))
