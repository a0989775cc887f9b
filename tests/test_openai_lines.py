"""Two openai SDK lines side by side: the readings, the rows, and a run folder holding both (synthetic values)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import speed
from benchmarks.matrix import PROFILES, BenchCase
from benchmarks.openai_lines import headline, line_rows, reading
from benchmarks.report import render
from benchmarks.results import CaseResult, ComparedLine, load_run
from benchmarks.run_dir import write_manifest
from benchmarks.stats import Estimate
from tests import synthetic

PYTHON, LABEL = "3.13", "3.13@openai-3"


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (1.02, 1.10, "slower"),
        (0.90, 0.97, "faster"),
        (0.97, 1.03, "the same within 5%"),
        (0.90, 1.10, "no clear difference"),
        (None, None, "too few values"),
    ],
)
def test_a_ratio_reads_as_its_interval_says(low: float | None, high: float | None, expected: str) -> None:
    assert reading(Estimate(1.0, low, high, 12)) == expected
    assert reading(None) == "too few values"


def _pair(scale: float, noise: float, scenario: str = "report-5") -> tuple[CaseResult, CaseResult]:
    first = synthetic.case(scenario, "taskgroup", 1.0, PYTHON, noise=noise, rounds=12)
    second = synthetic.case(scenario, "taskgroup", scale, LABEL, noise=noise, rounds=12)
    return first, second


def _results(pairs: list[tuple[CaseResult, CaseResult]]) -> Any:
    results = synthetic.run([first for first, _ in pairs])
    results.environments[PYTHON] = {"version_openai": "2.8.0"}
    compared = ComparedLine(LABEL, PYTHON, {"version_openai": "3.54.0"}, [second for _, second in pairs])
    results.openai_compared[LABEL] = compared
    return results


@pytest.mark.parametrize(
    ("scale", "noise", "expected"),
    [(1.10, 0.01, "slower"), (0.90, 0.01, "faster"), (1.0, 0.005, "the same within 5%"), (1.0, 0.4, "no clear")],
)
def test_each_case_is_the_second_line_over_the_first_paired(scale: float, noise: float, expected: str) -> None:
    (row,) = line_rows(_results([_pair(scale, noise)]))
    assert row["reading"].startswith(expected)
    assert (row["first_openai"], row["second_openai"], row["python"]) == ("2.8.0", "3.54.0", PYTHON)
    assert row["pairs"] == 24 and row["ratio"] == pytest.approx(scale, rel=0.25)


def test_the_headline_counts_every_reading() -> None:
    rows = line_rows(_results([_pair(1.10, 0.01, "report-5"), _pair(0.90, 0.01, "alone")]))
    said = headline(rows)
    assert "openai 3.54.0 against 2.8.0, 2 cases" in said
    assert "1 slower" in said and "1 faster" in said
    assert headline([]) == ""


def test_a_case_the_first_line_lacks_is_left_out() -> None:
    results = _results([_pair(1.10, 0.01)])
    results.cases.clear()
    assert line_rows(results) == []


def test_a_run_folder_with_both_lines_reads_and_renders_them_apart(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write_manifest(run_dir, profile="quick", requested=[PYTHON], missing=[], options=[], openai_compared="3")
    first, second = _pair(1.10, 0.01)
    synthetic.write_speed_suite(run_dir, PYTHON, [first], {"version_openai": "2.8.0"})
    synthetic.write_speed_suite(run_dir, LABEL, [second], {"version_openai": "3.54.0"})
    results = load_run(run_dir)
    assert results.pythons == [PYTHON]  # the second line is not an interpreter
    assert [case.python for case in results.cases] == [PYTHON]
    assert list(results.openai_compared) == [LABEL]
    index, _ = render(run_dir)
    page = index.read_text()
    assert "The openai SDK lines side by side" in page and "2.8.0 → 3.54.0" in page
    assert "3.x beside it on Python 3.13" in page


def test_the_second_line_measures_the_newest_workloads_beside_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def measure(labels: dict[str, str], cases: dict[str, list[BenchCase]], *args: Any) -> None:
        seen.update(labels=list(labels), cases=cases, sides=args[-1])

    monkeypatch.setattr(speed, "measure", measure)
    pythons = {"3.12": sys.executable, PYTHON: sys.executable}
    code = speed.run_suite(pythons, "default", Path("/unused"), None, ["taskgroup"], None, ("3", "/env3/python"))
    assert code == 0
    assert seen["labels"] == ["3.12", PYTHON, LABEL]  # workers alternate 3.12, 3.13, 3.13@openai-3
    compared = seen["cases"][LABEL]
    assert compared and all(case.group != "fanout" for case in compared)
    assert len(compared) < len(seen["cases"][PYTHON])  # the newest's sweeps are not repeated
    assert seen["sides"][LABEL].worker_options == ("--no-sweeps",)
    assert PROFILES["default"].everywhere is not None
