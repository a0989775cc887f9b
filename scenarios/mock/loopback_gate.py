"""The loopback server's in-flight gate, as its client sees it: how to arm it, what it answers, how to open it.

Over respx the memory suite's gate (`routes.InFlightGate`) and its sampler live in the client. Over loopback
the market-data calls wait in the server, so the gate is armed there with the run's reset (`GateSpec`, as
query parameters), and a client that wants to act while all K calls wait asks the server's control routes on
a plain `http.client` connection of its own (`GateControl`; never the workflow's httpx clients):

- `GET /__mock/gate?id=..&wait_s=..`: the gate's state (`GateState`), answered once it is reached or after
  `wait_s` seconds (a long poll);
- `POST /__mock/gate/open?id=..`: opens the gate (the token is required), answering its state just before.

Standard library only: the server process imports it too.
"""

from __future__ import annotations

import http.client
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

TOKEN_HEADER = "X-Mock-Token"
GATE_PATH = "/__mock/gate"
OPEN_PATH = "/__mock/gate/open"
CONTROL_MARGIN_S = 10.0  # how much longer than its long poll a control request may take

OpenedBy = Literal["arrival", "client"]


@dataclass(frozen=True)
class GateSpec:
    """A gate for the next run's market-data calls: `count` of them wait together, then the gate opens by
    itself (`arrival`) or when the client says so (`client`, within `release_timeout_s` of the count)."""

    count: int
    opened_by: OpenedBy = "arrival"
    timeout_s: float = 60.0
    release_timeout_s: float = 30.0
    id: str = field(default_factory=lambda: secrets.token_hex(8))

    def query(self) -> str:
        """The reset's query string that arms this gate on the server."""
        fields = {"gate": self.count, "gate_id": self.id, "gate_opened_by": self.opened_by}
        return urlencode(fields | {"gate_timeout_s": self.timeout_s, "gate_release_timeout_s": self.release_timeout_s})

    @classmethod
    def from_query(cls, query: dict[str, str]) -> GateSpec | None:
        """The gate a reset's query arms, or None; ValueError for a malformed one."""
        if "gate" not in query:
            return None
        opened_by = query.get("gate_opened_by", "arrival")
        if opened_by not in ("arrival", "client"):
            raise ValueError(f"gate_opened_by must be arrival or client, not {opened_by!r}")
        return cls(
            count=int(query["gate"]),
            opened_by="client" if opened_by == "client" else "arrival",
            timeout_s=float(query.get("gate_timeout_s", "60")),
            release_timeout_s=float(query.get("gate_release_timeout_s", "30")),
            id=query.get("gate_id", ""),
        )


@dataclass(frozen=True)
class GateState:
    """The server's gate as asked: `armed` (the gate of this id holds the current run), `reached` (its count was
    in flight at once), `held` (calls waiting at it now), `in_flight` (every request the server holds now)."""

    armed: bool
    reached: bool = False
    opened: bool = False
    held: int = 0
    in_flight: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GateState:
        return cls(
            armed=bool(data["armed"]),
            reached=bool(data.get("reached", False)),
            opened=bool(data.get("opened", False)),
            held=int(data.get("held", 0)),
            in_flight=int(data.get("in_flight", 0)),
        )


class GateControlFailed(RuntimeError):
    """A gate control request failed; the message says which and how."""


class GateControl:
    """One connection to the loopback server's gate routes, for one armed gate (use as a context manager)."""

    def __init__(self, port: int, token: str, spec: GateSpec, poll_s: float = 0.5) -> None:
        self.spec, self.token, self.poll_s = spec, token, poll_s
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=poll_s + CONTROL_MARGIN_S)

    def connect(self) -> None:
        """Open the connection now (e.g. before a memory baseline) rather than on the first request."""
        self._connection.connect()

    def state(self) -> GateState:
        """The gate's state once it is reached, or after `poll_s` seconds."""
        return self._request("GET", GATE_PATH, {"id": self.spec.id, "wait_s": self.poll_s})

    def open(self) -> GateState:
        """Open the gate; its state just before (how many calls it held when the client let them go)."""
        return self._request("POST", OPEN_PATH, {"id": self.spec.id})

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> GateControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, query: dict[str, Any]) -> GateState:
        try:
            self._connection.request(method, f"{path}?{urlencode(query)}", headers={TOKEN_HEADER: self.token})
            response = self._connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._connection.close()  # the next request reconnects
            raise GateControlFailed(f"{method} {path} failed: {exc!r}") from exc
        if response.status != 200:
            raise GateControlFailed(f"{method} {path} answered {response.status}: {body[:200]!r}")
        return GateState.from_json(json.loads(body))
