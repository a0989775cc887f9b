"""Two openai SDK lines side by side: the second line's speed values paired with the first's, case by case.

`nox -s bench -- --openai 2 --openai 3` measures the newest interpreter's workloads (not the sweeps)
with both SDK lines, their worker processes alternating (benchmarks/speed.py), so a value and its
partner were taken one process apart under the same load: the same paired comparison as every
verdict (benchmarks/compare.py). This is context, not a claim of the planning document: what a user
upgrading the SDK would see in this workflow.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from benchmarks.compare import Comparison, Measure, compare
from benchmarks.results import CaseResult, ComparedLine, RunResults
from benchmarks.stats import Estimate

SAME_WITHIN = 0.05  # a ratio whose whole interval lies within 5% of 1 reads "the same": smaller is not a difference
# this suite can tell from one run on this machine (the gate's wall-time threshold)


def reading(estimate: Estimate | None) -> str:
    """What a second-line / first-line ratio says, in words: slower, faster, the same within 5%, or unclear."""
    if estimate is None or estimate.low is None or estimate.high is None:
        return "too few values"
    if estimate.low > 1:
        return "slower"
    if estimate.high < 1:
        return "faster"
    if estimate.low >= 1 - SAME_WITHIN and estimate.high <= 1 + SAME_WITHIN:
        return f"the same within {SAME_WITHIN:.0%}"
    return "no clear difference"


def _ratio(second: CaseResult, first: CaseResult, measure: Measure) -> Comparison | None:
    if measure == "first_chunk" and not (second.first_chunk_s and first.first_chunk_s):
        return None
    return compare(second, first, measure)


def _estimate_fields(comparison: Comparison | None, prefix: str) -> dict[str, Any]:
    estimate = None if comparison is None else comparison.estimate
    interval = None if estimate is None or not estimate.has_interval else [estimate.low, estimate.high]
    return {
        f"{prefix}ratio": None if estimate is None else estimate.value,
        f"{prefix}ci": interval,
        f"{prefix}reading": "-" if comparison is None else reading(estimate),
    }


def line_rows(results: RunResults) -> list[dict[str, Any]]:
    """Per case of each second line: both medians and CPU times, and second / first for wall time and first chunk."""
    rows = []
    for compared in sorted(results.openai_compared.values(), key=lambda line: line.label):
        own = {case.name: case for case in results.cases if case.python == compared.python}
        versions = _versions(results, compared)
        for second in sorted(compared.cases, key=lambda case: case.name):
            first = own.get(second.name)
            if first is None:  # the first line's case failed or was not measured: said in the gaps
                continue
            wall = _ratio(second, first, "wall")
            rows.append(
                {
                    "case": second.name,
                    "python": compared.python,
                    **versions,
                    "first_median_s": first.median_s,
                    "second_median_s": second.median_s,
                    "first_cpu_s": first.cpu_median_s,
                    "second_cpu_s": second.cpu_median_s,
                    "pairs": 0 if wall is None else wall.pairs,
                    "note": wall.describe() if wall is not None and wall.too_few else "",
                    **_estimate_fields(wall, ""),
                    **_estimate_fields(_ratio(second, first, "first_chunk"), "first_chunk_"),
                }
            )
    return rows


def _versions(results: RunResults, compared: ComparedLine) -> dict[str, str]:
    first = results.environments.get(compared.python, {})
    return {
        "first_openai": str(first.get("version_openai", "?")),
        "second_openai": str(compared.environment.get("version_openai", "?")),
    }


def headline(rows: list[dict[str, Any]]) -> str:
    """One sentence over every compared case: how many read slower, faster, the same, or unclear."""
    if not rows:
        return ""
    first, second = rows[0]["first_openai"], rows[0]["second_openai"]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["reading"]] = counts.get(row["reading"], 0) + 1
    ratios = [row["ratio"] for row in rows if row["ratio"] is not None]
    spread = f"; wall-time ratios {min(ratios):.3g} to {max(ratios):.3g}" if ratios else ""
    said = ", ".join(f"{count} {what}" for what, count in sorted(counts.items(), key=lambda item: -item[1]))
    return f"openai {second} against {first}, {len(rows)} cases measured side by side: {said}{spread}."


def render_table(rows: list[dict[str, Any]]) -> Table:
    """The rows for a terminal."""
    table = Table(
        title="openai SDK lines side by side (second / first, paired values, 95% interval)", caption=headline(rows)
    )
    for column in ("case", "python", "openai", "median", "ratio", "interval", "reads", "first chunk", "pairs"):
        table.add_column(column, justify="right" if column in ("median", "ratio", "pairs") else "left")
    for row in rows:
        interval = row["note"] or "-" if row["ci"] is None else f"{row['ci'][0]:.3f} to {row['ci'][1]:.3f}"
        chunk = row["first_chunk_ratio"]
        table.add_row(
            row["case"],
            row["python"],
            f"{row['first_openai']} -> {row['second_openai']}",
            f"{row['first_median_s'] * 1000:.0f} -> {row['second_median_s'] * 1000:.0f} ms",
            "-" if row["ratio"] is None else f"{row['ratio']:.3f}",
            interval,
            row["reading"],
            "-" if chunk is None else f"{chunk:.3f} ({row['first_chunk_reading']})",
            str(row["pairs"]),
        )
    return table
