"""Variant `agno-async`: agno's own Workflow (workflow/agno_workflow.py) run with `Workflow.arun(stream=True)`.

Coroutine step bodies on the async httpx client. agno's async streaming Parallel starts a task per
branch and waits for every one (it ends with `asyncio.gather(..., return_exceptions=True)`): like
`gather`, nothing is cancelled on a failure and the RunError lists the siblings that completed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
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
from workflow.flow import AsyncFinancialAssistant
from workflow.steps import Job, new_run_id

T = TypeVar("T")


class AgnoAsyncFinancialAssistant(AsyncFinancialAssistant):
    def __init__(self, config: WorkflowConfig) -> None:
        super().__init__(config)
        self.ledgers = agno_wf.Ledgers()
        self.workflow = agno_wf.build_workflow(config, self.sessions, self)

    async def arun(self, message: str) -> AsyncIterator[WorkflowEvent]:
        run_id = new_run_id()
        yield RunStarted(run_id, message)
        events = AgnoEvents(run_id, self.config.streaming)
        with self.ledgers.open(run_id) as ledger:
            try:
                async for event in self.workflow.arun(message, run_id=run_id, stream=True, stream_events=True):
                    for translated in events.translate(event):
                        yield translated
            except (CallFailed, StepFailed):
                pass  # a failed top-level step (route): agno re-raises it after its error events; the ledger has it
            yield events.finish(ledger)

    async def fan_out(self, step: str, jobs: Sequence[Job[Awaitable[T]]]) -> list[T]:
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

    async def _route(self, step_input: StepInput, run_context: RunContext) -> StepOutput:
        with self.ledgers.of(run_context).step(agno_wf.ROUTE):
            return StepOutput(content=(await self.route(str(step_input.input))).describe())

    async def _market_data(self, kind: str, ticker: str, step_input: StepInput, run_context: RunContext) -> StepOutput:
        with self.ledgers.of(run_context).branch(market_call(kind, ticker)):
            return StepOutput(content=await self.tools.aget_market_data(kind, ticker))

    async def _analysis_step(self, ticker: str, step_input: StepInput, run_context: RunContext) -> StepOutput:
        with self.ledgers.of(run_context).branch(analyst_call(ticker)):
            _, text = await self._analysis(ticker, agno_wf.market_data(step_input, ticker))
            return StepOutput(content=text)

    async def _answer_step(
        self, answer: agno_wf.Answer, step_input: StepInput, run_context: RunContext
    ) -> AsyncIterator[object]:
        """An async generator, so agno streams the content events it yields out of the step as they come."""
        with self.ledgers.of(run_context).step(answer.step):
            agent = answer.make_agent(self.http)
            prompt = answer.prompt(step_input)
            if self.config.streaming:
                async for event in agno_wf.acontent_events(agent.arun(prompt, stream=True), answer.call):
                    yield event
            else:
                yield StepOutput(content=agents.answer_text(await agent.arun(prompt), answer.call))
