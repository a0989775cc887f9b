"""Results: the raw-file schema, merging per-interpreter files, the summary's arithmetic, bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pyperf
import pytest

from benchmarks.environment import environment, python_build
from benchmarks.report import gaps
from benchmarks.results import ResultsError, load_run
from benchmarks.run_dir import atomic_write_bytes, atomic_write_text, point_latest, write_manifest
from benchmarks.summary import main as summary_main
from benchmarks.summary import ratio_to_taskgroup, summary_rows
from tests.synthetic import case, write_instructions, write_speed_suite


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "20260101-000000"
    write_manifest(directory, profile="quick", requested=["3.11", "3.12", "3.13"], missing=["3.13"], options=[])
    write_speed_suite(
        directory,
        "3.11",
        [
            case("s", "taskgroup", 1.1, "3.11", bound=0.5),
            case("s", "threads", 2.2, "3.11", bound=0.5, first_chunk=0.4),
        ],
    )
    write_speed_suite(directory, "3.12", [case("s", "taskgroup", 0.5, "3.12", noise=0.0, bound=0.5)])
    return directory


def test_per_interpreter_files_merge_into_one_view(run_dir: Path) -> None:
    results = load_run(run_dir)
    assert results.pythons == ["3.11", "3.12"]
    assert results.missing == ["3.13"]
    assert {(c.name, c.python) for c in results.cases} == {
        ("s/taskgroup", "3.11"),
        ("s/threads", "3.11"),
        ("s/taskgroup", "3.12"),
    }
    assert {c.commit for c in results.cases} == {"abc"}  # from every worker's metadata
    threads = results.find("s", "threads", "3.11")
    assert threads is not None
    assert threads.median_s == pytest.approx(2.2, rel=0.02)
    assert len(threads.first_chunk_s) == 12 and threads.max_workers == 6
    assert [(s.worker, s.round) for s in threads.samples][:3] == [(0, 0), (0, 1), (0, 2)]
    assert results.environments["3.11"]["python_version"] == "3.11"


def test_the_raw_file_is_an_ordinary_pyperf_suite_with_a_run_per_worker_process(run_dir: Path) -> None:
    suite = pyperf.BenchmarkSuite.load(str(run_dir / "raw" / "3.11.json"))
    bench = suite.get_benchmark("s/threads")
    assert bench.get_nrun() == 2 and bench.get_nvalue() == 12
    assert bench.get_metadata()["bench_scenario"] == "s"
    completed = subprocess.run(
        [sys.executable, "-m", "pyperf", "stats", str(run_dir / "raw" / "3.11.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0 and "s/threads" in completed.stdout


def test_ratio_and_efficiency_are_within_one_interpreter(run_dir: Path) -> None:
    results = load_run(run_dir)
    threads = results.find("s", "threads", "3.11")
    assert threads is not None
    ratio = ratio_to_taskgroup(results, threads)
    assert ratio is not None and ratio.estimate is not None and ratio.pairs == 12
    assert ratio.estimate.value == pytest.approx(2.0, rel=0.02)
    assert ratio.estimate.low is not None and ratio.estimate.high is not None
    assert ratio.estimate.low <= ratio.estimate.value <= ratio.estimate.high
    rows = {(r["benchmark"], r["python"]): r for r in summary_rows(results)}
    assert rows["s/taskgroup", "3.12"]["efficiency"] == pytest.approx(1.0)
    assert rows["s/threads", "3.11"]["ratio_pairs"] == 12 and rows["s/threads", "3.11"]["processes"] == 2


def test_cpu_per_call_is_the_median_cpu_of_a_run_over_its_calls(tmp_path: Path) -> None:
    directory = tmp_path / "run"
    counted = replace(case("s", "taskgroup", 1.0, idle=0.2, noise=0.0), calls=52)
    write_speed_suite(directory, "3.12", [counted, case("s", "threads", 2.0)])  # threads: calls not recorded
    rows = {r["benchmark"]: r for r in summary_rows(load_run(directory))}
    assert rows["s/taskgroup"]["cpu_per_call_s"] == pytest.approx(0.8 / 52, rel=0.05)
    assert rows["s/threads"]["cpu_per_call_s"] is None


def test_a_ratio_with_too_few_pairs_says_so_instead_of_an_interval(tmp_path: Path) -> None:
    directory = tmp_path / "run"
    stolen = case("s", "threads", 2.0, steal=0.5)  # every value taken under 50% CPU steal: every pair dropped
    write_speed_suite(directory, "3.12", [case("s", "taskgroup", 1.0), stolen])
    (row,) = [r for r in summary_rows(load_run(directory)) if r["benchmark"] == "s/threads"]
    assert row["ratio_to_taskgroup_ci95"] is None and row["ratio_pairs_dropped"] == 12
    assert "too few values" in str(row["ratio_note"])


def test_summary_prints_machine_readable_json(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert summary_main([str(run_dir), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["missing"] == ["3.13"] and len(document["rows"]) == 3


def test_an_unreadable_result_file_is_named(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (run_dir / "raw" / "3.13.json").write_text("{not json")
    with pytest.raises(ResultsError, match=r"3\.13\.json: not a readable pyperf result file"):
        load_run(run_dir)
    assert summary_main([str(run_dir)]) == 2
    assert "3.13.json" in capsys.readouterr().err


def test_a_bad_samples_line_is_named(run_dir: Path) -> None:
    (run_dir / "raw" / "3.11.samples.jsonl").write_text('{"benchmark": "x"}\n')
    with pytest.raises(ResultsError, match=r"3\.11\.samples\.jsonl:1"):
        load_run(run_dir)


def test_samples_that_do_not_match_the_suite_are_named(run_dir: Path) -> None:
    samples = run_dir / "raw" / "3.11.samples.jsonl"
    samples.write_text("".join(samples.read_text().splitlines(keepends=True)[1:]))  # one value lost
    with pytest.raises(ResultsError, match=r"s/taskgroup.*do not match"):
        load_run(run_dir)


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="not a run folder"):
        load_run(tmp_path / "nope")


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    atomic_write_text(target, "old")

    with pytest.raises(TypeError):  # fails in the middle: the temporary file exists and must go
        atomic_write_bytes(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_latest_points_to_the_newest_run(tmp_path: Path) -> None:
    for name in ("20260101-000000", "20260102-000000"):
        (tmp_path / name).mkdir()
        point_latest(tmp_path / name)
    assert (tmp_path / "latest").readlink() == Path("20260102-000000")


def _memory_variant(rss_per_op: float) -> dict[str, object]:
    estimate = {"bytes_per_operation": rss_per_op, "low": rss_per_op * 0.9, "high": rss_per_op * 1.1}
    marginal = {m: estimate for m in ("rss", "uss", "vms", "tracemalloc_peak", "memray_peak", "memray_allocations")}
    return {
        "process": {"report25_peak_rss_bytes": 100 * 2**20},
        "samples": [],
        "marginal": marginal,
        "threads_per_operation": {"bytes_per_operation": 1.0, "low": 1.0, "high": 1.0},
    }


def test_memory_results_are_read_and_summarised(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    memory = {"python": "3.11", "variants": {"threads": _memory_variant(40_000.0)}}
    (run_dir / "raw" / "3.11.memory.json").write_text(json.dumps(memory))
    assert load_run(run_dir).memory["3.11"].variants["threads"].slope("rss").per_operation == 40_000
    assert summary_main([str(run_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["memory"]["3.11"]["threads"]["process"]["report25_peak_rss_bytes"]
    assert summary_main([str(run_dir)]) == 0
    assert "39.1 KiB" in capsys.readouterr().out


def test_a_memory_file_of_the_wrong_shape_is_named(run_dir: Path) -> None:
    (run_dir / "raw" / "3.12.memory.json").write_text(json.dumps({"python": "3.12"}))
    with pytest.raises(ResultsError, match=r"3\.12\.memory\.json: not a memory suite result"):
        load_run(run_dir)


def test_the_interpreter_build_is_described_for_cross_interpreter_comparisons() -> None:
    assert python_build("'--prefix=/x' '--enable-optimizations' '--with-lto'") == "PGO, LTO"
    assert python_build("'--prefix=/x' '--enable-shared'") == "no PGO, no LTO, shared libpython"
    assert environment()["python_build"] == python_build()


def test_instruction_counts_are_read_and_summarised(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_instructions(
        run_dir, "3.11", {"threads": [412_000_000, 412_100_000], "taskgroup": [415_000_000, 415_000_000]}
    )
    write_instructions(run_dir, "3.12", {"taskgroup": [420_000_000, 420_100_000]})
    write_instructions(run_dir, "3.13", {}, unavailable="valgrind not found on PATH: apt-get install valgrind")
    results = load_run(run_dir)
    assert results.instructions["3.11"].cases["report-5@zero/threads"].median == 412_050_000
    assert summary_main([str(run_dir), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    rows = {(r["case"], r["python"]): r for r in document["instructions"]}
    assert rows["report-5@zero/threads", "3.11"]["ratio_to_taskgroup"] == pytest.approx(412.05 / 415)
    assert rows["report-5@zero/taskgroup", "3.12"]["ratio_to_311"] == pytest.approx(415 / 420.05)
    assert document["instructions_unavailable"] == {"3.13": "valgrind not found on PATH: apt-get install valgrind"}
    assert summary_main([str(run_dir)]) == 0
    assert "not measured: valgrind not found" in capsys.readouterr().out


def test_an_unreadable_instructions_file_is_named(run_dir: Path) -> None:
    write_instructions(run_dir, "3.11", {"threads": [-5]})
    with pytest.raises(ResultsError, match=r"3\.11\.instructions\.json"):
        load_run(run_dir)


def test_a_missing_interpreter_is_named_with_the_probe_s_reason(tmp_path: Path) -> None:
    directory = tmp_path / "20260101-000001"
    probed = {"3.11": {"path": "/usr/bin/python3.11", "version": "3.11.7"}, "3.12": {"missing": "shim exited 127"}}
    write_manifest(directory, profile="quick", requested=["3.11", "3.12"], missing=["3.12"], options=[],
                   interpreters=probed)  # fmt: skip
    write_speed_suite(directory, "3.11", [case("s", "taskgroup", 1.0, "3.11")])
    results = load_run(directory)
    assert results.missing == ["3.12"] and results.why_missing("3.12") == "not found: shim exited 127"
    assert "Python 3.12 not found: shim exited 127" in gaps(results)


def test_the_loopback_servers_cpu_is_read_back_beside_the_clients(tmp_path: Path) -> None:
    """Each speed value over loopback records the server's CPU time; a case summarises both medians."""
    from benchmarks.results import _read_speed_samples

    record = {"benchmark": "b", "worker": 0, "round": 0, "wall_s": 0.5, "first_chunk_s": 0.2, "steal_fraction": 0.0}
    lines = [{**record, "round": r, "cpu_s": 0.1 + r / 100, "server_cpu_s": 0.04} for r in range(3)]
    path = tmp_path / "3.12.samples.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    samples = _read_speed_samples(path, [])["b"]
    assert [s.server_cpu_s for s in samples] == [0.04] * 3
    measured = replace(case("report-5", "taskgroup", 1.0), samples=tuple(samples))
    assert measured.server_cpu_median_s == pytest.approx(0.04) and measured.cpu_median_s == pytest.approx(0.11)
