"""The measuring code refuses broken runs, parses its options, and records why a level stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks import users
from benchmarks.cli import BenchOptionsError, parse_bench_options
from benchmarks.matrix import BenchCase
from benchmarks.speed import VALIDATION_EXIT_CODE, _time_function
from tests.conftest import make_scenario

ROOT = Path(__file__).resolve().parent.parent


def _broken_case() -> BenchCase:
    # The scenario promises tickers AAA and ZZZ but the message names AAA and BBB: every run routes
    # elsewhere than the scenario says, so no run of it may count.
    good = make_scenario()
    return BenchCase("broken/taskgroup", replace(good, tickers=("AAA", "ZZZ")), "taskgroup", "scenario")


def test_a_validation_failure_aborts_the_measurement(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = SimpleNamespace(calibrate_loops=False, recalibrate_loops=False, warmups=0)
    time_runs = _time_function(_broken_case(), tmp_path / "samples.jsonl", args)  # type: ignore[arg-type]
    with pytest.raises(SystemExit) as exited:
        time_runs(1)
    assert exited.value.code == VALIDATION_EXIT_CODE
    message = capsys.readouterr().err
    assert "benchmark broken/taskgroup" in message and "routed to" in message
    assert not (tmp_path / "samples.jsonl").exists()  # nothing recorded from the broken run


def test_a_valid_case_returns_the_runs_time_and_records_first_chunks(tmp_path: Path) -> None:
    case = BenchCase("ok/gather", make_scenario(), "gather", "scenario")
    args = SimpleNamespace(calibrate_loops=False, recalibrate_loops=False, warmups=1)
    time_runs = _time_function(case, tmp_path / "samples.jsonl", args)  # type: ignore[arg-type]
    assert time_runs(1) > 0  # the warm-up: not recorded
    assert not (tmp_path / "samples.jsonl").exists()
    assert time_runs(2) > 0
    (record,) = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert record["benchmark"] == "ok/gather" and len(record["first_chunk_s"]) == 2


def test_bench_options() -> None:
    assert parse_bench_options([]).profile == "default"
    options = parse_bench_options(["--quick", "--scenario", "alone", "--variant", "gather", "--strict-interpreters"])
    assert (options.profile, options.scenarios, options.variants, options.strict_interpreters) == (
        "quick",
        ("alone",),
        ("gather",),
        True,
    )
    assert options.filters() == ["--scenario", "alone", "--variant", "gather"]
    with pytest.raises(BenchOptionsError, match="unknown option"):
        parse_bench_options(["--fastest"])
    with pytest.raises(BenchOptionsError):
        parse_bench_options(["--quick", "--full"])


def test_percentiles() -> None:
    assert users.percentile([0.4], 0.99) == 0.4
    values = [float(v) for v in range(1, 101)]
    assert users.percentile(values, 0.50) == pytest.approx(50.5)
    assert users.percentile(values, 0.99) == pytest.approx(99.01)
    record = users.level_record(10, 2.0, [0.1] * 10, peak_threads=11, rss=1)
    assert record["throughput_runs_per_s"] == 5.0 and record["stopped"] is None


def test_a_worker_that_dies_is_recorded_as_the_reason_the_level_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    output = json.dumps(users.level_record(1, 1.0, [1.0], 2, 1)) + "\n"
    died = subprocess.CompletedProcess([], returncode=-9, stdout=output, stderr="Killed\n")
    monkeypatch.setattr(users.subprocess, "run", lambda *a, **k: died)
    records = users.measure_variant("threads", [1, 10, 100], console=None)  # type: ignore[arg-type]
    assert [r["users"] for r in records] == [1, 10]
    assert records[-1]["stopped"] == "worker died with exit code -9: Killed"


def test_a_level_over_its_budget_stops_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "LEVEL_BUDGET_S", 0.0)
    scenario = make_scenario(latency={"router": {"ttft_ms": 50}})
    with pytest.raises(users.LevelStopped, match="budget"):
        from scenarios.runner import ScenarioSession

        with ScenarioSession(scenario, "gather") as session:  # tasks are cancelled; threads would run on
            users._run_level(session, 3)


def test_pytest_benchmark_runs_a_validated_scenario(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "pytest", "benchmarks", "--benchmark-only", "-q", "-p", "no:cacheprovider"]
    command += ["-k", "alone and taskgroup", f"--benchmark-json={out}"]
    completed = subprocess.run(
        command, cwd=ROOT, env={**os.environ, "BENCH_ROUNDS": "1"}, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (bench,) = json.loads(out.read_text())["benchmarks"]
    assert bench["name"] == "test_workflow[alone-taskgroup]"
    assert bench["extra_info"]["critical_path_s"] > 0 and bench["stats"]["rounds"] == 1
