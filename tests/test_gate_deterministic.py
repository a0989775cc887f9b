"""The gate's load-independent measures on synthetic data: heap and leak decisions, the stored baseline file."""

from __future__ import annotations

import itertools
import json
import random
import re
from pathlib import Path

import pytest

from benchmarks import gate
from benchmarks.cli import BenchOptionsError, parse_gate_options
from benchmarks.gate_deterministic import (
    BaselineFileError,
    Measured,
    check_usable,
    compare_sides,
    identity,
    read_baseline,
    write_baseline,
)
from benchmarks.gate_memory import trace_runs
from benchmarks.gate_rules import EXIT_UNUSABLE, Thresholds, judge, markdown
from benchmarks.stats import Estimate

CASE = "report-5@zero/taskgroup"


def _side(
    seed: int, peak: float = 270_000, leak: float = 3_000, instructions: float = 80e6, counts: int = 2
) -> Measured:
    """A side as measure_side returns it, with the spread seen on this machine (peaks +-3%, slopes +-10%)."""
    rng = random.Random(seed)
    per_run = leak * rng.uniform(0.8, 1.2)
    return Measured(
        {
            CASE: {
                "scenario_hash": "abc123",
                "instructions": [round(instructions * rng.uniform(0.999, 1.001)) for _ in range(counts)],
                "heap_peak": [round(peak * rng.uniform(0.97, 1.03)) for _ in range(12)],
                "retained": {"bytes_per_run": per_run, "low": per_run - 300, "high": per_run + 300},
            }
        }
    )


def _decisions(now: Measured, before: Measured) -> dict[str, str]:
    return {f.measure: f.decision for f in compare_sides(now, before, "3.11", Thresholds())}


def test_unchanged_code_passes_every_deterministic_measure() -> None:
    for seed in range(20):
        decisions = _decisions(_side(seed), _side(seed + 100))
        assert set(decisions) == {"instructions", "heap_peak", "retained"}
        assert "regression" not in decisions.values(), (seed, decisions)


def test_a_per_run_leak_fails_the_retained_measure_only() -> None:
    decisions = _decisions(_side(1, leak=3_000 + 100 * 1024), _side(2))
    assert decisions["retained"] == "regression"
    assert decisions["heap_peak"] != "regression" and decisions["instructions"] != "regression"
    found = compare_sides(_side(1, leak=3_000 + 100 * 1024), _side(2), "3.11", Thresholds())
    table = markdown(found, "stored", "tree")
    assert re.search(r"heap retained per run \(tracemalloc slope\) \+\d+\.\d KiB/run", table), table
    assert "| +16.0 KiB/run | **regression** |" in table


def test_a_small_but_certain_leak_is_within_threshold() -> None:
    assert _decisions(_side(1, leak=3_000 + 4096), _side(2))["retained"] == "slower, within threshold"


def test_a_larger_peak_heap_and_more_instructions_are_regressions() -> None:
    decisions = _decisions(_side(1, peak=270_000 * 1.25, instructions=80e6 * 1.08), _side(2))
    assert decisions["heap_peak"] == "regression" and decisions["instructions"] == "regression"


@pytest.mark.parametrize(("change", "decision"), [(1.08, "regression"), (1.03, "slower, within threshold")])
def test_one_count_per_side_is_judged_by_the_threshold(change: float, decision: str) -> None:
    """The gate profile counts one run per side: the point is its own interval, and the 5% threshold decides."""
    found = compare_sides(_side(1, instructions=80e6 * change, counts=1), _side(2, counts=1), "3.11", Thresholds())
    (instructions,) = [f for f in found if f.measure == "instructions"]
    assert instructions.decision == decision
    assert instructions.method.startswith("ratio of one count per side")


@pytest.mark.parametrize(
    ("estimate", "decision"),
    [  # idle time in seconds as the gate measures it (threshold 5 ms): every outcome of the table
        (Estimate(0.0101, 0.0095, 0.0104), "regression"),  # the +5 ms per LLM call plant, as measured
        (Estimate(0.0024, 0.0020, 0.0028), "slower, within threshold"),  # threads serialised, as measured
        (Estimate(0.0060, -0.0042, 0.0079), "not significant"),  # the widest A/A interval, a larger centre
        (Estimate(0.0003, -0.0003, 0.0010), "no change"),
        (Estimate(-0.0080, -0.0090, -0.0070), "faster"),  # a sleep removed
        (Estimate(0.0100, None, None), "undecided"),  # too few undisturbed pairs
    ],
)
def test_a_difference_reaches_every_decision_around_zero(estimate: Estimate, decision: str) -> None:
    assert judge(estimate, 0.005, origin=0.0) == decision


def test_a_stored_baseline_round_trips_and_is_compared(tmp_path: Path) -> None:
    path = tmp_path / "baselines" / "gate-3.11.json"
    write_baseline(path, _side(2), "f" * 40)
    stored = read_baseline(path)
    assert stored.commit == "f" * 40 and stored.identity == identity()
    assert check_usable(stored, _side(1)) == []
    decisions = _decisions(_side(1, leak=200_000), stored.measured)
    assert decisions["retained"] == "regression"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such baseline file"),
        ("{not json", "not a readable JSON baseline"),
        ('{"format": "something else"}', "not a gate baseline"),
        ('{"format": "agno-bench gate baseline, version 1", "cases": {}}', "malformed baseline"),
    ],
)
def test_an_unreadable_baseline_file_is_named(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "gate.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BaselineFileError, match=message) as raised:
        read_baseline(path)
    assert str(path) in str(raised.value)


def test_a_baseline_from_another_interpreter_or_scenario_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "gate.json"
    write_baseline(path, _side(2), "f" * 40)
    document = json.loads(path.read_text())
    document["python"] = "2.7.18"
    path.write_text(json.dumps(document))
    with pytest.raises(BaselineFileError, match=r"taken with python 2\.7\.18"):
        check_usable(read_baseline(path), _side(1))
    write_baseline(path, _side(2), "f" * 40)
    other = _side(1)
    other.cases[CASE]["scenario_hash"] = "def456"
    with pytest.raises(BaselineFileError, match="different scenario"):
        check_usable(read_baseline(path), other)


def test_moved_package_versions_are_noted_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "gate.json"
    write_baseline(path, _side(2), "f" * 40)
    document = json.loads(path.read_text())
    document["packages"]["agno"] = "0.0.1"
    path.write_text(json.dumps(document))
    notes = check_usable(read_baseline(path), _side(1))
    assert len(notes) == 1 and "agno 0.0.1 ->" in notes[0]


def test_the_gate_exits_2_on_a_missing_baseline_file_before_measuring(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    code = gate.main(["--run-dir", str(tmp_path / "run"), "--python", "3.11=/x", "--baseline", str(missing)])
    assert code == EXIT_UNUSABLE and not (tmp_path / "run").exists()


def test_baseline_options() -> None:
    options = parse_gate_options(["--baseline", "b.json", "--update-baseline"])
    assert options.driver_options() == ["--baseline", "b.json", "--update-baseline"]
    for wrong, message in (
        (["--against", "main", "--baseline", "b.json"], "two different baselines"),
        (["--update-baseline"], "needs --baseline"),
        (["--baseline", "b.json", "--python", "3.11", "--python", "3.12"], "one interpreter"),
    ):
        with pytest.raises(BenchOptionsError, match=message):
            parse_gate_options(wrong)


def test_traced_runs_recover_a_planted_leak_and_leave_validation_out() -> None:
    kept: list[bytearray] = []
    checked: list[int] = []

    def run() -> int:
        kept.append(bytearray(10 * 1024))  # retained: the leak
        _ = bytearray(50 * 1024)  # transient: only the peak sees it
        return len(kept)

    def check(result: int) -> None:
        checked.append(result)
        _ = bytearray(200 * 1024)  # validation's garbage must not count as the run's peak

    peaks, held = trace_runs(run, runs=8, warmups=2, check=check)
    assert checked == list(range(1, 11))  # every run vetted, warm-ups too
    assert all(50 * 1024 <= peak < 100 * 1024 for peak in peaks)
    growth = [after - before for before, after in itertools.pairwise(held)]
    assert all(9 * 1024 <= step <= 12 * 1024 for step in growth)
