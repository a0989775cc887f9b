"""CPU steal: read from /proc/stat, turned into a share of the machine, and distrusted by the verdicts."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from benchmarks.steal import StealMeter, steal_seconds
from benchmarks.verdicts import decide_c1
from tests.test_verdicts import _fanout_pair, run


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


def test_a_comparison_with_a_disturbed_case_counts_neither_for_nor_against() -> None:
    threads, taskgroup = _fanout_pair(25, 1.0)  # would refute C1 at fan-out 25
    disturbed = [threads, replace(taskgroup, steal_fractions=(0.02, 0.4))]  # one value ran under 40% steal
    alone = decide_c1(run(disturbed))
    assert alone.verdict == "inconclusive"
    assert "disturbed" in alone.reason and "disturbed" in alone.evidence[0].label
    with_calm_cases = decide_c1(run([*disturbed, *_fanout_pair(50, 3.0)]))
    assert with_calm_cases.verdict == "holds"  # the disturbed comparison does not make it conditional
    assert "1 comparison(s) not trusted" in with_calm_cases.reason
    assert len(with_calm_cases.evidence) == 2  # still shown
