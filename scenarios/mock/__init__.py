"""The HTTP mock of the LLM and market-data APIs: one route logic (`routes`), two transports.

- `respx` (default): answers inside the client, in place of httpx's connection pool; no socket.
- `loopback`: a real HTTP server on 127.0.0.1 in its own process; the client's pool, sockets and limits
  are exercised as in a user's process.

`open_mock(scenario, transport)` gives either, as a context manager with the same surface: `log`,
`escapes`, `reset()`, `finish_run()` and `server_cpu_s()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.mock.respx_transport import MockServer
from scenarios.mock.routes import InFlightGate, MockLog, MockRoutes, Reply, RequestRecord, UnmatchedRequest
from scenarios.model import Scenario
from scenarios.transport import (
    TRANSPORT_ENV,
    TRANSPORTS,
    Transport,
    add_transport_option,
    select_transport,
    selected_transport,
)

if TYPE_CHECKING:
    from scenarios.mock.loopback import LoopbackMock


def open_mock(scenario: Scenario, transport: Transport = "respx") -> MockServer | LoopbackMock:
    """The mock of `scenario` on `transport` (not yet entered)."""
    if transport == "loopback":
        from scenarios.mock.loopback import LoopbackMock

        return LoopbackMock(scenario)
    if transport != "respx":
        raise ValueError(f"unknown transport {transport!r}: one of {list(TRANSPORTS)}")
    return MockServer(scenario)


__all__ = [
    "TRANSPORTS",
    "TRANSPORT_ENV",
    "InFlightGate",
    "MockLog",
    "MockRoutes",
    "MockServer",
    "Reply",
    "RequestRecord",
    "Transport",
    "UnmatchedRequest",
    "add_transport_option",
    "open_mock",
    "select_transport",
    "selected_transport",
]
