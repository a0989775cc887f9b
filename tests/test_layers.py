"""The layers suite: which cases it samples, what it writes, how its files are read and what the report says."""

from __future__ import annotations

import gzip
import io
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from benchmarks import layers
from benchmarks.environment import python_tag
from benchmarks.layer_results import LayersFileError, case_rows, headline, read_layers
from benchmarks.matrix import PROFILES
from benchmarks.results import RunResults, load_run
from benchmarks.sampler import SamplingError, py_spy
from tests.synthetic import layers_case, write_layers


def test_each_profile_samples_what_it_names() -> None:
    for profile in PROFILES.values():
        cases = layers.profiled_cases(profile)
        assert {case.scenario.name for case in cases} == set(profile.profiled), profile.name
    quick = [case.name for case in layers.profiled_cases(PROFILES["quick"])]
    assert quick == ["report-5@zero/threads", "report-5@zero/taskgroup"]
    default = [case.name for case in layers.profiled_cases(PROFILES["default"])]
    assert "fanout-100/threads@pool-default" in default and "fanout-100/threads@pool-fanout" in default
    assert "fanout-100/threads@pool-32" not in default and "fanout-100/agno-async" in default
    elsewhere = layers.profiled_cases(PROFILES["default"], elsewhere=True)
    assert {case.scenario.name for case in elsewhere} == {"report-5@zero"}  # the breadth on the newest only
    assert [c.variant for c in layers.profiled_cases(PROFILES["default"], ["taskgroup"])] == ["taskgroup"] * 3


def test_a_layer_costs_its_share_of_the_cpu_per_run_and_per_call(tmp_path: Path) -> None:
    counts = {
        "agno": {"llm": 300, "orchestration": 100},
        "http": {"llm": 100, "market_data": 200},
        "harness": {"market_data": 100},
        "asyncio": {"orchestration": 200},
    }  # 1,000 samples
    write_layers(tmp_path, {"fanout-10/taskgroup": layers_case(counts, cpu_s=0.1, wall_s=0.3)})
    [row] = case_rows(load_run(tmp_path))
    by_layer = {layer["layer"]: layer for layer in row["layers"]}
    assert row["cpu_per_call_s"] == pytest.approx(0.1 / 52)
    assert row["cpu_per_call_without_harness_s"] == pytest.approx(0.1 / 52 * 0.9)
    assert by_layer["agno"]["share"] == pytest.approx(0.4)
    assert by_layer["agno"]["cpu_per_run_s"] == pytest.approx(0.04)
    assert by_layer["agno"]["per_llm_call_s"] == pytest.approx(0.03 / 12)
    assert by_layer["agno"]["orchestration_per_run_s"] == pytest.approx(0.01)
    assert by_layer["http"]["per_market_data_call_s"] == pytest.approx(0.02 / 40)
    # No speed values in this run: the gap comes from the suite's own timed runs, 0.3 s - 0.1 s bound.
    assert row["gap_s"] == pytest.approx(0.2) and "timed runs" in row["wall_source"]
    assert by_layer["asyncio"]["gap_share"] == pytest.approx(0.02 / 0.2)
    assert row["cpu_over_gap"] == pytest.approx(0.5)
    assert row["top_layer"] == "agno"
    assert row["sampling_slowdown"] == pytest.approx(1.1)


def test_the_headline_names_the_layer_that_dominates_each_variant(tmp_path: Path) -> None:
    agno_heavy = layers_case({"agno": {"llm": 600}, "http": {"llm": 300}, "harness": {"llm": 100}})
    http_heavy = {
        **layers_case({"agno": {"llm": 200}, "http": {"llm": 700}, "harness": {"llm": 100}}),
        "variant": "gather",
    }
    write_layers(tmp_path, {"fanout-10/taskgroup": agno_heavy, "fanout-10/gather": http_heavy})
    sentences = headline(case_rows(load_run(tmp_path)))
    assert sentences[0] == (
        "In fanout-10 on Python 3.13 the largest share of the CPU is agno in taskgroup (60%); "
        "httpx / httpcore in gather (70%)."
    )
    assert "The mock and the harness take 10% of it" in sentences[1]
    same = {**layers_case({"agno": {"llm": 200}, "http": {"llm": 700}, "harness": {"llm": 100}})}
    write_layers(tmp_path, {"fanout-10/taskgroup": same, "fanout-10/gather": http_heavy})
    assert headline(case_rows(load_run(tmp_path)))[0].endswith("httpx / httpcore in gather (70%), taskgroup (70%).")
    assert headline([]) == []


def test_a_layers_file_whose_samples_do_not_add_up_is_refused(tmp_path: Path) -> None:
    case = layers_case({"agno": {"llm": 10}})
    case["profiled"]["samples"] = 11
    path = write_layers(tmp_path, {"c/taskgroup": case})
    with pytest.raises(LayersFileError, match=r"3\.13\.layers\.json: case c/taskgroup: the layers hold 10 samples"):
        read_layers(path)
    path.write_text("{not json")
    with pytest.raises(LayersFileError, match=r"3\.13\.layers\.json: not readable as JSON"):
        read_layers(path)
    case = layers_case({"agno": {"llm": 10}})
    del case["layers"]["rest"]
    write_layers(tmp_path, {"c/taskgroup": case})
    with pytest.raises(LayersFileError, match="unknown: \\[\\]"):
        read_layers(path)


def test_a_case_without_a_profile_is_named_and_nothing_of_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: object, **kwargs: object) -> None:
        raise SamplingError("a run failed its check, so its profile is not kept: planted")

    monkeypatch.setattr(layers, "profile_worker", failing)
    monkeypatch.setattr(layers, "unavailable_reason", lambda: None)
    code = layers.measure_all("quick", tmp_path, ["taskgroup"], False, Console(file=io.StringIO()))
    assert code == 1
    results = load_run(tmp_path)
    assert results.layers[python_tag()].cases == {}
    assert any("report-5@zero/taskgroup" in note and "planted" in note for note in results.notes)
    assert not (tmp_path / "layers").exists() or not any((tmp_path / "layers").rglob("*.svg"))


def test_the_suite_samples_a_real_workflow_case(tmp_path: Path) -> None:
    if py_spy() is None:
        if os.environ.get("CI"):
            pytest.fail("py-spy is a project dependency and CI must run the real suite")
        pytest.skip("py-spy not installed")
    console = Console(file=io.StringIO())
    assert layers.measure_all("quick", tmp_path, ["taskgroup"], False, console) == 0
    results: RunResults = load_run(tmp_path)
    [measured] = results.layers.values()
    case = measured.cases["report-5@zero/taskgroup"]
    assert case.runs >= 3 and case.samples > 100
    for layer in ("agno", "openai", "http", "harness", "asyncio"):
        assert case.share(layer) > 0, layer
    assert case.share("rest") < 0.1
    assert case.share("threading") < 0.05  # an asyncio variant: the thread pool is not where its time goes
    svg = ET.parse(tmp_path / case.files["flamegraph"]).getroot()
    assert svg.tag.endswith("svg")
    folded = gzip.decompress((tmp_path / case.files["folded"]).read_bytes()).decode()
    assert sum(int(line.rpartition(" ")[2]) for line in folded.splitlines()) == case.samples
