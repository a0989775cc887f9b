"""Run one scenario through one workflow variant under its mock, and keep everything observed."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from agno.utils.log import agent_logger

from scenarios.mock import MockLog, MockServer, RequestRecord
from scenarios.model import Scenario
from workflow import VARIANTS, AsyncFinancialAssistant, SyncFinancialAssistant
from workflow.config import WorkflowConfig
from workflow.events import ContentChunk, WorkflowEvent

FIRST_CHUNK_MARK = "consumer:first-chunk-received"


@dataclass(frozen=True)
class Turn:
    """One user message's run: its events, wall time, and when the first content arrived."""

    events: tuple[WorkflowEvent, ...]
    wall_s: float
    first_chunk_s: float | None


@dataclass(frozen=True)
class Execution:
    scenario: Scenario
    variant: str
    turns: tuple[Turn, ...]
    requests: tuple[RequestRecord, ...]
    timeline: tuple[tuple[int, str], ...]
    escapes: tuple[str, ...]

    @property
    def wall_s(self) -> float:
        return sum(turn.wall_s for turn in self.turns)


def workflow_config(scenario: Scenario, session_dir: Path) -> WorkflowConfig:
    pool = scenario.thread_pool_size
    return WorkflowConfig(
        streaming=scenario.streaming,
        thread_pool_size=None if pool == "default" else scenario.fanout if pool == "fanout" else pool,
        session_db_file=session_dir / "sessions.db" if scenario.session_store == "sqlite" else None,
        session_id=f"{scenario.name}-session",
    )


def execute(scenario: Scenario, variant: str) -> Execution:
    """Run every turn of `scenario` with `variant` under the mock; raises KeyError for an unknown variant."""
    workflow_class = VARIANTS[variant]
    with (
        tempfile.TemporaryDirectory(prefix="agno-bench-") as session_dir,
        quiet_agno_logs(),
        MockServer(scenario) as mock,
    ):
        config = workflow_config(scenario, Path(session_dir))
        if issubclass(workflow_class, SyncFinancialAssistant):
            turns = _run_sync(workflow_class(config), scenario, mock.log)
        else:
            turns = asyncio.run(_run_async(workflow_class(config), scenario, mock.log))
    return Execution(
        scenario=scenario,
        variant=variant,
        turns=tuple(turns),
        requests=tuple(mock.log.requests),
        timeline=tuple(mock.log.timeline),
        escapes=tuple(mock.escapes),
    )


def _run_sync(workflow: SyncFinancialAssistant, scenario: Scenario, log: MockLog) -> list[Turn]:
    turns = []
    with workflow:
        for message in scenario.messages:
            recorder = _TurnRecorder(log)
            for event in workflow.run(message):
                recorder.record(event)
            turns.append(recorder.finish())
    return turns


async def _run_async(workflow: AsyncFinancialAssistant, scenario: Scenario, log: MockLog) -> list[Turn]:
    turns = []
    async with workflow:
        for message in scenario.messages:
            recorder = _TurnRecorder(log)
            async for event in workflow.arun(message):
                recorder.record(event)
            turns.append(recorder.finish())
    return turns


class _TurnRecorder:
    def __init__(self, log: MockLog) -> None:
        self.log = log
        self.events: list[WorkflowEvent] = []
        self.first_chunk_s: float | None = None
        self.started = time.perf_counter()

    def record(self, event: WorkflowEvent) -> None:
        if isinstance(event, ContentChunk) and self.first_chunk_s is None:
            self.first_chunk_s = time.perf_counter() - self.started
            self.log.mark(FIRST_CHUNK_MARK)
        self.events.append(event)

    def finish(self) -> Turn:
        return Turn(tuple(self.events), time.perf_counter() - self.started, self.first_chunk_s)


@contextmanager
def quiet_agno_logs() -> Iterator[None]:
    """agno logs injected failures at ERROR; the run's RunError event already carries them."""
    previous = agent_logger.level
    agent_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        agent_logger.setLevel(previous)
