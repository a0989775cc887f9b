"""The agno agents of the workflow, and the two ways their answers are read (whole, streamed)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from agno.agent import Agent
from agno.db.base import BaseDb
from agno.models.openai import OpenAIChat
from agno.run.agent import RunContentEvent, RunErrorEvent, RunOutput
from agno.run.base import RunStatus

from workflow import prompts
from workflow.calls import CALL_HEADER, CallFailed, analyst_call
from workflow.config import WorkflowConfig

HttpClient = httpx.Client | httpx.AsyncClient


def _model(config: WorkflowConfig, http_client: HttpClient, call: str) -> OpenAIChat:
    # max_retries=0: an injected 429/500 must surface as the failure it is, not be retried away.
    return OpenAIChat(
        id=config.model_id,
        base_url=config.llm_base_url,
        api_key=config.api_key,
        max_retries=0,
        timeout=config.request_timeout_s,
        http_client=http_client,
        default_headers={CALL_HEADER: call},
    )


def _agent(config: WorkflowConfig, http_client: HttpClient, call: str, instructions: str, **extra: Any) -> Agent:
    return Agent(
        name=call,
        model=_model(config, http_client, call),
        instructions=instructions,
        telemetry=False,
        **extra,
    )


def router_agent(config: WorkflowConfig, http_client: HttpClient) -> Agent:
    return _agent(config, http_client, "router", prompts.ROUTER_INSTRUCTIONS)


def analyst_agent(config: WorkflowConfig, http_client: HttpClient, ticker: str) -> Agent:
    return _agent(config, http_client, analyst_call(ticker), prompts.ANALYST_INSTRUCTIONS)


def writer_agent(config: WorkflowConfig, http_client: HttpClient) -> Agent:
    return _agent(config, http_client, "writer", prompts.WRITER_INSTRUCTIONS)


def chat_agent(config: WorkflowConfig, http_client: HttpClient, db: BaseDb) -> Agent:
    return _agent(
        config,
        http_client,
        "chat",
        prompts.CHAT_INSTRUCTIONS,
        db=db,
        session_id=config.session_id,
        add_history_to_context=True,
        num_history_runs=20,
    )


def answer_text(output: RunOutput, call: str) -> str:
    """The content of a finished agent run; agno reports model errors as a status, we raise."""
    if output.status == RunStatus.error or not isinstance(output.content, str):
        raise CallFailed(call, str(output.content or output.status))
    return output.content


def chunk_text(event: object, call: str) -> str | None:
    """The text of one streamed agno event, None for events without content; raise on error."""
    if isinstance(event, RunErrorEvent):
        raise CallFailed(call, str(event.content))
    if isinstance(event, RunContentEvent) and isinstance(event.content, str) and event.content:
        return event.content
    return None


def stream_answer(agent: Agent, prompt: str, call: str) -> Iterator[str]:
    for event in agent.run(prompt, stream=True):
        if (text := chunk_text(event, call)) is not None:
            yield text


async def astream_answer(agent: Agent, prompt: str, call: str) -> AsyncIterator[str]:
    async for event in agent.arun(prompt, stream=True):
        if (text := chunk_text(event, call)) is not None:
            yield text
