"""Nothing reaches the network: respx answers httpx, the guard refuses everything else."""

from __future__ import annotations

import os
import socket

import httpx
import pytest

from scenarios.mock import MockServer
from scenarios.network_guard import NetworkEscape, network_guard
from scenarios.runner import execute
from scenarios.validate import ValidationFailed, validate
from tests.conftest import make_scenario


def test_the_guard_refuses_and_records_a_raw_socket() -> None:
    with network_guard() as attempts:
        with pytest.raises(NetworkEscape), socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.connect(("192.0.2.1", 443))
        with pytest.raises(NetworkEscape):
            socket.getaddrinfo("api.openai.com", 443)
    assert len(attempts) == 2


def test_the_guard_is_removed_afterwards() -> None:
    with network_guard():
        pass
    assert socket.socket.connect.__qualname__ == "socket.connect"


def test_agno_telemetry_is_off() -> None:
    import workflow  # noqa: F401  (importing the package is what turns it off)

    assert os.environ["AGNO_TELEMETRY"] == "false"


@pytest.mark.parametrize("variant", ["threads", "taskgroup"])
def test_a_whole_run_makes_no_network_attempt(variant: str) -> None:
    execution = execute(make_scenario(), variant)
    validate(execution)
    assert execution.escapes == ()


def test_an_unmocked_request_is_an_error_and_fails_validation() -> None:
    with MockServer(make_scenario()) as mock:
        with pytest.raises(Exception, match="no mock route"):
            httpx.get("http://elsewhere.invalid/x")
        with pytest.raises(NetworkEscape):
            socket.create_connection(("198.51.100.7", 80), timeout=1)
    assert [r.outcome for r in mock.log.requests] == ["unmatched"]
    assert mock.escapes


def test_validation_rejects_a_run_with_an_escape(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    execution = execute(make_scenario(), "threads")
    with pytest.raises(ValidationFailed, match="escaped the mock"):
        validate(replace(execution, escapes=("connect ('192.0.2.1', 443)",)))
