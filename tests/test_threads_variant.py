"""`threads` is sync all the way down: no event loop is created, ever."""

from __future__ import annotations

import asyncio

import pytest

from scenarios.runner import execute
from scenarios.validate import validate
from tests.conftest import SHIPPED


@pytest.mark.parametrize("scenario", sorted(SHIPPED))
def test_threads_creates_no_event_loop(monkeypatch: pytest.MonkeyPatch, scenario: str) -> None:
    created: list[object] = []
    original = asyncio.BaseEventLoop.__init__

    def spy(self: asyncio.BaseEventLoop) -> None:
        created.append(self)
        original(self)

    monkeypatch.setattr(asyncio.BaseEventLoop, "__init__", spy)
    validate(execute(SHIPPED[scenario], "threads"))
    assert created == []


def test_legacy_does_create_loops_per_step(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[object] = []
    original = asyncio.BaseEventLoop.__init__

    def spy(self: asyncio.BaseEventLoop) -> None:
        created.append(self)
        original(self)

    monkeypatch.setattr(asyncio.BaseEventLoop, "__init__", spy)
    validate(execute(SHIPPED["report-5"], "legacy"))
    assert len(created) == 3  # route, analyse, write: one asyncio.run() each
