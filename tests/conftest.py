from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scenarios import Scenario, shipped_scenarios
from scenarios.model import parse_scenario
from scenarios.runner import Execution, execute
from workflow.variants import REGISTRY

VARIANT_NAMES = tuple(REGISTRY)
STREAMING_VARIANTS = tuple(name for name, variant in REGISTRY.items() if variant.streams)
SHIPPED = shipped_scenarios()


@pytest.fixture(scope="session")
def executed() -> Callable[[str, str], Execution]:
    """Each shipped scenario runs once per variant per test session, then is shared."""
    cache: dict[tuple[str, str], Execution] = {}

    def get(scenario: str, variant: str) -> Execution:
        if (scenario, variant) not in cache:
            cache[scenario, variant] = execute(SHIPPED[scenario], variant)
        return cache[scenario, variant]

    return get


def make_scenario(**fields: Any) -> Scenario:
    """A scenario built in code (zero latency unless given), for tests that need an odd one."""
    data: dict[str, Any] = {"subflow": "report", "message": "Write a report on {tickers}.", "tickers": ["AAA", "BBB"]}
    data.update(fields)
    return parse_scenario(data, source="<test>", default_name="test-scenario")
