"""The mock's route logic, shared by both transports: what each request is, what it is answered, and the log.

A request is identified by its call header (e.g. `quote:NVDA`, `analyst:AAPL`), logged on arrival and
settled once (answered, failed, cancelled, unmatched). What to answer is a `Reply`: a wait, then a status
and a body, a stream of timed SSE chunks, or a fault (no answer before the client's timeout, a connection
dropped mid-answer, a connection reset). The transports (respx inside the client, loopback over real
sockets) only carry replies out: the answers, latency draws and injected failures are the same code.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from scenarios import content
from scenarios.model import LLM_CALL_KINDS, MARKET_DATA_KINDS, Failure, Scenario, call_kind
from workflow.calls import CALL_HEADER

Outcome = Literal["pending", "answered", "failed", "cancelled", "unmatched"]
Fault = Literal["", "timeout", "drop", "reset"]


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
    in_flight: int = 0  # requests the mock held at this one's arrival, itself included (a count, not a time)


@dataclass
class MockLog:
    """Thread-safe record of requests, plus a timeline of numbered marks for ordering checks.

    Each mark also keeps `time.monotonic_ns()` (one clock for every process on the machine), so the marks of a
    loopback server and of its client can be merged into one order (`merged_timeline`)."""

    requests: list[RequestRecord] = field(default_factory=list)
    timeline: list[tuple[int, str]] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)  # monotonic ns of each timeline mark
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: Iterator[int] = field(default_factory=itertools.count)
    _occurrences: dict[str, int] = field(default_factory=dict)
    pending: int = 0  # requests seen and not yet settled: the calls waiting at this moment

    def mark(self, label: str) -> int:
        with self._lock:
            seq = next(self._counter)
            self.timeline.append((seq, label))
            self.stamps.append(time.monotonic_ns())
            return seq

    def seen(self, method: str, url: str, call: str) -> tuple[RequestRecord, int]:
        """Log a request on arrival; also return how many times this call was seen before."""
        with self._lock:
            self.pending += 1
            record = RequestRecord(next(self._counter), call, method, url, in_flight=self.pending)
            self.requests.append(record)
            occurrence = self._occurrences.get(call, 0)
            self._occurrences[call] = occurrence + 1
            return record, occurrence

    def settle(self, record: RequestRecord, outcome: Outcome, status: int | None = None) -> None:
        """Decide a request's fate once. A stream already handed out in full stays answered even if
        its generator is later cancelled while being finalized (asyncio.run's teardown does that)."""
        with self._lock:
            if record.outcome == "pending":
                record.outcome, record.status = outcome, status
                self.pending -= 1


def merged_timeline(*marks: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Marks of several processes, each (monotonic ns, label), as one numbered timeline in time order."""
    ordered = sorted(itertools.chain.from_iterable(marks))
    return [(seq, label) for seq, (_, label) in enumerate(ordered)]


@dataclass(frozen=True)
class Reply:
    """What to answer and when: a wait, then a body (whole or as timed chunks) or a fault."""

    wait_s: float
    status: int = 200
    body: bytes = b""
    chunks: tuple[bytes, ...] = ()
    gap_s: tuple[float, ...] = ()
    fault: Fault = ""
    content_type: str = "application/json"

    def outcome(self) -> Outcome:
        return "failed" if self.fault or self.status >= 400 else "answered"


class InFlightGate:
    """Holds market-data calls until `count` requests are in flight at once, then lets them all go.

    Lets the memory suite sample a peak of exactly K waiting calls without a fixed hold long enough
    for the slowest variant to start them all. Sync callers wait on a threading.Event; async callers
    on a future of their own loop, resolved thread-safely. After `timeout_s` a waiter goes on alone
    (the sampler then reports that the peak was never reached).

    With `release_timeout_s` the gate does not open by itself when the count arrives: it is `reached`,
    and stays shut until `open()` (the loopback server's gate, opened by its client once it has sampled
    itself); a waiter then waits up to `release_timeout_s` more for that, at most `timeout_s +
    release_timeout_s` in all. `held` is how many callers wait at the gate right now."""

    def __init__(self, count: int, timeout_s: float = 60.0, release_timeout_s: float | None = None) -> None:
        self.count, self.timeout_s, self.release_timeout_s = count, timeout_s, release_timeout_s
        self.held = 0
        self._reached = threading.Event()
        self._opened = threading.Event()
        self._lock = threading.Lock()
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def is_open(self) -> bool:
        return self._opened.is_set()

    @property
    def reached(self) -> bool:
        """`count` requests were in flight at once (the gate may still be shut, waiting for `open()`)."""
        return self._reached.is_set()

    def arrived(self, in_flight: int) -> None:
        if in_flight < self.count or self.is_open:
            return
        self._reached.set()
        if self.release_timeout_s is None:
            self.open()

    def open(self) -> None:
        """Let every waiter go, and any later caller through at once."""
        with self._lock:
            self._opened.set()
            waiters, self._async_waiters = self._async_waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # a waiter whose loop has closed has gone already
                loop.call_soon_threadsafe(_resolve, future)

    def wait(self) -> None:
        with self._holding():
            if not self._opened.wait(self.timeout_s) and self._awaits_release():
                self._opened.wait(self.release_timeout_s)

    async def await_open(self) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self.is_open:
                return
            self._async_waiters.append((loop, future))
        with self._holding():  # after a timeout, go on alone; the sampler reports the missed peak
            if not await _resolved_within(future, self.timeout_s) and self._awaits_release():
                await _resolved_within(future, self.release_timeout_s)

    def _awaits_release(self) -> bool:
        return self.release_timeout_s is not None and self.reached and not self.is_open

    @contextlib.contextmanager
    def _holding(self) -> Iterator[None]:
        with self._lock:
            self.held += 1
        try:
            yield
        finally:
            with self._lock:
                self.held -= 1


async def _resolved_within(future: asyncio.Future[None], timeout_s: float | None) -> bool:
    done, _ = await asyncio.wait({future}, timeout=timeout_s)
    return bool(done)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass(frozen=True)
class Routed:
    """A request the routes accepted: its log record and what to answer (after the gate, if any, opens)."""

    record: RequestRecord
    reply: Reply
    gate: InFlightGate | None = None


class MockRoutes:
    """The chat-completions (JSON and SSE) and market-data routes of one scenario, under two base URLs."""

    def __init__(self, scenario: Scenario, llm_base_url: str, market_data_base_url: str) -> None:
        self.scenario = scenario
        self.log = MockLog()
        self.llm_url = f"{llm_base_url}/chat/completions"
        kinds = "|".join(MARKET_DATA_KINDS)
        self.market_pattern = re.compile(
            rf"^{re.escape(market_data_base_url)}/(?P<kind>{kinds})/(?P<ticker>[A-Z0-9.]+)$"
        )
        # Called with the number of requests in flight each time one arrives (memory sampling).
        self.on_arrival: Callable[[int], None] | None = None
        self.market_gate: InFlightGate | None = None  # holds market data until K calls wait together

    def reset(self) -> None:
        self.log = MockLog()

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Routed:
        """Route one request; UnmatchedRequest (after logging it as unmatched) if no route takes it."""
        if method == "POST" and url == self.llm_url:
            return self._llm(url, headers.get(CALL_HEADER, "<no call header>"), body)
        found = self.market_pattern.match(url) if method == "GET" else None
        if found is not None:
            return self._market(url, headers, found["kind"], found["ticker"])
        record, _ = self.log.seen(method, url, headers.get(CALL_HEADER, "<unmatched>"))
        self.log.settle(record, "unmatched")
        raise UnmatchedRequest(f"no mock route for {method} {url}")

    def _llm(self, url: str, call: str, raw: bytes) -> Routed:
        record, occurrence = self.log.seen("POST", url, call)
        if call_kind(call) not in LLM_CALL_KINDS:
            return Routed(record, Reply(0.0, 400, error_body(f"unknown call {call!r}")))
        failure = self.scenario.failure_for(call)
        body = json.loads(raw)
        streaming = bool(body.get("stream"))
        if failure is not None:
            return Routed(record, failure_reply(failure, call, streaming))
        tokens = content.llm_tokens(call, body["messages"], self.scenario.tokens_for(call))
        delays = self.scenario.delays(call, occurrence)
        if streaming:
            gap_s = (0.0, *delays.gaps_s, 0.0, 0.0)  # the stop chunk and [DONE] follow the last token at once
            reply = Reply(delays.first_s, chunks=sse_chunks(tokens), gap_s=gap_s, content_type="text/event-stream")
        else:
            reply = Reply(delays.total_s, body=completion_body("".join(tokens)))
        return Routed(record, reply)

    def _market(self, url: str, headers: Mapping[str, str], kind: str, ticker: str) -> Routed:
        call = headers.get(CALL_HEADER, f"{kind}:{ticker}")
        record, occurrence = self.log.seen("GET", url, call)
        if self.on_arrival is not None:
            self.on_arrival(self.log.pending)
        gate = self.market_gate
        if gate is not None:
            gate.arrived(self.log.pending)
        if call != f"{kind}:{ticker}":
            return Routed(record, Reply(0.0, 400, error_body(f"call header {call!r} disagrees with the URL")))
        failure = self.scenario.failure_for(call)
        if failure is not None:
            return Routed(record, failure_reply(failure, call, streaming=False))
        body = json.dumps(content.market_data(kind, ticker), sort_keys=True).encode()
        return Routed(record, Reply(self.scenario.delays(call, occurrence).first_s, body=body), gate)

    def last_chunk_marks(self, record: RequestRecord, index: int, chunks: int) -> None:
        """Log what a stream's chunk `index` means as it goes out: the last content chunk is marked (C5's
        ordering check), and the stream is settled with its final chunk (the client may stop at [DONE])."""
        last = chunks - 1
        if index == last - 2:  # the last content chunk; a stop chunk and [DONE] follow
            self.log.mark(f"{record.call}:last-chunk-sent")
        if index == last:
            self.log.settle(record, "answered", 200)


def failure_reply(failure: Failure, call: str, streaming: bool) -> Reply:
    wait_s = failure.after_ms / 1000
    if failure.kind in ("timeout", "reset"):
        return Reply(wait_s, fault=failure.kind)
    if failure.kind == "drop":  # a stream breaks after its first chunk; a plain answer before its body
        chunks = sse_chunks(["partial"])[:1] if streaming else ()
        content_type = "text/event-stream" if streaming else "application/json"
        return Reply(wait_s, chunks=chunks, gap_s=(0.0,) * len(chunks), fault="drop", content_type=content_type)
    status = 500 if failure.kind == "http_500" else 429
    return Reply(wait_s, status, error_body(f"injected {failure.kind} for {call}"))


def error_body(message: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "mock_error"}}).encode()


def completion_body(text: str) -> bytes:
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


def sse_chunks(tokens: list[str]) -> tuple[bytes, ...]:
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
