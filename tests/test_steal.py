"""Paired comparisons: CPU steal and run-queue delay read per value, disturbed pairs dropped, mismatches refused."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.compare import compare
from benchmarks.steal import StealMeter, run_queue_seconds, steal_seconds
from tests.synthetic import case


def _stat(path: Path, steal_jiffies: int) -> Path:
    path.write_text(f"cpu  100 0 50 1000 0 0 0 {steal_jiffies} 0 0\ncpu0 50 0 25 500 0 0 0 0 0 0\n")
    return path


def test_steal_is_read_in_seconds_and_missing_data_is_none(tmp_path: Path) -> None:
    assert steal_seconds(_stat(tmp_path / "stat", 250)) == 250 / os.sysconf("SC_CLK_TCK")
    assert steal_seconds(tmp_path / "absent") is None
    (tmp_path / "odd").write_text("cpu 1 2\n")
    assert steal_seconds(tmp_path / "odd") is None


def test_the_meter_reports_the_share_of_the_machine_stolen_during_the_block(tmp_path: Path) -> None:
    stat = _stat(tmp_path / "stat", 0)
    with StealMeter(stat) as meter:
        _stat(stat, 10_000)  # a great deal stolen while the block ran
    assert meter.fraction is not None and meter.fraction > 0
    with StealMeter(tmp_path / "absent") as unknown:
        pass
    assert unknown.fraction is None


def test_a_pair_with_a_disturbed_value_is_dropped_not_the_whole_case() -> None:
    calm = case("report-5", "taskgroup", 1.0)
    burst = case("report-5", "threads", 2.5)
    # One value of threads ran under 40% steal, and its wall time with it: that pair goes, the rest stay.
    disturbed = tuple(
        replace(s, steal=0.4, wall_s=s.wall_s * 3) if (s.worker, s.round) == (0, 2) else s for s in burst.samples
    )
    comparison = compare(replace(burst, samples=disturbed), calm)
    assert comparison.pairs == 11 and comparison.dropped == 1
    assert comparison.estimate is not None and comparison.estimate.value == pytest.approx(2.5, rel=0.02)


def test_a_value_without_a_steal_record_is_untrusted() -> None:
    unknown = case("report-5", "threads", 2.0, steal=None)
    comparison = compare(unknown, case("report-5", "taskgroup", 1.0))
    assert comparison.pairs == 0 and comparison.dropped == 12 and comparison.too_few
    assert "12 dropped as disturbed: CPU steal or run-queue wait" in comparison.describe()


def test_a_burst_that_hits_both_sides_of_a_pair_cancels_out() -> None:
    threads = case("report-5", "threads", 2.0, burst=1.0, noise=0.005)
    taskgroup = case("report-5", "taskgroup", 1.0, burst=1.0, noise=0.005)
    estimate = compare(threads, taskgroup).estimate
    assert estimate is not None and estimate.low is not None and estimate.high is not None
    assert 1.95 < estimate.low <= estimate.high < 2.05  # rounds up to 3x slower, yet the ratio stays tight


def test_the_meter_reports_the_share_of_the_block_spent_waiting_for_a_cpu(tmp_path: Path) -> None:
    schedstat = tmp_path / "schedstat"
    schedstat.write_text("1000 0 3\n")
    with StealMeter(_stat(tmp_path / "stat", 0), schedstat) as meter:
        schedstat.write_text(f"2000 {10**12} 9\n")  # waited far longer than the block: another process held the CPU
    assert meter.run_queue is not None and meter.run_queue > 1
    assert run_queue_seconds(tmp_path / "absent") is None


def test_a_value_that_waited_in_the_run_queue_is_disturbed() -> None:
    waited = case("report-5", "threads", 2.0, run_queue=0.3)
    comparison = compare(waited, case("report-5", "taskgroup", 1.0))
    assert comparison.pairs == 0 and comparison.dropped == 12


def test_cases_from_different_scenario_files_are_not_compared() -> None:
    other_file = replace(case("report-5", "threads", 2.0), scenario_hash="cd")
    comparison = compare(other_file, case("report-5", "taskgroup", 1.0))
    assert comparison.estimate is None and "scenario files differ" in comparison.describe()


def test_cases_measured_at_different_commits_are_not_compared() -> None:
    earlier = replace(case("report-5", "threads", 2.0), commit="abc")
    comparison = compare(earlier, replace(case("report-5", "taskgroup", 1.0), commit="def"))
    assert comparison.estimate is None and "different commits (abc vs def)" in comparison.describe()
    assert compare(earlier, replace(case("report-5", "taskgroup", 1.0), commit="abc")).estimate is not None


def test_a_pool_size_is_not_a_different_scenario() -> None:
    from benchmarks.matrix import FANOUT_BASE_FILE, with_fanout, with_pool
    from scenarios.model import load_scenario

    fanout = with_fanout(load_scenario(FANOUT_BASE_FILE), 25)
    threads = replace(case("fanout-25", "threads", 2.0), scenario_hash=with_pool(fanout, "32").content_hash)
    taskgroup = replace(case("fanout-25", "taskgroup", 1.0), scenario_hash=fanout.content_hash)
    assert compare(threads, taskgroup).pairs == 12
