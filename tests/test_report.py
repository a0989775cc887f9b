"""The report: results.json's schema, the HTML page, partial runs, bad input, and the page in a real browser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyperf
import pytest

from benchmarks.report import main as report_main
from benchmarks.report import render
from benchmarks.run_dir import write_manifest
from tests.browser import artifacts_dir, check_report_in_browser, require_chromium

VERDICTS = {"holds", "refuted", "conditional", "inconclusive"}


def _bench(scenario: str, variant: str, values: list[float], **extra: Any) -> pyperf.Benchmark:
    fanout = extra.get("fanout", 20)
    metadata = {
        "name": f"{scenario}/{variant}",
        "unit": "second",
        "loops": 1,
        "bench_scenario": scenario,
        "bench_variant": variant,
        "bench_group": "fanout" if scenario.startswith("fanout-") else "scenario",
        "bench_params": json.dumps({"latency": extra.get("latency", "default")}),
        "bench_critical_path_s": 0.1,
        "bench_critical_path_first_chunk_s": 0.05,
        "bench_scenario_hash": "ab" * 32,
        "bench_fanout": fanout,
        "bench_thread_pool_size": "default",
        "bench_injected_failures": extra.get("failures", 0),
        "python_version": "3.x",
    }
    return pyperf.Benchmark([pyperf.Run(values, warmups=[(1, values[0])], metadata=metadata, collect_metadata=False)])


def _speed_suite(raw: Path, python: str, slower: float) -> None:
    benches = []
    for variant, scale in (("threads", 2.5), ("gather", 1.0), ("taskgroup", 1.0), ("legacy", 3.0)):
        benches.append(_bench("report-5", variant, [0.2 * scale * slower, 0.21 * scale * slower]))
        failing = {"threads": 3.0, "gather": 2.0, "taskgroup": 0.5}.get(variant)
        if failing is not None:  # taskgroup reports the failure first
            benches.append(_bench("report-5-failure", variant, [0.1 * failing, 0.101 * failing], failures=1))
    for tickers, speedup in ((1, 1.0), (25, 2.5)):
        for variant, scale in (("threads", speedup), ("taskgroup", 1.0)):
            benches.append(_bench(f"fanout-{tickers}", variant, [0.1 * scale, 0.104 * scale], fanout=4 * tickers))
    benches.append(_bench("report-5@zero", "taskgroup", [0.05 * slower, 0.051 * slower], latency="zero"))
    pyperf.BenchmarkSuite(benches).dump(str(raw / f"{python}.json"), replace=True)
    samples = [
        {"benchmark": f"report-5/{variant}", "pid": 1, "wall_s": [], "first_chunk_s": [first, first * 1.01]}
        for variant, first in (("threads", 0.1), ("gather", 0.1), ("taskgroup", 0.1), ("legacy", 0.6))
    ]
    (raw / f"{python}.samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))


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
        return {"outcomes": outcomes, "run_errors": [{"failed": ["quote:NVDA"], "cancelled": cancelled}]}

    same = {"answered": 20, "failed": 1}
    variants = {v: observed(same, []) for v in ("threads", "gather", "legacy")}
    variants["taskgroup"] = observed({"answered": 1, "failed": 1, "cancelled": 19}, ["quote:AAPL"])
    scenarios = {"report-5-failure": {"variants": variants, "differences": {}, "agree": True}}
    (raw / f"{python}.equivalence.json").write_text(json.dumps({"reference": "threads", "scenarios": scenarios}))


def _micro(raw: Path, python: str, speedup: float) -> None:
    benches = []
    for name in ("asyncio_stream_write", "asyncio_task_create_await"):
        metadata = {"name": name, "unit": "second", "loops": 1}
        values = [0.03 / speedup, 0.0302 / speedup, 0.0298 / speedup]
        benches.append(pyperf.Benchmark([pyperf.Run(values, metadata=metadata, collect_metadata=False)]))
    pyperf.BenchmarkSuite(benches).dump(str(raw / f"{python}.micro.json"), replace=True)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A whole synthetic run: 3.11 and 3.12 with every suite, 3.13 missing."""
    directory = tmp_path / "20261122-000000"
    write_manifest(directory, profile="quick", requested=["3.11", "3.12", "3.13"], missing=["3.13"], options=[])
    raw = directory / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for python, slower, micro_speedup in (("3.11", 1.0, 1.0), ("3.12", 1.0, 2.0)):
        _speed_suite(raw, python, slower)
        _memory(raw, python)
        _equivalence(raw, python)
        _micro(raw, python, micro_speedup)
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
    assert sorted(claims) == [f"C{n}" for n in range(1, 8)]
    for claim in claims.values():
        assert claim["verdict"] in VERDICTS
        assert {"figure", "ci", "condition", "source"} <= set(claim)
        assert claim["source"].startswith(("001_", "000_"))
    # What this synthetic run says, decided from the data:
    assert claims["C1"]["verdict"] == "conditional"  # 2.5x only at fan-out 25 (100 calls, 6 threads)
    assert claims["C2"]["verdict"] == "conditional" and claims["C2"]["condition"].startswith("only in vms")
    assert claims["C3"]["verdict"] == "conditional"  # the microbenchmarks moved 2x, the workflow did not
    assert claims["C4"]["verdict"] == "holds"
    assert claims["C5"]["verdict"] == "holds"
    assert claims["C6"]["verdict"] == "conditional"
    assert claims["C7"]["verdict"] == "holds"
    assert "Python 3.13 was not found on this machine" in document["gaps"]


def test_the_page_has_the_verdict_table_figures_and_relative_links_only(run_dir: Path) -> None:
    index, _ = render(run_dir)
    html = index.read_text()
    assert '<table id="verdicts">' in html
    for claim in ("C1", "C2", "C3", "C4", "C5", "C7"):
        assert f'src="figures/{claim.lower()}.png"' in html
        assert (run_dir / "figures" / f"{claim.lower()}.png").stat().st_size > 1000
    assert 'href="raw/3.12.json"' in html and 'href="memray/3.12/threads-flamegraph.html"' in html
    assert "http://" not in html and "https://" not in html


def test_a_partial_run_renders_with_its_gaps_stated(tmp_path: Path) -> None:
    directory = tmp_path / "partial"
    raw = directory / "raw"
    raw.mkdir(parents=True)
    _memory(raw, "3.12")
    render(directory)
    document = json.loads((directory / "results.json").read_text())
    verdicts = {claim["id"]: claim["verdict"] for claim in document["claims"]}
    assert verdicts["C2"] == "conditional"
    assert all(verdicts[c] == "inconclusive" for c in ("C1", "C3", "C4", "C5", "C6", "C7"))
    assert "Python 3.12: no speed, equivalence, micro results" in document["gaps"]
    assert "no speed, equivalence, micro results" in (directory / "index.html").read_text()


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
