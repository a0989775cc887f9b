"""Memory suite logic on synthetic data, the peak sampler, and a planted leak noticed as a slope."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from benchmarks import memory_peak
from benchmarks.memory import _process_sample, leak_slope, marginal_per_operation, plan, scenario_for, summarise
from benchmarks.memory_peak import held_at_peak
from scenarios.mock import InFlightGate
from scenarios.mock.loopback import LoopbackMock
from scenarios.mock.loopback_gate import GateState
from scenarios.model import DEFAULT_MAX_CONNECTIONS
from scenarios.runner import ScenarioSession
from scenarios.validate import validate
from workflow.events import WorkflowEvent
from workflow.taskgroup import TaskGroupFinancialAssistant

ROOT = Path(__file__).resolve().parent.parent


def test_marginal_memory_is_the_slope_over_operations() -> None:
    rng = random.Random(7)
    samples = [
        {"operations": k, "rss": 5_000_000 + 32 * 1024 * k + rng.randint(-50_000, 50_000)}
        for k in (12, 100, 1000)
        for _ in range(3)
    ]
    estimate = marginal_per_operation(samples, "rss")
    assert estimate["bytes_per_operation"] == pytest.approx(32 * 1024, rel=0.05)
    assert estimate["low"] is not None and estimate["high"] is not None
    assert estimate["low"] < 32 * 1024 < estimate["high"]


def test_one_level_gives_no_slope() -> None:
    assert marginal_per_operation([{"operations": 12, "rss": 1}] * 3, "rss")["bytes_per_operation"] is None


def test_summary_keeps_process_facts_and_every_metric() -> None:
    records = [
        {"kind": "process", "report25_peak_rss_bytes": 1, "threading_stack_size": 0},
        *({"kind": "sample", "operations": k, "rss": k, "uss": k, "vms": 8 * k, "threads": k,
           "tracemalloc_peak": k, "memray_peak": k, "memray_allocations": k} for k in (12, 100, 1000)),
    ]  # fmt: skip
    summary = summarise(records)
    assert summary["process"]["report25_peak_rss_bytes"] == 1
    assert summary["marginal"]["vms"]["bytes_per_operation"] == pytest.approx(8)
    assert summary["threads_per_operation"]["bytes_per_operation"] == pytest.approx(1)


def test_the_scenario_holds_at_least_k_calls_at_once() -> None:
    for k in (10, 100, 1000):
        scenario = scenario_for(k)
        assert scenario.fanout >= k and scenario.fanout - k < 4
        assert scenario.thread_pool_size == "fanout"


@pytest.mark.parametrize("variant", ["threads", "taskgroup"])
def test_the_sampler_fires_when_all_calls_wait_together(variant: str) -> None:
    scenario = scenario_for(12, "respx")
    with ScenarioSession(scenario, variant, transport="respx") as session:
        pending: list[int] = []
        with held_at_peak(session, 12, lambda: pending.append(session.mock.log.pending)) as peak:
            execution = asyncio.run(session.arun()) if session.is_async else session.run()
    validate(execution)
    assert pending == [12] and peak.reached
    assert scenario.max_connections == DEFAULT_MAX_CONNECTIONS  # respx has no pool: its scenario is as it was


@pytest.mark.parametrize("variant", ["threads", "taskgroup"])
def test_over_loopback_the_sample_is_taken_while_the_server_holds_all_k(variant: str) -> None:
    """The hook runs in this process while the server's gate holds all K calls (asked on a connection of its own),
    the gate opens after it, and the scenario's connection limit lets all K be in flight."""
    scenario = scenario_for(8, "loopback")
    seen: list[GateState] = []
    with ScenarioSession(scenario, variant, transport="loopback") as session:
        mock = session.mock
        assert isinstance(mock, LoopbackMock)

        def on_peak() -> None:
            assert mock.market_gate is not None
            with mock.gate_control(mock.market_gate) as control:
                seen.append(control.state())

        with held_at_peak(session, 8, on_peak) as peak:
            execution = asyncio.run(session.arun()) if session.is_async else session.run()
        assert mock.market_gate is None  # the next run is not gated
    validate(execution)
    assert seen == [GateState(armed=True, reached=True, opened=False, held=8, in_flight=8)]
    assert peak.reached and max(r.in_flight for r in execution.requests) == 8
    assert scenario.max_connections >= scenario.fanout


def test_a_loopback_process_sample_also_records_the_servers_growth() -> None:
    with ScenarioSession(scenario_for(8, "loopback"), "taskgroup", transport="loopback") as session:
        sample = _process_sample(session, 8)
    assert set(sample) == {"rss", "uss", "vms", "threads", "server_rss", "server_uss"}
    with ScenarioSession(scenario_for(8, "respx"), "taskgroup", transport="respx") as session:
        assert set(_process_sample(session, 8)) == {"rss", "uss", "vms", "threads"}


def test_a_peak_never_reached_over_loopback_stops_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked for more calls than the run makes, the server's gate gives up and the sample says so."""
    monkeypatch.setattr(memory_peak, "PEAK_TIMEOUT_S", 0.2)
    session = ScenarioSession(scenario_for(8, "loopback"), "taskgroup", transport="loopback")
    with session, pytest.raises(RuntimeError, match="never had 9 calls in flight"):
        _process_sample(session, 9)


def test_a_loopback_worker_samples_at_the_peak_and_leaves_no_server() -> None:
    command = [sys.executable, "-m", "benchmarks.memory", "--worker", "--variant", "taskgroup", "--operations", "8"]
    worker = subprocess.Popen(
        [*command, "--transport", "loopback"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    servers: set[int] = set()
    while worker.poll() is None:
        with contextlib.suppress(psutil.NoSuchProcess):
            servers |= {child.pid for child in psutil.Process(worker.pid).children() if _is_server(child)}
        time.sleep(0.02)
    out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    record = json.loads(out.splitlines()[-1])
    assert record["operations"] == 8 and "server_rss" in record
    assert len(servers) == 1 and all(_gone(pid) for pid in servers)


def _is_server(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return "scenarios.mock.loopback_server" in process.cmdline()
    return False


def _gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.05)
    return False


def test_the_gate_releases_sync_and_async_waiters_together_once_enough_arrive() -> None:
    gate = InFlightGate(3, timeout_s=30)
    released: list[str] = []

    def sync_waiter() -> None:
        gate.wait()
        released.append("thread")

    async def main() -> None:
        thread = threading.Thread(target=sync_waiter)
        thread.start()
        waiter = asyncio.create_task(gate.await_open())
        await asyncio.sleep(0.05)
        assert not released and not waiter.done()  # 2 of 3 have not opened it
        gate.arrived(2)
        await asyncio.sleep(0.05)
        assert not released and not waiter.done()
        gate.arrived(3)
        await asyncio.wait_for(waiter, 5)
        await asyncio.to_thread(thread.join, 5)

    asyncio.run(main())
    assert released == ["thread"]
    asyncio.run(gate.await_open())  # an open gate lets a latecomer through at once


def test_a_gate_never_opened_lets_waiters_go_after_its_timeout() -> None:
    gate = InFlightGate(1000, timeout_s=0.05)
    gate.wait()
    asyncio.run(gate.await_open())
    assert not gate.is_open  # the sampler sees the peak was never reached and says so


def test_a_gate_its_client_opens_holds_its_calls_past_the_count_until_opened() -> None:
    """The loopback server's gate: at the count it is reached, not open; its waiters stay (past `timeout_s`)
    until `open()`, sync and async alike."""
    gate = InFlightGate(2, timeout_s=0.05, release_timeout_s=30)
    released: list[str] = []

    def sync_waiter() -> None:
        gate.wait()
        released.append("thread")

    async def main() -> None:
        thread = threading.Thread(target=sync_waiter)
        thread.start()
        waiter = asyncio.create_task(gate.await_open())
        gate.arrived(2)
        await asyncio.sleep(0.2)  # past timeout_s: the count arrived, so they wait for open()
        assert gate.reached and not gate.is_open and gate.held == 2
        assert not released and not waiter.done()
        gate.open()
        await asyncio.wait_for(waiter, 5)
        await asyncio.to_thread(thread.join, 5)

    asyncio.run(main())
    assert released == ["thread"] and gate.held == 0


def test_a_gate_its_client_never_opens_lets_waiters_go_after_its_release_timeout() -> None:
    gate = InFlightGate(1, timeout_s=0.01, release_timeout_s=0.05)
    gate.arrived(1)
    gate.wait()
    asyncio.run(gate.await_open())
    assert gate.reached and not gate.is_open


def test_every_sample_is_its_own_process_and_each_variant_has_a_report25_run(tmp_path: Path) -> None:
    jobs = plan(["threads", "taskgroup"], [10, 100], samples=2, capture_dir=tmp_path)
    assert sorted((job.variant, job.operations) for job in jobs if job.operations is None) == [
        ("taskgroup", None),
        ("threads", None),
    ]
    sampled = [(job.variant, job.operations) for job in jobs if job.operations is not None]
    assert sorted(sampled) == sorted([(v, k) for v in ("threads", "taskgroup") for k in (10, 100)] * 2)
    captures = [job.capture for job in jobs if job.capture is not None]
    assert len(set(captures)) == len(captures)  # no two workers write the same memray capture
    quick = plan(["threads", "taskgroup"], [10, 100], samples=2, capture_dir=tmp_path, extras=False)
    assert all(job.operations is not None and job.capture is None for job in quick) and len(quick) == len(sampled)
    assert "--capture" not in quick[0].command() and "--operations" in quick[0].command()


def test_a_users_scenario_file_gets_one_peak_run_per_variant(tmp_path: Path) -> None:
    own = str(tmp_path / "mine.toml")
    jobs = plan(["threads", "taskgroup"], [10], samples=1, capture_dir=tmp_path, extras=False, scenario_files=[own])
    runs = [job for job in jobs if job.scenario_file == own]
    assert sorted(job.variant for job in runs) == ["taskgroup", "threads"]
    assert runs[0].command()[-2:] == ["--scenario-file", own] and "--operations" not in runs[0].command()
    summary = summarise([{"kind": "own", "scenario": "mine", "peak_rss_bytes": 90 * 2**20}])
    assert summary["own_peak_rss_bytes"] == {"mine": 90 * 2**20}


def test_a_users_scenario_peak_is_measured_from_a_real_run(tmp_path: Path) -> None:
    from benchmarks.memory import own_worker

    own = tmp_path / "mine.toml"
    own.write_text('subflow = "report"\nmessage = "Report on {tickers}."\ntickers = ["AAA", "BBB"]\n')
    record = own_worker("taskgroup", str(own))
    assert record["scenario"] == "mine" and record["peak_rss_bytes"] > 10 * 2**20


class LeakyTaskGroup(TaskGroupFinancialAssistant):
    """A planted leak: keeps a reference to every response it ever produced."""

    kept: list[WorkflowEvent] = []  # noqa: RUF012  (the class-level list is the leak)

    async def arun(self, message: str):  # type: ignore[override]
        async for event in super().arun(message):
            self.kept.append(event)
            yield event


def _series(workflow_class: type) -> dict[str, float | None]:
    with ScenarioSession(scenario_for(4), "taskgroup", workflow_class=workflow_class) as session:
        return leak_slope(lambda: validate(asyncio.run(session.arun())), runs=10)


def test_a_planted_leak_shows_as_a_positive_run_after_run_slope() -> None:
    clean = _series(TaskGroupFinancialAssistant)
    try:
        leak = _series(LeakyTaskGroup)
    finally:
        LeakyTaskGroup.kept.clear()
    assert leak["low"] is not None and clean["high"] is not None
    assert leak["low"] > 0  # the whole interval above zero
    # Under the mock the clean workflow itself grows a little per run (respx and regex pattern caches,
    # about 1-2 KiB in a short series), so the leak must also stand clear of the same variant without it.
    assert leak["low"] > clean["high"]


def test_an_interrupted_memory_suite_leaves_no_capture_file_folder_or_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks import memory
    from benchmarks.environment import python_tag

    def interrupted(jobs: list[memory.Job], console: object) -> dict[str, list[dict[str, object]]]:
        for job in jobs[:3]:
            if job.capture is not None:
                job.capture.write_bytes(b"memray capture, half written")
        raise KeyboardInterrupt  # Ctrl-C while workers run

    monkeypatch.setattr(memory, "run_jobs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        memory.main(["--bench-profile", "default", "--run-dir", str(tmp_path), "--variant", "threads"])
    assert not (tmp_path / "memray" / python_tag()).exists()
    assert not (tmp_path / "raw" / f"{python_tag()}.memory.json").exists()
