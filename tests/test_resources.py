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
from scenarios.runner import ScenarioSession, execute, workflow_config
from tests.conftest import VARIANT_NAMES
from workflow.gather import GatherFinancialAssistant
from workflow.taskgroup import TaskGroupFinancialAssistant
from workflow.threads import ThreadsFinancialAssistant

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
    before = _snapshot()
    execute(shipped_scenarios()[scenario], variant)
    assert _left_behind(before, private_temp) == []


def _left_behind(before: tuple[set[str], int, int], temp: Path) -> list[str]:
    """What a run left that was not there before it: the resource checks, in words."""
    threads, connections, fds = before
    after = _snapshot()
    found = [f"thread {name} left running" for name in sorted(after[0] - threads)]
    found += ["sockets left open"] if after[1] > connections else []
    found += [f"{after[2] - fds} file descriptor(s) left open"] if after[2] > fds else []
    return found + [f"temporary file {path.name} left behind" for path in temp.iterdir()]


class _Leaky(ThreadsFinancialAssistant):
    """A planted leak: a thread that outlives the run, an open file, a temporary file nobody removes."""

    def close(self) -> None:
        super().close()
        self.stop = threading.Event()
        threading.Thread(target=self.stop.wait, name="planted-leak", daemon=True).start()
        self.file = tempfile.NamedTemporaryFile(delete=False)  # noqa: SIM115  # the leak is the point


def test_the_resource_checks_catch_a_planted_leak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = shipped_scenarios()["report-5"]
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = _snapshot()
    with ScenarioSession(scenario, "threads", workflow_class=_Leaky) as session:
        workflow = session.new_workflow()
        assert isinstance(workflow, _Leaky)
        workflow.close()
    try:
        found = _left_behind(before, tmp_path)
    finally:
        workflow.stop.set()
        workflow.file.close()
    assert "thread planted-leak left running" in found
    assert "1 file descriptor(s) left open" in found
    assert any(item.startswith("temporary file ") for item in found)


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
