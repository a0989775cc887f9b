"""The asyncio microbenchmarks do the work they claim to time; no test here asserts a timing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pyperf
import pytest

from benchmarks import micro
from benchmarks.environment import python_tag
from benchmarks.results import load_run

ROOT = Path(__file__).resolve().parent.parent


def test_stream_write_delivers_every_byte_of_every_iteration() -> None:
    measured = asyncio.run(micro.stream_write(10_000, 3_000, 3))  # the last write of each is a partial chunk
    assert measured.work == 30_000
    assert measured.seconds > 0


def test_task_benchmark_runs_every_task_as_its_own_task(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[asyncio.Task[object] | None] = []
    original = micro._yield_once

    async def recording(value: int) -> int:
        seen.append(asyncio.current_task())
        return await original(value)

    monkeypatch.setattr(micro, "_yield_once", recording)
    measured = asyncio.run(micro.task_create_await(7, 3))
    assert measured.work == 21
    assert len(seen) == 21 and len({id(task) for task in seen}) == 21 and None not in seen


def test_a_value_with_missing_work_does_not_count(capsys: pytest.CaptureFixture[str]) -> None:
    async def short(iterations: int) -> micro.Measured:
        return micro.Measured(0.001, iterations * 10 - 1)

    bench = replace(micro.BENCHMARKS[0], name="short", work_per_iteration=10, measure=short)
    with pytest.raises(SystemExit) as exited:
        micro._time_function(bench)(2)
    assert exited.value.code == micro.CHECK_FAILED_EXIT_CODE
    assert "benchmark short: expected 20, got 19" in capsys.readouterr().err


def test_quick_profile_writes_a_pyperf_suite_beside_the_speed_results(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "benchmarks.micro", "--bench-profile", "quick", "--run-dir", str(run_dir)]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr

    quick = micro.PROFILES["quick"]
    suite = pyperf.BenchmarkSuite.load(str(run_dir / "raw" / f"{python_tag()}.micro.json"))
    measured_names = [bench.name for bench in micro.profile_benchmarks(micro.PROFILES["quick"])]
    assert measured_names == ["asyncio_stream_write"]  # quick: what C3a decides on
    assert suite.get_benchmark_names() == measured_names
    for bench in suite.get_benchmarks():
        metadata = bench.get_metadata()
        assert metadata["bench_micro"] == "1" and metadata["bench_description"]
        assert metadata["bench_profile"] == "quick"
        assert len(bench.get_values()) == quick.processes * quick.values
        assert bench.get_name() in completed.stdout  # the end-of-run table
    assert not list((run_dir / "raw").glob(".*"))  # no temporary file left behind
    results = load_run(run_dir)
    assert results.cases == []  # the speed summary does not mistake it for a speed suite
    # every measured value recorded the CPU steal it ran under (none for the warm-ups)
    steal_lines = (run_dir / "raw" / f"{python_tag()}.micro.samples.jsonl").read_text().splitlines()
    assert len(steal_lines) == len(measured_names) * quick.processes * quick.values
    measured = results.micro[python_tag()]
    assert set(measured) == set(measured_names)
    assert all(s.steal is not None for result in measured.values() for s in result.samples)
