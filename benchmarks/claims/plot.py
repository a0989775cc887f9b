"""Drawing helpers the claim modules' figures share (matplotlib, Agg): error bars from intervals, ratio rows."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes

from benchmarks.claims.base import Evidence

FIGURE_SIZE = (7.5, 4.2)
TOO_FEW = "too few values: no interval (not counted)"


def errors(rows: Sequence[Evidence]) -> list[list[float]]:
    """Asymmetric error bars from each row's interval (zero where a row has none)."""
    below = [r.value - r.low if r.low is not None else 0.0 for r in rows]
    above = [r.high - r.value if r.high is not None else 0.0 for r in rows]
    return [below, above]


def mark_too_few(axes: Axes, points: Sequence[tuple[float, float, Evidence]]) -> None:
    """A red cross on every figure that had too few (undisturbed) pairs for an interval: shown, not counted."""
    marked = [(x, y) for x, y, row in points if row.note]
    if marked:
        once = TOO_FEW if TOO_FEW not in axes.get_legend_handles_labels()[1] else None
        axes.scatter([x for x, _ in marked], [y for _, y in marked], marker="x", s=80, color="red", zorder=5,
                     label=once)  # fmt: skip


def horizontal_ratios(axes: Axes, rows: Sequence[Evidence], xlabel: str) -> None:
    labels = [f"{r.label} ({r.python}){'' if r.primary else ' [context]'}" for r in rows]
    axes.errorbar([r.value for r in rows], range(len(rows)), xerr=errors(rows), fmt="o", capsize=3)
    mark_too_few(axes, [(r.value, float(i), r) for i, r in enumerate(rows)])
    axes.set_yticks(list(range(len(rows))), labels, fontsize="x-small")
    axes.axvline(1, color="grey", linewidth=0.8)
    axes.set_xlabel(xlabel)
