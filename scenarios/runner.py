"""Run one scenario through one workflow variant under its mock, and keep everything observed."""

from __future__ import annotations

import asyncio
import logging
import math
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from agno.utils.log import agent_logger, team_logger, workflow_logger

from scenarios.mock import MockLog, RequestRecord, Transport, open_mock, selected_transport
from scenarios.model import Scenario, serial_seconds
from workflow.config import WorkflowConfig
from workflow.events import ContentChunk, WorkflowEvent
from workflow.flow import AsyncFinancialAssistant, SyncFinancialAssistant
from workflow.variants import REGISTRY

FIRST_CHUNK_MARK = "consumer:first-chunk-received"


@dataclass(frozen=True)
class Turn:
    """One user message's run: its events, wall time, when the first content arrived, and the process's CPU time."""

    events: tuple[WorkflowEvent, ...]
    wall_s: float
    first_chunk_s: float | None
    cpu_s: float | None = None  # CPU time of the whole process (every thread) over the turn; None: not recorded


@dataclass(frozen=True)
class Execution:
    scenario: Scenario
    variant: str
    turns: tuple[Turn, ...]
    requests: tuple[RequestRecord, ...]
    timeline: tuple[tuple[int, str], ...]
    escapes: tuple[str, ...]
    timeout_s: float = math.inf  # the run's wall-clock limit (run_timeout_s); past it the run fails validation
    timed_out: bool = False  # stopped at the limit (async runs; a sync run cannot be interrupted, only judged)
    transport: Transport = "respx"
    server_cpu_s: float | None = None  # the loopback server's CPU time over the run (None on respx: same process)
    mock_problems: tuple[str, ...] = ()  # why the mock's log is incomplete (a loopback server that died)

    @property
    def wall_s(self) -> float:
        return sum(turn.wall_s for turn in self.turns)

    @property
    def cpu_s(self) -> float | None:
        """The process's CPU time over the turns (all threads: a pool's workers count); None if a turn lacks it."""
        times = [turn.cpu_s for turn in self.turns]
        return None if any(t is None for t in times) else sum(t for t in times if t is not None)


RUN_TIMEOUT_FLOOR_S = 30.0
RUN_TIMEOUT_FACTOR = 3.0


def run_timeout_s(scenario: Scenario) -> float:
    """A run's wall-clock limit: 30 s plus 3x the run with every call made one after another (no variant
    waits longer than that for the mock; the load-time limits keep it under half an hour)."""
    return RUN_TIMEOUT_FLOOR_S + RUN_TIMEOUT_FACTOR * serial_seconds(scenario)


def workflow_config(
    scenario: Scenario, session_dir: Path, session_id: str = "", endpoints: dict[str, str] | None = None
) -> WorkflowConfig:
    """The workflow's configuration for a scenario; `endpoints` (llm_base_url, market_data_base_url) where the
    mock listens when it has a real address (loopback)."""
    pool = scenario.thread_pool_size
    return WorkflowConfig(
        **(endpoints or {}),
        max_connections=scenario.max_connections,
        request_timeout_s=scenario.request_timeout_s,
        streaming=scenario.streaming,
        thread_pool_size=None if pool == "default" else scenario.fanout if pool == "fanout" else pool,
        session_db_file=session_dir / "sessions.db" if scenario.session_store == "sqlite" else None,
        session_id=session_id or f"{scenario.name}-session",
    )


class ScenarioSession:
    """The mock and a session folder for one scenario and variant, kept across many runs.

    Each `run()` (or `await arun()` for async variants, on the caller's loop) builds a fresh
    workflow, runs every turn in a new agno session, and returns what was observed.
    """

    def __init__(
        self,
        scenario: Scenario,
        variant: str,
        workflow_class: type[SyncFinancialAssistant] | type[AsyncFinancialAssistant] | None = None,
        timeout_s: float | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.scenario = scenario
        self.variant = variant
        self.transport: Transport = selected_transport() if transport is None else transport  # None: --transport's
        self.timeout_s = run_timeout_s(scenario) if timeout_s is None else timeout_s
        # KeyError for an unknown variant; a class may be given instead (e.g. a planted leak in tests).
        self.workflow_class = workflow_class or REGISTRY[variant].workflow
        self.is_async = not issubclass(self.workflow_class, SyncFinancialAssistant)
        self._stack = ExitStack()
        self._runs = 0

    def __enter__(self) -> Self:
        session_dir = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="agno-bench-"))
        self._session_dir = Path(session_dir)
        self._stack.enter_context(quiet_agno_logs())
        self.mock = self._stack.enter_context(open_mock(self.scenario, self.transport))
        self._endpoints = (
            {"llm_base_url": self.mock.llm_base_url, "market_data_base_url": self.mock.market_data_base_url}
            if self.transport == "loopback"
            else None
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def run(self) -> Execution:
        """One run of every turn; async variants get a fresh event loop (not part of the timing)."""
        if self.is_async:
            return asyncio.run(self.arun())
        workflow = self.new_workflow()
        assert isinstance(workflow, SyncFinancialAssistant)
        turns: list[Turn] = []
        _run_sync(workflow, self.scenario, self.mock.log, turns)
        return self._execution(turns)

    async def arun(self) -> Execution:
        """One run of every turn on the running loop (async variants only)."""
        workflow = self.new_workflow()
        assert isinstance(workflow, AsyncFinancialAssistant), f"{self.variant} is not an async variant"
        turns: list[Turn] = []
        try:
            async with asyncio.timeout(self.timeout_s):
                await _run_async(workflow, self.scenario, self.mock.log, turns)
        except TimeoutError:
            return self._execution(turns, timed_out=True)
        return self._execution(turns)

    def new_workflow(self) -> SyncFinancialAssistant | AsyncFinancialAssistant:
        """A fresh workflow with its own agno session, the mock's log reset (for callers running it themselves)."""
        return self.workflow_class(self._next_config())

    def _next_config(self) -> WorkflowConfig:
        self.mock.reset()
        self._runs += 1
        session_id = f"{self.scenario.name}-run-{self._runs}"
        return workflow_config(self.scenario, self._session_dir, session_id, self._endpoints)

    def _execution(self, turns: list[Turn], timed_out: bool = False) -> Execution:
        log = self.mock.finish_run()
        return Execution(
            scenario=self.scenario,
            variant=self.variant,
            turns=tuple(turns),
            requests=tuple(log.requests),
            timeline=tuple(log.timeline),
            escapes=tuple(self.mock.escapes),
            timeout_s=self.timeout_s,
            timed_out=timed_out,
            transport=self.transport,
            server_cpu_s=self.mock.server_cpu_s(),
            mock_problems=tuple(self.mock.problems),
        )


def execute(scenario: Scenario, variant: str, transport: Transport | None = None) -> Execution:
    """Run every turn of `scenario` once with `variant` under the mock; KeyError for an unknown variant."""
    with ScenarioSession(scenario, variant, transport=transport) as session:
        return session.run()


def _run_sync(workflow: SyncFinancialAssistant, scenario: Scenario, log: MockLog, turns: list[Turn]) -> None:
    with workflow:
        for message in scenario.messages:
            recorder = _TurnRecorder(log)
            for event in workflow.run(message):
                recorder.record(event)
            turns.append(recorder.finish())


async def _run_async(workflow: AsyncFinancialAssistant, scenario: Scenario, log: MockLog, turns: list[Turn]) -> None:
    async with workflow:
        for message in scenario.messages:
            recorder = _TurnRecorder(log)
            async for event in workflow.arun(message):
                recorder.record(event)
            turns.append(recorder.finish())


class _TurnRecorder:
    def __init__(self, log: MockLog) -> None:
        self.log = log
        self.events: list[WorkflowEvent] = []
        self.first_chunk_s: float | None = None
        self.cpu_started = time.process_time()
        self.started = time.perf_counter()

    def record(self, event: WorkflowEvent) -> None:
        if isinstance(event, ContentChunk) and self.first_chunk_s is None:
            self.first_chunk_s = time.perf_counter() - self.started
            self.log.mark(FIRST_CHUNK_MARK)
        self.events.append(event)

    def finish(self) -> Turn:
        wall_s = time.perf_counter() - self.started
        return Turn(tuple(self.events), wall_s, self.first_chunk_s, time.process_time() - self.cpu_started)


@contextmanager
def quiet_agno_logs() -> Iterator[None]:
    """agno logs injected failures at ERROR; the run's RunError event already carries them.

    A filter on all three of agno's loggers (its Workflow logs failed steps on the workflow logger), not a
    level: agno resets their levels to INFO on every Agent and Workflow run. Unfiltered, agno writes to stdout
    when it is not a terminal, where a measuring worker's JSON lines go."""
    loggers = (agent_logger, team_logger, workflow_logger)
    for logger in loggers:
        logger.addFilter(_critical_only)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(_critical_only)


def _critical_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.CRITICAL
