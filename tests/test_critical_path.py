"""The critical-path bound, checked by hand against each shipped scenario's latency tables."""

from __future__ import annotations

import pytest

from scenarios.critical_path import critical_path
from scenarios.model import call_stages
from tests.conftest import SHIPPED, make_scenario


def test_a_constant_report_by_hand() -> None:
    scenario = make_scenario(
        latency={
            "router": {"ttft_ms": 10},
            "market_data": {"ttft_ms": 20},
            "news": {"ttft_ms": 50},
            "analyst": {"ttft_ms": 30, "gap_ms": 1, "tokens": 11},
            "writer": {"ttft_ms": 40, "gap_ms": 2, "tokens": 6},
        }
    )
    bound = critical_path(scenario)
    # router 10 + slowest fetch (news) 50 + analyst 30+10*1 + writer 40+5*2
    assert bound.wall_s == pytest.approx(0.010 + 0.050 + 0.040 + 0.050)
    assert bound.first_chunk_s == pytest.approx(0.010 + 0.050 + 0.040 + 0.040)


def test_without_streaming_the_first_chunk_is_the_whole_answer() -> None:
    scenario = make_scenario(streaming=False, latency={"writer": {"ttft_ms": 40, "gap_ms": 2, "tokens": 6}})
    bound = critical_path(scenario)
    assert bound.first_chunk_s == pytest.approx(bound.wall_s) == pytest.approx(0.050)


def test_alone_is_router_fetch_answer() -> None:
    scenario = SHIPPED["alone"]
    bound = critical_path(scenario)
    fetch = max(scenario.delays(f"{k}:AAPL").first_s for k in ("quote", "fundamentals", "news", "ratings"))
    answer = scenario.delays("analyst:AAPL")
    assert bound.wall_s == pytest.approx(scenario.delays("router").total_s + fetch + answer.total_s)
    assert bound.first_chunk_s == pytest.approx(scenario.delays("router").total_s + fetch + answer.first_s)


def test_chat_turns_add_up_with_their_own_draws() -> None:
    scenario = SHIPPED["chat-3-turns"]
    expected = sum(scenario.delays("router", t).total_s + scenario.delays("chat", t).total_s for t in range(3))
    assert critical_path(scenario).wall_s == pytest.approx(expected)
    assert scenario.delays("chat", 0) != scenario.delays("chat", 1)  # lognormal draws differ per turn


def test_a_failure_ends_the_bound_when_it_answers() -> None:
    bound = critical_path(SHIPPED["report-5-failure"])
    assert bound.wall_s == pytest.approx(0.030 + 0.030)  # router, then the 500 after 30 ms
    assert bound.first_chunk_s is None


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_scenario_has_a_positive_bound_below_its_serial_time(name: str) -> None:
    scenario = SHIPPED[name]
    bound = critical_path(scenario).wall_s
    serial = sum(
        scenario.delays(call, turn).total_s
        for turn in range(len(scenario.messages))
        for stage in call_stages(scenario)
        for call in stage
    )
    assert 0 < bound <= serial


def test_a_pool_serialises_a_stage_into_waves() -> None:
    from scenarios.critical_path import pool_limited_seconds

    scenario = make_scenario(latency={"market_data": {"ttft_ms": 10}})  # 8 fetch calls, nothing else waits
    assert pool_limited_seconds(scenario, 8) == pytest.approx(0.010)
    assert pool_limited_seconds(scenario, 3) == pytest.approx(0.030)  # ceil(8 / 3) waves


def test_a_connection_limit_spreads_a_stage_over_the_connections() -> None:
    """40 market-data calls of 300 ms through 10 connections cannot take less than 4 x 300 ms."""
    scenario = make_scenario(tickers=[f"T{i:02d}" for i in range(10)], latency={"market_data": {"ttft_ms": 300}})
    unlimited, limited = critical_path(scenario), critical_path(scenario, connections=10)
    assert limited.wall_s - unlimited.wall_s == pytest.approx(1.2 - 0.3)
    assert critical_path(scenario, connections=100).wall_s == pytest.approx(unlimited.wall_s)
