"""The loopback transport's server process: the mock's routes over real HTTP on 127.0.0.1.

    python -m scenarios.mock.loopback_server      (started by scenarios.mock.loopback.LoopbackMock)

Reads a secret token from stdin (one line), binds an ephemeral port on 127.0.0.1, prints `{"port": N}` on
stdout, and serves until stdin closes (its parent is gone, however it ended), SIGTERM or SIGINT. One server
serves a whole measuring process: each run's `reset` carries the scenario it mocks (a pickle, accepted only
with the token, which only the parent holds).

Built on aiohttp's server: a handler sees its connection's transport, so the server can drop a connection
mid-stream and reset one (SO_LINGER 0), and with `handler_cancellation` a handler is cancelled when its
client goes away, which is how a request the client abandoned is logged `cancelled`.

Control routes (under /__mock/): `alive`, `reset` (the next run's scenario, a fresh log and CPU baseline, and
with a gate's query parameters a gate holding its market-data calls), `log` (the run's request records and
marks, once every request has settled or `settle` seconds passed, and the server's CPU time since the reset),
`gate` and `gate/open` (the armed gate's state, and opening it: see scenarios/mock/loopback_gate.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pickle
import signal
import socket
import struct
import sys
import time
from dataclasses import asdict

from aiohttp import web

from scenarios.mock.loopback_gate import GATE_PATH, OPEN_PATH, TOKEN_HEADER, GateSpec
from scenarios.mock.routes import InFlightGate, MockRoutes, Reply, RequestRecord, UnmatchedRequest
from scenarios.model import Scenario

HOST = "127.0.0.1"
LLM_PREFIX = "/llm/v1"
MARKET_DATA_PREFIX = "/market-data/v1"
HOLD_S = 3600.0  # a `timeout` fault holds its answer until the client gives up (its handler is then cancelled)
BACKLOG = 4096  # the users sweep opens thousands of connections at once
POLL_S = 0.005  # how often a long-polling control route looks again


class LoopbackApp:
    def __init__(self, port: int, token: str) -> None:
        self.base = f"http://{HOST}:{port}"
        self.token = token
        self.routes: MockRoutes | None = None  # set by the first reset
        self.cpu_at_reset = time.process_time()
        self.gate_id = ""  # the armed gate's, if the current run has one (routes.market_gate)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_get("/__mock/alive", self.alive)
        app.router.add_post("/__mock/reset", self.reset)
        app.router.add_get("/__mock/log", self.log)
        app.router.add_get(GATE_PATH, self.gate_state)
        app.router.add_post(OPEN_PATH, self.open_gate)
        app.router.add_route("*", "/{tail:.*}", self.answer)
        return app

    async def alive(self, request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def reset(self, request: web.Request) -> web.Response:
        if request.headers.get(TOKEN_HEADER) != self.token:
            return web.json_response({"error": "a reset needs the token its parent was given"}, status=403)
        scenario = pickle.loads(await request.read())
        if not isinstance(scenario, Scenario):
            return web.json_response({"error": f"not a Scenario: {type(scenario).__name__}"}, status=400)
        try:
            spec = GateSpec.from_query(dict(request.query))
        except ValueError as exc:
            return web.json_response({"error": f"bad gate: {exc}"}, status=400)
        self.routes = MockRoutes(scenario, self.base + LLM_PREFIX, self.base + MARKET_DATA_PREFIX)
        self.routes.market_gate = None if spec is None else _gate_for(spec)
        self.gate_id = "" if spec is None else spec.id
        self.cpu_at_reset = time.process_time()
        return web.json_response({"reset": True})

    async def gate_state(self, request: web.Request) -> web.Response:
        """The gate `id`'s state once it is reached (all its calls in flight) or after `wait_s` seconds."""
        deadline = time.monotonic() + float(request.query.get("wait_s", "0"))
        gate_id = request.query.get("id", "")
        while not self._gate_reached(gate_id) and time.monotonic() < deadline:  # noqa: ASYNC110  # set by handlers
            await asyncio.sleep(POLL_S)
        return web.json_response(self._gate_state(gate_id))

    async def open_gate(self, request: web.Request) -> web.Response:
        """Open the gate `id`, answering its state just before (how many calls it held when let go)."""
        if request.headers.get(TOKEN_HEADER) != self.token:
            return web.json_response({"error": "opening the gate needs the token its parent was given"}, status=403)
        gate_id = request.query.get("id", "")
        state = self._gate_state(gate_id)
        gate = self._armed_gate(gate_id)
        if gate is not None:
            gate.open()
        return web.json_response(state)

    def _armed_gate(self, gate_id: str) -> InFlightGate | None:
        """The current run's gate if it is the one asked about."""
        if self.routes is None or not gate_id or gate_id != self.gate_id:
            return None
        return self.routes.market_gate

    def _gate_reached(self, gate_id: str) -> bool:
        gate = self._armed_gate(gate_id)
        return gate is not None and gate.reached

    def _gate_state(self, gate_id: str) -> dict[str, object]:
        gate = self._armed_gate(gate_id)
        if gate is None or self.routes is None:
            return {"armed": False}
        in_flight = self.routes.log.pending
        return {
            "armed": True,
            "reached": gate.reached,
            "opened": gate.is_open,
            "held": gate.held,
            "in_flight": in_flight,
        }

    async def log(self, request: web.Request) -> web.Response:
        """The run's log once nothing is pending (a cancelled request settles when its handler is cancelled,
        a moment after the client closed the connection) or after `settle` seconds."""
        if self.routes is None:
            return web.json_response({"error": "no run since the server started"}, status=409)
        deadline = time.monotonic() + float(request.query.get("settle", "5"))
        log = self.routes.log
        while log.pending and time.monotonic() < deadline:  # noqa: ASYNC110  # settled from other handlers' tasks
            await asyncio.sleep(0.005)
        marks = [[stamp, label] for stamp, (_, label) in zip(log.stamps, log.timeline, strict=True)]
        return web.json_response(
            {
                "requests": [asdict(record) for record in log.requests],
                "marks": marks,
                "pending": log.pending,
                "cpu_s": time.process_time() - self.cpu_at_reset,
            }
        )

    async def answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        url = self.base + request.rel_url.path
        routes = self.routes
        if routes is None:
            return web.json_response({"error": {"message": "no scenario yet", "type": "mock_error"}}, status=503)
        try:
            routed = routes.handle(request.method, url, request.headers, body)
        except UnmatchedRequest as exc:
            return web.json_response({"error": {"message": str(exc), "type": "mock_error"}}, status=404)
        record, reply, log = routed.record, routed.reply, routes.log
        holding = False  # a held `timeout` answer ends when the client gives up: that is its failure
        try:
            if routed.gate is not None:
                await routed.gate.await_open()
            await asyncio.sleep(reply.wait_s)
            if reply.fault == "timeout":
                holding = True
                await asyncio.sleep(HOLD_S)
                raise web.HTTPGatewayTimeout()
            if reply.fault == "reset":
                log.settle(record, "failed")
                _reset(request)
                raise web.HTTPInternalServerError()  # not sent: the connection is already gone
            if reply.chunks:
                return await self._stream(request, routes, record, reply)
            if reply.fault == "drop":
                log.settle(record, "failed")
                _drop(request)
                raise web.HTTPInternalServerError()  # not sent
            log.settle(record, reply.outcome(), reply.status)
            return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)
        except asyncio.CancelledError:
            log.settle(record, "failed" if holding else "cancelled")
            raise

    async def _stream(
        self, request: web.Request, routes: MockRoutes, record: RequestRecord, reply: Reply
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=reply.status, headers={"content-type": reply.content_type})
        await response.prepare(request)
        for index, chunk in enumerate(reply.chunks):
            if index:
                await asyncio.sleep(reply.gap_s[index])
            if not reply.fault:
                routes.last_chunk_marks(record, index, len(reply.chunks))
            await response.write(chunk)
        if reply.fault == "drop":
            routes.log.settle(record, "failed")
            _drop(request)
            return response
        await response.write_eof()
        return response


def _gate_for(spec: GateSpec) -> InFlightGate:
    release_timeout_s = spec.release_timeout_s if spec.opened_by == "client" else None
    return InFlightGate(spec.count, spec.timeout_s, release_timeout_s)


def _drop(request: web.Request) -> None:
    """Close the connection without finishing the answer (the client sees the peer close mid-message)."""
    if request.transport is not None:
        request.transport.close()


def _reset(request: web.Request) -> None:
    """Reset the connection: SO_LINGER 0 makes the close send a TCP RST instead of a FIN."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def serve(token: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(BACKLOG)
    port = sock.getsockname()[1]
    runner = web.AppRunner(LoopbackApp(port, token).app(), handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.SockSite(runner, sock, backlog=BACKLOG)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    loop.add_reader(sys.stdin.fileno(), stop.set)  # readable only at EOF: the parent has gone
    print(json.dumps({"port": port}), flush=True)
    try:
        await stop.wait()
    finally:
        loop.remove_reader(sys.stdin.fileno())
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runner.cleanup(), 5)


def main() -> int:
    token = sys.stdin.buffer.readline().decode().strip()
    if not token:
        print("expected a token on stdin", file=sys.stderr)
        return 2
    asyncio.run(serve(token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
