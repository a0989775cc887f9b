"""One history figure: a measure of one case across runs, a line per interpreter, gaps where a run has no value,
detected steps marked. PNG, Agg backend, nothing fetched."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from benchmarks.history import MEASURES, Point
from benchmarks.steps import Step

_SCALE = {"s": (1000.0, "ms"), "bytes": (1 / 1024, "KiB")}


def draw_history(
    path: Path,
    title: str,
    measure: str,
    lines: dict[str, list[Point]],
    steps: dict[str, Sequence[Step]],
    labels: Sequence[str],
) -> None:
    """`lines`: interpreter -> one point per run (the same runs, in order, for every interpreter); `labels`: the
    runs' x-axis labels (short commits)."""
    unit = MEASURES[measure].unit
    factor, unit_label = _SCALE.get(unit, (1e-6, "M") if measure == "instructions" else (1.0, ""))
    figure, axes = plt.subplots(figsize=(8.0, 3.0), layout="constrained")
    try:
        xs = list(range(len(labels)))
        for python, points in sorted(lines.items()):
            ys = [math.nan if value is None else value.value * factor for _, value in points]
            (line,) = axes.plot(xs, ys, marker="o", markersize=3, linewidth=1.2, label=f"Python {python}")
            for step in steps.get(python, ()):
                colour = "#c0392b" if step.kind == "regression" else "#1e8449"
                axes.axvline(step.index - 0.5, color=colour, linestyle="--", linewidth=1)
                axes.annotate(
                    f"{step.ratio - 1:+.0%}",
                    (step.index - 0.5, step.after * factor),
                    color=colour,
                    fontsize=8,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
            line.set_gid(python)
        axes.set_title(title, fontsize=10)
        axes.set_ylabel(f"{MEASURES[measure].title.split(' (')[0]}" + (f" ({unit_label})" if unit_label else ""))
        axes.set_xticks(xs, list(labels), rotation=60, fontsize=7)
        axes.set_ylim(bottom=0)
        axes.grid(axis="y", alpha=0.3)
        axes.legend(fontsize=8, loc="lower left")
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=90)
    finally:
        plt.close(figure)
