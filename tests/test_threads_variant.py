"""`threads` is sync all the way down: no event loop is created, ever. `legacy` makes one per agent step."""

from __future__ import annotations

import asyncio

import pytest

from scenarios.runner import execute
from scenarios.validate import validate
from tests.conftest import SHIPPED


@pytest.fixture
def created_loops(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every event loop constructed while the test runs."""
    created: list[object] = []
    original = asyncio.BaseEventLoop.__init__

    def spy(self: asyncio.BaseEventLoop) -> None:
        created.append(self)
        original(self)

    monkeypatch.setattr(asyncio.BaseEventLoop, "__init__", spy)
    return created


@pytest.mark.parametrize("scenario", sorted(SHIPPED))
def test_threads_creates_no_event_loop(created_loops: list[object], scenario: str) -> None:
    validate(execute(SHIPPED[scenario], "threads"))
    assert created_loops == []


def test_legacy_does_create_loops_per_step(created_loops: list[object]) -> None:
    validate(execute(SHIPPED["report-5"], "legacy"))
    assert len(created_loops) == 3  # route, analyse, write: one asyncio.run() each
