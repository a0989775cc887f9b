"""The report: results.json's schema, the HTML page, partial runs, bad input, and the page in a real browser."""

from __future__ import annotations

import errno
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyperf
import pytest

from benchmarks import report as report_module
from benchmarks.flamegraph import write_flamegraph
from benchmarks.report import main as report_main
from benchmarks.report import render
from benchmarks.run_dir import write_manifest
from benchmarks.summary import main as summary_main
from tests.browser import artifacts_dir, check_report_in_browser, require_chromium
from tests.synthetic import case, layers_case, write_instructions, write_layers, write_speed_suite

VERDICTS = {"holds", "refuted", "conditional", "inconclusive"}


def _speed_suite(directory: Path, python: str) -> None:
    cases = []
    for variant, scale in (("threads", 2.5), ("gather", 1.0), ("taskgroup", 1.0), ("legacy", 3.0)):
        first = {"legacy": 0.59}.get(variant, 0.1)
        cases.append(
            case(
                "report-5",
                variant,
                0.2 * scale,
                python,
                first_chunk=first * scale / 3 if variant == "legacy" else first,
            )
        )
        failing = {"threads": 3.0, "gather": 2.0, "taskgroup": 0.5}.get(variant)
        if failing is not None:  # taskgroup reports the failure first
            cases.append(case("report-5-failure", variant, 0.1 * failing, python, failures=1))
        if variant != "legacy":
            cases.append(case("report-5@zero", variant, 0.05, python, latency="zero", group="latency"))
    for tickers, speedup in ((1, 1.0), (25, 2.5)):
        for variant, scale in (("threads", speedup), ("taskgroup", 1.0)):
            cases.append(case(f"fanout-{tickers}", variant, 0.1 * scale, python, fanout=4 * tickers))
    write_speed_suite(directory, python, cases)


def _memory(raw: Path, python: str) -> None:
    def variant(per_op: dict[str, float]) -> dict[str, Any]:
        samples = [
            {"operations": k, **{m: 1e6 + k * slope * wobble for m, slope in per_op.items()}}
            for k in (12, 100)
            for wobble in (0.99, 1.01)
        ]
        marginal = {m: {"bytes_per_operation": s, "low": s * 0.95, "high": s * 1.05} for m, s in per_op.items()}
        none = {"bytes_per_operation": None, "low": None, "high": None}
        return {"samples": samples, "marginal": marginal, "process": {}, "threads_per_operation": none}

    metrics = ("rss", "uss", "vms", "tracemalloc_peak", "memray_peak")
    threads = variant({**dict.fromkeys(metrics, 40e3), "vms": 8.4e6})
    memory = {"python": python, "variants": {"threads": threads, "taskgroup": variant(dict.fromkeys(metrics, 15e3))}}
    (raw / f"{python}.memory.json").write_text(json.dumps(memory))


def _equivalence(raw: Path, python: str) -> None:
    def observed(outcomes: dict[str, int], cancelled: list[str]) -> dict[str, Any]:
        errors = [{"failed": ["quote:NVDA"], "cancelled": cancelled}]
        return {"outcomes": outcomes, "run_errors": errors, "validated": True}

    same = {"answered": 20, "failed": 1}
    variants = {v: observed(same, []) for v in ("threads", "gather", "legacy")}
    variants["taskgroup"] = observed({"answered": 1, "failed": 1, "cancelled": 19}, ["quote:AAPL"])
    scenarios = {"report-5-failure": {"variants": variants, "differences": {}, "agree": True}}
    (raw / f"{python}.equivalence.json").write_text(json.dumps({"reference": "threads", "scenarios": scenarios}))


def _micro(raw: Path, python: str, speedup: float) -> None:
    benches, steal = [], []
    for name in ("asyncio_stream_write", "asyncio_task_create_await"):
        metadata = {"name": name, "unit": "second", "loops": 1}
        runs = []
        for process in range(3):  # one pyperf run per process slot, as benchmarks.bench appends them
            values = [(0.03 + 0.0002 * ((process + i) % 3)) / speedup for i in range(4)]
            runs.append(pyperf.Run(values, metadata=metadata, collect_metadata=False))
            steal += [{"benchmark": name, "steal_fraction": 0.0}] * len(values)
        benches.append(pyperf.Benchmark(runs))
    pyperf.BenchmarkSuite(benches).dump(str(raw / f"{python}.micro.json"), replace=True)
    (raw / f"{python}.micro.samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in steal))


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A whole synthetic run: 3.11 and 3.12 with every suite, 3.13 missing."""
    directory = tmp_path / "20261122-000000"
    write_manifest(directory, profile="quick", requested=["3.11", "3.12", "3.13"], missing=["3.13"], options=[])
    raw = directory / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for python, micro_speedup in (("3.11", 1.0), ("3.12", 2.0)):
        _speed_suite(directory, python)
        _memory(raw, python)
        _equivalence(raw, python)
        _micro(raw, python, micro_speedup)
    for python in ("3.11", "3.12"):
        write_instructions(directory, python, {"threads": [412_000_000, 412_100_000], "taskgroup": [415_000_000]})
    layer_case = layers_case({"agno": {"llm": 500}, "http": {"market_data": 300}, "harness": {"market_data": 200}})
    layer_case["python"] = "3.12"
    layer_case["files"] = {"flamegraph": "layers/3.12/fanout-10--taskgroup.svg", "folded": "layers/3.12/f.folded.gz"}
    write_layers(directory, {"fanout-10/taskgroup": layer_case}, python="3.12")
    write_flamegraph(directory / layer_case["files"]["flamegraph"], [(("main (a.py:1)",), 10)], "t", lambda f: "#888")
    (directory / layer_case["files"]["folded"]).write_bytes(gzip.compress(b"main (a.py:1) 10\n"))
    flamegraphs = directory / "memray" / "3.12"
    flamegraphs.mkdir(parents=True)
    (flamegraphs / "threads-flamegraph.html").write_text("<html><body>flamegraph</body></html>")
    return directory


def test_results_json_has_a_verdict_with_figure_interval_condition_and_source_for_every_claim(run_dir: Path) -> None:
    render(run_dir)
    document = json.loads((run_dir / "results.json").read_text())
    assert document["run_id"] == run_dir.name
    assert set(document["environment"]) == {"3.11", "3.12"}
    claims = {claim["id"]: claim for claim in document["claims"]}
    assert sorted(claims) == ["C1", "C2a", "C2b", "C3a", "C3b", "C4", "C5", "C6", "C7"]
    for claim in claims.values():
        assert claim["verdict"] in VERDICTS
        assert {"figure", "ci", "condition", "source", "primary", "n_pairs", "method"} <= set(claim)
        assert "min_detectable_effect" in claim
        assert claim["source"].startswith(("001_", "000_"))
    # What this synthetic run says, decided from the data:
    assert claims["C1"]["verdict"] == "holds"  # report-5 at 2.5x with the default pool; the sweep is context
    assert claims["C1"]["n_pairs"] == 12 and "hierarchical" in claims["C1"]["method"]
    assert claims["C2a"]["verdict"] == "refuted" and "address space" in claims["C2a"]["condition"]
    assert claims["C2b"]["verdict"] == "refuted"  # 40 KiB against 15 KiB per operation
    assert claims["C3a"]["verdict"] == "holds"  # the stream-write microbenchmark moved 2x
    assert claims["C3b"]["verdict"] == "refuted"  # the workflow did not
    assert claims["C4"]["verdict"] == "holds"
    assert claims["C5"]["verdict"] == "holds"
    assert claims["C6"]["verdict"] == "holds" and "work done differs" in claims["C6"]["condition"]
    assert claims["C7"]["verdict"] == "holds"
    assert "Python 3.13 not found on this machine" in document["gaps"]
    assert "instruction counts are not measured in the quick profile" in " ".join(document["gaps"])
    assert {(row["case"], row["python"]) for row in document["instructions"]} >= {("report-5@zero/threads", "3.12")}
    advice = document["advice"]  # the opening section, computed from the same results
    assert 1 <= len(advice) <= 5 and {row["evidence"] for row in advice} <= set(claims)
    assert "threads took 2.5" in advice[0]["text"]  # report-5 at 2.5x with the default pool


def test_the_page_has_the_verdict_table_figures_and_relative_links_only(run_dir: Path) -> None:
    index, _ = render(run_dir)
    html = index.read_text()
    assert '<table id="verdicts">' in html
    assert html.index('id="advice"') < html.index('<table id="verdicts">')  # the report opens with the advice
    assert 'id="instructions"' in html and "412.1 M" in html
    for claim in ("C1", "C2b", "C3a", "C3b", "C4", "C5", "C7"):
        assert f'src="figures/{claim.lower()}.png"' in html
        assert (run_dir / "figures" / f"{claim.lower()}.png").stat().st_size > 1000
    assert 'href="raw/3.12.json"' in html and 'href="memray/3.12/threads-flamegraph.html"' in html
    assert 'id="layers"' in html and 'href="layers/3.12/fanout-10--taskgroup.svg"' in html
    assert 'src="figures/layers-fanout-10.png"' in html and "agno in taskgroup (50%)" in html
    assert "http://" not in html and "https://" not in html


def test_a_partial_run_renders_with_its_gaps_stated(tmp_path: Path) -> None:
    directory = tmp_path / "partial"
    raw = directory / "raw"
    raw.mkdir(parents=True)
    _memory(raw, "3.12")
    render(directory)
    document = json.loads((directory / "results.json").read_text())
    verdicts = {claim["id"]: claim["verdict"] for claim in document["claims"]}
    assert verdicts["C2a"] == verdicts["C2b"] == "refuted"
    assert all(verdicts[c] == "inconclusive" for c in ("C1", "C3a", "C3b", "C4", "C5", "C6", "C7"))
    absent = "no speed, equivalence, micro, instructions, where the time goes (layers) results"
    assert f"Python 3.12: {absent}" in document["gaps"]
    assert absent in (directory / "index.html").read_text()


def test_a_quick_bench_says_where_to_get_the_layers_it_leaves_out(tmp_path: Path) -> None:
    directory = tmp_path / "quick"
    write_manifest(directory, profile="quick", requested=["3.12"], missing=[], options=[])
    (directory / "raw").mkdir(exist_ok=True)
    _memory(directory / "raw", "3.12")
    render(directory)
    gaps = " ".join(json.loads((directory / "results.json").read_text())["gaps"])
    assert "not measured by the quick bench (`nox -s profile -- --quick` samples it alone)" in gaps
    assert "where the time goes (layers) results" not in gaps  # left out on purpose, not missing


def test_an_unreadable_result_names_the_file_and_leaves_no_report(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (run_dir / "raw" / "3.12.memory.json").write_text("{not json")
    assert report_main([str(run_dir)]) == 2
    assert "3.12.memory.json: unreadable JSON" in capsys.readouterr().err
    assert not (run_dir / "index.html").exists() and not (run_dir / "results.json").exists()


def test_the_report_opens_in_headless_chromium_with_every_image_and_link_resolving(run_dir: Path) -> None:
    executable = require_chromium()
    index, _ = render(run_dir)
    screenshot = artifacts_dir() / "report-fixture.png"
    check = check_report_in_browser(index, screenshot, "table#verdicts", executable=executable)
    assert check.ok, check.problems()
    assert check.selector_found and not check.broken_images and not check.broken_links
    assert screenshot.stat().st_size > 10_000


# --- bad input: one clear line, its own exit code, nothing half-written ------------------------------------


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: (raw / "3.12.memory.json").write_text("{not json"), "3.12.memory.json: unreadable JSON"),
        (lambda raw: (raw / "3.12.memory.json").write_text('{"variants": 5}'), "3.12.memory.json: not a memory"),
        (lambda raw: (raw / "3.12.equivalence.json").write_text("[]"), "3.12.equivalence.json: expected a JSON"),
        (lambda raw: (raw / "3.12.samples.jsonl").write_text("{}\n"), "3.12.samples.jsonl:1: not a speed samples"),
    ],
)
def test_a_malformed_result_is_the_same_error_in_summary_and_report(
    run_dir: Path, capsys: pytest.CaptureFixture[str], damage: Callable[[Path], object], message: str
) -> None:
    damage(run_dir / "raw")
    assert summary_main([str(run_dir)]) == 2
    assert message in capsys.readouterr().err
    assert report_main([str(run_dir)]) == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1
    assert not (run_dir / "index.html").exists()


def test_a_folder_with_no_results_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "20261123-000000"
    write_manifest(empty, profile="quick", requested=["3.12"], missing=[], options=[])
    assert report_main([str(empty)]) == 2
    assert "no results in" in capsys.readouterr().err
    assert not (empty / "index.html").exists()


def test_a_report_that_cannot_be_written_leaves_the_previous_one(
    run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert report_main([str(run_dir)]) == 0
    before = (run_dir / "index.html").read_text()
    capsys.readouterr()

    def disk_full(path: Path, data: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(report_module, "atomic_write_json", disk_full)
    assert report_main([str(run_dir)]) == report_module.WRITE_FAILED_EXIT_CODE
    error = capsys.readouterr().err
    assert error.strip() == f"error: cannot write the report to {run_dir / 'results.json'}: No space left on device"
    assert (run_dir / "index.html").read_text() == before


def test_a_cut_off_last_line_is_reported_and_skipped(run_dir: Path) -> None:
    samples = run_dir / "raw" / "3.12.micro.samples.jsonl"
    samples.write_text(samples.read_text() + '{"benchmark": "asyncio_str')  # a worker stopped mid-write
    render(run_dir)
    gaps = json.loads((run_dir / "results.json").read_text())["gaps"]
    assert any("3.12.micro.samples.jsonl" in gap and "cut-off last line" in gap for gap in gaps)
