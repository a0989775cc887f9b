"""The respx transport: the mock answers inside the client, in place of httpx's connection pool.

Latency is slept where the network wait would be: `time.sleep` when the request came from a sync
transport, `asyncio.sleep` when it came from inside an event loop, and between stream chunks in both.
No socket is opened, so no connection limit ever queues a request (the loopback transport has them).
Faults are raised as the httpx errors a real connection would give: ReadTimeout, RemoteProtocolError
(a connection closed mid-answer), ReadError (a connection reset).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Self

import httpx
import respx

from scenarios.mock.routes import InFlightGate, MockLog, MockRoutes, Reply, RequestRecord
from scenarios.model import Scenario
from scenarios.network_guard import network_guard
from workflow.config import MOCK_LLM_BASE_URL, MOCK_MARKET_DATA_BASE_URL


class TimedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """SSE chunks with a gap slept before each one after the first, in either calling convention."""

    def __init__(self, reply: Reply, routes: MockRoutes, record: RequestRecord, request: httpx.Request) -> None:
        self.reply, self.routes, self.record, self.request = reply, routes, record, request

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self.reply.chunks):
            if index:
                time.sleep(self.reply.gap_s[index])
            self._before(index)
            yield chunk
        self._after()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            for index, chunk in enumerate(self.reply.chunks):
                if index:
                    await asyncio.sleep(self.reply.gap_s[index])
                self._before(index)
                yield chunk
        except asyncio.CancelledError:
            self.routes.log.settle(self.record, "cancelled")
            raise
        self._after()

    def _before(self, index: int) -> None:
        if not self.reply.fault:
            self.routes.last_chunk_marks(self.record, index, len(self.reply.chunks))

    def _after(self) -> None:
        if self.reply.fault == "drop":
            self.routes.log.settle(self.record, "failed")
            raise httpx.RemoteProtocolError("mock: connection closed mid-stream", request=self.request)


class MockServer:
    """respx routes for one scenario, with a network guard; use as a context manager."""

    transport = "respx"

    def __init__(
        self,
        scenario: Scenario,
        llm_base_url: str = MOCK_LLM_BASE_URL,
        market_data_base_url: str = MOCK_MARKET_DATA_BASE_URL,
    ) -> None:
        self.scenario = scenario
        self.llm_base_url, self.market_data_base_url = llm_base_url, market_data_base_url
        self.routes = MockRoutes(scenario, llm_base_url, market_data_base_url)
        self.escapes: list[str] = []
        self.problems: list[str] = []  # the loopback mock's surface; in this process the log is always whole
        self._router = respx.mock(assert_all_mocked=True, assert_all_called=False)
        self._router.route(name="mock").mock(side_effect=self._handle)
        self._guard = network_guard()

    @property
    def log(self) -> MockLog:
        return self.routes.log

    @property
    def on_arrival(self) -> Callable[[int], None] | None:
        return self.routes.on_arrival

    @on_arrival.setter
    def on_arrival(self, hook: Callable[[int], None] | None) -> None:
        self.routes.on_arrival = hook

    @property
    def market_gate(self) -> InFlightGate | None:
        return self.routes.market_gate

    @market_gate.setter
    def market_gate(self, gate: InFlightGate | None) -> None:
        self.routes.market_gate = gate

    def reset(self) -> None:
        """Start a fresh request log (and occurrence counts) for the next run.

        respx keeps every call it served on its routes; cleared too, or a long series of
        runs would grow by those requests and responses (and look like a leak)."""
        self.routes.reset()
        self._router.reset()

    def finish_run(self) -> MockLog:
        """The log of the run just ended (respx: already complete, in this process)."""
        return self.routes.log

    def server_cpu_s(self) -> float | None:
        """The mock's own CPU time is the client's here (same process): not separable."""
        return None

    def __enter__(self) -> Self:
        self.escapes = self._guard.__enter__()
        self._router.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._router.__exit__(exc_type, exc, tb)
        finally:
            self._guard.__exit__(exc_type, exc, tb)

    # --- answering ----------------------------------------------------------------------

    def _handle(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        """Sleep the way the caller's transport would wait: in its event loop if it has one."""
        routed = self.routes.handle(request.method, str(request.url), request.headers, request.content)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if routed.gate is not None:
                routed.gate.wait()
            time.sleep(routed.reply.wait_s)
            return self._respond(request, routed.record, routed.reply)
        return self._answer_async(request, routed.record, routed.reply, routed.gate)

    async def _answer_async(
        self, request: httpx.Request, record: RequestRecord, reply: Reply, gate: InFlightGate | None
    ) -> httpx.Response:
        try:
            if gate is not None:
                await gate.await_open()
            await asyncio.sleep(reply.wait_s)
        except asyncio.CancelledError:
            self.routes.log.settle(record, "cancelled")
            raise
        return self._respond(request, record, reply)

    def _respond(self, request: httpx.Request, record: RequestRecord, reply: Reply) -> httpx.Response:
        if reply.fault == "timeout":
            self.routes.log.settle(record, "failed")
            raise httpx.ReadTimeout("mock: injected timeout", request=request)
        if reply.fault == "reset":
            self.routes.log.settle(record, "failed")
            raise httpx.ReadError("mock: [Errno 104] Connection reset by peer", request=request)
        if reply.fault == "drop" and not reply.chunks:
            self.routes.log.settle(record, "failed")
            raise httpx.RemoteProtocolError("mock: server disconnected without sending a response", request=request)
        headers = {"content-type": reply.content_type}
        if reply.chunks:
            stream = TimedStream(reply, self.routes, record, request)
            return httpx.Response(reply.status, headers=headers, stream=stream)
        self.routes.log.settle(record, reply.outcome(), reply.status)
        return httpx.Response(reply.status, headers=headers, content=reply.body)
