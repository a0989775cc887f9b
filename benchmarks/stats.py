"""Intervals for the figures the harness reports, seeded so a re-render agrees.

A speed comparison is paired: two cases' values from the same worker process and round
(benchmarks/speed.py). Its figure is the median of the per-round ratios, and its interval a
hierarchical bootstrap: resample the processes, then the rounds within each, so the spread
between processes (start-up layout, a host burst that lasted a whole process) widens the
interval as it should, rather than being averaged away as if every value were independent.
scipy has no hierarchical bootstrap, nor one that keeps every level of a regression's x (the
ratio of two memory slopes below), which is why those live here; scipy gives the slopes' intervals.
Below MIN_PAIRS pairs no interval is given: the table says "too few values".
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 2000
SEED = 20261122
CONFIDENCE = 0.95
MIN_PAIRS = 6  # fewer paired values than this: "too few values", never an interval
HIERARCHICAL = "median of paired per-round ratios; 95% hierarchical bootstrap (processes, then rounds)"
Z_95_TWO_SIDED = 1.96
Z_POWER_80 = 0.8416


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float | None  # None: too few values for an interval
    high: float | None
    n: int = 0  # paired values (or values) behind it
    method: str = ""

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def min_detectable_effect(self) -> float | None:
        """The smallest ratio change (0.05 = 5%) this comparison would detect with 80% power at the 5% level,
        from the interval's width on the log scale: (1.96 + 0.84) x standard error."""
        if self.low is None or self.high is None or self.low <= 0 or self.high <= 0:
            return None
        standard_error = (math.log(self.high) - math.log(self.low)) / (2 * Z_95_TWO_SIDED)
        return math.exp((Z_95_TWO_SIDED + Z_POWER_80) * standard_error) - 1


def paired_ratio(
    groups: Sequence[Sequence[float]], confidence: float = CONFIDENCE, resamples: int = RESAMPLES
) -> Estimate:
    """Median of paired ratios, `groups` holding each process's per-round ratios, with a hierarchical
    bootstrap interval (processes resampled, then rounds within each); no interval below MIN_PAIRS."""
    logged = [np.log(np.asarray(group, dtype=float)) for group in groups]
    value, low, high, n = _hierarchical_median(logged, confidence, resamples)
    if low is None or high is None:
        return Estimate(float(np.exp(value)), None, None, n, HIERARCHICAL)
    return Estimate(float(np.exp(value)), float(np.exp(low)), float(np.exp(high)), n, HIERARCHICAL)


def paired_difference(
    groups: Sequence[Sequence[float]], confidence: float = CONFIDENCE, resamples: int = RESAMPLES
) -> Estimate:
    """Median of paired differences (now - baseline), grouped by process, with the same hierarchical bootstrap
    as paired_ratio: for a measure whose baseline is near zero, where a ratio would be meaningless."""
    value, low, high, n = _hierarchical_median([np.asarray(g, dtype=float) for g in groups], confidence, resamples)
    method = "median of paired per-round differences; 95% hierarchical bootstrap (processes, then rounds)"
    return Estimate(value, low, high, n, method)


def _hierarchical_median(
    groups: Sequence[np.ndarray], confidence: float, resamples: int
) -> tuple[float, float | None, float | None, int]:
    """The median of all values and its hierarchical bootstrap interval (None below MIN_PAIRS values)."""
    kept = [group for group in groups if len(group)]
    n = sum(len(group) for group in kept)
    if n == 0:
        raise ValueError("no paired values")
    value = float(np.median(np.concatenate(kept)))
    if n < MIN_PAIRS:
        return value, None, None, n
    # All resamples at once: groups padded to one width with NaN, then for each resample and slot a process
    # drawn with replacement and as many of its rounds as it has, drawn with replacement.
    sizes = np.array([len(group) for group in kept])
    padded = np.full((len(kept), sizes.max()), np.nan)
    for row, group in enumerate(kept):
        padded[row, : len(group)] = group
    rng = np.random.default_rng(SEED)
    chosen = rng.integers(0, len(kept), size=(resamples, len(kept)))
    rounds = np.floor(rng.random((resamples, len(kept), sizes.max())) * sizes[chosen][..., None]).astype(int)
    drawn = padded[chosen[..., None], rounds]
    drawn[np.arange(sizes.max()) >= sizes[chosen][..., None]] = np.nan  # a smaller process gives fewer rounds
    draws = np.nanmedian(drawn.reshape(resamples, -1), axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return value, float(low), float(high), n


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys over xs."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        raise ValueError("a slope needs at least two distinct x values")
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def slope_estimate(xs: Sequence[float], ys: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """Least-squares slope with its t interval (scipy.stats.linregress); no interval below three points."""
    value = slope(xs, ys)
    if len(xs) < 3:
        return Estimate(value, None, None, len(xs))
    from scipy import stats as scipy_stats  # here: importing scipy.stats costs ~1 s, paid by every worker otherwise

    fit = scipy_stats.linregress(xs, ys)
    stderr = float(fit.stderr)  # pyright: ignore[reportAttributeAccessIssue]  # a field scipy's stubs miss
    margin = float(scipy_stats.t.ppf((1 + confidence) / 2, len(xs) - 2)) * stderr
    return Estimate(value, value - margin, value + margin, len(xs), "least squares, t interval (scipy)")


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


def ratio_of_medians(
    numerator: Sequence[float], denominator: Sequence[float], confidence: float = CONFIDENCE, resamples: int = RESAMPLES
) -> Estimate:
    """median(numerator) / median(denominator) for two independent samples (no pairing), with a bootstrap interval
    that resamples each sample on its own; no interval below MIN_PAIRS values on either side."""
    top, bottom = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    if not len(top) or not len(bottom):
        raise ValueError("no values")
    value = float(np.median(top) / np.median(bottom))
    n = min(len(top), len(bottom))
    method = "ratio of medians; 95% bootstrap of each side"
    if n < MIN_PAIRS:
        return Estimate(value, None, None, n, method)
    rng = np.random.default_rng(SEED)
    draws = np.median(rng.choice(top, (resamples, len(top))), axis=1) / np.median(
        rng.choice(bottom, (resamples, len(bottom))), axis=1
    )
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return Estimate(value, float(low), float(high), n, method)


def difference(now: Estimate, before: Estimate) -> Estimate:
    """now - before for two independent estimates with symmetric-ish intervals (e.g. two slopes' t intervals):
    the half-widths combine as independent standard errors do (root of the sum of squares)."""
    value = now.value - before.value
    if not now.has_interval or not before.has_interval:
        return Estimate(value, None, None, min(now.n, before.n), "difference")
    assert now.low is not None and now.high is not None and before.low is not None and before.high is not None
    margin = math.hypot((now.high - now.low) / 2, (before.high - before.low) / 2)
    return Estimate(value, value - margin, value + margin, min(now.n, before.n), "difference; half-widths combined")
