"""Deterministic answers: every mocked body is a pure function of the request.

Identical requests give identical bytes, so outputs can be compared across variants, and
an answer that depends on its prompt (the writer on the analyses, the chat on its history)
proves the prompt reached the wire intact.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

VOCABULARY = (
    "revenue", "margin", "guidance", "growth", "valuation", "cash", "flow", "dividend",
    "buyback", "earnings", "outlook", "demand", "supply", "pricing", "risk", "upside",
    "downside", "momentum", "sector", "rates", "inflation", "capex", "leverage", "moat",
    "share", "volume", "volatility", "consensus", "estimate", "beat", "miss", "steady",
)  # fmt: skip
CASHTAG = re.compile(r"\$([A-Z][A-Z0-9]{0,7}(?:\.[A-Z])?)")  # $BRK.B, not the "." ending a sentence
RATINGS = ("BUY", "HOLD", "SELL")


def _rng(material: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "big"))


def classify(user_message: str) -> dict[str, Any]:
    """The mock router's rule: no cashtag is chat, 'report' or several tickers is a report."""
    tickers = list(dict.fromkeys(CASHTAG.findall(user_message)))
    if not tickers:
        return {"subflow": "chat", "tickers": []}
    if "report" in user_message.lower() or len(tickers) > 1:
        return {"subflow": "report", "tickers": tickers}
    return {"subflow": "alone", "tickers": tickers}


def llm_tokens(call: str, messages: list[dict[str, Any]], count: int) -> list[str]:
    """The answer of one chat-completions request, split into the tokens that stream."""
    user_messages = [m for m in messages if m.get("role") == "user"]
    last_user = str(user_messages[-1].get("content", "")) if user_messages else ""
    if call == "router":
        return [json.dumps(classify(last_user), sort_keys=True)]
    rng = _rng(call + json.dumps(messages, sort_keys=True))
    words = [rng.choice(VOCABULARY) for _ in range(count)]
    if call.startswith("analyst:"):
        words[0] = f"{call.split(':', 1)[1]} {rng.choice(RATINGS)}: {words[0]}"
    elif call == "chat":
        words[0] = f"(turn {len(user_messages)}) {words[0]}"
    return [words[0], *(f" {w}" for w in words[1:])]


def market_data(kind: str, ticker: str) -> dict[str, Any]:
    rng = _rng(f"{kind}:{ticker}")
    if kind == "quote":
        price = round(rng.uniform(5, 900), 2)
        return {"ticker": ticker, "price": price, "change_pct": round(rng.uniform(-5, 5), 2)}
    if kind == "fundamentals":
        return {"ticker": ticker, "pe": round(rng.uniform(5, 60), 1), "margin_pct": round(rng.uniform(-10, 45), 1)}
    if kind == "news":
        return {"ticker": ticker, "headlines": [" ".join(rng.choices(VOCABULARY, k=6)) for _ in range(3)]}
    return {"ticker": ticker, "buy": rng.randint(0, 30), "hold": rng.randint(0, 20), "sell": rng.randint(0, 10)}
