"""The loopback transport's client side: the mock's server process, and reading its log after each run.

The workflow talks to `http://127.0.0.1:<port>/llm/v1` and `/market-data/v1` through its own httpx
clients: real sockets, its connection pool and its limits. The server (scenarios/mock/loopback_server.py)
sleeps the latency, records every request and is asked for that record when a run ends, so validation
reads the same `RequestRecord`s as with respx. Ordering marks of both processes are merged on the
machine's monotonic clock.

One server serves a whole measuring process (starting a Python process per run would cost a second each):
it starts with the first loopback mock, is checked alive before every use (a dead one is replaced for the
next session; the run it died under fails validation saying so), and stops when the process exits: at
exit, and by itself when its stdin pipe closes, so it cannot outlive its client however that ends.
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import secrets
import select
import subprocess
import sys
import tempfile
import threading
import time
from types import TracebackType
from typing import IO, Any, Self

import httpx

from scenarios.mock.loopback_gate import TOKEN_HEADER, GateControl, GateSpec
from scenarios.mock.loopback_server import LLM_PREFIX, MARKET_DATA_PREFIX
from scenarios.mock.routes import MockLog, RequestRecord, merged_timeline
from scenarios.model import Scenario
from scenarios.network_guard import network_guard

START_TIMEOUT_S = 30.0
CONTROL_TIMEOUT_S = 30.0
SETTLE_S = 5.0  # how long the log waits for abandoned requests to be seen as cancelled


class LoopbackServerFailed(RuntimeError):
    """The loopback server did not start or died; the message says how and what it printed last."""


class LoopbackServer:
    """The server process: started, checked alive, asked over HTTP, stopped."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115  # its last words, kept until stop()
        command = [sys.executable, "-m", "scenarios.mock.loopback_server"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{self.token}\n".encode())
        self.process.stdin.flush()  # stdin stays open: its EOF tells the server this process has gone
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT_S)
        line = self.process.stdout.readline() if ready else b""
        try:
            self.port = int(json.loads(line)["port"])
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise LoopbackServerFailed(self.death(f"did not start within {START_TIMEOUT_S:.0f} s")) from None
        if self.control("GET", "/__mock/alive") != {"alive": True}:
            self.stop()
            raise LoopbackServerFailed(self.death("answered its liveness check wrongly"))

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def control(self, method: str, path: str, body: bytes | None = None) -> Any:
        """A control request, on a client of its own (the workflow's pool is not touched)."""
        if not self.alive():
            raise LoopbackServerFailed(self.death("is not running"))
        try:
            with httpx.Client(trust_env=False, timeout=CONTROL_TIMEOUT_S) as client:
                url = f"http://127.0.0.1:{self.port}{path}"
                response = client.request(method, url, content=body, headers={TOKEN_HEADER: self.token})
                response.raise_for_status()
                return response.json()
        except httpx.HTTPError as exc:
            time.sleep(0.1)  # let a dying server's exit status and last words land
            raise LoopbackServerFailed(self.death(f"failed a control request ({exc!r})")) from exc

    def stop(self) -> None:
        process = self.process
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()

    def death(self, what: str) -> str:
        code = self.process.poll()
        said = ""
        if not self._stderr.closed:
            self._stderr.seek(0)
            tail = self._stderr.read().decode(errors="replace").strip().splitlines()[-3:]
            said = f"; it said: {' | '.join(tail)}" if tail else ""
        status = f" (exit code {code})" if code is not None else ""
        return f"the loopback mock server {what}{status}{said}"


_shared: LoopbackServer | None = None
_shared_lock = threading.Lock()


def shared_server() -> LoopbackServer:
    """This process's server, started on first use (or again if the last one died)."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.alive():
            if _shared is None:
                atexit.register(stop_shared_server)
            _shared = LoopbackServer()
        return _shared


def stop_shared_server() -> None:
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
            _shared = None


class LoopbackMock:
    """One scenario's mock on this process's loopback server; the same surface as the respx MockServer."""

    transport = "loopback"

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.escapes: list[str] = []
        self.problems: list[str] = []  # why the last run's log is incomplete (the server died): a validation failure
        self._log = MockLog()
        self._server_cpu_s: float | None = None
        self._guard = network_guard(allow_loopback=True)
        self._payload = pickle.dumps(scenario)
        self.server: LoopbackServer | None = None
        self.market_gate: GateSpec | None = None  # armed on the server by every reset while set (memory sampling)

    @property
    def port(self) -> int:
        return self.server.port if self.server else 0

    @property
    def llm_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{LLM_PREFIX}"

    @property
    def market_data_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{MARKET_DATA_PREFIX}"

    @property
    def log(self) -> MockLog:
        """This process's marks for the current run (the server's records join them in `finish_run`)."""
        return self._log

    @property
    def pid(self) -> int | None:
        return self.server.pid if self.server else None

    def reset(self) -> None:
        """The next run: this scenario on the server (with `market_gate` armed, if set), a fresh log on both sides."""
        self._log = MockLog()
        self.problems = []
        self._server_cpu_s = None
        gate = "" if self.market_gate is None else f"?{self.market_gate.query()}"
        try:
            self._server().control("POST", f"/__mock/reset{gate}", self._payload)
        except LoopbackServerFailed as exc:  # the run goes ahead, fails, and its validation says why
            self.problems.append(str(exc))

    def finish_run(self) -> MockLog:
        """The run's whole log: the server's request records, and both processes' marks in time order."""
        try:
            served = self._server().control("GET", f"/__mock/log?settle={SETTLE_S}")
        except LoopbackServerFailed as exc:
            if str(exc) not in self.problems:
                self.problems.append(str(exc))
            return self._log
        log = MockLog(requests=[RequestRecord(**record) for record in served["requests"]])
        own = [(stamp, label) for stamp, (_, label) in zip(self._log.stamps, self._log.timeline, strict=True)]
        log.timeline = merged_timeline(own, [(stamp, label) for stamp, label in served["marks"]])
        log.pending = served["pending"]
        self._server_cpu_s = served["cpu_s"]
        return log

    def server_cpu_s(self) -> float | None:
        """The server process's CPU time over the last run (it competes with the client for the same cores)."""
        return self._server_cpu_s

    def gate_control(self, spec: GateSpec, poll_s: float = 0.5) -> GateControl:
        """A connection of its own to the server's gate routes, for the gate `spec` (see loopback_gate)."""
        server = self._server()
        return GateControl(server.port, server.token, spec, poll_s)

    def _server(self) -> LoopbackServer:
        if self.server is None:
            raise LoopbackServerFailed("the loopback mock is not entered")
        return self.server

    def __enter__(self) -> Self:
        self.escapes = self._guard.__enter__()
        try:
            self.server = shared_server()
        except BaseException:
            self._guard.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._guard.__exit__(exc_type, exc, tb)
