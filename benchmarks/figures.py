"""matplotlib figures for the report, one per claim that has a picture, drawn from the verdicts' evidence.

Every figure shows each figure's 95% interval as an error bar and the claim's threshold as a line,
so a reader sees at a glance which side of the line the interval falls. PNG, no network, Agg backend.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from benchmarks.results import RunResults
from benchmarks.verdicts import C2_REDUCTION, C3_SPEEDUP, C4_MARGIN, Evidence, Verdict

FIGURE_SIZE = (7.5, 4.2)
VARIANT_ORDER = ("threads", "legacy", "gather", "taskgroup")


def draw_all(verdicts: Sequence[Verdict], results: RunResults, folder: Path) -> dict[str, str]:
    """Claim id -> figure file name (relative to the report folder) for every claim with evidence to draw."""
    folder.mkdir(parents=True, exist_ok=True)
    drawers: dict[str, Callable[[Axes, Verdict, RunResults], None]] = {
        "C1": _speedup_by_fanout,
        "C2": _memory_per_metric,
        "C3": _per_interpreter,
        "C4": _taskgroup_over_gather,
        "C5": _first_chunk,
        "C7": _time_to_failure,
    }
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


def _errors(rows: Sequence[Evidence]) -> list[list[float]]:
    """Asymmetric error bars from each row's interval (zero where a row has none)."""
    below = [r.value - r.low if r.low is not None else 0.0 for r in rows]
    above = [r.high - r.value if r.high is not None else 0.0 for r in rows]
    return [below, above]


def _mark_disturbed(axes: Axes, points: Sequence[tuple[float, float, Evidence]]) -> None:
    """A red cross on every figure measured under heavy CPU steal: shown, but not counted by the verdict."""
    marked = [(x, y) for x, y, row in points if row.facts.get("disturbed")]
    label = "disturbed by CPU steal (not counted)"
    if marked:
        once = label if label not in axes.get_legend_handles_labels()[1] else None
        axes.scatter([x for x, _ in marked], [y for _, y in marked], marker="x", s=80, color="red", zorder=5,
                     label=once)  # fmt: skip


def _speedup_by_fanout(axes: Axes, verdict: Verdict, _: RunResults) -> None:
    series: dict[tuple[str, str], list[Evidence]] = defaultdict(list)
    for row in verdict.evidence:
        if str(row.facts["scenario"]).startswith("fanout-"):
            series[str(row.facts["pool"]), row.python].append(row)
    for (pool, python), rows in sorted(series.items()):
        rows.sort(key=lambda r: r.facts["fanout"])
        xs = [r.facts["fanout"] for r in rows]
        axes.errorbar(xs, [r.value for r in rows], yerr=_errors(rows), marker="o", capsize=3,
                      label=f"pool {pool}, Python {python}")  # fmt: skip
        _mark_disturbed(axes, [(x, r.value, r) for x, r in zip(xs, rows, strict=True)])
    axes.axhspan(2, 5, color="tab:green", alpha=0.12, label="claimed 2-5x")
    axes.axhline(1, color="grey", linewidth=0.8)
    axes.set_xscale("log")
    axes.set_xlabel("market-data calls in flight (fan-out, log scale)")
    axes.set_ylabel("threads time / taskgroup time")
    axes.set_title("C1: speed-up of taskgroup over threads by fan-out and pool size")
    axes.legend(fontsize="small")


def _memory_per_metric(axes: Axes, verdict: Verdict, _: RunResults) -> None:
    newest = max((r.python for r in verdict.evidence), key=lambda p: tuple(map(int, p.split("."))))
    rows = [r for r in verdict.evidence if r.python == newest]
    labels = [str(r.facts["metric"]) for r in rows]
    positions = range(len(rows))
    width = 0.38
    for offset, key, name in ((-width / 2, "threads_per_operation", "threads"),
                              (width / 2, "taskgroup_per_operation", "taskgroup")):  # fmt: skip
        values = [max(float(r.facts[key] or 0) / 1024, 0.01) for r in rows]
        intervals = [r.facts.get(f"{key}_ci") or [v * 1024, v * 1024] for r, v in zip(rows, values, strict=True)]
        errors = [[max(v - low / 1024, 0) for v, (low, _) in zip(values, intervals, strict=True)],
                  [max(high / 1024 - v, 0) for v, (_, high) in zip(values, intervals, strict=True)]]  # fmt: skip
        axes.bar([p + offset for p in positions], values, width, yerr=errors, capsize=3, label=name)
    axes.set_yscale("log")
    axes.set_xticks(list(positions), labels)
    axes.set_ylabel("KiB per concurrent operation (log scale)")
    axes.axhline(32, color="tab:green", linestyle=":", label="claimed async ~32 KB")
    axes.axhline(8 * 1024, color="tab:red", linestyle=":", label="claimed threads ~8 MB")
    axes.set_title(f"C2: memory per operation by metric, Python {newest} (reduction needed: {C2_REDUCTION:.0%})")
    axes.legend(fontsize="small")


def _per_interpreter(axes: Axes, verdict: Verdict, _: RunResults) -> None:
    measures = sorted({str(r.facts["measure"]) for r in verdict.evidence})
    pythons = sorted({r.python for r in verdict.evidence})
    width = 0.8 / max(len(pythons), 1)
    for index, python in enumerate(pythons):
        rows = [next((r for r in verdict.evidence if r.python == python and r.facts["measure"] == m), None)
                for m in measures]  # fmt: skip
        present = [(i, r) for i, r in enumerate(rows) if r is not None]
        axes.bar([i + index * width for i, _ in present], [r.value for _, r in present], width,
                 yerr=_errors([r for _, r in present]), capsize=3, label=f"Python {python} vs 3.11")  # fmt: skip
        _mark_disturbed(axes, [(i + index * width, r.value, r) for i, r in present])
    axes.axhline(1.75, color="tab:green", linestyle=":", label="claimed 1.75x")
    axes.axhline(C3_SPEEDUP, color="tab:orange", linestyle="--", label=f"threshold {C3_SPEEDUP}x")
    axes.axhline(1, color="grey", linewidth=0.8)
    axes.set_xticks([i + width * (len(pythons) - 1) / 2 for i in range(len(measures))],
                    [m.replace(" (microbenchmark)", "\n(micro)").replace(", ", ",\n") for m in measures],
                    fontsize="small")  # fmt: skip
    axes.set_ylabel("speed-up over Python 3.11")
    axes.set_title("C3: what moved from 3.11 to 3.12+")
    axes.legend(fontsize="small")


def _horizontal_ratios(axes: Axes, rows: Sequence[Evidence], xlabel: str) -> None:
    labels = [f"{r.label} ({r.python})" for r in rows]
    axes.errorbar([r.value for r in rows], range(len(rows)), xerr=_errors(rows), fmt="o", capsize=3)
    _mark_disturbed(axes, [(r.value, float(i), r) for i, r in enumerate(rows)])
    axes.set_yticks(list(range(len(rows))), labels, fontsize="x-small")
    axes.axvline(1, color="grey", linewidth=0.8)
    axes.set_xlabel(xlabel)


def _taskgroup_over_gather(axes: Axes, verdict: Verdict, _: RunResults) -> None:
    rows = sorted(verdict.evidence, key=lambda r: (r.python, r.label))
    _horizontal_ratios(axes, rows, "taskgroup time / gather time (below 1: taskgroup faster)")
    axes.axvline(C4_MARGIN, color="tab:orange", linestyle="--", label="5% margin")
    axes.set_title("C4: taskgroup against gather, per case")
    axes.legend(fontsize="small")


def _first_chunk(axes: Axes, verdict: Verdict, results: RunResults) -> None:
    rows = sorted(verdict.evidence, key=lambda r: (r.python, r.label))
    groups = [(r.python, str(r.facts["scenario"])) for r in rows]
    width = 0.8 / len(VARIANT_ORDER)
    for index, variant in enumerate(VARIANT_ORDER):
        xs, ys = [], []
        for position, (python, scenario) in enumerate(groups):
            case = results.find(scenario, variant, python)
            if case is not None and case.first_chunk_median_s is not None:
                xs.append(position + index * width)
                ys.append(case.first_chunk_median_s * 1000)
        axes.bar(xs, ys, width, label=variant)
    for position, row in enumerate(rows):
        bound = row.facts.get("bound_first_chunk_s")
        if bound:
            axes.hlines(bound * 1000, position - width / 2, position + 0.8, colors="black", linestyles=":")
    axes.set_xticks([p + 0.4 - width / 2 for p in range(len(groups))], [f"{s}\n{p}" for p, s in groups])
    axes.set_ylabel("time to first content chunk, ms (median)")
    axes.set_title("C5: when the user sees the first words (dotted: critical-path bound)")
    axes.legend(fontsize="small")


def _time_to_failure(axes: Axes, verdict: Verdict, results: RunResults) -> None:
    rows = sorted(verdict.evidence, key=lambda r: r.python)
    width = 0.8 / len(VARIANT_ORDER)
    for index, variant in enumerate(VARIANT_ORDER):
        xs, ys, errors = [], [], [[], []]
        for position, row in enumerate(rows):
            case = results.find(str(row.facts["scenario"]), variant, row.python)
            if case is None:
                continue
            q1, q3 = case.quartiles_s
            xs.append(position + index * width)
            ys.append(case.median_s * 1000)
            errors[0].append((case.median_s - q1) * 1000)
            errors[1].append((q3 - case.median_s) * 1000)
        axes.bar(xs, ys, width, yerr=errors, capsize=3, label=variant)
    axes.set_xticks([p + 0.4 - width / 2 for p in range(len(rows))], [f"{r.label}\n{r.python}" for r in rows])
    axes.set_ylabel("time to the RunError, ms (median, IQR)")
    axes.set_title("C7: time to report an injected failure")
    axes.legend(fontsize="small")
