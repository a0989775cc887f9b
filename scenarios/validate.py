"""Check one execution against what its scenario implies. No number from a run that fails this."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence

from scenarios.mock import RequestRecord
from scenarios.model import Scenario, expected_calls
from scenarios.runner import Execution
from workflow.events import ContentChunk, RunCompleted, RunError, RunStarted, StepCompleted


class ValidationFailed(Exception):
    """A run did not do what its scenario implies; the message says which run and why."""

    def __init__(self, scenario: str, variant: str, reasons: list[str]) -> None:
        super().__init__(f"run {scenario}/{variant} failed validation: " + "; ".join(reasons))
        self.reasons = reasons


VALIDATION_EXIT_CODE = 3  # a measuring worker whose run failed validation exits with this, naming the run


def validate_or_exit(execution: Execution, label: str) -> None:
    """In a measuring worker: validate, or print why (prefixed with `label`) and exit VALIDATION_EXIT_CODE,
    so no number from a failed run is ever kept."""
    try:
        validate(execution)
    except ValidationFailed as exc:
        print(f"{label}: {exc}", file=sys.stderr, flush=True)
        sys.exit(VALIDATION_EXIT_CODE)


def validate(execution: Execution) -> None:
    """Raise ValidationFailed listing every way the execution departs from its scenario."""
    runs = [[turn.events for turn in execution.turns]]
    late = []
    if execution.timed_out or execution.wall_s > execution.timeout_s:
        stopped = "stopped at" if execution.timed_out else f"ran {execution.wall_s:.1f} s, past"
        late.append(
            f"{stopped} its timeout of {execution.timeout_s:.0f} s (30 s + 3x the run with every call made in turn)"
        )
    late += execution.mock_problems
    validate_runs(execution.scenario, execution.variant, runs, execution.requests, execution.escapes, late)


def validate_runs(
    scenario: Scenario,
    variant: str,
    runs: Sequence[Sequence[tuple[object, ...]]],
    requests: Sequence[RequestRecord],
    escapes: Sequence[str],
    found: Sequence[str] = (),
) -> None:
    """The same checks for several runs of one scenario that shared a mock (e.g. concurrent users).

    `runs` holds, per run, the events of each of its turns.
    """
    reasons: list[str] = list(found)
    if escapes:
        reasons.append(f"requests escaped the mock: {list(escapes)}")
    unmatched = [r.url for r in requests if r.outcome == "unmatched"]
    if unmatched:
        reasons.append(f"requests matched no mock route: {unmatched}")
    reasons += _check_requests(scenario, requests, copies=len(runs))
    for number, turns in enumerate(runs, start=1):
        where = f"run {number}, " if len(runs) > 1 else ""
        for index, events in enumerate(turns, start=1):
            reasons += [f"{where}turn {index}: {reason}" for reason in _check_turn(scenario, index, events)]
        if len(turns) != len(scenario.messages):
            reasons.append(f"{where}{len(turns)} turns ran, scenario has {len(scenario.messages)}")
    if reasons:
        raise ValidationFailed(scenario.name, variant, reasons)


def _check_requests(scenario: Scenario, requests: Sequence[RequestRecord], copies: int) -> list[str]:
    seen = Counter(r.call for r in requests if r.outcome != "unmatched")
    expected = Counter({call: count * copies for call, count in expected_calls(scenario).items()})
    reasons: list[str] = []
    failing = {f.call for f in scenario.failures}
    if not failing and seen != expected:
        reasons.append(f"mock saw {_diff(seen, expected)}")
    if failing:
        if seen - expected:
            reasons.append(f"mock saw calls beyond the failing stage: {dict(seen - expected)}")
        if not failing & set(seen):
            reasons.append(f"the injected failure {sorted(failing)} was never called")
    for record in requests:
        if record.call in failing:
            allowed = {"failed"}
        elif failing:
            allowed = {"answered", "cancelled"}  # siblings of a failure may be cancelled
        else:
            allowed = {"answered"}
        if record.outcome not in allowed and record.outcome != "unmatched":
            reasons.append(f"request {record.call} ended {record.outcome}, expected {' or '.join(sorted(allowed))}")
    return reasons


def _check_turn(scenario: Scenario, index: int, events: tuple[object, ...]) -> list[str]:
    if not events or not isinstance(events[0], RunStarted):
        return ["the run did not start with RunStarted"]
    run_ids = {getattr(e, "run_id", None) for e in events}
    reasons = [] if len(run_ids) == 1 else [f"events carry {len(run_ids)} run ids"]
    last = events[-1]
    if scenario.failures:
        failing = {f.call for f in scenario.failures}
        if not isinstance(last, RunError):
            return [*reasons, f"expected a RunError for the injected failure, the run ended {type(last).__name__}"]
        if not failing & {f.call for f in last.failures}:
            reasons.append(f"RunError names {[f.call for f in last.failures]}, not the injected {sorted(failing)}")
        return reasons
    if isinstance(last, RunError):
        return [*reasons, f"run failed at {last.step}: {[(f.call, f.error) for f in last.failures]}"]
    if not isinstance(last, RunCompleted):
        return [*reasons, f"the run ended with {type(last).__name__}, not RunCompleted"]
    route = f"{scenario.subflow}:{','.join(scenario.tickers)}"
    routed = [e.detail for e in events if isinstance(e, StepCompleted) and e.step == "route"]
    if routed != [route]:
        reasons.append(f"routed to {routed}, scenario expects {route!r}")
    streamed = "".join(e.content for e in events if isinstance(e, ContentChunk))
    if not last.content or streamed != last.content:
        reasons.append("the final content is empty or differs from the streamed chunks")
    if scenario.subflow == "chat" and not last.content.startswith(f"(turn {index})"):
        reasons.append(f"the chat answer did not see the {index - 1} earlier turn(s) of its session")
    return reasons


def _diff(seen: Counter[str], expected: Counter[str]) -> str:
    extra, missing = dict(seen - expected), dict(expected - seen)
    return f"unexpected calls {extra} and is missing {missing}"
