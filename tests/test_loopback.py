"""The loopback transport: the same mock over real sockets, in a server process of its own.

Each test states a behaviour a user relies on: the same answers, events and calls as respx; the client's
connection limit queueing requests in waves (read from the server's log, not from timings); wire faults
becoming one structured RunError; and no server process left behind, however the client ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from benchmarks.equivalence import differences, observe
from benchmarks.matrix import EVERYDAY_VARIANTS, with_fanout, with_latency
from scenarios import shipped_scenarios
from scenarios.mock import selected_transport
from scenarios.mock.loopback import LoopbackMock
from scenarios.mock.loopback_gate import GateControl, GateControlFailed, GateSpec, GateState
from scenarios.model import MARKET_DATA_KINDS, Distribution, Failure, LatencyModel, Scenario
from scenarios.network_guard import NetworkEscape, network_guard
from scenarios.runner import Execution, ScenarioSession, execute
from scenarios.validate import ValidationFailed, validate
from workflow.events import RunError

ROOT = Path(__file__).resolve().parent.parent


def _zero(name: str) -> Scenario:
    return with_latency(shipped_scenarios()[name], "zero")


@pytest.mark.parametrize("name", ["report-5", "chat-3-turns", "report-5-failure", "alone"])
def test_every_variant_does_the_same_over_loopback_as_over_respx(name: str) -> None:
    scenario = _zero(name)
    for variant in EVERYDAY_VARIANTS:
        over_respx = observe(execute(scenario, variant, "respx"))
        over_loopback = observe(execute(scenario, variant, "loopback"))
        assert over_loopback["validated"], (variant, over_loopback["validation_problems"])
        assert differences(over_loopback, over_respx) == [], variant
        if not scenario.failures:  # with a failure, which siblings were cancelled in time may differ
            assert over_loopback["outcomes"] == over_respx["outcomes"], variant


def test_a_loopback_run_records_its_transport_and_the_servers_cpu() -> None:
    execution = execute(_zero("report-5"), "taskgroup", "loopback")
    assert execution.transport == "loopback"
    assert execution.server_cpu_s is not None and execution.server_cpu_s > 0
    respx_run = execute(_zero("report-5"), "taskgroup", "respx")
    assert respx_run.transport == "respx" and respx_run.server_cpu_s is None


def test_streaming_order_is_read_from_one_timeline_across_both_processes() -> None:
    """C5 over the wire: taskgroup's first chunk reaches the consumer before the writer's last chunk is sent."""
    execution = execute(shipped_scenarios()["report-5"], "taskgroup", "loopback")
    labels = [label for _, label in execution.timeline]
    assert labels.index("consumer:first-chunk-received") < labels.index("writer:last-chunk-sent")


def test_the_connection_limit_queues_requests_in_waves() -> None:
    """40 market-data calls at once through a pool of 10 connections: the server never has more than 10 in
    flight, and it has exactly 10 at some moment (counted from its arrival order and outcomes, not timings)."""
    fanout = with_fanout(shipped_scenarios()["report-5"], 10)
    held = {  # every market-data answer waits 300 ms: all 40 are in flight at once unless the pool says no
        kind: LatencyModel(ttft=Distribution(value=300.0)) if kind in MARKET_DATA_KINDS else model
        for kind, model in with_latency(fanout, "zero").latency.items()
    }
    scenario = replace(fanout, latency=held, max_connections=10)
    with ScenarioSession(scenario, "taskgroup", transport="loopback") as session:
        execution = session.run()
        validate(execution)
    market = [r for r in execution.requests if r.call.split(":")[0] in MARKET_DATA_KINDS]
    assert len(market) == 40
    assert max(r.in_flight for r in market) == 10
    with ScenarioSession(replace(scenario, max_connections=100), "taskgroup", transport="loopback") as session:
        unlimited = session.run()
    assert max(r.in_flight for r in unlimited.requests) == 40


@pytest.mark.parametrize("kind", ["drop", "reset", "timeout"])
@pytest.mark.parametrize("variant", EVERYDAY_VARIANTS)
def test_a_wire_fault_becomes_one_run_error_naming_the_call(kind: str, variant: str) -> None:
    base = _zero("report-5")
    for call in ("quote:NVDA", "analyst:NVDA"):
        scenario = replace(base, failures=(Failure(call, kind, 0.0),), request_timeout_s=1.0)  # type: ignore[arg-type]
        execution = execute(scenario, variant, "loopback")
        validate(execution)
        errors = [e for turn in execution.turns for e in turn.events if isinstance(e, RunError)]
        assert len(errors) == 1 and call in [f.call for f in errors[0].failures], (call, errors)


@pytest.mark.parametrize("kind", ["drop", "reset", "timeout"])
def test_respx_gives_the_same_fault_kinds(kind: str) -> None:
    for call in ("quote:NVDA", "analyst:NVDA"):
        scenario = replace(_zero("report-5"), failures=(Failure(call, kind, 0.0),))  # type: ignore[arg-type]
        execution = execute(scenario, "gather", "respx")
        validate(execution)
        errors = [e for turn in execution.turns for e in turn.events if isinstance(e, RunError)]
        assert len(errors) == 1 and call in [f.call for f in errors[0].failures], (call, errors)


def test_a_server_that_dies_fails_validation_with_that_reason() -> None:
    with ScenarioSession(_zero("alone"), "gather", transport="loopback") as session:
        validate(session.run())
        assert isinstance(session.mock, LoopbackMock) and session.mock.pid is not None
        os.kill(session.mock.pid, signal.SIGKILL)
        assert _gone(session.mock.pid)
        with pytest.raises(ValidationFailed, match="loopback mock server"):
            validate(session.run())


def _gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.05)
    return False


CLIENT = """
import os, signal, sys, time
from benchmarks.matrix import with_latency
from scenarios import shipped_scenarios
from scenarios.runner import ScenarioSession
with ScenarioSession(with_latency(shipped_scenarios()["alone"], "zero"), "gather", transport="loopback") as session:
    session.run()
    print(session.mock.pid, flush=True)
    if sys.argv[1] == "fail":
        raise RuntimeError("a failed run")
    if sys.argv[1] == "wait":
        time.sleep(60)
"""


@pytest.mark.parametrize(
    ("how", "signum"), [("exit", None), ("fail", None), ("wait", signal.SIGINT), ("wait", signal.SIGKILL)]
)
def test_no_server_outlives_its_client(how: str, signum: signal.Signals | None) -> None:
    """After a normal exit, a failed run, Ctrl-C or a kill of the measuring process, its server is gone."""
    process = subprocess.Popen(
        [sys.executable, "-c", CLIENT, how], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    pid = int(process.stdout.readline())
    if signum is not None:
        os.kill(process.pid, signum)
    process.wait(timeout=30)
    assert _gone(pid), f"the loopback server {pid} outlived its client ({how}, {signum})"


def test_one_server_serves_a_process_and_a_dead_one_is_replaced() -> None:
    with ScenarioSession(_zero("alone"), "gather", transport="loopback") as first:
        validate(first.run())
    with ScenarioSession(_zero("report-5"), "taskgroup", transport="loopback") as second:
        validate(second.run())
    assert isinstance(first.mock, LoopbackMock) and isinstance(second.mock, LoopbackMock)
    pid = second.mock.pid
    assert pid is not None and first.mock.pid == pid
    os.kill(pid, signal.SIGKILL)
    assert _gone(pid)
    with ScenarioSession(_zero("alone"), "gather", transport="loopback") as third:
        validate(third.run())
    assert isinstance(third.mock, LoopbackMock) and third.mock.pid != pid


def test_the_guard_lets_loopback_through_and_nothing_else() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        with network_guard(allow_loopback=True) as attempts:
            with socket.create_connection(listener.getsockname(), timeout=5):
                pass
            with pytest.raises(NetworkEscape), socket.socket() as outside:
                outside.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed
        assert attempts == ["connect ('192.0.2.1', 80)"]
        with network_guard() as attempts, pytest.raises(NetworkEscape), socket.socket() as local:
            local.connect(listener.getsockname())
    finally:
        listener.close()


def test_the_transport_comes_from_the_measurements_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGNO_BENCH_TRANSPORT", "loopback")
    assert selected_transport() == "loopback"
    assert execute(_zero("alone"), "gather").transport == "loopback"
    monkeypatch.setenv("AGNO_BENCH_TRANSPORT", "carrier-pigeon")
    with pytest.raises(ValueError, match="carrier-pigeon"):
        selected_transport()


def test_a_latency_model_is_slept_on_the_server() -> None:
    """A 200 ms market-data wait is served over loopback: the run takes at least the critical path."""
    scenario = _zero("alone")
    slow = {
        kind: LatencyModel(ttft=Distribution(value=200.0)) if kind == "quote" else model
        for kind, model in scenario.latency.items()
    }
    execution = execute(replace(scenario, latency=slow), "gather", "loopback")
    validate(execution)
    assert execution.wall_s >= 0.2


def test_a_gate_armed_with_the_reset_holds_the_calls_until_its_client_opens_it() -> None:
    """8 market-data calls wait in the server until the client opens the gate (the memory suite's peak); the
    gate answers about its own id only, and only the token opens it."""
    spec = GateSpec(8, "client", timeout_s=30.0, release_timeout_s=30.0)
    runs: list[Execution] = []
    with ScenarioSession(with_fanout(_zero("report-5"), 2), "taskgroup", transport="loopback") as session:
        mock = session.mock
        assert isinstance(mock, LoopbackMock)
        mock.market_gate = spec
        runner = threading.Thread(target=lambda: runs.append(session.run()))
        runner.start()
        with mock.gate_control(spec, poll_s=1.0) as control:
            state = _reached(control)
            assert state == GateState(armed=True, reached=True, opened=False, held=8, in_flight=8)
            with mock.gate_control(replace(spec, id="another"), poll_s=0.0) as other:
                assert other.state() == GateState(armed=False)
            with (
                GateControl(mock.port, "not-the-token", spec) as stranger,
                pytest.raises(GateControlFailed, match="403"),
            ):
                stranger.open()
            assert control.open().held == 8
        runner.join(30)
    (execution,) = runs
    validate(execution)
    assert max(r.in_flight for r in execution.requests) == 8


def _reached(control: GateControl, within_s: float = 30.0) -> GateState:
    deadline = time.monotonic() + within_s
    state = control.state()
    while not state.reached and time.monotonic() < deadline:
        state = control.state()
    return state
