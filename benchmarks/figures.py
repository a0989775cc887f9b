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


def draw_users(rows: Sequence[dict[str, object]], folder: Path) -> str | None:
    """Per-run latency (p50 solid, p99 dashed) against concurrent users, a line per variant and interpreter;
    None when no level was measured. Log-log: the levels go 1, 10, ... 10,000."""
    measured = [row for row in rows if not row.get("stopped")]
    if not measured:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(figsize=FIGURE_SIZE, layout="constrained")
    try:
        series = sorted({(str(row["variant"]), str(row["python"])) for row in measured})
        for index, (variant, python) in enumerate(series):
            points = sorted(
                (int(str(row["users"])), float(str(row["p50_s"])), float(str(row["p99_s"])))
                for row in measured
                if row["variant"] == variant and row["python"] == python
            )
            users = [p[0] for p in points]
            color = f"C{index % 10}"
            axes.plot(users, [p[1] for p in points], "o-", color=color, label=f"{variant} (Python {python}) p50")
            axes.plot(users, [p[2] for p in points], "x--", color=color, alpha=0.6)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("concurrent users (runs at once in one process)")
        axes.set_ylabel("seconds per run (p50 solid, p99 dashed)")
        axes.legend(fontsize="small")
        name = "users.png"
        figure.savefig(folder / name, dpi=110)
        return f"{folder.name}/{name}"
    finally:
        plt.close(figure)
