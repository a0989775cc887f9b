"""The run checker rejects a run that did not do what its scenario implies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scenarios.mock import RequestRecord
from scenarios.model import calls_per_run, expected_calls
from scenarios.runner import Execution, Turn
from scenarios.validate import ValidationFailed, validate
from tests.conftest import SHIPPED, make_scenario
from workflow.events import RunCompleted


@pytest.fixture(scope="module")
def good() -> Execution:
    from scenarios.runner import execute

    execution = execute(make_scenario(), "taskgroup")
    validate(execution)
    return execution


def test_expected_calls_of_a_report() -> None:
    calls = expected_calls(make_scenario())
    assert calls["router"] == 1 and calls["writer"] == 1 and calls["analyst:AAA"] == 1
    assert sum(calls.values()) == 1 + 8 + 2 + 1


def test_calls_per_run_split_llm_from_market_data() -> None:
    assert calls_per_run(make_scenario()) == (1 + 2 + 1, 8)  # router, two analysts, writer; eight market-data calls
    assert calls_per_run(SHIPPED["chat-3-turns"]) == (6, 0)


def test_expected_calls_stop_at_the_failing_stage() -> None:
    calls = expected_calls(SHIPPED["report-5-failure"])
    assert sum(calls.values()) == 1 + 20 and "writer" not in calls


def test_expected_calls_repeat_per_chat_turn() -> None:
    assert expected_calls(SHIPPED["chat-3-turns"]) == {"router": 3, "chat": 3}


def test_a_missing_request_is_caught(good: Execution) -> None:
    with pytest.raises(ValidationFailed, match="is missing"):
        validate(replace(good, requests=good.requests[:-1]))


def test_an_unanswered_request_is_caught(good: Execution) -> None:
    pending = (*good.requests[:-1], replace(good.requests[-1], outcome="pending"))
    with pytest.raises(ValidationFailed, match="ended pending"):
        validate(replace(good, requests=pending))


def test_an_extra_request_is_caught(good: Execution) -> None:
    extra = (*good.requests, RequestRecord(999, "writer", "POST", "http://llm.mock.invalid/v1", "answered"))
    with pytest.raises(ValidationFailed, match="unexpected calls"):
        validate(replace(good, requests=extra))


def test_content_that_differs_from_the_stream_is_caught(good: Execution) -> None:
    turn = good.turns[0]
    last = turn.events[-1]
    assert isinstance(last, RunCompleted)
    tampered = Turn((*turn.events[:-1], replace(last, content=last.content + " tampered")), turn.wall_s, None)
    with pytest.raises(ValidationFailed, match="differs from the streamed chunks"):
        validate(replace(good, turns=(tampered,)))


def test_a_wrong_route_is_caught(good: Execution) -> None:
    with pytest.raises(ValidationFailed, match="routed to"):
        validate(replace(good, scenario=make_scenario(tickers=["AAA", "CCC"])))


def test_mixed_run_ids_are_caught(good: Execution) -> None:
    turn = good.turns[0]
    last = turn.events[-1]
    mixed = Turn((*turn.events[:-1], replace(last, run_id="another")), turn.wall_s, None)
    with pytest.raises(ValidationFailed, match="run ids"):
        validate(replace(good, turns=(mixed,)))


def test_a_failure_where_none_was_injected_is_caught() -> None:
    from scenarios.runner import execute

    execution = execute(make_scenario(failures=[{"call": "writer", "kind": "http_500"}]), "gather")
    with pytest.raises(ValidationFailed, match="run failed at write"):
        validate(replace(execution, scenario=make_scenario()))


@pytest.mark.parametrize("variant", ["taskgroup", "threads"])
def test_a_run_past_its_timeout_fails_validation_with_that_reason(variant: str) -> None:
    from scenarios.runner import ScenarioSession

    slow = make_scenario(latency={"writer": {"ttft_ms": 400}})
    with ScenarioSession(slow, variant, timeout_s=0.1) as session:
        execution = session.run()
    # An async run is stopped at its limit; a sync one cannot be interrupted, and is judged when it ends.
    assert execution.timed_out == (variant == "taskgroup")
    with pytest.raises(ValidationFailed, match=r"(stopped at|past) its timeout of 0 s"):
        validate(execution)


def test_a_run_timeout_follows_the_scenario() -> None:
    from scenarios.runner import run_timeout_s

    quick, slow = make_scenario(), make_scenario(latency={"writer": {"ttft_ms": 1000}})
    assert run_timeout_s(quick) == 30.0 and run_timeout_s(slow) == pytest.approx(33.0)
