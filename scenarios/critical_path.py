"""The physical limit of a scenario: how fast any variant could possibly be.

Each stage's calls can all wait at once, so a stage costs its slowest call; stages run one
after another; turns run one after another. Framework and concurrency overhead count as
zero. Uses the very draws the mock sleeps, so `bound / measured` is an honest efficiency.
With an injected failure the fastest possible run ends when the failure answers.
Over a transport with a connection limit (loopback: `max_connections` per client) a stage's calls cannot
all wait at once: the stage costs at least its slowest call and at least its calls' total time spread over
the connections, whichever is longer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scenarios.model import Scenario, call_stages


@dataclass(frozen=True)
class Bound:
    wall_s: float  # whole run, all turns
    first_chunk_s: float | None  # first turn's first content chunk; None when the run fails first


def stage_seconds(durations: list[float], connections: int | None) -> float:
    """The least time a stage's calls can take: the slowest one, or with `connections` at most that many at once,
    their total spread over the connections if that is longer."""
    slowest = max(durations)
    return slowest if connections is None else max(slowest, sum(durations) / connections)


def critical_path(scenario: Scenario, connections: int | None = None) -> Bound:
    """The fastest any variant could run `scenario`; `connections`: the client's connection limit, if it has one."""
    stages = call_stages(scenario)
    wall_s = 0.0
    first_chunk_s: float | None = None
    for turn in range(len(scenario.messages)):
        for index, stage in enumerate(stages):
            failures = [f for f in (scenario.failure_for(call) for call in stage) if f is not None]
            if failures:
                return Bound(wall_s + min(f.after_ms for f in failures) / 1000, first_chunk_s)
            delays = [scenario.delays(call, turn) for call in stage]
            is_answer = index == len(stages) - 1
            if is_answer and turn == 0:
                first = max(d.first_s for d in delays) if scenario.streaming else max(d.total_s for d in delays)
                first_chunk_s = wall_s + first
            wall_s += stage_seconds([d.total_s for d in delays], connections)
    return Bound(wall_s, first_chunk_s)


def pool_limited_seconds(scenario: Scenario, workers: int) -> float:
    """A rough run time when at most `workers` calls of a stage wait at once (for progress estimates only)."""
    total = 0.0
    for turn in range(len(scenario.messages)):
        for stage in call_stages(scenario):
            slowest = max(scenario.delays(call, turn).total_s for call in stage)
            total += math.ceil(len(stage) / workers) * slowest
    return total
