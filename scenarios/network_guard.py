"""Refuse and record any attempt to open an internet socket or resolve a name.

respx answers requests made through httpx; this guard catches everything else
(another HTTP library, a raw socket, a telemetry thread) so an escape is an error, not a leak.
The loopback transport's server listens on 127.0.0.1: with `allow_loopback`, connects to 127.0.0.0/8
and ::1 go through, and nothing else does.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", None}


class NetworkEscape(ConnectionRefusedError):
    """A request tried to leave the mock."""


def is_loopback(address: Any) -> bool:
    """An (host, port[, ...]) address on 127.0.0.0/8 or ::1, given as a literal IP (no name is resolved)."""
    try:
        return ipaddress.ip_address(address[0]).is_loopback
    except (ValueError, TypeError, IndexError):
        return False


@contextmanager
def network_guard(allow_loopback: bool = False) -> Iterator[list[str]]:
    """Within the block, internet connects and DNS lookups raise NetworkEscape (connects to a loopback
    address too unless `allow_loopback`); yields the attempts."""
    attempts: list[str] = []
    lock = threading.Lock()
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def refuse(what: str) -> NetworkEscape:
        with lock:
            attempts.append(what)
        return NetworkEscape(f"network access blocked during a benchmark run: {what}")

    def refused(sock: socket.socket, address: Any) -> bool:
        return sock.family in (socket.AF_INET, socket.AF_INET6) and not (allow_loopback and is_loopback(address))

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if refused(self, address):
            raise refuse(f"connect {address!r}")
        return original_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        if refused(self, address):
            raise refuse(f"connect {address!r}")
        return original_connect_ex(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in _LOCAL_NAMES:
            raise refuse(f"resolve {host!r}")
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = guarded_getaddrinfo
    try:
        yield attempts
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = original_getaddrinfo
