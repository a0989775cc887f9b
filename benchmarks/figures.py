"""matplotlib figures for the report, one per claim that registers a drawer, drawn from the verdicts' evidence.

Every figure shows each figure's 95% interval as an error bar and the claim's threshold as a line,
so a reader sees at a glance which side of the line the interval falls. PNG, no network, Agg backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from benchmarks.claims import REGISTRY, Verdict
from benchmarks.claims.plot import FIGURE_SIZE
from benchmarks.interpreters import version_key
from benchmarks.layer_map import LAYERS
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


def draw_layers(rows: Sequence[dict[str, Any]], folder: Path) -> dict[str, str]:
    """Per profiled scenario on the newest interpreter: a bar per variant, its CPU per call split by layer.
    Scenario -> figure file name (relative to the report folder); empty when nothing was profiled."""
    if not rows:
        return {}
    newest = max((str(row["python"]) for row in rows), key=version_key)
    drawn: dict[str, str] = {}
    folder.mkdir(parents=True, exist_ok=True)
    for scenario in sorted({str(row["scenario"]) for row in rows if row["python"] == newest}):
        chosen = [row for row in rows if row["python"] == newest and row["scenario"] == scenario]
        figure, axes = plt.subplots(figsize=(FIGURE_SIZE[0], 2.2 + 0.45 * len(chosen)), layout="constrained")
        try:
            labels = [str(row["case"]).split("/", 1)[1] for row in chosen]
            left = [0.0] * len(chosen)
            for index, layer in enumerate(LAYERS):
                widths = [row["layers"][index]["share"] * row["cpu_per_call_s"] * 1000 for row in chosen]
                axes.barh(labels, widths, left=left, color=layer.color, label=layer.title)
                left = [a + b for a, b in zip(left, widths, strict=True)]
            axes.invert_yaxis()
            axes.set_xlabel("CPU per call (ms), split by layer (shares of py-spy samples)")
            axes.set_title(f"{scenario} on Python {newest}: where the CPU of a call goes", fontsize="medium")
            figure.legend(fontsize="x-small", ncols=4, loc="outside lower center")  # below: never over a bar
            name = f"layers-{scenario.replace('@', '-')}.png"
            figure.savefig(folder / name, dpi=110)
            drawn[scenario] = f"{folder.name}/{name}"
        finally:
            plt.close(figure)
    return drawn
