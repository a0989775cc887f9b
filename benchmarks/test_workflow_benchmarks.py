"""The shipped scenarios as pytest-benchmark tests, for teams already on that plugin.

    pytest benchmarks --benchmark-only [--benchmark-json out.json] [--benchmark-compare] [--benchmark-histogram]

Not part of the unit-test run (pytest's testpaths is tests/). Each round is one workflow run
of every turn, validated in the untimed teardown: a round that fails validation fails the
test, and pytest-benchmark keeps no statistics from a test that errored. The mock is
installed once per test, outside the timing. Async variants run on one event loop kept
across rounds (created before the first round, closed after the last), so loop start-up is
not charged to them; the timed call is `loop.run_until_complete(session.arun())`.
BENCH_ROUNDS sets the number of rounds (default 5) after one warm-up round.
"""

from __future__ import annotations

import asyncio
import os
import statistics

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.matrix import variants_for
from scenarios import shipped_scenarios
from scenarios.critical_path import critical_path
from scenarios.runner import Execution, ScenarioSession
from scenarios.validate import validate

SHIPPED = shipped_scenarios()
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


@pytest.mark.parametrize(
    ("scenario_name", "variant"),
    [(name, variant) for name, scenario in sorted(SHIPPED.items()) for variant in variants_for(scenario)],
)
def test_workflow(benchmark: BenchmarkFixture, scenario_name: str, variant: str) -> None:
    scenario = SHIPPED[scenario_name]
    executions: list[Execution] = []
    with ScenarioSession(scenario, variant) as session:
        loop = asyncio.new_event_loop() if session.is_async else None

        def one_run() -> None:
            executions.append(loop.run_until_complete(session.arun()) if loop else session.run())

        def validate_last_run() -> None:
            validate(executions[-1])

        try:
            benchmark.pedantic(one_run, teardown=validate_last_run, rounds=ROUNDS, warmup_rounds=1)
        finally:
            if loop is not None:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
    first_chunks = [e.turns[0].first_chunk_s for e in executions if e.turns[0].first_chunk_s is not None]
    benchmark.extra_info.update(
        {
            "scenario_hash": scenario.content_hash,
            "variant": variant,
            "critical_path_s": critical_path(scenario).wall_s,
            "first_chunk_median_s": statistics.median(first_chunks) if first_chunks else None,
        }
    )
