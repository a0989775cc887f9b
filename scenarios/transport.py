"""Which transport carries the mock's traffic: the one option every suite and worker shares.

Standard library only: the noxfile checks `--transport` before any environment (with respx or agno) exists.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, Literal

Transport = Literal["respx", "loopback"]
TRANSPORTS: tuple[Transport, ...] = ("respx", "loopback")
# The transport of a whole measurement: `--transport` sets it in the driver, and every suite and worker
# process it starts inherits it, so one option reaches every run (and each result records it).
TRANSPORT_ENV = "AGNO_BENCH_TRANSPORT"


def selected_transport() -> Transport:
    """The transport `--transport` chose for this measurement (respx unless set); ValueError naming a bad one."""
    value = os.environ.get(TRANSPORT_ENV, "respx")
    for transport in TRANSPORTS:
        if value == transport:
            return transport
    raise ValueError(f"{TRANSPORT_ENV}={value!r} is not a transport: one of {', '.join(TRANSPORTS)}")


def select_transport(transport: str) -> None:
    """Make `transport` the one every run of this process and of the processes it starts uses."""
    os.environ[TRANSPORT_ENV] = transport
    selected_transport()  # a bad name fails here, where it was given


class _SelectTransport(argparse.Action):
    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any, option: str | None = None
    ) -> None:
        select_transport(str(value))
        setattr(namespace, self.dest, value)


def add_transport_option(parser: argparse.ArgumentParser) -> None:
    """`--transport respx|loopback` on a suite's command line: it applies to every run the suite starts."""
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        action=_SelectTransport,
        help="how the mock is reached: respx (default: inside the client) or loopback (an HTTP server on "
        "127.0.0.1 in its own process); every run and worker started from here uses it",
    )
