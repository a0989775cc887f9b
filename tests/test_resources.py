"""No thread, task, open connection, file descriptor or temporary file outlives a run."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from pathlib import Path

import psutil
import pytest

from scenarios import shipped_scenarios
from scenarios.mock import MockServer
from scenarios.runner import execute, workflow_config
from tests.conftest import VARIANT_NAMES
from workflow.gather import GatherFinancialAssistant
from workflow.taskgroup import TaskGroupFinancialAssistant

SCENARIOS = ("chat-3-turns", "report-5", "report-5-failure")


def _snapshot() -> tuple[set[str], int, int]:
    process = psutil.Process()
    threads = {t.name for t in threading.enumerate()}
    return threads, len(process.net_connections(kind="all")), process.num_fds()


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_nothing_is_left_behind(scenario: str, variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    execute(shipped_scenarios()[scenario], variant)  # first run: lazy imports open what they keep for good
    private_temp = tmp_path / "temp"
    private_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_temp))
    threads, connections, fds = _snapshot()
    execute(shipped_scenarios()[scenario], variant)
    assert {t.name for t in threading.enumerate()} == threads, "threads left running"
    after = _snapshot()
    assert after[1] == connections, "sockets left open"
    assert after[2] == fds, "file descriptors left open"
    assert list(private_temp.iterdir()) == [], "temporary files left behind"


@pytest.mark.parametrize("workflow_class", [GatherFinancialAssistant, TaskGroupFinancialAssistant])
def test_async_variants_leave_no_task_and_close_their_clients(workflow_class: type, tmp_path: Path) -> None:
    scenario = shipped_scenarios()["report-5-failure"]

    async def run_and_look() -> tuple[set[asyncio.Task[object]], bool]:
        async with workflow_class(workflow_config(scenario, tmp_path)) as workflow:
            async for _ in workflow.arun(scenario.messages[0]):
                pass
        return asyncio.all_tasks() - {asyncio.current_task()}, workflow.http.is_closed  # type: ignore[return-value]

    with MockServer(scenario):
        leftover, closed = asyncio.run(run_and_look())
    assert leftover == set()
    assert closed
