"""Step detection over a benchmark history (benchmarks/steps.py), on seeded synthetic histories."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from benchmarks.steps import Step, detect_steps

SEEDS = range(20)
NOISE_SEEDS = range(200)


def history(
    seed: int, *, steps: Sequence[tuple[int, float]] = (), noise: float = 0.02, n: int = 20
) -> list[tuple[str, float | None]]:
    """n commits c00, c01, ... at level 100, times each planted (index, factor) from its index on, with gaussian
    multiplicative noise."""
    rng = np.random.default_rng(seed)
    points: list[tuple[str, float | None]] = []
    for i in range(n):
        level = 100.0 * float(np.prod([factor for at, factor in steps if i >= at]))
        points.append((f"c{i:02d}", level * (1 + float(rng.normal(0, noise)))))
    return points


def only_step(
    points: Sequence[tuple[str, float | None]], *, lower_is_better: bool = True, min_change: float = 0.05
) -> Step:
    steps = detect_steps(points, lower_is_better=lower_is_better, min_change=min_change)
    assert len(steps) == 1, steps
    return steps[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_slowdown_is_one_regression_at_its_commit(seed: int) -> None:
    step = only_step(history(seed, steps=[(12, 1.15)]))
    assert (step.index, step.commit_before, step.commit_after, step.kind) == (12, "c11", "c12", "regression")
    assert step.ratio == pytest.approx(1.15, rel=0.03)
    assert step.before == pytest.approx(100, rel=0.03)
    assert step.after == pytest.approx(115, rel=0.03)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_speedup_is_one_improvement_at_its_commit(seed: int) -> None:
    step = only_step(history(seed, steps=[(12, 0.85)]))
    assert (step.index, step.commit_before, step.commit_after, step.kind) == (12, "c11", "c12", "improvement")
    assert step.ratio == pytest.approx(0.85, rel=0.03)


def test_higher_is_better_turns_the_kinds_round() -> None:
    assert only_step(history(0, steps=[(12, 1.15)]), lower_is_better=False).kind == "improvement"
    assert only_step(history(0, steps=[(12, 0.85)]), lower_is_better=False).kind == "regression"


@pytest.mark.parametrize("noise", [0.01, 0.02, 0.05])
def test_pure_noise_has_no_steps(noise: float) -> None:
    alarms = {seed: steps for seed in NOISE_SEEDS if (steps := detect_steps(history(seed, noise=noise)))}
    assert alarms == {}


def test_a_clear_change_below_min_change_is_not_a_step() -> None:
    for seed in SEEDS:
        points = history(seed, steps=[(10, 1.02)], noise=0.003)
        assert detect_steps(points) == []
        # it is clear (~12 standard errors): only its size keeps it out
        assert only_step(points, min_change=0.01).ratio == pytest.approx(1.02, rel=0.005)


@pytest.mark.parametrize("seed", SEEDS)
def test_missing_values_are_gaps_that_the_commit_range_spans(seed: int) -> None:
    # 1% noise: at 2%, seed 3 draws commit 9 (now next to the step) 3.3 sigma high, as close to the new level as to
    # the old, and the step may fairly start there; where a step starts in noise is the tests above
    points = history(seed, steps=[(12, 1.15)], noise=0.01)
    points[10] = ("c10", None)
    points[11] = ("c11", None)
    step = only_step(points)
    assert (step.index, step.commit_before, step.commit_after) == (12, "c09", "c12")
    assert step.before == pytest.approx(100, rel=0.03)  # a None counted as 0 would pull the old level down
    assert step.ratio == pytest.approx(1.15, rel=0.03)


def test_missing_values_in_a_flat_history_are_not_steps() -> None:
    for seed in SEEDS:
        points = history(seed)
        for i in (4, 9, 10, 11, 15):
            points[i] = (points[i][0], None)
        assert detect_steps(points) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_two_steps_are_both_found_and_nothing_else(seed: int) -> None:
    steps = detect_steps(history(seed, steps=[(6, 1.15), (14, 0.85)]))
    assert [(step.index, step.commit_before, step.commit_after, step.kind) for step in steps] == [
        (6, "c05", "c06", "regression"),
        (14, "c13", "c14", "improvement"),
    ]
    assert [step.ratio for step in steps] == pytest.approx([1.15, 0.85], rel=0.05)  # medians of 6 values: +-1%


def test_a_history_without_noise() -> None:
    flat = [(f"c{i:02d}", 100.0) for i in range(20)]
    assert detect_steps(flat) == []
    assert detect_steps([(commit, 101.0 if i == 10 else value) for i, (commit, value) in enumerate(flat)]) == []
    step = only_step([(commit, 110.0 if i >= 10 else value) for i, (commit, value) in enumerate(flat)])
    assert (step.index, step.before, step.after) == (10, 100.0, 110.0)


def test_a_step_needs_min_size_values_after_it() -> None:
    assert detect_steps(history(0, steps=[(18, 1.5)])) == []  # two values at the new level: not yet a step
    assert only_step(history(0, steps=[(17, 1.5)])).index == 17


@pytest.mark.parametrize(
    "points",
    [
        [],
        [("c00", 100.0)],
        history(0, steps=[(3, 2.0)], n=5),
        [(commit, None if i % 2 else value) for i, (commit, value) in enumerate(history(0, steps=[(6, 2.0)], n=10))],
    ],
    ids=["empty", "one", "five", "five-with-gaps"],
)
def test_a_short_history_has_no_steps(points: list[tuple[str, float | None]]) -> None:
    assert detect_steps(points) == []


def test_a_value_off_the_ratio_scale_is_a_gap() -> None:
    points = history(0, steps=[(12, 1.15)])
    points[9], points[10], points[11] = ("c09", 0.0), ("c10", -3.0), ("c11", math.nan)
    step = only_step(points)
    assert (step.index, step.commit_before, step.commit_after) == (12, "c08", "c12")
    assert step.before == pytest.approx(100, rel=0.03)
