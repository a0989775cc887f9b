"""The market-data agno toolkit: one HTTP GET per (kind, ticker), sync and async."""

from __future__ import annotations

import httpx
from agno.tools import Toolkit

from workflow.calls import CALL_HEADER, MARKET_DATA_KINDS, CallFailed, market_call


class MarketDataTools(Toolkit):
    """`get_market_data` for sync callers and its async twin for `arun`, as agno toolkits pair them."""

    def __init__(self, base_url: str, client: httpx.Client | httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        super().__init__(
            name="market_data",
            tools=[self.get_market_data],
            async_tools=[(self.aget_market_data, "get_market_data")],
        )

    def get_market_data(self, kind: str, ticker: str) -> str:
        """Fetch one kind of market data (quote, fundamentals, news, ratings) for a ticker as JSON."""
        assert isinstance(self.client, httpx.Client), "sync tool needs an httpx.Client"
        call = market_call(kind, ticker)
        try:
            response = self.client.get(self._url(kind, ticker), headers={CALL_HEADER: call})
        except httpx.TransportError as exc:
            raise _failed(call, exc) from exc
        return _checked_text(response, call)

    async def aget_market_data(self, kind: str, ticker: str) -> str:
        """Async twin of get_market_data."""
        assert isinstance(self.client, httpx.AsyncClient), "async tool needs an httpx.AsyncClient"
        call = market_call(kind, ticker)
        try:
            response = await self.client.get(self._url(kind, ticker), headers={CALL_HEADER: call})
        except httpx.TransportError as exc:
            raise _failed(call, exc) from exc
        return _checked_text(response, call)

    def _url(self, kind: str, ticker: str) -> str:
        if kind not in MARKET_DATA_KINDS:
            raise ValueError(f"unknown market-data kind {kind!r}")
        return f"{self.base_url}/{kind}/{ticker}"


def _failed(call: str, exc: httpx.TransportError) -> CallFailed:
    """A request that got no whole answer: it timed out, or its connection broke (closed, reset, refused)."""
    if isinstance(exc, httpx.TimeoutException):
        return CallFailed(call, "timeout")
    return CallFailed(call, f"connection: {type(exc).__name__}")


def _checked_text(response: httpx.Response, call: str) -> str:
    if response.is_error:
        raise CallFailed(call, f"http_{response.status_code}")
    return response.text
