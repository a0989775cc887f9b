"""Bootstrap intervals and slopes, on synthetic data."""

from __future__ import annotations

import random

import pytest

from benchmarks.stats import median_ratio, slope, slope_estimate


def test_a_clear_ratio_has_a_tight_interval_around_it() -> None:
    rng = random.Random(1)
    slow = [2.0 + rng.gauss(0, 0.02) for _ in range(20)]
    fast = [1.0 + rng.gauss(0, 0.01) for _ in range(20)]
    estimate = median_ratio(slow, fast)
    assert estimate.value == pytest.approx(2.0, rel=0.02)
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low < estimate.value < estimate.high
    assert estimate.low > 1.9 and estimate.high < 2.1


def test_noisy_equal_samples_give_an_interval_that_spans_one() -> None:
    rng = random.Random(2)
    a = [1.0 + rng.gauss(0, 0.2) for _ in range(8)]
    b = [1.0 + rng.gauss(0, 0.2) for _ in range(8)]
    estimate = median_ratio(a, b)
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low < 1.0 < estimate.high


def test_a_single_value_gives_no_interval() -> None:
    estimate = median_ratio([2.0], [1.0, 1.1])
    assert estimate.value == pytest.approx(2.0 / 1.05) and not estimate.has_interval


def test_intervals_are_reproducible() -> None:
    assert median_ratio([1.0, 1.2, 1.1], [0.5, 0.6]) == median_ratio([1.0, 1.2, 1.1], [0.5, 0.6])


def test_slope_recovers_a_planted_line_with_an_interval() -> None:
    rng = random.Random(3)
    xs = [k for k in (10, 100, 1000) for _ in range(4)]
    ys = [50_000 + 32_000 * x + rng.gauss(0, 200_000) for x in xs]
    estimate = slope_estimate(xs, ys)
    assert estimate.value == pytest.approx(32_000, rel=0.05)
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low < 32_000 < estimate.high


def test_a_flat_series_has_an_interval_around_zero() -> None:
    rng = random.Random(4)
    noise = [rng.gauss(0, 1) for _ in range(15)]
    # Mirror the noise around the middle of the series: no trend, by construction.
    xs = list(range(30))
    ys = [100.0 + e for e in noise] + [100.0 + e for e in reversed(noise)]
    estimate = slope_estimate(xs, ys)
    assert estimate.value == pytest.approx(0.0, abs=1e-9)
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low < 0 < estimate.high


def test_slope_needs_two_distinct_x() -> None:
    with pytest.raises(ValueError, match="two distinct"):
        slope([5, 5], [1, 2])
