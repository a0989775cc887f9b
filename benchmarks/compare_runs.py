"""Two runs side by side: every case and measure both have, B / A with its 95% interval, decided as the gate decides.

    python -m benchmarks.compare_runs RUN_A RUN_B [--out DIR]        (nox -s compare -- RUN_A RUN_B)

RUN_A and RUN_B are run folders (reports/<run-id>) or distilled runs (results/<machine>/<...>.json). Two runs are
measured minutes or days apart, so their values are not paired (`nox -s gate` pairs them by measuring both sides in
one interleaved run; this reads what is stored). The interval of B / A: for a measure stored with its raw values
(wall time, first chunk, instructions) a bootstrap that resamples each side's values (stats.ratio_of_medians); for
one stored as an estimate with an interval (memory per operation, × taskgroup), the two intervals' half-widths in
log space combined as independent errors. The decision is the gate's (gate_rules.judge) with the gate's threshold
for the measure (`overhead` for wall time at zero latency); nothing fails: the exit code is 0 whatever changed, 2
when an input cannot be read. Runs from different machines or transports are compared only with a warning.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from rich.table import Table

from benchmarks.gate_rules import Decision, Thresholds, judge, load_thresholds
from benchmarks.history import MEASURES, HistoryError, RunRecord, Value, distill, read_record
from benchmarks.results import ResultsError
from benchmarks.run_dir import atomic_write_json, atomic_write_text
from benchmarks.stats import MIN_PAIRS, Estimate, ratio_of_medians
from benchmarks.terminal import table_console

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
SITE_TEMPLATES = Path(__file__).parent / "templates" / "site"
Z95 = 1.959964


@dataclass(frozen=True)
class Row:
    case: str
    python: str
    measure: str
    a: float
    b: float
    ratio: float  # b / a
    low: float | None
    high: float | None
    threshold: float
    decision: Decision
    method: str

    @property
    def change(self) -> str:
        return f"{self.ratio - 1:+.1%}"

    @property
    def interval(self) -> str:
        return "-" if self.low is None or self.high is None else f"{self.low - 1:+.1%} to {self.high - 1:+.1%}"


def load_side(path: Path) -> RunRecord:
    """A run folder distilled on the fly, or a distilled run file; HistoryError names what cannot be read."""
    if path.is_dir():
        try:
            return distill(path)
        except ResultsError as exc:
            raise HistoryError(str(exc)) from exc
    return read_record(path)


def threshold_key(case: str, measure: str) -> str:
    return "overhead" if measure == "wall" and "@zero" in case else MEASURES[measure].threshold


def compare_runs(a: RunRecord, b: RunRecord, thresholds: Thresholds | None = None) -> list[Row]:
    """Every (case, python, measure) both runs have, B against A."""
    thresholds = thresholds or load_thresholds(PYPROJECT)
    rows = []
    for key in sorted(set(a.values) & set(b.values)):
        case, python, measure = key
        estimate, method = _estimate(a.values[key], b.values[key])
        if estimate is None:
            continue  # a value of zero or below: no ratio to state
        threshold = thresholds.of(threshold_key(case, measure))
        rows.append(
            Row(
                case,
                python,
                measure,
                a.values[key].value,
                b.values[key].value,
                estimate.value,
                estimate.low,
                estimate.high,
                threshold,
                judge(estimate, threshold),
                method,
            )
        )
    return rows


def _estimate(a: Value, b: Value) -> tuple[Estimate | None, str]:
    if a.value <= 0 or b.value <= 0:
        return None, ""
    if len(a.samples) >= MIN_PAIRS and len(b.samples) >= MIN_PAIRS:
        return ratio_of_medians(b.samples, a.samples), "ratio of medians; bootstrap of each run's values"
    value = b.value / a.value
    errors = [_log_error(side) for side in (a, b)]
    if any(error is None for error in errors):
        return Estimate(value, None, None, 0, "ratio; no interval"), "ratio; a side has no interval"
    margin = Z95 * math.hypot(*(error for error in errors if error is not None))
    low, high = value * math.exp(-margin), value * math.exp(margin)
    return Estimate(value, low, high, 0, "ratio of estimates"), "ratio; intervals combined in log space"


def _log_error(side: Value) -> float | None:
    """The standard error of log(value), from its 95% interval (None when it has none or it reaches zero)."""
    if side.low is None or side.high is None or side.low <= 0:
        return None
    return (math.log(side.high) - math.log(side.low)) / (2 * Z95)


def warnings(a: RunRecord, b: RunRecord) -> list[str]:
    found = []
    for what, left, right in (("machines", a.machine, b.machine), ("transports", a.transport, b.transport)):
        if left != right:
            found.append(f"different {what} ({left} vs {right}): a change may be the {what[:-1]}, not the code")
    return found


def to_json(rows: list[Row], a: RunRecord, b: RunRecord) -> dict[str, Any]:
    return {
        "a": {"run_id": a.run_id, "commit": a.commit, "machine": a.machine, "transport": a.transport},
        "b": {"run_id": b.run_id, "commit": b.commit, "machine": b.machine, "transport": b.transport},
        "warnings": warnings(a, b),
        "rows": [asdict(row) | {"change": row.change} for row in rows],
    }


def amount(value: float, measure: str) -> str:
    unit = MEASURES[measure].unit
    if unit == "s":
        return f"{value * 1000:.1f} ms"
    if unit == "bytes":
        return f"{value / 1024:,.1f} KiB"
    return f"{value / 1e6:,.1f} M" if measure == "instructions" else f"{value:.2f}"


def render_table(rows: list[Row], a: RunRecord, b: RunRecord) -> Table:
    table = Table(
        title=f"{b.run_id} ({b.commit[:10]}) against {a.run_id} ({a.commit[:10]})",
        caption="change = B / A - 1 with its 95% interval; decided as the gate decides, nothing fails",
    )
    for column in ("measure", "case", "python", "A", "B", "change", "95% interval", "threshold", "decision"):
        table.add_column(column)
    styles = {"regression": "red", "faster": "green", "slower, within threshold": "yellow"}
    for row in rows:
        table.add_row(
            row.measure,
            row.case,
            row.python,
            amount(row.a, row.measure),
            amount(row.b, row.measure),
            row.change,
            row.interval,
            f"±{row.threshold:.0%}",
            f"[{styles.get(row.decision, 'default')}]{row.decision}",
        )
    return table


def compare_page(rows: Sequence[Row], a: RunRecord, b: RunRecord, root: str | None) -> str:
    """The comparison as an HTML page; `root`: the relative path to the site's root for its links (None: standalone,
    as `nox -s compare` writes it)."""
    shown = [
        asdict(row)
        | {"change": row.change, "interval": row.interval}
        | {"a_text": amount(row.a, row.measure), "b_text": amount(row.b, row.measure)}
        for row in rows
    ]
    environment = Environment(loader=FileSystemLoader(SITE_TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    return environment.get_template("compare.html.j2").render(
        a=a, b=b, rows=shown, warnings=warnings(a, b), root=root, measures=MEASURES
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare_runs", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("a", type=Path, metavar="RUN_A")
    parser.add_argument("b", type=Path, metavar="RUN_B")
    parser.add_argument("--out", type=Path, help="where compare.json and compare.html go (default reports/compare/)")
    args = parser.parse_args(argv)
    console = table_console()
    try:
        a, b = load_side(args.a), load_side(args.b)
    except HistoryError as exc:
        console.print(f"[red]compare: {exc}")
        return 2
    rows = compare_runs(a, b)
    console.print(render_table(rows, a, b))
    counts = Counter(row.decision for row in rows)
    console.print(", ".join(f"{n} {decision}" for decision, n in counts.most_common()) or "nothing compared")
    for warning in warnings(a, b):
        console.print(f"[yellow]warning: {warning}")
    if not rows:
        console.print("[yellow]the two runs share no case and measure")
    out = args.out or Path("reports") / "compare" / f"{a.run_id}--{b.run_id}"
    atomic_write_json(out / "compare.json", to_json(rows, a, b))
    atomic_write_text(out / "compare.html", compare_page(rows, a, b, root=None))
    console.print(f"compare: wrote {out / 'compare.json'} and {out / 'compare.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
