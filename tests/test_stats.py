"""Bootstrap intervals and slopes, on synthetic data."""

from __future__ import annotations

import random

import pytest

from benchmarks.stats import MIN_PAIRS, Estimate, difference, paired_ratio, ratio_of_medians, slope, slope_estimate


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


def _paired_groups(
    ratio: float, processes: int, rounds: int, noise: float, process_shift: float = 0.0, seed: int = 5
) -> list[list[float]]:
    rng = random.Random(seed)
    return [
        [ratio * (1 + process_shift * (p - (processes - 1) / 2)) * (1 + rng.gauss(0, noise)) for _ in range(rounds)]
        for p in range(processes)
    ]


def test_the_hierarchical_bootstrap_recovers_a_planted_ratio() -> None:
    estimate = paired_ratio(_paired_groups(2.0, processes=3, rounds=8, noise=0.03))
    assert estimate.value == pytest.approx(2.0, rel=0.02) and estimate.n == 24
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low < 2.0 < estimate.high and estimate.high / estimate.low < 1.1
    assert "hierarchical" in estimate.method


def test_a_difference_between_processes_widens_the_interval() -> None:
    alike = paired_ratio(_paired_groups(1.5, processes=3, rounds=8, noise=0.01))
    apart = paired_ratio(_paired_groups(1.5, processes=3, rounds=8, noise=0.01, process_shift=0.1))
    assert alike.low is not None and alike.high is not None and apart.low is not None and apart.high is not None
    assert (apart.high - apart.low) > 3 * (alike.high - alike.low)


def test_too_few_pairs_give_no_interval() -> None:
    estimate = paired_ratio([[1.9, 2.1], [2.0, 2.05]])
    assert estimate.n == 4 < MIN_PAIRS and not estimate.has_interval and estimate.min_detectable_effect is None
    with pytest.raises(ValueError, match="no paired values"):
        paired_ratio([[], []])


def test_the_minimum_detectable_effect_grows_with_the_noise() -> None:
    quiet = paired_ratio(_paired_groups(1.0, processes=2, rounds=10, noise=0.01)).min_detectable_effect
    noisy = paired_ratio(_paired_groups(1.0, processes=2, rounds=10, noise=0.1)).min_detectable_effect
    assert quiet is not None and noisy is not None and 0 < quiet < 0.05 < noisy


def test_paired_intervals_are_reproducible() -> None:
    groups = _paired_groups(1.2, processes=2, rounds=6, noise=0.05)
    assert paired_ratio(groups) == paired_ratio(groups)


def test_ratio_of_medians_covers_the_true_ratio_and_needs_enough_values() -> None:
    rng = random.Random(3)
    now = [1.2 * rng.uniform(0.95, 1.05) for _ in range(12)]
    before = [rng.uniform(0.95, 1.05) for _ in range(12)]
    estimate = ratio_of_medians(now, before)
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low < 1.2 < estimate.high and estimate.low > 1.0
    assert ratio_of_medians(now[:3], before).low is None  # too few values: no interval


def test_a_difference_combines_two_intervals_half_widths() -> None:
    combined = difference(Estimate(10.0, 7.0, 13.0), Estimate(2.0, -2.0, 6.0))
    assert combined.value == 8.0 and combined.low == pytest.approx(3.0) and combined.high == pytest.approx(13.0)
    assert difference(Estimate(1.0, None, None), Estimate(0.0, -1.0, 1.0)).low is None
