"""Prompts and parsing shared by every variant: what is asked, and how answers are read."""

from __future__ import annotations

import json
from dataclasses import dataclass

from workflow.calls import CallFailed

ROUTER_INSTRUCTIONS = (
    "You route a financial assistant's user messages. Classify the message as 'report' "
    "(an investment report on several tickers), 'alone' (a question about one ticker) or "
    "'chat' (conversation). Answer only with JSON: "
    '{"subflow": "report" | "alone" | "chat", "tickers": ["SYMBOL", ...]}.'
)
ANALYST_INSTRUCTIONS = (
    "You are an equity analyst. From the market data given for one ticker, give a rating "
    "(BUY, HOLD or SELL) and a short rationale grounded in the figures."
)
WRITER_INSTRUCTIONS = (
    "You write investment reports. Combine the analysts' notes into one report with a "
    "summary, a section per ticker in the order given, and the risks."
)
CHAT_INSTRUCTIONS = (
    "You are a financial assistant in a conversation. Use the earlier turns of the "
    "conversation; do not give personalised investment advice."
)
SUBFLOWS = ("report", "alone", "chat")


@dataclass(frozen=True)
class Route:
    subflow: str
    tickers: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.subflow}:{','.join(self.tickers)}"


def parse_route(text: str) -> Route:
    """Read the router's JSON answer; an unusable answer fails the router call."""
    try:
        data = json.loads(text)
        subflow = data["subflow"]
        tickers = tuple(str(t) for t in data.get("tickers", []))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CallFailed("router", f"unreadable route {text[:80]!r}") from exc
    expected_tickers = {"chat": tickers == (), "alone": len(tickers) == 1, "report": len(tickers) >= 1}
    if not expected_tickers.get(subflow, False):
        raise CallFailed("router", f"unusable route {text[:80]!r}")
    return Route(subflow=subflow, tickers=tickers)


def analyst_prompt(ticker: str, market_data: dict[str, str]) -> str:
    """One ticker's four market-data answers, in a fixed order so every variant asks the same."""
    sections = "\n".join(f"{kind}: {market_data[kind]}" for kind in sorted(market_data))
    return f"Ticker: {ticker}\n{sections}"


def writer_prompt(analyses: list[tuple[str, str]]) -> str:
    notes = "\n\n".join(f"## {ticker}\n{text}" for ticker, text in analyses)
    return f"Analysts' notes, one per ticker:\n\n{notes}"
