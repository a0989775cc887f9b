"""Variant `legacy`: the pre-refactor shape the planning documents criticise.

A sync `run()` that fetches on a ThreadPoolExecutor but calls `asyncio.run()` per step for
the agents, and collects the async stream into a list before yielding it
(`_collect_async_responses`), so nothing streams until the whole answer is in.
Kept as a baseline; nobody should write new code like this.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

import httpx

from workflow import agents, prompts
from workflow.calls import analyst_call
from workflow.config import http_client_options
from workflow.flow import AgentFactory
from workflow.threads import ThreadsFinancialAssistant

T = TypeVar("T")


class LegacyFinancialAssistant(ThreadsFinancialAssistant):
    def route(self, message: str) -> prompts.Route:
        output = self._run_async(lambda client: agents.router_agent(self.config, client).arun(message))
        return prompts.parse_route(agents.answer_text(output, "router"))

    def analyse(self, market_data: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
        async def analyse_all(client: httpx.AsyncClient) -> list[tuple[str, str]]:
            async def one(ticker: str, data: dict[str, str]) -> tuple[str, str]:
                output = await agents.analyst_agent(self.config, client, ticker).arun(
                    prompts.analyst_prompt(ticker, data)
                )
                return ticker, agents.answer_text(output, analyst_call(ticker))

            return list(await asyncio.gather(*(one(t, d) for t, d in market_data.items())))

        return self._run_async(analyse_all)

    def answer_chunks(self, make_agent: AgentFactory, prompt: str, call: str) -> Iterator[str]:
        async def collect(client: httpx.AsyncClient) -> list[str]:
            agent = make_agent(client)
            if not self.config.streaming:
                return [agents.answer_text(await agent.arun(prompt), call)]
            return await _collect_async_responses(agents.astream_answer(agent, prompt, call))

        return iter(self._run_async(collect))

    def _run_async(self, work: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
        """asyncio.run() per step: a fresh event loop, and a fresh async client bound to it."""

        async def in_fresh_loop() -> T:
            async with httpx.AsyncClient(**http_client_options(self.config)) as client:
                return await work(client)

        return asyncio.run(in_fresh_loop())


async def _collect_async_responses(chunks: AsyncIterator[str]) -> list[str]:
    return [chunk async for chunk in chunks]
