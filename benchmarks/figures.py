"""matplotlib figures for the report, one per claim that registers a drawer, drawn from the verdicts' evidence.

Every figure shows each figure's 95% interval as an error bar and the claim's threshold as a line,
so a reader sees at a glance which side of the line the interval falls. PNG, no network, Agg backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from benchmarks.claims import REGISTRY, Verdict
from benchmarks.claims.plot import FIGURE_SIZE
from benchmarks.results import RunResults


def draw_all(verdicts: Sequence[Verdict], results: RunResults, folder: Path) -> dict[str, str]:
    """Claim id -> figure file name (relative to the report folder) for every claim with evidence to draw."""
    folder.mkdir(parents=True, exist_ok=True)
    drawers = {entry.claim.id: entry.draw for entry in REGISTRY}
    drawn: dict[str, str] = {}
    for verdict in verdicts:
        drawer = drawers.get(verdict.claim.id)
        if drawer is None or not verdict.evidence:
            continue
        figure, axes = plt.subplots(figsize=FIGURE_SIZE, layout="constrained")
        try:
            drawer(axes, verdict, results)
            name = f"{verdict.claim.id.lower()}.png"
            figure.savefig(folder / name, dpi=110)
            drawn[verdict.claim.id] = f"{folder.name}/{name}"
        finally:
            plt.close(figure)
    return drawn
