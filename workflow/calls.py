"""Call identities shared by the workflow and the mock, and the errors a step raises."""

from __future__ import annotations

from dataclasses import dataclass

from workflow.events import CallFailure

CALL_HEADER = "x-bench-call"  # every request names its call, so the mock can answer and account for it
MARKET_DATA_KINDS = ("quote", "fundamentals", "news", "ratings")  # the market-data calls made per ticker


def market_call(kind: str, ticker: str) -> str:
    return f"{kind}:{ticker}"


def analyst_call(ticker: str) -> str:
    return f"analyst:{ticker}"


class CallFailed(Exception):
    """One named call (an HTTP request or an agent run) failed."""

    def __init__(self, call: str, error: str) -> None:
        super().__init__(f"{call}: {error}")
        self.call = call
        self.error = error


@dataclass
class StepFailed(Exception):
    """A fan-out step failed; says which calls failed, finished, were cancelled or were left running."""

    step: str
    failures: tuple[CallFailure, ...]
    completed: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()
    orphaned: tuple[str, ...] = ()

    def __str__(self) -> str:
        failed = ", ".join(f"{f.call} ({f.error})" for f in self.failures)
        return f"step {self.step!r} failed: {failed}"
