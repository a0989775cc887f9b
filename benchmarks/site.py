"""The published site: an index of runs, each run's report, a history per case and measure, the detected steps,
and a comparison of each pair of consecutive runs; static HTML with relative links, readable from file://.

    python -m benchmarks.site [RUN_DIR ...] [--results results] [--out site]        (nox -s publish -- RUN_DIR ...)

Each RUN_DIR (default: every run folder in reports/) is distilled into results/ first (benchmarks/history.py); the
site is then built from everything in results/, so runs published before, whose folders are gone, stay in the
histories (and their report pages stay, when the previous site is at --out). The site is built beside --out and
swapped in whole: a failure leaves the previous site.

    site/index.html                              the runs, newest first, by machine, transport and profile
    site/regressions.html                        every detected step, with the commits that introduced it
    site/history/<series>/<measure>.html         a figure per case: a line per interpreter, steps marked
    site/compare/<run-a>--<run-b>.html           consecutive runs of a series compared (as `nox -s compare`)
    site/runs/<run-id>/                          the run's report, as `nox -s bench` wrote it
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from benchmarks.claims import REGISTRY as CLAIMS
from benchmarks.compare_runs import PYPROJECT, SITE_TEMPLATES, compare_page, compare_runs, threshold_key
from benchmarks.gate_rules import load_thresholds
from benchmarks.history import (
    MEASURES,
    RESULTS_ROOT,
    RunRecord,
    SeriesKey,
    distill,
    load_records,
    series,
    slug,
    write_record,
)
from benchmarks.history_plot import draw_history
from benchmarks.results import ResultsError
from benchmarks.run_dir import MANIFEST, REPORTS_ROOT
from benchmarks.steps import MIN_SIZE, Step, detect_steps

SITE_ROOT = Path("site")


@dataclass(frozen=True)
class Detected:
    key: SeriesKey
    step: Step
    page: str  # the history page (relative to the site root) with the case's figure

    @property
    def series_text(self) -> str:
        return f"{self.key.case} on Python {self.key.python}: {MEASURES[self.key.measure].title}"


def group_slug(group: tuple[str, str, str]) -> str:
    return slug("--".join(group))


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(SITE_TEMPLATES), autoescape=select_autoescape(["html", "j2"]))


def build_site(
    records: Sequence[RunRecord],
    problems: Sequence[str],
    out: Path,
    reports: dict[str, Path],
    previous: Path | None = None,
) -> Path:
    """Write the whole site to `out` (replaced whole at the end). `reports`: run id -> its report folder to copy;
    a run without one keeps its report page from the `previous` site (default: `out` as it was)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        _write_site(records, problems, scratch, reports, previous=out if previous is None else previous)
        old = out.parent / f".{out.name}-old"
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            out.replace(old)
        scratch.replace(out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return out / "index.html"


def _write_site(
    records: Sequence[RunRecord], problems: Sequence[str], root: Path, reports: dict[str, Path], previous: Path
) -> None:
    environment = _environment()
    thresholds = load_thresholds(PYPROJECT)
    groups: dict[tuple[str, str, str], list[RunRecord]] = {}
    for record in records:
        groups.setdefault(record.group, []).append(record)
    # Each run's report: from its folder now, else from the previous site.
    has_report: set[str] = set()
    for record in records:
        target = root / "runs" / record.run_id
        source = reports.get(record.run_id) or previous / "runs" / record.run_id
        if (source / "index.html").is_file():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("logs", ".*"), symlinks=False)
            has_report.add(record.run_id)
    # Consecutive runs of a series, compared.
    compared: dict[str, str] = {}  # run id -> the page comparing it with the run before it
    for runs in groups.values():
        for before, after in itertools.pairwise(runs):
            name = f"compare/{slug(before.run_id)}--{slug(after.run_id)}.html"
            page = compare_page(compare_runs(before, after, thresholds), before, after, root="../")
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(page)
            compared[after.run_id] = name
    # Histories, with steps.
    detected: list[Detected] = []
    history_pages: list[dict[str, Any]] = []
    all_series = series(records)
    for group, runs in groups.items():
        labels = [run.commit[:8] for run in runs]
        for measure in MEASURES:
            cases: dict[str, dict[str, list[Any]]] = {}
            for key, points in all_series.items():
                if (key.machine, key.transport, key.profile) == group and key.measure == measure:
                    cases.setdefault(key.case, {})[key.python] = points
            if not cases:
                continue
            page = f"history/{group_slug(group)}/{measure}.html"
            figures = []
            for case, lines in sorted(cases.items()):
                steps = {}
                for python, points in lines.items():
                    key = SeriesKey(*group, python, case, measure)
                    found = detect_steps(
                        [(run.commit, None if value is None else value.value) for run, value in points],
                        min_change=thresholds.of(threshold_key(case, measure)),  # what the gate would let through
                    )
                    steps[python] = found
                    detected += [Detected(key, step, f"{page}#{slug(case)}") for step in found]
                image = f"history/{group_slug(group)}/{measure}/{slug(case)}.png"
                draw_history(root / image, f"{case}: {MEASURES[measure].title}", measure, lines, steps, labels)
                figures.append(
                    {
                        "case": case,
                        "anchor": slug(case),
                        "image": Path(image).relative_to(Path(page).parent).as_posix(),
                        "steps": [(python, step) for python, found in sorted(steps.items()) for step in found],
                        "gaps": sorted(
                            (python, run.run_id)
                            for python, points in lines.items()
                            for run, value in points
                            if value is None
                        ),
                    }
                )
            (root / page).parent.mkdir(parents=True, exist_ok=True)
            (root / page).write_text(
                environment.get_template("history.html.j2").render(
                    group=group, measure=MEASURES[measure], figures=figures, runs=len(runs), root="../../"
                )
            )
            history_pages.append({"group": group, "measure": MEASURES[measure], "page": page})
    detected.sort(key=lambda d: (d.step.kind != "regression", d.key.machine, d.key.case, d.key.python))
    (root / "regressions.html").write_text(
        environment.get_template("regressions.html.j2").render(
            detected=detected, groups=sorted(groups.items()), reported=has_report, min_size=MIN_SIZE, root=""
        )
    )
    claims = [entry.claim.id for entry in CLAIMS]
    rows = [
        {"record": record, "report": record.run_id in has_report, "compare": compared.get(record.run_id)}
        for record in sorted(records, key=lambda r: r.order, reverse=True)
    ]
    (root / "index.html").write_text(
        environment.get_template("index.html.j2").render(
            groups=sorted(groups),
            rows=rows,
            claims=claims,
            history_pages=history_pages,
            problems=problems,
            steps=len(detected),
            root="",
        )
    )


def run_folders(root: Path = REPORTS_ROOT) -> list[Path]:
    """Every finished run folder under reports/ (one with a manifest and a report), oldest first."""
    return sorted(
        path
        for path in root.glob("*")
        if path.is_dir() and not path.is_symlink() and (path / MANIFEST).is_file() and (path / "index.html").is_file()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.site", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("run_dirs", nargs="*", type=Path, metavar="RUN_DIR", help="default: every run in reports/")
    parser.add_argument("--results", type=Path, default=RESULTS_ROOT, help="where distilled runs accumulate")
    parser.add_argument("--out", type=Path, default=SITE_ROOT)
    parser.add_argument("--reports", type=Path, default=REPORTS_ROOT, help="where run folders are found by default")
    parser.add_argument("--previous", type=Path, help="the site published before (its run pages kept; default: --out)")
    args = parser.parse_args(argv)
    reports: dict[str, Path] = {}
    problems: list[str] = []
    for run_dir in args.run_dirs or run_folders(args.reports):
        try:
            record = distill(run_dir)
        except ResultsError as exc:
            problems.append(f"{run_dir}: skipped: {exc}")
            print(f"publish: {run_dir} skipped: {exc}", file=sys.stderr)
            continue
        print(f"publish: {run_dir} -> {write_record(record, args.results)}")
        reports[record.run_id] = run_dir
    records, unreadable = load_records(args.results)
    for problem in unreadable:
        print(f"publish: skipped {problem}", file=sys.stderr)
    if not records:
        print(f"publish: no runs in {args.results}: nothing to publish", file=sys.stderr)
        return 2
    index = build_site(records, [*problems, *unreadable], args.out, reports, args.previous)
    print(f"publish: {len(records)} runs -> {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
