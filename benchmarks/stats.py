"""Intervals for the figures the harness reports, by bootstrap (seeded, so a re-render agrees).

With the handful of values quick and default collect, an interval is wide and says so;
that is the honest answer, not a defect to hide.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

RESAMPLES = 2000
SEED = 20261122


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float | None  # None: too few values for an interval
    high: float | None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None


def bootstrap(
    statistic: Callable[[list[list[float]]], float],
    samples: Sequence[Sequence[float]],
    confidence: float = 0.95,
    resamples: int = RESAMPLES,
) -> Estimate:
    """Percentile bootstrap of `statistic` over independent samples, each resampled with replacement."""
    data = [list(s) for s in samples]
    value = statistic(data)
    if any(len(s) < 2 for s in data):
        return Estimate(value, None, None)
    rng = random.Random(SEED)
    draws = sorted(statistic([rng.choices(s, k=len(s)) for s in data]) for _ in range(resamples))
    tail = (1 - confidence) / 2
    return Estimate(value, draws[int(tail * (resamples - 1))], draws[int((1 - tail) * (resamples - 1))])


def median_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> Estimate:
    """median(numerator) / median(denominator) with a 95% bootstrap interval."""
    return bootstrap(lambda s: statistics.median(s[0]) / statistics.median(s[1]), [numerator, denominator])


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys over xs."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        raise ValueError("a slope needs at least two distinct x values")
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def slope_estimate(xs: Sequence[float], ys: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Slope with a bootstrap interval over (x, y) pairs; resamples with a single x value are redrawn."""
    pairs = list(zip(xs, ys, strict=True))
    value = slope(xs, ys)
    if len(pairs) < 3:
        return Estimate(value, None, None)
    rng = random.Random(SEED)
    draws: list[float] = []
    while len(draws) < RESAMPLES:
        resample = rng.choices(pairs, k=len(pairs))
        if len({x for x, _ in resample}) > 1:
            draws.append(slope([x for x, _ in resample], [y for _, y in resample]))
    draws.sort()
    tail = (1 - confidence) / 2
    return Estimate(value, draws[int(tail * (RESAMPLES - 1))], draws[int((1 - tail) * (RESAMPLES - 1))])


def slope_ratio_estimate(
    numerator: Sequence[tuple[float, float]], denominator: Sequence[tuple[float, float]], confidence: float = 0.95
) -> Estimate:
    """slope(numerator) / slope(denominator) over (x, y) points, with a bootstrap interval that
    resamples within each x level of each series (so every resample keeps every level)."""

    def ratio(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> float:
        return slope([x for x, _ in a], [y for _, y in a]) / slope([x for x, _ in b], [y for _, y in b])

    value = ratio(numerator, denominator)
    levels = [_by_level(numerator), _by_level(denominator)]
    if any(len(points) < 2 for series in levels for points in series):
        return Estimate(value, None, None)
    rng = random.Random(SEED)
    draws = sorted(
        ratio(*([p for points in series for p in rng.choices(points, k=len(points))] for series in levels))
        for _ in range(RESAMPLES)
    )
    tail = (1 - confidence) / 2
    return Estimate(value, draws[int(tail * (RESAMPLES - 1))], draws[int((1 - tail) * (RESAMPLES - 1))])


def _by_level(points: Sequence[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    levels: dict[float, list[tuple[float, float]]] = {}
    for point in points:
        levels.setdefault(point[0], []).append(point)
    return list(levels.values())


def geometric_mean_ratio(pairs: Sequence[tuple[Sequence[float], Sequence[float]]]) -> Estimate:
    """Geometric mean over pairs of median(a) / median(b), with a bootstrap interval over every pair's values."""

    def statistic(samples: list[list[float]]) -> float:
        pairs = zip(samples[::2], samples[1::2], strict=True)
        logs = [math.log(statistics.median(a) / statistics.median(b)) for a, b in pairs]
        return math.exp(statistics.fmean(logs))

    return bootstrap(statistic, [values for pair in pairs for values in pair])
