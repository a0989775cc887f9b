"""The workflow as agno's own `agno.workflow.Workflow`: what the `agno-sync` and `agno-async` variants share.

The Workflow is built once per assistant, as an application would define it:

    Step "route"                                   the router agent; its output is `Route.describe()`
    Router "subflow"                               its selector builds this run's subflow (choices name them):
      Steps "chat":   Step "answer"
      Steps "alone":  Parallel "fetch" (a Step per call), Step "fetch/join", Step "answer"
      Steps "report": Parallel "fetch", Step "fetch/join", Parallel "analyse" (a Step per ticker),
                      Step "analyse/join", Step "write"

The tickers are known only after routing, so the Router's selector builds the chosen subflow per run;
its `choices` are empty placeholders named after the subflows, which only name what it may return.
Data flows the agno way: each step reads the outputs it needs by step name from its StepInput (an
analyst reads its ticker's four fetch outputs, the writer every analysis). Every step body is a
function executor calling the shared agents (workflow/agents.py) with the shared prompts, so the
HTTP calls are the other variants'; a Step(agent=...) would let agno build the prompt from the
previous steps' outputs and give the chat agent the workflow's session id.

What agno loses, a per-run `RunLedger` keeps. agno turns a failing Parallel branch into a
StepOutput(success=False, error=str(exc)) and lets the sequence go on, and its Steps and Router
containers turn any step's exception into such an output too. So each step body records its
typed error (CallFailed) before re-raising it to agno, and a join step after each Parallel raises
StepFailed naming the failed and the completed branches: that exception stops the subflow's Steps
container, as the hand-written variants stop at the failing step. workflow/agno_events.py translates
agno's stream (stream=True, stream_events=True) into this project's events and ends the run with
the ledger's RunError, or RunCompleted.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from agno.agent import Agent
from agno.db.base import BaseDb
from agno.run.agent import RunContentEvent
from agno.run.base import RunContext
from agno.workflow import HumanReview, OnError, Parallel, Router, Step, StepInput, StepOutput, Steps, Workflow
from agno.workflow.router import WorkflowSteps as RouterChoices
from agno.workflow.workflow import WorkflowSteps

from workflow import agents, prompts
from workflow.calls import MARKET_DATA_KINDS, CallFailed, StepFailed, analyst_call, market_call
from workflow.config import WorkflowConfig
from workflow.events import CallFailure

ROUTE = "route"
FAN_OUTS = ("fetch", "analyse")  # the Parallel steps; each is followed by its join step
ANSWERS = ("answer", "write")  # the steps whose agent's answer is the run's content
STEPS = (ROUTE, *FAN_OUTS, *ANSWERS)  # the agno steps (a Step, or a Parallel) that are the steps of flow.py
StepExecutor = Callable[..., Any]  # what agno's Step(executor=...) takes: called with (step_input, run_context=...)


def join_name(fan_out: str) -> str:
    return f"{fan_out}/join"


@dataclass(frozen=True)
class Answer:
    """The answering step of a subflow: its step name, the agent and its call, and the prompt from the StepInput."""

    step: str
    call: str
    make_agent: Callable[[agents.HttpClient], Agent]
    prompt: Callable[[StepInput], str]


class StepBodies(Protocol):
    """The step bodies of one calling convention (sync functions, or coroutines), as agno executors."""

    ledgers: Ledgers

    def route_body(self) -> StepExecutor: ...

    def market_data_body(self, kind: str, ticker: str) -> StepExecutor: ...

    def analysis_body(self, ticker: str) -> StepExecutor: ...

    def answer_body(self, answer: Answer) -> StepExecutor: ...


# --- what agno's step outputs lose ------------------------------------------------------------------------------


@dataclass
class RunLedger:
    """One run's typed failures, recorded by the step bodies before agno turns them into strings."""

    failed_calls: dict[str, CallFailed] = field(default_factory=dict)  # failed Parallel branches, by call
    failure: tuple[str, CallFailed | StepFailed] | None = None  # what stopped the run: (step, error)
    bug: BaseException | None = None  # anything but a CallFailed: re-raised at the end of the run, as flow.py does

    @contextmanager
    def step(self, step: str) -> Iterator[None]:
        """A step whose failure stops the run (route, answer, write)."""
        try:
            yield
        except CallFailed as error:
            self.failure = (step, error)
            raise
        except Exception as error:
            self.bug = self.bug or error
            raise

    @contextmanager
    def branch(self, call: str) -> Iterator[None]:
        """One branch of a Parallel: its failure is kept for the join step."""
        try:
            yield
        except CallFailed as error:
            self.failed_calls[call] = error
            raise
        except Exception as error:
            self.bug = self.bug or error
            raise

    def join(self, fan_out: str, output: StepOutput | None) -> int:
        """The number of branches of a Parallel that all succeeded; else raise StepFailed (recorded as the failure)."""
        branches = list(output.steps or []) if output is not None else []
        failures: list[CallFailure] = []
        completed: list[str] = []
        for branch in branches:
            name = branch.step_name or ""
            if branch.success is not False:
                completed.append(name)
            elif name in self.failed_calls:
                failures.append(CallFailure(name, self.failed_calls[name].error))
            else:  # a failure no body recorded as a CallFailed: agno's own, or a bug (then already recorded)
                self.bug = self.bug or RuntimeError(f"branch {name!r} of {fan_out!r} failed: {branch.error}")
                raise self.bug
        if failures:
            error = StepFailed(fan_out, tuple(failures), completed=tuple(completed))
            self.failure = (fan_out, error)
            raise error
        return len(branches)


class Ledgers:
    """The ledgers of the runs in flight on one Workflow, by agno run id (the RunContext every step gets)."""

    def __init__(self) -> None:
        self._open: dict[str, RunLedger] = {}
        self._lock = threading.Lock()

    @contextmanager
    def open(self, run_id: str) -> Iterator[RunLedger]:
        ledger = RunLedger()
        with self._lock:
            self._open[run_id] = ledger
        try:
            yield ledger
        finally:
            with self._lock:
                del self._open[run_id]

    def of(self, run_context: RunContext) -> RunLedger:
        return self._open[run_context.run_id]

    def __len__(self) -> int:
        """The runs in flight."""
        return len(self._open)


# --- the Workflow -----------------------------------------------------------------------------------------------


def build_workflow(config: WorkflowConfig, sessions: BaseDb, bodies: StepBodies) -> Workflow:
    """The assistant's agno Workflow: route, then the Router's subflow, built for this run's route.

    No db: agno would store every workflow run (its step outputs and events) in it, work the other
    variants do not do; the chat agent keeps its own session in `sessions`, as in flow.py.
    """

    def select_subflow(step_input: StepInput) -> RouterChoices:
        route = parse_description(step_text(step_input, ROUTE))
        return [subflow_steps(route, config, sessions, bodies)]

    steps: WorkflowSteps = [
        _step(ROUTE, bodies.route_body(), on_error=OnError.fail),
        Router(name="subflow", selector=select_subflow, choices=[Steps(name=subflow) for subflow in prompts.SUBFLOWS]),
    ]
    return Workflow(
        name="financial-assistant",
        steps=steps,
        session_id=config.session_id,
        stream=True,
        stream_events=True,
        telemetry=False,
    )


def subflow_steps(route: prompts.Route, config: WorkflowConfig, sessions: BaseDb, bodies: StepBodies) -> Steps:
    """The steps of one run's subflow, with a branch per call of each fan-out."""
    if route.subflow == "chat":
        chat = Answer("answer", "chat", partial(agents.chat_agent, config, db=sessions), lambda s: str(s.input))
        return Steps(name="chat", steps=[_step(chat.step, bodies.answer_body(chat))])
    fetch = _fan_out(
        "fetch",
        [
            _step(market_call(kind, ticker), bodies.market_data_body(kind, ticker))
            for ticker in route.tickers
            for kind in MARKET_DATA_KINDS
        ],
        bodies.ledgers,
    )
    if route.subflow == "alone":
        ticker = route.tickers[0]
        alone = Answer(
            "answer",
            analyst_call(ticker),
            partial(agents.analyst_agent, config, ticker=ticker),
            partial(analyst_prompt, ticker),
        )
        return Steps(name="alone", steps=[*fetch, _step(alone.step, bodies.answer_body(alone))])
    analysts = [_step(analyst_call(ticker), bodies.analysis_body(ticker)) for ticker in route.tickers]
    analyse = _fan_out("analyse", analysts, bodies.ledgers)
    write = Answer("write", "writer", partial(agents.writer_agent, config), partial(writer_prompt, route.tickers))
    return Steps(name="report", steps=[*fetch, *analyse, _step(write.step, bodies.answer_body(write))])


def _step(name: str, executor: StepExecutor, on_error: OnError = OnError.skip) -> Step:
    # max_retries=0: agno retries a failing step 3 times by default, which would repeat its calls.
    return Step(name=name, executor=executor, max_retries=0, human_review=HumanReview(on_error=on_error))


def _fan_out(name: str, branches: list[Step], ledgers: Ledgers) -> list[Step | Parallel]:
    """A Parallel of branches, then its join step: the end of the fan-out, or the StepFailed that stops the run."""

    def join(step_input: StepInput, run_context: RunContext) -> StepOutput:
        count = ledgers.of(run_context).join(name, step_input.get_step_output(name))
        return StepOutput(content=f"{count} calls" if name == "fetch" else f"{count} analyses")

    # agno annotates Parallel's *args as lists of steps; it takes steps (and so do its docs).
    return [Parallel(*branches, name=name), _step(join_name(name), join)]  # pyright: ignore[reportArgumentType]


# --- data between steps -----------------------------------------------------------------------------------------


def step_text(step_input: StepInput, name: str) -> str:
    """The text output of an earlier step of this run, found by name (agno searches nested steps too)."""
    content = step_input.get_step_content(name)
    if not isinstance(content, str):
        raise TypeError(f"step {name!r} has no text output: {content!r}")
    return content


def parse_description(text: str) -> prompts.Route:
    """The route step's output (`Route.describe()`) read back."""
    subflow, _, tickers = text.partition(":")
    return prompts.Route(subflow, tuple(t for t in tickers.split(",") if t))


def market_data(step_input: StepInput, ticker: str) -> dict[str, str]:
    return {kind: step_text(step_input, market_call(kind, ticker)) for kind in MARKET_DATA_KINDS}


def analyst_prompt(ticker: str, step_input: StepInput) -> str:
    return prompts.analyst_prompt(ticker, market_data(step_input, ticker))


def writer_prompt(tickers: tuple[str, ...], step_input: StepInput) -> str:
    return prompts.writer_prompt([(ticker, step_text(step_input, analyst_call(ticker))) for ticker in tickers])


# --- the answer's stream, kept as agno events -------------------------------------------------------------------


def content_events(stream: Iterator[object], call: str) -> Iterator[RunContentEvent]:
    """The agent's content events, passed on as they are (agno streams them out of the step); raise on error."""
    for event in stream:
        if agents.chunk_text(event, call) is not None:
            assert isinstance(event, RunContentEvent)
            yield event


async def acontent_events(stream: AsyncIterator[object], call: str) -> AsyncIterator[RunContentEvent]:
    async for event in stream:
        if agents.chunk_text(event, call) is not None:
            assert isinstance(event, RunContentEvent)
            yield event
