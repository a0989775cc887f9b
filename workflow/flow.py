"""The order of work, written once per calling convention: sync `run()` and async `arun()`.

route -> chat answer | fetch (4 market-data calls per ticker) -> alone answer
                                                          | analyse (1 agent per ticker) -> write
A variant subclasses one of the two and supplies `fan_out`: how a step's independent jobs run.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from functools import partial
from types import TracebackType
from typing import Self, TypeVar

import httpx
from agno.agent import Agent

from workflow import agents, prompts
from workflow.calls import MARKET_DATA_KINDS, CallFailed, StepFailed, analyst_call, market_call
from workflow.config import WorkflowConfig, http_client_options
from workflow.events import (
    CallFailure,
    ContentChunk,
    RunCompleted,
    RunError,
    RunStarted,
    StepCompleted,
    StepStarted,
    WorkflowEvent,
)
from workflow.steps import Job, close_session_db, market_data_by_ticker, new_run_id, open_session_db
from workflow.tools import MarketDataTools

T = TypeVar("T")
AgentFactory = Callable[[agents.HttpClient], Agent]


def _run_error(run_id: str, step: str, error: CallFailed | StepFailed) -> RunError:
    if isinstance(error, StepFailed):
        return RunError(run_id, error.step, error.failures, error.completed, error.cancelled, error.orphaned)
    return RunError(run_id, step, (CallFailure(error.call, error.error),))


class SyncFinancialAssistant(ABC):
    """The workflow as a sync generator of events. No event loop is involved unless a subclass adds one."""

    def __init__(self, config: WorkflowConfig) -> None:
        self.config = config
        self.http = httpx.Client(**http_client_options(config))
        self.tools = MarketDataTools(config.market_data_base_url, self.http)
        self.sessions = open_session_db(config)

    @abstractmethod
    def fan_out(self, step: str, jobs: Sequence[Job[T]]) -> list[T]:
        """Run independent jobs; results in job order, or raise StepFailed."""

    def run(self, message: str) -> Iterator[WorkflowEvent]:
        run_id, step = new_run_id(), "route"
        yield RunStarted(run_id, message)
        try:
            yield StepStarted(run_id, step)
            route = self.route(message)
            yield StepCompleted(run_id, step, route.describe())
            parts: list[str] = []
            if route.subflow == "chat":
                step = "answer"
                chat = partial(agents.chat_agent, self.config, db=self.sessions)
                yield from self._answer(run_id, step, chat, message, "chat", parts)
            else:
                step = "fetch"
                yield StepStarted(run_id, step)
                market_data = self.fetch(route.tickers)
                yield StepCompleted(run_id, step, f"{len(route.tickers) * len(MARKET_DATA_KINDS)} calls")
                if route.subflow == "alone":
                    step, ticker = "answer", route.tickers[0]
                    analyst = partial(agents.analyst_agent, self.config, ticker=ticker)
                    prompt = prompts.analyst_prompt(ticker, market_data[ticker])
                    yield from self._answer(run_id, step, analyst, prompt, analyst_call(ticker), parts)
                else:
                    step = "analyse"
                    yield StepStarted(run_id, step)
                    analyses = self.analyse(market_data)
                    yield StepCompleted(run_id, step, f"{len(analyses)} analyses")
                    step = "write"
                    writer = partial(agents.writer_agent, self.config)
                    yield from self._answer(run_id, step, writer, prompts.writer_prompt(analyses), "writer", parts)
            yield RunCompleted(run_id, route.subflow, "".join(parts))
        except (CallFailed, StepFailed) as error:
            yield _run_error(run_id, step, error)

    def route(self, message: str) -> prompts.Route:
        router = agents.router_agent(self.config, self.http)
        return prompts.parse_route(agents.answer_text(router.run(message), "router"))

    def fetch(self, tickers: Sequence[str]) -> dict[str, dict[str, str]]:
        jobs = [
            Job(market_call(kind, ticker), partial(self.tools.get_market_data, kind, ticker))
            for ticker in tickers
            for kind in MARKET_DATA_KINDS
        ]
        return market_data_by_ticker(tickers, self.fan_out("fetch", jobs))

    def analyse(self, market_data: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
        jobs = [
            Job(analyst_call(ticker), partial(self._analysis, ticker, data)) for ticker, data in market_data.items()
        ]
        return self.fan_out("analyse", jobs)

    def answer_chunks(self, make_agent: AgentFactory, prompt: str, call: str) -> Iterator[str]:
        agent = make_agent(self.http)
        if self.config.streaming:
            return agents.stream_answer(agent, prompt, call)
        return iter([agents.answer_text(agent.run(prompt), call)])

    def _analysis(self, ticker: str, data: dict[str, str]) -> tuple[str, str]:
        analyst = agents.analyst_agent(self.config, self.http, ticker)
        return ticker, agents.answer_text(analyst.run(prompts.analyst_prompt(ticker, data)), analyst_call(ticker))

    def _answer(
        self, run_id: str, step: str, make_agent: AgentFactory, prompt: str, call: str, parts: list[str]
    ) -> Iterator[WorkflowEvent]:
        yield StepStarted(run_id, step)
        for text in self.answer_chunks(make_agent, prompt, call):
            parts.append(text)
            yield ContentChunk(run_id, text)
        yield StepCompleted(run_id, step)

    def close(self) -> None:
        self.http.close()
        close_session_db(self.sessions)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncFinancialAssistant(ABC):
    """The workflow as an async generator of events, with agno's `arun` and async tools."""

    def __init__(self, config: WorkflowConfig) -> None:
        self.config = config
        self.http = httpx.AsyncClient(**http_client_options(config))
        self.tools = MarketDataTools(config.market_data_base_url, self.http)
        self.sessions = open_session_db(config)

    @abstractmethod
    async def fan_out(self, step: str, jobs: Sequence[Job[Awaitable[T]]]) -> list[T]:
        """Await independent jobs; results in job order, or raise StepFailed."""

    async def arun(self, message: str) -> AsyncIterator[WorkflowEvent]:
        run_id, step = new_run_id(), "route"
        yield RunStarted(run_id, message)
        try:
            yield StepStarted(run_id, step)
            route = await self.route(message)
            yield StepCompleted(run_id, step, route.describe())
            parts: list[str] = []
            if route.subflow == "chat":
                step = "answer"
                chat = partial(agents.chat_agent, self.config, db=self.sessions)
                async for event in self._answer(run_id, step, chat, message, "chat", parts):
                    yield event
            else:
                step = "fetch"
                yield StepStarted(run_id, step)
                market_data = await self.fetch(route.tickers)
                yield StepCompleted(run_id, step, f"{len(route.tickers) * len(MARKET_DATA_KINDS)} calls")
                if route.subflow == "alone":
                    step, ticker = "answer", route.tickers[0]
                    analyst = partial(agents.analyst_agent, self.config, ticker=ticker)
                    prompt = prompts.analyst_prompt(ticker, market_data[ticker])
                    async for event in self._answer(run_id, step, analyst, prompt, analyst_call(ticker), parts):
                        yield event
                else:
                    step = "analyse"
                    yield StepStarted(run_id, step)
                    analyses = await self.analyse(market_data)
                    yield StepCompleted(run_id, step, f"{len(analyses)} analyses")
                    step = "write"
                    writer = partial(agents.writer_agent, self.config)
                    prompt = prompts.writer_prompt(analyses)
                    async for event in self._answer(run_id, step, writer, prompt, "writer", parts):
                        yield event
            yield RunCompleted(run_id, route.subflow, "".join(parts))
        except (CallFailed, StepFailed) as error:
            yield _run_error(run_id, step, error)

    async def route(self, message: str) -> prompts.Route:
        router = agents.router_agent(self.config, self.http)
        return prompts.parse_route(agents.answer_text(await router.arun(message), "router"))

    async def fetch(self, tickers: Sequence[str]) -> dict[str, dict[str, str]]:
        jobs = [
            Job(market_call(kind, ticker), partial(self.tools.aget_market_data, kind, ticker))
            for ticker in tickers
            for kind in MARKET_DATA_KINDS
        ]
        return market_data_by_ticker(tickers, await self.fan_out("fetch", jobs))

    async def analyse(self, market_data: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
        jobs = [
            Job(analyst_call(ticker), partial(self._analysis, ticker, data)) for ticker, data in market_data.items()
        ]
        return await self.fan_out("analyse", jobs)

    async def _analysis(self, ticker: str, data: dict[str, str]) -> tuple[str, str]:
        analyst = agents.analyst_agent(self.config, self.http, ticker)
        output = await analyst.arun(prompts.analyst_prompt(ticker, data))
        return ticker, agents.answer_text(output, analyst_call(ticker))

    async def _answer(
        self, run_id: str, step: str, make_agent: AgentFactory, prompt: str, call: str, parts: list[str]
    ) -> AsyncIterator[WorkflowEvent]:
        yield StepStarted(run_id, step)
        agent = make_agent(self.http)
        if self.config.streaming:
            chunks: AsyncIterator[str] = agents.astream_answer(agent, prompt, call)
        else:
            chunks = _single(agents.answer_text(await agent.arun(prompt), call))
        async for text in chunks:
            parts.append(text)
            yield ContentChunk(run_id, text)
        yield StepCompleted(run_id, step)

    async def aclose(self) -> None:
        await self.http.aclose()
        close_session_db(self.sessions)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


async def _single(text: str) -> AsyncIterator[str]:
    yield text
