"""The end-of-run table: per case and interpreter, median, spread, efficiency and ratio to taskgroup.

python -m benchmarks.summary reports/<run-id> [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.table import Table

from benchmarks import openai_lines
from benchmarks.compare import Comparison, compare
from benchmarks.results import CaseResult, ResultsError, RunResults, load_run
from benchmarks.steal import DISTURBED_ABOVE
from benchmarks.suite_results import MemoryResult, Slope
from benchmarks.terminal import table_console


def ratio_to_taskgroup(results: RunResults, case: CaseResult) -> Comparison | None:
    """This case / taskgroup, same scenario and interpreter (>1: slower than taskgroup), paired by process
    and round; None for taskgroup itself or when taskgroup was not measured."""
    reference = results.find(case.scenario, "taskgroup", case.python)
    if reference is None or reference is case:
        return None
    return compare(case, reference)


def summary_rows(results: RunResults) -> list[dict[str, object]]:
    rows = []
    for case in sorted(results.cases, key=lambda c: (c.name, c.python)):
        q1, q3 = case.quartiles_s
        ratio = ratio_to_taskgroup(results, case)
        estimate = None if ratio is None else ratio.estimate
        rows.append(
            {
                "benchmark": case.name,
                "python": case.python,
                "runs": len(case.values_s),
                "median_s": case.median_s,
                "q1_s": q1,
                "q3_s": q3,
                "critical_path_s": case.critical_path_s,
                "efficiency": case.efficiency,
                "cpu_per_call_s": case.cpu_per_call_s,
                "ratio_to_taskgroup": None if estimate is None else estimate.value,
                "ratio_to_taskgroup_ci95": None
                if estimate is None or not estimate.has_interval
                else [estimate.low, estimate.high],
                "ratio_pairs": None if ratio is None else ratio.pairs,
                "ratio_pairs_dropped": None if ratio is None else ratio.dropped,
                "ratio_note": None if ratio is None or not ratio.too_few else ratio.describe(),
                "processes": len({s.worker for s in case.samples}),
                "disturbed_values": case.disturbed_values,
                "first_chunk_median_s": case.first_chunk_median_s,
                "max_steal": case.max_steal,
                "transport": case.transport,
                "cpu_median_s": case.cpu_median_s,
                "server_cpu_median_s": case.server_cpu_median_s,
            }
        )
    return rows


def render_table(results: RunResults) -> Table:
    profile = results.manifest.get("profile", "?")
    title = f"Speed, run {results.run_dir.name} (profile {profile}): median of validated runs, one machine, one run"
    table = Table(title=title, caption=_caption(results))
    columns = (
        "benchmark",
        "python",
        "runs",
        "median",
        "IQR",
        "bound",
        "efficiency",
        "CPU/call",
        "× taskgroup",
        "1st chunk",
        "CPU",
        "server CPU",
        "steal",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("benchmark", "python") else "right", no_wrap=True)
    for row in summary_rows(results):
        first = row["first_chunk_median_s"]
        table.add_row(
            str(row["benchmark"]),
            str(row["python"]),
            str(row["runs"]),
            _ms(row["median_s"]),
            f"{_ms(row['q1_s'])}–{_ms(row['q3_s'])}",
            _ms(row["critical_path_s"]),
            "-" if row["critical_path_s"] == 0 else f"{row['efficiency']:.0%}",
            "-" if not isinstance(row["cpu_per_call_s"], float) else f"{row['cpu_per_call_s'] * 1000:.2f} ms",
            _ratio(row),
            "-" if first is None else _ms(first),
            "-" if row["cpu_median_s"] is None else _ms(row["cpu_median_s"]),
            "-" if row["server_cpu_median_s"] is None else _ms(row["server_cpu_median_s"]),
            _steal(row["max_steal"]),
        )
    return table


def render_users_table(results: RunResults) -> Table:
    table = Table(title="Concurrent users: K runs at once in one process (scenario alone), validated")
    columns = ("variant", "python", "transport", "users", "runs/s", "p50", "p99", "threads", "peak RSS", "fds")
    for column in (*columns, "server CPU", "stopped"):
        table.add_column(column, justify="left" if column in ("variant", "python", "transport", "stopped") else "right")
    for row in users_rows(results):
        head = (row["variant"], row["python"], row["transport"], str(row.get("users") or "-"))
        if row.get("stopped"):
            table.add_row(*head, *[""] * 7, str(row["stopped"]))
            continue
        server = row.get("server_cpu_s")
        table.add_row(
            *head,
            f"{row['throughput_runs_per_s']:.1f}",
            _ms(row["p50_s"]),
            _ms(row["p99_s"]),
            str(row["peak_threads"]),
            f"{row['rss_bytes'] / 2**20:.0f} MiB",
            str(row.get("peak_fds") or "-"),
            "-" if server is None else f"{server:.1f} s",
            "",
        )
    return table


def users_rows(results: RunResults) -> list[dict[str, Any]]:
    """Per variant, interpreter and level of the concurrent-users sweep: what was measured, or why it stopped."""
    rows = []
    for python in sorted(results.users):
        measured = results.users[python]
        transport = measured.get("transport", "respx")
        for variant, levels in sorted(measured.get("variants", {}).items()):
            for level in levels:
                rows.append({"variant": variant, "python": python, "transport": transport, **level})
    return rows


def instruction_rows(results: RunResults) -> list[dict[str, Any]]:
    """Per case and interpreter: median instructions per zero-latency run, spread, ratios to taskgroup and 3.11."""
    rows = []
    for python, measured in sorted(results.instructions.items()):
        for name, case in sorted(measured.cases.items()):
            reference = measured.cases.get(f"{case.scenario}/taskgroup")
            baseline = results.instructions.get("3.11")
            older = None if baseline is None or python == "3.11" else baseline.cases.get(name)
            rows.append(
                {
                    "case": name,
                    "python": python,
                    "runs": len(case.instructions),
                    "median": case.median,
                    "spread": (max(case.instructions) - min(case.instructions)) / min(case.instructions),
                    "ratio_to_taskgroup": None if reference is None else case.median / reference.median,
                    "ratio_to_311": None if older is None else older.median / case.median,
                }
            )
    return rows


def render_instructions_table(results: RunResults) -> Table:
    table = Table(
        title="Instructions per zero-latency run (valgrind callgrind): the same whatever the machine's load",
        caption="median of the counted runs; spread = (max - min) / min; × taskgroup = this / taskgroup's count; "
        "3.11 / this = fewer instructions than on 3.11 when above 1",
    )
    for column in ("case", "python", "runs", "instructions", "spread", "× taskgroup", "3.11 / this"):
        table.add_column(column, justify="left" if column in ("case", "python") else "right")
    for row in instruction_rows(results):
        table.add_row(
            row["case"],
            row["python"],
            str(row["runs"]),
            f"{row['median'] / 1e6:,.1f} M",
            f"{row['spread']:.2%}",
            _optional_ratio(row["ratio_to_taskgroup"]),
            _optional_ratio(row["ratio_to_311"]),
        )
    for python, measured in sorted(results.instructions.items()):
        if measured.unavailable:
            table.add_row("-", python, "", "", "", "", f"not measured: {measured.unavailable}")
    return table


def _optional_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


MEMORY_COLUMNS = ("rss", "uss", "vms", "tracemalloc_peak", "memray_peak")


def render_memory_table(memory: dict[str, MemoryResult]) -> Table:
    """Per variant and interpreter: memory per concurrent operation (slope over K) in each metric."""
    table = Table(
        title="Memory per concurrent operation: slope over K calls in flight, [95% bootstrap interval]",
        caption="rss/uss/vms: process growth at the peak (psutil); tracemalloc_peak, memray_peak: traced heap",
    )
    own = sorted(
        {name for result in memory.values() for v in result.variants.values() for name in v.own_peak_rss_bytes}
    )
    for column in (
        "variant",
        "python",
        "transport",
        *MEMORY_COLUMNS,
        "threads/op",
        "report-25 peak RSS",
        *(f"{n} peak RSS" for n in own),
    ):
        table.add_column(column, justify="left" if column in ("variant", "python", "transport") else "right")
    for python in sorted(memory):
        transport = str(memory[python].environment.get("transport", "respx"))  # results before it was recorded: respx
        for variant, result in memory[python].variants.items():
            cells = [_kib(result.slope(metric)) for metric in MEMORY_COLUMNS]
            per_op = result.threads_per_operation.per_operation
            threads = "-" if per_op is None else f"{per_op:.2f}"
            peaks = [result.process.get("report25_peak_rss_bytes"), *(result.own_peak_rss_bytes.get(n) for n in own)]
            table.add_row(
                variant,
                python,
                transport,
                *cells,
                threads,
                *("-" if p is None else f"{p / 2**20:.0f} MiB" for p in peaks),
            )
    return table


def _kib(estimate: Slope) -> str:
    value, low, high = estimate.per_operation, estimate.low, estimate.high
    if value is None:
        return "-"
    if low is None or high is None:
        return f"{value / 1024:.1f} KiB"
    return f"{value / 1024:.1f} KiB [{low / 1024:.1f}–{high / 1024:.1f}]"


def _steal(fraction: object) -> str:
    """The worst CPU steal during the case's values; red when the verdicts will not trust it."""
    if not isinstance(fraction, float):
        return "-"
    return f"[red]{fraction:.0%}[/]" if fraction > DISTURBED_ABOVE else f"{fraction:.0%}"


def _ratio(row: dict[str, object]) -> str:
    ratio, interval, pairs = row["ratio_to_taskgroup"], row["ratio_to_taskgroup_ci95"], row["ratio_pairs"]
    if row["ratio_note"]:
        return f"[yellow]too few values ({pairs} pairs)[/]"
    if not isinstance(ratio, float) or not isinstance(interval, list):
        return "-"
    return f"{ratio:.2f} [{interval[0]:.2f}–{interval[1]:.2f}] n={pairs}"


def _caption(results: RunResults) -> str:
    parts = [
        "runs = validated values (processes x rounds); efficiency = critical-path bound / median (- at zero latency: "
        "the run is all overhead); CPU/call = the measuring process's median CPU per run (every thread; over respx "
        "the mock's too) / the LLM and market-data calls a run makes (the layers suite says where it goes); "
        "× taskgroup = median of the per-round ratios to taskgroup, same scenario, Python, "
        "process and round, [95% hierarchical bootstrap interval], n = pairs; "
        f"steal = most CPU time the host took while a value ran (a pair with a value over {DISTURBED_ABOVE:.0%} is "
        "dropped from ratios)",
    ]
    if results.missing:
        parts += [f"python{v} {results.why_missing(v)}" for v in results.missing]
    return "\n".join(parts)


def _ms(seconds: object) -> str:
    assert isinstance(seconds, float)
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.3f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.summary", description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        results = load_run(args.run_dir)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        rows = summary_rows(results)
        print(
            json.dumps(
                {
                    "run_id": args.run_dir.name,
                    "missing": results.missing,
                    "rows": rows,
                    "users": results.users,
                    "memory": {python: asdict(memory)["variants"] for python, memory in results.memory.items()},
                    "instructions": instruction_rows(results),
                    "openai_lines": openai_lines.line_rows(results),
                    "instructions_unavailable": {
                        python: measured.unavailable
                        for python, measured in results.instructions.items()
                        if measured.unavailable
                    },
                }
            )
        )
        return 0
    console = table_console()
    if not (results.cases or results.memory):
        console.print(f"[yellow]{args.run_dir}: no results yet[/]")
        return 1
    if results.cases:
        console.print(render_table(results))
    if results.users:
        console.print(render_users_table(results))
    if results.openai_compared:
        console.print(openai_lines.render_table(openai_lines.line_rows(results)))
    if results.memory:
        console.print(render_memory_table(results.memory))
    if results.instructions:
        console.print(render_instructions_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
