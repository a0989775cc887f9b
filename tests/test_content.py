"""The mock's answers are pure functions of the request, and depend on what matters in it."""

from __future__ import annotations

import json

from scenarios.content import classify, llm_tokens, market_data


def test_router_classification() -> None:
    assert classify("hello there") == {"subflow": "chat", "tickers": []}
    assert classify("How is $AAPL?") == {"subflow": "alone", "tickers": ["AAPL"]}
    assert classify("Report on $AAPL.") == {"subflow": "report", "tickers": ["AAPL"]}
    assert classify("$BRK.B vs $JPM.") == {"subflow": "report", "tickers": ["BRK.B", "JPM"]}


def test_same_request_same_tokens_different_request_different_tokens() -> None:
    messages = [{"role": "user", "content": "notes A"}]
    assert llm_tokens("writer", messages, 10) == llm_tokens("writer", messages, 10)
    assert llm_tokens("writer", messages, 10) != llm_tokens("writer", [{"role": "user", "content": "notes B"}], 10)
    assert len(llm_tokens("writer", messages, 10)) == 10


def test_chat_answers_count_the_turns_they_see() -> None:
    history = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]
    assert llm_tokens("chat", history, 3)[0].startswith("(turn 2)")


def test_router_answers_json_and_market_data_is_stable() -> None:
    (text,) = llm_tokens("router", [{"role": "user", "content": "How is $NVDA?"}], 5)
    assert json.loads(text) == {"subflow": "alone", "tickers": ["NVDA"]}
    assert market_data("quote", "NVDA") == market_data("quote", "NVDA") != market_data("quote", "AAPL")


def test_the_workflow_rejects_a_route_it_cannot_follow() -> None:
    import pytest

    from workflow.calls import CallFailed
    from workflow.prompts import parse_route

    assert parse_route('{"subflow": "alone", "tickers": ["A"]}').tickers == ("A",)
    for text in ('{"subflow": "alone", "tickers": ["A", "B"]}', '{"subflow": "report"}', "not json", '{"x": 1}'):
        with pytest.raises(CallFailed, match="router"):
            parse_route(text)


def test_a_request_outcome_is_decided_once() -> None:
    from scenarios.mock import MockLog

    log = MockLog()
    record, occurrence = log.seen("GET", "http://x.invalid/", "writer")
    log.settle(record, "answered", 200)
    log.settle(record, "cancelled")  # a finished stream's generator cancelled during loop teardown
    assert (record.outcome, record.status, occurrence) == ("answered", 200, 0)
