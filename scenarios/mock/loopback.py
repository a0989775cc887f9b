"""The loopback transport's client side: starts the mock's server process, and reads its log after each run.

The workflow talks to `http://127.0.0.1:<port>/llm/v1` and `/market-data/v1` through its own httpx
clients: real sockets, its connection pool and its limits. The server (scenarios/mock/loopback_server.py)
sleeps the latency, records every request and is asked for that record when a run ends, so validation
reads the same `RequestRecord`s as with respx. Ordering marks of both processes are merged on the
machine's monotonic clock. The server is checked alive before it is used, stopped (SIGTERM, then SIGKILL)
when the mock closes, and exits by itself when its stdin closes, so it cannot outlive this process.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import time
from types import TracebackType
from typing import IO, Any, Self

import httpx

from scenarios.mock.loopback_server import LLM_PREFIX, MARKET_DATA_PREFIX
from scenarios.mock.routes import MockLog, RequestRecord, merged_timeline
from scenarios.model import Scenario
from scenarios.network_guard import network_guard

START_TIMEOUT_S = 30.0
CONTROL_TIMEOUT_S = 30.0
SETTLE_S = 5.0  # how long the log waits for abandoned requests to be seen as cancelled


class LoopbackServerFailed(RuntimeError):
    """The loopback server did not start or died; the message says how and what it printed last."""


class LoopbackMock:
    """A loopback server for one scenario; the same surface as the respx MockServer."""

    transport = "loopback"

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.escapes: list[str] = []
        self.problems: list[str] = []  # why the last run's log is incomplete (the server died): a validation failure
        self._log = MockLog()
        self._server_cpu_s: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._guard = network_guard(allow_loopback=True)
        self.port = 0

    # --- the surface the runner uses ---------------------------------------------------------

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
        return self._process.pid if self._process else None

    def reset(self) -> None:
        self._log = MockLog()
        self.problems = []
        self._server_cpu_s = None
        try:
            self._control("POST", "/__mock/reset")
        except LoopbackServerFailed as exc:  # the run goes ahead, fails, and its validation says why
            self.problems.append(str(exc))

    def finish_run(self) -> MockLog:
        """The run's whole log: the server's request records, and both processes' marks in time order."""
        try:
            served = self._control("GET", f"/__mock/log?settle={SETTLE_S}")
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

    # --- the server's life ---------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.escapes = self._guard.__enter__()
        try:
            self._start()
        except BaseException:
            self._stop()
            self._guard.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._stop()
        finally:
            self._guard.__exit__(exc_type, exc, tb)

    def _start(self) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  # the server's stderr for its life; closed in _stop
        command = [sys.executable, "-m", "scenarios.mock.loopback_server"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        payload = pickle.dumps(self.scenario)
        self._process.stdin.write(struct.pack(">Q", len(payload)) + payload)
        self._process.stdin.flush()  # stdin stays open: its EOF tells the server this process has gone
        ready, _, _ = select.select([self._process.stdout], [], [], START_TIMEOUT_S)
        line = self._process.stdout.readline() if ready else b""
        try:
            self.port = int(json.loads(line)["port"])
        except (ValueError, KeyError, TypeError):
            raise LoopbackServerFailed(self._death(f"did not start within {START_TIMEOUT_S:.0f} s")) from None
        if self._control("GET", "/__mock/alive") != {"alive": True}:
            raise LoopbackServerFailed(self._death("answered its liveness check wrongly"))

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
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
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _control(self, method: str, path: str) -> Any:
        """A control request to the server, on a client of its own (the workflow's pool is not touched)."""
        if self._process is None or self._process.poll() is not None:
            raise LoopbackServerFailed(self._death("is not running"))
        try:
            with httpx.Client(trust_env=False, timeout=CONTROL_TIMEOUT_S) as client:
                response = client.request(method, f"http://127.0.0.1:{self.port}{path}")
                response.raise_for_status()
                return response.json()
        except httpx.HTTPError as exc:
            time.sleep(0.1)  # let a dying server's exit status and last words land
            raise LoopbackServerFailed(self._death(f"failed a control request ({exc!r})")) from exc

    def _death(self, what: str) -> str:
        code = self._process.poll() if self._process else None
        said = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            tail = self._stderr.read().decode(errors="replace").strip().splitlines()[-3:]
            said = f"; it said: {' | '.join(tail)}" if tail else ""
        status = f" (exit code {code})" if code is not None else ""
        return f"the loopback mock server {what}{status}{said}"
