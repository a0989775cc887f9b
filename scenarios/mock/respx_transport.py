"""The HTTP mock: respx routes for chat completions (JSON and SSE) and the market-data API.

Latency is slept where the network wait would be: `time.sleep` when the request came
from a sync transport, `asyncio.sleep` when it came from inside an event loop, and between
stream chunks in both. Every request is logged with what became of it, so a run can be
checked against what its scenario implies.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self

import httpx
import respx

from scenarios import content
from scenarios.model import LLM_CALL_KINDS, MARKET_DATA_KINDS, Failure, Scenario, call_kind
from scenarios.network_guard import network_guard
from workflow.calls import CALL_HEADER
from workflow.config import MOCK_LLM_BASE_URL, MOCK_MARKET_DATA_BASE_URL

Outcome = Literal["pending", "answered", "failed", "cancelled", "unmatched"]


class UnmatchedRequest(Exception):
    """A request reached the mock but matched none of its routes."""


@dataclass
class RequestRecord:
    seq: int
    call: str
    method: str
    url: str
    outcome: Outcome = "pending"
    status: int | None = None


@dataclass
class MockLog:
    """Thread-safe record of requests, plus a timeline of numbered marks for ordering checks."""

    requests: list[RequestRecord] = field(default_factory=list)
    timeline: list[tuple[int, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: Iterator[int] = field(default_factory=itertools.count)
    _occurrences: dict[str, int] = field(default_factory=dict)
    pending: int = 0  # requests seen and not yet settled: the calls waiting at this moment

    def mark(self, label: str) -> int:
        with self._lock:
            seq = next(self._counter)
            self.timeline.append((seq, label))
            return seq

    def seen(self, request: httpx.Request, call: str) -> tuple[RequestRecord, int]:
        """Log a request on arrival; also return how many times this call was seen before."""
        with self._lock:
            record = RequestRecord(next(self._counter), call, request.method, str(request.url))
            self.requests.append(record)
            occurrence = self._occurrences.get(call, 0)
            self._occurrences[call] = occurrence + 1
            self.pending += 1
            return record, occurrence

    def settle(self, record: RequestRecord, outcome: Outcome, status: int | None = None) -> None:
        """Decide a request's fate once. A stream already handed out in full stays answered even if
        its generator is later cancelled while being finalized (asyncio.run's teardown does that)."""
        with self._lock:
            if record.outcome == "pending":
                record.outcome, record.status = outcome, status
                self.pending -= 1


@dataclass(frozen=True)
class Reply:
    """What to answer and when: a wait, then a body (whole or as timed chunks) or a timeout."""

    wait_s: float
    status: int = 200
    body: bytes = b""
    chunks: tuple[bytes, ...] = ()
    gap_s: tuple[float, ...] = ()
    timeout: bool = False
    content_type: str = "application/json"


class InFlightGate:
    """Holds market-data calls until `count` requests are in flight at once, then lets them all go.

    Lets the memory suite sample a peak of exactly K waiting calls without a fixed hold long enough
    for the slowest variant to start them all. Sync callers wait on a threading.Event; async callers
    on a future of their own loop, resolved thread-safely. After `timeout_s` a waiter goes on alone
    (the sampler then reports that the peak was never reached)."""

    def __init__(self, count: int, timeout_s: float = 60.0) -> None:
        self.count, self.timeout_s = count, timeout_s
        self._opened = threading.Event()
        self._lock = threading.Lock()
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def is_open(self) -> bool:
        return self._opened.is_set()

    def arrived(self, in_flight: int) -> None:
        if in_flight < self.count or self.is_open:
            return
        with self._lock:
            self._opened.set()
            waiters, self._async_waiters = self._async_waiters, []
        for loop, future in waiters:
            loop.call_soon_threadsafe(_resolve, future)

    def wait(self) -> None:
        self._opened.wait(self.timeout_s)

    async def await_open(self) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self.is_open:
                return
            self._async_waiters.append((loop, future))
        with contextlib.suppress(TimeoutError):  # go on alone; the sampler reports the missed peak
            await asyncio.wait_for(future, self.timeout_s)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class TimedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """SSE chunks with a gap slept before each one after the first, in either calling convention."""

    def __init__(self, reply: Reply, log: MockLog, record: RequestRecord) -> None:
        self.reply, self.log, self.record = reply, log, record

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self.reply.chunks):
            if index:
                time.sleep(self.reply.gap_s[index])
            self._before(index)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            for index, chunk in enumerate(self.reply.chunks):
                if index:
                    await asyncio.sleep(self.reply.gap_s[index])
                self._before(index)
                yield chunk
        except asyncio.CancelledError:
            self.log.settle(self.record, "cancelled")
            raise

    def _before(self, index: int) -> None:
        last = len(self.reply.chunks) - 1
        if index == last - 2:  # the last content chunk; a stop chunk and [DONE] follow
            self.log.mark(f"{self.record.call}:last-chunk-sent")
        if index == last:  # the client may stop reading at [DONE], so settle as it goes out
            self.log.settle(self.record, "answered", 200)


class MockServer:
    """respx routes for one scenario, with a network guard; use as a context manager."""

    def __init__(
        self,
        scenario: Scenario,
        llm_base_url: str = MOCK_LLM_BASE_URL,
        market_data_base_url: str = MOCK_MARKET_DATA_BASE_URL,
    ) -> None:
        self.scenario = scenario
        self.log = MockLog()
        self.escapes: list[str] = []
        # Called with the number of requests in flight each time one arrives (memory sampling).
        self.on_arrival: Callable[[int], None] | None = None
        self.market_gate: InFlightGate | None = None  # holds market data until K calls wait together
        self._router = respx.mock(assert_all_mocked=True, assert_all_called=False)
        self._router.post(f"{llm_base_url}/chat/completions", name="llm").mock(side_effect=self._llm)
        kinds = "|".join(MARKET_DATA_KINDS)
        market_pattern = rf"^{market_data_base_url}/(?P<kind>{kinds})/(?P<ticker>[A-Z0-9.]+)$"
        self._router.get(url__regex=market_pattern, name="market").mock(side_effect=self._market)
        self._router.route(name="unmatched").mock(side_effect=self._unmatched)
        self._guard = network_guard()

    def reset(self) -> None:
        """Start a fresh request log (and occurrence counts) for the next run.

        respx keeps every call it served on its routes; cleared too, or a long series of
        runs would grow by those requests and responses (and look like a leak)."""
        self.log = MockLog()
        self._router.reset()

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

    # --- routes -------------------------------------------------------------------------

    def _llm(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        call = request.headers.get(CALL_HEADER, "<no call header>")
        record, occurrence = self.log.seen(request, call)
        body = json.loads(request.content)
        if call_kind(call) not in LLM_CALL_KINDS:
            return self._answer(request, record, Reply(0.0, 400, _error_body(f"unknown call {call!r}")))
        failure = self.scenario.failure_for(call)
        if failure is not None:
            return self._answer(request, record, _failure_reply(failure, call))
        tokens = content.llm_tokens(call, body["messages"], self.scenario.tokens_for(call))
        delays = self.scenario.delays(call, occurrence)
        if body.get("stream"):
            gap_s = (0.0, *delays.gaps_s, 0.0, 0.0)  # the stop chunk and [DONE] follow the last token at once
            reply = Reply(delays.first_s, chunks=_sse_chunks(tokens), gap_s=gap_s, content_type="text/event-stream")
        else:
            reply = Reply(delays.total_s, body=_completion_body("".join(tokens)))
        return self._answer(request, record, reply)

    def _market(self, request: httpx.Request, kind: str, ticker: str) -> httpx.Response | Awaitable[httpx.Response]:
        call = request.headers.get(CALL_HEADER, f"{kind}:{ticker}")
        record, occurrence = self.log.seen(request, call)
        if self.on_arrival is not None:
            self.on_arrival(self.log.pending)
        gate = self.market_gate
        if gate is not None:
            gate.arrived(self.log.pending)
        if call != f"{kind}:{ticker}":
            return self._answer(
                request, record, Reply(0.0, 400, _error_body(f"call header {call!r} disagrees with the URL"))
            )
        failure = self.scenario.failure_for(call)
        if failure is not None:
            return self._answer(request, record, _failure_reply(failure, call))
        body = json.dumps(content.market_data(kind, ticker), sort_keys=True).encode()
        reply = Reply(self.scenario.delays(call, occurrence).first_s, body=body)
        return self._answer(request, record, reply, gate)

    def _unmatched(self, request: httpx.Request) -> httpx.Response:
        record, _ = self.log.seen(request, request.headers.get(CALL_HEADER, "<unmatched>"))
        self.log.settle(record, "unmatched")
        raise UnmatchedRequest(f"no mock route for {request.method} {request.url}")

    # --- answering ----------------------------------------------------------------------

    def _answer(
        self, request: httpx.Request, record: RequestRecord, reply: Reply, gate: InFlightGate | None = None
    ) -> httpx.Response | Awaitable[httpx.Response]:
        """Sleep the way the caller's transport would wait: in its event loop if it has one."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if gate is not None:
                gate.wait()
            time.sleep(reply.wait_s)
            return self._respond(request, record, reply)
        return self._answer_async(request, record, reply, gate)

    async def _answer_async(
        self, request: httpx.Request, record: RequestRecord, reply: Reply, gate: InFlightGate | None
    ) -> httpx.Response:
        try:
            if gate is not None:
                await gate.await_open()
            await asyncio.sleep(reply.wait_s)
        except asyncio.CancelledError:
            self.log.settle(record, "cancelled")
            raise
        return self._respond(request, record, reply)

    def _respond(self, request: httpx.Request, record: RequestRecord, reply: Reply) -> httpx.Response:
        if reply.timeout:
            self.log.settle(record, "failed")
            raise httpx.ReadTimeout("mock: injected timeout", request=request)
        headers = {"content-type": reply.content_type}
        if reply.chunks:
            return httpx.Response(reply.status, headers=headers, stream=TimedStream(reply, self.log, record))
        self.log.settle(record, "answered" if reply.status < 400 else "failed", reply.status)
        return httpx.Response(reply.status, headers=headers, content=reply.body)


def _failure_reply(failure: Failure, call: str) -> Reply:
    wait_s = failure.after_ms / 1000
    if failure.kind == "timeout":
        return Reply(wait_s, timeout=True)
    status = 500 if failure.kind == "http_500" else 429
    return Reply(wait_s, status, _error_body(f"injected {failure.kind} for {call}"))


def _error_body(message: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "mock_error"}}).encode()


def _completion_body(text: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-mock",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }
    ).encode()


def _sse_chunks(tokens: list[str]) -> tuple[bytes, ...]:
    def event(delta: dict[str, str], finish: str | None) -> bytes:
        chunk = {
            "id": "chatcmpl-mock",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk)}\n\n".encode()

    return (*(event({"content": t}, None) for t in tokens), event({}, "stop"), b"data: [DONE]\n\n")
